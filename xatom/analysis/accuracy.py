"""Prediction accuracy on the test split, next to the paper's Table 1."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..tasks import TASKS

PAPER_TABLE1 = {
    ("bp", "energy"): (0.77, 1.32),
    ("bp", "dipole"): (0.073, 0.118),
    ("schnet", "energy"): (0.35, 0.94),
    ("schnet", "dipole"): (0.025, 0.050),
}
"""(MAE, RMSE) of the paper's models trained on 100k QM9 molecules: kcal/mol for energies, Debye for dipoles."""

UNITS = {name: TASKS[name].unit for name in ("energy", "dipole")}
"""Unit of each QM9 target (from :data:`xatom.tasks.TASKS`)."""

ACCURACY_BARS = {"schnet-energy": 0.40, "schnet-dipole": 0.038, "bp-energy": 0.77, "bp-dipole": 0.086}
"""The project's bars on the fold-0 test MAE (issue 14; kcal/mol, D); energies in the paper's partition."""

FOLD_AGREEMENT = 0.15
"""Every fold's test MAE must lie within this fraction of its family's fold-0 test MAE (issue 14)."""

ARCHITECTURES = {"bp": "Behler–Parrinello", "schnet": "SchNet"}


def table_models() -> list[str]:
    """Zoo names of the Table 1 models: both architectures and targets, energies in both partitions
    (the paper's one mean per atom first, then the per-element ``-elementref`` comparison models)."""
    from ..zoo import model_name

    return [model_name(kind, target, partition) for kind, target in PAPER_TABLE1
            for partition in (("atom", "element") if target == "energy" else (None,))]


def mae_rmse(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    err = np.asarray(pred, dtype=np.float64) - np.asarray(ref, dtype=np.float64)
    return float(np.abs(err).mean()), float(np.sqrt((err ** 2).mean()))


def table1(results: dict) -> pd.DataFrame:
    """Our MAE/RMSE beside the paper's, one row per model.

    Args:
        results: ``{model name: (predictions, references)}`` on the test split, e.g. ``"bp-energy"`` (the paper's
            partition) and ``"bp-energy-elementref"`` (per-element baselines).
    """
    from ..zoo import split_name

    rows = []
    for name, (pred, ref) in results.items():
        kind, target, elementref = split_name(name)
        mae, rmse = mae_rmse(pred, ref)
        paper_mae, paper_rmse = PAPER_TABLE1[(kind, target)]
        digits = TASKS[target].digits
        partition = ("per-element" if elementref else "paper") if target == "energy" else "-"
        rows.append({"model": ARCHITECTURES[kind], "property": target, "partition": partition,
                     "unit": UNITS[target], "MAE": round(mae, digits), "RMSE": round(rmse, digits),
                     "paper MAE": paper_mae, "paper RMSE": paper_rmse,
                     "MAE / paper": round(mae / paper_mae, 1)})
    return pd.DataFrame(rows).set_index(["model", "property", "partition"])


def fold_spread(maes: dict) -> pd.DataFrame:
    """Test MAE of every fold, their mean and standard deviation, and the issue-14 checks.

    Args:
        maes: model name → {fold: test MAE}.

    Returns:
        One row per model: ``fold k`` columns, ``mean MAE``, ``std across folds``, ``largest |fold/fold 0 − 1|``
        (NaN without fold 0 or another fold), ``folds agree`` (all within :data:`FOLD_AGREEMENT` of fold 0),
        ``bar`` (:data:`ACCURACY_BARS`, NaN where none) and ``fold 0 meets bar``.
    """
    folds = sorted({f for v in maes.values() for f in v})
    rows = []
    for name, v in maes.items():
        values = np.array(list(v.values()), dtype=float)
        others = [v[f] for f in v if f != 0]
        deviation = max(abs(m / v[0] - 1) for m in others) if 0 in v and others else float("nan")
        bar = ACCURACY_BARS.get(name, float("nan"))
        rows.append({"model": name, **{f"fold {f}": v.get(f, float("nan")) for f in folds},
                     "mean MAE": float(values.mean()),
                     "std across folds": float(values.std(ddof=1)) if values.size > 1 else float("nan"),
                     "largest |fold/fold 0 − 1|": deviation,
                     "folds agree": bool(deviation <= FOLD_AGREEMENT) if deviation == deviation else None,
                     "bar": bar, "fold 0 meets bar": bool(v[0] <= bar) if 0 in v and bar == bar else None})
    return pd.DataFrame(rows).set_index("model")
