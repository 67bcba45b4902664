"""Atom-centred symmetry functions against a float64 reference written from the formulas, smoothness at
the cutoffs, and the symmetries of Behler–Parrinello models."""
import itertools
import math

import numpy as np
import pytest
import torch

import xatom
from physics import (assert_batch_independent, assert_permutation_invariant, assert_rotation_equivariant,
                      assert_rotation_invariant, assert_translation_invariant, model_function)
from xatom.batch import batch_molecules
from xatom.errors import UnknownElementError
from xatom.models import ACSF, ACSFParameters

P = ACSFParameters()


def fc(r, rc):
    return 0.5 * (math.cos(math.pi * r / rc) + 1.0) if r < rc else 0.0


def reference_acsf(mol: xatom.Molecule, p: ACSFParameters = P) -> np.ndarray:
    """Plain loops over the docstring of xatom.models.acsf, in float64.

    radial   G(i; η, r_s) = Σ_j exp(−η (r_ij − r_s)²) f_c(r_ij)                       per element of j
    angular  G(i; ζ, λ, η, r_s) = 2^(1−ζ) Σ_{j<k} (1 + λ cos θ_ijk)^ζ
                                  · exp(−η ((r_ij + r_ik)/2 − r_s)²) f_c(r_ij) f_c(r_ik)   per element pair
    """
    els = list(p.elements)
    n_el = len(els)
    pairs = [(a, b) for a in range(n_el) for b in range(a, n_el)]
    angular_params = list(itertools.product(p.zetas, p.lambdas, p.angular_centers))  # layout: ζ, λ, r_s
    R = mol.positions
    out = []
    for i in range(mol.n_atoms):
        radial = np.zeros((n_el, len(p.radial_centers)))
        angular = np.zeros((len(pairs), len(angular_params)))
        neigh = [j for j in range(mol.n_atoms) if j != i]
        for j in neigh:
            r = np.linalg.norm(R[j] - R[i])
            if r >= p.radial_cutoff:
                continue
            e = els.index(mol.numbers[j])
            for c, rs in enumerate(p.radial_centers):
                radial[e, c] += math.exp(-p.radial_eta * (r - rs) ** 2) * fc(r, p.radial_cutoff)
        for j, k in itertools.combinations(neigh, 2):
            vij, vik = R[j] - R[i], R[k] - R[i]
            rij, rik = np.linalg.norm(vij), np.linalg.norm(vik)
            if rij >= p.angular_cutoff or rik >= p.angular_cutoff:
                continue
            cos = float(vij @ vik) / (rij * rik)
            a, b = sorted((els.index(mol.numbers[j]), els.index(mol.numbers[k])))
            block = pairs.index((a, b))
            for c, (zeta, lam, rs) in enumerate(angular_params):
                angular[block, c] += (2.0 ** (1 - zeta) * (1 + lam * cos) ** zeta
                                      * math.exp(-p.angular_eta * (0.5 * (rij + rik) - rs) ** 2)
                                      * fc(rij, p.angular_cutoff) * fc(rik, p.angular_cutoff))
        out.append(np.concatenate([radial.ravel(), angular.ravel()]))
    return np.array(out)


def acsf_of(mols, acsf=None, differentiable=False):
    """xatom's features; ``differentiable=True`` takes the autograd path (positions that require grad), else
    the inference path (the C++ kernel where it is available)."""
    acsf = acsf or ACSF()
    b = batch_molecules(mols, acsf.params.radial_cutoff)
    if differentiable:
        g = acsf(b.with_positions(b.R.clone().requires_grad_(True)))
        assert g.requires_grad
        return g.detach().double().numpy()
    with torch.no_grad():
        return acsf(b).double().numpy()


PATHS = pytest.mark.parametrize("differentiable", [False, True], ids=["inference", "autograd"])


def test_default_parameters_give_580_features():
    acsf = ACSF()
    assert acsf.n_features == 5 * 20 + 15 * 32 == 580
    assert P.radial_eta == pytest.approx(10.23, abs=0.01)
    assert len(P.radial_centers) == 20 and P.radial_centers[0] == 0.8 and P.radial_centers[-1] == pytest.approx(5.0)


@PATHS
@pytest.mark.parametrize("name", ["water", "glycine", "fluoroethanol", "benzene"])
def test_acsf_match_a_float64_reference_from_the_formulas(request, name, differentiable):
    mol = request.getfixturevalue(name)
    got, want = acsf_of([mol], differentiable=differentiable), reference_acsf(mol)
    assert got.shape == want.shape == (mol.n_atoms, 580)
    assert np.abs(want).max() > 0.1
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())


@PATHS
def test_acsf_of_a_batch_are_those_of_each_molecule(water, glycine, fluoroethanol, differentiable):
    mols = [water, glycine, fluoroethanol]
    got = acsf_of(mols, differentiable=differentiable)
    want = np.concatenate([reference_acsf(m) for m in mols])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())


@PATHS
def test_acsf_with_custom_parameters_match_the_reference(glycine, differentiable):
    p = ACSFParameters(elements=(1, 6, 7, 8), radial_cutoff=3.0, radial_centers=(1.0, 2.0), radial_eta=2.0,
                       angular_cutoff=2.5, angular_centers=(1.5,), angular_eta=1.0, zetas=(1.0, 3.0),
                       lambdas=(1.0, -1.0))
    got, want = acsf_of([glycine], ACSF(p), differentiable), reference_acsf(glycine, p)
    assert got.shape == (glycine.n_atoms, 4 * 2 + 10 * 4)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())


def test_feature_blocks_follow_the_neighbour_elements(water):
    g = acsf_of([water])
    o = int(np.where(water.numbers == 8)[0][0])
    radial = g[o, :100].reshape(5, 20)
    assert radial[0].sum() > 0 and np.all(radial[1:] == 0)  # O sees only H neighbours
    angular = g[o, 100:].reshape(15, 32)
    assert angular[0].sum() > 0 and np.all(angular[1:] == 0)  # only the (H, H) pair around O


def _three_atoms(r_far, angle_deg=70.0):
    """C at the origin with two H, and O at distance r_far from C at the given angle to the first C–H."""
    a = math.radians(angle_deg)
    return xatom.Molecule([6, 1, 1, 8], [[0, 0, 0], [1.09, 0, 0], [-0.36, 0, 1.03],
                                         [r_far * math.cos(a), r_far * math.sin(a), 0]])


@PATHS
@pytest.mark.parametrize("rc", [P.radial_cutoff, P.angular_cutoff])
def test_features_are_continuous_when_a_neighbour_crosses_a_cutoff(rc, differentiable):
    # features of the C atom, whose only changing distance is the one to O; at the angular cutoff only the
    # angular features switch the neighbour off (the radial ones still see it, smoothly)
    cols = slice(100, None) if rc == P.angular_cutoff else slice(None)
    inside = acsf_of([_three_atoms(rc - 1e-3)], differentiable=differentiable)[0, cols]
    outside = acsf_of([_three_atoms(rc + 1e-3)], differentiable=differentiable)[0, cols]
    closer = acsf_of([_three_atoms(rc - 0.5)], differentiable=differentiable)[0, cols]
    scale = np.abs(closer - outside).max()
    assert scale > 1e-3  # the neighbour does contribute when well inside the cutoff
    assert np.abs(inside - outside).max() < 1e-5 * max(scale, 1.0)


NO_TRIPLES = pytest.mark.parametrize("mol", [
    xatom.Molecule([6, 1], [[0, 0, 0], [1.09, 0, 0]]), xatom.Molecule([8], [[0, 0, 0]]),
    xatom.Molecule([1, 1, 1], [[0, 0, 0], [0, 0, 4.5], [0, 0, 9.0]])], ids=["CH", "O", "stretched-H3"])


@NO_TRIPLES
def test_molecules_without_angular_triples_have_zero_angular_features(mol):
    got = acsf_of([mol])
    np.testing.assert_allclose(got, reference_acsf(mol), rtol=1e-4, atol=1e-7)
    assert np.all(got[:, 100:] == 0)


@NO_TRIPLES
def test_molecules_without_angular_triples_on_the_autograd_path(mol):
    got = acsf_of([mol], differentiable=True)
    np.testing.assert_allclose(got, reference_acsf(mol), rtol=1e-4, atol=1e-7)


def test_acsf_gradients_match_finite_differences(water):
    b = batch_molecules([water], 5.0)
    acsf = ACSF()
    R = b.R.double().requires_grad_(True)
    # a fixed random projection of the 580 features keeps the check cheap
    w = torch.randn(3, acsf.n_features, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.autograd.gradcheck(lambda pos: (acsf(b.with_positions(pos)) * w).sum(1), (R,), eps=1e-6, atol=1e-5,
                             rtol=1e-4)


def test_neighbour_contribution_vanishes_smoothly_towards_the_cutoff():
    """The radial contribution of one neighbour decays like (r_c − r)² (zero value and slope at r_c)."""
    rc = P.radial_cutoff

    def contribution(r):
        g = acsf_of([_three_atoms(r)])
        return g[0, 60:80].sum()  # C's radial O block

    c1, c2 = contribution(rc - 0.02), contribution(rc - 0.01)
    assert contribution(rc + 1e-3) == 0.0
    assert 0 < c2 < c1
    assert c1 / c2 == pytest.approx(4.0, rel=0.05)


# ------------------------------------------------------------------------------------------ BP models
MOLECULES = ["water", "methane", "ethanol", "benzene", "glycine", "fluoroethanol"]


@pytest.fixture(params=MOLECULES)
def molecule(request):
    return request.getfixturevalue(request.param)


def test_bp_energy_is_rotation_translation_and_permutation_invariant(bp_energy, molecule):
    fn = model_function(bp_energy)
    assert_rotation_invariant(fn, molecule)
    assert_translation_invariant(fn, molecule)
    assert_permutation_invariant(fn, molecule)


def test_bp_energy_is_invariant_under_reflection(bp_energy, fluoroethanol):
    assert_rotation_invariant(model_function(bp_energy), fluoroethanol, proper=False)


def test_bp_dipole_magnitude_and_charges_are_invariant(bp_dipole, molecule):
    fn = model_function(bp_dipole)
    assert_rotation_invariant(fn, molecule)
    assert_translation_invariant(fn, molecule)
    assert_permutation_invariant(fn, molecule)


@pytest.mark.parametrize("proper", [True, False])
def test_bp_dipole_vector_rotates_with_the_molecule(bp_dipole, glycine, proper):
    assert_rotation_equivariant(model_function(bp_dipole), glycine, proper=proper)


def test_bp_outputs_do_not_depend_on_the_batch(bp_energy, molecules):
    assert_batch_independent(model_function(bp_energy), molecules)


def test_bp_latent_atomic_energies_sum_to_the_energy(bp_energy, molecules):
    with torch.no_grad():
        b = batch_molecules(molecules, 5.0)
        out = bp_energy(b)
    sums = torch.zeros(len(molecules)).index_add_(0, b.idx_m, out["atomic_energy_kcal"])
    torch.testing.assert_close(sums, out["energy_kcal"], rtol=1e-6, atol=1e-5)


def test_bp_uses_one_network_per_element(bp_energy, ethanol):
    """Changing the hydrogen network changes only hydrogen atomic energies' inputs to the sum."""
    fn = model_function(bp_energy)
    with torch.no_grad():
        before = fn([ethanol])["atomic_energy_kcal"].clone()
        bp_energy.representation.outputs[0].bias += 1.0  # element index 0 = H
        after = fn([ethanol])["atomic_energy_kcal"]
    is_h = torch.as_tensor(ethanol.numbers == 1)
    torch.testing.assert_close(after[is_h] - before[is_h], torch.ones(int(is_h.sum())), rtol=1e-5, atol=1e-5)
    assert torch.equal(after[~is_h], before[~is_h])


def test_fit_standardization_gives_zero_mean_unit_variance_features(molecules):
    from physics import small_model

    model = small_model("bp", "energy")
    rep = model.representation
    b = batch_molecules(molecules, 5.0)
    rep.fit_standardization([b])
    with torch.no_grad():
        g = rep.acsf(b)
        s = rep.acsf.species(b.Z)
        z = (g - rep.feature_mean[s]) / rep.feature_std[s]
    for e in range(5):
        sel = z[s == e]
        if sel.shape[0] < 3:  # N and F occur once in the sample: nothing to standardise
            continue
        varying = (rep.feature_std[e] > 0.05)
        torch.testing.assert_close(sel.mean(0), torch.zeros(580), atol=1e-4, rtol=0)
        torch.testing.assert_close(sel[:, varying].std(0, unbiased=False), torch.ones(int(varying.sum())),
                                   atol=1e-3, rtol=0)


@pytest.mark.parametrize("smiles", ["CS", "CCl", "CBr"])
def test_element_outside_the_acsf_elements_raises(bp_energy, smiles):
    mol = xatom.Molecule.from_smiles(smiles)
    with pytest.raises(UnknownElementError, match="symmetry functions"):
        model_function(bp_energy)([mol])
