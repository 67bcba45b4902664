"""Electrostatic potential of latent partial charges (paper Eq. 5, Figure 6).

    E(r₀) = Σ_i q̂_i q₀ / ‖r_i − r₀‖

is the Coulomb energy of a probe charge q₀ at r₀ in the field of the atoms' latent point charges q̂_i
(from a dipole model). With q₀ = +1 e it is the potential energy of a proton-like test charge, reported
in kcal/mol (1 V ≙ 23.06 kcal/mol for q₀ = +1 e): positive (repulsive) near positively charged atoms,
negative near negatively charged ones. The latent charges only reproduce what the dipole needs, so this is
the dipole-relevant part of the ESP, not the quantum-chemical ESP. :func:`latent_charges` gets them from a
dipole model, through the domain check of :mod:`xatom.domain`.
"""
from __future__ import annotations

import numpy as np

from ..errors import CheckpointMismatchError, ImplausibleValueError, NonFiniteError, ShapeError
from ..inference import latent_values
from ..tasks import TASKS
from ..units import COULOMB_KCAL_ANGSTROM, EV_TO_KCAL_PER_MOL

MIN_DISTANCE_ANGSTROM = 1e-3
"""Distances below this (Å) are clamped, so a point on an atom gives a large finite value, not inf."""

MAX_ABS_CHARGE_E = 10.0
"""Largest |charge| (e) accepted on one atom: no atom of a molecule carries more than a few e (QM9 latent charges
stay below 1 e); latent atomic energies (tens to hundreds of kcal/mol) passed as charges exceed it."""


def latent_charges(model, molecule, strict: bool = False) -> np.ndarray:
    """Latent partial charges q̂_i (e) of a dipole model for one molecule, after the domain check.

    Args:
        model: a dipole model (latent ``charge_e``).
        molecule: the :class:`~xatom.molecule.Molecule`.
        strict: as in :func:`~xatom.inference.predict`.

    Raises:
        CheckpointMismatchError: ``model`` is not a dipole model (an energy model's latent energies are no charges).
    """
    if model.latent != TASKS["dipole"].latent:
        raise CheckpointMismatchError(f"the ESP needs the latent charges (charge_e) of a dipole model; this "
                                      f"{model.kind} model predicts {model.target} with latent {model.latent}")
    return latent_values(model, molecule, strict)


def electrostatic_potential(points, positions, charges, probe_charge: float = 1.0) -> np.ndarray:
    """E(r₀) in kcal/mol at every point.

    Args:
        points: probe positions r₀ in Å, (n_points, 3).
        positions: atom positions r_i in Å, (n_atoms, 3).
        charges: latent partial charges q̂_i in e, (n_atoms,), each within ±:data:`MAX_ABS_CHARGE_E`.
        probe_charge: q₀ in e, a finite number.

    Raises:
        ImplausibleValueError: a charge beyond ±:data:`MAX_ABS_CHARGE_E` (e.g. energies passed as charges), or a
            probe charge that is not a number.
        NonFiniteError: NaN or infinite points, positions, charges or probe charge.
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
    numeric = (int, float, np.integer, np.floating)
    if isinstance(probe_charge, (bool, np.bool_)) or not isinstance(probe_charge, numeric):
        raise ImplausibleValueError(f"probe_charge must be a number (a charge in e), got {probe_charge!r} "
                                    f"({type(probe_charge).__name__})")
    if not np.isfinite(probe_charge):
        raise NonFiniteError(f"probe_charge must be a finite charge in e, got {probe_charge!r}")
    if charges.size and np.abs(charges).max() > MAX_ABS_CHARGE_E:
        k = int(np.abs(charges).argmax())
        raise ImplausibleValueError(f"charge {charges[k]:.4g} e on atom {k}: atoms carry at most a few e (limit "
                                    f"±{MAX_ABS_CHARGE_E:g} e); are these latent energies (kcal/mol) of an energy "
                                    "model instead of a dipole model's charges?")
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
        esp = electrostatic_potential(outward_points(molecule.numbers, molecule.positions, atoms, distance), molecule.positions, charges)
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
