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
