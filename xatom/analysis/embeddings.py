"""Element embeddings (paper section 3.3, Figure 7): PCA and numbers for "elements of a group cluster".

Pure functions on ``{symbol: vector}`` dictionaries: the rows of a trained SchNet's embedding matrix
(:func:`from_model`) or published embeddings from the ``elementembeddings`` package (:func:`published`, which
reads the package's data files directly; importing that package would pull heavy optional dependencies).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .. import elements

MAIN_GROUPS = {
    1: ["H", "Li", "Na", "K", "Rb", "Cs"],
    2: ["Be", "Mg", "Ca", "Sr", "Ba"],
    13: ["B", "Al", "Ga", "In", "Tl"],
    14: ["C", "Si", "Ge", "Sn", "Pb"],
    15: ["N", "P", "As", "Sb", "Bi"],
    16: ["O", "S", "Se", "Te", "Po"],
    17: ["F", "Cl", "Br", "I", "At"],
    18: ["He", "Ne", "Ar", "Kr", "Xe", "Rn"],
}
"""Main-group elements of periods 1–6 by IUPAC group (H placed in group 1, as in the paper's figure)."""

PERIOD = {s: p for members in MAIN_GROUPS.values() for p, s in
          zip([1, 2, 3, 4, 5, 6] if members[0] in ("H", "He") else [2, 3, 4, 5, 6], members)}
GROUP = {s: g for g, members in MAIN_GROUPS.items() for s in members}

KNOWN_SYMBOLS = set(elements.SYMBOLS[1:])

PUBLISHED = ("megnet16", "mat2vec", "magpie_sc", "oliynyk_sc", "skipatom_20201009_induced", "chgnet", "random_200")
"""Embeddings of the ``elementembeddings`` package compared in notebook 07 (file stems)."""


def from_model(model, symbols=None) -> dict[str, np.ndarray]:
    """Embedding rows of a SchNet model's element embedding matrix, by element symbol."""
    weights = model.representation.element_embeddings.detach().cpu().numpy()
    symbols = symbols or [s for g in MAIN_GROUPS.values() for s in g]
    return {s: weights[elements.atomic_number(s)].astype(np.float64) for s in symbols}


def _package_folder() -> Path:
    spec = importlib.util.find_spec("elementembeddings")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the published embeddings come from the 'elementembeddings' package: "
                                  "pip install --no-deps elementembeddings")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "element_representations"


def published(name: str) -> dict[str, np.ndarray]:
    """A published embedding from the ``elementembeddings`` data files, e.g. "megnet16" or "mat2vec"."""
    folder = _package_folder()
    path_json, path_csv = folder / f"{name}.json", folder / f"{name}.csv"
    if path_json.exists():
        raw = json.loads(path_json.read_text())
        return {k: np.asarray(v, dtype=np.float64) for k, v in raw.items() if k in KNOWN_SYMBOLS}
    if path_csv.exists():
        frame = pd.read_csv(path_csv, index_col=0)
        frame = frame.apply(pd.to_numeric, errors="coerce")
        return {str(k): row.to_numpy(np.float64) for k, row in frame.iterrows()
                if str(k) in KNOWN_SYMBOLS and np.isfinite(row.to_numpy(np.float64)).all()}
    have = sorted(p.stem for p in folder.glob("*.*"))
    raise FileNotFoundError(f"no embedding {name!r} in elementembeddings (have {have})")


def matrix(vectors: dict, symbols) -> np.ndarray:
    """Rows of ``vectors`` for ``symbols`` (all must be present)."""
    missing = [s for s in symbols if s not in vectors]
    if missing:
        raise KeyError(f"no embedding for {missing}")
    return np.stack([vectors[s] for s in symbols])


def pca(X: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates on the leading principal components (centred, not scaled) and their explained variance ratio."""
    from sklearn.decomposition import PCA

    model = PCA(n_components=n_components).fit(X)
    return model.transform(X), model.explained_variance_ratio_


def knn_group_purity(X: np.ndarray, groups, k: int = 3) -> float:
    """Mean share of each element's k nearest other elements (Euclidean) that belong to its group."""
    groups = np.asarray(groups)
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    return float((groups[nearest] == groups[:, None]).mean())


def silhouette(X: np.ndarray, groups) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(X, np.asarray(groups)))


def clustering_metrics(vectors: dict, symbols=None, k: int = 3) -> dict:
    """Group clustering of main-group elements: k-NN purity and silhouette in the full space and in the
    2D PCA projection, and the variance the two components explain."""
    symbols = [s for s in (symbols or GROUP) if s in vectors]
    X = matrix(vectors, symbols)
    groups = [GROUP[s] for s in symbols]
    coords, ratio = pca(X, 2)
    return {"elements": len(symbols), "dims": X.shape[1], "purity_full": knn_group_purity(X, groups, k),
            "purity_2d": knn_group_purity(coords, groups, k), "silhouette_full": silhouette(X, groups),
            "silhouette_2d": silhouette(coords, groups), "variance_2pc": float(ratio.sum())}


def all_metrics(vectors: dict, k: int = 3) -> dict:
    """:func:`clustering_metrics` plus the H/alkali distance ratio and the period order of groups 1, 2 and 15."""
    m = clustering_metrics(vectors, k=k)
    m["H/alkali"] = hydrogen_and_alkali(vectors)["ratio"]
    m.update({f"order g{g}": period_order(vectors, g) for g in (1, 2, 15)})
    return m


def random_baseline(n_elements_like: dict, dims: int, n_draws: int = 200, seed: int = 0, k: int = 3) -> dict:
    """Mean and standard deviation of :func:`all_metrics` for random Gaussian embeddings of ``dims``."""
    rng = np.random.default_rng(seed)
    symbols = [s for s in GROUP if s in n_elements_like]
    draws = [all_metrics({s: rng.normal(size=dims) for s in symbols}, k) for _ in range(n_draws)]
    frame = pd.DataFrame(draws)
    return {"mean": frame.mean().to_dict(), "std": frame.std().to_dict()}


def hydrogen_and_alkali(vectors: dict) -> dict:
    """Distance of H to the alkali metals vs the alkali metals' distances to each other (full space)."""
    alkali = [s for s in ("Li", "Na", "K", "Rb", "Cs") if s in vectors]
    if "H" not in vectors or len(alkali) < 2:
        return {"H_to_alkali": np.nan, "alkali_to_alkali": np.nan, "ratio": np.nan}
    A = matrix(vectors, alkali)
    h = np.linalg.norm(A - vectors["H"], axis=1).mean()
    pair = np.linalg.norm(A[:, None] - A[None], axis=-1)[np.triu_indices(len(alkali), 1)].mean()
    return {"H_to_alkali": float(h), "alkali_to_alkali": float(pair), "ratio": float(h / pair)}


def period_order(vectors: dict, group: int) -> float:
    """|Spearman ρ| between period and position along the group's own first principal axis (1 = ordered)."""
    symbols = [s for s in MAIN_GROUPS[group] if s in vectors and not (group == 1 and s == "H")]
    X = matrix(vectors, symbols)
    coords, _ = pca(X, 1)
    rho = stats.spearmanr([PERIOD[s] for s in symbols], coords[:, 0]).statistic
    return float(abs(rho))


def distance_correlation(a: dict, b: dict, symbols=None) -> float:
    """Spearman correlation of all pairwise element distances in two embeddings (elements in both)."""
    symbols = [s for s in (symbols or GROUP) if s in a and s in b]
    iu = np.triu_indices(len(symbols), 1)
    da = np.linalg.norm(matrix(a, symbols)[:, None] - matrix(a, symbols)[None], axis=-1)[iu]
    db = np.linalg.norm(matrix(b, symbols)[:, None] - matrix(b, symbols)[None], axis=-1)[iu]
    return float(stats.spearmanr(da, db).statistic)


def purity_by_group(vectors: dict, k: int = 3) -> pd.Series:
    """k-NN group purity (full space) of each group's members, by group."""
    symbols = [s for s in GROUP if s in vectors]
    X, groups = matrix(vectors, symbols), np.array([GROUP[s] for s in symbols])
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    hits = (groups[np.argsort(d, axis=1)[:, :k]] == groups[:, None]).mean(1)
    return pd.Series(hits, index=groups).groupby(level=0).mean().rename("purity")


# --- intervals for the claims of notebook 07 ------------------------------------------------------------------

def knn_purity_per_element(X: np.ndarray, groups, k: int = 3) -> np.ndarray:
    """Each element's share of its ``k`` nearest other elements (Euclidean) in its own group; the mean is
    :func:`knn_group_purity`."""
    groups = np.asarray(groups)
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    return (groups[nearest] == groups[:, None]).mean(1)


def silhouette_per_element(X: np.ndarray, groups) -> np.ndarray:
    """Silhouette value of every element (sklearn ``silhouette_samples``); the mean is :func:`silhouette`."""
    from sklearn.metrics import silhouette_samples

    return silhouette_samples(X, np.asarray(groups))


def main_group_table(vectors: dict, symbols=None) -> tuple[list, np.ndarray, np.ndarray]:
    """``(symbols, X, groups)``: the main-group elements present in ``vectors`` (in :data:`GROUP` order), their
    embedding rows and their IUPAC groups."""
    symbols = [s for s in (symbols or GROUP) if s in vectors]
    return symbols, matrix(vectors, symbols), np.array([GROUP[s] for s in symbols])


def plane_period_order(coords: np.ndarray, symbols, group: int) -> float:
    """|Spearman ρ| between period and position along the group's principal axis *within* a 2D projection
    (``coords``, one row per symbol), i.e. the ordering one sees in the Figure 7 plane (group 1 without H)."""
    symbols = list(symbols)
    members = [s for s in MAIN_GROUPS[group] if s in symbols and not (group == 1 and s == "H")]
    points = coords[[symbols.index(s) for s in members]]
    points = points - points.mean(0)
    axis = np.linalg.svd(points, full_matrices=False)[2][0]
    return float(abs(stats.spearmanr([PERIOD[s] for s in members], points @ axis).statistic))


def pca_resamples(vectors: dict, statistic, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
                  n_components: int = 2, symbols=None):
    """Percentile interval of a statistic of the PCA projection over resamples of the elements that define it.

    Every replicate fits the PCA on a bootstrap resample (with replacement) of the main-group elements, projects
    *all* elements onto it and evaluates ``statistic(coords, ratio, symbols, groups)`` (``ratio``: the explained
    variance ratio of the fitted components). The value is that of the PCA of all elements once. It says how much
    a claim read off Figure 7 depends on which elements happened to set the plane.

    Returns:
        :class:`~xatom.analysis.bootstrap.Estimate`.
    """
    from sklearn.decomposition import PCA

    from .bootstrap import Estimate

    symbols, X, groups = main_group_table(vectors, symbols)
    full = PCA(n_components=n_components).fit(X)
    value = float(statistic(full.transform(X), full.explained_variance_ratio_, symbols, groups))
    rng = np.random.default_rng(seed)
    replicates = np.empty(n_resamples)
    for r in range(n_resamples):
        pick = (rng.random(len(X)) * len(X)).astype(np.int64)
        fit = PCA(n_components=n_components).fit(X[pick])
        replicates[r] = statistic(fit.transform(X), fit.explained_variance_ratio_, symbols, groups)
    alpha = 100 * (1 - confidence) / 2
    low, high = np.nanpercentile(replicates, [alpha, 100 - alpha])
    return Estimate(value, float(low), float(high), confidence, n_resamples, seed, replicates)


def hydrogen_alkali_bootstrap(vectors: dict, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95):
    """The ratio of :func:`hydrogen_and_alkali` with a bootstrap over the alkali metals.

    A replicate draws the alkali metals (Li–Cs present) with replacement, weights ``w``: the H distance is the
    ``w``-weighted mean of d(H, A_i), the alkali distance the mean of d(A_i, A_j) over pairs of *different*
    metals weighted ``w_i w_j`` (a metal drawn twice is not its own neighbour). Replicates that drew one metal only
    have no pair and are left out of the interval.

    Returns:
        :class:`~xatom.analysis.bootstrap.Estimate` of the ratio (dimensionless; > 1: H apart).
    """
    from .bootstrap import Estimate, resample_weights

    alkali = [s for s in ("Li", "Na", "K", "Rb", "Cs") if s in vectors]
    if "H" not in vectors or len(alkali) < 2:
        raise KeyError("hydrogen_alkali_bootstrap needs H and at least two alkali metals")
    A = matrix(vectors, alkali)
    to_h = np.linalg.norm(A - vectors["H"], axis=1)
    pair = np.linalg.norm(A[:, None] - A[None], axis=-1)
    off = ~np.eye(len(alkali), dtype=bool)

    def ratio(w):
        pw = w[:, :, None] * w[:, None, :] * off
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ to_h / w.sum(1)) / ((pw * pair).sum((1, 2)) / pw.sum((1, 2)))

    value = float(ratio(np.ones((1, len(alkali))))[0])
    replicates = ratio(resample_weights(len(alkali), n_resamples, np.random.default_rng(seed)))
    alpha = 100 * (1 - confidence) / 2
    low, high = np.nanpercentile(replicates, [alpha, 100 - alpha])
    return Estimate(value, float(low), float(high), confidence, n_resamples, seed, replicates)


def random_null(symbols, dims: int, n_draws: int = 200, seed: int = 0, k: int = 3) -> pd.DataFrame:
    """Null distribution for the claims: per draw of random Gaussian embeddings (``dims`` per element, the
    elements ``symbols``), the full-space and 2D k-NN purity, the silhouette, the H/alkali ratio and the
    in-plane period order of groups 1, 2 and 15. One line per draw."""
    rng = np.random.default_rng(seed)
    symbols = [s for s in GROUP if s in set(symbols)]
    groups = np.array([GROUP[s] for s in symbols])
    rows = []
    for _ in range(n_draws):
        vectors = {s: rng.normal(size=dims) for s in symbols}
        X = matrix(vectors, symbols)
        coords, ratio = pca(X, 2)
        rows.append({"purity_full": knn_group_purity(X, groups, k), "purity_2d": knn_group_purity(coords, groups, k),
                     "silhouette_full": silhouette(X, groups), "variance_2pc": float(ratio.sum()),
                     "H/alkali": hydrogen_and_alkali(vectors)["ratio"],
                     **{f"plane order g{g}": plane_period_order(coords, symbols, g) for g in (1, 2, 15)}})
    return pd.DataFrame(rows)
