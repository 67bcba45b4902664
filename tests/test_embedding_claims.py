"""Intervals for the element-embedding claims (notebook 07): per-element scores, PCA resamples, the H/alkali
bootstrap over the alkali metals, the in-plane period order and the random null. Fast and offline."""
import numpy as np
import pytest

from xatom.analysis import bootstrap as B
from xatom.analysis import embeddings as E


def _clustered(noise=0.05, seed=0, dims=8):
    rng = np.random.default_rng(seed)
    centres = {g: rng.normal(size=dims) * 5 for g in E.MAIN_GROUPS}
    return {s: centres[E.GROUP[s]] + 0.3 * E.PERIOD[s] * np.eye(dims)[0] + noise * rng.normal(size=dims)
            for s in E.GROUP}


def _random(seed=0, dims=8):
    rng = np.random.default_rng(seed)
    return {s: rng.normal(size=dims) for s in E.GROUP}


def test_per_element_scores_average_to_the_table_metrics():
    for vectors in (_clustered(), _random()):
        symbols, X, groups = E.main_group_table(vectors)
        assert symbols == list(E.GROUP) and X.shape == (len(symbols), 8)
        assert groups.tolist() == [E.GROUP[s] for s in symbols]
        assert E.knn_purity_per_element(X, groups).mean() == pytest.approx(E.knn_group_purity(X, groups))
        assert E.silhouette_per_element(X, groups).mean() == pytest.approx(E.silhouette(X, groups))
    symbols, X, groups = E.main_group_table(_clustered())
    assert np.all(E.knn_purity_per_element(X, groups) == 1.0)


def test_main_group_table_skips_missing_elements():
    vectors = {s: v for s, v in _random().items() if s not in ("At", "Rn")}
    symbols, X, _ = E.main_group_table(vectors)
    assert "At" not in symbols and len(symbols) == len(E.GROUP) - 2 == len(X)


def test_plane_period_order_reads_the_order_within_a_projection():
    symbols = list(E.GROUP)
    coords = np.array([[E.PERIOD[s], 0.1 * E.GROUP[s]] for s in symbols], dtype=float)  # period along x
    assert E.plane_period_order(coords, symbols, 2) == pytest.approx(1.0)
    turned = coords @ np.array([[0.6, -0.8], [0.8, 0.6]])  # a rotation of the plane
    assert E.plane_period_order(turned, symbols, 15) == pytest.approx(1.0)  # any direction of the group's axis
    assert E.plane_period_order(-coords, symbols, 1) == pytest.approx(1.0)  # |ρ|: reversed is ordered too
    shuffled = coords.copy()
    members = [symbols.index(s) for s in E.MAIN_GROUPS[2]]
    shuffled[members, 0] = [3.0, 1.0, 5.0, 2.0, 4.0]  # Be..Ba placed out of order
    assert E.plane_period_order(shuffled, symbols, 2) < 0.9


def test_pca_resamples_value_is_the_full_pca_and_replicates_are_seeded():
    vectors = _clustered(noise=0.3)
    ratio = lambda c, r, s, g: r.sum()  # noqa: E731
    est = E.pca_resamples(vectors, ratio, n_resamples=50, seed=3)
    _, X, groups = E.main_group_table(vectors)
    assert est.value == pytest.approx(E.pca(X, 2)[1].sum())
    assert est.low <= est.high and est.n_resamples == 50 and est.replicates.shape == (50,)
    again = E.pca_resamples(vectors, ratio, n_resamples=50, seed=3)
    np.testing.assert_array_equal(est.replicates, again.replicates)
    purity = E.pca_resamples(vectors, lambda c, r, s, g: E.knn_group_purity(c, g), n_resamples=20, seed=0)
    assert purity.value == pytest.approx(E.clustering_metrics(vectors)["purity_2d"])


def test_hydrogen_alkali_bootstrap_matches_the_ratio_and_a_resample_by_hand():
    vectors = _random(seed=5)
    est = E.hydrogen_alkali_bootstrap(vectors, n_resamples=300, seed=2)
    assert est.value == pytest.approx(E.hydrogen_and_alkali(vectors)["ratio"])
    assert est.low <= est.high and np.isfinite(est.replicates).mean() > 0.99
    # replicate 0 by hand: the drawn multiset of metals, pairs of different metals only
    alkali = ["Li", "Na", "K", "Rb", "Cs"]
    w = B.resample_weights(5, 300, np.random.default_rng(2))[0]
    drawn = [a for a, n in zip(alkali, w) for _ in range(int(n))]
    h = np.mean([np.linalg.norm(vectors[a] - vectors["H"]) for a in drawn])
    pairs = [np.linalg.norm(vectors[a] - vectors[b]) for i, a in enumerate(drawn) for j, b in enumerate(drawn)
             if i != j and a != b]
    if pairs:
        assert est.replicates[0] == pytest.approx(h / np.mean(pairs))
    with pytest.raises(KeyError):
        E.hydrogen_alkali_bootstrap({s: v for s, v in vectors.items() if s != "H"})


def test_random_null_has_one_line_per_draw_and_chance_levels():
    symbols = list(E.GROUP)
    null = E.random_null(symbols, dims=8, n_draws=30, seed=1)
    assert len(null) == 30
    assert {"purity_full", "purity_2d", "silhouette_full", "variance_2pc", "H/alkali", "plane order g2"} <= set(null)
    assert null["purity_full"].mean() < 0.3 and abs(null["H/alkali"].mean() - 1.0) < 0.2
    np.testing.assert_array_equal(null.to_numpy(), E.random_null(symbols, dims=8, n_draws=30, seed=1).to_numpy())
