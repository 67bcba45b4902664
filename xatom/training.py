"""Training: Adam, a learning-rate schedule (halving on plateau with early stopping, or warm-up then cosine decay
over a fixed budget of epochs), an optional exponential moving average (EMA) of the weights, atomic best/last
checkpoints, exact resume.

A run lives in one folder: ``config.json``, ``log.csv`` (one line per epoch), ``last.pt`` (weights +
optimizer + scheduler + position in the epoch, written every few minutes, at each epoch end and on
Ctrl-C/SIGTERM), ``best.pt`` (the weights with the lowest validation MAE) and, if asked, ``epochs/`` (each
epoch's final weights, for weight averaging). Starting the same command
again resumes exactly: batch order depends only on (seed, epoch), so the run continues with the very next
batch and the same optimizer state.
"""
from __future__ import annotations

import csv
import json
import math
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .batch import QM9Batches
from .checkpoint import average_checkpoints, read_checkpoint, save_checkpoint
from .errors import CheckpointMismatchError
from .inference import evaluate, predict
from .models import AtomisticModel, model_config
from .models.atomistic import LEGACY_ENERGY_PARTITION
from .models.heads import ENERGY_PARTITIONS
from .models.cfconv import cfconv_path
from .models.schnet import SchNet
from .tasks import TASKS, task


LR_SCHEDULES = ("plateau", "cosine")


@dataclass
class TrainingConfig:
    """Hyper-parameters of one training run (learning rates per step of batch_size molecules).

    ``lr_schedule``: "plateau" halves the learning rate (``lr_decay``) after ``lr_patience`` epochs without a
    better validation MAE and stops early after ``early_stop_patience``; "cosine" warms up linearly over
    ``warmup_epochs``, holds ``lr``, and decays to ``min_lr`` along a cosine over the last ``decay_epochs``
    (default: all epochs after the warm-up) that ends with epoch ``max_epochs`` (the budget), step by step.
    With a hold, the budget can be fixed late: the held part is the same computation as a plateau run whose
    learning rate has not yet been halved. ``ema_decay`` (e.g. 0.999, per step): validate, keep and ship the
    exponential moving average of the weights instead of the weights themselves. Each field's ``metadata`` gives
    its command-line help and choices (``xatom train`` makes one option per field).
    """

    model: str = field(default="schnet", metadata={"choices": ("schnet", "bp"),
                                                   "help": "SchNet or Behler–Parrinello (atom-centred symmetry functions)"})
    target: str = field(default="energy", metadata={"choices": tuple(TASKS)})
    dataset: str = field(default="qm9", metadata={"choices": tuple(sorted({t.dataset for t in TASKS.values()})),
                                                  "help": "QM9 molecules, or the periodic crystal set of data/crystals"})
    fold: int = field(default=0, metadata={"help": "fold of the shared split (its train and validation molecules)"})
    batch_size: int = field(default=100, metadata={"help": "molecules per step"})
    lr: float = field(default=5e-4, metadata={"help": "Adam learning rate (peak of a cosine schedule)"})
    lr_decay: float = field(default=0.5, metadata={"help": "plateau: factor applied to the lr on a plateau"})
    lr_patience: int = field(default=4, metadata={"help": "plateau: epochs without improvement before the decay"})
    min_lr: float = field(default=1e-6, metadata={"help": "the lr never goes below this; cosine: its end"})
    early_stop_patience: int = field(default=12, metadata={"help": "plateau: epochs without improvement to stop"})
    max_epochs: int = field(default=1000, metadata={"help": "epochs at most; cosine: the budget"})
    seed: int = field(default=0, metadata={"help": "initial weights, batch order and --n-train draw"})
    n_train: int | None = field(default=None, metadata={"help": "train on a seeded random subset of this size"})
    checkpoint_minutes: float = field(default=5.0, metadata={"help": "minutes between resume checkpoints"})
    architecture: dict = field(default_factory=dict, metadata={
        "help": 'model overrides as JSON, e.g. \'{"n_interactions": 3}\''})
    lr_schedule: str = field(default="plateau", metadata={
        "choices": LR_SCHEDULES, "help": "halve on plateau (with early stop), or warm-up, hold and cosine decay "
                                         "ending at --max-epochs"})
    warmup_epochs: float = field(default=0.0, metadata={"help": "cosine: linear warm-up length in epochs"})
    decay_epochs: float | None = field(default=None, metadata={
        "help": "cosine: decay over the last this many epochs, holding the lr before (default: all after the "
                "warm-up)"})
    ema_decay: float | None = field(default=None, metadata={
        "help": "validate and ship an exponential moving average of the weights (per step, e.g. 0.999)"})
    energy_partition: str | None = field(default="atom", metadata={
        "choices": ENERGY_PARTITIONS,
        "help": "energy models: the paper's one mean per atom (atom) or per-element baselines (element)"})
    """QM9 energy models: "atom" (the paper's one mean per atom) or "element" (per-element baselines);
    None for every other target."""

    def __post_init__(self):
        if task(self.target).dataset != self.dataset:
            raise ValueError(f"target {self.target!r} trains on {task(self.target).dataset!r}, not on {self.dataset!r}")
        if self.target != "energy":
            self.energy_partition = None
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; expected one of {LR_SCHEDULES}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must lie strictly between 0 and 1 (e.g. 0.999), not {self.ema_decay}")
        if not 0.0 <= self.warmup_epochs < self.max_epochs:
            raise ValueError(f"warmup_epochs must lie in [0, max_epochs={self.max_epochs}), not {self.warmup_epochs}")
        if self.decay_epochs is not None and not 0.0 < self.decay_epochs <= self.max_epochs - self.warmup_epochs:
            raise ValueError(f"decay_epochs must lie in (0, max_epochs - warmup_epochs = "
                             f"{self.max_epochs - self.warmup_epochs}], not {self.decay_epochs}")

    @classmethod
    def from_dict(cls, stored: dict) -> "TrainingConfig":
        """The configuration of a stored ``config.json``; energy runs from before the partition option used
        per-element baselines."""
        if stored.get("target") == "energy" and "energy_partition" not in stored:
            stored = {**stored, "energy_partition": LEGACY_ENERGY_PARTITION}
        return cls(**stored)

    def model_config(self) -> dict:
        if self.target == "energy":
            return model_config(self.model, self.target, energy_partition=self.energy_partition, **self.architecture)
        return model_config(self.model, self.target, **self.architecture)


class _Distributed:
    """Data-parallel training under ``torchrun`` (DistributedDataParallel): every process takes its share of
    each batch, gradients are averaged, rank 0 alone writes files. Without torchrun: one process, no-op."""

    def __init__(self, device: str):
        import os

        import torch.distributed as dist

        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.enabled = self.world > 1
        self.device = torch.device(device)
        if self.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(self.device)
        if self.enabled and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if self.device.type == "cuda" else "gloo")
        self.rank = dist.get_rank() if self.enabled else 0
        self.is_main = self.rank == 0

    def wrap(self, model):
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model,
                                       find_unused_parameters=model.representation.unused_parameters_possible)

    def any(self, flag: bool) -> bool:
        """True on every process if ``flag`` is true on any."""
        if not self.enabled:
            return flag
        import torch.distributed as dist

        t = torch.tensor([1 if flag else 0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self):
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()


class _StopRequest:
    """Turns SIGINT/SIGTERM into a flag checked between steps."""

    def __init__(self):
        self.requested = False
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not in the main thread
                pass
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)


def make_scheduler(cfg: TrainingConfig, optimizer, steps_per_epoch: int, steps_done: int = 0):
    """The learning-rate schedule of ``cfg``: plateau halving (stepped once per epoch with the validation MAE) or
    warm-up, hold and cosine decay to ``cfg.min_lr`` at the end of epoch ``cfg.max_epochs`` (stepped after every
    step). A step schedule is a function of the step alone: ``steps_done`` (a resumed run's optimizer steps) puts
    it at its place."""
    if cfg.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=cfg.lr_decay, patience=cfg.lr_patience,
                                                          threshold=1e-3, min_lr=cfg.min_lr)
    warmup = int(round(cfg.warmup_epochs * steps_per_epoch))
    total = cfg.max_epochs * steps_per_epoch
    decay_start = warmup if cfg.decay_epochs is None else total - int(round(cfg.decay_epochs * steps_per_epoch))
    floor = cfg.min_lr / cfg.lr
    for group in optimizer.param_groups:  # the base of the factor, also where a resumed optimizer held another lr
        group["initial_lr"] = cfg.lr

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if step < decay_start:
            return 1.0
        progress = min(1.0, (step - decay_start) / max(1, total - decay_start))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    if steps_done:
        scheduler.last_epoch = steps_done
        scheduler._last_lr = [base * factor(steps_done) for base in scheduler.base_lrs]
        for group, lr in zip(optimizer.param_groups, scheduler._last_lr):
            group["lr"] = lr
    return scheduler


class WeightAverage:
    """Exponential moving average of a model's parameters, ``ema ← d·ema + (1 − d)·θ`` after every step.

    ``model`` is a full copy of the trained model (buffers such as baselines or the charge sign are its own), so
    it can be validated, saved and shipped like any model.
    """

    def __init__(self, model: AtomisticModel, decay: float, state: dict | None = None):
        import copy

        self.decay = decay
        self.model = copy.deepcopy(model)
        if state is not None:
            self.model.load_state_dict(state)
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: AtomisticModel):
        for avg, p in zip(self.model.parameters(), model.parameters()):
            avg.lerp_(p.detach(), 1.0 - self.decay)


LOG_FIELDS = ["epoch", "lr", "train_mae", "val_mae", "val_rmse", "wall_s"]
"""Columns of a run's ``log.csv``: epochs done, learning rate, train MAE, validation MAE/RMSE, wall time in s."""


def read_epoch_log(log_file: str | Path, epochs_done: int | None = None) -> list[dict]:
    """The rows of a run's ``log.csv`` (as strings), one per epoch, for epochs 1 … ``epochs_done`` (all if None).

    An epoch's row is appended before ``last.pt`` is replaced; a run killed in between redoes that epoch when
    resumed, so rows beyond the checkpoint's epochs are leftovers, and a run resumed by an older version holds
    an epoch twice (the later row, written by the epoch that counts, is kept).
    """
    with open(log_file, newline="") as f:
        by_epoch = {int(row["epoch"]): row for row in csv.DictReader(f)}
    return [by_epoch[e] for e in sorted(by_epoch) if epochs_done is None or e <= epochs_done]


def write_epoch_log(log_file: str | Path, rows: list[dict]):
    """Write rows from :func:`read_epoch_log` as a ``log.csv``, atomically."""
    import io

    from .files import write_atomic

    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=LOG_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(log_file, text.getvalue())


def load_dataset(name: str, fold: int, data=None):
    """(data set, split of fold) for "qm9" or "crystals"; ``data`` replaces the shipped set when given."""
    if name == "qm9":
        from .data import load_qm9, load_split

        return (data if data is not None else load_qm9()), load_split(fold)
    if name == "crystals":
        from .data.crystals import crystal_split, load_crystals

        data = data if data is not None else load_crystals()
        return data, crystal_split(data, fold)
    raise ValueError(f"unknown dataset {name!r}; expected 'qm9' or 'crystals'")


def prepare_model(cfg: TrainingConfig, data, train_rows) -> AtomisticModel:
    """A freshly initialised model with its data-dependent statistics fitted on the training rows."""
    torch.manual_seed(cfg.seed)
    model = AtomisticModel(cfg.model_config())
    starts, ends = data.offsets[train_rows], data.offsets[train_rows + 1]
    idx = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
    model.head.fit_statistics(data.numbers[idx], np.concatenate([[0], np.cumsum(ends - starts)]),
                              getattr(data, model.target)[train_rows])
    model.representation.fit_statistics(data, train_rows, model.cutoff, cfg.seed)
    return model


def _convolution_path(model: AtomisticModel, device) -> str:
    """Which cfconv implementation the model runs on ``device``, in words (logged when training starts)."""
    rep = model.representation
    if not isinstance(rep, SchNet):
        return "no cfconv (Behler–Parrinello)"
    return "cfconv: exact filters in plain torch" if rep.exact_filters else f"cfconv: {cfconv_path(device)}"


def _open_config(run_dir: Path, cfg: TrainingConfig | None, dist: _Distributed) -> TrainingConfig:
    """The run's configuration: the stored one (``cfg``, if given, must equal it) or ``cfg``, then stored."""
    stored_cfg = run_dir / "config.json"
    if stored_cfg.exists():
        stored = TrainingConfig.from_dict(json.loads(stored_cfg.read_text()))
        if cfg is not None and asdict(cfg) != asdict(stored):
            diff = {k: (v, asdict(stored)[k]) for k, v in asdict(cfg).items() if asdict(stored)[k] != v}
            raise CheckpointMismatchError(f"{run_dir} was started with another configuration "
                                          f"(asked, stored): {diff}; use a new folder")
        cfg = stored
    elif cfg is None:
        raise ValueError(f"{run_dir} holds no run; give a TrainingConfig")
    elif dist.is_main:
        stored_cfg.write_text(json.dumps(asdict(cfg), indent=1))
    dist.barrier()
    return cfg


def _split_rows(cfg: TrainingConfig, data, split) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows); ``cfg.n_train`` draws a seeded random subset of the training rows."""
    train_rows = data.rows_of(split.train)
    if cfg.n_train is not None:
        train_rows = np.random.default_rng(cfg.seed).permutation(train_rows)[: cfg.n_train]
    return train_rows, data.rows_of(split.val)


def _model_and_state(run_dir: Path, cfg: TrainingConfig, data, split, train_rows):
    """The model of ``last.pt`` and its training state, or a fresh model (statistics fitted) and None."""
    last = run_dir / "last.pt"
    if not last.exists():
        return prepare_model(cfg, data, train_rows), None
    payload = read_checkpoint(last)
    if payload["split"]["sha256"] != split.sha256:
        raise CheckpointMismatchError(f"{last} was trained on another data split")
    model = AtomisticModel(payload["config"])
    model.load_state_dict(payload["state_dict"])
    return model, payload["train_state"]


@dataclass
class _Position:
    """Where a run stands, as ``last.pt``'s training state records it (besides optimizer, schedule, EMA, RNG)."""

    epoch: int = 0
    step: int = 0
    best: float = math.inf
    since_best: int = 0
    wall_s: float = 0.0
    abs_err_sum: float = 0.0
    n_seen: int = 0

    @classmethod
    def of(cls, state: dict | None) -> "_Position":
        if state is None:
            return cls()
        return cls(state["epoch"], state["step"], state["best"], state["since_best"], state["wall_s"],
                   state.get("abs_err_sum", 0.0), state.get("n_seen", 0))

    def end_epoch(self, val_mae: float) -> tuple[bool, float]:
        """Count a finished epoch with its validation MAE: (improved, train MAE of the epoch)."""
        improved = val_mae < self.best
        self.best = min(self.best, val_mae)
        self.since_best = 0 if improved else self.since_best + 1
        train_mae = self.abs_err_sum / max(self.n_seen, 1)
        self.epoch, self.step, self.abs_err_sum, self.n_seen = self.epoch + 1, 0, 0.0, 0
        return improved, train_mae


def _open_log(log_file: Path, epochs_done: int):
    """A run's ``log.csv`` with rows for its checkpoint's epochs only (rows of an epoch redone after a kill between
    the row and the checkpoint are dropped)."""
    if not log_file.exists():
        with open(log_file, "w", newline="") as f:
            csv.writer(f).writerow(LOG_FIELDS)
    else:
        write_epoch_log(log_file, read_epoch_log(log_file, epochs_done))


def _stop_reason(cfg: TrainingConfig, pos: _Position, optimizer) -> str | None:
    """Why a plateau run ends after this epoch (a fixed budget runs to ``max_epochs``)."""
    if cfg.lr_schedule != "plateau":
        return None
    if pos.since_best >= cfg.early_stop_patience:
        return "early stop"
    if optimizer.param_groups[0]["lr"] <= cfg.min_lr * 1.0001 and pos.since_best > cfg.lr_patience:
        return "learning rate at its minimum"
    return None


def train(run_dir: str | Path, cfg: TrainingConfig | None = None, data=None, max_minutes: float | None = None,
          max_steps: int | None = None, device: str = "cpu", progress: bool = True,
          keep_epoch_weights: bool = False) -> dict:
    """Train (or resume) the run in ``run_dir``; returns the final metrics.

    Args:
        run_dir: folder of the run. If it holds ``last.pt``, training resumes from it and ``cfg`` must
            match the stored configuration (or be None).
        cfg: hyper-parameters for a new run.
        data: a :class:`~xatom.data.QM9` or, for ``cfg.dataset == "crystals"``, a
            :class:`~xatom.data.crystals.Crystals` set (the shipped one is loaded when None).
        max_minutes: stop (after saving) once this much wall time has passed in this call.
        max_steps: stop (after saving) after this many optimizer steps in this call.
        device: "cpu" or "cuda".
        keep_epoch_weights: also write each epoch's final weights to ``epochs/epochNNN.pt`` (for
            :func:`~xatom.checkpoint.average_checkpoints`; about 2 MB per epoch for SchNet).

    Under ``torchrun --nproc_per_node N -m xatom.cli train ...`` the run is data-parallel over N processes
    (gloo on CPU, nccl on GPUs; with GPUs pass ``--device cuda:LOCAL_RANK`` via the environment).
    """
    from tqdm.auto import tqdm

    run_dir = Path(run_dir)
    dist = _Distributed(device)
    device = dist.device
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = _open_config(run_dir, cfg, dist)
    data, split = load_dataset(cfg.dataset, cfg.fold, data)
    train_rows, val_rows = _split_rows(cfg, data, split)
    model, state = _model_and_state(run_dir, cfg, data, split, train_rows)
    model.to(device)
    if dist.is_main:  # the path differs between machines and installs (see `xatom info`)
        print(f"xatom train {run_dir}: {_convolution_path(model, device)}; {torch.get_num_threads()} torch "
              f"thread(s), CPU capability {torch.backends.cpu.get_cpu_capability()}", file=sys.stderr, flush=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    pos = _Position.of(state)
    if state is not None and state.get("stopped"):
        return {"epoch": pos.epoch, "best_val_mae": pos.best, "stopped": state["stopped"]}
    ema = None if cfg.ema_decay is None else WeightAverage(model, cfg.ema_decay,
                                                            None if state is None else state["ema"])
    shipped = model if ema is None else ema.model  # validated, kept as best.pt and shipped

    features = model.representation.cached_features(data, train_rows, progress) if cfg.dataset == "qm9" else None
    target = model.target
    target_scale = float(np.std(getattr(data, target)[train_rows]))
    loader = QM9Batches(data, train_rows, cfg.batch_size, model.cutoff, targets=(target,), seed=cfg.seed,
                        shard=(dist.rank, dist.world))
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
    scheduler = make_scheduler(cfg, optimizer, len(loader), pos.epoch * len(loader) + pos.step)
    if state is not None:
        if cfg.lr_schedule == "plateau":
            scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
    net = dist.wrap(model)
    log_file = run_dir / "log.csv"
    if dist.is_main:
        _open_log(log_file, pos.epoch)

    def checkpoint(stopped=None):
        if not dist.is_main:
            return
        train_state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                       **{k: v for k, v in asdict(pos).items() if k != "wall_s"},
                       "wall_s": pos.wall_s + (time.time() - t_start), "torch_rng": torch.get_rng_state(),
                       "threads": torch.get_num_threads(), "world_size": dist.world, "stopped": stopped}
        if ema is not None:
            train_state["ema"] = ema.model.state_dict()
        save_checkpoint(run_dir / "last.pt", model, split.sha256, cfg.fold, None, train_state)

    def optimizer_step(batch):
        cached = None if features is None else torch.from_numpy(features[batch.atom_index.numpy()])
        batch = batch.to(device)
        out = net(batch, None if cached is None else cached.to(device))
        err = out[target] - batch.targets[target]
        # sum over this process's share / size of the whole batch: averaged over processes by DDP,
        # this is the mean squared error of the whole batch, whatever the shares
        loss = (err / target_scale).pow(2).sum() * (dist.world / batch.global_size)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if cfg.lr_schedule != "plateau":
            scheduler.step()
        if ema is not None:
            ema.update(model)
        pos.step += 1
        pos.abs_err_sum += float(err.detach().abs().sum())
        pos.n_seen += err.numel()

    def end_epoch():
        val = evaluate(shipped, data, val_rows, device=device)
        lr = optimizer.param_groups[0]["lr"]
        if cfg.lr_schedule == "plateau":
            scheduler.step(val["mae"])
        improved, train_mae = pos.end_epoch(val["mae"])
        metrics = {"val_mae": val["mae"], "val_rmse": val["rmse"], "epoch": pos.epoch}
        if dist.is_main:
            with open(log_file, "a", newline="") as f:
                csv.writer(f).writerow([pos.epoch, f"{lr:.3g}", f"{train_mae:.5f}", f"{val['mae']:.5f}",
                                        f"{val['rmse']:.5f}", f"{pos.wall_s + time.time() - t_start:.1f}"])
        if improved:
            apply_convention(shipped, data, val_rows[:2000], device)
            if dist.is_main:
                save_checkpoint(run_dir / "best.pt", shipped, split.sha256, cfg.fold, metrics)
        if keep_epoch_weights and dist.is_main:
            save_checkpoint(run_dir / "epochs" / f"epoch{pos.epoch:03d}.pt", shipped, split.sha256, cfg.fold,
                            metrics)

    t_start = time.time()
    t_ckpt = t_start
    steps_this_call = 0
    stop_reason = None
    with _StopRequest() as stop:
        while pos.epoch < cfg.max_epochs and stop_reason is None:
            model.train()
            bar = tqdm(loader.epoch(pos.epoch, pos.step), total=len(loader), initial=pos.step,
                       disable=not (progress and dist.is_main),
                       desc=f"{cfg.model}-{cfg.target} fold {cfg.fold} epoch {pos.epoch}", leave=False,
                       mininterval=2)
            for batch in bar:
                optimizer_step(batch)
                steps_this_call += 1
                if pos.step % 50 == 0:
                    bar.set_postfix(train_mae=f"{pos.abs_err_sum / pos.n_seen:.3f}", best_val=f"{pos.best:.3f}")
                now = time.time()
                if stop.requested:
                    stop_reason = "interrupted"
                elif max_minutes is not None and now - t_start > 60 * max_minutes:
                    stop_reason = "time limit"
                elif max_steps is not None and steps_this_call >= max_steps:
                    stop_reason = "step limit"
                if dist.any(stop_reason is not None):
                    stop_reason = stop_reason or "stopped by another process"
                if stop_reason or now - t_ckpt > 60 * cfg.checkpoint_minutes:
                    checkpoint()
                    t_ckpt = now
                if stop_reason:
                    break
            bar.close()
            if stop_reason:
                break
            end_epoch()
            stop_reason = _stop_reason(cfg, pos, optimizer)
            checkpoint(stopped=stop_reason)
            t_ckpt = time.time()
        else:
            stop_reason = stop_reason or "max epochs"
    return {"epoch": pos.epoch, "best_val_mae": pos.best, "stopped": stop_reason or "max epochs"}


def set_budget(run_dir: str | Path, max_epochs: int, decay_epochs: float) -> TrainingConfig:
    """Give a paused run a fixed budget: hold its learning rate, then decay it along a cosine over the last
    ``decay_epochs`` of ``max_epochs`` (``lr_schedule="cosine"``). Allowed only while the change alters nothing
    done so far: the run's learning rate has never left ``lr`` (a plateau run not yet halved, or a run without
    warm-up still holding) and the decay starts no earlier than the next epoch boundary. The run then continues
    as the same computation a fresh run of the new configuration would be; ``budget.json`` in the run records
    the change.

    Raises:
        CheckpointMismatchError: the run's past is not that of the new schedule.
    """
    run_dir = Path(run_dir)
    stored = TrainingConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
    state = read_checkpoint(run_dir / "last.pt")["train_state"]
    if state.get("stopped"):
        raise CheckpointMismatchError(f"{run_dir} has stopped ({state['stopped']}); start a new run instead")
    held = [float(group["lr"]) for group in state["optimizer"]["param_groups"]]
    lrs = {float(row["lr"]) for row in read_epoch_log(run_dir / "log.csv", state["epoch"])}
    if stored.warmup_epochs or any(lr != stored.lr for lr in held) or lrs - {float(f"{stored.lr:.3g}")}:
        raise CheckpointMismatchError(f"{run_dir}: its learning rate has not stayed at lr={stored.lr} "
                                      f"(epochs: {sorted(lrs)}, now {held}), so a hold-then-decay budget would "
                                      "not be the same computation")
    new = TrainingConfig(**{**asdict(stored), "lr_schedule": "cosine", "max_epochs": max_epochs,
                            "decay_epochs": decay_epochs})
    first_open_epoch = state["epoch"] + (1 if state["step"] else 0)
    if max_epochs - decay_epochs < first_open_epoch:
        raise CheckpointMismatchError(f"{run_dir} is in epoch {state['epoch'] + 1} (step {state['step']}): the "
                                      f"decay must start at epoch {first_open_epoch} or later, not at "
                                      f"{max_epochs - decay_epochs}")
    record = run_dir / "budget.json"
    changes = json.loads(record.read_text()) if record.exists() else []
    changes.append({"epochs_done": state["epoch"], "step": state["step"], "from": asdict(stored),
                    "to": asdict(new)})
    record.write_text(json.dumps(changes, indent=1))
    (run_dir / "config.json").write_text(json.dumps(asdict(new), indent=1))
    return new


@torch.no_grad()
def apply_convention(model: AtomisticModel, data, rows, device="cpu"):
    """Set the documented convention of a head's latents from its predictions on ``rows`` (dipole heads: oxygen's
    mean charge negative); nothing for heads without one."""
    if not model.head.sets_convention:
        return
    latents = predict(model, data, rows=rows, device=device).latents
    starts, ends = data.offsets[rows], data.offsets[rows + 1]
    Z = np.concatenate([data.numbers[a:b] for a, b in zip(starts, ends)])
    model.head.set_convention(torch.as_tensor(latents), torch.as_tensor(Z.astype(np.int64)))
    model.train()


def average_run(run_dir: str | Path, last: int, device: str = "cpu") -> dict:
    """Average the weights of a run's last ``last`` epochs (``epochs/``) and write ``averaged.pt``.

    Returns the validation MAE/RMSE of the average and of ``best.pt`` so the two can be compared; the
    averaged epochs are stored in the checkpoint's metrics (``xatom export --weights averaged.pt`` ships it).
    """
    run_dir = Path(run_dir)
    if last < 1:
        raise ValueError(f"average_run: last must be at least 1, not {last}")
    files = sorted((run_dir / "epochs").glob("epoch*.pt"), key=lambda f: int(f.stem.removeprefix("epoch")))
    if len(files) < last:
        raise ValueError(f"{run_dir}/epochs holds {len(files)} epoch checkpoints, {last} asked for "
                         "(train with --keep-epoch-weights to keep them)")
    files = files[-last:]
    epochs = [int(f.stem.removeprefix("epoch")) for f in files]
    trained = read_checkpoint(run_dir / "last.pt")["train_state"]["epoch"]
    if epochs != list(range(trained - last + 1, trained + 1)):
        raise ValueError(f"{run_dir}: the run has finished {trained} epochs, but the last {last} epoch checkpoints "
                         f"are epochs {epochs}; a resume without --keep-epoch-weights leaves gaps")
    model = average_checkpoints(files).to(device)
    cfg = json.loads((run_dir / "config.json").read_text())
    data, split = load_dataset(cfg.get("dataset", "qm9"), cfg["fold"])
    val_rows = data.rows_of(split.val)
    apply_convention(model, data, val_rows[:2000], device)
    val = evaluate(model, data, val_rows, device=device)
    save_checkpoint(run_dir / "averaged.pt", model, split.sha256, cfg["fold"],
                    {"val_mae": val["mae"], "val_rmse": val["rmse"], "epoch": epochs[-1], "averaged_epochs": epochs})
    best = read_checkpoint(run_dir / "best.pt")["metrics"]  # measured on the same validation set when saved
    return {"averaged_epochs": epochs, "val_mae": val["mae"], "val_rmse": val["rmse"],
            "best_pt_val_mae": best["val_mae"], "best_pt_val_rmse": best["val_rmse"]}
