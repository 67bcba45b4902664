"""Molecule validation (every bad input raises a named subclass of XatomError), xyz and SMILES input."""
import numpy as np
import pytest

from xatom import Molecule, elements
from xatom.errors import (AtomsTooCloseError, DataFormatError, EmptyMoleculeError, InvalidMoleculeError,
                          NonFiniteError, ShapeError, SmilesParseError, UnknownElementError, XatomError)

GOOD_POS = [[0.0, 0.0, 0.0], [0.0, 0.0, 1.1]]


def test_error_hierarchy_is_catchable_as_xatom_and_value_errors():
    for cls in (UnknownElementError, ShapeError, NonFiniteError, AtomsTooCloseError, EmptyMoleculeError,
                SmilesParseError):
        assert issubclass(cls, InvalidMoleculeError) and issubclass(cls, XatomError)
        assert issubclass(cls, ValueError)
    assert issubclass(DataFormatError, XatomError)


@pytest.mark.parametrize("sym", ["Xx", "Q", "", "Uuo"])
def test_unknown_element_symbol_raises(sym):
    with pytest.raises(UnknownElementError):
        elements.atomic_number(sym)


def test_element_symbols_are_case_insensitive_and_round_trip():
    assert elements.atomic_number("c") == 6
    assert elements.atomic_number(" Cl ") == 17
    for z in (1, 6, 7, 8, 9, 17, 94):
        assert elements.atomic_number(elements.symbol(z)) == z


@pytest.mark.parametrize("z", [0, -1, 95, 200])
def test_unknown_atomic_number_raises(z):
    with pytest.raises(UnknownElementError, match=str(z)):
        Molecule([6, z], GOOD_POS)
    with pytest.raises(UnknownElementError):
        elements.symbol(z)


def test_non_integer_atomic_number_raises():
    with pytest.raises(UnknownElementError):
        Molecule(np.array([6.0, 1.5]), GOOD_POS)
    assert Molecule(np.array([6.0, 1.0]), GOOD_POS).numbers.dtype == np.int64


@pytest.mark.parametrize("positions", [[[0.0, 0.0, 0.0]], [[0, 0, 0, 0], [0, 0, 1, 0]], [0.0, 0.0, 1.1],
                                       np.zeros((2, 3, 1))])
def test_wrong_positions_shape_raises(positions):
    with pytest.raises(ShapeError):
        Molecule([6, 1], positions)


def test_numbers_must_be_one_dimensional():
    with pytest.raises(ShapeError):
        Molecule([[6, 1]], GOOD_POS)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_positions_raise_and_name_the_atom(bad):
    pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.1], [1.0, 0.0, 0.0]])
    pos[2, 1] = bad
    with pytest.raises(NonFiniteError, match=r"\[2\]"):
        Molecule([6, 1, 1], pos)


def test_atoms_closer_than_0_1_angstrom_raise():
    with pytest.raises(AtomsTooCloseError, match="atoms 0 and 2"):
        Molecule([6, 1, 1], [[0, 0, 0], [0, 0, 1.1], [0.05, 0, 0]])
    Molecule([1, 1], [[0, 0, 0], [0, 0, 0.11]])  # 0.11 Å is allowed


def test_empty_molecule_raises():
    with pytest.raises(EmptyMoleculeError):
        Molecule(np.array([], dtype=int), np.zeros((0, 3)))


@pytest.mark.parametrize("smiles", ["C1CC", "not a smiles", "", "C(C)(C)(C)(C)C"])
def test_unparseable_smiles_raises(smiles):
    with pytest.raises(SmilesParseError):
        Molecule.from_smiles(smiles)


def test_bad_cell_raises():
    with pytest.raises(ShapeError):
        Molecule([11], [[0, 0, 0]], cell=np.eye(2))
    with pytest.raises(ShapeError):
        Molecule([11], [[0, 0, 0]], cell=np.zeros((3, 3)))
    with pytest.raises(ShapeError):
        Molecule([11], [[0, 0, 0]], pbc=[True, True, True])


def test_xyz_round_trip_preserves_elements_and_positions(ethanol):
    again = Molecule.from_xyz(ethanol.to_xyz())
    np.testing.assert_array_equal(again.numbers, ethanol.numbers)
    np.testing.assert_allclose(again.positions, ethanol.positions, atol=1e-8)
    assert again.formula == ethanol.formula == "C2H6O"


def test_xyz_file_with_atomic_numbers_and_mathematica_exponents(tmp_path):
    path = tmp_path / "h2.xyz"
    path.write_text("2\nhydrogen\n1 0.0 0.0 0.0\nH 0.0 0.0 7.4*^-1\n")
    mol = Molecule.from_xyz(path)
    assert mol.name == "h2"
    np.testing.assert_array_equal(mol.numbers, [1, 1])
    assert mol.positions[1, 2] == pytest.approx(0.74)


@pytest.mark.parametrize("text", ["x\ncomment\nH 0 0 0\n", "3\ncomment\nH 0 0 0\nH 0 0 1\n",
                                  "1\ncomment\nH 0 0\n", "1\ncomment\nH 0 zero 0\n"])
def test_malformed_xyz_raises_data_format_error(text):
    with pytest.raises(DataFormatError):
        Molecule.from_xyz(text)


def test_missing_xyz_file_raises_data_format_error(tmp_path):
    with pytest.raises(DataFormatError):
        Molecule.from_xyz(str(tmp_path / "missing.xyz"))


def _bond_lengths(mol, za, zb, max_len=1.3):
    d = np.linalg.norm(mol.positions[:, None] - mol.positions[None], axis=-1)
    return [d[i, j] for i in range(mol.n_atoms) for j in range(mol.n_atoms)
            if i != j and mol.numbers[i] == za and mol.numbers[j] == zb and d[i, j] < max_len]


def test_from_smiles_adds_hydrogens_with_reasonable_c_h_bonds(methane, ethanol, benzene):
    for mol, formula, n_ch in ((methane, "CH4", 4), (ethanol, "C2H6O", 5), (benzene, "C6H6", 6)):
        assert mol.formula == formula
        ch = _bond_lengths(mol, 6, 1)
        assert len(ch) == n_ch
        assert all(1.08 <= r <= 1.11 for r in ch), ch


def test_from_smiles_is_deterministic_for_a_seed():
    a, b = Molecule.from_smiles("CCO", seed=7), Molecule.from_smiles("CCO", seed=7)
    np.testing.assert_array_equal(a.positions, b.positions)


def test_benzene_c_c_bonds_are_aromatic(benzene):
    cc = _bond_lengths(benzene, 6, 6, max_len=1.5)
    assert len(cc) == 12  # 6 bonds, both directions
    assert all(1.37 <= r <= 1.42 for r in cc), cc


def test_center_of_mass_of_water_lies_near_oxygen(water):
    com = water.center_of_mass
    o = water.positions[water.numbers == 8][0]
    h_mid = water.positions[water.numbers == 1].mean(0)
    # the centre of mass divides O→(H midpoint) in the ratio 2 m_H : (m_O + 2 m_H)
    frac = np.linalg.norm(com - o) / np.linalg.norm(h_mid - o)
    assert frac == pytest.approx(2 * 1.008 / (15.999 + 2 * 1.008), rel=1e-4)


# ------------------------------------------------------------------ named bugs (issue 16)
@pytest.mark.parametrize("numbers, formula", [([6, 8, 8], "CO2"), ([6, 9, 9, 9, 9], "CF4"), ([6, 1, 1, 1, 17], "CH3Cl"),
                                              ([8, 1, 1], "H2O"), ([7, 1, 1, 1], "H3N"), ([9, 1, 17], "ClFH")])
def test_formula_follows_hill_order_with_and_without_hydrogen(numbers, formula):
    # Hill: C first, then H, then the rest alphabetically; without carbon, every element alphabetically
    positions = np.arange(3 * len(numbers), dtype=float).reshape(-1, 3)
    assert Molecule(numbers, positions).formula == formula


def test_xyz_with_more_atom_lines_than_its_count_raises_naming_file_and_counts(tmp_path):
    path = tmp_path / "five.xyz"
    atoms = "".join(f"H 0 0 {1.0 * k}\n" for k in range(5))
    path.write_text("3\nsays three\n" + atoms)
    with pytest.raises(DataFormatError, match=r"five\.xyz.*3 atoms.*5 atom lines"):
        Molecule.from_xyz(path)
    with pytest.raises(DataFormatError, match=r"3 atoms.*5 atom lines"):
        Molecule.from_xyz(path.read_text())


def test_xyz_with_fewer_atom_lines_than_its_count_names_file_and_counts(tmp_path):
    path = tmp_path / "two.xyz"
    path.write_text("4\nsays four\nH 0 0 0\nH 0 0 1\n")
    with pytest.raises(DataFormatError, match=r"two\.xyz.*4 atoms.*2 atom lines"):
        Molecule.from_xyz(path)


def test_multi_structure_xyz_still_reads_the_first_structure(tmp_path):
    path = tmp_path / "frames.xyz"
    path.write_text("2\nfirst\nH 0 0 0\nH 0 0 0.74\n3\nsecond\nO 0 0 0\nH 0 0 1\nH 0 1 0\n")
    assert Molecule.from_xyz(path).formula == "H2"


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", b""])
def test_binary_or_empty_xyz_file_raises_naming_the_file(tmp_path, content):
    path = tmp_path / "picture.xyz"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match="picture.xyz"):
        Molecule.from_xyz(path)


def test_missing_xyz_file_error_names_the_file(tmp_path):
    with pytest.raises(DataFormatError, match="missing.xyz"):
        Molecule.from_xyz(str(tmp_path / "missing.xyz"))
    with pytest.raises(DataFormatError, match="a_folder"):
        (tmp_path / "a_folder").mkdir()
        Molecule.from_xyz(tmp_path / "a_folder")


def test_periodic_cell_refuses_atoms_too_close_through_the_boundary():
    cell = np.eye(3) * 5.0
    # 0.05 Å apart through the face x = 0 / x = 5 (4.95 Å apart inside the cell)
    with pytest.raises(AtomsTooCloseError, match=r"atoms 0 and 1 .*0\.05"):
        Molecule([11, 17], [[0.02, 1, 1], [4.97, 1, 1]], cell=cell)
    # the same two atoms inside one cell, without a boundary in between
    with pytest.raises(AtomsTooCloseError, match="atoms 0 and 1"):
        Molecule([11, 17], [[2.0, 1, 1], [2.05, 1, 1]], cell=cell)
    # a skewed cell: the image across the slanted face is what counts
    skew = np.array([[5.0, 0, 0], [4.9, 1.0, 0], [0, 0, 5.0]])
    with pytest.raises(AtomsTooCloseError):
        Molecule([11, 17], [[0.0, 0, 0], [4.95, 0.99, 0]], cell=skew)  # minus b: (0.05, −0.01, 0), 0.051 Å
    Molecule([11, 17], [[0.0, 0, 0], [2.5, 2.5, 2.5]], cell=cell)  # rock salt-like spacing is fine


def test_cell_shorter_than_the_minimum_distance_puts_an_atom_on_its_own_image():
    with pytest.raises(AtomsTooCloseError, match="own periodic image"):
        Molecule([11], [[0, 0, 0]], cell=np.diag([0.05, 5.0, 5.0]))


def test_non_periodic_direction_of_a_cell_has_no_images():
    cell = np.eye(3) * 5.0
    Molecule([11, 17], [[0.02, 1, 1], [4.97, 1, 1]], cell=cell, pbc=[False, True, True])
