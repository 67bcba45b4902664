"""Claims about the ring ranking (notebook 03): deterministic ties, motif enrichment, top-10 stability across folds
and under fold-to-fold noise, and where a model books a ring carbon's bond energy. Fast and offline."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from xatom.analysis import bootstrap as B
from xatom.analysis import rings as R


def test_rank_breaks_near_ties_by_key_and_keeps_the_old_behaviour():
    metric = np.array([-2.00004, -3.0, -1.99996, -2.5])  # rings 0 and 2 differ only in float noise
    key = np.array([30, 10, 20, 40])  # e.g. QM9 indices
    assert R.rank(metric).tolist() == [1, 3, 0, 2]  # no key: exact values, ties would keep input order
    assert R.rank(metric, key, decimals=1).tolist() == [1, 3, 2, 0]  # tied at -2.0 → lower key first
    noisy = metric + np.array([2e-5, 0.0, -2e-5, 0.0])  # another CPU: the two swap in exact order…
    assert R.rank(noisy, key, decimals=1).tolist() == R.rank(metric, key, decimals=1).tolist()  # …not here
    scores = R.ranking_scores(metric, key, decimals=1)
    assert np.argsort(scores, kind="stable").tolist() == R.rank(metric, key, decimals=1).tolist()
    with pytest.raises(ValueError):
        R.rank(metric, key[:2])


def test_top_sets_count_shared_rings_and_spearman():
    a = np.arange(20.0)
    b = a.copy()
    b[[0, 19]] = b[[19, 0]]  # ring 0 leaves the top, ring 19 enters
    c = -a  # reversed
    table = R.top_sets({"a": a, "b": b, "c": c}, k=5)
    assert table[["a", "b"]].values.tolist() == [["a", "b"], ["a", "c"], ["b", "c"]]
    assert table["overlap"].tolist() == [4, 0, 1]
    assert table["spearman"].iloc[1] == pytest.approx(-1.0)
    assert table["spearman"].iloc[0] == pytest.approx(stats.spearmanr(a, b).statistic)


def test_fold_residuals_ignore_constant_shifts_and_have_one_folds_spread():
    truth = np.linspace(-5, 5, 50)
    shifted = np.stack([truth, truth + 7.0, truth - 3.0])  # folds that differ by constants only
    np.testing.assert_allclose(R.fold_residuals(shifted), 0.0, atol=1e-12)
    rng = np.random.default_rng(0)
    folds = truth[None] + rng.normal(scale=2.0, size=(3, 50))
    many = np.concatenate([R.fold_residuals(truth[None] + rng.normal(scale=2.0, size=(3, 50))) for _ in range(400)])
    assert many.std() == pytest.approx(2.0, rel=0.03)  # sqrt(n/(n-1)) undoes the shrinkage of the fold mean
    assert R.fold_residuals(folds).shape == (3, 50)
    with pytest.raises(ValueError):
        R.fold_residuals(truth[None])


def test_top_overlap_under_noise_limits():
    truth = np.arange(100.0)
    same = np.stack([truth, truth + 1.0])  # no noise beyond a constant
    est = R.top_overlap_under_noise(same, k=10, n_resamples=200, seed=1)
    assert (est.value, est.low, est.high) == (10.0, 10.0, 10.0)
    rng = np.random.default_rng(2)
    noisy = truth[None] + rng.normal(scale=1e4, size=(3, 100))  # noise swamps the scores
    est = R.top_overlap_under_noise(noisy, k=10, n_resamples=500, seed=1)
    assert 1.0 < est.value < 5.0 and est.low <= est.value <= est.high  # above chance only through the mean's noise
    replicates = B.noisy_scores(noisy.mean(0), R.fold_residuals(noisy), n_resamples=500, seed=1)
    by_hand = B.topk_stability(noisy.mean(0), replicates, k=10)
    assert est.value == pytest.approx(by_hand["mean_overlap"])
    again = R.top_overlap_under_noise(noisy, k=10, n_resamples=500, seed=1)
    np.testing.assert_array_equal(est.replicates, again.replicates)  # seeded


def test_motif_enrichment_is_the_hypergeometric_tail_of_the_deterministic_top():
    n = 40
    flags = np.zeros(n, dtype=bool)
    flags[[0, 1, 2, 25, 30]] = True
    metric = np.arange(n, dtype=float)
    metric[3] = metric[2] = 2.0  # a tie at the border of the top 3: ring 2 (key 5) loses to ring 3 (key 4)
    key = np.arange(n)[::-1].copy()
    motifs = pd.DataFrame({"m": flags, "never": np.zeros(n, bool)})
    table = R.motif_enrichment(motifs, metric, k=3, tie_break=key, decimals=1)
    assert table.loc["m", "hits"] == 2 and table.loc["m", "with motif"] == 5 and table.loc["m", "rings"] == n
    assert table.loc["m", "p_value"] == pytest.approx(stats.hypergeom(n, 5, 3).sf(1))
    assert table.loc["m", "expected"] == pytest.approx(3 * 5 / n)
    assert table.loc["never", "p_value"] == pytest.approx(1.0)
    direct = B.enrichment(n, 5, 3, 2)
    assert direct.p_value == pytest.approx(table.loc["m", "p_value"])
    shares = R.motif_table(motifs, {"x": metric}, tops=(3,), tie_break=key, decimals=1)
    assert shares.loc["m", "x top 3"] == pytest.approx(2 / 3)


def test_ring_carbon_energies_name_each_substituent():
    from rdkit import Chem

    recs, numbers = [], []
    for smi in ("Oc1ccccc1", "Fc1ccccc1C"):
        mol = Chem.AddHs(Chem.MolFromSmiles(smi))
        (ring, hs), = R.aromatic_carbon_rings(mol)
        recs.append({"row": len(recs), "ring_atoms": ring, "ring_h_atoms": hs, "mol": mol})
        numbers.append([a.GetAtomicNum() for a in mol.GetAtoms()])
    rings = pd.DataFrame(recs)
    sizes = [len(z) for z in numbers]
    offsets = R.prediction_offsets(sizes)
    energy = -np.arange(offsets[-1], dtype=float)
    table = R.ring_carbon_energies(rings, energy, offsets, np.array([0, 1]), np.concatenate(numbers))
    assert len(table) == 12
    assert table[table.ring == 0]["substituent"].value_counts().to_dict() == {"H": 5, "O": 1}
    assert table[table.ring == 1]["substituent"].value_counts().to_dict() == {"H": 4, "F": 1, "C": 1}
    np.testing.assert_allclose(table["E_bond"], table["E_C"] + table["E_substituent"])
    first = table.iloc[0]
    assert first["E_C"] == energy[int(first["atom"])]  # molecule 0 starts at 0
    # the total over a molecule is untouched by moving energy along a bond: the gauge the notebook teaches
    moved = energy.copy()
    o = [i for i, z in enumerate(numbers[0]) if z == 8][0]
    c = [n.GetIdx() for n in rings.mol[0].GetAtomWithIdx(o).GetNeighbors() if n.GetAtomicNum() == 6][0]
    moved[o] += 5.0
    moved[c] -= 5.0
    assert moved[:sizes[0]].sum() == pytest.approx(energy[:sizes[0]].sum())
    after = R.ring_carbon_energies(rings, moved, offsets, np.array([0, 1]), np.concatenate(numbers))
    row = after[(after.ring == 0) & (after.substituent == "O")].iloc[0]
    before = table[(table.ring == 0) & (table.substituent == "O")].iloc[0]
    assert row["E_bond"] == pytest.approx(before["E_bond"]) and row["E_C"] == pytest.approx(before["E_C"] - 5.0)
