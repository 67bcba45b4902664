"""--device reaches every model and batch: XATOM_DEVICE through xatom.device.default_device into the zoo, and
inference, probe, ESP charges and QM9 predictions computing on the device of the model's weights."""
import copy

import numpy as np
import pytest
import torch

from physics import small_model, with_fitted_baseline
from xatom import zoo
from xatom.analysis.esp import latent_charges
from xatom.analysis.probe import LocalChemicalPotential
from xatom.analysis.partitioning import molecule_set
from xatom.device import DEVICE_VARIABLE, default_device, model_device, resolve_device
from xatom.errors import DeviceUnavailableError
from xatom.inference import predict

CPU = torch.device("cpu")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message where CUDA is missing")


@pytest.mark.parametrize("value", [None, "", "cpu"])
def test_default_device_is_the_cpu_unless_xatom_device_says_otherwise(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(DEVICE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(DEVICE_VARIABLE, value)
    assert default_device() == CPU


def test_an_unknown_device_name_is_a_named_error(monkeypatch):
    monkeypatch.setenv(DEVICE_VARIABLE, "gpu0")
    with pytest.raises(DeviceUnavailableError, match="unknown torch device 'gpu0'"):
        default_device()


@no_cuda
def test_cuda_without_cuda_is_a_named_error_not_an_assertion(monkeypatch):
    monkeypatch.setenv(DEVICE_VARIABLE, "cuda")
    with pytest.raises(DeviceUnavailableError, match="CUDA is not available"):
        zoo.load("bp-dipole")
    with pytest.raises(DeviceUnavailableError, match="'cuda:0'"):
        resolve_device("cuda:0")


def test_the_zoo_puts_models_where_xatom_device_or_the_caller_says(monkeypatch):
    monkeypatch.setenv(DEVICE_VARIABLE, "cpu")
    assert model_device(zoo.load("bp-dipole")) == CPU
    assert model_device(zoo.load("bp-dipole", device=CPU)) == CPU


def test_predictions_probe_and_charges_on_an_explicit_cpu_device(ethanol):
    energy = with_fitted_baseline(small_model("schnet", "energy", seed=1))
    dipole = small_model("schnet", "dipole", seed=2)
    on_cpu = copy.deepcopy(energy).to(CPU)
    assert model_device(on_cpu) == CPU
    np.testing.assert_array_equal(predict(on_cpu, ethanol, device="cpu").values, predict(energy, ethanol).values)
    with pytest.raises(ValueError, match="the model's weights are on 'cpu'"):
        predict(on_cpu, ethanol, device="meta")
    points = ethanol.positions[:4] + 1.0
    np.testing.assert_array_equal(LocalChemicalPotential(on_cpu, ethanol)(points),
                                  LocalChemicalPotential(energy, ethanol)(points))
    np.testing.assert_array_equal(latent_charges(copy.deepcopy(dipole).to(CPU), ethanol), latent_charges(dipole, ethanol))


@needs_cuda
@pytest.mark.parametrize("kind", ["schnet", "bp"])
def test_every_prediction_path_runs_on_the_gpu_and_agrees_with_the_cpu(kind, molecules):
    cuda = torch.device("cuda")
    for target in ("energy", "dipole"):
        model = small_model(kind, target, seed=5)
        if target == "energy":
            model = with_fitted_baseline(model)
        gpu = copy.deepcopy(model).to(cuda)
        assert model_device(gpu).type == "cuda"
        for source in (molecules, molecule_set(molecules)):  # molecules and data-set rows
            want, got = predict(model, source), predict(gpu, source)
            np.testing.assert_allclose(got.values, want.values, rtol=1e-4, atol=1e-3)
            np.testing.assert_allclose(got.latents, want.latents, rtol=1e-4, atol=1e-3)
        if kind == "schnet" and target == "energy":
            points = molecules[2].positions + 1.2
            np.testing.assert_allclose(LocalChemicalPotential(gpu, molecules[2])(points),
                                       LocalChemicalPotential(model, molecules[2])(points), rtol=1e-4, atol=1e-3)
        if target == "dipole":
            np.testing.assert_allclose(latent_charges(gpu, molecules[2]), latent_charges(model, molecules[2]),
                                       atol=1e-5)


@needs_cuda
def test_xatom_device_cuda_reaches_the_zoo(monkeypatch, ethanol):
    monkeypatch.setenv(DEVICE_VARIABLE, "cuda")
    model = zoo.load("schnet-energy-elementref")
    assert model_device(model).type == "cuda"
    cpu = zoo.load("schnet-energy-elementref", device="cpu")
    assert float(predict(model, ethanol).values[0]) == pytest.approx(float(predict(cpu, ethanol).values[0]), abs=1e-2)
