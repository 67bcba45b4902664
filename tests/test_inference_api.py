"""The one prediction entry point, xatom.inference.predict: molecules and data-set rows, one result layout."""
import numpy as np
import pytest
import torch

import xatom
from physics import small_model, with_fitted_baseline
from xatom.errors import OutOfDomainError, OutOfDomainWarning, ShapeError
from xatom.inference import Prediction, evaluate, latent_values, predict
from xatom.tasks import TASKS
from xatom.units import E_ANGSTROM_TO_DEBYE

MODELS = {"schnet-energy": with_fitted_baseline(small_model("schnet", "energy", seed=1)),
          "schnet-dipole": small_model("schnet", "dipole", seed=2),
          "bp-energy": with_fitted_baseline(small_model("bp", "energy", seed=3)),
          "bp-dipole": small_model("bp", "dipole", seed=4)}
ENERGY, DIPOLE = MODELS["schnet-energy"], MODELS["schnet-dipole"]
ROWS = np.array([5, 1000, 77_000, 130_000])


@pytest.mark.parametrize("name", MODELS)
def test_a_molecule_and_its_data_set_row_give_the_same_numbers(name, qm9):
    model = MODELS[name]
    by_row = predict(model, qm9, rows=ROWS)
    by_molecule = predict(model, [qm9.molecule(int(r)) for r in ROWS])
    assert isinstance(by_row, Prediction) and by_row.task == by_molecule.task == TASKS[name.split("-")[1]]
    np.testing.assert_array_equal(by_row.offsets, by_molecule.offsets)
    np.testing.assert_array_equal(by_row.offsets, np.r_[0, np.cumsum(qm9.n_atoms[ROWS])])
    # molecules are centred in float64 before the float32 cast, rows are not: equal to float32 rounding
    np.testing.assert_allclose(by_molecule.values, by_row.values, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(by_molecule.latents, by_row.latents, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(by_row.reference, getattr(qm9, by_row.task.key)[ROWS].astype(np.float32))
    assert by_molecule.reference is None
    assert by_row.domain_notes is None and by_molecule.domain_notes == [[]] * len(ROWS)
    assert (by_row.dipole_vectors is None) == (by_row.task.name == "energy")


@pytest.mark.parametrize("name", MODELS)
def test_per_molecule_latents_explain_the_molecular_prediction(name, molecules):
    model = MODELS[name]
    out = predict(model, molecules)
    assert len(out) == len(molecules) and out.offsets[-1] == out.latents.size
    for k, molecule in enumerate(molecules):
        latent = out.atoms(k)
        assert latent.shape == (molecule.n_atoms,)
        if out.task.name == "energy":  # Σ_i Ê_i = E
            assert latent.sum() == pytest.approx(out.values[k], rel=1e-5, abs=1e-3)
        else:  # neutral charges: Σ_i q̂_i r_i = μ, whatever the origin
            assert abs(latent.sum()) < 1e-5
            mu = (latent[:, None] * (molecule.positions - molecule.positions.mean(0))).sum(0) * E_ANGSTROM_TO_DEBYE
            np.testing.assert_allclose(mu, out.dipole_vectors[k], atol=1e-4)
            assert np.linalg.norm(mu) == pytest.approx(out.values[k], abs=1e-4)
    np.testing.assert_allclose(latent_values(model, molecules[2]), out.atoms(2), rtol=1e-5, atol=1e-6)  # a batch of 1
    assert latent_values(model, molecules[2]).dtype == np.float64


@pytest.mark.parametrize("name", ["schnet-energy", "bp-dipole"])
def test_the_batch_size_changes_nothing_beyond_float32_rounding(name, molecules, qm9):
    model = MODELS[name]
    for source, rows in ((molecules, None), (qm9, np.arange(40, 77))):
        one, some, all_ = (predict(model, source, rows=rows, batch_size=b) for b in (1, 7, 500))
        for got in (one, some):
            np.testing.assert_array_equal(got.offsets, all_.offsets)
            np.testing.assert_allclose(got.values, all_.values, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(got.latents, all_.latents, rtol=1e-5, atol=1e-5)


def test_an_explicit_cpu_device_and_a_device_the_model_is_not_on(ethanol, qm9):
    for device in ("cpu", torch.device("cpu")):
        np.testing.assert_array_equal(predict(ENERGY, ethanol, device=device).values, predict(ENERGY, ethanol).values)
        np.testing.assert_array_equal(predict(ENERGY, qm9, rows=ROWS, device=device).latents,
                                      predict(ENERGY, qm9, rows=ROWS).latents)
    with pytest.raises(ValueError, match="model's weights are on 'cpu'"):
        predict(ENERGY, ethanol, device="meta")


def test_evaluate_is_the_error_of_the_prediction(qm9):
    out = predict(DIPOLE, qm9, rows=ROWS)
    err = out.values - out.reference
    assert evaluate(DIPOLE, qm9, ROWS) == {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err ** 2).mean())),
                                           "n": len(ROWS)}


def test_the_domain_check_runs_for_molecules_through_the_entry_point(ethanol):
    charged = xatom.Molecule.from_smiles("C[NH3+]", name="methylammonium")
    with pytest.warns(OutOfDomainWarning, match=r"methylammonium: net charge \+1 e") as caught:
        out = predict(ENERGY, [ethanol, charged])
    assert len(caught) == 1 and caught[0].filename == __file__  # once per call, at the caller's line
    assert out.domain_notes[0] == [] and "net charge +1 e" in out.domain_notes[1][0]
    assert np.isfinite(out.values).all()  # the numbers still come, with the warning
    with pytest.raises(OutOfDomainError, match="net charge"):
        predict(DIPOLE, charged, strict=True)


def test_misuse_is_a_named_error(ethanol, qm9):
    with pytest.raises(ValueError, match="rows select rows of a data set"):
        predict(ENERGY, ethanol, rows=[0])
    with pytest.raises(ShapeError, match="no molecules"):
        predict(ENERGY, [])
    with pytest.raises(ShapeError, match="no rows"):
        predict(ENERGY, qm9, rows=[])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        predict(ENERGY, ethanol, batch_size=0)
