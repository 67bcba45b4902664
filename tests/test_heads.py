"""Output heads: latent charges and the dipole (Eq. 3/4), and latent atomic energies with the element baseline."""
import numpy as np
import pytest
import torch

from physics import transformed
from xatom.batch import batch_molecules
from xatom.models import DipoleHead, EnergyHead
from xatom.units import E_ANGSTROM_TO_DEBYE


def random_y(batch, seed=0):
    return torch.randn(batch.Z.numel(), generator=torch.Generator().manual_seed(seed))


def test_latent_charges_sum_to_zero_in_every_molecule(molecules):
    b = batch_molecules(molecules, 5.0)
    head = DipoleHead()
    q = head(random_y(b), b)["charge_e"]
    sums = torch.zeros(b.n_molecules).index_add_(0, b.idx_m, q)
    torch.testing.assert_close(sums, torch.zeros(b.n_molecules), atol=1e-5, rtol=0)
    assert q.abs().max() > 0.1


def test_dipole_is_sum_of_charges_times_positions_in_debye(molecules):
    b = batch_molecules(molecules, 5.0)
    out = DipoleHead()(random_y(b, 1), b)
    q, R = out["charge_e"].double().numpy(), b.R.double().numpy()
    for m in range(b.n_molecules):
        sel = (b.idx_m == m).numpy()
        mu = (q[sel, None] * R[sel]).sum(0) * E_ANGSTROM_TO_DEBYE  # origin irrelevant: Σ q = 0
        np.testing.assert_allclose(out["dipole_vector_debye"][m].numpy(), mu, rtol=1e-4, atol=1e-4)
        assert float(out["dipole_debye"][m]) == pytest.approx(np.linalg.norm(mu), rel=1e-4, abs=1e-4)


def test_water_with_point_charges_has_the_textbook_dipole(water):
    """q_O = −0.8 e, q_H = +0.4 e: μ = 0.8 e · (distance O → H midpoint), pointing from O to the H atoms."""
    b = batch_molecules([water], 5.0)
    y = torch.where(b.Z == 8, -0.8, 0.4)
    out = DipoleHead()(y, b)
    o, h_mid = water.positions[0], water.positions[1:].mean(0)
    expected = 0.8 * (h_mid - o) * E_ANGSTROM_TO_DEBYE
    np.testing.assert_allclose(out["dipole_vector_debye"][0].numpy(), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out["charge_e"], y)
    assert float(out["dipole_debye"][0]) == pytest.approx(0.8 * 0.5865 * 4.8032, rel=1e-3)


def test_dipole_does_not_depend_on_the_origin(molecules):
    head = DipoleHead()
    b = batch_molecules(molecules, 5.0)
    y = random_y(b, 2)
    ref = head(y, b)
    for shift in ([10.0, -3.0, 2.0], [-100.0, 50.0, 0.0]):
        moved = batch_molecules([transformed(m, m.positions + shift) for m in molecules], 5.0)
        out = head(y, moved)
        torch.testing.assert_close(out["dipole_vector_debye"], ref["dipole_vector_debye"], atol=2e-3, rtol=1e-4)
        torch.testing.assert_close(out["dipole_debye"], ref["dipole_debye"], atol=2e-3, rtol=1e-4)


def test_set_convention_makes_oxygen_negative_and_keeps_the_dipole_magnitude(ethanol, water):
    head = DipoleHead()
    b = batch_molecules([ethanol, water], 5.0)
    y = torch.where(b.Z == 8, 0.5, -0.1) + 0.01 * random_y(b, 3)  # oxygen positive: the "wrong" sign
    before = head(y, b)
    assert float(before["charge_e"][b.Z == 8].mean()) > 0
    head.set_convention(before["charge_e"], b.Z)
    after = head(y, b)
    assert float(head.sign) == -1.0
    assert float(after["charge_e"][b.Z == 8].mean()) < 0
    torch.testing.assert_close(after["charge_e"], -before["charge_e"])
    torch.testing.assert_close(after["dipole_debye"], before["dipole_debye"])
    torch.testing.assert_close(after["dipole_vector_debye"], -before["dipole_vector_debye"])
    # already in convention: applying it again changes nothing
    head.set_convention(after["charge_e"], b.Z)
    assert float(head.sign) == -1.0


def test_set_convention_keeps_the_sign_without_oxygen(methane, benzene):
    head = DipoleHead()
    b = batch_molecules([methane, benzene], 5.0)
    head.set_convention(head(random_y(b), b)["charge_e"], b.Z)
    assert float(head.sign) == 1.0


def test_sign_is_stored_with_the_weights():
    head = DipoleHead()
    head.sign.fill_(-1.0)
    fresh = DipoleHead()
    fresh.load_state_dict(head.state_dict())
    assert float(fresh.sign) == -1.0


ELEMENT_ENERGIES = {1: -380.0, 6: -240.0, 7: -170.0, 8: -110.0, 9: -95.0}


def synthetic_energies(n_mol=60, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    zs = np.array(list(ELEMENT_ENERGIES))
    numbers, sizes = [], []
    for _ in range(n_mol):
        n = rng.integers(3, 20)
        numbers.append(rng.choice(zs, n))
        sizes.append(n)
    numbers_flat = np.concatenate(numbers)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    energy = np.array([sum(ELEMENT_ENERGIES[z] for z in mol) for mol in numbers])
    energy = energy + noise * rng.normal(size=n_mol)
    return numbers_flat, offsets, energy


def test_fit_statistics_recovers_per_element_energies_exactly():
    numbers, offsets, energy = synthetic_energies()
    head = EnergyHead(partition="element")
    head.fit_statistics(numbers, offsets, energy)
    for z, e in ELEMENT_ENERGIES.items():
        assert float(head.baseline_kcal[z]) == pytest.approx(e, rel=1e-6)
    others = [z for z in range(95) if z not in ELEMENT_ENERGIES]
    assert torch.all(head.baseline_kcal[others] == 0)
    assert float(head.scale_kcal) == pytest.approx(0.1)  # nothing left to learn: the floor keeps gradients alive


def test_fit_statistics_scale_is_the_residual_spread_per_atom():
    numbers, offsets, energy = synthetic_energies(n_mol=400, seed=1, noise=5.0)
    head = EnergyHead(partition="element")
    head.fit_statistics(numbers, offsets, energy)
    for z, e in ELEMENT_ENERGIES.items():
        assert float(head.baseline_kcal[z]) == pytest.approx(e, abs=1.0)
    counts = np.stack([np.add.reduceat((numbers == z).astype(float), offsets[:-1]) for z in ELEMENT_ENERGIES], 1)
    residual = energy - counts @ np.array([float(head.baseline_kcal[z]) for z in ELEMENT_ENERGIES])
    assert float(head.scale_kcal) == pytest.approx(residual.std() / np.sqrt(np.diff(offsets).mean()), rel=1e-4)
    assert 0.5 < float(head.scale_kcal) < 5.0


def test_paper_partition_shares_one_mean_and_spread_per_atom_across_elements():
    numbers, offsets, energy = synthetic_energies(n_mol=400, seed=2, noise=5.0)
    head = EnergyHead(partition="atom")
    head.fit_statistics(numbers, offsets, energy)
    per_atom = energy / np.diff(offsets)
    # one μ for every element, also those absent from the training data (the network alone tells them apart)
    torch.testing.assert_close(head.baseline_kcal, torch.full((95,), float(per_atom.mean())))
    assert float(head.scale_kcal) == pytest.approx(per_atom.std(), rel=1e-5)


def test_partitions_differ_in_the_split_between_atoms_not_in_what_the_sum_can_express(ethanol, water):
    numbers, offsets, energy = synthetic_energies(n_mol=300, seed=3, noise=5.0)
    heads = {p: EnergyHead(partition=p) for p in ("atom", "element")}
    for head in heads.values():
        head.fit_statistics(numbers, offsets, energy)
    b = batch_molecules([ethanol, water], 5.0)
    y = random_y(b, 5)
    atom = heads["atom"](y, b)
    # the same molecular energies are reached in the element gauge by the y that undo the change of baseline
    y_elem = (atom["atomic_energy_kcal"] - heads["element"].baseline_kcal[b.Z]) / heads["element"].scale_kcal
    elem = heads["element"](y_elem, b)
    torch.testing.assert_close(elem["energy_kcal"], atom["energy_kcal"])
    torch.testing.assert_close(elem["atomic_energy_kcal"], atom["atomic_energy_kcal"])
    # at y = 0 the atom gauge gives every atom the same energy, the element gauge its element's energy
    zero = torch.zeros_like(y)
    assert torch.unique(heads["atom"](zero, b)["atomic_energy_kcal"]).numel() == 1
    assert torch.unique(heads["element"](zero, b)["atomic_energy_kcal"]).numel() == 3  # H, C, O


def test_unknown_energy_partition_is_named():
    with pytest.raises(ValueError, match="unknown energy partition 'molecule'"):
        EnergyHead(partition="molecule")


def test_energy_head_gives_scaled_atomic_energies_plus_baseline(ethanol, water):
    head = EnergyHead()
    head.baseline_kcal[[1, 6, 8]] = torch.tensor([-1.0, -2.0, -3.0])
    head.scale_kcal.fill_(10.0)
    b = batch_molecules([ethanol, water], 5.0)
    y = random_y(b, 4)
    out = head(y, b)
    torch.testing.assert_close(out["atomic_energy_kcal"], 10.0 * y + head.baseline_kcal[b.Z])
    torch.testing.assert_close(out["energy_kcal"],
                               torch.zeros(2).index_add_(0, b.idx_m, out["atomic_energy_kcal"]))
