"""DFT electrostatic potentials of QM9 molecules at QM9's level of theory, and the shipped file that holds them.

Level: B3LYP/6-31G(2df,p) as in QM9 (Gaussian 09), on QM9's own geometry, with PySCF (optional extra ``dft``):

* functional ``B3LYPG`` of PySCF, libxc's ``HYB_GGA_XC_B3LYP`` (0.08 Slater + 0.72 B88 + 0.20 HF exchange,
  0.19 VWN-RPA + 0.81 LYP correlation): Gaussian's B3LYP. PySCF's plain ``B3LYP`` means the same since
  PySCF 2.3 unless a user's ``pyscf_conf.py`` sets ``B3LYP_WITH_VWN5`` (then it is ``B3LYP5``, VWN5
  correlation, as in Turbomole/ORCA); ``B3LYPG`` is never remapped, so it is named explicitly.
* basis 6-31G(2df,p) with Cartesian d (6D) and pure f (7F) shells, Gaussian's default for Pople 6-31G basis
  sets. PySCF has one switch for all shells, so the SCF runs in Cartesian functions restricted to the span of
  6D + 7F (:func:`_six_d_seven_f`). Mulliken atom charges are unchanged by this (a transformation within
  each atom's shell).
* PySCF's default integration grid (level 3) and an SCF converged to 1e-9 Hartree.

Surface: Merz–Kollman shells, points on spheres of 1.4, 1.6, 1.8 and 2.0 × the Merz–Kollman radii around
every atom (H 1.20, C 1.50, N 1.50, O 1.40, F 1.35 Å), :data:`POINT_DENSITY_PER_ANGSTROM2` points per Å² of
each sphere, keeping the points outside every other atom's sphere of the same shell. The ESP there is the
energy of a +1 e probe in kcal/mol (the convention of :mod:`xatom.analysis.esp`), nuclei plus electrons.

For each molecule the shipped file holds that surface ESP, the ESP-fitted charges (least squares on the same
points, Σq = 0, :func:`~xatom.analysis.esp_reference.fit_esp_charges`), PySCF's dipole vector and Mulliken
charges (checks against QM9's Dipole_debye and Mulliken_pop) and, on a coarse box grid, the ESP and the
electron density for cube files (:func:`write_cubes`). Build it with ``tools/build_esp_reference.py``.

Checks against QM9 (PySCF 2.14, libxc 7.0): |µ| within 0.05 D of Dipole_debye for all molecules but water
(1.986 D against 1.851 D, as far off with all-Cartesian or all-pure shells); Mulliken charges r 0.98 and mean
|Δq| 0.02 e against Mulliken_pop, up to 0.17 e on aromatic carbons bearing O or F. A 9-heavy-atom molecule
takes about 4 CPU minutes on one thread.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import elements
from ..analysis.esp import electrostatic_potential
from ..analysis.esp_reference import fit_esp_charges
from ..analysis.grids import Grid, box_grid
from ..errors import ConvergenceError, DataFormatError, MissingFileError, UnknownElementError
from ..files import existing_file, write_atomic
from ..molecule import Molecule
from ..paths import DATA_DIR, missing_data
from ..units import BOHR_TO_ANGSTROM, HARTREE_TO_KCAL_PER_MOL

REFERENCE_FILE = DATA_DIR / "reference" / "esp_b3lyp.npz"
"""The shipped reference: arrays in this ``.npz``, settings and per-molecule facts in the ``.json`` beside it."""

XC = "B3LYPG"
BASIS = "6-31G(2df,p)"
ANGULAR_FUNCTIONS = "6D 7F"
GRID_LEVEL = 3
CONV_TOL_HARTREE = 1e-9

MK_RADII_ANGSTROM = {1: 1.20, 6: 1.50, 7: 1.50, 8: 1.40, 9: 1.35}
"""Merz–Kollman (Singh–Kollman) radii in Å, those of Gaussian's Pop=MK."""

SHELL_SCALES = (1.4, 1.6, 1.8, 2.0)
"""Surface shells as multiples of :data:`MK_RADII_ANGSTROM` (Merz–Kollman)."""

POINT_DENSITY_PER_ANGSTROM2 = 2.0
"""Surface points per Å² of every atom's sphere, before the points inside other atoms are removed."""

CUBE_SPACING_ANGSTROM = 0.4
CUBE_MARGIN_ANGSTROM = 3.0
"""Box grid of the ESP and density for cube files: coarse, so the shipped file stays small."""

MOLECULES = {
    # the six of the paper's Fig. 6 (notebook 06)
    "methane": "C", "propane": "CCC", "benzene": "c1ccccc1", "toluene": "Cc1ccccc1",
    "phloroglucinol": "Oc1cc(O)cc(O)c1", "pyridine": "c1ccncc1",
    # alcohols, nitrile, amides, heteroaromatics, fluorinated
    "water": "O", "methanol": "CO", "ethanol": "CCO", "acetonitrile": "CC#N", "formamide": "NC=O",
    "acetamide": "CC(N)=O", "furan": "c1ccoc1", "pyrrole": "c1cc[nH]c1", "imidazole": "c1c[nH]cn1",
    "pyrimidine": "c1cncnc1", "fluorobenzene": "Fc1ccccc1", "2-fluoropyridine": "Fc1ccccn1",
    "phenol": "Oc1ccccc1",
}
"""Name → SMILES of the reference molecules, found in QM9 with :meth:`~xatom.data.QM9.find_smiles`."""


def settings() -> dict:
    """The level of theory, surface and grid definition; a cached molecule is reused only under equal settings."""
    return {"xc": XC, "basis": BASIS, "angular_functions": ANGULAR_FUNCTIONS, "grid_level": GRID_LEVEL,
            "conv_tol_hartree": CONV_TOL_HARTREE,
            "surface": {"kind": "Merz-Kollman shells", "radii_angstrom": {elements.symbol(z): r for z, r in
                                                                         MK_RADII_ANGSTROM.items()},
                        "scales": list(SHELL_SCALES), "points_per_angstrom2": POINT_DENSITY_PER_ANGSTROM2},
            "cube_grid": {"spacing_angstrom": CUBE_SPACING_ANGSTROM, "margin_angstrom": CUBE_MARGIN_ANGSTROM},
            "esp_unit": "kcal/mol for a +1 e probe", "density_unit": "e/bohr^3"}


# ------------------------------------------------------------------------------------------------- surface
def _sphere_points(n: int) -> np.ndarray:
    """``n`` nearly uniform unit vectors (Fibonacci sphere), deterministic."""
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    phi = np.pi * (3.0 - np.sqrt(5.0)) * k
    rho = np.sqrt(1.0 - z ** 2)
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)


def surface_points(numbers, positions, scales=SHELL_SCALES,
                   density: float = POINT_DENSITY_PER_ANGSTROM2) -> np.ndarray:
    """Merz–Kollman surface points in Å, (n_points, 3), shell by shell, atom by atom.

    Args:
        numbers: atomic numbers (H, C, N, O, F), (n_atoms,).
        positions: atom positions in Å, (n_atoms, 3).
        scales: multiples of :data:`MK_RADII_ANGSTROM`, one shell each.
        density: points per Å² of each atom's sphere.

    Raises:
        UnknownElementError: an element without a Merz–Kollman radius here.
    """
    numbers = np.asarray(numbers)
    positions = np.asarray(positions, dtype=np.float64)
    unknown = sorted({int(z) for z in numbers} - set(MK_RADII_ANGSTROM))
    if unknown:
        raise UnknownElementError(f"no Merz–Kollman radius for atomic numbers {unknown}; known: "
                                  f"{sorted(MK_RADII_ANGSTROM)}")
    radii = np.array([MK_RADII_ANGSTROM[int(z)] for z in numbers])
    shells = []
    for scale in scales:
        for atom, radius in enumerate(radii * scale):
            pts = positions[atom] + radius * _sphere_points(max(1, int(round(density * 4 * np.pi * radius ** 2))))
            distance = np.linalg.norm(pts[:, None] - positions[None], axis=-1)
            outside = (distance >= radii * scale - 1e-9).all(axis=1)
            shells.append(pts[outside])
    return np.concatenate(shells)


def cube_grid(positions) -> Grid:
    """The coarse box grid of the shipped ESP and density fields (Å)."""
    return box_grid(positions, spacing=CUBE_SPACING_ANGSTROM, margin=CUBE_MARGIN_ANGSTROM)


# ---------------------------------------------------------------------------------------------------- DFT
def _six_d_seven_f(mol) -> np.ndarray:
    """Columns spanning Cartesian d (6D) and pure f (7F) functions in PySCF's Cartesian AO basis of ``mol``."""
    import scipy.linalg
    from pyscf import gto

    blocks = []
    for shell in range(mol.nbas):
        l = mol.bas_angular(shell)
        block = gto.mole.cart2sph(l, normalized="sp") if l >= 3 else np.eye((l + 1) * (l + 2) // 2)
        blocks += [block] * mol.bas_nctr(shell)
    return scipy.linalg.block_diag(*blocks)


def _electronic_potential_hartree(mol, dm, points_angstrom) -> np.ndarray:
    """−∫ρ(r')/|r − r'| dr' in Hartree/e at the points, in chunks of about 160 MB of integrals."""
    coords = np.asarray(points_angstrom) / BOHR_TO_ANGSTROM
    step = max(1, int(2e7 // mol.nao ** 2))
    out = np.empty(len(coords))
    for start in range(0, len(coords), step):
        ints = mol.intor("int1e_grids", grids=coords[start:start + step])
        out[start:start + step] = -np.einsum("gij,ij->g", ints, dm)
    return out


def _density(mol, dm, points_angstrom) -> np.ndarray:
    """Electron density in e/bohr³ at the points."""
    from pyscf.dft import numint

    coords = np.asarray(points_angstrom) / BOHR_TO_ANGSTROM
    out = np.empty(len(coords))
    for start in range(0, len(coords), 4096):
        ao = numint.eval_ao(mol, coords[start:start + 4096])
        out[start:start + 4096] = numint.eval_rho(mol, ao, dm)
    return out


def dft_esp_kcal(mol, dm, numbers, positions, points) -> np.ndarray:
    """ESP (kcal/mol, +1 e probe) of the nuclei and the electron density ``dm`` at ``points`` (Å)."""
    nuclear = electrostatic_potential(points, positions, np.asarray(numbers, dtype=float))
    return nuclear + HARTREE_TO_KCAL_PER_MOL * _electronic_potential_hartree(mol, dm, points)


def compute_molecule(molecule: Molecule) -> dict:
    """B3LYP/6-31G(2df,p) of one neutral closed-shell molecule and everything the reference holds for it.

    Args:
        molecule: the QM9 molecule (positions in Å).

    Returns:
        arrays ``points`` (Å), ``esp_kcal``, ``esp_charges_e``, ``mulliken_e``, ``dipole_debye`` (vector),
        ``grid_origin``/``grid_axes`` (Å), ``grid_shape``, ``grid_esp_kcal``, ``grid_density`` (e/bohr³),
        and numbers ``energy_hartree``, ``converged``, ``scf_cycles``, ``seconds``.

    Raises:
        ConvergenceError: the SCF did not converge.
    """
    from pyscf import dft, gto

    start = time.perf_counter()
    mol = gto.M(atom=[(int(z), tuple(p)) for z, p in zip(molecule.numbers, molecule.positions)], unit="Angstrom",
                basis=BASIS, charge=0, spin=0, cart=True, verbose=0)
    span = _six_d_seven_f(mol)

    def orthogonalizer(s, verbose=None):
        e, v = np.linalg.eigh(span.T @ s @ span)
        return span @ (v / np.sqrt(e))

    mf = dft.RKS(mol)
    mf.xc, mf.grids.level, mf.conv_tol = XC, GRID_LEVEL, CONV_TOL_HARTREE
    mf.check_linear_dependency = orthogonalizer
    cycles = []
    mf.callback = lambda env: cycles.append(env["cycle"])
    energy = mf.kernel()
    if not mf.converged:
        raise ConvergenceError(f"{molecule.name}: the SCF did not converge in {mf.max_cycle} cycles")
    dm = mf.make_rdm1()
    points = surface_points(molecule.numbers, molecule.positions)
    surface_esp = dft_esp_kcal(mol, dm, molecule.numbers, molecule.positions, points)
    grid = cube_grid(molecule.positions)
    grid_points = grid.points()
    grid_esp = dft_esp_kcal(mol, dm, molecule.numbers, molecule.positions, grid_points)
    return {"points": points, "esp_kcal": surface_esp,
            "esp_charges_e": fit_esp_charges(points, molecule.positions, surface_esp),
            "mulliken_e": mf.mulliken_pop(verbose=0)[1], "dipole_debye": mf.dip_moment(unit="Debye", verbose=0),
            "grid_origin": grid.origin, "grid_axes": grid.axes, "grid_shape": np.array(grid.shape),
            "grid_esp_kcal": grid_esp.astype(np.float32),
            "grid_density": _density(mol, dm, grid_points).astype(np.float32),
            "energy_hartree": float(energy), "converged": bool(mf.converged), "scf_cycles": len(cycles),
            "seconds": time.perf_counter() - start}


# ------------------------------------------------------------------------------------------ the shipped file
_FIELDS = ("numbers", "positions", "esp_charges_e", "mulliken_e", "points", "esp_kcal", "dipole_debye",
           "grid_origin", "grid_axes", "grid_shape", "grid_esp_kcal", "grid_density")
"""Arrays stored per molecule in the ``.npz``, as ``<name>/<field>``."""


@dataclass(frozen=True)
class ReferenceMolecule:
    """One molecule of the shipped reference.

    Args:
        name: e.g. ``"pyridine"``.
        smiles: the SMILES it was found by in QM9.
        qm9_index: QM9's molecule number.
        molecule: QM9's geometry (Å).
        points: Merz–Kollman surface points in Å, (n_points, 3).
        esp_kcal: DFT ESP at ``points``, kcal/mol for a +1 e probe.
        esp_charges_e: ESP-fitted charges (e), Σ = 0.
        mulliken_e: PySCF's Mulliken charges (e).
        dipole_debye: PySCF's dipole vector in Debye (QM9's axes).
        qm9_dipole_debye: QM9's dipole magnitude (Debye).
        grid: the coarse box grid (Å) of ``grid_esp_kcal`` and ``grid_density`` (e/bohr³), shape ``grid.shape``.
    """

    name: str
    smiles: str
    qm9_index: int
    molecule: Molecule
    points: np.ndarray
    esp_kcal: np.ndarray
    esp_charges_e: np.ndarray
    mulliken_e: np.ndarray
    dipole_debye: np.ndarray
    qm9_dipole_debye: float
    grid: Grid
    grid_esp_kcal: np.ndarray
    grid_density: np.ndarray


@dataclass(frozen=True)
class EspReference:
    """The shipped reference: :attr:`meta` (settings, command, versions, per-molecule facts) and its molecules."""

    meta: dict
    molecules: dict

    @property
    def names(self) -> list[str]:
        return list(self.molecules)

    def __getitem__(self, name: str) -> ReferenceMolecule:
        try:
            return self.molecules[name]
        except KeyError:
            raise KeyError(f"no molecule {name!r} in the ESP reference; it has {self.names}") from None


def _key(name: str, field: str) -> str:
    return f"{name}/{field}"


def save_reference(path: str | Path, results: dict, meta: dict) -> tuple[Path, Path]:
    """Write the ``.npz`` (arrays) and ``.json`` (``meta``) of a reference; ``results`` maps name → a dict with
    the arrays of :func:`compute_molecule` plus ``numbers`` and ``positions``. Returns both paths."""
    import io

    path = Path(path)
    arrays = {}
    for name, res in results.items():
        for field in _FIELDS:
            arrays[_key(name, field)] = np.asarray(res[field])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())
    json_path = write_atomic(path.with_suffix(".json"), json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    return path, json_path


def load_esp_reference(path: str | Path = REFERENCE_FILE) -> EspReference:
    """Read the shipped DFT ESP reference (no DFT, no download).

    Raises:
        MissingFileError: the ``.npz`` or its ``.json`` is missing.
        DataFormatError: a molecule listed in the ``.json`` lacks arrays in the ``.npz``.
    """
    if Path(path) == REFERENCE_FILE and not REFERENCE_FILE.is_file():
        raise missing_data(REFERENCE_FILE, "the shipped DFT ESP reference")
    path = existing_file(path, "ESP reference")
    json_path = path.with_suffix(".json")
    if not json_path.is_file():
        raise MissingFileError(f"{json_path}: the settings of the ESP reference {path.name} are missing")
    meta = json.loads(json_path.read_text())
    molecules = {}
    with np.load(path) as arrays:
        for name, facts in meta["molecules"].items():
            try:
                get = {field: arrays[_key(name, field)] for field in _FIELDS}
            except KeyError as err:
                raise DataFormatError(f"{path}: molecule {name!r} lacks the array {err}") from None
            grid = Grid(get["grid_origin"], get["grid_axes"], tuple(get["grid_shape"]))
            molecules[name] = ReferenceMolecule(
                name=name, smiles=facts["smiles"], qm9_index=int(facts["qm9_index"]),
                molecule=Molecule(get["numbers"].astype(np.int64), get["positions"],
                                  name=f"QM9 {facts['qm9_index']} {name}"),
                points=get["points"], esp_kcal=get["esp_kcal"], esp_charges_e=get["esp_charges_e"],
                mulliken_e=get["mulliken_e"], dipole_debye=get["dipole_debye"],
                qm9_dipole_debye=float(facts["qm9_dipole_debye"]), grid=grid,
                grid_esp_kcal=get["grid_esp_kcal"].reshape(grid.shape).astype(np.float64),
                grid_density=get["grid_density"].reshape(grid.shape).astype(np.float64))
    return EspReference(meta=meta, molecules=molecules)


def write_cubes(reference: ReferenceMolecule, folder: str | Path) -> tuple[Path, Path]:
    """Cube files ``<name>_dft_esp.cube`` (kcal/mol, +1 e probe) and ``<name>_dft_density.cube`` (e/bohr³) of
    one reference molecule, on its coarse grid, through :func:`xatom.viz.cube.write_cube`."""
    from ..files import check_output_folder
    from ..viz.cube import write_cube

    folder = check_output_folder(folder)
    level = f"{XC}/{BASIS} ({ANGULAR_FUNCTIONS})"
    esp = write_cube(folder / f"{reference.name}_dft_esp.cube", reference.molecule, reference.grid,
                     reference.grid_esp_kcal, comment=f"{reference.name}: {level} ESP, +1 e probe, kcal/mol")
    density = write_cube(folder / f"{reference.name}_dft_density.cube", reference.molecule, reference.grid,
                         reference.grid_density, comment=f"{reference.name}: {level} electron density, e/bohr^3")
    return esp, density
