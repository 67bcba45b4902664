"""Seeded, stored train/validation/test splits of QM9 (by QM9 index, not by row).

One held-out test set shared by every model, and ``N_FOLDS`` different training subsets ("folds"):
fold k draws its own validation set of ``N_VAL`` molecules from the non-test pool and trains on the
remaining ``N_TRAIN``. The file ``data/splits/qm9.npz`` stores the test and validation indices;
training indices are the complement, so the file stays small.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..paths import DATA_DIR, missing_data

N_TRAIN = 100_000
N_VAL = 10_000
N_FOLDS = 5
SPLIT_SEED = 20190807

SPLIT_FILE = DATA_DIR / "splits" / "qm9.npz"


@dataclass(frozen=True)
class Split:
    """QM9 indices of one fold's training, validation and test molecules."""

    fold: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    _salt = b""  # class attribute, not a field: keeps hashes of different data sets apart

    @property
    def sha256(self) -> str:
        """Hash identifying this split; stored in checkpoints to refuse models from another split."""
        h = hashlib.sha256(self._salt)
        for part in (self.train, self.val, self.test):
            h.update(np.sort(part).astype(np.int64).tobytes())
            h.update(b"|")
        return h.hexdigest()[:16]


def make_splits(qm9_index: np.ndarray, n_train: int = N_TRAIN, n_val: int = N_VAL, n_folds: int = N_FOLDS,
                seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Deterministic test set and per-fold validation sets from the QM9 indices of a data set."""
    qm9_index = np.sort(np.asarray(qm9_index, dtype=np.int64))
    n_test = qm9_index.size - n_train - n_val
    if n_test <= 0:
        raise ValueError(f"{qm9_index.size} molecules cannot hold {n_train} training + {n_val} validation + a test set")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(qm9_index)
    test, pool = np.sort(perm[:n_test]), perm[n_test:]
    out = {"test": test}
    for k in range(n_folds):
        fold_rng = np.random.default_rng([seed, k])
        out[f"val_{k}"] = np.sort(fold_rng.permutation(pool)[:n_val])
    return out


def write_splits(qm9_index: np.ndarray, path: Path = SPLIT_FILE) -> Path:
    """Write the split file (run once; the file is committed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, all=np.sort(qm9_index).astype(np.int32),
                        **{k: v.astype(np.int32) for k, v in make_splits(qm9_index).items()})
    return path


def load_split(fold: int = 0, path: Path = SPLIT_FILE) -> Split:
    """Fold ``fold`` (0 … N_FOLDS−1) of the stored split."""
    if not Path(path).is_file():
        raise missing_data(Path(path), "the QM9 split file")
    with np.load(path) as z:
        n_folds = sum(1 for k in z.files if k.startswith("val_"))
        if not 0 <= fold < n_folds:
            raise ValueError(f"fold must be in 0 … {n_folds - 1}, got {fold}")
        every, test, val = z["all"].astype(np.int64), z["test"].astype(np.int64), z[f"val_{fold}"].astype(np.int64)
    train = np.setdiff1d(every, np.concatenate([test, val]), assume_unique=True)
    return Split(fold=fold, train=train, val=val, test=test)


def random_subset(rows: np.ndarray, n: int | None, seed: int = 0) -> np.ndarray:
    """A seeded random draw of ``n`` of ``rows``, kept in their original order (all rows when ``n`` is None).

    QM9 is sorted by size, so the first N rows of a split are its smallest molecules: a part of a split is
    always drawn with this helper, never sliced.

    Raises:
        ValueError: if ``n`` is smaller than 1 or larger than ``len(rows)``.
    """
    rows = np.asarray(rows)
    if n is None:
        return rows
    if not 1 <= n <= len(rows):
        raise ValueError(f"random_subset: n must lie between 1 and {len(rows)} (the rows given), not {n}")
    keep = np.random.default_rng(seed).choice(len(rows), size=n, replace=False)
    return rows[np.sort(keep)]
