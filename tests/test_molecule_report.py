"""Notebook 08's analysis: the domain check and predictions with fold spreads."""
import numpy as np
import pytest

import xatom
from physics import small_model, with_fitted_baseline
from xatom.analysis.molecule_report import domain_warnings, per_atom, predictions
from xatom.errors import OutOfDomainWarning

MODELS = {("schnet-energy", 0): with_fitted_baseline(small_model("schnet", "energy", seed=1)),
          ("schnet-energy", 1): with_fitted_baseline(small_model("schnet", "energy", seed=2)),
          ("bp-energy", 0): small_model("bp", "energy"), ("schnet-dipole", 0): small_model("schnet", "dipole"),
          ("bp-dipole", 0): small_model("bp", "dipole")}


def load(name, fold):
    return MODELS[name, fold]


def test_domain_check_names_every_reason():
    assert domain_warnings(xatom.Molecule.from_smiles("CCO")) == []
    big = xatom.Molecule.from_smiles("CCCCCCCCCCC")
    assert any("11 heavy atoms" in r for r in domain_warnings(big))
    sulfur = xatom.Molecule.from_smiles("CS")
    assert any("['S']" in r for r in domain_warnings(sulfur))
    ion = xatom.Molecule.from_smiles("C[NH3+]")
    assert any("net charge +1" in r for r in domain_warnings(ion))


def test_predictions_warn_outside_the_domain_and_report_fold_spread(ethanol):
    with pytest.warns(OutOfDomainWarning, match="heavy atoms"):
        predictions(xatom.Molecule.from_smiles("CCCCCCCCCCC"), load)
    table = predictions(ethanol, load, folds={"schnet-energy": [0, 1]})
    row = table[(table["model"] == "schnet") & (table["property"] == "energy")].iloc[0]
    assert row["folds"] == 2 and row["spread across folds"] > 0
    assert np.isnan(table[table["model"] == "bp"]["spread across folds"]).all()


def test_per_atom_table_has_one_row_per_atom_and_neutral_charges(ethanol):
    table = per_atom(ethanol, load)
    assert len(table) == ethanol.n_atoms
    assert abs(table["q̂ schnet (e)"].sum()) < 1e-5 and abs(table["q̂ bp (e)"].sum()) < 1e-5
