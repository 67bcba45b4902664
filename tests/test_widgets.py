"""Notebook explorers: molecule picking, callbacks and static pictures, exercised without a browser."""
import matplotlib
import numpy as np
import pytest

from physics import small_model, with_fitted_baseline
from xatom.data.lookup import molecule_from_text
from xatom.errors import SmilesParseError
from xatom.inference import predict
from xatom.viz.widgets import FieldExplorer, MoleculeExplorer

matplotlib.use("Agg")

MODELS = {"schnet-energy": with_fitted_baseline(small_model("schnet", "energy", seed=1)),
          "bp-energy": small_model("bp", "energy", seed=2),
          "schnet-dipole": small_model("schnet", "dipole", seed=3),
          "bp-dipole": small_model("bp", "dipole", seed=4)}


def load(name, fold):
    if fold != 0:
        raise FileNotFoundError(f"no shipped model {name!r} fold {fold}")
    return MODELS[name]


def test_molecule_from_text_finds_qm9_molecules_and_falls_back_to_rdkit(qm9):
    mol, source = molecule_from_text("c1ccccc1", qm9)
    assert mol.n_atoms == 12 and "QM9 molecule" in source and "DFT" in source
    mol, source = molecule_from_text(str(qm9.index[5]), qm9)
    assert mol.n_atoms == qm9.n_atoms[5]
    mol, source = molecule_from_text("CCCCCCCCCCCC", qm9)  # 12 heavy atoms: not in QM9
    assert mol.n_atoms == 38 and "RDKit" in source and "not in QM9" in source
    with pytest.raises(SmilesParseError):
        molecule_from_text("C1CC(", qm9)
    with pytest.raises(KeyError):
        molecule_from_text("999999999", qm9)


def test_molecule_explorer_values_table_and_callbacks():
    ex = MoleculeExplorer(load=load, start="CCO", folds=(0, 1))
    assert ex.molecule.n_atoms == 9
    energy = predict(MODELS["schnet-energy"], ex.molecule).values[0]
    assert ex.values().sum() == pytest.approx(energy, rel=1e-5)
    assert list(ex.table().columns) == ["atom", "element", "Ê_i (kcal/mol)"]
    box = ex.widget()
    controls = ex._controls
    controls["model"].value = "bp-dipole"
    assert ex.model_name == "bp-dipole" and abs(ex.values().sum()) < 1e-5  # neutral latent charges
    controls["fold"].value = 1  # not shipped: a message, no exception
    assert "⚠ no shipped model" in controls["status"].value
    controls["fold"].value = 0
    controls["text"].value = "C1CC("  # a typo: message, previous molecule kept, nothing raised
    assert "⚠" in controls["status"].value and ex.molecule.n_atoms == 9
    controls["text"].value = "O"
    assert ex.molecule.n_atoms == 3 and "RDKit" in controls["status"].value
    assert box.children and isinstance(ex.static_figure(), matplotlib.figure.Figure)


def test_field_explorer_switches_fields_probes_and_cuts():
    ex = FieldExplorer(load=load, spacing=0.5, start="C=O")
    omega_c = ex.volume()
    assert omega_c.shape == (ex.box.n_points,) and np.isfinite(omega_c).all()
    ex.widget()
    c = ex._controls
    c["probe"].value = "O"
    omega_o = ex.volume()
    assert not np.allclose(omega_o, omega_c)
    c["field"].value = "ESP, SchNet charges"
    assert c["probe"].disabled and "ESP" in ex.label
    esp = ex.volume()
    assert esp.shape == omega_c.shape and not np.allclose(esp, omega_o)
    c["field"].value = "Ω (local chemical potential)"  # back: the same field object, not computed again
    assert ex.volume() is omega_o and not c["probe"].disabled
    c["field"].value = "ESP, SchNet charges"
    c["offset"].value = 1.0
    plane, values = ex.cut(1.0, n=20)
    assert values.shape == (400,) and np.isfinite(values).all()
    c["isovalue"].value = 2.0
    c["text"].value = "not a molecule"
    assert "⚠" in c["status"].value and ex.molecule.n_atoms == 4
    assert isinstance(ex.static_figure(), matplotlib.figure.Figure)


def test_embedding_explorer_switches_sources_components_and_groups():
    from xatom.analysis import embeddings as E
    from xatom.viz.widgets import EmbeddingExplorer

    rng = np.random.default_rng(0)
    sources = {"a": {s: rng.normal(size=6) for s in E.GROUP}, "b": {s: rng.normal(size=4) for s in E.GROUP}}
    ex = EmbeddingExplorer(sources)
    ex.widget()
    c = ex._controls
    assert len(ex.coordinates()) == len(E.GROUP)
    c["groups"].value = (1, 2)
    assert set(ex.coordinates()["group"]) == {1, 2}
    c["second"].value = 3
    assert "PC3" in ex.coordinates().columns
    c["source"].value = "b"
    assert ex.source == "b" and isinstance(ex.static_figure(), matplotlib.figure.Figure)


def test_live_views_carry_a_static_picture_for_browsers_without_webgl():
    ex = MoleculeExplorer(load=load, start="CCO")
    fields_ex = FieldExplorer(load=load, start="CCO", spacing=0.4)
    for view in (ex.view(), fields_ex.view()):
        html = view._make_html()
        assert view.picture is not None and view.picture[:8] == b"\x89PNG\r\n\x1a\n"
        assert 'alt="static picture of this view"' in html
    assert fields_ex.label.startswith("$\\Omega_\\mathrm{C}")  # mathtext, rendered in the colour bars


def test_molecular_field_is_its_function_on_box_cut_and_surface():
    from xatom.analysis.fields import MolecularField, SurroundingGrid, isovalue_for
    from xatom.analysis.grids import surface_isovalue

    mol, _ = molecule_from_text("C=O")
    calls = []

    def evaluate(points):  # a known field: distance from the first atom, in "kcal/mol"
        calls.append(len(points))
        return np.linalg.norm(points - mol.positions[0], axis=1)

    grid = SurroundingGrid.around(mol.positions, spacing=0.5)
    f = MolecularField(mol, evaluate, grid, "d (Å)")
    volume = f.volume()
    assert volume.shape == (grid.box.n_points,) and f.volume() is volume and calls == [grid.box.n_points]
    assert volume == pytest.approx(np.linalg.norm(grid.box.points() - mol.positions[0], axis=1))
    plane, values = f.cut(0.0, n=10)
    assert values == pytest.approx(np.linalg.norm(plane.points() - mol.positions[0], axis=1))
    iso = isovalue_for(mol)
    assert iso % 0.25 == 0 and abs(iso - surface_isovalue([mol])) <= 0.125
    verts, faces, on_faces = f.on_surface(iso)
    assert f.on_surface(iso)[2] is on_faces and len(calls) == 2  # once per isovalue, volume reused
    centres = verts[faces].mean(1)  # trilinear sampling of a distance is close to the distance itself
    assert on_faces == pytest.approx(np.linalg.norm(centres - mol.positions[0], axis=1), abs=0.1)
