"""The energy partition is recorded in configuration and checkpoint, old runs keep theirs, names follow one rule."""
import json

import pytest
import torch

from xatom import zoo
from xatom.checkpoint import load_model, save_checkpoint
from xatom.models import AtomisticModel, model_config
from xatom.training import TrainingConfig

SMALL = {"n_features": 8, "n_filters": 8, "n_interactions": 1, "n_rbf": 10, "readout_hidden": [4]}


@pytest.mark.parametrize("partition", ["atom", "element"])
def test_checkpoint_records_the_partition(tmp_path, partition):
    model = AtomisticModel(model_config("schnet", "energy", energy_partition=partition, **SMALL))
    model.head.baseline_kcal.fill_(-3.0)
    save_checkpoint(tmp_path / "m.pt", model, "sha", 0)
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.energy_partition == partition == loaded.head.partition
    torch.testing.assert_close(loaded.head.baseline_kcal, model.head.baseline_kcal)


def test_configurations_from_before_the_option_are_per_element():
    legacy = model_config("schnet", "energy", **SMALL)
    legacy.pop("energy_partition")
    assert AtomisticModel(legacy).energy_partition == "element"
    assert TrainingConfig.from_dict({"model": "bp", "target": "energy"}).energy_partition == "element"
    # dipole runs have no partition, whatever the stored or default value: resuming them compares equal
    assert TrainingConfig.from_dict({"model": "schnet", "target": "dipole"}) == TrainingConfig(target="dipole")
    assert TrainingConfig(target="dipole").energy_partition is None
    assert "energy_partition" not in model_config("schnet", "dipole", **SMALL)


def test_new_energy_runs_use_the_papers_partition():
    assert TrainingConfig().energy_partition == "atom"
    assert TrainingConfig().model_config()["energy_partition"] == "atom"


def test_model_names_follow_one_rule():
    assert zoo.model_name("schnet", "energy", "atom") == "schnet-energy"
    assert zoo.model_name("bp", "energy", "element") == "bp-energy-elementref"
    assert zoo.model_name("schnet", "dipole", None) == "schnet-dipole"
    assert zoo.model_name("schnet", "formation_energy", None) == "schnet-crystals"


def test_zoo_refuses_a_name_that_contradicts_the_partition(tmp_path, monkeypatch):
    model = AtomisticModel(model_config("schnet", "energy", energy_partition="atom", **SMALL))
    (tmp_path / "schnet-energy-elementref-fold0").mkdir()
    save_checkpoint(tmp_path / "schnet-energy-elementref-fold0" / "model.pt", model, "sha", 0)
    monkeypatch.setattr(zoo, "MODELS_DIR", tmp_path)
    with pytest.raises(Exception, match="'atom' partition, but the name 'schnet-energy-elementref' says per-element"):
        zoo.load("schnet-energy-elementref")


def test_train_cli_records_the_partition(tmp_path):
    from xatom.cli import main

    run = tmp_path / "run"
    main(["train", "--model", "schnet", "--target", "energy", "--energy-partition", "element", "--run-dir", str(run),
          "--n-train", "20", "--batch-size", "10", "--max-epochs", "1", "--max-minutes", "0.001",
          "--architecture", json.dumps(SMALL), "--threads", "1"])
    assert json.loads((run / "config.json").read_text())["energy_partition"] == "element"
