"""Seeded bootstrap intervals for claim checks, and a hypergeometric test for motifs among the top of a ranking.

A bootstrap replicate is a multiset of the sampling units (molecules) drawn with replacement. It is represented by
integer **weights**, how often each item was drawn, so every statistic here is a function
``statistic(weights, *arrays) -> (n_replicates,)`` of a weight matrix of shape ``(n_replicates, n_items)`` and the
aligned 1-D arrays (one value per item). With weights 1 it is the plain statistic of the data; with the counts of
a resample it equals the statistic of the resampled data exactly (tests check this against numpy and scipy). The
values are sorted once, not once per replicate, and replicates are processed in chunks, so 1000 resamples of 20,000
values take well under a second.

When the items are atoms, ``groups`` (the molecule of every atom) makes it a bootstrap over molecules: a drawn
molecule brings all its atoms, as atoms of one molecule are not independent. A statistic of a subset (one element
among all atoms) multiplies the weights by the subset's 0/1 mask, passed as one more aligned array; items of
weight 0 count for nothing, so claims that compare elements resample the same molecules for all of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats as _stats

from ..errors import ClaimError


@dataclass(frozen=True)
class Estimate:
    """A statistic of the data with its bootstrap percentile interval.

    Attributes:
        value: the statistic of the data (all weights 1), in the unit of the statistic.
        low, high: the percentile interval of the replicates at ``confidence``.
        confidence: e.g. 0.95.
        n_resamples: the number of bootstrap replicates.
        seed: the seed of the generator that drew them (same seed, same interval).
        replicates: the statistic of every replicate, shape ``(n_resamples,)``.
    """

    value: float
    low: float
    high: float
    confidence: float
    n_resamples: int
    seed: int
    replicates: np.ndarray = field(repr=False, compare=False)


def resample_weights(n_units: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``n_units`` units is drawn in ``n_resamples`` resamples of size ``n_units``.

    Draws are ``floor(u * n_units)`` of uniform doubles, one per draw, so splitting the replicates into chunks does
    not change them (``Generator.integers`` buffers 32-bit draws per call, which would).

    Returns:
        float64 array ``(n_resamples, n_units)`` of counts; each row sums to ``n_units``.
    """
    draws = (rng.random((n_resamples, n_units)) * n_units).astype(np.int64)
    draws += np.arange(n_resamples)[:, None] * n_units
    return np.bincount(draws.ravel(), minlength=n_resamples * n_units).reshape(n_resamples, n_units).astype(np.float64)


def bootstrap(statistic, *arrays, groups=None, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
              chunk_elements: int = 300_000) -> Estimate:
    """Percentile bootstrap interval of ``statistic`` over the aligned ``arrays``.

    Args:
        statistic: ``f(weights, *arrays) -> (n_replicates,)``, e.g. :func:`std`, :func:`iqr`, :func:`wasserstein`,
            :func:`pearson`, :func:`spearman`, :func:`mae_difference`, or a combination of them.
        *arrays: 1-D arrays of equal length (one value per item); resampled together (paired).
        groups: optional label per item (e.g. the molecule of every atom); then whole groups are drawn.
        n_resamples: number of replicates (≥ 100 for a 95 % interval).
        seed: seed of ``numpy.random.default_rng``.
        confidence: coverage of the interval, between 0 and 1.
        chunk_elements: replicates are evaluated in chunks of about this many weights (memory bound).

    Returns:
        :class:`Estimate` with the statistic of the data and its interval.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    if not arrays or any(a.ndim != 1 for a in arrays) or len({a.size for a in arrays}) != 1:
        raise ClaimError(f"bootstrap needs 1-D arrays of equal length; got shapes {[a.shape for a in arrays]}")
    n = arrays[0].size
    if n < 2:
        raise ClaimError(f"bootstrap needs at least 2 items; got {n}")
    if not 0 < confidence < 1:
        raise ClaimError(f"confidence must lie between 0 and 1; got {confidence}")
    if n_resamples < 1:
        raise ClaimError(f"n_resamples must be ≥ 1; got {n_resamples}")
    if groups is None:
        codes, n_units = None, n
    else:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ClaimError(f"groups must have one label per item ({n}); got shape {groups.shape}")
        codes, uniques = _factorize(groups)
        n_units = uniques
    value = float(np.asarray(statistic(np.ones((1, n)), *arrays)).reshape(-1)[0])
    rng = np.random.default_rng(seed)
    chunk = max(1, chunk_elements // max(n, n_units))
    replicates = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        weights = resample_weights(n_units, size, rng)
        if codes is not None:
            weights = weights[:, codes]
        replicates[start:start + size] = statistic(weights, *arrays)
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(replicates, [alpha, 100 - alpha])
    return Estimate(value, float(low), float(high), confidence, n_resamples, seed, replicates)


def _factorize(labels) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(-1), uniques.size


# --- weighted statistics: weights (b, n) of counts, arrays (n,) or (b, n); every function returns (b,) ----------

def mean(weights, x) -> np.ndarray:
    """Mean of ``x`` (unit of ``x``)."""
    x = np.asarray(x, dtype=np.float64)
    total = weights.sum(1)
    return (weights @ x if x.ndim == 1 else np.einsum("ij,ij->i", weights, x)) / total


def std(weights, x) -> np.ndarray:
    """Population standard deviation (ddof 0, as ``np.std``) of ``x``, in the unit of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()  # centred once, so the moments below do not cancel
    return np.sqrt(np.maximum(mean(weights, x * x) - mean(weights, x) ** 2, 0.0))


def quantiles(weights, x, qs) -> list[np.ndarray]:
    """The quantiles ``qs`` (each 0–1) of ``x``, linear interpolation between order statistics as ``np.quantile``.

    Exact for integer weights (each item counted as often as its weight).
    """
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(weights[:, order], axis=1)
    total = cw[:, -1]
    # rows are non-decreasing: shifting row r by r * (total + 1) makes the whole matrix one sorted array
    shift = np.arange(len(cw)) * (total.max() + 1)
    flat = (cw + shift[:, None]).ravel()
    first = np.arange(len(cw)) * xs.size

    def order_statistic(k):  # the k-th (0-based): the first sorted item whose cumulative count exceeds k
        pos = np.searchsorted(flat, k + shift, side="right") - first
        return xs[np.minimum(pos, xs.size - 1)]

    out = []
    for q in qs:
        h = (total - 1) * q
        k0 = np.floor(h)
        lo, hi = order_statistic(k0), order_statistic(np.minimum(k0 + 1, total - 1))
        out.append(lo + (h - k0) * (hi - lo))
    return out


def quantile(weights, x, q: float) -> np.ndarray:
    """The ``q`` quantile (0–1) of ``x``, see :func:`quantiles`."""
    return quantiles(weights, x, [q])[0]


def iqr(weights, x) -> np.ndarray:
    """Interquartile range (75th − 25th percentile, as ``np.percentile``) of ``x``, in the unit of ``x``."""
    q25, q75 = quantiles(weights, x, [0.25, 0.75])
    return q75 - q25


def wasserstein(weights, a, b) -> np.ndarray:
    """Wasserstein-1 distance between the distributions of ``a`` and of ``b`` (aligned, same weights), in their
    unit; equals ``scipy.stats.wasserstein_distance`` of the two resampled samples."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    values = np.concatenate([a, b])
    order = np.argsort(values, kind="stable")
    sign = np.where(order < a.size, 1.0, -1.0)
    cdf_gap = np.cumsum(weights[:, order % a.size] * sign, axis=1)  # (F_a − F_b) × total weight
    return np.abs(cdf_gap[:, :-1]) @ np.diff(values[order]) / weights.sum(1)


def scaled_wasserstein(weights, a, b) -> np.ndarray:
    """:func:`wasserstein` divided by the pooled standard deviation ``sqrt((var_a + var_b) / 2)`` — scale-free, the
    same definition as :func:`xatom.analysis.partitioning.scaled_wasserstein`."""
    pooled = np.sqrt(0.5 * (std(weights, a) ** 2 + std(weights, b) ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return wasserstein(weights, a, b) / pooled


def pearson(weights, a, b) -> np.ndarray:
    """Pearson correlation of ``a`` and ``b`` (dimensionless, −1…1; NaN when one of them is constant)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a - a.mean(axis=-1, keepdims=True), b - b.mean(axis=-1, keepdims=True)  # centred once
    ma, mb = mean(weights, a), mean(weights, b)
    cov = mean(weights, a * b) - ma * mb
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.sqrt((mean(weights, a * a) - ma ** 2) * (mean(weights, b * b) - mb ** 2))


def ranks(weights, x) -> np.ndarray:
    """Mid-ranks (1-based, ties averaged as in ``scipy.stats.rankdata``) of every item within each replicate;
    shape ``(b, n)``."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    new = np.concatenate([[True], xs[1:] != xs[:-1]])
    counts = weights[:, order]
    if not new.all():  # ties: one count per block of equal values
        counts = np.add.reduceat(counts, np.flatnonzero(new), axis=1)
    mid = np.cumsum(counts, axis=1) - (counts - 1) / 2
    if not new.all():
        mid = mid[:, np.cumsum(new) - 1]
    out = np.empty_like(mid)
    out[:, order] = mid
    return out


def spearman(weights, a, b) -> np.ndarray:
    """Spearman rank correlation of ``a`` and ``b`` (dimensionless): Pearson of the mid-ranks."""
    centre = (weights.sum(1, keepdims=True) + 1) / 2  # the weighted mean of mid-ranks 1…N, ties or not
    ra, rb = ranks(weights, a) - centre, ranks(weights, b) - centre
    dot = lambda x, y: np.einsum("ij,ij,ij->i", weights, x, y)  # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        return dot(ra, rb) / np.sqrt(dot(ra, ra) * dot(rb, rb))


def mae(weights, error) -> np.ndarray:
    """Mean absolute error (unit of ``error``)."""
    return mean(weights, np.abs(error))


def rmse(weights, error) -> np.ndarray:
    """Root-mean-square error (unit of ``error``)."""
    return np.sqrt(mean(weights, np.asarray(error) ** 2))


def mae_difference(weights, error_a, error_b) -> np.ndarray:
    """MAE of ``error_a`` minus MAE of ``error_b`` on the same items (paired); > 0 when b is more accurate."""
    return mae(weights, error_a) - mae(weights, error_b)


def rmse_difference(weights, error_a, error_b) -> np.ndarray:
    """RMSE of ``error_a`` minus RMSE of ``error_b`` on the same items (paired); > 0 when b is more accurate."""
    return rmse(weights, error_a) - rmse(weights, error_b)


# --- motifs among the top of a ranking --------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrichment:
    """Hypergeometric test of a motif among the top ``drawn`` items of a ranking.

    Attributes:
        population: all items (e.g. rings); with_motif: how many carry the motif; drawn: the top k;
        hits: motif carriers among the top k; expected: ``drawn * with_motif / population``;
        p_value: P(X ≥ hits) for ``alternative="greater"`` (enriched), P(X ≤ hits) for ``"less"`` (depleted),
        X hypergeometric, i.e. k items drawn at random without replacement.
    """

    population: int
    with_motif: int
    drawn: int
    hits: int
    expected: float
    p_value: float
    alternative: str


def enrichment(population: int, with_motif: int, drawn: int, hits: int, alternative: str = "greater") -> Enrichment:
    """Hypergeometric test: is a motif more (``"greater"``) or less (``"less"``) frequent among ``drawn`` chosen
    items than among all ``population`` items?

    Args:
        population: number of items; with_motif: of which carry the motif; drawn: size of the top list;
        hits: motif carriers in the top list; alternative: ``"greater"`` or ``"less"``.
    """
    if alternative not in ("greater", "less"):
        raise ClaimError(f"alternative must be 'greater' or 'less'; got {alternative!r}")
    if not (0 <= with_motif <= population and 0 < drawn <= population
            and max(0, drawn + with_motif - population) <= hits <= min(drawn, with_motif)):
        raise ClaimError(f"impossible counts: population {population}, with motif {with_motif}, drawn {drawn}, "
                         f"hits {hits}")
    dist = _stats.hypergeom(population, with_motif, drawn)
    p = dist.sf(hits - 1) if alternative == "greater" else dist.cdf(hits)
    return Enrichment(population, with_motif, drawn, hits, drawn * with_motif / population, float(p), alternative)


def top_k(scores, k: int, lowest: bool = True) -> np.ndarray:
    """Positions of the ``k`` best items (lowest scores first when ``lowest``; ties keep input order); for 2-D
    ``scores`` (replicates × items) one row of positions per replicate."""
    scores = np.asarray(scores, dtype=np.float64)
    if not 0 < k <= scores.shape[-1]:
        raise ClaimError(f"k must lie between 1 and the number of items ({scores.shape[-1]}); got {k}")
    return np.argsort(scores if lowest else -scores, axis=-1, kind="stable")[..., :k]


def topk_enrichment(flags, scores, k: int = 10, lowest: bool = True, alternative: str = "greater") -> Enrichment:
    """:func:`enrichment` of the items flagged in ``flags`` (bool per item) among the top ``k`` of ``scores``."""
    flags = np.asarray(flags, dtype=bool)
    if flags.shape != np.shape(scores):
        raise ClaimError(f"flags {flags.shape} and scores {np.shape(scores)} must have one entry per item")
    hits = int(flags[top_k(scores, k, lowest)].sum())
    return enrichment(flags.size, int(flags.sum()), k, hits, alternative)


def topk_stability(reference, replicates, k: int = 10, lowest: bool = True) -> dict:
    """How many of the reference's top ``k`` items every replicate ranking keeps in its own top ``k``.

    The replicates must perturb the *scores* — other folds' scores of the same items, or :func:`noisy_scores`.
    Resampling the items themselves says nothing about a ranking of fixed scores: a drawn top item stays on top,
    so the overlap is just the number of top items drawn, ≈ k (1 − 1/e) ≈ 0.63 k for any data.

    Args:
        reference: score per item ``(n,)``; replicates: ``(r, n)`` scores of the same items.

    Returns:
        ``{"mean_overlap", "min_overlap", "overlaps" (r,), "frequency" (n,)}`` — frequency: the share of replicates
        that put each item in their top k.
    """
    replicates = np.atleast_2d(np.asarray(replicates, dtype=np.float64))
    if replicates.shape[1:] != np.shape(reference):
        raise ClaimError(f"replicates {replicates.shape} must score the same items as the reference "
                         f"{np.shape(reference)}")
    ref = np.zeros(replicates.shape[1], dtype=bool)
    ref[top_k(reference, k, lowest)] = True
    tops = top_k(replicates, k, lowest)
    overlaps = ref[tops].sum(1)
    frequency = np.bincount(tops.ravel(), minlength=ref.size) / len(replicates)
    return {"mean_overlap": float(overlaps.mean()), "min_overlap": int(overlaps.min()), "overlaps": overlaps,
            "frequency": frequency}


def noisy_scores(scores, residuals, n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """Residual bootstrap of a ranking: ``scores`` plus residuals drawn with replacement, e.g. the differences of
    each fold's scores from the mean over folds. Returns ``(n_resamples, n)`` in the unit of ``scores``."""
    scores, residuals = np.asarray(scores, dtype=np.float64), np.asarray(residuals, dtype=np.float64).ravel()
    if residuals.size == 0:
        raise ClaimError("noisy_scores needs at least one residual")
    rng = np.random.default_rng(seed)
    return scores + rng.choice(residuals, size=(n_resamples, scores.size))
