"""Training recipes: warm-up + cosine decay over a fixed budget, and an exponential moving average of the weights;
both resume exactly."""
import math

import pytest
import torch

from physics import SMALL_SCHNET, small_model
from xatom.checkpoint import read_checkpoint
from xatom.errors import CheckpointMismatchError
from xatom.training import TrainingConfig, WeightAverage, make_scheduler, set_budget, train


def _lrs(cfg, steps_per_epoch):
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=cfg.lr)
    sched = make_scheduler(cfg, opt, steps_per_epoch)
    lrs = []
    for _ in range(cfg.max_epochs * steps_per_epoch):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_cosine_schedule_warms_up_then_decays_to_the_floor_at_the_budget():
    cfg = TrainingConfig(lr=1e-3, min_lr=1e-5, max_epochs=10, warmup_epochs=1, lr_schedule="cosine")
    lrs = _lrs(cfg, 20)
    assert lrs[0] == pytest.approx(1e-3 / 20) and lrs[19] == pytest.approx(1e-3)  # linear warm-up over 20 steps
    assert all(a >= b for a, b in zip(lrs[19:], lrs[20:]))  # then never increases
    middle = 20 + (200 - 20) // 2
    assert lrs[middle] == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5, rel=1e-6)  # half way: the mean of the ends
    assert lrs[-1] == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + math.cos(math.pi * 179 / 180)), rel=1e-9)


def test_a_held_schedule_keeps_lr_then_decays_over_the_last_epochs_only():
    cfg = TrainingConfig(lr=1e-3, min_lr=1e-5, max_epochs=10, decay_epochs=4, lr_schedule="cosine")
    lrs = _lrs(cfg, 20)
    assert set(lrs[:120]) == {1e-3}  # six epochs held at exactly lr
    assert lrs[120 + 40] == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5, rel=1e-6)  # half way through the decay
    assert all(a > b for a, b in zip(lrs[120:], lrs[121:]))


def test_a_step_schedule_placed_at_a_step_equals_one_stepped_there():
    cfg = TrainingConfig(lr=1e-3, min_lr=1e-5, max_epochs=5, warmup_epochs=1, decay_epochs=3, lr_schedule="cosine")
    stepped = _lrs(cfg, 10)
    for done in (3, 10, 27, 49):
        opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.5)  # a resumed optimizer's own lr
        make_scheduler(cfg, opt, 10, steps_done=done)
        assert opt.param_groups[0]["lr"] == stepped[done]


def test_bad_recipes_are_named():
    with pytest.raises(ValueError, match="unknown lr_schedule 'linear'"):
        TrainingConfig(lr_schedule="linear")
    with pytest.raises(ValueError, match="ema_decay must lie strictly between 0 and 1"):
        TrainingConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        TrainingConfig(max_epochs=2, warmup_epochs=2)
    with pytest.raises(ValueError, match="decay_epochs must lie in"):
        TrainingConfig(max_epochs=4, warmup_epochs=1, decay_epochs=3.5, lr_schedule="cosine")


def test_weight_average_is_the_exponential_moving_average():
    model = small_model("schnet", "energy")
    ema = WeightAverage(model, decay=0.9)
    p0 = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    for avg, start in zip(ema.model.parameters(), p0):
        torch.testing.assert_close(avg, start + 0.1)  # 0.9·θ0 + 0.1·(θ0 + 1)
    assert not any(p.requires_grad for p in ema.model.parameters())


def _cfg(**kw):
    return TrainingConfig(n_train=200, batch_size=50, max_epochs=2, lr=1e-3, seed=3, architecture=dict(SMALL_SCHNET),
                          lr_schedule="cosine", warmup_epochs=0.5, ema_decay=0.9, **kw)


def test_cosine_ema_run_resumes_bitwise_and_ships_the_average(qm9, tmp_path):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    r1 = train(straight, _cfg(), data=qm9, progress=False)
    for _ in range(2):
        train(interrupted, _cfg(), data=qm9, max_steps=3, progress=False)
    r2 = train(interrupted, _cfg(), data=qm9, progress=False)
    assert r1 == r2 and r1["stopped"] == "max epochs"
    a, b = read_checkpoint(straight / "last.pt"), read_checkpoint(interrupted / "last.pt")
    for name in a["state_dict"]:
        assert torch.equal(a["state_dict"][name], b["state_dict"][name]), name
    for name in a["train_state"]["ema"]:
        assert torch.equal(a["train_state"]["ema"][name], b["train_state"]["ema"][name]), name
    # best.pt holds the average, not the raw weights
    best = read_checkpoint(straight / "best.pt")["state_dict"]
    raw = a["state_dict"]
    assert any(not torch.equal(best[n], raw[n]) for n in raw if raw[n].is_floating_point())
    assert a["train_state"]["scheduler"]["last_epoch"] == 8  # 2 epochs of 4 steps, stepped after every step


def _plateau(**kw):
    return TrainingConfig(n_train=200, batch_size=50, max_epochs=3, lr=1e-3, seed=3, architecture=dict(SMALL_SCHNET),
                          ema_decay=0.9, **kw)


def test_a_budget_fixed_late_continues_as_the_run_that_had_it_from_the_start(qm9, tmp_path):
    from dataclasses import asdict

    late, planned = tmp_path / "late", tmp_path / "planned"
    train(late, _plateau(), data=qm9, max_steps=5, progress=False)  # epoch 1 of 4 steps and one step of epoch 2
    with pytest.raises(CheckpointMismatchError, match="the decay must start at epoch 2 or later"):
        set_budget(late, max_epochs=3, decay_epochs=2)
    new = set_budget(late, max_epochs=3, decay_epochs=1)
    assert new.lr_schedule == "cosine" and (late / "budget.json").exists()
    r1 = train(late, None, data=qm9, progress=False)
    r2 = train(planned, TrainingConfig(**asdict(new)), data=qm9, progress=False)
    assert r1 == r2
    a, b = read_checkpoint(late / "last.pt"), read_checkpoint(planned / "last.pt")
    for name in a["state_dict"]:
        assert torch.equal(a["state_dict"][name], b["state_dict"][name]), name
    assert a["train_state"]["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-6)  # decayed to min_lr


def test_a_budget_is_refused_once_the_learning_rate_has_changed(qm9, tmp_path):
    run = tmp_path / "halved"
    train(run, _plateau(), data=qm9, max_steps=5, progress=False)
    payload = read_checkpoint(run / "last.pt")
    payload["train_state"]["optimizer"]["param_groups"][0]["lr"] = 5e-4  # as a plateau halving leaves it
    torch.save(payload, run / "last.pt")
    with pytest.raises(CheckpointMismatchError, match="has not stayed at lr=0.001"):
        set_budget(run, max_epochs=3, decay_epochs=1)
    assert not (run / "budget.json").exists()
