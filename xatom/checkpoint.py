"""Checkpoints: weights, full configuration, data-split hash, package version and metrics.

Loading uses ``torch.load(weights_only=True)`` and refuses, with a message naming the difference, a
checkpoint whose model kind, target or split does not match what the caller asks for.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .errors import CheckpointMismatchError, CorruptCheckpointError
from .files import existing_file
from .models import AtomisticModel
from .models.atomistic import upgrade_legacy_keys

FORMAT = "xatom-checkpoint-1"


def save_checkpoint(path: str | Path, model: AtomisticModel, split_sha256: str, fold: int, metrics: dict | None = None,
                    train_state: dict | None = None):
    """Write a checkpoint atomically (temporary file, then rename)."""
    from . import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "config": model.config, "split": {"sha256": split_sha256, "fold": fold},
               "version": __version__, "metrics": metrics or {}, "state_dict": model.state_dict()}
    if train_state is not None:
        payload["train_state"] = train_state
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | Path) -> dict:
    """The raw checkpoint dictionary (safe: weights_only loading).

    Raises:
        MissingFileError: ``path`` does not exist or is a folder.
        CheckpointMismatchError: the file is not an xatom checkpoint.
    """
    path = existing_file(path, "checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointMismatchError(f"{path} is not a readable xatom checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointMismatchError(f"{path} is not an xatom checkpoint (format {FORMAT!r} expected)")
    return payload


def load_model(path: str | Path, model: str | None = None, target: str | None = None,
               split_sha256: str | None = None) -> AtomisticModel:
    """Rebuild the model stored in ``path``, checking the expectations given.

    Args:
        model: expected kind, "schnet" or "bp" (None: accept any).
        target: expected target, "energy" or "dipole" (None: accept any).
        split_sha256: expected data split hash (None: accept any).

    Raises:
        CheckpointMismatchError: the checkpoint holds another model, target or split than asked for, or
            weights that do not fit its configuration.
        CorruptCheckpointError: a weight (parameter or buffer) is NaN or infinite.
    """
    payload = read_checkpoint(path)
    for name, tensor in payload["state_dict"].items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            bad = int((~torch.isfinite(tensor)).sum())
            raise CorruptCheckpointError(f"{path}: weight {name!r} has {bad} of {tensor.numel()} values NaN or "
                                         "infinite; the model would predict NaN (retrain, or use an earlier checkpoint)")
    cfg = payload["config"]
    for name, want, have in (("model", model, cfg["model"]), ("target", target, cfg["target"]),
                             ("data split", split_sha256, payload["split"]["sha256"])):
        if want is not None and want != have:
            raise CheckpointMismatchError(f"{path} holds a {name} of {have!r}, but {want!r} was asked for")
    net = AtomisticModel(cfg)
    try:
        net.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        raise CheckpointMismatchError(f"{path}: weights do not fit its configuration: {err}") from None
    net.checkpoint_metrics = payload.get("metrics", {})
    net.split_info = payload["split"]
    return net.eval()


def average_checkpoints(paths: list[str | Path]) -> AtomisticModel:
    """One model whose parameters are the mean of those in ``paths`` (weight averaging, "SWA").

    Meant for the end-of-epoch weights of one run (``xatom train --keep-epoch-weights``): near the end of
    training they sit in one basin and their mean is usually better than any of them. Buffers (element
    baselines, a dipole model's charge sign) are taken from the last checkpoint, not averaged; the charge sign is
    a convention, so re-apply it to an averaged dipole model (:func:`xatom.training.apply_convention`, as
    :func:`xatom.training.average_run` does).

    Raises:
        ValueError: if ``paths`` is empty.
        CheckpointMismatchError: if the checkpoints differ in model configuration or data split.
    """
    if not paths:
        raise ValueError("average_checkpoints: no checkpoints given")
    payloads = [read_checkpoint(p) for p in paths]
    first = payloads[0]
    for path, payload in zip(paths, payloads):
        for what in ("config", "split"):
            if payload[what] != first[what]:
                raise CheckpointMismatchError(f"{path} has another {what} than {paths[0]}: "
                                              f"{payload[what]} vs {first[what]}")
    net = load_model(paths[-1])
    for payload in payloads:  # checkpoints written before a layout change carry the old key names
        upgrade_legacy_keys(payload["state_dict"], "")
    with torch.no_grad():
        for name, param in net.named_parameters():
            param.copy_(torch.stack([p["state_dict"][name] for p in payloads]).mean(0))
    net.checkpoint_metrics = {}
    return net
