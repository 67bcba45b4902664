"""Symmetry-function features of every QM9 atom, computed once and cached on disk (float32, memory-mapped).

QM9 geometries are fixed, so BP training need not recompute ACSFs every step: the cache (≈ 5.5 GB for 580
features) is keyed by the ACSF parameters and the data set and shared, through the page cache, by every
process that trains a BP model.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from ..batch import QM9Batches
from .qm9 import default_cache_dir


FEATURE_VERSION = 1
"""Bump when the ACSF formulas change, so that cached features are recomputed."""


def _key(acsf, data) -> str:
    h = hashlib.sha256(f"v{FEATURE_VERSION}".encode())
    h.update(json.dumps(acsf.params.as_dict(), sort_keys=True).encode())
    h.update(np.ascontiguousarray(data.index).tobytes())
    h.update(np.ascontiguousarray(data.positions[::97]).tobytes())
    return h.hexdigest()[:16]


def qm9_acsf(data, acsf, cache_dir: str | Path | None = None, chunk: int = 2000, progress: bool = True) -> np.ndarray:
    """ACSF features of all atoms of ``data`` in its atom order, (n_atoms_total, acsf.n_features), read-only memmap."""
    from tqdm.auto import tqdm

    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"acsf-{_key(acsf, data)}.npy"
    if path.exists():
        return np.load(path, mmap_mode="r")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")  # per process: concurrent builders never collide
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(data.numbers.size, acsf.n_features))
    batches = QM9Batches(data, np.arange(len(data)), chunk, acsf.params.radial_cutoff, targets=(), shuffle=False)
    with torch.no_grad():
        for batch in tqdm(batches.epoch(0), total=len(batches), desc="ACSF of all QM9 atoms", disable=not progress):
            out[batch.atom_index.numpy()] = acsf(batch).numpy()
    out.flush()
    del out
    os.replace(tmp, path)
    return np.load(path, mmap_mode="r")
