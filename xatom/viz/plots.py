"""Matplotlib figures used by the notebooks. Functions take computed arrays and return a Figure."""
from __future__ import annotations

import io
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..files import write_atomic


def save(fig, name: str):
    """Save ``fig`` as PNG into ``$XATOM_OUTPUT/figures`` when that is set (as `xatom reproduce` does), atomically."""
    out = os.environ.get("XATOM_OUTPUT")
    if out:
        folder = Path(out) / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=120, bbox_inches="tight")
        write_atomic(folder / f"{name}.png", png.getvalue())
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


def learning_curves(logs: dict):
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
    """Per model: predicted vs reference (hexbin, log counts, with its colour bar) and the error histogram on a log
    scale, where nothing is hidden: errors beyond the central 99.5 % go into an overflow bar at each end, labelled
    with how many molecules it holds and the largest error; results: name → (pred, ref)."""
    n = len(results)
    fig, axes = plt.subplots(2, n, figsize=(3.6 * n, 6.4), squeeze=False)
    for k, (name, (pred, ref)) in enumerate(results.items()):
        ax = axes[0, k]
        cells = ax.hexbin(ref, pred, gridsize=60, bins="log", mincnt=1, cmap="viridis")
        fig.colorbar(cells, ax=ax, label="molecules per cell", shrink=0.85)
        lo, hi = float(min(ref.min(), pred.min())), float(max(ref.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], "r-", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"reference [{units[name]}]")
        ax.set_ylabel(f"predicted [{units[name]}]")
        err = np.asarray(pred, dtype=np.float64) - np.asarray(ref, dtype=np.float64)
        ax = axes[1, k]
        lim = float(np.quantile(np.abs(err), 0.995))
        width = 2 * lim / 100
        ax.hist(np.clip(err, -lim - width / 2, lim + width / 2), bins=102, range=(-lim - width, lim + width),
                color="tab:orange")
        for side, outside in ((-1, err < -lim), (1, err > lim)):
            if outside.any():
                extreme = err[outside].min() if side < 0 else err[outside].max()
                ax.annotate(f"{int(outside.sum())} beyond\n(to {extreme:.3g})", (side * (lim + width / 2), 1),
                            xycoords=("data", "axes fraction"), ha="right" if side > 0 else "left", va="top",
                            fontsize=7, color="tab:red")
        ax.set_yscale("log")
        ax.set_xlabel(f"error [{units[name]}] (end bars: overflow)")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ atom-wise partitioning (notebooks 02, 04)
def _value_range(values, quantiles=(0.001, 0.999), pad: float = 0.05):
    lo, hi = np.quantile(np.asarray(values, dtype=np.float64), quantiles)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo - pad * (hi - lo), hi + pad * (hi - lo)


def element_distributions(table, elements=("H", "C", "N", "O", "F"), row: str = "model", hue: str = "fold",
                          xlabel: str = "value", bins: int = 80, quantiles=(0.001, 0.999),
                          row_names: dict | None = None):
    """Paper Figures 2 and 4: one panel per element (columns) and per value of ``row`` (e.g. BP, SchNet),
    a normalised step histogram of ``table["value"]`` per value of ``hue`` (one colour per fold).

    Args:
        table: per-atom DataFrame with columns ``element``, ``value``, ``row`` and ``hue`` (see
            :func:`xatom.analysis.partitioning.per_atom_table`).
        xlabel: axis label with unit, e.g. ``"Ê_i [kcal/mol]"``.
        quantiles: the x range of each element column covers these quantiles of all its values (outliers cut).
    """
    elements = [e for e in elements if (table["element"] == e).any()]
    row_values = list(dict.fromkeys(table[row]))
    hue_values = sorted(table[hue].unique())
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(len(row_values), len(elements), figsize=(3.0 * len(elements), 2.4 * len(row_values)),
                             squeeze=False, sharex="col")
    for j, element in enumerate(elements):
        sel = table[table["element"] == element]
        edges = np.linspace(*_value_range(sel["value"], quantiles), bins + 1)
        for i, r in enumerate(row_values):
            ax = axes[i, j]
            for k, h in enumerate(hue_values):
                x = sel.loc[(sel[row] == r) & (sel[hue] == h), "value"].to_numpy()
                if x.size:
                    ax.hist(x, bins=edges, density=True, histtype="step", lw=1.2, color=colours(k % 10),
                            label=f"{hue} {h}")
            ax.set_yticks([])
            if i == 0:
                ax.set_title(element)
            if j == 0:
                ax.set_ylabel((row_names or {}).get(r, r))
            if i == len(row_values) - 1:
                ax.set_xlabel(xlabel)
    axes[0, -1].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def stacked_by_label(table, label: str = "label", by: str = "model", order=None, xlabel: str = "value",
                     bins: int = 80, quantiles=(0.001, 0.999), min_count: int = 50):
    """One panel per value of ``by``: histogram of ``table["value"]`` stacked by ``table[label]`` (e.g. the
    carbon environments "sp3 CH3", "sp2 CH", …); labels with fewer than ``min_count`` atoms are merged into
    "rare"."""
    table = table.copy()
    counts = table[label].value_counts()
    table[label] = table[label].where(table[label].map(counts) >= min_count, "rare")
    order = [o for o in (order or sorted(table[label].unique())) if (table[label] == o).any()]
    order += [o for o in sorted(table[label].unique()) if o not in order]
    panels = list(dict.fromkeys(table[by]))
    colours = plt.get_cmap("tab20")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 3.6), squeeze=False)
    for ax, p in zip(axes[0], panels):
        sel = table[table[by] == p]
        edges = np.linspace(*_value_range(sel["value"], quantiles), bins + 1)
        ax.hist([sel.loc[sel[label] == o, "value"].to_numpy() for o in order], bins=edges, stacked=True,
                color=[colours(k % 20) for k in range(len(order))], label=order)
        ax.set_title(str(p))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("atoms")
    axes[0, -1].legend(fontsize=7, frameon=False, ncol=1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def latent_vs_reference(table, reference: str, elements=("H", "C", "N", "O", "F"), row: str = "model",
                        xlabel: str = "reference", ylabel: str = "latent", bins: int = 60):
    """2D histogram (log colour scale) of ``table["value"]`` (y) against ``table[reference]`` (x): one panel per
    element and per value of ``row``, with the diagonal; e.g. latent charges q̂_i against Mulliken charges (both in e)."""
    from matplotlib.colors import LogNorm

    elements = [e for e in elements if (table["element"] == e).any()]
    row_values = list(dict.fromkeys(table[row]))
    fig, axes = plt.subplots(len(row_values), len(elements), figsize=(2.9 * len(elements), 2.7 * len(row_values)),
                             squeeze=False)
    for j, element in enumerate(elements):
        sel = table[table["element"] == element]
        lo, hi = _value_range(np.concatenate([sel["value"], sel[reference]]))
        for i, r in enumerate(row_values):
            ax = axes[i, j]
            s = sel[sel[row] == r]
            ax.hist2d(s[reference], s["value"], bins=bins, range=[[lo, hi], [lo, hi]], cmin=1, cmap="viridis",
                      norm=LogNorm())
            ax.plot([lo, hi], [lo, hi], "r-", lw=0.6)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            if i == 0:
                ax.set_title(element)
            if j == 0:
                ax.set_ylabel(f"{r}\n{ylabel}")
            if i == len(row_values) - 1:
                ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig


def paired_scatter(x, y, xlabel: str, ylabel: str, title: str | None = None, highlight=None,
                   highlight_label: str = ""):
    """Scatter of two quantities on the same items with the y = x line (e.g. a ring metric of two models);
    ``highlight`` is an optional boolean mask drawn on top in another colour."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig, ax = plt.subplots(figsize=(4.4, 4.0))
    ax.scatter(x, y, s=10, alpha=0.6, color="tab:blue")
    if highlight is not None:
        mask = np.asarray(highlight, dtype=bool)
        ax.scatter(x[mask], y[mask], s=18, color="tab:red", label=highlight_label or None)
        if highlight_label:
            ax.legend(frameon=False, fontsize=8)
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
