"""Local chemical potential Ω_Zp(r) of a SchNet energy model (paper section 3.2, Figure 5).

A probe atom of element Zp at r starts from its element embedding and is updated by every interaction
block from the molecule's atoms, while the molecule never sees the probe:

    x_p⁽ᵗ⁺¹⁾ = x_p⁽ᵗ⁾ + Σ_j v⁽ᵗ⁾(x_j⁽ᵗ⁾, r_p − r_j)        Ω_Zp(r) = f_out(x_p⁽ᵀ⁾)

(the paper's equation writes x_i⁽ᵗ⁾ on the right where x_p⁽ᵗ⁾ is meant). f_out is the model's atom-wise
output network including its scale and per-element offset, so Ω is the latent atomic energy Ê_p, in
kcal/mol, that the probe would be assigned at r. Because the molecule does not feel the probe, its layer-wise
representations x_j⁽ᵗ⁾ are computed once and every grid point is an independent probe with pairs to
the molecule's atoms only: millions of points are evaluated in large batches.

By default Ω is reported relative to the isolated probe (no atom within the cutoff), Ω(r) − Ω(∞): the
change of the probe's latent energy caused by the molecule, negative where the probe is stabilised. The
absolute value (``relative=False``) differs by a constant per probe element.
"""
from __future__ import annotations

import numpy as np
import torch

from ..batch import batch_molecules, centroid
from ..device import model_device
from ..domain import check_model_input, element_number, training_domain
from ..errors import NonFiniteError, ShapeError
from ..molecule import Molecule
from ..neighbors import Pairs


class LocalChemicalPotential:
    """Ω_Zp(r) around one molecule for a SchNet energy model.

    Args:
        model: an :class:`~xatom.models.AtomisticModel` with SchNet representation and energy head.
        molecule: the molecule (not periodic); it passes the domain check (:mod:`xatom.domain`) of the model.
        chunk_size: probes evaluated together, at least 1 (memory ≈ chunk_size × n_atoms × 1 kB).
        strict: raise :class:`~xatom.errors.OutOfDomainError` for a molecule outside the training domain instead of
            an :class:`~xatom.errors.OutOfDomainWarning`.

    The computation runs on the device of the model's weights.
    """

    def __init__(self, model, molecule: Molecule, chunk_size: int = 8192, strict: bool = False):
        if getattr(model, "kind", None) != "schnet" or model.target != "energy_kcal":
            raise ValueError("the probe needs a SchNet energy model (a Behler–Parrinello model has no "
                             f"interaction layers to feed a probe); got {getattr(model, 'kind', type(model).__name__)} "
                             f"for {getattr(model, 'target', '?')}")
        if molecule.cell is not None:
            raise ValueError("probes around periodic structures are not supported; pass a molecule")
        if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a whole number of probes, at least 1; got {chunk_size!r}")
        check_model_input(model, [molecule], strict)
        self.model, self.molecule, self.chunk_size = model.eval(), molecule, int(chunk_size)
        self.domain, self.device = training_domain(model), model_device(model)
        self.origin = centroid(molecule.positions)  # positions and probe points are taken relative to it
        batch = batch_molecules([molecule], model.cutoff, centre=True).to(self.device)
        with torch.no_grad():
            self.layers = model.representation(batch, return_layers=True)["layers"]
        self.positions = batch.R

    def _check_probe(self, probe: str | int) -> int:
        return element_number(probe, self.domain)

    @torch.no_grad()
    def _energy(self, Z: torch.Tensor, pairs: Pairs, points: torch.Tensor) -> torch.Tensor:
        net = self.model
        x = net.representation.probe(self.layers, Z, pairs, points, self.positions)
        return net.head.atomic_energy(net.readout(x).squeeze(-1), Z)

    def isolated(self, probe: str | int = "C") -> float:
        """Ω(∞) in kcal/mol: the probe with no molecule atom within the cutoff."""
        Z = torch.tensor([self._check_probe(probe)], device=self.device)
        none = torch.zeros(0, dtype=torch.long, device=self.device)
        return float(self._energy(Z, Pairs(none, none), torch.zeros(1, 3, device=self.device))[0])

    def __call__(self, points, probe: str | int = "C", relative: bool = True) -> np.ndarray:
        """Ω at every point, kcal/mol.

        Args:
            points: probe positions in Å, (n_points, 3) (e.g. ``grid.points()``).
            probe: element of the probe atom (symbol or integer atomic number) seen in training, carbon as in the
                paper.
            relative: subtract the isolated probe's value Ω(∞).
        """
        Zp = self._check_probe(probe)
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 3:
            raise ShapeError(f"points must have shape (n, 3), got {points.shape}")
        if not np.isfinite(points).all():
            raise NonFiniteError("probe points contain NaN or infinite values")
        out = np.empty(len(points))
        cutoff2 = self.model.cutoff ** 2
        for start in range(0, len(points), self.chunk_size):
            pts = torch.as_tensor(points[start:start + self.chunk_size] - self.origin, dtype=torch.float32,
                                  device=self.device)
            d2 = (pts[:, None, :] - self.positions[None, :, :]).pow(2).sum(-1)
            idx_i, idx_j = torch.nonzero(d2 < cutoff2, as_tuple=True)  # row-major: sorted by probe
            Z = torch.full((len(pts),), Zp, dtype=torch.long, device=self.device)
            out[start:start + len(pts)] = self._energy(Z, Pairs(idx_i, idx_j), pts).double().cpu().numpy()
        if relative:
            out -= self.isolated(Zp)
        return out

