"""Flat batches: the one input format of every model.

All atoms of a batch are concatenated; ``idx_m`` tells the molecule of each atom and ``idx_i``/``idx_j``
the neighbour pairs (:mod:`xatom.neighbors`). Periodic structures add per-pair ``offsets`` in Å.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

from .elements import MAX_Z
from .errors import NonFiniteError, ShapeError, UnknownElementError
from .neighbors import Pairs, molecule_pairs, periodic_pairs


@dataclass
class Batch:
    """A flat batch of molecules.

    Attributes:
        Z: atomic numbers, (n_atoms,) long.
        R: positions in Å, (n_atoms, 3) float32.
        idx_m: molecule of each atom, (n_atoms,) long.
        idx_i, idx_j: ordered neighbour pairs within the cutoff, (n_pairs,) long.
        n_atoms: atoms per molecule, (n_molecules,) long.
        offsets: periodic image offsets of j in Å, (n_pairs, 3), or ``None``.
        targets: optional per-molecule targets, e.g. ``{"energy_kcal": (n_molecules,)}``.
        atom_index: for batches cut from a data set, the data set's row of every atom (to look up
            cached per-atom features), else ``None``.
        global_size: molecules in the whole batch of which this is one process's share (data-parallel
            training); equals ``n_molecules`` otherwise.
    """

    Z: torch.Tensor
    R: torch.Tensor
    idx_m: torch.Tensor
    idx_i: torch.Tensor
    idx_j: torch.Tensor
    n_atoms: torch.Tensor
    offsets: torch.Tensor | None = None
    targets: dict = field(default_factory=dict)
    atom_index: torch.Tensor | None = None
    global_size: int = 0

    def __post_init__(self):
        if not self.global_size:
            self.global_size = self.n_molecules

    @property
    def n_molecules(self) -> int:
        return int(self.n_atoms.numel())

    @property
    def pairs(self) -> Pairs:
        return Pairs(self.idx_i, self.idx_j, self.offsets)

    def to(self, device) -> "Batch":
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        for k, v in moved.items():
            if isinstance(v, torch.Tensor):
                moved[k] = v.to(device)
        moved["targets"] = {k: v.to(device) for k, v in self.targets.items()}
        return Batch(**moved)

    def with_positions(self, R: torch.Tensor) -> "Batch":
        """Same atoms and pairs at new positions (pairs are not recomputed)."""
        return replace(self, R=R)


def _check(Z: torch.Tensor, R: torch.Tensor):
    if R.ndim != 2 or R.shape[1] != 3 or R.shape[0] != Z.shape[0]:
        raise ShapeError(f"positions must have shape ({Z.shape[0]}, 3), got {tuple(R.shape)}")
    if not torch.isfinite(R).all():
        raise NonFiniteError("positions contain NaN or infinite values")
    if Z.numel() and (Z.min() < 1 or Z.max() > MAX_Z):
        raise UnknownElementError(f"atomic numbers must be in 1 … {MAX_Z}, got {sorted(set(Z.tolist()))}")


def batch_from_arrays(numbers: np.ndarray, positions: np.ndarray, offsets: np.ndarray, rows: np.ndarray,
                      cutoff: float, targets: dict | None = None, cells: np.ndarray | None = None) -> Batch:
    """Batch of molecules ``rows`` from flat arrays delimited by ``offsets`` (as in :class:`~xatom.data.QM9`).

    Args:
        numbers, positions: atomic numbers and positions (Å) of all atoms of the data set.
        offsets: start of each molecule's atoms (length n_molecules + 1).
        rows: which molecules to take, in order.
        cutoff: pair cutoff in Å.
        targets: per-molecule arrays of the whole data set; their entries for ``rows`` go into the batch.
        cells: lattice vectors (Å, rows) of every structure of the data set, (n, 3, 3), for periodic data.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts, ends = offsets[rows], offsets[rows + 1]
    n_atoms = ends - starts
    atom_index = np.repeat(starts - np.cumsum(n_atoms) + n_atoms, n_atoms) + np.arange(n_atoms.sum())
    Z = torch.from_numpy(numbers[atom_index].astype(np.int64))
    R = torch.from_numpy(positions[atom_index].astype(np.float32))
    n = torch.from_numpy(n_atoms)
    _check(Z, R)
    if cells is None:
        pairs = molecule_pairs(R, n, cutoff)
    else:
        parts, start = [], 0
        for row, count in zip(rows, n_atoms):
            p = periodic_pairs(positions[offsets[row]:offsets[row + 1]], cells[row], cutoff)
            parts.append(Pairs(p.idx_i + start, p.idx_j + start, p.offsets))
            start += int(count)
        pairs = Pairs(*(torch.cat([getattr(p, f) for p in parts]) for f in ("idx_i", "idx_j", "offsets")))
    idx_m = torch.repeat_interleave(torch.arange(len(rows)), n)
    tgt = {k: torch.from_numpy(np.asarray(v)[rows].astype(np.float32)) for k, v in (targets or {}).items()}
    return Batch(Z, R, idx_m, pairs.idx_i, pairs.idx_j, n, pairs.offsets, tgt, torch.from_numpy(atom_index))


def centroid(positions: np.ndarray) -> np.ndarray:
    """Mean of positions (Å), in float64: the origin of a molecule in a ``centre=True`` batch."""
    return np.asarray(positions, dtype=np.float64).mean(0)


def batch_molecules(molecules, cutoff: float, centre: bool = False) -> Batch:
    """Batch of :class:`~xatom.molecule.Molecule` objects; periodic ones get image offsets.

    Args:
        molecules: the molecules, in order.
        cutoff: pair cutoff in Å.
        centre: give each molecule's positions relative to its :func:`centroid`, subtracted in float64 before
            the cast to float32, so that coordinates far from the origin (10⁸ Å) keep their precision. Every
            prediction is translation invariant, so only the precision changes.
    """
    molecules = list(molecules)
    if not molecules:
        raise ShapeError("cannot batch an empty list of molecules")
    Zs, Rs, I, J, O = [], [], [], [], []
    start = 0
    periodic = any(m.cell is not None for m in molecules)
    for m in molecules:
        R = torch.as_tensor(m.positions - centroid(m.positions) if centre else m.positions, dtype=torch.float32)
        if m.cell is not None:
            p = periodic_pairs(m.positions, m.cell, cutoff, m.pbc)
        else:
            p = molecule_pairs(R, torch.tensor([m.n_atoms]), cutoff)
            p = Pairs(p.idx_i, p.idx_j, torch.zeros(p.idx_i.numel(), 3) if periodic else None)
        Zs.append(torch.as_tensor(m.numbers, dtype=torch.long))
        Rs.append(R)
        I.append(p.idx_i + start)
        J.append(p.idx_j + start)
        O.append(p.offsets)
        start += m.n_atoms
    n = torch.tensor([m.n_atoms for m in molecules])
    return Batch(torch.cat(Zs), torch.cat(Rs), torch.repeat_interleave(torch.arange(len(molecules)), n),
                 torch.cat(I), torch.cat(J), n, torch.cat(O) if periodic else None)


class QM9Batches:
    """Iterable of :class:`Batch` over given rows of a QM9 data set (or a :class:`~xatom.data.crystals.Crystals`
    set: any flat data set; one with ``cells`` gets periodic pairs), shuffled per epoch by a seed.

    The order of epoch ``e`` depends only on ``(seed, e)``, so a run resumed at (epoch, step) sees
    exactly the batches it would have seen. ``shard=(rank, world)`` gives process ``rank`` of ``world`` its
    share of every batch (data-parallel training).
    """

    def __init__(self, data, rows, batch_size: int, cutoff: float, targets=("energy_kcal", "dipole_debye"),
                 shuffle: bool = True, seed: int = 0, shard: tuple[int, int] = (0, 1)):
        self.shard = shard
        self.data, self.rows = data, np.asarray(rows)
        self.batch_size, self.cutoff, self.shuffle, self.seed = batch_size, cutoff, shuffle, seed
        self.targets = {t: getattr(data, t) for t in targets}

    def __len__(self) -> int:
        return -(-len(self.rows) // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return self.rows
        return np.random.default_rng([self.seed, epoch]).permutation(self.rows)

    def epoch(self, epoch: int = 0, start_step: int = 0):
        """Batches of epoch ``epoch``, starting at batch ``start_step``."""
        rows = self.order(epoch)
        for s in range(start_step, len(self)):
            chunk = rows[s * self.batch_size:(s + 1) * self.batch_size]
            share = np.array_split(chunk, self.shard[1])[self.shard[0]]
            batch = batch_from_arrays(self.data.numbers, self.data.positions, self.data.offsets, share,
                                      self.cutoff, self.targets, getattr(self.data, "cells", None))
            batch.global_size = len(chunk)
            yield batch

    def __iter__(self):
        return self.epoch(0)
