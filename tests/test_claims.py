"""Bootstrap intervals and claim records: known answers on synthetic data, seeds, verdicts, JSON round trip."""
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from xatom.analysis import bootstrap as B
from xatom.analysis.claims import (FAILS, HOLDS, UNDECIDED, Claim, claim, claims_path, claims_table, read_claims,
                                   show_claims, write_claims)
from xatom.errors import ClaimError, DataFormatError


def _expanded(weights_row):
    """Positions of the resampled items: item i repeated weights_row[i] times."""
    return np.repeat(np.arange(weights_row.size), weights_row.astype(int))


def test_weighted_statistics_equal_the_statistics_of_the_resampled_data():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 6, size=40).astype(float)  # ties, for quantiles and ranks
    b = 0.5 * a + rng.normal(size=40)
    weights = B.resample_weights(40, 6, rng)
    assert (weights.sum(1) == 40).all()
    for row in range(6):
        w, idx = weights[row:row + 1], _expanded(weights[row])
        xa, xb = a[idx], b[idx]
        assert B.mean(w, a)[0] == pytest.approx(xa.mean(), abs=1e-12)
        assert B.std(w, b)[0] == pytest.approx(np.std(xb), abs=1e-12)
        assert B.iqr(w, b)[0] == pytest.approx(np.subtract(*np.percentile(xb, [75, 25])), abs=1e-12)
        assert B.quantile(w, a, 0.1)[0] == pytest.approx(np.quantile(xa, 0.1), abs=1e-12)
        assert B.wasserstein(w, a, b)[0] == pytest.approx(stats.wasserstein_distance(xa, xb), abs=1e-12)
        assert B.pearson(w, a, b)[0] == pytest.approx(np.corrcoef(xa, xb)[0, 1], abs=1e-12)
        assert B.spearman(w, a, b)[0] == pytest.approx(stats.spearmanr(xa, xb).statistic, abs=1e-12)
        assert B.rmse_difference(w, a, b)[0] == pytest.approx(
            np.sqrt((xa ** 2).mean()) - np.sqrt((xb ** 2).mean()), abs=1e-12)
        assert B.mae_difference(w, a, b)[0] == pytest.approx(np.abs(xa).mean() - np.abs(xb).mean(), abs=1e-12)


def test_the_value_is_the_statistic_of_the_data():
    x = np.random.default_rng(0).normal(2.0, 3.0, size=500)
    est = B.bootstrap(B.iqr, x, n_resamples=200)
    assert est.value == pytest.approx(np.subtract(*np.percentile(x, [75, 25])))
    assert est.low < est.value < est.high and est.replicates.shape == (200,)


@pytest.mark.parametrize("confidence, low, high", [(0.95, 0.90, 0.99), (0.5, 0.38, 0.62)])
def test_interval_of_the_mean_covers_the_true_mean_at_its_confidence(confidence, low, high):
    """200 seeded samples of 100 N(0, 1) values: the interval covers 0 in ≈ confidence of them (binomial
    standard error 1.5 % at 95 %, 3.5 % at 50 %; the percentile bootstrap runs a little short at n = 100)."""
    rng = np.random.default_rng(2024)
    covered = 0
    for seed in range(200):
        est = B.bootstrap(B.mean, rng.normal(size=100), n_resamples=1000, seed=seed, confidence=confidence)
        covered += est.low <= 0.0 <= est.high
    assert low <= covered / 200 <= high


def test_interval_width_of_the_mean_matches_the_standard_error():
    x = np.random.default_rng(1).normal(size=2000)
    est = B.bootstrap(B.mean, x, n_resamples=2000, seed=5)
    assert (est.high - est.low) / (2 * 1.96 * x.std() / math.sqrt(x.size)) == pytest.approx(1.0, abs=0.1)


def test_same_seed_same_interval_other_seed_other_interval_chunks_do_not_matter():
    x = np.random.default_rng(0).normal(size=1001)
    first = B.bootstrap(B.std, x, seed=7)
    assert np.array_equal(first.replicates, B.bootstrap(B.std, x, seed=7).replicates)
    assert not np.array_equal(first.replicates, B.bootstrap(B.std, x, seed=8).replicates)
    chunked = B.bootstrap(B.std, x, seed=7, chunk_elements=3 * 1001)  # 3 replicates per chunk, not 299
    np.testing.assert_allclose(chunked.replicates, first.replicates, rtol=1e-12)  # same draws, BLAS rounding
    by_hand = B.resample_weights(1001, 1000, np.random.default_rng(7))
    np.testing.assert_allclose(B.std(by_hand, x), first.replicates, rtol=1e-12)


def test_groups_resample_whole_molecules():
    """50 molecules of 4 identical atoms each: the bootstrap over molecules is the bootstrap of the 50 values
    (same seed, same draws), and it is twice as wide as the naive bootstrap over the 200 atoms."""
    per_molecule = np.random.default_rng(4).normal(size=50)
    atoms, molecule = np.repeat(per_molecule, 4), np.repeat(np.arange(50) * 7 + 3, 4)  # any labels
    grouped = B.bootstrap(B.mean, atoms, groups=molecule, seed=1)
    plain = B.bootstrap(B.mean, per_molecule, seed=1)
    np.testing.assert_allclose(grouped.replicates, plain.replicates, rtol=1e-12)
    naive = B.bootstrap(B.mean, atoms, seed=1)
    assert (grouped.high - grouped.low) / (naive.high - naive.low) == pytest.approx(2.0, rel=0.15)


def test_a_mask_on_the_weights_is_the_statistic_of_the_subset():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=60), rng.normal(size=60)
    mask = rng.random(60) < 0.4
    w = B.resample_weights(60, 4, rng) + 1  # every item present, so the subset is never empty
    for statistic, arrays in [(B.std, (a,)), (B.iqr, (a,)), (B.wasserstein, (a, b)), (B.spearman, (a, b))]:
        np.testing.assert_allclose(statistic(w * mask, *arrays), statistic(w[:, mask], *(x[mask] for x in arrays)),
                                   rtol=1e-12, err_msg=statistic.__name__)


def test_paired_bootstrap_sees_a_small_but_consistent_difference():
    """Model b is 0.02 better on average on every molecule while both errors spread by 1: the paired interval of
    the MAE difference excludes 0, the two separate MAE intervals overlap."""
    rng = np.random.default_rng(0)
    err_b = rng.normal(size=5000)
    err_a = err_b + np.sign(err_b) * (0.02 + 0.05 * rng.normal(size=5000))
    est = B.bootstrap(B.mae_difference, err_a, err_b)
    assert est.value == pytest.approx(np.abs(err_a).mean() - np.abs(err_b).mean())
    assert 0 < est.low < 0.02 < est.high
    mae_a, mae_b = B.bootstrap(B.mae, err_a, seed=1), B.bootstrap(B.mae, err_b, seed=2)
    assert mae_a.low < mae_b.high  # unpaired, the same data decide nothing


def test_bootstrap_refuses_bad_input():
    with pytest.raises(ClaimError, match="equal length"):
        B.bootstrap(B.pearson, np.ones(5), np.ones(4))
    with pytest.raises(ClaimError, match="one label per item"):
        B.bootstrap(B.mean, np.ones(5), groups=np.ones(4))
    with pytest.raises(ClaimError, match="confidence"):
        B.bootstrap(B.mean, np.ones(5), confidence=95)


def test_hypergeometric_enrichment_against_counting():
    # 20 rings, 5 with the motif, top 4 holds 3 of them: P(X >= 3) by counting the subsets
    total = math.comb(20, 4)
    p_greater = sum(math.comb(5, h) * math.comb(15, 4 - h) for h in (3, 4)) / total
    p_less = sum(math.comb(5, h) * math.comb(15, 4 - h) for h in (0, 1, 2, 3)) / total
    e = B.enrichment(20, 5, 4, 3)
    assert e.p_value == pytest.approx(p_greater) and e.expected == pytest.approx(1.0)
    assert B.enrichment(20, 5, 4, 3, alternative="less").p_value == pytest.approx(p_less)
    with pytest.raises(ClaimError, match="impossible counts"):
        B.enrichment(20, 2, 4, 3)


def test_topk_enrichment_counts_the_lowest_scores():
    scores = np.arange(10.0)
    flags = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1], dtype=bool)
    e = B.topk_enrichment(flags, scores, k=2)
    assert (e.hits, e.with_motif, e.population) == (2, 3, 10)
    assert e.p_value == pytest.approx(1 / 15)  # both of the top 2 among 3 of 10: C(3,2)/C(10,2)
    assert B.topk_enrichment(flags, scores, k=2, lowest=False).hits == 1


def test_topk_stability_from_folds_and_from_score_noise():
    scores = np.arange(100.0)
    same = B.topk_stability(scores, np.stack([scores, scores + 0.1]), k=10)
    assert same["mean_overlap"] == 10 and same["min_overlap"] == 10
    assert same["frequency"][:10].tolist() == [1.0] * 10 and same["frequency"][10:].sum() == 0
    small = B.topk_stability(scores, B.noisy_scores(scores, [-0.2, 0.2], n_resamples=50), k=10)
    assert small["mean_overlap"] == 10  # noise below the gaps of 1 cannot reorder
    big = B.topk_stability(scores, B.noisy_scores(scores, np.random.default_rng(0).normal(0, 1e4, 500),
                                                  n_resamples=400), k=10)
    assert big["mean_overlap"] == pytest.approx(10 * 10 / 100, abs=0.3)  # a random top 10: k²/n in common


def _claim(comparison, low, high, value=None):
    value = (low + high) / 2 if value is None else value
    return Claim("c", "a sentence", "stat", "how", comparison, 0.0, value, low, high)


@pytest.mark.parametrize("comparison, low, high, verdict", [
    (">", 0.1, 0.3, HOLDS), (">", -0.3, -0.1, FAILS), (">", -0.1, 0.1, UNDECIDED), (">", -0.2, 0.0, FAILS),
    ("<", -0.3, -0.1, HOLDS), ("<", 0.1, 0.3, FAILS), ("<", -0.1, 0.1, UNDECIDED), ("<", 0.0, 0.2, FAILS)])
def test_verdict_from_the_interval(comparison, low, high, verdict):
    assert _claim(comparison, low, high).verdict == verdict


def test_verdict_without_interval_is_decided_by_the_value():
    assert claim("x", "s", "max change", "d", "<", 0.01, 0.002).verdict == HOLDS
    assert claim("x", "s", "max change", "d", "<", 0.01, 0.02).verdict == FAILS
    assert claim("x", "s", "max change", "d", "<", 0.01, 0.02).low is None


def test_claim_from_an_estimate_keeps_value_interval_and_seed():
    x = np.random.default_rng(0).normal(1.0, 1.0, size=400)
    est = B.bootstrap(B.mean, x, seed=3)
    c = claim("mean", "positive", "mean", "mean of x", ">", 0.0, est, unit="kcal/mol")
    assert (c.value, c.low, c.high, c.seed, c.n_resamples) == (est.value, est.low, est.high, 3, 1000)
    assert c.verdict == HOLDS


@pytest.mark.parametrize("kwargs, match", [({"comparison": ">="}, "comparison"), ({"value": math.nan}, "finite"),
                                           ({"low": 1.0, "high": 0.0}, "low ≤ high"), ({"low": 0.0}, "both ends")])
def test_malformed_claims_are_refused(kwargs, match):
    fields = dict(id="c", sentence="s", statistic="t", definition="d", comparison=">", threshold=0.0, value=0.5)
    with pytest.raises(ClaimError, match=match):
        Claim(**{**fields, **kwargs})


def test_json_round_trip_beside_the_notebook(tmp_path):
    claims = [_claim(">", 0.1, 0.3), claim("exact", "s", "t", "d", "<", 1.0, 0.5, note="n")]
    claims[0] = replace(claims[0], id="interval")
    path = write_claims("01_training_table", claims, tmp_path)
    assert path == tmp_path / "claims" / "01_training_table.json" == claims_path("01_training_table.ipynb", tmp_path)
    record = json.loads(path.read_text())
    assert record["notebook"] == "01_training_table" and record["claims"][0]["verdict"] == HOLDS
    assert read_claims(path) == claims
    record["claims"][0]["verdict"] = FAILS  # tampered: the numbers say holds
    path.write_text(json.dumps(record))
    with pytest.raises(DataFormatError, match="disagrees"):
        read_claims(path)
    with pytest.raises(ClaimError, match="repeated"):
        write_claims("01", [claims[1], claims[1]], tmp_path)


def test_output_folder_comes_from_xatom_output(tmp_path, monkeypatch):
    monkeypatch.setenv("XATOM_OUTPUT", str(tmp_path))
    assert write_claims("02_x", [_claim("<", -1, -0.5)]) == tmp_path / "claims" / "02_x.json"


def test_table_and_view_show_value_interval_threshold_and_coloured_verdict():
    claims = [_claim(">", 0.1, 0.3), Claim("u", "s", "t", "d", "<", 0.0, 0.0, -0.1, 0.1, unit="D")]
    table = claims_table(claims)
    assert table.loc["u", "interval"] == "[-0.1, 0.1]" and table.loc["u", "threshold"] == "< 0.0"
    assert table["verdict"].tolist() == [HOLDS, UNDECIDED]
    view = show_claims(claims)
    assert "undecided" in repr(view) and "0x" not in repr(view)  # plain text, stable for nbval
    assert "#fff3cd" in view._repr_html_() and "<table" in view._repr_html_()


def test_printed_numbers_always_read_as_floats():
    from xatom.analysis.claims import _number

    assert [_number(x) for x in (-1.0, 0.0, 123.0, 0.879, 1234.0)] == ["-1.0", "0.0", "123.0", "0.879", "1.23e+03"]
