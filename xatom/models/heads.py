"""Output heads shared by SchNet and Behler–Parrinello (paper section 2.3).

Both turn one scalar per atom, y_i, into a molecular property through a physically motivated sum, and
keep the per-atom latent quantity:

* :class:`EnergyHead`: E = Σ_i Ê_i (Eq. 2) with Ê_i = s·y_i + b_{Z_i}. How the total is split between atoms
  (the *energy partition*, a gauge: the total does not depend on it) is fixed by the baseline b_Z:

  - ``"atom"`` (the paper's, as in the schnetpack of its time): one mean μ and one spread σ per atom, shared
    by all elements, b_Z = μ and s = σ (mean and standard deviation of E/N over the training molecules), so
    the network itself decides how the energy splits between elements;
  - ``"element"``: b_Z is a least-squares fit of the training energies on the element counts, so each Ê_i
    starts on the scale of its element's energy, and s is the spread of what that baseline leaves.
* :class:`DipoleHead`: μ = Σ_i q̂_i r_i (Eq. 3), |μ| (Eq. 4). Charges are made to sum to zero per
  molecule (q̂_i = y_i − mean_mol(y)), because QM9 molecules are neutral; with Σ q̂ = 0, μ does not
  depend on the origin (positions are still taken relative to the centre of mass, as in the paper).
  |μ| is invariant under q̂ → −q̂, so training can land on either sign; a stored sign s = ±1 fixes the
  convention "oxygen atoms carry negative charge on average" (set by :meth:`DipoleHead.set_convention`).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..batch import Batch
from ..elements import MASSES, MAX_Z
from ..tasks import TASKS
from ..units import E_ANGSTROM_TO_DEBYE


def _molecule_sum(values: torch.Tensor, batch: Batch) -> torch.Tensor:
    shape = (batch.n_molecules,) + tuple(values.shape[1:])
    return torch.zeros(shape, dtype=values.dtype, device=values.device).index_add_(0, batch.idx_m, values)


def _fit_composition(baseline: torch.Tensor, numbers: np.ndarray, offsets: np.ndarray, target: np.ndarray,
                     per_atom: bool) -> np.ndarray:
    """Least-squares per-element baseline of ``target`` on element counts (or fractions, ``per_atom``).

    Writes the coefficients into ``baseline`` (indexed by atomic number, zero for absent elements) and
    returns what the baseline leaves unexplained, one value per molecule or cell.
    """
    n_atoms = np.diff(offsets)
    mol = np.repeat(np.arange(len(target)), n_atoms)
    present = np.unique(numbers)
    composition = np.zeros((len(target), present.size))
    np.add.at(composition, (mol, np.searchsorted(present, numbers)), 1.0)
    if per_atom:
        composition /= n_atoms[:, None]
    coef, *_ = np.linalg.lstsq(composition, target, rcond=None)
    baseline.zero_()
    baseline[torch.as_tensor(present.astype(np.int64))] = torch.as_tensor(coef, dtype=baseline.dtype)
    return target - composition @ coef


ENERGY_PARTITIONS = ("atom", "element")
"""Energy partitions of :class:`EnergyHead`: the paper's one mean per atom, or a per-element baseline."""


class EnergyHead(nn.Module):
    """Atomization energy (kcal/mol) as a sum of latent atomic energies Ê_i (kcal/mol).

    Args:
        max_z: largest atomic number with a baseline entry.
        partition: ``"atom"`` (the paper's: Ê_i = μ + σ·y_i, μ and σ shared by all elements) or ``"element"``
            (Ê_i = b_Z + s·y_i with a least-squares per-element b_Z); see the module docstring.
    """

    target = TASKS["energy"].key
    latent = TASKS["energy"].latent

    def __init__(self, max_z: int = MAX_Z, partition: str = "atom"):
        super().__init__()
        if partition not in ENERGY_PARTITIONS:
            raise ValueError(f"unknown energy partition {partition!r}; expected one of {ENERGY_PARTITIONS}")
        self.partition = partition
        self.register_buffer("baseline_kcal", torch.zeros(max_z + 1))
        self.register_buffer("scale_kcal", torch.ones(()))

    sets_convention = False
    """Heads whose latents carry a convention set after training (:meth:`DipoleHead.set_convention`)."""

    def fit_statistics(self, numbers: np.ndarray, offsets: np.ndarray, energy_kcal: np.ndarray):
        """Baseline and scale of the partition from training molecules.

        ``"atom"``: b_Z = μ = mean(E/N) for every element and s = σ = std(E/N); ``"element"``: least-squares
        b_Z on the element counts and s = std(residual)/sqrt(mean N).

        Args:
            numbers: atomic numbers of the training atoms, molecule after molecule.
            offsets: molecule boundaries (n_mol + 1,).
            energy_kcal: training energies (n_mol,), kcal/mol.
        """
        if self.partition == "atom":
            per_atom = np.asarray(energy_kcal, dtype=np.float64) / np.diff(offsets)
            self.baseline_kcal.fill_(float(per_atom.mean()))
            self.scale_kcal.fill_(max(float(per_atom.std()), 0.1))
            return
        residual = _fit_composition(self.baseline_kcal, numbers, offsets, energy_kcal, per_atom=False)
        # floor: on (nearly) additive data a zero scale would silence the network
        self.scale_kcal.fill_(max(float(residual.std() / np.sqrt(np.diff(offsets).mean())), 0.1))

    def atomic_energy(self, y: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
        """Ê_i = s·y_i + b_{Z_i} in kcal/mol from the network's per-atom scalars y_i."""
        return y * self.scale_kcal + self.baseline_kcal[Z]

    def forward(self, y: torch.Tensor, batch: Batch) -> dict:
        atomic = self.atomic_energy(y, batch.Z)
        return {self.latent: atomic, self.target: _molecule_sum(atomic, batch)}


class DipoleHead(nn.Module):
    """Dipole moment from latent partial charges q̂_i (e) that sum to zero in every molecule."""

    target = TASKS["dipole"].key
    latent = TASKS["dipole"].latent

    def __init__(self, max_z: int = MAX_Z):
        super().__init__()
        self.register_buffer("sign", torch.ones(()))
        self.register_buffer("masses", torch.as_tensor(MASSES[: max_z + 1], dtype=torch.float32))

    def charges(self, y: torch.Tensor, batch: Batch) -> torch.Tensor:
        mean = _molecule_sum(y, batch) / batch.n_atoms.to(y.dtype)
        return self.sign * (y - mean[batch.idx_m])

    def forward(self, y: torch.Tensor, batch: Batch) -> dict:
        q = self.charges(y, batch)
        m = self.masses[batch.Z].to(batch.R.dtype)
        com = _molecule_sum(m[:, None] * batch.R, batch) / _molecule_sum(m, batch)[:, None]
        mu = _molecule_sum(q[:, None] * (batch.R - com[batch.idx_m]), batch) * E_ANGSTROM_TO_DEBYE
        magnitude = torch.sqrt((mu * mu).sum(-1) + 1e-12)
        return {self.latent: q, "dipole_vector_debye": mu, self.target: magnitude}

    sets_convention = True

    def fit_statistics(self, numbers: np.ndarray, offsets: np.ndarray, dipole_debye: np.ndarray):
        """Nothing to fit: charges are the network's scalars made neutral (the heads' common hook)."""

    @torch.no_grad()
    def set_convention(self, charges: torch.Tensor, Z: torch.Tensor):
        """Flip the sign convention so that oxygen's mean latent charge is negative (predictions unchanged)."""
        oxygen = charges[Z == 8]
        if oxygen.numel() and float(oxygen.mean()) > 0:
            self.sign.mul_(-1.0)


class EnergyPerAtomHead(nn.Module):
    """Energy per atom of a crystal (eV/atom) as the mean of latent atomic energies Ê_i (eV).

    Ê_i = s·y_i + b_{Z_i}; the per-element b_Z is a least-squares fit of the training energies per atom on
    the composition fractions (the "composition baseline": what element counts alone explain), s the spread
    the baseline leaves. The mean over the cell's atoms makes the prediction independent of the cell size.
    """

    target = TASKS["formation_energy"].key
    latent = TASKS["formation_energy"].latent

    def __init__(self, max_z: int = MAX_Z):
        super().__init__()
        self.register_buffer("baseline_ev", torch.zeros(max_z + 1))
        self.register_buffer("scale_ev", torch.ones(()))

    sets_convention = False

    def fit_statistics(self, numbers: np.ndarray, offsets: np.ndarray, energy_ev_per_atom: np.ndarray):
        """Composition baseline from training structures (atomic numbers, offsets, energies per atom in eV)."""
        residual = _fit_composition(self.baseline_ev, numbers, offsets, energy_ev_per_atom, per_atom=True)
        self.scale_ev.fill_(max(float(residual.std()), 0.01))

    def forward(self, y: torch.Tensor, batch: Batch) -> dict:
        atomic = y * self.scale_ev + self.baseline_ev[batch.Z]
        return {self.latent: atomic, self.target: _molecule_sum(atomic, batch) / batch.n_atoms.to(atomic.dtype)}


HEADS = {"energy": EnergyHead, "dipole": DipoleHead, "formation_energy": EnergyPerAtomHead}
