"""Local chemical potential Ω_Zp(r): batched grid evaluation, invariances, errors."""
import numpy as np
import pytest
import torch

import xatom
from physics import random_rotation, small_model, with_fitted_baseline
from xatom.analysis.grids import box_grid, molecular_plane
from xatom.analysis.probe import LocalChemicalPotential
from xatom.batch import batch_molecules
from xatom.errors import NonFiniteError, ShapeError, UnknownElementError
from xatom.neighbors import Pairs


@pytest.fixture
def energy_model():
    return with_fitted_baseline(small_model("schnet", "energy", seed=3))


def _brute_force_omega(model, molecule, points, z):
    """Ω from SchNet.probe with pairs listed one by one (no chunking, no vectorised pair search)."""
    b = batch_molecules([molecule], model.cutoff)
    with torch.no_grad():
        layers = model.representation.layers(b)
        out = []
        for p in points:
            r = torch.tensor(p, dtype=torch.float32)[None]
            j = [a for a in range(molecule.n_atoms) if float((b.R[a] - r[0]).norm()) < model.cutoff]
            pairs = Pairs(torch.zeros(len(j), dtype=torch.long), torch.tensor(j, dtype=torch.long))
            y = model.representation.probe(layers, torch.tensor([z]), pairs, r, b.R)["y"]
            out.append(float(model.head.atomic_energy(y, torch.tensor([z]))[0]))
    return np.array(out)


@pytest.mark.parametrize("probe", ["C", "O", 1])
def test_grid_evaluation_matches_probing_one_point_at_a_time(energy_model, ethanol, probe):
    rng = np.random.default_rng(0)
    points = ethanol.positions.mean(0) + rng.normal(scale=3.0, size=(50, 3))
    lcp = LocalChemicalPotential(energy_model, ethanol, chunk_size=7)
    z = probe if isinstance(probe, int) else xatom.elements.atomic_number(probe)
    want = _brute_force_omega(energy_model, ethanol, points, z)
    np.testing.assert_allclose(lcp(points, probe, relative=False), want, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(lcp(points, probe), want - lcp.isolated(probe), rtol=1e-5, atol=1e-4)


def test_field_turns_with_the_molecule(energy_model, glycine):
    """Rotating and shifting molecule and cut plane together leaves Ω unchanged (SchNet is invariant)."""
    plane = molecular_plane(glycine.positions, n=30)
    base = LocalChemicalPotential(energy_model, glycine)(plane.points())
    for seed in range(3):
        rot, shift = random_rotation(seed), np.array([1.5, -2.0, 0.7]) * seed
        moved = xatom.Molecule(glycine.numbers, glycine.positions @ rot.T + shift)
        grid = plane.rotated(rot)
        grid = type(grid)(grid.origin + shift, grid.axes, grid.shape)
        np.testing.assert_allclose(LocalChemicalPotential(energy_model, moved)(grid.points()), base,
                                   rtol=1e-4, atol=1e-3 * np.abs(base).max())
    assert np.ptp(base) > 0  # the field is not trivially constant


def test_probe_beyond_the_cutoff_feels_nothing(energy_model, water):
    lcp = LocalChemicalPotential(energy_model, water)
    far = water.positions.mean(0) + np.array([[energy_model.cutoff + 1.0, 0, 0], [0, 0, 40.0]])
    np.testing.assert_array_equal(lcp(far, "C"), 0.0)
    assert lcp(far, "C", relative=False)[0] == pytest.approx(lcp.isolated("C"))


def test_big_grids_are_evaluated_in_chunks_without_changing_values(energy_model, benzene):
    grid = box_grid(benzene.positions, spacing=0.6, margin=2.0)
    small = LocalChemicalPotential(energy_model, benzene, chunk_size=97)(grid.points())
    large = LocalChemicalPotential(energy_model, benzene, chunk_size=100_000)(grid.points())
    np.testing.assert_allclose(small, large, rtol=1e-6, atol=1e-5)
    assert small.shape == (grid.n_points,)


def test_bad_inputs_are_refused_with_clear_errors(energy_model, water):
    lcp = LocalChemicalPotential(energy_model, water)
    with pytest.raises(UnknownElementError, match="never seen in training"):
        lcp(np.zeros((1, 3)), "S")
    with pytest.raises(UnknownElementError):
        lcp(np.zeros((1, 3)), "Xx")
    with pytest.raises(ShapeError):
        lcp(np.zeros((4, 2)))
    with pytest.raises(NonFiniteError):
        lcp(np.array([[0.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="SchNet energy model"):
        LocalChemicalPotential(small_model("bp", "energy"), water)
    with pytest.raises(ValueError, match="SchNet energy model"):
        LocalChemicalPotential(small_model("schnet", "dipole"), water)
    crystal = xatom.Molecule([11, 17], [[0, 0, 0], [2.8, 0, 0]], cell=np.eye(3) * 5.6)
    with pytest.raises(ValueError, match="periodic"):
        LocalChemicalPotential(energy_model, crystal)
