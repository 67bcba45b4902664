"""Gaussian cube files: a 3D field on a grid with the molecule, readable by VMD, Avogadro and 3Dmol.js.

Format (lengths in Bohr, as the format expects): two comment lines; atom count and origin; for each of the
three axes the number of points and the step vector; one line per atom (Z, charge, x, y, z); then the
values, the last axis running fastest, six per line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.grids import Grid
from ..errors import DataFormatError, NonFiniteError, ShapeError
from ..files import read_text, write_atomic
from ..molecule import Molecule
from ..units import BOHR_TO_ANGSTROM


def cube_text(molecule: Molecule, grid: Grid, values, comment: str = "xatom field") -> str:
    """The field ``values`` (shape ``grid.shape``, any unit, stated in ``comment``) as cube-file text."""
    values = np.asarray(values, dtype=np.float64)
    if len(grid.shape) != 3:
        raise ShapeError(f"cube files hold 3D grids, got a {len(grid.shape)}D grid")
    if values.shape != grid.shape and values.shape != (grid.n_points,):
        raise ShapeError(f"values of shape {values.shape} do not fit the grid {grid.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(int(i) for i in np.unravel_index(np.argmax(bad), grid.shape))
        raise NonFiniteError(f"{int(bad.sum())} of the {values.size} values are NaN or infinite; cube files hold "
                             f"finite numbers (first at grid index {first})")
    bohr = 1.0 / BOHR_TO_ANGSTROM
    lines = [comment.replace("\n", " "), "lengths in Bohr; values as stated above",
             f"{molecule.n_atoms:5d} " + " ".join(f"{x:12.6f}" for x in grid.origin * bohr)]
    for n, axis in zip(grid.shape, grid.axes):
        lines.append(f"{n:5d} " + " ".join(f"{x:12.6f}" for x in axis * bohr))
    for z, pos in zip(molecule.numbers, molecule.positions):
        lines.append(f"{int(z):5d} {float(z):12.6f} " + " ".join(f"{x:12.6f}" for x in pos * bohr))  # Z, nuclear charge
    flat = values.reshape(grid.shape)
    for row in flat.reshape(-1, grid.shape[2]):  # one block per (i, j), six values per line
        for k in range(0, len(row), 6):
            lines.append(" ".join(f"{v:13.5e}" for v in row[k:k + 6]))
    return "\n".join(lines) + "\n"


def write_cube(path: str | Path, molecule: Molecule, grid: Grid, values, comment: str = "xatom field") -> Path:
    """Write a cube file atomically (a failed write leaves no truncated file); returns its path."""
    return write_atomic(path, cube_text(molecule, grid, values, comment))


def read_cube(path: str | Path) -> tuple[Molecule, Grid, np.ndarray, str]:
    """Read a cube file: the molecule (Å), the grid (Å), the values (shape ``grid.shape``) and the comment."""
    lines = read_text(path, "cube file").splitlines()
    try:
        head = lines[2].split()
        n_atoms, origin = int(head[0]), np.array(head[1:4], dtype=float)
        axes_lines = [lines[3 + k].split() for k in range(3)]
        shape = tuple(int(a[0]) for a in axes_lines)
        axes = np.array([a[1:4] for a in axes_lines], dtype=float)
        if n_atoms < 0 or min(shape) < 0:
            raise DataFormatError(f"{path}: cube files with orbital lists or lengths in Å are not supported")
        atoms = np.array([lines[6 + k].split()[:5] for k in range(n_atoms)], dtype=float).reshape(n_atoms, 5)
        values = np.array(" ".join(lines[6 + n_atoms:]).split(), dtype=float)
    except (IndexError, ValueError) as err:
        raise DataFormatError(f"{path} is not a readable cube file ({err})") from None
    if values.size != int(np.prod(shape)):
        raise DataFormatError(f"{path}: {values.size} values for a grid of {shape}")
    scale = BOHR_TO_ANGSTROM
    molecule = Molecule(atoms[:, 0].astype(int), atoms[:, 2:5] * scale, name=lines[0].strip())
    return molecule, Grid(origin * scale, axes * scale, shape), values.reshape(shape), lines[0]
