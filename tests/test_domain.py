"""The domain check of the prediction path (xatom.domain): every out-of-domain case of issue 16, through
xatom.inference.predict, the probe, the ESP charges, the molecule report and the explorers."""
import re
import warnings

import numpy as np
import pytest
import torch

import xatom
from physics import small_model, with_fitted_baseline
from xatom import zoo
from xatom.analysis.esp import latent_charges
from xatom.analysis.molecule_report import domain_warnings, predictions
from xatom.analysis.probe import LocalChemicalPotential
from xatom.batch import batch_molecules
from xatom.domain import MAX_EXTENT_ANGSTROM, QM9, check_molecules, training_domain
from xatom.errors import (CoordinateRangeError, OutOfDomainError, OutOfDomainWarning, SmilesParseError,
                          UnknownElementError)
from xatom.inference import predict
from xatom.viz.widgets import FieldExplorer, MoleculeExplorer

ENERGY = with_fitted_baseline(small_model("schnet", "energy", seed=1))
DIPOLE = small_model("schnet", "dipole", seed=2)
BP_DIPOLE = small_model("bp", "dipole", seed=3)
MODELS = {"schnet-energy": ENERGY, "bp-energy": small_model("bp", "energy", seed=4), "schnet-dipole": DIPOLE,
          "bp-dipole": BP_DIPOLE}


def load(name, fold=0):
    return MODELS[name]


def lone_carbon():
    return xatom.Molecule([6], [[0.0, 0.0, 0.0]], name="carbon atom")


def hydrogen():
    return xatom.Molecule([1, 1], [[0.0, 0.0, 0.0], [0.74, 0.0, 0.0]], name="H2")


def o_and_h_apart():
    return xatom.Molecule([8, 1], [[0.0, 0.0, 0.0], [20.0, 0.0, 0.0]], name="O + H, 20 Å apart")


@pytest.fixture(scope="module")
def chloromethane():
    return xatom.Molecule.from_smiles("CCl", name="chloromethane")


@pytest.fixture(scope="module")
def methylammonium():
    return xatom.Molecule.from_smiles("C[NH3+]", name="methylammonium")


@pytest.fixture(scope="module")
def tetracontane():
    return xatom.Molecule.from_smiles("C" * 40, name="tetracontane")


def no_domain_warning(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutOfDomainWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------------- named errors
@pytest.mark.parametrize("model", [ENERGY, DIPOLE, BP_DIPOLE], ids=["schnet-energy", "schnet-dipole", "bp-dipole"])
def test_an_element_never_seen_in_training_is_an_error_for_every_model(model, chloromethane):
    """SchNet has embeddings for 94 elements but learned 5: CH3Cl got 7.41 D and −0.69 e on Cl before."""
    with pytest.raises(UnknownElementError, match=r"chloromethane: elements \['Cl'\] never occur in QM9"):
        predict(model, chloromethane)


def test_every_entry_point_refuses_an_untrained_element(chloromethane):
    with pytest.raises(UnknownElementError, match="Cl"):
        LocalChemicalPotential(ENERGY, chloromethane)
    with pytest.raises(UnknownElementError, match="Cl"):
        latent_charges(DIPOLE, chloromethane)
    with pytest.raises(UnknownElementError, match="Cl"):
        predictions(chloromethane, load)
    assert any("['Cl']" in reason for reason in domain_warnings(chloromethane))


def test_a_lone_atom_is_an_error_because_its_targets_are_zero_by_definition():
    """A lone carbon got −141 kcal/mol from the shipped SchNet where a free atom's atomization energy is 0."""
    for model in (ENERGY, DIPOLE):
        with pytest.raises(OutOfDomainError, match="carbon atom: a single atom"):
            predict(model, lone_carbon())
    with pytest.raises(OutOfDomainError, match="single atom"):
        LocalChemicalPotential(ENERGY, lone_carbon())
    assert any("single atom" in r for r in domain_warnings(lone_carbon()))  # notebook 08's list misses it no more


def test_absurd_coordinates_are_an_error():
    """Coordinates of 1e30 Å gave an infinite dipole; an atom 2e4 Å away is beyond float32's resolution."""
    far = xatom.Molecule([8, 1, 1], [[0.0, 0, 0], [0.96, 0, 0], [1e30, 0, 0]], name="water, one H at 1e30 Å")
    with pytest.raises(CoordinateRangeError, match="1e\\+30 Å"):
        predict(DIPOLE, far)
    wide = xatom.Molecule([8, 1, 1], [[0.0, 0, 0], [0.96, 0, 0], [2 * MAX_EXTENT_ANGSTROM, 0, 0]])
    with pytest.raises(CoordinateRangeError, match="from the centroid"):
        predict(ENERGY, wide)


def test_a_molecule_shifted_by_1e30_is_a_coordinate_error_not_a_bad_geometry(water):
    """Water shifted by 1e30 Å: float64 merges its atoms, which was reported as "atoms 0 and 1 are 0 Å apart"."""
    with pytest.raises(CoordinateRangeError, match=r"coordinates of 1e\+30 Å: float64 resolves only .* origin"):
        xatom.Molecule(water.numbers, water.positions + 1e30)
    with pytest.raises(xatom.errors.AtomsTooCloseError, match="0.05 Å apart"):  # a bad geometry is still one
        xatom.Molecule([1, 1], [[1e6, 0, 0], [1e6 + 0.05, 0, 0]])


# ------------------------------------------------------------------------------------- warnings
@pytest.mark.parametrize("make, reason", [
    ("methylammonium", r"net charge \+1 e"),
    ("tetracontane", "40 heavy atoms: QM9 molecules have at most 9"),
    (hydrogen, "0 heavy atoms: every QM9 molecule has at least 1"),
    (o_and_h_apart, r"atom\(s\) 0 \(O\), 1 \(H\) have no other atom within the model's 5 Å cutoff"),
    (o_and_h_apart, "disconnected: the atoms form 2 fragments"),
])
def test_extrapolations_warn_and_strict_turns_them_into_errors(request, make, reason):
    molecule = request.getfixturevalue(make) if isinstance(make, str) else make()
    for model in (ENERGY, DIPOLE):
        with pytest.warns(OutOfDomainWarning, match=reason) as caught:
            out = predict(model, molecule)
        assert np.isfinite(out.values).all()  # the numbers still come, with the warning
        assert caught[0].filename == __file__  # the warning points at the caller's line, not into xatom
        with pytest.raises(OutOfDomainError, match=reason):
            predict(model, molecule, strict=True)
    assert any(re.search(reason, r) for r in domain_warnings(molecule))


def test_fragments_within_reach_of_nothing_are_named_even_when_no_atom_is_alone(water):
    """Two waters 10 Å apart: every atom has a neighbour, but the model sees two unrelated molecules."""
    pair = xatom.Molecule(np.r_[water.numbers, water.numbers], np.r_[water.positions, water.positions + [10.0, 0, 0]])
    with pytest.warns(OutOfDomainWarning) as caught:
        reasons = check_molecules([pair], QM9, cutoff=5.0)[0]
    assert len(caught) == 1 and len(reasons) == 1 and "2 fragments (of [3, 3] atoms)" in reasons[0]
    assert check_molecules([pair], QM9, cutoff=12.0) == [[]]  # within a 12 Å cutoff they interact


def test_a_periodic_structure_warns_a_molecular_model():
    diamond = xatom.Molecule([6, 6], [[0.0, 0, 0], [0.89, 0.89, 0.89]],
                             cell=[[0.0, 1.78, 1.78], [1.78, 0.0, 1.78], [1.78, 1.78, 0.0]])
    with pytest.warns(OutOfDomainWarning, match="periodic structure"):
        check_molecules([diamond], QM9, cutoff=5.0)


def test_one_warning_per_batch_names_the_flagged_molecules(ethanol, methylammonium):
    with pytest.warns(OutOfDomainWarning) as caught:
        out = predict(ENERGY, [ethanol, methylammonium, hydrogen()])
    assert len(caught) == 1
    assert out.domain_notes[0] == [] and "net charge +1 e" in out.domain_notes[1][0] and out.domain_notes[2]
    text = str(caught[0].message)
    assert "(2 of 3 molecules)" in text and "molecule 1 methylammonium" in text and "molecule 2 H2" in text
    assert "ethanol" not in text


def test_molecules_inside_the_domain_raise_nothing(molecules, qm9):
    """QM9 molecules and RDKit geometries of H, C, N, O, F molecules (the notebooks' kind) get no warning."""
    rows = np.random.default_rng(0).choice(len(qm9.offsets) - 1, 200, replace=False)
    in_qm9 = [qm9.molecule(int(r)) for r in rows]
    out = no_domain_warning(predict, ENERGY, molecules + in_qm9)
    assert out.values.shape == (len(molecules) + 200,) and out.domain_notes == [[]] * (len(molecules) + 200)
    assert all(domain_warnings(m) == [] for m in molecules + in_qm9)
    no_domain_warning(LocalChemicalPotential, ENERGY, molecules[2])
    no_domain_warning(predictions, molecules[2], load)


# ------------------------------------------------------------------------------------- float32 and coordinates
def test_methane_far_from_the_origin_has_the_same_energy_and_dipole():
    """Shifted by 1e8 Å, methane's energy changed by 40 kcal/mol in float32 before positions were recentred."""
    methane = xatom.Molecule.from_smiles("C", name="methane")
    shifted = xatom.Molecule(methane.numbers, methane.positions + 1e8, name="methane at 1e8 Å")
    energy, dipole = zoo.load("schnet-energy"), zoo.load("schnet-dipole")
    e0, e1 = (float(predict(energy, m).values[0]) for m in (methane, shifted))
    assert abs(e1 - e0) < 1e-3
    np.testing.assert_allclose(predict(dipole, shifted).dipole_vectors, predict(dipole, methane).dipole_vectors,
                               atol=1e-5)
    with torch.no_grad():  # the same numbers cast to float32 without recentring: the test can tell
        naive = float(energy(batch_molecules([shifted], energy.cutoff))["energy_kcal"][0])
    assert abs(naive - e0) > 1.0


def test_probe_field_far_from_the_origin_matches_the_field_at_the_origin(water):
    shift = np.array([1e8, -3e7, 5e7])
    moved = xatom.Molecule(water.numbers, water.positions + shift)
    points = water.positions.mean(0) + np.random.default_rng(1).normal(scale=2.0, size=(20, 3))
    np.testing.assert_allclose(LocalChemicalPotential(ENERGY, moved)(points + shift),
                               LocalChemicalPotential(ENERGY, water)(points), atol=1e-4)


# ------------------------------------------------------------------------------------- named bugs
@pytest.mark.parametrize("probe", [6.7, 6.0, True, None, "S", 17])
def test_probe_element_is_an_integer_or_symbol_seen_in_training(water, probe):
    """probe=6.7 silently became carbon before."""
    lcp = LocalChemicalPotential(ENERGY, water)
    with pytest.raises(UnknownElementError):
        lcp(np.zeros((1, 3)) + 2.0, probe)


def test_probe_accepts_numpy_integers_and_symbols(water):
    lcp = LocalChemicalPotential(ENERGY, water)
    point = np.array([[1.5, 0.0, 0.0]])
    carbon = lcp(point, "C", relative=False)
    np.testing.assert_array_equal(lcp(point, np.int64(6), relative=False), carbon)
    np.testing.assert_array_equal(lcp(point, 6, relative=False), carbon)
    assert abs(lcp(point, "O", relative=False) - carbon) > 1.0  # the element does matter


@pytest.mark.parametrize("chunk_size", [0, -5, 2.5, True])
def test_probe_chunk_size_must_be_a_positive_integer(water, chunk_size):
    """A negative chunk_size returned np.empty's uninitialised memory before."""
    with pytest.raises(ValueError, match="chunk_size"):
        LocalChemicalPotential(ENERGY, water, chunk_size=chunk_size)


def test_esp_charges_come_from_a_dipole_model_only(water):
    with pytest.raises(xatom.errors.CheckpointMismatchError, match="dipole model"):
        latent_charges(ENERGY, water)
    q = latent_charges(DIPOLE, water)
    assert q.shape == (3,) and abs(q.sum()) < 1e-5


def test_report_refuses_an_energy_model_in_place_of_a_dipole_model(ethanol):
    """An energy model loaded as "schnet-dipole" was reported as −542 "D" before."""
    def mixed_up(name, fold):
        return ENERGY if name == "schnet-dipole" else load(name)

    with pytest.raises(xatom.errors.CheckpointMismatchError, match="schnet-dipole must predict 'dipole_debye'"):
        predictions(ethanol, mixed_up)


def test_report_warns_once_for_all_its_models(methylammonium):
    with pytest.warns(OutOfDomainWarning) as caught:
        predictions(methylammonium, load)
    assert len([w for w in caught if issubclass(w.category, OutOfDomainWarning)]) == 1
    assert "net charge +1 e" in str(caught[0].message)


@pytest.mark.parametrize("smiles, fragments", [("CCO.O", "CCO, O"), ("[Na+].[Cl-]", "[Na+], [Cl-]")])
def test_a_two_fragment_smiles_is_called_disconnected_not_a_bad_geometry(smiles, fragments):
    """'[Na+].[Cl-]' was blamed on the geometry ("atoms 0 and 1 are 0 Å apart"), 'CCO.O' embedded overlapping."""
    with pytest.raises(SmilesParseError, match=re.escape(f"disconnected: 2 fragments ({fragments})")):
        xatom.Molecule.from_smiles(smiles)


# ------------------------------------------------------------------------------------- explorers
def test_molecule_explorer_shows_the_domain_warning_in_its_status_line():
    """Paracetamol (11 heavy atoms) went through the explorer without the warning notebook 08 prints."""
    ex = MoleculeExplorer(load=load, start="CC(=O)Nc1ccc(O)cc1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex.widget()
    status = ex._controls["status"].value
    assert "⚠" in status and "11 heavy atoms" in status
    assert not [w for w in caught if issubclass(w.category, OutOfDomainWarning)]  # shown, not printed
    ex._controls["text"].value = "CCO"
    assert "⚠" not in ex._controls["status"].value and ex.note == []
    ex._controls["text"].value = "CCl"  # untrained element: a message, not an exception
    assert "['Cl']" in ex._controls["status"].value
    with pytest.warns(OutOfDomainWarning, match="11 heavy atoms"):  # outside the widget: a warning
        MoleculeExplorer(load=load, start="CC(=O)Nc1ccc(O)cc1").values()


def test_field_explorer_shows_the_domain_warning_for_both_fields():
    ex = FieldExplorer(load=load, spacing=0.8, start="C[NH3+]")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutOfDomainWarning)  # the widget must not print it
        ex.widget()
        assert "net charge +1 e" in ex._controls["status"].value
        ex._controls["field"].value = "ESP, SchNet charges"
        assert "net charge +1 e" in ex._controls["status"].value
        ex._controls["text"].value = "CCl"
        assert "['Cl']" in ex._controls["status"].value


# ------------------------------------------------------------------------------------- domains of models
def test_training_domain_comes_from_the_checkpoints_target():
    assert training_domain(zoo.load("schnet-energy")) is QM9 and training_domain(zoo.load("bp-dipole")) is QM9
    crystals = training_domain(zoo.load("schnet-crystals"))
    assert crystals.periodic and {3, 11, 17, 26}.issubset(crystals.elements)
