"""Which torch device models run on: one helper for the zoo, the notebooks and the analyses.

``xatom reproduce --device cuda`` sets the environment variable ``XATOM_DEVICE`` for the notebook kernels;
:func:`default_device` reads it (``cpu`` when unset), and :func:`model_device` tells where a model's weights
are, so that inference, probes and the ESP move their batches there.
"""
from __future__ import annotations

import os

import torch

from .errors import DeviceUnavailableError

DEVICE_VARIABLE = "XATOM_DEVICE"
"""Environment variable naming the default device (``cpu``, ``cuda``, ``cuda:1``, …)."""


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a :class:`torch.device`, checked to exist on this machine.

    Args:
        device: a torch device or its name, e.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``.

    Raises:
        DeviceUnavailableError: an unknown device name, CUDA without a CUDA build or GPU, or a GPU index
            beyond the GPUs present.
    """
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise DeviceUnavailableError(f"unknown torch device {device!r} ({err}); use e.g. 'cpu' or 'cuda'") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(f"device {str(device)!r} asked for, but CUDA is not available here "
                                         f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); "
                                         "use 'cpu'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise DeviceUnavailableError(f"device {str(device)!r} asked for, but this machine has "
                                         f"{torch.cuda.device_count()} GPU(s)")
    return resolved


def default_device() -> torch.device:
    """The device named by ``XATOM_DEVICE`` (``cpu`` when unset or empty), checked to exist."""
    return resolve_device(os.environ.get(DEVICE_VARIABLE) or "cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's weights (its first parameter or buffer; ``cpu`` for a model without any)."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")
