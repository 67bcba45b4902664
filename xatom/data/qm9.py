"""QM9 offline, from the CSV files that the PyPI package ``qm9pack`` ships.

130,831 molecules (QM9's 133,885 minus the 3,054 that failed its consistency check), B3LYP/6-31G(2df,p)
geometries in Å. Targets used here:

* ``energy_kcal``: atomization energy from U0 (0 K internal energy) minus the B3LYP atomic reference
  energies of QM9, in kcal/mol (methane ≈ −396.0 kcal/mol);
* ``dipole_debye``: dipole moment magnitude in Debye;
* ``mulliken_e``: Mulliken partial charges per atom in e (for comparison with latent charges).

Parsing validates every row (atom count against N_atoms, known elements, finite numbers); a row that
fails is reported with its QM9 index in :attr:`QM9.rejected` and a warning, never dropped silently.
The parsed arrays are cached once (``.npz`` plus a JSON manifest holding a content hash) in the user
cache directory, or in ``$XATOM_CACHE`` when set; the cache is rebuilt when the source files change or
the hash does not match.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import elements
from ..errors import DataFormatError
from ..files import existing_file
from ..molecule import Molecule
from ..units import hartree_to_kcal

CACHE_VERSION = 1

ATOM_REFERENCE_U0_HARTREE = {1: -0.500273, 6: -37.846772, 7: -54.583861, 8: -75.064579, 9: -99.718730}
"""B3LYP/6-31G(2df,p) U0 of the free atoms, as published with QM9 (Hartree)."""

QM9_CSV_NAMES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
_COLUMNS = ["Index", "SMILES", "N_atoms", "Elements", "XYZ_Ang", "Mulliken_pop", "Dipole_debye",
            "InternalEnergy_0K_au"]


def qm9pack_files() -> list[Path]:
    """Paths of qm9pack's CSV files, found without importing the package (it needs pkg_resources)."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise DataFormatError("the package 'qm9pack' is not installed; `pip install qm9pack` provides QM9 offline")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    paths = [folder / name for name in QM9_CSV_NAMES]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise DataFormatError(f"qm9pack is installed but misses {missing}")
    return paths


def default_cache_dir() -> Path:
    """``$XATOM_CACHE`` if set, else the user cache directory of xatom."""
    if os.environ.get("XATOM_CACHE"):
        return Path(os.environ["XATOM_CACHE"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("xatom"))


@dataclass
class QM9:
    """All of QM9 as flat arrays (one row per atom, molecules delimited by ``offsets``).

    Attributes:
        numbers: atomic numbers of all atoms, (n_atoms_total,) uint8.
        positions: positions in Å, (n_atoms_total, 3) float64.
        offsets: start of molecule m's atoms is ``offsets[m]``, its end ``offsets[m + 1]``; (n_mol + 1,).
        index: QM9's own molecule number (1 … 133,885, with gaps), (n_mol,).
        energy_kcal: atomization energy from U0 in kcal/mol, (n_mol,).
        dipole_debye: dipole moment magnitude in Debye, (n_mol,).
        mulliken_e: Mulliken charges in e, one per atom.
        smiles: the SMILES strings of QM9 (from the relaxed geometry), (n_mol,).
        rejected: rows that failed validation: ``[(qm9_index, reason), ...]``.
    """

    numbers: np.ndarray
    positions: np.ndarray
    offsets: np.ndarray
    index: np.ndarray
    energy_kcal: np.ndarray
    dipole_debye: np.ndarray
    mulliken_e: np.ndarray
    smiles: np.ndarray
    rejected: list = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.index.size)

    @property
    def n_atoms(self) -> np.ndarray:
        """Number of atoms per molecule."""
        return np.diff(self.offsets)

    @property
    def molecule_of_atom(self) -> np.ndarray:
        """Molecule (row) number of every atom."""
        return np.repeat(np.arange(len(self)), self.n_atoms)

    def rows_of(self, qm9_index) -> np.ndarray:
        """Row numbers of the given QM9 indices; raises ``KeyError`` naming indices not present."""
        qm9_index = np.atleast_1d(np.asarray(qm9_index))
        rows = np.searchsorted(self.index, qm9_index)
        rows = np.clip(rows, 0, len(self) - 1)
        missing = qm9_index[self.index[rows] != qm9_index]
        if missing.size:
            raise KeyError(f"QM9 indices not in this data set: {missing[:10].tolist()}"
                           f"{' …' if missing.size > 10 else ''}")
        return rows

    def molecule(self, row: int) -> Molecule:
        """Row ``row`` (not the QM9 index; see :meth:`rows_of`) as a :class:`Molecule`."""
        a, b = self.offsets[row], self.offsets[row + 1]
        return Molecule(self.numbers[a:b].astype(np.int64), self.positions[a:b],
                        name=f"QM9 {self.index[row]} {self.smiles[row]}")

    def find_smiles(self, smiles: str) -> int:
        """Row of the molecule whose canonical SMILES equals that of ``smiles`` (RDKit canonicalisation)."""
        from rdkit import Chem

        target = Chem.MolFromSmiles(smiles)
        if target is None:
            raise ValueError(f"RDKit cannot parse the SMILES {smiles!r}")
        can = Chem.MolToSmiles(target)
        heavy = target.GetNumHeavyAtoms()
        n_heavy = np.add.reduceat(self.numbers > 1, self.offsets[:-1])
        for row in np.where(n_heavy == heavy)[0]:
            mol = Chem.MolFromSmiles(str(self.smiles[row]))
            if mol is not None and Chem.MolToSmiles(mol) == can:
                return int(row)
        raise KeyError(f"no QM9 molecule has the SMILES {smiles!r} (canonical {can!r})")


# ---------------------------------------------------------------------------------------- parsing
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)", re.IGNORECASE)
_ELEMENT = re.compile(r"'([A-Za-z]{1,2})'")


def _numbers_in(strings):
    """All numbers in a sequence of bracketed lists like ``[[0.,1.5],…]``, and how many per string."""
    found = [_NUMBER.findall(s) for s in strings]
    counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
    flat = np.array([v for f in found for v in f], dtype=np.float64)
    return flat, counts


def parse_qm9_frame(frame) -> QM9:
    """Validate and convert a DataFrame with qm9pack's columns into a :class:`QM9`.

    Rows that fail a check are listed in ``rejected`` with their QM9 index and reason.
    """
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(f"QM9 table lacks the column(s) {missing}")
    import pandas as pd

    def numeric(column):
        return pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)

    index_f, n_atoms_f = numeric("Index"), numeric("N_atoms")
    index = np.where(np.isfinite(index_f), index_f, -1).astype(np.int64)
    n_atoms = np.where(np.isfinite(n_atoms_f) & (n_atoms_f > 0), n_atoms_f, 0).astype(np.int64)
    coords, n_coords = _numbers_in(frame["XYZ_Ang"].astype(str))
    charges, n_charges = _numbers_in(frame["Mulliken_pop"].astype(str))
    elem_lists = [_ELEMENT.findall(s) for s in frame["Elements"].astype(str)]
    n_elem = np.array([len(e) for e in elem_lists])
    u0 = numeric("InternalEnergy_0K_au")
    dipole = numeric("Dipole_debye")

    symbol_to_z = {elements.SYMBOLS[z]: z for z in elements.QM9_ELEMENTS}
    reasons: dict[int, str] = {}

    def reject(mask, reason):
        for r in np.where(mask)[0]:
            reasons.setdefault(int(r), reason)

    reject((index_f != np.round(index_f)) | ~np.isfinite(index_f) | (index_f < 1), "Index is not a positive integer")
    reject((n_atoms_f != np.round(n_atoms_f)) | ~(n_atoms_f > 0), "N_atoms is not a positive integer")
    _, first = np.unique(index, return_index=True)
    duplicate = np.ones(len(index), dtype=bool)
    duplicate[first] = False
    reject(duplicate, "Index occurs in an earlier row too")
    reject(n_coords != 3 * n_atoms, "number of coordinates is not 3 × N_atoms")
    reject(n_elem != n_atoms, "number of elements is not N_atoms")
    reject(n_charges != n_atoms, "number of Mulliken charges is not N_atoms")
    reject(~np.isfinite(u0), "U0 is not a finite number")
    reject(~np.isfinite(dipole) | (dipole < 0), "dipole magnitude is not a finite non-negative number")
    unknown = np.array([any(s not in symbol_to_z for s in e) for e in elem_lists])
    reject(unknown, "element other than H, C, N, O, F")

    # Split the flat arrays per row, then keep only valid rows.
    coord_rows = np.split(coords, np.cumsum(n_coords)[:-1])
    charge_rows = np.split(charges, np.cumsum(n_charges)[:-1])
    reject(np.array([not np.all(np.isfinite(c)) for c in coord_rows]), "non-finite coordinate")
    reject(np.array([not np.all(np.isfinite(q)) for q in charge_rows]), "non-finite Mulliken charge")
    keep = np.array([r not in reasons for r in range(len(frame))], dtype=bool)
    rejected = [(int(index[r]), why) for r, why in sorted(reasons.items())]
    if rejected:
        warnings.warn(f"{len(rejected)} QM9 row(s) failed validation and are left out; "
                      f"first: QM9 index {rejected[0][0]} ({rejected[0][1]}). See QM9.rejected.")

    rows = np.where(keep)[0]
    if rows.size == 0:
        raise DataFormatError(f"all {len(frame)} QM9 rows failed validation; first: QM9 index "
                              f"{rejected[0][0]} ({rejected[0][1]})")
    numbers = np.array([symbol_to_z[s] for r in rows for s in elem_lists[r]], dtype=np.uint8)
    positions = np.concatenate([coord_rows[r] for r in rows]).reshape(-1, 3)
    mulliken = np.concatenate([charge_rows[r] for r in rows])
    offsets = np.concatenate([[0], np.cumsum(n_atoms[rows])]).astype(np.int64)
    ref = np.zeros(elements.MAX_Z + 1)
    for z, e in ATOM_REFERENCE_U0_HARTREE.items():
        ref[z] = e
    mol_of_atom = np.repeat(np.arange(rows.size), n_atoms[rows])
    atom_sum = np.bincount(mol_of_atom, weights=ref[numbers], minlength=rows.size)
    energy = hartree_to_kcal(u0[rows] - atom_sum)
    if not np.all(np.diff(index[rows]) > 0):
        raise DataFormatError("QM9 rows are expected in increasing Index order")
    return QM9(numbers=numbers, positions=positions, offsets=offsets, index=index[rows],
               energy_kcal=energy, dipole_debye=dipole[rows], mulliken_e=mulliken,
               smiles=np.asarray(frame["SMILES"].astype(str).to_numpy()[rows], dtype=str), rejected=rejected)


def read_qm9_csv(paths) -> QM9:
    """Parse qm9pack CSV files (in order) into one :class:`QM9`.

    Raises:
        MissingFileError: a file does not exist or is a folder.
        DataFormatError: a file is not a CSV table with qm9pack's columns (named with the file).
    """
    import pandas as pd

    frames = []
    for path in paths:
        path = existing_file(path, "QM9 CSV file")
        try:
            frames.append(pd.read_csv(path, usecols=_COLUMNS))
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise DataFormatError(f"QM9 CSV file {str(path)!r} is not a readable CSV table "
                                  f"({type(err).__name__}: {str(err).splitlines()[0][:200]})") from None
        except ValueError as err:  # pandas: usecols not among the columns
            raise DataFormatError(f"QM9 CSV file {str(path)!r} lacks qm9pack's columns {_COLUMNS} ({err})") from None
    return parse_qm9_frame(pd.concat(frames, ignore_index=True))


# ---------------------------------------------------------------------------------------- cache
def _source_fingerprint(paths) -> str:
    """Names, sizes and the first and last 64 kB of the source files (not their times, which differ between
    installations of the same qm9pack)."""
    h = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    for p in map(Path, paths):
        size = p.stat().st_size
        h.update(f"|{p.name}:{size}|".encode())
        with open(p, "rb") as f:
            h.update(f.read(1 << 16))
            f.seek(max(size - (1 << 16), 0))
            h.update(f.read())
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


_ARRAYS = ("numbers", "positions", "offsets", "index", "energy_kcal", "dipole_debye", "mulliken_e", "smiles")


def load_qm9(cache_dir: str | Path | None = None, paths=None, verify: bool = True) -> QM9:
    """QM9 from the cache, building it from qm9pack's CSVs when missing, stale or corrupt.

    Args:
        cache_dir: folder of the cache (default :func:`default_cache_dir`).
        paths: CSV files to read (default: qm9pack's three parts).
        verify: check the cache file against the SHA-256 stored in its manifest (≈0.2 s).
    """
    paths = [existing_file(p, "QM9 CSV file") for p in (paths or qm9pack_files())]
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    data_file, manifest_file = cache_dir / "qm9.npz", cache_dir / "qm9.json"
    fingerprint = _source_fingerprint(paths)
    if data_file.exists() and manifest_file.exists():
        try:
            manifest = json.loads(manifest_file.read_text())
            fresh = manifest.get("source") == fingerprint
            intact = not verify or manifest.get("sha256") == _file_sha256(data_file)
            if fresh and intact:
                with np.load(data_file, allow_pickle=False) as z:
                    arrays = {k: z[k] for k in _ARRAYS}
                return QM9(**arrays, rejected=[tuple(r) for r in manifest.get("rejected", [])])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # unreadable cache: rebuilt below
    data = read_qm9_csv(paths)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_file.with_name(f"qm9.{os.getpid()}.tmp.npz")  # per process: concurrent builders never collide
    np.savez(tmp, **{k: getattr(data, k) for k in _ARRAYS})
    os.replace(tmp, data_file)
    manifest = {"source": fingerprint, "sha256": _file_sha256(data_file), "n_molecules": len(data),
                "rejected": data.rejected}
    manifest_file.write_text(json.dumps(manifest, indent=1))
    return data
