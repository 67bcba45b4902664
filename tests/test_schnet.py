"""SchNet: symmetries, the fused cfconv kernel, tabulated filters, latent energies and probe atoms."""
from dataclasses import replace

import pytest
import torch

import xatom
from physics import (assert_batch_independent, assert_permutation_invariant, assert_rotation_equivariant,
                      assert_rotation_invariant, assert_translation_invariant, model_function, small_model)
from xatom.batch import batch_molecules
from xatom.errors import UnknownElementError
from xatom.models import kernels
from xatom.models.cfconv import PairIndex, cfconv_tabulated, cfconv_torch
from xatom.neighbors import Pairs

MOLECULES = ["water", "methane", "ethanol", "benzene", "glycine", "fluoroethanol"]


@pytest.fixture(params=MOLECULES)
def molecule(request):
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------------------------------ symmetries
def test_energy_is_rotation_invariant(schnet_energy, molecule):
    assert_rotation_invariant(model_function(schnet_energy), molecule)


def test_energy_is_invariant_under_reflection(schnet_energy, ethanol):
    assert_rotation_invariant(model_function(schnet_energy), ethanol, proper=False)


def test_energy_is_translation_invariant(schnet_energy, molecule):
    assert_translation_invariant(model_function(schnet_energy), molecule)


def test_energy_is_permutation_invariant_and_atomic_energies_permute(schnet_energy, molecule):
    assert_permutation_invariant(model_function(schnet_energy), molecule)


def test_dipole_magnitude_and_charges_are_rotation_and_translation_invariant(schnet_dipole, molecule):
    fn = model_function(schnet_dipole)
    assert_rotation_invariant(fn, molecule)
    assert_translation_invariant(fn, molecule)
    assert_permutation_invariant(fn, molecule)


@pytest.mark.parametrize("proper", [True, False])
def test_dipole_vector_rotates_with_the_molecule(schnet_dipole, glycine, proper):
    assert_rotation_equivariant(model_function(schnet_dipole), glycine, proper=proper)


def test_outputs_do_not_depend_on_the_other_molecules_of_the_batch(schnet_energy, schnet_dipole, molecules):
    assert_batch_independent(model_function(schnet_energy), molecules)
    assert_batch_independent(model_function(schnet_dipole), molecules)


def test_latent_atomic_energies_sum_to_the_molecular_energy(schnet_energy, molecules):
    with torch.no_grad():
        b = batch_molecules(molecules, 5.0)
        out = schnet_energy(b)
    sums = torch.zeros(len(molecules)).index_add_(0, b.idx_m, out["atomic_energy_kcal"])
    torch.testing.assert_close(sums, out["energy_kcal"], rtol=1e-6, atol=1e-5)


def test_latent_atomic_energies_include_the_element_baseline(schnet_energy, ethanol):
    fn = model_function(schnet_energy)
    before = fn([ethanol])["energy_kcal"].detach()
    schnet_energy.head.baseline_kcal[[1, 6, 8]] = torch.tensor([-10.0, -100.0, -50.0])
    after = fn([ethanol])["energy_kcal"].detach()
    torch.testing.assert_close(after - before, torch.tensor([6 * -10.0 + 2 * -100.0 - 50.0]), rtol=1e-5, atol=1e-4)


def test_forces_sum_to_zero_and_exert_no_torque(schnet_energy, glycine):
    b = batch_molecules([glycine], 5.0)
    R = b.R.clone().requires_grad_(True)
    E = schnet_energy(b.with_positions(R))["energy_kcal"].sum()
    (F,) = torch.autograd.grad(-E, R)
    assert F.abs().max() > 1e-3
    torch.testing.assert_close(F.sum(0), torch.zeros(3), atol=1e-4, rtol=0)
    torque = torch.cross(R.detach() - R.detach().mean(0), F, dim=1).sum(0)
    torch.testing.assert_close(torque, torch.zeros(3), atol=1e-4, rtol=0)


@pytest.mark.parametrize("exact", [True, False])
def test_forces_match_finite_differences_in_float64(water, exact):
    model = small_model("schnet", "energy").double()
    model.representation.exact_filters = exact
    b = batch_molecules([water], 5.0)
    R = b.R.double().requires_grad_(True)

    def energy(pos):
        return model(b.with_positions(pos))["energy_kcal"].sum()

    (grad,) = torch.autograd.grad(energy(R), R)
    h = 1e-5
    fd = torch.zeros_like(grad)
    with torch.no_grad():
        for a in range(R.shape[0]):
            for c in range(3):
                d = torch.zeros_like(R)
                d[a, c] = h
                fd[a, c] = (energy(R + d) - energy(R - d)) / (2 * h)
    torch.testing.assert_close(grad, fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("exact", [True, False])
def test_energy_and_force_are_continuous_when_an_atom_leaves_the_cutoff(exact):
    model = small_model("schnet", "energy").double()
    model.representation.exact_filters = exact
    rc = model.cutoff

    def energy_and_force(r):
        b = batch_molecules([xatom.Molecule([6, 8], [[0, 0, 0], [r, 0, 0]])], rc)
        R = b.R.double().requires_grad_(True)
        E = model(b.with_positions(R))["energy_kcal"].sum()
        (g,) = torch.autograd.grad(E, R)
        return float(E.detach()), float(g[1, 0])

    (e_in, f_in), (e_out, f_out) = energy_and_force(rc - 1e-3), energy_and_force(rc + 1e-3)
    e_near, f_near = energy_and_force(2.0)
    assert f_out == 0.0  # beyond the cutoff the atoms do not interact
    assert abs(e_near - e_out) > 1e-6 and abs(f_near) > 1e-6  # the interaction is not trivially zero
    # cosine cutoff: value and slope vanish at r_c, so E and dE/dr change by O(δ²) and O(δ) across it
    assert abs(e_in - e_out) < 1e-4 * abs(e_near - e_out)
    assert abs(f_in - f_out) < 1e-2 * abs(f_near)


# ------------------------------------------------------------------------------------------ unknown elements
@pytest.mark.parametrize("z", [0, 95])
def test_unknown_element_raises(schnet_energy, water, z):
    b = batch_molecules([water], 5.0)
    Z = b.Z.clone()
    Z[1] = z
    with pytest.raises(UnknownElementError, match=str(z)):
        schnet_energy(replace(b, Z=Z))
    with pytest.raises(UnknownElementError):
        batch_molecules([xatom.Molecule([8, z, 1], water.positions)], 5.0)


# ------------------------------------------------------------------------------------------ cfconv kernel
def random_cfconv_inputs(seed=0, n_recv=23, n_send=23, n_pairs=300, F=32, G=41, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    recv = torch.sort(torch.randint(0, n_recv, (n_pairs,), generator=g)).values
    send = torch.randint(0, n_send, (n_pairs,), generator=g)
    h = torch.randn(n_send, F, generator=g, dtype=dtype)
    table = torch.randn(G, F, generator=g, dtype=dtype)
    k = torch.randint(0, G - 1, (n_pairs,), generator=g)
    frac = torch.rand(n_pairs, generator=g, dtype=dtype)
    return h, table, frac, k, PairIndex(recv, send, n_recv, n_send)


def _value_and_grads(fn, h, table, frac, k, index, grad_out):
    h, table, frac = (t.clone().requires_grad_(True) for t in (h, table, frac))
    out = fn(h, table, frac, k, index)
    out.backward(grad_out)
    return out.detach(), h.grad, table.grad, frac.grad


needs_kernel = pytest.mark.skipif(not kernels.available(), reason="the C++ cfconv kernel could not be built")


@needs_kernel
@pytest.mark.parametrize("seed, n_recv, n_pairs", [(0, 23, 300), (1, 50, 7), (2, 5, 400)])
def test_fused_kernel_matches_pure_torch_values_and_gradients(seed, n_recv, n_pairs):
    h, table, frac, k, index = random_cfconv_inputs(seed, n_recv=n_recv, n_send=17, n_pairs=n_pairs)
    grad_out = torch.randn(n_recv, h.shape[1], generator=torch.Generator().manual_seed(seed + 100))
    fused = _value_and_grads(cfconv_tabulated, h, table, frac, k, index, grad_out)
    # reference in float64 (the kernel itself is float32 only)
    ref = _value_and_grads(cfconv_torch, h.double(), table.double(), frac.double(), k, index, grad_out.double())
    for name, a, b in zip(("value", "grad h", "grad table", "grad frac"), fused, ref):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a.double(), b, rtol=1e-5, atol=1e-5, msg=lambda m: f"{name}: {m}")


@needs_kernel
def test_fused_kernel_handles_atoms_without_pairs_and_empty_pair_lists():
    h, table, frac, k, _ = random_cfconv_inputs(3, n_pairs=0)
    index = PairIndex(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 4, h.shape[0])
    out = _value_and_grads(cfconv_tabulated, h, table, frac, k, index, torch.ones(4, h.shape[1]))
    assert torch.equal(out[0], torch.zeros(4, h.shape[1]))
    assert torch.equal(out[1], torch.zeros_like(h)) and torch.equal(out[2], torch.zeros_like(table))


@needs_kernel
def test_fused_kernel_is_correct_with_several_threads():
    h, table, frac, k, index = random_cfconv_inputs(4, n_recv=200, n_send=200, n_pairs=3000)
    grad_out = torch.randn(200, h.shape[1], generator=torch.Generator().manual_seed(5))
    ref = _value_and_grads(cfconv_torch, h.double(), table.double(), frac.double(), k, index, grad_out.double())
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fused = _value_and_grads(cfconv_tabulated, h, table, frac, k, index, grad_out)
    finally:
        torch.set_num_threads(old)
    for a, b in zip(fused, ref):
        torch.testing.assert_close(a.double(), b, rtol=1e-5, atol=1e-4)


def test_pure_torch_cfconv_passes_gradcheck():
    h, table, frac, k, index = random_cfconv_inputs(6, n_recv=6, n_send=6, n_pairs=20, F=4, G=9,
                                                    dtype=torch.float64)
    frac = frac.clamp(0.05, 0.95)
    torch.autograd.gradcheck(lambda a, b, c: cfconv_torch(a, b, c, k, index),
                             (h.requires_grad_(), table.requires_grad_(), frac.requires_grad_()))


def test_pairs_not_sorted_by_receiver_are_refused():
    with pytest.raises(ValueError, match="sorted"):
        PairIndex(torch.tensor([1, 0]), torch.tensor([0, 1]), 2, 2)


@needs_kernel
def test_kernel_refuses_double_backward_with_a_clear_error(water):
    model = small_model("schnet", "energy")
    b = batch_molecules([water], 5.0)
    R = b.R.clone().requires_grad_(True)
    E = model(b.with_positions(R))["energy_kcal"].sum()
    with pytest.raises(RuntimeError, match="double backward"):
        torch.autograd.grad(E, R, create_graph=True)


# ------------------------------------------------------------------------------------------ tabulated filters
def test_tabulated_filters_match_exact_filters(molecules):
    model = small_model("schnet", "energy")
    model.head.scale_kcal.fill_(10.0)
    model.head.baseline_kcal[[1, 6, 7, 8, 9]] = torch.tensor([-300.0, -600.0, -500.0, -450.0, -400.0])
    fn = model_function(model)
    with torch.no_grad():
        table = fn(molecules)
        model.representation.exact_filters = True
        exact = fn(molecules)
    e_t, e_x = table["energy_kcal"].double(), exact["energy_kcal"].double()
    assert float(((e_t - e_x).abs() / e_x.abs()).max()) < 1e-4
    # the network part alone (without baseline) agrees to 1e-4 of its scale as well
    y_t = table["atomic_energy_kcal"] - model.head.baseline_kcal[batch_molecules(molecules, 5).Z]
    y_x = exact["atomic_energy_kcal"] - model.head.baseline_kcal[batch_molecules(molecules, 5).Z]
    assert float((y_t - y_x).abs().max()) < 1e-4 * float(y_x.abs().max())


def test_tabulated_filter_forces_match_exact_filter_forces(glycine):
    model = small_model("schnet", "energy")
    b = batch_molecules([glycine], 5.0)
    forces = []
    for exact in (False, True):
        model.representation.exact_filters = exact
        R = b.R.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(model(b.with_positions(R))["energy_kcal"].sum(), R)
        forces.append(g)
    assert float((forces[0] - forces[1]).abs().max()) < 1e-2 * float(forces[1].abs().max())


# ------------------------------------------------------------------------------------------ probes
def _layers(model, mol):
    b = batch_molecules([mol], model.cutoff)
    with torch.no_grad():
        return b, dict(model.representation(b), layers=model.representation.layers(b))


def _probe_pairs(probe_R, mol_R, cutoff, exclude=()):
    i, j = [], []
    for p in range(probe_R.shape[0]):
        for a in range(mol_R.shape[0]):
            if a not in exclude and float((mol_R[a] - probe_R[p]).norm()) < cutoff:
                i.append(p)
                j.append(a)
    return Pairs(torch.tensor(i, dtype=torch.long), torch.tensor(j, dtype=torch.long))


@pytest.mark.parametrize("z", [1, 6, 8])
def test_probe_far_from_the_molecule_is_an_isolated_atom(schnet_energy, ethanol, z):
    rep = schnet_energy.representation
    b, out = _layers(schnet_energy, ethanol)
    probe_R = torch.tensor([[60.0, 0.0, 0.0]])
    pairs = _probe_pairs(probe_R, b.R, rep.cutoff)
    assert pairs.idx_i.numel() == 0
    with torch.no_grad():
        x = rep.probe(out["layers"], torch.tensor([z]), pairs, probe_R, b.R)
        isolated = rep(batch_molecules([xatom.Molecule([z], [[0.0, 0.0, 0.0]])], 5.0))
    assert torch.equal(x["representation"], isolated["representation"]) and torch.equal(x["y"], isolated["y"])
    # an isolated atom still passes through the interaction blocks' biases: it equals its embedding only
    # after zero interactions
    first = rep.probe(out["layers"][:1], torch.tensor([z]), pairs, probe_R, b.R)["representation"]
    assert first.equal(rep.embedding.weight[z:z + 1])


def test_probe_at_an_atom_reproduces_that_atom_representation(schnet_energy, glycine):
    """A probe feels the molecule's layers without acting back, exactly as one atom does from its neighbours."""
    rep = schnet_energy.representation
    b, out = _layers(schnet_energy, glycine)
    atoms = [0, 3, 7]
    probe_R, probe_Z = b.R[atoms], b.Z[atoms]
    i, j = [], []
    for p, a in enumerate(atoms):
        mask = b.idx_i == a
        i += [p] * int(mask.sum())
        j += b.idx_j[mask].tolist()
    pairs = Pairs(torch.tensor(i), torch.tensor(j))
    with torch.no_grad():
        x = rep.probe(out["layers"], probe_Z, pairs, probe_R, b.R)
    torch.testing.assert_close(x["representation"], out["representation"][atoms], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x["y"], out["y"][atoms], rtol=1e-5, atol=1e-5)


def test_probing_does_not_change_the_molecule(schnet_energy, ethanol):
    rep = schnet_energy.representation
    fn = model_function(schnet_energy)
    with torch.no_grad():
        before = fn([ethanol])
    b, out = _layers(schnet_energy, ethanol)
    layers_copy = [t.clone() for t in out["layers"]]
    g = torch.Generator().manual_seed(0)
    probe_R = b.R.mean(0) + 3.0 * torch.randn(40, 3, generator=g)
    probe_Z = torch.tensor([1, 6, 7, 8, 9] * 8)
    with torch.no_grad():
        x = rep.probe(out["layers"], probe_Z, _probe_pairs(probe_R, b.R, rep.cutoff), probe_R, b.R)["representation"]
        after = fn([ethanol])
    assert torch.isfinite(x).all() and x.shape == (40, rep.n_features)
    for a, c in zip(out["layers"], layers_copy):
        assert torch.equal(a, c)
    for key in before:
        assert torch.equal(before[key], after[key]), key


def test_probe_with_unknown_element_raises(schnet_energy, water):
    b, out = _layers(schnet_energy, water)
    with pytest.raises(UnknownElementError):
        schnet_energy.representation.probe(out["layers"], torch.tensor([95]),
                                           Pairs(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)),
                                           torch.zeros(1, 3), b.R)


# ------------------------------------------------------------------------------------------ periodic
def test_crystal_energy_is_extensive_and_origin_independent(schnet_energy):
    from test_batching import nacl

    fn = model_function(schnet_energy)
    with torch.no_grad():
        e1 = fn([nacl()])["energy_kcal"]
        e2 = fn([nacl(repeat=(2, 1, 1))])["energy_kcal"]
        shifted = fn([nacl(shift=(0.7, -1.1, 2.3))])["energy_kcal"]
    torch.testing.assert_close(e2, 2 * e1, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(shifted, e1, rtol=1e-5, atol=1e-4)


def test_embedding_init_scale_is_configurable_and_keeps_the_padding_row_zero():
    torch.manual_seed(0)
    small = xatom.models.SchNet(n_features=64, embedding_std=0.1).embedding.weight.detach()
    torch.manual_seed(0)
    default = xatom.models.SchNet(n_features=64).embedding.weight.detach()
    torch.testing.assert_close(small, 0.1 * default)
    assert float(small[1:].std()) == pytest.approx(0.1, rel=0.05) and bool((small[0] == 0).all())


# ------------------------------------------------------------------------------------------ checkpoints
def test_checkpoints_written_before_schnet_held_its_readout_still_load():
    """Shipped and resume checkpoints name the atom-wise network ``readout.*`` (it used to sit beside SchNet);
    they load into today's layout with the same weights, and the parameters keep their order, so optimizer
    states saved with them still fit."""
    from xatom import paths
    from xatom.checkpoint import load_model, read_checkpoint

    path = paths.DATA_DIR / "models" / "schnet-dipole-fold0" / "model.pt"
    legacy = read_checkpoint(path)["state_dict"]
    assert any(k.startswith("readout.") for k in legacy)  # the old layout, as shipped
    model = load_model(path)
    renamed = {k.replace("representation.readout.", "readout.", 1): v for k, v in model.state_dict().items()}
    assert sorted(renamed) == sorted(legacy)
    for key, tensor in legacy.items():
        assert torch.equal(renamed[key], tensor), key
    parameters = {k.replace("representation.readout.", "readout.", 1) for k, _ in model.named_parameters()}
    old_order = [k for k in legacy if k in parameters]
    assert [k.replace("representation.readout.", "readout.", 1) for k, _ in model.named_parameters()] == old_order
