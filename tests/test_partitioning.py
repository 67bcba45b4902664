"""Atom-wise partitioning analyses (xatom.analysis.partitioning): tables, spreads, distances, environments."""
import numpy as np
import pandas as pd
import pytest

import xatom
from xatom.analysis import partitioning as P
from xatom.bonds import bonded_pairs
from xatom.units import E_ANGSTROM_TO_DEBYE


@pytest.fixture(scope="module")
def tiny():
    """Three QM9-like molecules: water (O, H, H), methane (C, H×4), HF (F, H); ids 7, 11, 20."""
    water = xatom.Molecule([8, 1, 1], [[0, 0, 0], [0.76, 0.59, 0], [-0.76, 0.59, 0]])
    methane = xatom.Molecule([6, 1, 1, 1, 1], [[0, 0, 0], [0.63, 0.63, 0.63], [-0.63, -0.63, 0.63],
                                               [-0.63, 0.63, -0.63], [0.63, -0.63, -0.63]])
    hf = xatom.Molecule([9, 1], [[0, 0, 0], [0, 0, 0.92]])
    data = P.molecule_set([water, methane, hf])
    data.index = np.array([7, 11, 20])
    return data


def test_per_atom_table_shape_order_and_labels(tiny):
    rows = np.array([2, 0])  # HF first, then water
    values = np.arange(5.0)
    t = P.per_atom_table(tiny, rows, values, "bp-energy", fold=1)
    assert list(t.columns[:6]) == ["qm9_index", "row", "atom", "Z", "element", "value"]
    assert len(t) == 5
    assert t["qm9_index"].tolist() == [20, 20, 7, 7, 7]
    assert t["row"].tolist() == [2, 2, 0, 0, 0]
    assert t["atom"].tolist() == [0, 1, 0, 1, 2]
    assert t["Z"].tolist() == [9, 1, 8, 1, 1]
    assert t["element"].astype(str).tolist() == ["F", "H", "O", "H", "H"]
    assert list(t["element"].cat.categories) == ["H", "O", "F"]  # ordered by Z
    assert (t["model"] == "bp-energy").all() and (t["fold"] == 1).all()
    np.testing.assert_array_equal(t["value"], values)
    with pytest.raises(ValueError, match="per-atom values"):
        P.per_atom_table(tiny, rows, np.arange(4.0))


def test_molecule_sums_and_dipole_from_charges(tiny):
    rows = np.array([0, 1, 2])
    values = np.arange(10.0)
    np.testing.assert_allclose(P.molecule_sums(tiny, rows, values), [0 + 1 + 2, 3 + 4 + 5 + 6 + 7, 8 + 9])
    q = np.array([-0.8, 0.4, 0.4, 0, 0, 0, 0, 0, -0.3, 0.3])
    mu = P.dipole_from_charges(tiny, rows, q)
    np.testing.assert_allclose(mu[0], [0, 0.8 * 0.59 * E_ANGSTROM_TO_DEBYE, 0], atol=1e-12)
    np.testing.assert_allclose(mu[1], 0, atol=1e-12)
    np.testing.assert_allclose(mu[2], [0, 0, 0.3 * 0.92 * E_ANGSTROM_TO_DEBYE], atol=1e-12)


def test_element_spread_equals_numpy():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"element": np.repeat(["H", "C"], [500, 300]), "model": "m",
                      "value": np.concatenate([rng.normal(-65, 2, 500), rng.gamma(2.0, 3.0, 300)])})
    s = P.element_spread(t, by=["model", "element"])
    for e in ("H", "C"):
        x = t.loc[t["element"] == e, "value"].to_numpy()
        row = s.loc[("m", e)]
        assert row["n"] == x.size
        assert row["std"] == pytest.approx(np.std(x), rel=1e-12)
        assert row["iqr"] == pytest.approx(np.percentile(x, 75) - np.percentile(x, 25), rel=1e-12)
        assert row["mean"] == pytest.approx(x.mean()) and row["median"] == pytest.approx(np.median(x))


def test_wasserstein_of_identical_distributions_is_zero_and_scales():
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    assert P.scaled_wasserstein(x, x) == (0.0, 0.0)
    w, s = P.scaled_wasserstein(x, x + 0.5)
    assert w == pytest.approx(0.5) and s == pytest.approx(0.5 / x.std(), rel=1e-9)
    w10, s10 = P.scaled_wasserstein(10 * x, 10 * x + 5)  # scale-free ratio
    assert w10 == pytest.approx(5.0) and s10 == pytest.approx(s)


def test_fold_agreement_with_one_and_with_three_folds():
    rng = np.random.default_rng(2)
    x = rng.normal(size=1000)
    one = pd.DataFrame({"model": "m", "element": "H", "fold": 0, "value": x})
    agg = P.fold_agreement(one)
    assert agg.loc[("m", "H"), "folds"] == 1 and agg.loc[("m", "H"), "pairs"] == 0
    assert np.isnan(agg.loc[("m", "H"), "mean_wasserstein"])
    assert P.verdict(agg.loc[("m", "H"), "mean_wasserstein"] > 0 if agg["pairs"].max() else None) == P.NEEDS_FOLDS
    three = pd.concat([one, one.assign(fold=1), one.assign(fold=2, value=x + 1.0)])
    pairs = P.pairwise_wasserstein(three, "fold", ["model", "element"])
    assert len(pairs) == 3
    assert pairs.loc[(pairs.a == 0) & (pairs.b == 1), "wasserstein"].item() == 0.0
    agg = P.fold_agreement(three)
    assert agg.loc[("m", "H"), "pairs"] == 3
    assert agg.loc[("m", "H"), "mean_wasserstein"] == pytest.approx(2.0 / 3.0)
    assert agg.loc[("m", "H"), "max_wasserstein"] == pytest.approx(1.0)


def test_compare_to_reference_and_variance_explained():
    rng = np.random.default_rng(3)
    ref = rng.normal(size=400)
    t = pd.DataFrame({"element": np.repeat(["H", "O"], 200), "value": 2 * ref + 0.1})
    c = P.compare_to_reference(t, ref)
    assert c["pearson_r"].tolist() == pytest.approx([1.0, 1.0])
    np.testing.assert_allclose(c["mae"], [np.abs(ref[:200] + 0.1).mean(), np.abs(ref[200:] + 0.1).mean()])
    t["mulliken"] = ref
    pd.testing.assert_frame_equal(P.compare_to_reference(t, "mulliken"), c)
    assert P.variance_explained([1.0, 1.0, 3.0, 3.0], ["a", "a", "b", "b"]) == pytest.approx(1.0)
    assert P.variance_explained([1.0, 3.0, 1.0, 3.0], ["a", "a", "b", "b"]) == pytest.approx(0.0)
    assert P.verdict(True) == "holds" and P.verdict(False) == "does not hold"
    assert P.verdict(float("nan")) == P.verdict(None) == P.NEEDS_FOLDS
    assert P.verdict(None, missing="no atoms") == "no atoms"


@pytest.mark.parametrize("smiles, labels", [
    ("CC", ["sp3 CH3"] * 2),
    ("C=C", ["sp2 CH2"] * 2),
    ("C#C", ["sp CH"] * 2),
    ("c1ccccc1", ["sp2 CH"] * 6),
    ("CC#N", ["sp3 CH3", "sp C"]),
    ("CC(C)(C)O", ["sp3 CH3", "sp3 C", "sp3 CH3", "sp3 CH3"]),
])
def test_carbon_environment_from_3d_structure(smiles, labels):
    data = P.molecule_set([xatom.Molecule.from_smiles(smiles)])
    env = P.carbon_environment(data, [0])
    assert env["label"].tolist() == labels
    hyb = {"CC": "sp3", "C=C": "sp2", "C#C": "sp", "c1ccccc1": "sp2"}.get(smiles)
    if hyb:
        assert (env["hybridisation"] == hyb).all()
        assert set(env["n_H"]) == {{"CC": 3, "C=C": 2, "C#C": 1, "c1ccccc1": 1}[smiles]}
    # positions index the carbons in the row-ordered atom list
    assert (data.numbers[env["position"]] == 6).all()


def test_neighbour_counts_over_several_molecules():
    mols = [xatom.Molecule.from_smiles(s) for s in ("O", "CC=O", "FC(F)F")]
    data = P.molecule_set(mols)
    nb, nh = P.neighbour_counts(data, [2, 0, 1])
    z = np.concatenate([mols[2].numbers, mols[0].numbers, mols[1].numbers])
    assert nb.size == z.size
    # every H has exactly one neighbour; the O of water two, both H
    assert (nb[z == 1] == 1).all()
    o_water = mols[2].n_atoms  # first atom of water
    assert nb[o_water] == 2 and nh[o_water] == 2
    # CHF3: carbon with 4 neighbours and 1 H; each F bonded to it only
    assert nb[0] == 1 and nb[1] == 4 and nh[1] == 1


def test_partition_difference_moves_energy_between_atoms_but_not_the_total(tiny):
    from xatom.analysis import bootstrap as B
    from xatom.analysis.partitioning import partition_difference, partition_summary, total_to_split_ratio

    rows = np.arange(len(tiny))
    rng = np.random.default_rng(0)
    n = int(tiny.offsets[-1])
    a = rng.normal(size=n)
    # b: the same totals, energy moved between the atoms of each molecule (zero-sum within a molecule)
    moved = rng.normal(size=n)
    molecule = np.repeat(rows, np.diff(tiny.offsets))
    moved -= (np.bincount(molecule, weights=moved) / np.bincount(molecule))[molecule]
    b = a + moved
    diff = partition_difference(P.per_atom_table(tiny, rows, a), P.per_atom_table(tiny, rows, b))
    assert np.allclose(diff["shift"], -moved) and np.allclose(diff["total_shift"], 0.0)
    summary = partition_summary(diff)
    assert summary.loc["molecule total", "mean |shift|"] == pytest.approx(0.0, abs=1e-12)
    assert summary.loc["molecule total", "n"] == len(tiny)
    # a total shift of 1 per molecule on top: the ratio is mean |ΔE_mol| / mean |ΔÊ_i|
    c = b.copy()
    c[tiny.offsets[:-1]] += 1.0
    diff = partition_difference(P.per_atom_table(tiny, rows, a), P.per_atom_table(tiny, rows, c))
    value = total_to_split_ratio(np.ones((1, n)), diff["shift"].abs().to_numpy(),
                                 (diff["total_shift"].abs() / diff["atoms"]).to_numpy(), 1 / diff["atoms"].to_numpy())
    assert value[0] == pytest.approx(1.0 / diff["shift"].abs().mean())
    est = B.bootstrap(total_to_split_ratio, diff["shift"].abs(), diff["total_shift"].abs() / diff["atoms"],
                      1 / diff["atoms"], groups=diff["row"], n_resamples=200, seed=0)
    assert est.low <= est.value <= est.high
    with pytest.raises(ValueError, match="same atoms"):
        partition_difference(P.per_atom_table(tiny, rows, a), P.per_atom_table(tiny, rows[::-1], a[::-1]))


def test_bonded_pairs_is_the_rule_of_neighbour_counts(tiny):
    n_nb, _ = P.neighbour_counts(tiny, np.arange(len(tiny)))
    for m in range(len(tiny)):
        a, b = tiny.offsets[m], tiny.offsets[m + 1]
        pairs = bonded_pairs(tiny.numbers[a:b], tiny.positions[a:b])
        assert (pairs[:, 0] < pairs[:, 1]).all()
        np.testing.assert_array_equal(np.bincount(pairs.ravel(), minlength=b - a), n_nb[a:b])
