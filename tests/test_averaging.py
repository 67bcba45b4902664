"""Weight averaging of a run's last epochs: the mean of parameters, buffers kept, and shipping it."""
import json

import pytest
import torch

from physics import SMALL_SCHNET, small_model
from xatom import zoo
from xatom.checkpoint import average_checkpoints, load_model, read_checkpoint, save_checkpoint
from xatom.errors import CheckpointMismatchError
from xatom.training import TrainingConfig, average_run, train

SPLIT = "0123456789abcdef"


def _saved(tmp_path, name, model):
    path = tmp_path / f"{name}.pt"
    save_checkpoint(path, model, SPLIT, fold=0)
    return path


def test_average_is_the_mean_of_the_parameters_and_keeps_the_last_buffers(tmp_path):
    a, b = small_model("schnet", "dipole", seed=1), small_model("schnet", "dipole", seed=2)
    b.head.sign.fill_(-1.0)
    mean = average_checkpoints([_saved(tmp_path, "a", a), _saved(tmp_path, "b", b)])
    for (name, pa), pb, pm in zip(a.named_parameters(), b.parameters(), mean.parameters()):
        torch.testing.assert_close(pm, (pa + pb) / 2, msg=name)
    assert float(mean.head.sign) == -1.0  # a ±1 buffer is not averaged to 0


def test_average_of_one_checkpoint_is_that_model(tmp_path, ethanol):
    from xatom.inference import predict

    model = small_model("schnet", "energy", seed=4)
    path = _saved(tmp_path, "only", model)
    same = average_checkpoints([path, path, path])
    torch.testing.assert_close(predict(same, ethanol).values, predict(model, ethanol).values)


def test_averaging_different_models_or_nothing_is_refused(tmp_path):
    energy = _saved(tmp_path, "energy", small_model("schnet", "energy"))
    wider = _saved(tmp_path, "wider", small_model("schnet", "energy", n_features=48, n_filters=48))
    with pytest.raises(CheckpointMismatchError, match="config"):
        average_checkpoints([energy, wider])
    with pytest.raises(ValueError, match="no checkpoints"):
        average_checkpoints([])


def test_epoch_weights_are_kept_averaged_and_shipped(qm9, tmp_path, monkeypatch):
    cfg = TrainingConfig(n_train=200, batch_size=50, max_epochs=3, lr=1e-3, seed=3, architecture=dict(SMALL_SCHNET))
    run = tmp_path / "run"
    train(run, cfg, data=qm9, progress=False, keep_epoch_weights=True)
    files = sorted(p.name for p in (run / "epochs").glob("*.pt"))
    assert files == ["epoch001.pt", "epoch002.pt", "epoch003.pt"]
    last = read_checkpoint(run / "last.pt")["state_dict"]
    for name, value in read_checkpoint(run / "epochs" / "epoch003.pt")["state_dict"].items():
        assert torch.equal(value, last[name]), name
    with pytest.raises(ValueError, match="holds 3 epoch checkpoints, 4 asked"):
        average_run(run, last=4)

    with pytest.raises(ValueError, match="at least 1"):
        average_run(run, last=0)

    result = average_run(run, last=2)
    assert result["averaged_epochs"] == [2, 3]
    assert result["val_mae"] == pytest.approx(read_checkpoint(run / "averaged.pt")["metrics"]["val_mae"])
    assert result["best_pt_val_mae"] == read_checkpoint(run / "best.pt")["metrics"]["val_mae"]
    monkeypatch.setattr(zoo, "MODELS_DIR", tmp_path / "models")
    with pytest.raises(ValueError, match="best.pt' or 'averaged.pt"):
        zoo.export_run(run, "schnet-energy-fold0", evaluate_test=False, weights="last.pt")
    dest = zoo.export_run(run, "schnet-energy-fold0", evaluate_test=False, weights="averaged.pt")
    metrics = json.loads((dest / "metrics.json").read_text())
    assert metrics["averaged_epochs"] == [2, 3] and metrics["val_mae"] == pytest.approx(result["val_mae"])
    assert "best_epoch" not in metrics  # the shipped weights are no single epoch
    assert zoo.available().set_index("name").loc["schnet-energy", "weights"] == "mean of epochs 2–3"
    command = (dest / "command.txt").read_text().splitlines()
    assert command[0].endswith("--max-epochs 3 --architecture '" + json.dumps(dict(SMALL_SCHNET))
                               + "' --run-dir runs/schnet-energy-fold0 --keep-epoch-weights")
    assert command[1:] == ["xatom average runs/schnet-energy-fold0 --last 2"]  # finished: no "paused" remark
    shipped = load_model(dest / "model.pt")
    averaged = average_checkpoints([run / "epochs" / "epoch002.pt", run / "epochs" / "epoch003.pt"])
    for p, q in zip(shipped.parameters(), averaged.parameters()):
        torch.testing.assert_close(p, q)


def test_averaging_refuses_epochs_with_gaps(qm9, tmp_path):
    cfg = TrainingConfig(n_train=100, batch_size=50, max_epochs=3, lr=1e-3, seed=3, architecture=dict(SMALL_SCHNET))
    run = tmp_path / "run"
    train(run, cfg, data=qm9, progress=False, keep_epoch_weights=True)
    (run / "epochs" / "epoch002.pt").unlink()  # as after a resume without --keep-epoch-weights
    with pytest.raises(ValueError, match=r"epochs \[1, 3\]"):
        average_run(run, last=2)
    assert average_run(run, last=1)["averaged_epochs"] == [3]


def test_checkpoints_of_the_older_layout_average_like_todays(tmp_path):
    """Resume checkpoints written before SchNet held its atom-wise network name it ``readout.*``."""
    a, b = small_model("schnet", "energy", seed=1), small_model("schnet", "energy", seed=2)
    old = _saved(tmp_path, "old", a)
    payload = torch.load(old, weights_only=False)
    payload["state_dict"] = {k.replace("representation.readout.", "readout.", 1): v
                             for k, v in payload["state_dict"].items()}
    assert any(k.startswith("readout.") for k in payload["state_dict"])
    torch.save(payload, old)
    mean = average_checkpoints([old, _saved(tmp_path, "new", b)])
    for (name, pa), pb, pm in zip(a.named_parameters(), b.parameters(), mean.parameters()):
        torch.testing.assert_close(pm, (pa + pb) / 2, msg=name)
