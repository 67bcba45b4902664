"""The bond rule: which atoms of a structure are bonded, from their distances alone.

Atoms i and j are bonded when

    |r_i − r_j| < BOND_TOLERANCE · (R_i + R_j),

with |r_i − r_j| in Å and R the covalent radii of :data:`COVALENT_RADII` (Å; Cordero et al., "Covalent radii
revisited", Dalton Trans. 2008, 2832–2838; C is the sp3 value). With ``BOND_TOLERANCE`` = 1.15 the longest
C–H bond is 1.23 Å, C–C 1.75 Å, C–O 1.63 Å, N–O 1.58 Å. This is the project's one bond rule: the neighbour
counts and carbon environments of :mod:`xatom.analysis.partitioning`, the C–C bonds of
:mod:`xatom.analysis.probe`, the outward directions of :func:`xatom.analysis.grids.outward_points` and the
sticks of the static pictures in :mod:`xatom.viz` and the ring perception of :mod:`xatom.analysis.rings` (where
RDKit adds only bond orders and aromaticity) all take their bonds from here. On QM9 the rule gives RDKit a
connectivity it can assign bond orders to for all but 6 of the 130,831 molecules (five strained cages with a
bridgehead C–N bond of 1.70–1.79 Å, just beyond the rule's 1.69 Å, and one more cage); RDKit's own
``DetermineBonds`` failed on 6,810, almost all strained cages. Where the two disagree otherwise, in 37 molecules,
RDKit bonds an N–O pair 1.58–1.77 Å apart in an oxadiazole-type ring that this rule leaves unbonded; the 291
aromatic six-carbon rings of QM9 are the same either way.

Everything is vectorised over atom pairs (numpy broadcasting); :func:`is_bonded` is the comparison itself and
also serves padded batches of molecules (NaN positions or radii never bond).
"""
from __future__ import annotations

import numpy as np

from . import elements
from .errors import UnknownElementError

COVALENT_RADII = {1: 0.31, 5: 0.84, 6: 0.76, 7: 0.71, 8: 0.66, 9: 0.57, 15: 1.07, 16: 1.05, 17: 1.02}
"""Covalent radii in Å (Cordero et al., Dalton Trans. 2008, 2832) of the elements the rule knows: H, B, C (sp3),
N, O, F, P, S, Cl. An element without an entry has no bonds by this rule (:func:`covalent_radii` raises)."""

BOND_TOLERANCE = 1.15
"""Two atoms are bonded when closer than ``BOND_TOLERANCE`` × (sum of covalent radii): 1.23 Å for C–H,
1.75 Å for C–C. On QM9 this reproduces the atom degrees of the published SMILES for all but about 1 in
5,000 molecules; 1.2 would already bond the bridgeheads across the 1,3-distance of strained bicyclic cages
(e.g. 2-oxabicyclo[1.1.1]pentanes) and produce five-coordinated carbons."""

RADIUS_BY_Z = np.full(elements.MAX_Z + 1, np.nan)
"""``RADIUS_BY_Z[Z]``: covalent radius of atomic number Z in Å, NaN where :data:`COVALENT_RADII` has none."""
RADIUS_BY_Z[list(COVALENT_RADII)] = list(COVALENT_RADII.values())
RADIUS_BY_Z.setflags(write=False)


def covalent_radii(numbers, strict: bool = True) -> np.ndarray:
    """Covalent radius (Å) of every atom, shape of ``numbers``.

    Args:
        numbers: atomic numbers, any shape.
        strict: raise for an element without a radius; ``False`` gives NaN there (such atoms bond to nothing).

    Raises:
        UnknownElementError: ``strict`` and an element without an entry in :data:`COVALENT_RADII` (a ValueError).
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    inside = (numbers >= 0) & (numbers <= elements.MAX_Z)
    radii = np.full(numbers.shape, np.nan)
    radii[inside] = RADIUS_BY_Z[numbers[inside]]
    if strict and np.isnan(radii).any():
        missing = sorted(set(numbers[np.isnan(radii)].tolist()))
        known = ", ".join(elements.SYMBOLS[z] for z in COVALENT_RADII)
        raise UnknownElementError(f"no covalent radius for Z = {missing}; the bond rule knows {known}")
    return radii


def is_bonded(distance, radius_i, radius_j, tolerance: float = BOND_TOLERANCE) -> np.ndarray:
    """The rule itself, elementwise with broadcasting: ``distance < tolerance · (radius_i + radius_j)`` (all Å).

    NaN anywhere (padding, an element without a radius) gives ``False``.
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(distance) < tolerance * (np.asarray(radius_i) + np.asarray(radius_j))


def bond_matrix(numbers, positions, tolerance: float = BOND_TOLERANCE, strict: bool = True) -> np.ndarray:
    """Symmetric ``(n, n)`` boolean adjacency of one structure (no self-bonds), by :func:`is_bonded`.

    Args:
        numbers: ``(n,)`` atomic numbers.
        positions: ``(n, 3)`` positions in Å (no periodic images).
        tolerance: the factor on the sum of covalent radii (default :data:`BOND_TOLERANCE`).
        strict: see :func:`covalent_radii`.
    """
    radii = covalent_radii(numbers, strict)
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if positions.shape[0] != radii.size:
        raise ValueError(f"{radii.size} atomic numbers but {positions.shape[0]} positions")
    distance = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
    bonded = is_bonded(distance, radii[:, None], radii[None, :], tolerance)
    np.fill_diagonal(bonded, False)
    return bonded


def bonded_pairs(numbers, positions, tolerance: float = BOND_TOLERANCE, strict: bool = True) -> np.ndarray:
    """Bonded atom pairs ``(i, j)``, ``i < j``, of one structure, sorted by ``i`` then ``j``: integer array
    ``(n_bonds, 2)``. Arguments as :func:`bond_matrix`."""
    i, j = np.nonzero(np.triu(bond_matrix(numbers, positions, tolerance, strict), k=1))
    return np.stack([i, j], axis=1).astype(np.int64)
