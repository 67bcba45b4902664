"""The shipped model zoo in ``data/models/<kind>-<target>-fold<k>/``.

Each folder holds ``model.pt`` (weights + config + split hash, no optimizer state), ``log.csv`` (one line
per epoch), ``config.json`` (training hyper-parameters), ``command.txt`` (how to retrain it) and
``metrics.json`` (test-split MAE/RMSE, epochs, wall time, hardware).
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pandas as pd

from .checkpoint import load_model, read_checkpoint
from .device import default_device, resolve_device
from .errors import CheckpointMismatchError
from .paths import DATA_DIR, missing_data
from .tasks import task, task_of_zoo_name

MODELS_DIR = DATA_DIR / "models"


def model_dir(name: str, fold: int = 0) -> Path:
    """Folder of a shipped model, e.g. ``model_dir("schnet-energy", fold=1)``."""
    return MODELS_DIR / f"{name}-fold{fold}"


def available() -> pd.DataFrame:
    """One row per shipped model: name, fold, which weights (best epoch or a mean of epochs), the energy
    partition of energy models ("atom": the paper's, "element": per-element baselines), test MAE/RMSE, epochs
    and training hours."""
    from .models.atomistic import LEGACY_ENERGY_PARTITION

    rows = []
    for folder in sorted(MODELS_DIR.glob("*-fold*")):
        if not (folder / "model.pt").exists():
            continue
        name, fold = folder.name.rsplit("-fold", 1)
        metrics = json.loads((folder / "metrics.json").read_text()) if (folder / "metrics.json").exists() else {}
        averaged = metrics.pop("averaged_epochs", None)
        weights = (f"mean of epochs {averaged[0]}–{averaged[-1]}" if averaged
                   else f"epoch {metrics['best_epoch']}" if "best_epoch" in metrics else "")
        config = read_checkpoint(folder / "model.pt")["config"]
        partition = (config.get("energy_partition", LEGACY_ENERGY_PARTITION) if config["target"] == "energy"
                     else "")
        rows.append({"name": name, "fold": int(fold), "weights": weights, "energy_partition": partition, **metrics})
    return pd.DataFrame(rows)


QM9_MODELS = ("schnet-energy", "bp-energy", "schnet-dipole", "bp-dipole")
"""The QM9 models that the widgets, the molecule report and the notebooks use by default: the energy models in the
paper's partition (one mean and spread per atom for all elements), three folds each. The per-element models
(``-elementref``, fold 0) appear only where the two partitions are compared."""


def split_name(name: str) -> tuple[str, str, bool]:
    """``"schnet-energy-elementref"`` → ``("schnet", "energy", True)``: architecture, what it predicts (the
    second part of the name) and whether it is an energy model in the per-element partition."""
    kind, _, what = name.partition("-")
    elementref = what.endswith("-elementref")
    return kind, what.removesuffix("-elementref"), elementref


def model_name(kind: str, target: str, energy_partition: str | None = None) -> str:
    """Zoo name of a model, by one rule: ``KIND-TARGET`` ("crystals" for the crystal formation energy), with
    ``-elementref`` for energy models in the per-element partition (``"schnet-energy"`` is the paper's)."""
    return f"{kind}-{task(target).zoo_name}" + ("-elementref" if energy_partition == "element" else "")


def load(name: str, fold: int = 0, device=None):
    """Load a shipped model by name: "schnet-energy", "schnet-dipole", "bp-energy", "bp-dipole" (QM9; energy
    models in the per-element partition end in "-elementref") or "schnet-crystals" (formation energy per atom of
    the offline crystal set).

    Args:
        device: where to put the weights; default :func:`xatom.device.default_device` (``XATOM_DEVICE``, set by
            ``xatom reproduce --device``, else the CPU).
    """
    path = model_dir(name, fold) / "model.pt"
    if not MODELS_DIR.is_dir():
        raise missing_data(MODELS_DIR, "the folder of shipped models")
    if not path.exists():
        have = ", ".join(f"{r.name} fold {r.fold}" for r in available().itertuples()) or "none"
        raise FileNotFoundError(f"no shipped model {name!r} fold {fold} (have: {have})")
    kind, what, elementref = split_name(name)
    model = load_model(path, model=kind, target=task_of_zoo_name(what).name)
    if elementref and model.energy_partition != "element":
        raise CheckpointMismatchError(f"{path} holds an energy model in the {model.energy_partition!r} partition, "
                                      f"but the name {name!r} says per-element")
    return model.to(resolve_device(device) if device is not None else default_device())


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def export_run(run_dir: str | Path, name: str | None = None, evaluate_test: bool = True,
               weights: str = "best.pt") -> Path:
    """Copy a finished (or paused) run's weights and log into the zoo, with test metrics.

    Args:
        weights: the run's file to ship: ``best.pt`` (lowest validation MAE) or ``averaged.pt`` (from
            ``xatom average``; the averaged epochs go into metrics.json and the command into command.txt).
    """
    from dataclasses import asdict

    import torch

    from .inference import evaluate
    from .training import TrainingConfig, load_dataset, read_epoch_log, write_epoch_log

    if weights not in ("best.pt", "averaged.pt"):
        raise ValueError(f"export_run: weights must be 'best.pt' or 'averaged.pt', not {weights!r}")
    run_dir = Path(run_dir)
    cfg = asdict(TrainingConfig.from_dict(json.loads((run_dir / "config.json").read_text())))
    dataset = cfg["dataset"]
    name = name or f"{model_name(cfg['model'], cfg['target'], cfg['energy_partition'])}-fold{cfg['fold']}"
    shipped = read_checkpoint(run_dir / weights)
    averaged = shipped["metrics"].get("averaged_epochs")
    last = read_checkpoint(run_dir / "last.pt")
    log = read_epoch_log(run_dir / "log.csv", last["train_state"]["epoch"])  # one row per epoch of last.pt
    if averaged and averaged[-1] != len(log):
        raise ValueError(f"{run_dir}/averaged.pt averages epochs {averaged}, but the run has {len(log)} epochs "
                         "now: run xatom average again")
    dest = MODELS_DIR / name
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / "model.pt.tmp"
    torch.save(shipped, tmp)
    os.replace(tmp, dest / "model.pt")
    write_epoch_log(dest / "log.csv", log)
    (dest / "config.json").write_text(json.dumps(cfg, indent=1))
    arch = json.dumps(cfg["architecture"]) if cfg.get("architecture") else None
    default_max_epochs = TrainingConfig.__dataclass_fields__["max_epochs"].default
    data_args = "--dataset crystals" if dataset == "crystals" else f"--target {cfg['target']}"
    if cfg["energy_partition"]:
        data_args += f" --energy-partition {cfg['energy_partition']}"
    command = (f"xatom train --model {cfg['model']} {data_args} --fold {cfg['fold']} "
               f"--batch-size {cfg['batch_size']} --lr {cfg['lr']} --lr-patience {cfg['lr_patience']} "
               f"--early-stop-patience {cfg['early_stop_patience']} --seed {cfg['seed']}"
               + (f" --n-train {cfg['n_train']}" if cfg.get("n_train") else "")
               + (f" --max-epochs {cfg['max_epochs']}" if cfg["max_epochs"] != default_max_epochs else "")
               + (f" --lr-schedule {cfg['lr_schedule']} --warmup-epochs {cfg['warmup_epochs']}"
                  if cfg["lr_schedule"] != "plateau" else "")
               + (f" --decay-epochs {cfg['decay_epochs']}" if cfg.get("decay_epochs") is not None else "")
               + (f" --ema-decay {cfg['ema_decay']}" if cfg["ema_decay"] is not None else "")
               + (f" --architecture '{arch}'" if arch else "") + f" --run-dir runs/{name}")
    if averaged:
        command += f" --keep-epoch-weights\nxatom average runs/{name} --last {len(averaged)}"
    finished = (last["train_state"].get("stopped") in ("early stop", "learning rate at its minimum")
                or len(log) >= cfg["max_epochs"])
    if not finished:
        command += (f"\n# these weights: the run paused after epoch {len(log)} (the same command resumes it; "
                    f"from scratch, add --max-epochs {len(log)})")
    (dest / "command.txt").write_text(command + "\n")
    metrics = {"epochs": int(len(log)), "val_mae": shipped["metrics"].get("val_mae"),
               "train_hours": round(last["train_state"]["wall_s"] / 3600, 2),
               "hardware": f"{_cpu_name()}, CPU, {last['train_state'].get('threads', 1)} torch thread(s)",
               "torch": torch.__version__}
    if averaged:
        metrics["averaged_epochs"] = averaged
    else:
        metrics["best_epoch"] = int(shipped["metrics"].get("epoch", 0))
    if evaluate_test:
        model = load_model(dest / "model.pt")
        data, split = load_dataset(dataset, cfg["fold"])
        test = evaluate(model, data, data.rows_of(split.test))
        metrics.update({"test_mae": test["mae"], "test_rmse": test["rmse"], "n_test": test["n"]})
    (dest / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return dest
