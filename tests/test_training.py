"""Training: a small SchNet overfits a few QM9 molecules, runs resume exactly, checkpoints refuse mismatches."""
import csv
import json

import numpy as np
import pytest
import torch

from physics import SMALL_SCHNET, model_function, small_model
from xatom.batch import QM9Batches
from xatom.checkpoint import load_model, read_checkpoint, save_checkpoint
from xatom.data import load_split
from xatom.errors import CheckpointMismatchError
from xatom.training import TrainingConfig, prepare_model, train


@pytest.fixture(scope="module")
def train_rows(qm9):
    return qm9.rows_of(load_split(0).train[:200])


def test_small_schnet_overfits_200_molecules(qm9, train_rows):
    cfg = TrainingConfig(architecture=dict(SMALL_SCHNET), seed=0)
    model = prepare_model(cfg, qm9, train_rows)  # fits the per-element baseline: only the residual is left
    batch = next(QM9Batches(qm9, train_rows, 200, model.cutoff, targets=("energy_kcal",), shuffle=False).epoch(0))
    target = batch.targets["energy_kcal"]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    losses = []
    for _ in range(120):
        loss = (model(batch)["energy_kcal"] - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert np.isfinite(losses).all()
    assert min(losses[-10:]) <= losses[0] / 10, f"MSE {losses[0]:.1f} → {min(losses[-10:]):.1f} (kcal/mol)²"


def test_per_element_baseline_alone_explains_most_of_the_atomization_energy(qm9, train_rows):
    cfg = TrainingConfig(architecture=dict(SMALL_SCHNET), energy_partition="element")
    model = prepare_model(cfg, qm9, train_rows)
    e = qm9.energy_kcal[train_rows]
    starts, ends = qm9.offsets[train_rows], qm9.offsets[train_rows + 1]
    base = np.array([float(model.head.baseline_kcal[torch.as_tensor(qm9.numbers[a:b].astype(np.int64))].sum())
                     for a, b in zip(starts, ends)])
    assert np.std(e - base) < 0.2 * np.std(e)
    # baseline atomic energies are negative (binding); a carbon binds more strongly than a hydrogen
    b = model.head.baseline_kcal
    assert float(b[6]) < float(b[1]) < 0


def test_papers_partition_starts_every_atom_at_the_mean_energy_per_atom(qm9, train_rows):
    model = prepare_model(TrainingConfig(architecture=dict(SMALL_SCHNET), energy_partition="atom"), qm9, train_rows)
    per_atom = qm9.energy_kcal[train_rows] / np.diff(qm9.offsets)[train_rows]
    assert float(model.head.baseline_kcal[1]) == float(model.head.baseline_kcal[9])
    assert float(model.head.baseline_kcal[6]) == pytest.approx(per_atom.mean(), rel=1e-5)
    assert float(model.head.scale_kcal) == pytest.approx(per_atom.std(), rel=1e-4)


# ------------------------------------------------------------------------------------------ resume
def _resume_cfg():
    return TrainingConfig(n_train=200, batch_size=50, max_epochs=2, lr=1e-3, lr_patience=0, seed=3,
                          architecture=dict(SMALL_SCHNET))


def _state(run_dir):
    last = read_checkpoint(run_dir / "last.pt")
    best = read_checkpoint(run_dir / "best.pt")
    with open(run_dir / "log.csv") as f:
        log = list(csv.DictReader(f))
    return last, best, log


def _assert_same_tensors(a, b, what):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), what
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), what
        for k in a:
            _assert_same_tensors(a[k], b[k], f"{what}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), what
        for k, (x, y) in enumerate(zip(a, b)):
            _assert_same_tensors(x, y, f"{what}[{k}]")
    else:
        assert a == b, f"{what}: {a!r} != {b!r}"


def test_interrupted_and_resumed_run_equals_an_uninterrupted_run_bitwise(qm9, tmp_path):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    r1 = train(straight, _resume_cfg(), data=qm9, progress=False)
    assert r1["epoch"] == 2
    # 4 steps per epoch: stop inside epoch 0, then inside epoch 1 (after crossing a validation), then finish
    parts = [train(interrupted, _resume_cfg(), data=qm9, max_steps=3, progress=False),
             train(interrupted, _resume_cfg(), data=qm9, max_steps=3, progress=False),
             train(interrupted, _resume_cfg(), data=qm9, progress=False)]
    assert [p["epoch"] for p in parts] == [0, 1, 2]
    last_a, best_a, log_a = _state(straight)
    last_b, best_b, log_b = _state(interrupted)
    _assert_same_tensors(last_a["state_dict"], last_b["state_dict"], "weights")
    _assert_same_tensors(best_a["state_dict"], best_b["state_dict"], "best weights")
    for key in ("optimizer", "scheduler", "epoch", "step", "best", "since_best"):
        _assert_same_tensors(last_a["train_state"][key], last_b["train_state"][key], key)
    assert len(log_a) == len(log_b) == 2
    for ra, rb in zip(log_a, log_b):
        for col in ("epoch", "lr", "val_mae", "val_rmse"):
            assert ra[col] == rb[col], col
    assert r1["best_val_mae"] == parts[-1]["best_val_mae"]


def test_resuming_with_another_configuration_is_refused(qm9, tmp_path):
    cfg = _resume_cfg()
    (tmp_path / "config.json").write_text(json.dumps(cfg.__dict__))
    other = TrainingConfig(**{**cfg.__dict__, "lr": 5e-3})
    with pytest.raises(CheckpointMismatchError, match="lr"):
        train(tmp_path, other, data=qm9, progress=False)


# ------------------------------------------------------------------------------------------ checkpoints
SPLIT = "0123456789abcdef"


@pytest.fixture
def schnet_checkpoint(tmp_path):
    model = small_model("schnet", "energy", seed=5)
    model.head.baseline_kcal[6] = -123.0
    path = tmp_path / "schnet.pt"
    save_checkpoint(path, model, SPLIT, fold=2, metrics={"val_mae": 1.5})
    return path, model


def test_checkpoint_round_trip_gives_the_same_predictions(schnet_checkpoint, ethanol, water):
    path, model = schnet_checkpoint
    loaded = load_model(path, model="schnet", target="energy", split_sha256=SPLIT)
    a = model_function(model)([ethanol, water])
    b = model_function(loaded)([ethanol, water])
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert loaded.checkpoint_metrics == {"val_mae": 1.5}
    assert loaded.split_info == {"sha256": SPLIT, "fold": 2}
    assert not loaded.training


@pytest.mark.parametrize("ask", [dict(model="bp"), dict(target="dipole"), dict(split_sha256="fedcba9876543210")])
def test_loading_a_checkpoint_as_something_else_raises(schnet_checkpoint, ask):
    path, _ = schnet_checkpoint
    with pytest.raises(CheckpointMismatchError, match=list(ask.values())[0]):
        load_model(path, **ask)


def test_bp_checkpoint_round_trip_and_refused_as_schnet(tmp_path, glycine):
    model = small_model("bp", "dipole", seed=1)
    model.representation.feature_std.fill_(2.0)
    path = tmp_path / "bp.pt"
    save_checkpoint(path, model, SPLIT, fold=0)
    loaded = load_model(path, model="bp", target="dipole")
    for key, value in model_function(model)([glycine]).items():
        assert torch.equal(value, model_function(loaded)([glycine])[key]), key
    with pytest.raises(CheckpointMismatchError):
        load_model(path, model="schnet")


def test_weights_that_do_not_fit_the_configuration_raise(schnet_checkpoint, tmp_path):
    path, _ = schnet_checkpoint
    payload = torch.load(path, weights_only=True)
    payload["config"]["architecture"]["n_features"] = 64
    bad = tmp_path / "bad.pt"
    torch.save(payload, bad)
    with pytest.raises(CheckpointMismatchError, match="do not fit"):
        load_model(bad)


def test_a_torch_file_that_is_not_an_xatom_checkpoint_raises(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, path)
    with pytest.raises(CheckpointMismatchError, match="not an xatom checkpoint"):
        load_model(path)
    torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointMismatchError):
        load_model(path)


def test_a_file_that_is_not_a_torch_file_raises(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a checkpoint\n")
    with pytest.raises(Exception):
        load_model(path)


def test_a_file_that_is_not_a_torch_file_raises_checkpoint_mismatch(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a checkpoint\n")
    with pytest.raises(CheckpointMismatchError):
        load_model(path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_checkpoint_with_non_finite_weights_is_refused_naming_the_parameter(schnet_checkpoint, tmp_path, bad):
    from xatom.errors import CorruptCheckpointError

    path, model = schnet_checkpoint
    payload = torch.load(path, weights_only=True)
    name = next(k for k, v in payload["state_dict"].items() if v.is_floating_point() and v.numel() > 3)
    payload["state_dict"][name].view(-1)[[0, 2]] = bad
    broken = tmp_path / "broken.pt"
    torch.save(payload, broken)
    with pytest.raises(CorruptCheckpointError, match=rf"broken\.pt.*{name}.*2 of"):
        load_model(broken)


def test_missing_or_folder_checkpoint_is_refused_by_name(tmp_path):
    from xatom.errors import MissingFileError

    with pytest.raises(MissingFileError, match="nowhere.pt.*does not exist"):
        load_model(tmp_path / "nowhere.pt")
    with pytest.raises(MissingFileError, match="is a folder"):
        read_checkpoint(tmp_path)
    (tmp_path / "noise.pt").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CheckpointMismatchError, match="noise.pt"):
        load_model(tmp_path / "noise.pt")


class _Killed(BaseException):
    """Stands for a kill -9: nothing after it runs, nothing catches it."""


def test_a_kill_between_the_log_row_and_the_checkpoint_leaves_no_duplicate_epoch(qm9, tmp_path, monkeypatch):
    import xatom.training

    straight, killed = tmp_path / "straight", tmp_path / "killed"
    train(straight, _resume_cfg(), data=qm9, progress=False)
    train(killed, _resume_cfg(), data=qm9, max_steps=3, progress=False)  # last.pt inside epoch 0

    def dies_before_the_epoch_1_checkpoint(path, model, split, fold, metrics=None, train_state=None):
        if train_state is not None and train_state["epoch"] == 1:
            raise _Killed
        save_checkpoint(path, model, split, fold, metrics, train_state)

    monkeypatch.setattr(xatom.training, "save_checkpoint", dies_before_the_epoch_1_checkpoint)
    with pytest.raises(_Killed):
        train(killed, _resume_cfg(), data=qm9, progress=False)
    monkeypatch.undo()
    assert [r["epoch"] for r in _state(killed)[2]] == ["1"]  # the row was written, last.pt still says epoch 0
    assert read_checkpoint(killed / "last.pt")["train_state"]["epoch"] == 0
    assert train(killed, _resume_cfg(), data=qm9, progress=False)["epoch"] == 2
    last_a, _, log_a = _state(straight)
    last_b, _, log_b = _state(killed)
    assert [r["epoch"] for r in log_b] == ["1", "2"]
    for ra, rb in zip(log_a, log_b):
        for col in ("epoch", "lr", "train_mae", "val_mae", "val_rmse"):
            assert ra[col] == rb[col], col
    _assert_same_tensors(last_a["state_dict"], last_b["state_dict"], "weights")  # resumed with the same next batch


def test_export_counts_the_checkpoint_epochs_not_duplicate_log_rows(qm9, tmp_path, monkeypatch):
    from xatom import zoo

    run = tmp_path / "run"
    train(run, _resume_cfg(), data=qm9, progress=False)
    with open(run / "log.csv") as f:
        rows = f.read().splitlines()
    (run / "log.csv").write_text("\n".join(rows[:2] + rows[1:]) + "\n")  # epoch 1 twice, as an old resume left it
    monkeypatch.setattr(zoo, "MODELS_DIR", tmp_path / "models")
    dest = zoo.export_run(run, "schnet-energy-fold0", evaluate_test=False)
    assert json.loads((dest / "metrics.json").read_text())["epochs"] == 2
    with open(dest / "log.csv") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["1", "2"]
    assert "paused" not in (dest / "command.txt").read_text()  # 2 of max_epochs 2: finished
