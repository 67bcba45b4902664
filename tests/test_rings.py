"""Aromatic carbon rings found through the 3D geometry (atom indices = model indices) and ring metrics."""
import numpy as np
import pandas as pd
import pytest

from xatom import Molecule
from xatom.analysis import rings as R
from xatom.data.qm9 import QM9

CASES = {"benzene": ("c1ccccc1", 1), "toluene": ("Cc1ccccc1", 1), "naphthalene": ("c1ccc2ccccc2c1", 2),
         "phenol": ("Oc1ccccc1", 1), "cyclohexane": ("C1CCCCC1", 0)}


def kekule(smiles: str) -> str:
    """A Kekulé SMILES (no lowercase atoms), the way QM9 writes them."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    Chem.Kekulize(mol, clearAromaticFlags=True)
    return Chem.MolToSmiles(mol, kekuleSmiles=True)


@pytest.fixture(scope="module")
def molecules():
    return {name: Molecule.from_smiles(smi, seed=3, name=name) for name, (smi, _) in CASES.items()}


@pytest.fixture(scope="module")
def mini_qm9(molecules):
    """A QM9 object holding the test molecules; atoms shuffled so that the order differs from the SMILES."""
    rng = np.random.default_rng(0)
    numbers, positions, smiles = [], [], []
    for name, mol in molecules.items():
        order = rng.permutation(mol.n_atoms)
        numbers.append(mol.numbers[order])
        positions.append(mol.positions[order])
        smiles.append(kekule(CASES[name][0]))
    n = np.array([len(z) for z in numbers])
    return QM9(numbers=np.concatenate(numbers).astype(np.uint8), positions=np.concatenate(positions),
               offsets=np.concatenate([[0], np.cumsum(n)]), index=np.arange(1, len(n) + 1),
               energy_kcal=np.zeros(len(n)), dipole_debye=np.zeros(len(n)), mulliken_e=np.zeros(n.sum()),
               smiles=np.array(smiles))


def test_rings_per_molecule_found_through_geometry(molecules):
    for name, mol in molecules.items():
        rdmol = R.mol_from_geometry(mol.numbers, mol.positions)
        found = R.aromatic_carbon_rings(rdmol)
        assert len(found) == CASES[name][1], name
        for ring, hs in found:
            assert len(ring) == 6 and np.all(mol.numbers[list(ring)] == 6), name
            assert np.all(mol.numbers[list(hs)] == 1), name
            # every listed H is bonded (≤ 1.2 Å) to a ring carbon, and every such H is listed
            d = np.linalg.norm(mol.positions[:, None] - mol.positions[list(ring)][None], axis=-1).min(1)
            bonded_h = set(np.where((mol.numbers == 1) & (d < 1.2))[0].tolist())
            assert set(hs) == bonded_h, name


@pytest.mark.parametrize("preselect", [True, False])
def test_find_in_dataset_uses_model_atom_order(mini_qm9, preselect):
    rings, failures = R.find_aromatic_carbon_rings(mini_qm9, preselect=preselect)
    assert failures.empty
    per_mol = rings.groupby("row").size().reindex(range(len(CASES)), fill_value=0)
    assert per_mol.tolist() == [n for _, n in CASES.values()]
    expected_h = {"benzene": 6, "toluene": 5, "naphthalene": 4, "phenol": 5}
    names = list(CASES)
    for ring in rings.itertuples():
        a = mini_qm9.offsets[ring.row]
        z = mini_qm9.numbers[a:mini_qm9.offsets[ring.row + 1]]
        assert np.all(z[list(ring.ring_atoms)] == 6) and np.all(z[list(ring.ring_h_atoms)] == 1)
        assert len(ring.ring_h_atoms) == expected_h[names[ring.row]]
        pos = mini_qm9.positions[a:][list(ring.ring_atoms)]
        cc = np.linalg.norm(pos - np.roll(pos, 1, axis=0), axis=1)  # consecutive ring atoms are bonded
        assert np.all((cc > 1.3) & (cc < 1.5))
    if preselect:
        assert set(rings.rings_in_smiles) <= {1, 2}


def test_preselection_skips_saturated_and_reports_unreadable():
    cand, bad = R.preselect_candidates(np.array(["C1CCCCC1", "C1=CC=CC=C1", "CC1=CC=CC=C1O", "C1=CC=CC=C1N(C)(C)(C)C"]))
    assert cand.tolist() == [1, 2]
    assert [r for r, _ in bad] == [3]


def test_geometry_failure_is_reported_not_skipped():
    # two carbons 3 Å apart with no hydrogens: valid coordinates, no valid bonding for a neutral molecule
    data = QM9(numbers=np.array([6, 6, 6, 6, 6, 6], np.uint8),
               positions=np.array([[0, 0, 0], [3, 0, 0], [6, 0, 0], [9, 0, 0], [12, 0, 0], [15, 0, 0]], float),
               offsets=np.array([0, 6]), index=np.array([7]), energy_kcal=np.zeros(1), dipole_debye=np.zeros(1),
               mulliken_e=np.zeros(6), smiles=np.array(["C1=CC=CC=C1"]))
    rings, failures = R.find_aromatic_carbon_rings(data)
    assert rings.empty and len(failures) == 1
    assert failures.iloc[0].qm9_index == 7 and failures.iloc[0].stage in ("DetermineBondOrders", "SanitizeMol", "no ring")


def test_ring_metrics_equal_manual_sums():
    rings = pd.DataFrame({"row": [5, 2, 5], "ring_atoms": [(0, 1, 2, 3, 4, 5), (1, 2, 3, 4, 5, 6), (2, 3, 4, 5, 6, 7)],
                          "ring_h_atoms": [(6, 7), (), (0,)]})
    rows = np.array([2, 5])  # prediction order: molecule row 2 (7 atoms) then row 5 (8 atoms)
    energy = np.arange(15, dtype=float) * -1.5
    offsets = R.prediction_offsets([7, 8])
    assert offsets.tolist() == [0, 7, 15]
    m = R.ring_metrics(rings, energy, offsets, rows)
    e2, e5 = energy[:7], energy[7:]
    assert m.E_ring_C.tolist() == pytest.approx([e5[:6].sum(), e2[1:7].sum(), e5[2:8].sum()])
    assert m.E_ring_CH.tolist() == pytest.approx([e5[:8].sum(), e2[1:7].sum(), e5[2:8].sum() + e5[0]])
    assert m.n_ring_H.tolist() == [2, 0, 1]
    assert m.E_per_ring_C.tolist() == pytest.approx((m.E_ring_C / 6).tolist())
    with pytest.raises(KeyError):
        R.ring_metrics(rings, energy, offsets, np.array([2, 3]))
    with pytest.raises(ValueError):
        R.ring_metrics(rings, energy[:-1], offsets, rows)


def test_rank_motifs_and_tables():
    from rdkit import Chem

    smiles = {"fluoro": "Fc1ccccc1", "alkyne": "C#Cc1ccccc1", "benzofuran": "c1ccc2occc2c1",
              "aniline": "Nc1ccccc1", "phenol": "Oc1ccccc1", "benzyl alcohol": "OCc1ccccc1", "toluene": "Cc1ccccc1",
              "indane": "C1Cc2ccccc2C1"}
    recs = []
    for name, smi in smiles.items():
        mol = Chem.AddHs(Chem.MolFromSmiles(smi))
        (ring, hs), = R.aromatic_carbon_rings(mol)
        recs.append({"row": len(recs), "ring_atoms": ring, "ring_h_atoms": hs, "mol": mol})
    rings = pd.DataFrame(recs, index=list(smiles))
    motifs = R.ring_motifs(rings)
    expect = {"fluoro": {"fluorine (c–F)"}, "alkyne": {"alkyne (c–C≡C)"}, "benzofuran": {R.FUSED_O5, R.FUSED_5},
              "aniline": {"amine (c–NH2)"}, "phenol": {"hydroxy (c–OH)"}, "toluene": {"methyl (c–CH3)"},
              "indane": {R.FUSED_5}}
    for name in smiles:
        on = {c for c in motifs.columns if motifs.loc[name, c]}
        want = set(expect.get(name, set()))
        if name in ("aniline", "phenol"):
            want.add(R.DONOR)
        assert on == want, name
    metric = np.array([-3.0, -1.0, -5.0, 0.0, -2.0, 1.0, 2.0, 3.0])
    assert R.rank(metric).tolist() == [2, 0, 4, 1, 3, 5, 6, 7]
    table = R.motif_table(motifs, {"m": metric}, tops=(1, 2))
    assert table.loc[R.FUSED_O5, "m top 1"] == 1.0
    assert table.loc["fluorine (c–F)", "m top 2"] == 0.5
    assert table.loc["fluorine (c–F)", "all rings"] == pytest.approx(1 / 8)
    agree = R.rank_agreement(metric, metric * 2 + 1)
    assert agree["spearman"] == pytest.approx(1.0) and agree["top10_overlap"] == 8
    assert R.rank_agreement(metric, -metric)["spearman"] == pytest.approx(-1.0)
    shift = R.energy_shift(metric - 1.0, metric)
    assert shift["fraction BP lower"] == 1.0 and shift["mean BP − SchNet"] == pytest.approx(-1.0)
