"""Matplotlib figures used by the notebooks. Functions take computed arrays and return a Figure."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def save(fig, name: str):
    """Save ``fig`` as PNG into ``$XATOM_OUTPUT/figures`` when that is set (as `xatom reproduce` does)."""
    out = os.environ.get("XATOM_OUTPUT")
    if out:
        folder = Path(out) / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / f"{name}.png", dpi=120, bbox_inches="tight")
    return fig


def histograms(columns: dict, xlabels: dict, bins: int = 80, title: str | None = None):
    """One histogram panel per entry of ``columns`` (name → values)."""
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.2))
    for ax, (name, values) in zip(np.atleast_1d(axes), columns.items()):
        ax.hist(values, bins=bins, color="tab:blue", alpha=0.8)
        ax.set_xlabel(xlabels.get(name, name))
        ax.set_ylabel("molecules")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def learning_curves(logs: dict, unit: dict):
    """Validation MAE per epoch (log scale) for each model; ``logs`` maps name → DataFrame of log.csv."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for name, log in logs.items():
        ax = axes[0] if "energy" in name else axes[1]
        ax.plot(log["epoch"], log["val_mae"], label=name)
    for ax, u in zip(axes, ("kcal/mol", "D")):
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"validation MAE [{u}]")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def parity_and_errors(results: dict, units: dict):
    """Per model: predicted vs reference (hexbin) and the error histogram; results: name → (pred, ref)."""
    n = len(results)
    fig, axes = plt.subplots(2, n, figsize=(3.6 * n, 6.4), squeeze=False)
    for k, (name, (pred, ref)) in enumerate(results.items()):
        ax = axes[0, k]
        ax.hexbin(ref, pred, gridsize=60, bins="log", mincnt=1, cmap="viridis")
        lo, hi = float(min(ref.min(), pred.min())), float(max(ref.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], "r-", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"reference [{units[name]}]")
        ax.set_ylabel(f"predicted [{units[name]}]")
        err = pred - ref
        ax = axes[1, k]
        lim = np.quantile(np.abs(err), 0.995)
        ax.hist(err, bins=100, range=(-lim, lim), color="tab:orange")
        ax.set_yscale("log")
        ax.set_xlabel(f"error [{units[name]}]")
    fig.tight_layout()
    return fig
