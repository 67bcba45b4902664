"""Neighbour pairs within a cutoff, for molecules (all pairs inside each molecule) and periodic cells.

Pairs are ordered (i, j) with i ≠ j; both (i, j) and (j, i) are listed. For periodic structures each
pair carries an offset vector in Å so that r_ij = R[j] − R[i] + offset.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class Pairs(NamedTuple):
    """Ordered neighbour pairs of a flat batch of atoms.

    Attributes:
        idx_i: centre atom of each pair, (n_pairs,) long.
        idx_j: neighbour atom of each pair, (n_pairs,) long.
        offsets: periodic image shift of j in Å, (n_pairs, 3), or ``None`` for molecules.
    """

    idx_i: torch.Tensor
    idx_j: torch.Tensor
    offsets: torch.Tensor | None = None


def molecule_pairs(positions: torch.Tensor, n_atoms: torch.Tensor, cutoff: float) -> Pairs:
    """All ordered pairs i ≠ j inside each molecule with ‖R_j − R_i‖ < cutoff (Å), vectorised.

    Args:
        positions: positions in Å of all atoms of the batch, molecule after molecule, (n_atoms_total, 3).
        n_atoms: number of atoms of each molecule, (n_molecules,).
        cutoff: cutoff radius in Å.
    """
    n_atoms = n_atoms.to(torch.long)
    starts = torch.cumsum(n_atoms, 0) - n_atoms
    n_sq = n_atoms * n_atoms
    mol = torch.repeat_interleave(torch.arange(n_atoms.numel()), n_sq)
    local = torch.arange(int(n_sq.sum())) - torch.repeat_interleave(torch.cumsum(n_sq, 0) - n_sq, n_sq)
    n = n_atoms[mol]
    li, lj = local // n, local % n
    keep = li != lj
    i = (starts[mol] + li)[keep]
    j = (starts[mol] + lj)[keep]
    d2 = (positions[j] - positions[i]).pow(2).sum(-1)
    within = d2 < cutoff * cutoff
    return Pairs(i[within], j[within])


def periodic_pairs(positions: np.ndarray, cell: np.ndarray, cutoff: float, pbc=(True, True, True)) -> Pairs:
    """Ordered pairs of a periodic structure within ``cutoff`` (Å), with image offsets (Å), via vesin."""
    from vesin import NeighborList

    pbc = np.asarray(pbc, dtype=bool).reshape(3)
    if pbc.any() and not pbc.all():
        raise ValueError(f"periodic in some directions only (pbc={pbc.tolist()}) is not supported; "
                         "use a cell that is periodic in all three directions or none")
    positions = np.ascontiguousarray(positions, dtype=np.float64)
    cell = np.ascontiguousarray(cell, dtype=np.float64)
    nl = NeighborList(cutoff=float(cutoff), full_list=True)
    i, j, shifts = nl.compute(points=positions, box=cell, periodic=bool(pbc.all()), quantities="ijS")
    order = np.lexsort((j, i))  # sorted by centre atom, as every model expects
    i, j, shifts = i[order], j[order], shifts[order]
    offsets = shifts.astype(np.float64) @ cell
    return Pairs(torch.as_tensor(i.astype(np.int64)), torch.as_tensor(j.astype(np.int64)),
                 torch.as_tensor(offsets, dtype=torch.float32))


def pair_vectors(positions: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """Vectors r_ij = R_j − R_i (+ periodic offset) in Å, (n_pairs, 3)."""
    vec = positions[pairs.idx_j] - positions[pairs.idx_i]
    if pairs.offsets is not None:
        vec = vec + pairs.offsets.to(vec.dtype)
    return vec
