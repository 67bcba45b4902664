"""Electrostatic potential of latent partial charges (paper Eq. 5, Figure 6).

    E(r₀) = Σ_i q̂_i q₀ / ‖r_i − r₀‖

is the Coulomb energy of a probe charge q₀ at r₀ in the field of the atoms' latent point charges q̂_i
(from a dipole model). With q₀ = +1 e it is the potential energy of a proton-like test charge, reported
in kcal/mol (1 V ≙ 23.06 kcal/mol for q₀ = +1 e): positive (repulsive) near positively charged atoms,
negative near negatively charged ones. The latent charges only reproduce what the dipole needs, so this is
the dipole-relevant part of the ESP, not the quantum-chemical ESP.
"""
from __future__ import annotations

import numpy as np

from ..errors import NonFiniteError, ShapeError
from ..units import COULOMB_KCAL_ANGSTROM, EV_TO_KCAL_PER_MOL

MIN_DISTANCE_ANGSTROM = 1e-3
"""Distances below this (Å) are clamped, so a point on an atom gives a large finite value, not inf."""


def electrostatic_potential(points, positions, charges, probe_charge: float = 1.0) -> np.ndarray:
    """E(r₀) in kcal/mol at every point.

    Args:
        points: probe positions r₀ in Å, (n_points, 3).
        positions: atom positions r_i in Å, (n_atoms, 3).
        charges: latent partial charges q̂_i in e, (n_atoms,).
        probe_charge: q₀ in e.
    """
    points = np.asarray(points, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    charges = np.asarray(charges, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ShapeError(f"points must have shape (n, 3), got {points.shape}")
    if positions.ndim != 2 or positions.shape[1] != 3 or charges.shape != (len(positions),):
        raise ShapeError(f"need positions (n_atoms, 3) and one charge per atom; got {positions.shape} and "
                         f"{charges.shape}")
    for name, a in (("points", points), ("positions", positions), ("charges", charges)):
        if not np.isfinite(a).all():
            raise NonFiniteError(f"{name} contain NaN or infinite values")
    out = np.empty(len(points))
    step = 65536
    for start in range(0, len(points), step):
        d = np.linalg.norm(points[start:start + step, None, :] - positions[None], axis=-1)
        out[start:start + step] = (charges / np.maximum(d, MIN_DISTANCE_ANGSTROM)).sum(1)
    return out * probe_charge * COULOMB_KCAL_ANGSTROM


def kcal_to_volt(energy_kcal, probe_charge: float = 1.0):
    """Potential in V from the energy (kcal/mol) of a probe of charge ``probe_charge`` e."""
    return np.asarray(energy_kcal) / EV_TO_KCAL_PER_MOL / probe_charge


def sign_near_atoms(molecule, charges, elements=("H", "N", "O", "F"), distance: float = 1.0):
    """The ESP (+1 e probe) at a point ``distance`` Å outside every atom of the given elements.

    The point lies on the side away from the atom's bonded neighbours (:func:`~xatom.analysis.grids.outward_points`),
    where a probe meets that atom first. Meant for terminal atoms (H, F, a hydroxyl or carbonyl O, a pyridine
    N); a carbon is buried under its neighbours, so its side is not probed this way. Returns a DataFrame with one row per element present: number of
    atoms, mean ESP (kcal/mol) and the fraction of atoms where it is positive.
    """
    import pandas as pd

    from .grids import outward_points

    symbols = np.array(molecule.symbols)
    rows = []
    for el in elements:
        atoms = np.where(symbols == el)[0]
        if atoms.size == 0:
            continue
        esp = electrostatic_potential(outward_points(molecule.positions, atoms, distance), molecule.positions, charges)
        rows.append({"element": el, "atoms": int(atoms.size), "mean_esp_kcal": float(esp.mean()),
                     "positive_fraction": float((esp > 0).mean())})
    return pd.DataFrame(rows)


def ring_face_points(molecule, distance: float = 1.5) -> list[np.ndarray]:
    """For every aromatic ring (bonds perceived from the 3D geometry), the two points ``distance`` Å above
    and below the ring centre along the ring's normal: where a probe meets the π face. Returns one
    (2, 3) array per ring, in Å."""
    from .grids import principal_axes
    from .rings import mol_from_geometry

    mol = mol_from_geometry(molecule.numbers, molecule.positions, molecule.charge)
    faces = []
    for ring in mol.GetRingInfo().AtomRings():
        if all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
            centre, axes = principal_axes(molecule.positions[list(ring)])
            faces.append(np.array([centre + distance * axes[2], centre - distance * axes[2]]))
    return faces
