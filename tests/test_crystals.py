"""Periodic crystals: neighbour counts, cell-choice invariance, the per-atom energy head, loaders, training."""
import json

import numpy as np
import pytest
import torch

import xatom
from physics import model_function, small_model
from xatom.batch import batch_molecules
from xatom.data.crystals import crystal_split, crystals_from_structures, read_labelled_structures
from xatom.errors import DataFormatError
from xatom.neighbors import pair_vectors, periodic_pairs
from xatom.training import TrainingConfig, train


def rock_salt(a=5.64, cell=None):
    frac = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    pos = np.concatenate([frac, frac + [.5, 0, 0]]) * a
    return xatom.Molecule([11] * 4 + [17] * 4, pos, cell=np.eye(3) * a if cell is None else cell)


@pytest.mark.parametrize("cutoff,count", [(3.5, 6), (4.5, 18), (5.5, 26)])
def test_simple_cubic_lattice_has_the_analytic_neighbour_shells(cutoff, count):
    """a = 3 Å: 6 neighbours at a, 12 more at a√2 = 4.24 Å, 8 more at a√3 = 5.20 Å."""
    p = periodic_pairs(np.zeros((1, 3)), np.eye(3) * 3.0, cutoff)
    assert p.idx_i.numel() == count
    d = pair_vectors(torch.zeros(1, 3), p).norm(dim=-1)
    assert float(d.min()) == pytest.approx(3.0, abs=1e-5)


def _sorted_distances(crystal, cutoff=5.0):
    p = periodic_pairs(crystal.positions, crystal.cell, cutoff)
    d = pair_vectors(torch.as_tensor(crystal.positions, dtype=torch.float32), p).norm(dim=-1).numpy()
    return [np.sort(d[p.idx_i.numpy() == i]) for i in range(crystal.n_atoms)]


def test_neighbours_and_energy_do_not_depend_on_the_choice_of_cell():
    """A unimodular change of lattice vectors describes the same crystal: same pairs, same energy per atom."""
    base = rock_salt()
    skew = np.array([[1, 1, 0], [0, 1, 0], [-1, 0, 1]]) @ base.cell  # det 1: same lattice
    other = rock_salt(cell=skew)
    for a, b in zip(_sorted_distances(base), _sorted_distances(other)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    model = small_model("schnet", "formation_energy", n_features=16, n_filters=16, n_interactions=2)
    fn = model_function(model)
    with torch.no_grad():
        e = [fn([c])["formation_energy_ev_per_atom"] for c in (base, other)]
        doubled = xatom.Molecule(np.tile(base.numbers, 2), np.concatenate([base.positions, base.positions + base.cell[0]]),
                                 cell=base.cell * [[2], [1], [1]])
        e.append(fn([doubled])["formation_energy_ev_per_atom"])
    torch.testing.assert_close(e[1], e[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(e[2], e[0], rtol=1e-5, atol=1e-5)  # energy per atom is intensive


def test_composition_baseline_reproduces_linear_energies_exactly():
    model = small_model("schnet", "formation_energy")
    rng = np.random.default_rng(0)
    structures = [xatom.Molecule(rng.choice([3, 8, 26], size=n), rng.uniform(0, 4, size=(n, 3)) + np.arange(n)[:, None] * 2.0,
                                 cell=np.eye(3) * 2.0 * n + 3.0) for n in rng.integers(2, 7, size=30)]
    mu = {3: -1.9, 8: -4.9, 26: -8.3}
    energy = np.array([np.mean([mu[z] for z in s.numbers]) for s in structures])
    data = crystals_from_structures(structures, energy)
    model.head.fit_statistics(data.numbers, data.offsets, energy)
    for z, value in mu.items():
        assert float(model.head.baseline_ev[z]) == pytest.approx(value, abs=1e-5)
    with torch.no_grad():
        out = model(batch_molecules(structures[:3], model.cutoff))
    manual = [float(out["atomic_energy_ev"][a:b].mean()) for a, b in zip(data.offsets[:3], data.offsets[1:4])]
    np.testing.assert_allclose(out["formation_energy_ev_per_atom"].numpy(), manual, rtol=1e-5)


def test_read_json_of_pymatgen_structure_dicts(tmp_path):
    nacl = rock_salt()
    entry = {"structure": {"lattice": {"matrix": nacl.cell.tolist()},
                           "sites": [{"species": [{"element": s, "occu": 1}], "xyz": p.tolist()}
                                     for s, p in zip(nacl.symbols, nacl.positions)]},
             "formation_energy_per_atom": -2.1}
    (tmp_path / "mp.json").write_text(json.dumps([entry, entry["structure"]]))
    structures, labels = read_labelled_structures(tmp_path / "mp.json")
    assert len(structures) == 2 and structures[0].n_atoms == 8
    np.testing.assert_allclose(structures[1].cell, nacl.cell)
    assert labels[0] == -2.1 and np.isnan(labels[1])
    (tmp_path / "bad.json").write_text(json.dumps([{"structure": {"sites": []}}]))
    with pytest.raises(DataFormatError, match="entry 0"):
        read_labelled_structures(tmp_path / "bad.json")


def test_read_extxyz_with_energies(tmp_path):
    ase_io = pytest.importorskip("ase.io")
    from ase import Atoms

    nacl = rock_salt()
    frames = [Atoms(numbers=nacl.numbers, positions=nacl.positions, cell=nacl.cell, pbc=True)]
    frames[0].info["energy_per_atom"] = -3.25
    ase_io.write(tmp_path / "set.extxyz", frames, format="extxyz")
    structures, labels = read_labelled_structures(tmp_path / "set.extxyz", key="energy_per_atom")
    assert structures[0].n_atoms == 8 and labels[0] == pytest.approx(-3.25)
    ase_io.write(tmp_path / "mol.extxyz", [Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])], format="extxyz")
    with pytest.raises(DataFormatError, match="not periodic"):
        read_labelled_structures(tmp_path / "mol.extxyz")
    with pytest.raises(DataFormatError, match="unknown structure file type"):
        (tmp_path / "x.cif").write_text("data_x")
        read_labelled_structures(tmp_path / "x.cif")


def _tiny_set(n=40, seed=1):
    rng = np.random.default_rng(seed)
    structures, energies = [], []
    for k in range(n):
        a = rng.uniform(3.0, 4.0)
        z = rng.choice([3, 11, 17, 8])
        structures.append(xatom.Molecule([z, 9], [[0, 0, 0], [a / 2, a / 2, a / 2]], cell=np.eye(3) * a,
                                         name="A_cP1" if k < 3 else "AB"))
        energies.append(-1.0 - 0.2 * a + 0.01 * z)
    data = crystals_from_structures(structures, np.array(energies))
    data.labels[:3] = "A_elemental"
    return data


def test_crystal_split_is_disjoint_deterministic_and_keeps_elementals_in_training():
    data = _tiny_set()
    s1, s2 = crystal_split(data, 0), crystal_split(data, 0)
    assert np.array_equal(s1.val, s2.val) and s1.sha256 == s2.sha256
    assert not set(s1.train) & set(s1.val) and not set(s1.train) & set(s1.test) and not set(s1.val) & set(s1.test)
    assert len(s1.train) + len(s1.val) + len(s1.test) == len(data)
    assert {0, 1, 2} <= set(s1.train)
    assert crystal_split(data, 1).sha256 != s1.sha256


def test_training_on_crystals_runs_and_resumes(tmp_path):
    data = _tiny_set()
    cfg = TrainingConfig(model="schnet", target="formation_energy", dataset="crystals", batch_size=8, max_epochs=2,
                         architecture={"n_features": 16, "n_filters": 16, "n_interactions": 2, "readout_hidden": [8]})
    first = train(tmp_path / "run", cfg, data=data, max_steps=3, progress=False)
    assert first["stopped"] == "step limit"
    done = train(tmp_path / "run", None, data=data, progress=False)
    assert done["epoch"] == 2 and np.isfinite(done["best_val_mae"])
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert len(log) == 3
    from xatom.checkpoint import load_model

    model = load_model(tmp_path / "run" / "best.pt", model="schnet", target="formation_energy")
    assert model.target == "formation_energy_ev_per_atom"
