"""Periodic crystals for the element-embedding study (paper section 3.3): the shipped offline set and
loaders for a user's own structures.

:class:`Crystals` has the flat layout of :class:`xatom.data.QM9` (``numbers``, ``positions`` in Å,
``offsets``) plus one cell per structure (``cells``, Å, rows = lattice vectors), so the same batches and
training loop serve both. Target: formation energy per atom in eV (``formation_energy_ev_per_atom``).

* :func:`load_crystals` reads the generated set shipped in ``data/crystals/crystals.npz`` (how it was made:
  :mod:`xatom.data.crystal_generation` and ``data/crystals/README.md``);
* :func:`read_labelled_structures` reads extxyz files (via ase) or JSON lists of pymatgen ``Structure`` dicts
  with their energy labels, e.g. exported from the Materials Project API by an online user, and
  :func:`crystals_from_structures` turns them into a :class:`Crystals` set to train on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import elements
from ..errors import DataFormatError
from ..molecule import Molecule
from ..paths import DATA_DIR, missing_data
from ..tasks import TASKS
from .splits import Split

CRYSTAL_FILE = DATA_DIR / "crystals" / "crystals.npz"
TARGET = TASKS["formation_energy"].key


@dataclass
class Crystals:
    """Periodic structures as flat arrays.

    Attributes:
        numbers: atomic numbers of all atoms, (n_atoms_total,).
        positions: Cartesian positions in Å, (n_atoms_total, 3).
        offsets: structure m's atoms are ``offsets[m]:offsets[m + 1]``, (n + 1,).
        cells: lattice vectors in Å as rows, (n, 3, 3).
        formation_energy_ev_per_atom: target, (n,) (NaN where unknown).
        index: structure ids (0 … n−1 for the shipped set), (n,).
        labels: free-text label per structure (prototype for the shipped set).
    """

    numbers: np.ndarray
    positions: np.ndarray
    offsets: np.ndarray
    cells: np.ndarray
    formation_energy_ev_per_atom: np.ndarray
    index: np.ndarray
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))

    def __post_init__(self):
        n = len(self.offsets) - 1
        if self.cells.shape != (n, 3, 3) or self.formation_energy_ev_per_atom.shape != (n,) or self.index.shape != (n,):
            raise DataFormatError(f"inconsistent crystal arrays: {n} structures, cells {self.cells.shape}, "
                                  f"targets {self.formation_energy_ev_per_atom.shape}, index {self.index.shape}")
        if self.numbers.shape != (self.offsets[-1],) or self.positions.shape != (self.offsets[-1], 3):
            raise DataFormatError("numbers/positions do not match the offsets")

    def __len__(self) -> int:
        return int(self.index.size)

    @property
    def n_atoms(self) -> np.ndarray:
        return np.diff(self.offsets)

    def rows_of(self, ids) -> np.ndarray:
        ids = np.atleast_1d(np.asarray(ids))
        rows = np.clip(np.searchsorted(self.index, ids), 0, len(self) - 1)
        missing = ids[self.index[rows] != ids]
        if missing.size:
            raise KeyError(f"structure ids not in this set: {missing[:10].tolist()}")
        return rows

    def structure(self, row: int) -> Molecule:
        a, b = self.offsets[row], self.offsets[row + 1]
        label = self.labels[row] if self.labels.size else ""
        return Molecule(self.numbers[a:b].astype(np.int64), self.positions[a:b], cell=self.cells[row],
                        name=f"crystal {self.index[row]} {label}".strip())

    def element_counts(self) -> np.ndarray:
        """How many structures contain each element, indexed by Z (0 … :data:`xatom.elements.MAX_Z`)."""
        out = np.zeros(elements.MAX_Z + 1, dtype=int)
        for a, b in zip(self.offsets[:-1], self.offsets[1:]):
            out[np.unique(self.numbers[a:b])] += 1
        return out


def load_crystals(path: str | Path = CRYSTAL_FILE) -> Crystals:
    """The shipped crystal set (or another file written by :mod:`xatom.data.crystal_generation`)."""
    path = Path(path)
    if not path.exists():
        raise missing_data(path, "the crystal set (build one with `python -m xatom.data.crystal_generation`)")
    with np.load(path) as z:
        n_atoms = z["n_atoms"].astype(np.int64)
        return Crystals(numbers=z["numbers"].astype(np.int64), positions=z["positions"].astype(np.float64),
                        offsets=np.concatenate([[0], np.cumsum(n_atoms)]), cells=z["cells"].astype(np.float64),
                        formation_energy_ev_per_atom=z[TARGET].astype(np.float64), index=np.arange(n_atoms.size),
                        labels=z["prototype"].astype(str))


def read_labelled_structures(path: str | Path, key: str = "formation_energy_per_atom") -> tuple[list[Molecule], np.ndarray]:
    """Structures and their per-atom energy label ``key`` in eV (NaN where absent).

    * ``.json``: a list of ``{"structure": <pymatgen Structure dict>, key: value}`` or of bare Structure
      dicts (``lattice.matrix`` in Å and ``sites[*].species[0].element`` with ``xyz`` in Å);
    * ``.xyz``/``.extxyz``: ase's extxyz reader; ``key`` is looked up in each frame's info (``energy`` in eV
      for the whole cell is divided by the number of atoms when ``key`` is ``"energy_per_atom"``).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.suffix == ".json":
        try:
            entries = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise DataFormatError(f"{path} is not valid JSON ({err})") from None
        if not isinstance(entries, list):
            raise DataFormatError(f"{path}: expected a JSON list of structures")
        structures, labels = [], []
        for k, entry in enumerate(entries):
            s = entry.get("structure", entry) if isinstance(entry, dict) else None
            try:
                cell = np.array(s["lattice"]["matrix"], dtype=float)
                numbers = [elements.atomic_number(site["species"][0]["element"]) for site in s["sites"]]
                xyz = np.array([site["xyz"] for site in s["sites"]], dtype=float)
            except (KeyError, TypeError, IndexError, ValueError) as err:
                raise DataFormatError(f"{path}: entry {k} is not a pymatgen Structure dict ({err!r})") from None
            structures.append(Molecule(np.array(numbers), xyz, cell=cell, name=f"{path.stem} {k}"))
            labels.append(float(entry.get(key, np.nan)) if isinstance(entry, dict) and "structure" in entry else np.nan)
        return structures, np.array(labels)
    if path.suffix in (".xyz", ".extxyz"):
        from ase.io import read

        frames = read(path, index=":", format="extxyz")
        structures, labels = [], []
        for k, atoms in enumerate(frames):
            if not atoms.pbc.all():
                raise DataFormatError(f"{path}: frame {k} is not periodic in all directions (pbc={atoms.pbc.tolist()})")
            structures.append(Molecule(atoms.numbers, atoms.positions, cell=np.array(atoms.cell), name=f"{path.stem} {k}"))
            info = dict(atoms.info)
            try:
                energy = atoms.get_potential_energy()
            except Exception:  # no calculator attached
                energy = info.get("energy")
            if key in info:
                labels.append(float(info[key]))
            elif key == "energy_per_atom" and energy is not None:
                labels.append(float(energy) / len(atoms))
            else:
                labels.append(np.nan)
        return structures, np.array(labels)
    raise DataFormatError(f"{path}: unknown structure file type {path.suffix!r} (use .json or .extxyz)")


def crystals_from_structures(structures, energies_ev_per_atom=None) -> Crystals:
    """A :class:`Crystals` set from periodic :class:`Molecule` objects (every one needs a cell)."""
    structures = list(structures)
    missing = [k for k, s in enumerate(structures) if s.cell is None]
    if missing:
        raise DataFormatError(f"structures {missing[:10]} have no cell; crystals need lattice vectors")
    n_atoms = np.array([s.n_atoms for s in structures])
    energies = np.full(len(structures), np.nan) if energies_ev_per_atom is None else np.asarray(energies_ev_per_atom, float)
    return Crystals(numbers=np.concatenate([s.numbers for s in structures]),
                    positions=np.concatenate([s.positions for s in structures]),
                    offsets=np.concatenate([[0], np.cumsum(n_atoms)]), cells=np.stack([s.cell for s in structures]),
                    formation_energy_ev_per_atom=energies, index=np.arange(len(structures)),
                    labels=np.array([s.name for s in structures]))


class CrystalSplit(Split):
    """Seeded 80/10/10 split of a crystal set by structure id (elemental references always train)."""

    _salt = b"crystals"


MAX_ABS_FORMATION_EV = 5.0
"""Structures with |formation energy| above this (eV/atom) are left out of every split: substitutions that
landed far from any stable arrangement (< 1 % of the generated set); they stay in the data, counted."""


def crystal_split(data: Crystals, fold: int = 0, val_share: float = 0.1, test_share: float = 0.1,
                  seed: int = 20180601) -> CrystalSplit:
    """Deterministic split of ``data``; structures labelled ``A_*`` (elemental prototypes) stay in training.
    Structures without a label or with |E_form| > :data:`MAX_ABS_FORMATION_EV` are in no split."""
    energy = data.formation_energy_ev_per_atom
    ids = data.index[np.isfinite(energy) & (np.abs(np.nan_to_num(energy)) <= MAX_ABS_FORMATION_EV)]
    elemental = np.char.startswith(data.labels[data.rows_of(ids)].astype(str), "A_") if data.labels.size else np.zeros(ids.size, bool)
    pool = np.random.default_rng([seed, fold]).permutation(ids[~elemental])
    n_test, n_val = int(round(test_share * ids.size)), int(round(val_share * ids.size))
    test = np.sort(np.random.default_rng(seed).permutation(ids[~elemental])[:n_test])
    rest = np.setdiff1d(pool, test)
    val = np.sort(np.random.default_rng([seed, fold]).permutation(rest)[:n_val])
    train = np.setdiff1d(ids, np.concatenate([test, val]))
    return CrystalSplit(fold, train, val, test)
