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
from ..elements import atomic_number
from ..errors import NonFiniteError, ShapeError
from ..molecule import Molecule
from ..neighbors import Pairs
from ..tasks import TASKS


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
        if getattr(model, "kind", None) != "schnet" or model.target != TASKS["energy"].key:
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
            self.layers = model.representation.layers(batch)
        self.positions = batch.R

    def _check_probe(self, probe: str | int) -> int:
        return element_number(probe, self.domain)

    @torch.no_grad()
    def _energy(self, Z: torch.Tensor, pairs: Pairs, points: torch.Tensor) -> torch.Tensor:
        net = self.model
        y = net.representation.probe(self.layers, Z, pairs, points, self.positions)["y"]
        return net.head.atomic_energy(y, Z)

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


# --- Ω around bonds: one number per molecule for the saturation / aromaticity series (paper Fig. 5) ---------

BOND_RADIUS_ANGSTROM = 1.0
"""Default radius of the circle about a bond midpoint on which Ω is sampled: just outside the isosurface
Σ_i ‖r − r_i‖⁻² = 3 Å⁻² that notebook 05 colours, where it passes a C–C bond (about 0.6–0.9 Å off the axis)."""

BOND_ANGLES = 24
"""Default number of points on each circle (15° apart)."""

GRADIENT_STEP_ANGSTROM = 0.02
"""Default half-step of the central differences for |∇Ω|."""


def element_bonds(molecule: Molecule, elements=("C", "C")) -> np.ndarray:
    """Bonded pairs ``(i, j)``, ``i < j``, between atoms of the two given elements (default: the C–C bonds), by
    the project's one bond rule (:func:`xatom.bonds.bonded_pairs`: 1.15 × the sum of covalent radii, 1.75 Å for
    C–C). Returns an integer array of shape ``(n_bonds, 2)``."""
    from ..bonds import bonded_pairs

    za, zb = (atomic_number(e) if isinstance(e, str) else int(e) for e in elements)
    pairs = bonded_pairs(molecule.numbers, molecule.positions)
    z = molecule.numbers[pairs]
    keep = ((z[:, 0] == za) & (z[:, 1] == zb)) | ((z[:, 0] == zb) & (z[:, 1] == za))
    return pairs[keep]


def bond_circles(positions, bonds, radius: float = BOND_RADIUS_ANGSTROM, n_angles: int = BOND_ANGLES):
    """Points on the circle of ``radius`` Å about the midpoint of every bond, in the plane perpendicular to it.

    The circle starts in the direction of the lowest-index atom that lies off the bond axis (more than 0.1 Å), so
    the points turn and move with the molecule exactly; for a linear molecule (no such atom) it starts along a
    fixed perpendicular, where the field is symmetric about the axis anyway.

    Args:
        positions: atom positions in Å, ``(n_atoms, 3)``.
        bonds: atom pairs, ``(n_bonds, 2)`` (e.g. :func:`element_bonds`).
        radius: in Å, > 0.
        n_angles: points per circle, at least 3, evenly spaced.

    Returns:
        ``points`` ``(n_bonds, n_angles, 3)`` in Å and ``frames`` ``(n_bonds, n_angles, 3, 3)``: at every point the
        orthonormal rows (bond axis, radial, tangential).
    """
    positions = np.asarray(positions, dtype=np.float64)
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive number of Å; got {radius!r}")
    if isinstance(n_angles, (bool, np.bool_)) or not isinstance(n_angles, (int, np.integer)) or n_angles < 3:
        raise ValueError(f"n_angles must be a whole number ≥ 3; got {n_angles!r}")
    angles = 2 * np.pi * np.arange(n_angles) / n_angles
    points = np.empty((len(bonds), n_angles, 3))
    frames = np.empty((len(bonds), n_angles, 3, 3))
    for b, (i, j) in enumerate(bonds):
        axis = positions[j] - positions[i]
        length = np.linalg.norm(axis)
        if length < 1e-6:
            raise ValueError(f"bond {i}–{j} joins two atoms at the same position")
        axis = axis / length
        middle = 0.5 * (positions[i] + positions[j])
        off = positions - middle
        off = off - np.outer(off @ axis, axis)
        far = np.flatnonzero(np.linalg.norm(off, axis=1) > 0.1)
        if far.size:
            u = off[far[0]] / np.linalg.norm(off[far[0]])
        else:  # linear molecule: any perpendicular
            trial = np.eye(3)[int(np.argmin(np.abs(axis)))]
            u = trial - (trial @ axis) * axis
            u /= np.linalg.norm(u)
        v = np.cross(axis, u)
        radial = np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v
        tangential = np.cross(axis, radial)
        points[b] = middle + radius * radial
        frames[b] = np.stack([np.broadcast_to(axis, radial.shape), radial, tangential], axis=1)
    return points, frames


def bond_region_potential(lcp, bonds=None, probe: str | int = "C", radius: float = BOND_RADIUS_ANGSTROM,
                          n_angles: int = BOND_ANGLES, step: float = GRADIENT_STEP_ANGSTROM, gradient: bool = True):
    """Ω and |∇Ω| of a probe on a circle about every bond's midpoint, one row per bond.

    The mean of ``omega_mean`` over a molecule's C–C bonds is Ω̄_bond (kcal/mol), notebook 05's one number per
    molecule for the paper's sentence that the local chemical potentials "mirror chemical concepts such as bond
    saturation as well as different degrees of aromaticity" (section 3.2, Fig. 5); negative: a carbon probe
    approaching the bonds side-on is stabilised. The mean of ``gradient_mean`` is |∇Ω|‾_bond (kcal/mol/Å), the
    "density of contour lines" there. Both move with the molecule (invariant under rotations and translations).

    For bond i–j with midpoint m and unit axis e, the circle is ``m + radius·(cos φ u + sin φ v)``, u, v ⊥ e,
    at ``n_angles`` angles φ evenly spaced over 360° (see :func:`bond_circles`): the points a probe reaches when
    it approaches the bond side-on at that distance, π faces and σ plane alike. Ω is the probe's
    ``lcp(points, probe)`` (relative to the isolated probe, kcal/mol); the gradient comes from central
    differences of half-step ``step`` Å along the local bond axis, radial and tangential directions (so it turns
    with the molecule exactly).

    Args:
        lcp: a :class:`LocalChemicalPotential` (any object with ``molecule`` and ``lcp(points, probe)`` works).
        bonds: atom pairs ``(n_bonds, 2)``; default the C–C bonds (:func:`element_bonds`).
        probe: element of the probe atom, carbon by default as in the paper.
        radius: distance of the circle from the bond axis, Å.
        n_angles: points per circle.
        step: half-step of the finite differences in Å.
        gradient: also |∇Ω| (six more probe evaluations per point); False leaves ``gradient_mean`` out.

    Returns:
        DataFrame, one row per bond: ``i``, ``j``, ``length`` (Å), ``omega_mean`` (mean Ω on the circle, kcal/mol),
        ``omega_min``, ``omega_max`` (kcal/mol), ``gradient_mean`` (mean |∇Ω| on the circle, kcal/mol/Å).
    """
    import pandas as pd

    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive number of Å; got {step!r}")
    positions = lcp.molecule.positions
    bonds = element_bonds(lcp.molecule) if bonds is None else np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    if len(bonds) == 0:
        raise ValueError("the molecule has no bond of the requested kind (by default: no C–C bond)")
    points, frames = bond_circles(positions, bonds, radius, n_angles)
    flat, basis = points.reshape(-1, 3), frames.reshape(-1, 3, 3)
    shifts = step * np.concatenate([basis, -basis], axis=1)  # (n, 6, 3): +e_k then −e_k
    values = lcp(np.concatenate([flat, (flat[:, None, :] + shifts).reshape(-1, 3)]) if gradient else flat, probe)
    omega = values[:len(flat)].reshape(len(bonds), n_angles)
    table = pd.DataFrame({"i": bonds[:, 0], "j": bonds[:, 1],
                          "length": np.linalg.norm(positions[bonds[:, 1]] - positions[bonds[:, 0]], axis=1),
                          "omega_mean": omega.mean(1), "omega_min": omega.min(1), "omega_max": omega.max(1)})
    if gradient:
        around = values[len(flat):].reshape(-1, 6)
        slope = np.linalg.norm((around[:, :3] - around[:, 3:]) / (2 * step), axis=1)
        table["gradient_mean"] = slope.reshape(len(bonds), n_angles).mean(1)
    return table
