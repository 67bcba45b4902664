"""Prediction accuracy on the test split, next to the paper's Table 1."""
from __future__ import annotations

import numpy as np
import pandas as pd

PAPER_TABLE1 = {
    ("bp", "energy"): (0.77, 1.32),
    ("bp", "dipole"): (0.073, 0.118),
    ("schnet", "energy"): (0.35, 0.94),
    ("schnet", "dipole"): (0.025, 0.050),
}
"""(MAE, RMSE) of the paper's models trained on 100k QM9 molecules: kcal/mol for energies, Debye for dipoles."""

UNITS = {"energy": "kcal/mol", "dipole": "D"}


def mae_rmse(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    err = np.asarray(pred, dtype=np.float64) - np.asarray(ref, dtype=np.float64)
    return float(np.abs(err).mean()), float(np.sqrt((err ** 2).mean()))


def table1(results: dict) -> pd.DataFrame:
    """Our MAE/RMSE beside the paper's.

    Args:
        results: ``{(kind, target): (predictions, references)}`` on the test split.
    """
    rows = []
    for (kind, target), (pred, ref) in results.items():
        mae, rmse = mae_rmse(pred, ref)
        paper_mae, paper_rmse = PAPER_TABLE1[(kind, target)]
        digits = 2 if target == "energy" else 3
        rows.append({"model": {"bp": "Behler–Parrinello", "schnet": "SchNet"}[kind], "property": target,
                     "unit": UNITS[target], "MAE": round(mae, digits), "RMSE": round(rmse, digits),
                     "paper MAE": paper_mae, "paper RMSE": paper_rmse,
                     "MAE / paper": round(mae / paper_mae, 1)})
    return pd.DataFrame(rows).set_index(["model", "property"])


def fold_spread(maes: dict) -> pd.DataFrame:
    """Mean and standard deviation of the test MAE across folds; ``maes``: name → {fold: MAE}."""
    rows = [{"model": name, "folds": len(v), "mean MAE": float(np.mean(list(v.values()))),
             "std across folds": float(np.std(list(v.values()), ddof=1)) if len(v) > 1 else float("nan")}
            for name, v in maes.items()]
    return pd.DataFrame(rows).set_index("model")
