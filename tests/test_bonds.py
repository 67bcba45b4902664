"""The project's one bond rule (xatom.bonds): known bonds of molecules, the distance threshold, invariances."""
import numpy as np
import pytest

import xatom
from physics import random_rotation, rotate, transformed
from xatom import bonds
from xatom.errors import UnknownElementError


def pair_set(pairs) -> set:
    return {tuple(p) for p in np.asarray(pairs).tolist()}


@pytest.fixture(scope="module")
def ethane():
    return xatom.Molecule.from_smiles("CC", seed=1, name="ethane")


@pytest.mark.parametrize("name, n_bonds", [("water", 2), ("methane", 4), ("ethanol", 8), ("benzene", 12),
                                           ("glycine", 9), ("fluoroethanol", 8)])
def test_known_bond_counts(request, name, n_bonds):
    mol = request.getfixturevalue(name)
    assert len(bonds.bonded_pairs(mol.numbers, mol.positions)) == n_bonds


def test_ethane_benzene_water_bonds_are_the_chemical_ones(ethane, benzene, water):
    pairs = bonds.bonded_pairs(ethane.numbers, ethane.positions)
    z = np.sort(ethane.numbers[pairs], axis=1)
    assert len(pairs) == 7 and (z == [6, 6]).all(1).sum() == 1 and (z == [1, 6]).all(1).sum() == 6
    pairs = bonds.bonded_pairs(benzene.numbers, benzene.positions)
    z = np.sort(benzene.numbers[pairs], axis=1)
    assert len(pairs) == 12 and (z == [6, 6]).all(1).sum() == 6 and (z == [1, 6]).all(1).sum() == 6
    # every carbon of benzene has 3 neighbours, every hydrogen 1
    degree = bonds.bond_matrix(benzene.numbers, benzene.positions).sum(1)
    assert (degree[benzene.numbers == 6] == 3).all() and (degree[benzene.numbers == 1] == 1).all()
    # water: two O–H bonds, the H–H contact (1.51 Å) is no bond
    assert pair_set(bonds.bonded_pairs(water.numbers, water.positions)) == {(0, 1), (0, 2)}


def test_threshold_is_tolerance_times_radii_sum():
    assert bonds.BOND_TOLERANCE == 1.15
    ch = bonds.BOND_TOLERANCE * (bonds.COVALENT_RADII[6] + bonds.COVALENT_RADII[1])  # 1.2305 Å
    for d, bonded in [(ch - 1e-3, True), (ch + 1e-3, False), (3.0, False)]:
        got = bonds.bonded_pairs([6, 1], [[0, 0, 0], [d, 0, 0]])
        assert (len(got) == 1) == bonded, d
    # two carbons 3 Å apart are not bonded; 1.54 Å (ethane's C–C) and 1.75 Å (just inside) are
    for d, n in [(3.0, 0), (1.54, 1), (1.74, 1), (1.76, 0)]:
        assert len(bonds.bonded_pairs([6, 6], [[0, 0, 0], [0, 0, d]])) == n, d


def test_matrix_is_symmetric_without_self_bonds_and_pairs_are_sorted(glycine):
    m = bonds.bond_matrix(glycine.numbers, glycine.positions)
    assert m.dtype == bool and (m == m.T).all() and not m.diagonal().any()
    pairs = bonds.bonded_pairs(glycine.numbers, glycine.positions)
    assert pairs.dtype == np.int64 and pairs.shape[1] == 2 and (pairs[:, 0] < pairs[:, 1]).all()
    assert pairs.tolist() == sorted(pairs.tolist()) and len(pairs) == m.sum() // 2


def test_rotation_translation_invariant(molecules):
    for mol in molecules:
        ref = pair_set(bonds.bonded_pairs(mol.numbers, mol.positions))
        for k in range(3):
            for proper in (True, False):
                moved = rotate(mol, random_rotation(k, proper))
                assert pair_set(bonds.bonded_pairs(moved.numbers, moved.positions)) == ref, (mol.name, k, proper)
        for shift in [(3.0, -2.0, 1.5), (-40.0, 25.0, 10.0)]:
            moved = transformed(mol, mol.positions + np.asarray(shift))
            assert pair_set(bonds.bonded_pairs(moved.numbers, moved.positions)) == ref, (mol.name, shift)


def test_permutation_relabels_the_bonds(molecules):
    rng = np.random.default_rng(0)
    for mol in molecules:
        ref = pair_set(bonds.bonded_pairs(mol.numbers, mol.positions))
        for _ in range(3):
            order = rng.permutation(mol.n_atoms)  # new atom k is old atom order[k]
            moved = transformed(mol, order=order)
            got = {tuple(sorted((int(order[i]), int(order[j]))))
                   for i, j in bonds.bonded_pairs(moved.numbers, moved.positions)}
            assert got == ref, mol.name


def test_unknown_element_raises_or_bonds_nothing():
    numbers, positions = [6, 92, 1], [[0, 0, 0], [1.5, 0, 0], [-1.09, 0, 0]]
    with pytest.raises(UnknownElementError, match=r"no covalent radius for Z = \[92\]"):
        bonds.bonded_pairs(numbers, positions)
    assert isinstance(UnknownElementError("x"), ValueError)
    assert pair_set(bonds.bonded_pairs(numbers, positions, strict=False)) == {(0, 2)}
    assert np.isnan(bonds.covalent_radii([92], strict=False)).all()


def test_is_bonded_broadcasts_and_nan_never_bonds():
    d = np.array([[1.0, np.nan], [2.0, 1.0]])
    r = np.array([0.76, np.nan])
    got = bonds.is_bonded(d, r[:, None], r[None, :])
    assert got.tolist() == [[True, False], [False, False]]
    with pytest.raises(ValueError, match="positions"):
        bonds.bond_matrix([6, 6], np.zeros((3, 3)))
    assert bonds.bonded_pairs([6], [[0, 0, 0]]).shape == (0, 2)


def test_neighbour_counts_and_element_bonds_use_the_rule(molecules):
    from xatom.analysis.partitioning import molecule_set, neighbour_counts
    from xatom.analysis.probe import element_bonds

    data = molecule_set(molecules)
    n_nb, _ = neighbour_counts(data, np.arange(len(data)))
    degree = np.concatenate([bonds.bond_matrix(m.numbers, m.positions).sum(1) for m in molecules])
    assert n_nb.tolist() == degree.tolist()
    benzene = molecules[3]
    assert pair_set(element_bonds(benzene)) == {tuple(p) for p in bonds.bonded_pairs(benzene.numbers, benzene.positions)
                                               if (benzene.numbers[list(p)] == 6).all()}
