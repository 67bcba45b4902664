"""The :class:`Molecule` type: atomic numbers and positions in Å, validated on construction.

Every problem with user input raises a subclass of :class:`~xatom.errors.InvalidMoleculeError`
that names the offending value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import elements
from .errors import (AtomsTooCloseError, CoordinateRangeError, DataFormatError, EmptyMoleculeError, MissingFileError,
                     NonFiniteError, ShapeError, SmilesParseError, UnknownElementError)
from .files import read_text

MIN_DISTANCE_ANGSTROM = 0.1
"""Two atoms closer than this are rejected as a broken geometry."""


def _closest_pair(positions: np.ndarray, cell: np.ndarray | None, pbc: np.ndarray | None) -> tuple[int, int, float]:
    """The closest two atoms (i ≤ j) and their distance in Å; ``inf`` for a lone atom without a cell.

    With a cell, distances are minimum-image distances along the periodic directions: the difference
    vector is wrapped into the cell around zero (fractional coordinates in [−0.5, 0.5)) and its 27 nearest
    images are compared, so atoms close through a cell face count, and ``i == j`` means an atom close to its
    own periodic image (a cell vector shorter than the distance).
    """
    diff = positions[None, :, :] - positions[:, None, :]  # r_j − r_i, (n, n, 3)
    shifts = np.zeros((1, 3))
    if cell is not None and np.any(pbc):
        frac = diff @ np.linalg.inv(cell)
        frac[..., pbc] -= np.round(frac[..., pbc])
        diff = frac @ cell
        steps = [(-1, 0, 1) if periodic else (0,) for periodic in pbc]
        shifts = np.array(np.meshgrid(*steps, indexing="ij")).reshape(3, -1).T @ cell
    best = (0, 0, np.inf)
    for shift in shifts:
        dist = np.sqrt(((diff + shift) ** 2).sum(-1))
        if not shift.any():
            np.fill_diagonal(dist, np.inf)
        i, j = np.unravel_index(np.argmin(dist), dist.shape)
        if dist[i, j] < best[2]:
            best = (int(min(i, j)), int(max(i, j)), float(dist[i, j]))
    return best


def _is_atom_line(line: str) -> bool:
    """Whether an xyz line reads as an atom: an element and three numbers (a count line is one integer)."""
    parts = line.replace("*^", "e").split()
    if len(parts) < 4:
        return False
    try:
        [float(v) for v in parts[1:4]]
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Molecule:
    """A molecule or periodic structure.

    Args:
        numbers: atomic numbers, shape (n_atoms,).
        positions: Cartesian coordinates in Å, shape (n_atoms, 3).
        cell: optional lattice vectors in Å as rows, shape (3, 3), for periodic structures.
        pbc: periodic directions, shape (3,); defaults to all periodic when a cell is given.
        name: free text shown in tables and plots.
    """

    numbers: np.ndarray
    positions: np.ndarray
    cell: np.ndarray | None = None
    pbc: np.ndarray | None = None
    name: str = ""
    charge: int = field(default=0)

    def __post_init__(self):
        numbers = np.asarray(self.numbers)
        positions = np.asarray(self.positions, dtype=np.float64)
        if numbers.ndim != 1:
            raise ShapeError(f"atomic numbers must be a 1D array, got shape {numbers.shape}")
        if numbers.size == 0:
            raise EmptyMoleculeError("a molecule needs at least one atom, got none")
        if not np.issubdtype(numbers.dtype, np.integer):
            if not np.all(np.isfinite(numbers.astype(float))) or np.any(numbers != np.round(numbers)):
                raise UnknownElementError(f"atomic numbers must be integers, got {numbers.tolist()}")
            numbers = numbers.astype(np.int64)
        bad = numbers[(numbers < 1) | (numbers > elements.MAX_Z)]
        if bad.size:
            raise UnknownElementError(f"unknown atomic number(s) {sorted(set(bad.tolist()))}; "
                                      f"expected 1 … {elements.MAX_Z}")
        if positions.shape != (numbers.size, 3):
            raise ShapeError(f"positions must have shape ({numbers.size}, 3) for {numbers.size} atoms, "
                             f"got {positions.shape}")
        if not np.all(np.isfinite(positions)):
            rows = np.where(~np.all(np.isfinite(positions), axis=1))[0]
            raise NonFiniteError(f"positions of atom(s) {rows.tolist()} are NaN or infinite")
        cell = self.cell
        pbc = self.pbc
        if cell is not None:
            cell = np.asarray(cell, dtype=np.float64)
            if cell.shape != (3, 3):
                raise ShapeError(f"cell must have shape (3, 3), got {cell.shape}")
            if not np.all(np.isfinite(cell)):
                raise NonFiniteError("cell contains NaN or infinite values")
            if abs(np.linalg.det(cell)) < 1e-6:
                raise ShapeError("cell vectors are linearly dependent (zero volume)")
            pbc = np.ones(3, bool) if pbc is None else np.asarray(pbc, dtype=bool).reshape(3)
        elif pbc is not None and np.any(pbc):
            raise ShapeError("pbc given without a cell")
        i, j, distance = _closest_pair(positions, cell, pbc)
        if distance < MIN_DISTANCE_ANGSTROM:
            largest = float(np.abs(positions).max())
            if np.spacing(largest) > MIN_DISTANCE_ANGSTROM / 100:  # the atoms may be apart, but float64 merged them
                raise CoordinateRangeError(f"coordinates of {largest:.3g} Å: float64 resolves only "
                                           f"{np.spacing(largest):.3g} Å there, so atoms {i} and {j} collapse "
                                           f"({distance:.3g} Å apart); move the molecule near the origin")
            what = (f"atoms {i} and {j} are {distance:.3g} Å apart" if i != j else
                    f"atom {i} is {distance:.3g} Å from its own periodic image (a cell vector is too short)")
            raise AtomsTooCloseError(f"{what}; minimum {MIN_DISTANCE_ANGSTROM} Å")
        object.__setattr__(self, "numbers", numbers.astype(np.int64))
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "cell", cell)
        object.__setattr__(self, "pbc", pbc)

    # ------------------------------------------------------------------ properties
    @property
    def n_atoms(self) -> int:
        return int(self.numbers.size)

    @property
    def symbols(self) -> list[str]:
        return [elements.SYMBOLS[z] for z in self.numbers]

    @property
    def formula(self) -> str:
        """Hill formula, e.g. ``C7H8``."""
        syms = self.symbols
        counts = {s: syms.count(s) for s in set(syms)}
        first = [s for s in ("C", "H") if s in counts] if "C" in counts else []  # Hill: C, H, rest alphabetical
        order = first + sorted(s for s in counts if s not in first)
        return "".join(f"{s}{counts[s] if counts[s] > 1 else ''}" for s in order)

    @property
    def center_of_mass(self) -> np.ndarray:
        m = elements.MASSES[self.numbers]
        return (m[:, None] * self.positions).sum(0) / m.sum()

    def to_xyz(self, comment: str | None = None) -> str:
        """The molecule as xyz text (positions in Å)."""
        lines = [str(self.n_atoms), comment if comment is not None else self.name]
        lines += [f"{s:2s} {x:14.8f} {y:14.8f} {z:14.8f}" for s, (x, y, z) in zip(self.symbols, self.positions)]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_xyz(cls, source: str | Path, name: str | None = None) -> "Molecule":
        """Read the first structure of an xyz file, or xyz text (detected by a newline).

        Element columns may be symbols (``C``) or atomic numbers (``6``).
        """
        text = str(source)
        where = "xyz text"
        if "\n" not in text:
            path = Path(text)
            where = f"xyz file {str(path)!r}"
            if not path.exists():
                raise MissingFileError(f"{where} does not exist (pass xyz text with newlines, or a path)")
            text = read_text(path, "xyz file")
            name = name if name is not None else path.stem
        lines = text.strip("\n").splitlines()
        try:
            n = int(lines[0].split()[0])
        except (IndexError, ValueError):
            raise DataFormatError(f"{where} must start with the number of atoms, got {lines[:1]!r}") from None
        if n < 0:
            raise DataFormatError(f"{where}: the count line says {n} atoms")
        if len(lines) < n + 2:
            raise DataFormatError(f"{where}: the count line says {n} atoms but only {max(len(lines) - 2, 0)} "
                                  "atom lines follow")
        extra = 0  # atom lines after the announced ones (a next structure starts with its count line instead)
        while n + 2 + extra < len(lines) and _is_atom_line(lines[n + 2 + extra]):
            extra += 1
        if extra:
            raise DataFormatError(f"{where}: the count line says {n} atoms but {n + extra} atom lines follow")
        numbers, positions = [], []
        for k, line in enumerate(lines[2:n + 2]):
            parts = line.replace("*^", "e").split()
            if len(parts) < 4:
                raise DataFormatError(f"{where}: atom line {k + 1} needs an element and 3 coordinates: {line!r}")
            el = parts[0]
            try:
                numbers.append(int(el) if el.isdigit() else elements.atomic_number(el))
            except UnknownElementError as err:
                raise UnknownElementError(f"{where}: atom line {k + 1}: {err}") from None
            try:
                positions.append([float(v) for v in parts[1:4]])
            except ValueError:
                raise DataFormatError(f"{where}: atom line {k + 1} has non-numeric coordinates: {line!r}") from None
        return cls(np.array(numbers), np.array(positions), name=name if name is not None else lines[1].strip())

    @classmethod
    def from_rdkit(cls, mol, conf_id: int = -1, name: str = "") -> "Molecule":
        """From an RDKit ``Mol`` with a 3D conformer (hydrogens must be explicit to be included)."""
        if mol.GetNumConformers() == 0:
            raise ShapeError("the RDKit molecule has no conformer; embed it first (e.g. Molecule.from_smiles)")
        conf = mol.GetConformer(conf_id)
        numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])
        charge = sum(a.GetFormalCharge() for a in mol.GetAtoms())
        return cls(numbers, np.array(conf.GetPositions()), name=name, charge=int(charge))

    @classmethod
    def from_smiles(cls, smiles: str, seed: int = 42, name: str | None = None) -> "Molecule":
        """3D structure from SMILES: RDKit ETKDG embedding followed by MMFF94 relaxation."""
        from rdkit import Chem
        from rdkit.Chem import AllChem

        mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) and smiles.strip() else None
        if mol is None:
            raise SmilesParseError(f"RDKit cannot parse the SMILES {smiles!r}")
        fragments = Chem.GetMolFrags(mol, asMols=True)
        if len(fragments) > 1:
            raise SmilesParseError(f"the SMILES {smiles!r} is disconnected: {len(fragments)} fragments "
                                   f"({', '.join(Chem.MolToSmiles(f) for f in fragments)}) with no bond between them. "
                                   "An embedding cannot place separate molecules relative to each other, and the "
                                   "models predict one molecule; pass one fragment, or an xyz file of the complex")
        mol = Chem.AddHs(mol)
        params = AllChem.ETKDGv3()
        params.randomSeed = seed
        if AllChem.EmbedMolecule(mol, params) != 0:
            raise SmilesParseError(f"RDKit could not embed {smiles!r} in 3D")
        if AllChem.MMFFHasAllMoleculeParams(mol):
            AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
        return cls.from_rdkit(mol, name=smiles if name is None else name)
