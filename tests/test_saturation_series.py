"""Ω about C–C bonds (xatom.analysis.probe.bond_region_*): geometry of the circles, invariances, gradients, errors.

Fast and offline: RDKit geometries and a small random SchNet energy model.
"""
import numpy as np
import pytest

import xatom
from physics import random_rotation, small_model, transformed, with_fitted_baseline
from xatom.analysis.probe import LocalChemicalPotential, bond_circles, bond_region_potential, element_bonds


@pytest.fixture(scope="module")
def energy_model():
    return with_fitted_baseline(small_model("schnet", "energy", seed=5))


@pytest.fixture(scope="module")
def series():
    smiles = {"ethane": "CC", "ethene": "C=C", "ethyne": "C#C", "cyclohexane": "C1CCCCC1",
              "cyclohexene": "C1=CCCCC1", "benzene": "c1ccccc1"}
    return {name: xatom.Molecule.from_smiles(s, seed=1, name=name) for name, s in smiles.items()}


def _moved(molecule, seed):
    rot, shift = random_rotation(seed), np.array([2.5, -1.0, 4.0]) * (seed + 1)
    return transformed(molecule, molecule.positions @ rot.T + shift)


def test_carbon_bonds_of_the_series_are_found(series):
    counts = {name: len(element_bonds(mol)) for name, mol in series.items()}
    assert counts == {"ethane": 1, "ethene": 1, "ethyne": 1, "cyclohexane": 6, "cyclohexene": 6, "benzene": 6}
    assert len(element_bonds(series["ethane"], ("C", "H"))) == 6 and len(element_bonds(series["ethane"], ("H", "H"))) == 0
    bonds = element_bonds(series["benzene"])
    assert (bonds[:, 0] < bonds[:, 1]).all() and (series["benzene"].numbers[bonds] == 6).all()


@pytest.mark.parametrize("name", ["ethane", "ethyne", "benzene"])
def test_circles_lie_perpendicular_to_the_bond_at_the_radius(series, name):
    mol = series[name]
    bonds = element_bonds(mol)
    points, frames = bond_circles(mol.positions, bonds, radius=1.3, n_angles=12)
    assert points.shape == (len(bonds), 12, 3) and frames.shape == (len(bonds), 12, 3, 3)
    for b, (i, j) in enumerate(bonds):
        middle, axis = 0.5 * (mol.positions[i] + mol.positions[j]), mol.positions[j] - mol.positions[i]
        rel = points[b] - middle
        np.testing.assert_allclose(np.linalg.norm(rel, axis=1), 1.3, rtol=1e-12)
        np.testing.assert_allclose(rel @ axis, 0.0, atol=1e-12)
        np.testing.assert_allclose(rel.mean(0), 0.0, atol=1e-12)  # evenly spaced around the circle
        for frame in frames[b]:
            np.testing.assert_allclose(frame @ frame.T, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(frames[b][:, 1], rel / 1.3, atol=1e-12)


@pytest.mark.parametrize("name", ["ethane", "ethene", "ethyne", "cyclohexene", "benzene"])
def test_circles_turn_and_move_with_the_molecule(series, name):
    mol = series[name]
    bonds = element_bonds(mol)
    points, _ = bond_circles(mol.positions, bonds)
    rot = random_rotation(3)
    moved, _ = bond_circles(mol.positions @ rot.T + 1.7, bonds)
    if name == "ethyne":  # linear: the starting direction is arbitrary, the circle as a set is not
        np.testing.assert_allclose(np.sort(np.linalg.norm(moved - moved.mean(1, keepdims=True), axis=-1)),
                                   np.sort(np.linalg.norm(points - points.mean(1, keepdims=True), axis=-1)))
    else:
        np.testing.assert_allclose(moved, points @ rot.T + 1.7, atol=1e-10)


@pytest.mark.parametrize("name", ["ethane", "ethene", "ethyne", "cyclohexane", "benzene"])
def test_bond_numbers_are_invariant_under_rotation_and_translation(energy_model, series, name):
    mol = series[name]
    table = bond_region_potential(LocalChemicalPotential(energy_model, mol))
    depth, steep = table["omega_mean"].mean(), table["gradient_mean"].mean()
    for seed in range(2):
        moved = bond_region_potential(LocalChemicalPotential(energy_model, _moved(mol, seed)))
        assert moved["omega_mean"].mean() == pytest.approx(depth, rel=1e-4, abs=1e-3)
        assert moved["gradient_mean"].mean() == pytest.approx(steep, rel=1e-3, abs=1e-2)
    assert steep > 0


def test_bond_numbers_survive_renumbering_of_the_atoms(energy_model, series):
    """Another atom order moves the circle's starting angle only; with 24 points the mean barely changes."""
    mol = series["cyclohexene"]
    order = np.random.default_rng(0).permutation(mol.n_atoms)
    base = bond_region_potential(LocalChemicalPotential(energy_model, mol))
    again = bond_region_potential(LocalChemicalPotential(energy_model, transformed(mol, order=order)))
    assert len(again) == len(base)
    tolerance = 0.02 * base["omega_mean"].abs().max() + 1e-3
    assert again["omega_mean"].mean() == pytest.approx(base["omega_mean"].mean(), abs=tolerance)
    np.testing.assert_allclose(np.sort(again["length"]), np.sort(base["length"]), atol=1e-9)


def test_table_matches_the_probe_evaluated_directly(energy_model, series):
    mol = series["ethene"]
    lcp = LocalChemicalPotential(energy_model, mol)
    table = bond_region_potential(lcp, radius=1.2, n_angles=8)
    points, _ = bond_circles(mol.positions, element_bonds(mol), radius=1.2, n_angles=8)
    direct = lcp(points.reshape(-1, 3), "C")
    assert table["omega_mean"].iloc[0] == pytest.approx(direct.mean(), rel=1e-6, abs=1e-6)
    assert table["omega_min"].iloc[0] == pytest.approx(direct.min(), rel=1e-6, abs=1e-6)
    assert table["omega_max"].iloc[0] == pytest.approx(direct.max(), rel=1e-6, abs=1e-6)
    assert table["length"].iloc[0] == pytest.approx(np.linalg.norm(np.subtract(*mol.positions[mol.numbers == 6])))
    plain = bond_region_potential(lcp, radius=1.2, n_angles=8, gradient=False)
    assert "gradient_mean" not in plain and np.allclose(plain["omega_mean"], table["omega_mean"])


class _AnalyticField:
    """A stand-in for LocalChemicalPotential with a known field Ω(r) = a·r + c·|r|² (kcal/mol)."""

    def __init__(self, molecule, a, c=0.0):
        self.molecule, self.a, self.c = molecule, np.asarray(a, float), c

    def __call__(self, points, probe="C"):
        points = np.asarray(points, float)
        return points @ self.a + self.c * (points ** 2).sum(1)


def test_gradient_of_a_known_field(series):
    mol = series["benzene"]
    linear = bond_region_potential(_AnalyticField(mol, [3.0, -4.0, 12.0]))
    np.testing.assert_allclose(linear["gradient_mean"], 13.0, rtol=1e-9)
    quadratic = _AnalyticField(mol, [0.0, 0.0, 0.0], c=2.0)  # |∇Ω| = 4 |r|
    table = bond_region_potential(quadratic, radius=0.8, n_angles=16)
    points, _ = bond_circles(mol.positions, element_bonds(mol), radius=0.8, n_angles=16)
    np.testing.assert_allclose(table["gradient_mean"], 4 * np.linalg.norm(points, axis=-1).mean(1), rtol=1e-8)


def test_probe_far_from_every_atom_gives_zero(energy_model, series):
    lcp = LocalChemicalPotential(energy_model, series["ethyne"])
    table = bond_region_potential(lcp, radius=energy_model.cutoff + 3.0)
    assert table["omega_mean"].iloc[0] == 0.0 and table["gradient_mean"].iloc[0] == 0.0


def test_bad_inputs_are_refused(energy_model, series, water):
    with pytest.raises(ValueError, match="no bond"):
        bond_region_potential(LocalChemicalPotential(energy_model, water))
    lcp = LocalChemicalPotential(energy_model, series["ethane"])
    for kwargs in [dict(radius=0.0), dict(radius=np.nan), dict(n_angles=2), dict(n_angles=4.0), dict(step=-0.1)]:
        with pytest.raises(ValueError):
            bond_region_potential(lcp, **kwargs)
    with pytest.raises(ValueError, match="same position"):
        bond_circles(np.zeros((2, 3)), [[0, 1]])
    with pytest.raises(ValueError, match="covalent radius"):
        element_bonds(xatom.Molecule([6, 92], [[0, 0, 0], [1.5, 0, 0]]))
