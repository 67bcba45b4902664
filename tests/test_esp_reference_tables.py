"""Charge sources against a reference ESP, molecule by molecule (xatom.analysis.esp_reference.agreement_table and
friends): known answers on synthetic references whose "DFT" ESP is made of point charges (on and off the nuclei),
then the shipped reference. Fast, offline, no DFT."""
import numpy as np
import pandas as pd
import pytest

from xatom.analysis.esp import electrostatic_potential
from xatom.analysis.esp_reference import (SOURCES, agreement_table, element_agreement, fit_esp_charges,
                                          model_charges, qm9_mulliken_charges, surface_table)
from xatom.analysis.grids import Grid
from xatom.errors import CheckpointMismatchError, ShapeError
from xatom.molecule import Molecule
from xatom.reference import esp as ref

WATER_NUMBERS = np.array([8, 1, 1])
WATER_POSITIONS = np.array([[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]])
WATER_NUCLEAR = np.array([-0.8, 0.4, 0.4])
"""Charges on the nuclei of the "exact" molecule: its reference ESP is theirs, so they are a perfect source."""

LONE_PAIRS = np.array([[0.0, 0.0, 0.0], [0.3, 0.0, 0.35], [-0.3, 0.0, 0.35]])  # O shifted by these (Å)
LONE_PAIR_CHARGES = np.array([0.0, -0.35, -0.35])
"""The "lone-pair" molecule: O at −0.1 e on its nucleus and two −0.35 e charges off it, H +0.4 e: no set of
nuclear charges reproduces this ESP exactly."""


def _molecule(name, esp_of_points):
    points = ref.surface_points(WATER_NUMBERS, WATER_POSITIONS)
    esp = esp_of_points(points)
    grid = Grid(np.zeros(3), np.eye(3), (1, 1, 1))
    return ref.ReferenceMolecule(
        name=name, smiles="O", qm9_index=3, molecule=Molecule(WATER_NUMBERS, WATER_POSITIONS, name=name),
        points=points, esp_kcal=esp, esp_charges_e=fit_esp_charges(points, WATER_POSITIONS, esp),
        mulliken_e=np.array([-0.6, 0.3, 0.3]), dipole_debye=np.zeros(3), qm9_dipole_debye=0.0, grid=grid,
        grid_esp_kcal=np.zeros((1, 1, 1)), grid_density=np.zeros((1, 1, 1)))


def _lone_pair_esp(points):
    sites = np.concatenate([WATER_POSITIONS, WATER_POSITIONS[0] + LONE_PAIRS[1:]])
    charges = np.concatenate([[-0.1, 0.4, 0.4], LONE_PAIR_CHARGES[1:]])
    return electrostatic_potential(points, sites, charges)


@pytest.fixture(scope="module")
def synthetic():
    molecules = {"exact": _molecule("exact", lambda p: electrostatic_potential(p, WATER_POSITIONS, WATER_NUCLEAR)),
                 "lone pairs": _molecule("lone pairs", _lone_pair_esp)}
    return ref.EspReference(meta={}, molecules=molecules)


NUCLEAR = {"exact": WATER_NUCLEAR, "lone pairs": WATER_NUCLEAR}
WEAK = {"exact": 0.5 * WATER_NUCLEAR, "lone pairs": 0.5 * WATER_NUCLEAR}
MULLIKEN = {"exact": np.array([-0.6, 0.3, 0.3]), "lone pairs": np.array([-0.6, 0.3, 0.3])}


# ------------------------------------------------------------------------------------------- agreement_table
def test_table_is_tidy_one_row_per_molecule_source_model_and_fold(synthetic):
    table = agreement_table(synthetic, {("A", 0): NUCLEAR, ("A", 1): WEAK}, MULLIKEN)
    assert len(table) == 2 * 4
    assert list(table.columns) == ["molecule", "source", "model", "fold", "n_atoms", "n_points", "r", "slope",
                                   "rmse_kcal", "sign_agreement"]
    assert set(table["source"]) == set(SOURCES)
    assert str(table["fold"].dtype) == "Int64"
    assert table.loc[table["source"] == "latent", "fold"].tolist() == [0, 1, 0, 1]
    assert table.loc[table["source"] != "latent", "fold"].isna().all()
    assert (table.loc[table["source"] != "latent", "model"] == table.loc[table["source"] != "latent", "source"]).all()
    assert not table.duplicated(["molecule", "source", "model", "fold"]).any()
    assert (table["n_points"] == len(synthetic["exact"].points)).all() and (table["n_atoms"] == 3).all()
    # without latent or Mulliken charges only the ESP-fitted source is left
    assert set(agreement_table(synthetic)["source"]) == {"ESP-fitted"}


def test_a_source_whose_potential_is_the_reference_agrees_perfectly(synthetic):
    table = agreement_table(synthetic, {("A", 0): NUCLEAR}, names=["exact"]).set_index("source")
    for source in ("latent", "ESP-fitted"):  # the fit recovers the charges that made the potential
        row = table.loc[source]
        assert row["r"] == pytest.approx(1.0) and row["slope"] == pytest.approx(1.0)
        assert row["rmse_kcal"] == pytest.approx(0.0, abs=1e-6) and row["sign_agreement"] == 1.0


def test_halved_charges_give_half_the_slope_and_the_same_correlation(synthetic):
    table = agreement_table(synthetic, {("A", 0): NUCLEAR, ("A", 1): WEAK}).set_index(["molecule", "fold"])
    for molecule in synthetic.names:
        full, half = table.loc[(molecule, 0)], table.loc[(molecule, 1)]
        assert half["r"] == pytest.approx(full["r"])
        assert half["slope"] == pytest.approx(0.5 * full["slope"])
        assert half["sign_agreement"] == pytest.approx(full["sign_agreement"])  # signs do not see a scale


def test_esp_fitted_charges_reproduce_their_own_esp_best(synthetic):
    """Least squares with Σq = 0: no other neutral nuclear charges come closer (here: the charges that made the
    nuclear part, Mulliken-like ones, halved ones and random ones), however the reference ESP was made."""
    rng = np.random.default_rng(0)
    random = {}
    for k in range(5):
        q = rng.normal(0, 0.5, 3)
        random[("random", k)] = {name: q - q.mean() for name in synthetic.names}
    table = agreement_table(synthetic, {("A", 0): NUCLEAR, ("A", 1): WEAK, **random}, MULLIKEN)
    for molecule, group in table.groupby("molecule"):
        fitted = group[group["source"] == "ESP-fitted"].iloc[0]
        others = group[group["source"] != "ESP-fitted"]
        if molecule == "exact":  # the nuclear charges are the fit, to round-off
            assert fitted["rmse_kcal"] <= others["rmse_kcal"].min() + 1e-6
        else:
            assert fitted["rmse_kcal"] < others["rmse_kcal"].min()
            assert fitted["rmse_kcal"] > 0.1  # lone pairs are beyond nuclear point charges
        assert fitted["r"] >= others["r"].max() - 1e-9


def test_table_refuses_missing_molecules_and_wrong_charge_counts(synthetic):
    with pytest.raises(KeyError, match="lone pairs"):
        agreement_table(synthetic, {("A", 0): {"exact": WATER_NUCLEAR}})
    with pytest.raises(ShapeError, match="need 3 charges"):
        agreement_table(synthetic, mulliken={"exact": [0.1, -0.1], "lone pairs": WATER_NUCLEAR})


# --------------------------------------------------------------------------------------------- surface_table
def test_surface_table_holds_the_reference_and_every_source_point_by_point(synthetic):
    table = surface_table(synthetic, {"nuclear": NUCLEAR, "weak": WEAK})
    m = synthetic["lone pairs"]
    part = table[table["molecule"] == "lone pairs"]
    assert len(table) == sum(len(synthetic[n].points) for n in synthetic.names)
    np.testing.assert_array_equal(part["point"], np.arange(len(m.points)))
    np.testing.assert_allclose(part[["x", "y", "z"]].to_numpy(), m.points)
    np.testing.assert_allclose(part["dft"], m.esp_kcal)
    np.testing.assert_allclose(part["nuclear"], electrostatic_potential(m.points, WATER_POSITIONS, WATER_NUCLEAR))
    np.testing.assert_allclose(part["weak"], 0.5 * part["nuclear"])
    exact = table[table["molecule"] == "exact"]
    np.testing.assert_allclose(exact["nuclear"], exact["dft"], atol=1e-9)


# ----------------------------------------------------------------------------------------- element_agreement
def test_element_agreement_of_charges_with_themselves_and_halved(synthetic):
    fitted = {n: synthetic[n].esp_charges_e for n in synthetic.names}
    same = element_agreement(synthetic, fitted, fitted)
    assert list(same.index) == ["H", "O", "all"]
    assert same.loc["H", "n"] == 4 and same.loc["O", "n"] == 2 and same.loc["all", "n"] == 6
    assert (same["molecules"] == 2).all()
    assert same.loc["all", "r"] == pytest.approx(1.0) and same.loc["all", "slope"] == pytest.approx(1.0)
    assert (same["mae"] == 0).all() and (same["bias"] == 0).all()
    assert np.isnan(same.loc["O", "r"])  # two atoms: no correlation to speak of
    half = element_agreement(synthetic, {n: 0.5 * q for n, q in fitted.items()}, fitted)
    assert half.loc["all", "r"] == pytest.approx(1.0) and half.loc["all", "slope"] == pytest.approx(0.5)
    shifted = element_agreement(synthetic, {n: q + 0.1 for n, q in fitted.items()}, fitted)
    assert shifted.loc["all", "bias"] == pytest.approx(0.1) and shifted.loc["all", "mae"] == pytest.approx(0.1)
    assert shifted.loc["all", "r"] == pytest.approx(1.0)  # r and slope blind to an offset


# ----------------------------------------------------------------------------------------------- model inputs
def test_model_charges_are_the_latent_charges_of_each_molecule(synthetic, schnet_dipole, schnet_energy):
    from xatom.inference import latent_values

    charges = model_charges(schnet_dipole, synthetic)
    assert list(charges) == synthetic.names
    for name, q in charges.items():
        assert q.shape == (3,) and q.dtype == np.float64 and abs(q.sum()) < 1e-5
        np.testing.assert_allclose(q, latent_values(schnet_dipole, synthetic[name].molecule), atol=1e-5)
    with pytest.raises(CheckpointMismatchError, match="dipole model"):
        model_charges(schnet_energy, synthetic)


# ----------------------------------------------------------------------------------------------- shipped file
@pytest.fixture(scope="module")
def reference():
    return ref.load_esp_reference()


def test_on_the_shipped_reference_esp_fitted_charges_beat_every_other_source(reference, qm9, schnet_dipole):
    """QM9's Mulliken charges and an untrained dipole model's latent charges, against the ESP-fitted charges: the
    fit wins on every molecule, and reproduces the DFT ESP to < 2.5 kcal/mol RMSE."""
    mulliken = qm9_mulliken_charges(reference, qm9)
    for name in reference.names:
        np.testing.assert_array_equal(mulliken[name].shape, reference[name].mulliken_e.shape)
        assert np.abs(mulliken[name] - reference[name].mulliken_e).max() < 0.2  # QM9's against PySCF's
    untrained = model_charges(schnet_dipole, reference)
    table = agreement_table(reference, {("untrained SchNet", 0): untrained}, mulliken)
    assert len(table) == 3 * len(reference.names)
    best = table.loc[table.groupby("molecule")["rmse_kcal"].idxmin(), "source"]
    assert (best == "ESP-fitted").all()
    fitted = table[table["source"] == "ESP-fitted"]
    assert (fitted["rmse_kcal"] < 2.5).all() and fitted["r"].median() > 0.98
    # propane's ESP is weak (|µ| 0.06 D) and mostly beyond atom-centred charges: r 0.68 even for the best ones
    assert (fitted.loc[fitted["molecule"] != "propane", "r"] > 0.9).all()
    assert fitted.loc[fitted["molecule"] == "propane", "r"].item() > 0.5
    # the table's numbers are those of the point-by-point ESP
    points = surface_table(reference, {"Mulliken": mulliken}, names=["pyridine"])
    row = table[(table["molecule"] == "pyridine") & (table["source"] == "Mulliken")].iloc[0]
    assert row["rmse_kcal"] == pytest.approx(np.sqrt(((points["Mulliken"] - points["dft"]) ** 2).mean()))
    assert row["r"] == pytest.approx(np.corrcoef(points["Mulliken"], points["dft"])[0, 1])
    assert isinstance(table, pd.DataFrame)
