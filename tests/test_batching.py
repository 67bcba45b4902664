"""Neighbour pairs and flat batches: molecules, mixed batches and periodic crystals."""
import numpy as np
import pytest
import torch

import xatom
from xatom.batch import QM9Batches, batch_from_arrays, batch_molecules
from xatom.errors import NonFiniteError, ShapeError, UnknownElementError
from xatom.neighbors import molecule_pairs, pair_vectors, periodic_pairs

NACL_A = 5.64
NACL_FRAC = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],  # Na (fcc)
                      [.5, 0, 0], [0, .5, 0], [0, 0, .5], [.5, .5, .5]])  # Cl (fcc shifted by a/2)
NACL_Z = np.array([11] * 4 + [17] * 4)


def nacl(repeat=(1, 1, 1), shift=(0.0, 0.0, 0.0)) -> xatom.Molecule:
    """Rock-salt NaCl, conventional cubic cell (a = 5.64 Å, 8 atoms), optionally repeated."""
    shifts = np.array([(a, b, c) for a in range(repeat[0]) for b in range(repeat[1]) for c in range(repeat[2])])
    frac = (NACL_FRAC[None] + shifts[:, None]).reshape(-1, 3)
    return xatom.Molecule(np.tile(NACL_Z, len(shifts)), frac * NACL_A + np.asarray(shift),
                          cell=np.diag(np.array(repeat, float) * NACL_A), name="NaCl")


def brute_force_pairs(molecules, cutoff):
    pairs, start = set(), 0
    for m in molecules:
        for a in range(m.n_atoms):
            for b in range(m.n_atoms):
                if a != b and np.linalg.norm(m.positions[a] - m.positions[b]) < cutoff:
                    pairs.add((start + a, start + b))
        start += m.n_atoms
    return pairs


@pytest.mark.parametrize("cutoff", [1.2, 2.0, 3.0, 5.0])
def test_molecule_pairs_are_exactly_the_pairs_within_the_cutoff(ethanol, benzene, water, cutoff):
    mols = [ethanol, benzene, water]
    R = torch.as_tensor(np.concatenate([m.positions for m in mols]), dtype=torch.float64)
    p = molecule_pairs(R, torch.tensor([m.n_atoms for m in mols]), cutoff)
    got = list(zip(p.idx_i.tolist(), p.idx_j.tolist()))
    assert len(got) == len(set(got)), "duplicate pairs"
    assert set(got) == brute_force_pairs(mols, cutoff)
    assert p.offsets is None


def test_pairs_never_cross_molecules_are_symmetric_and_sorted_by_centre(ethanol, benzene, water):
    mols = [ethanol, benzene, water]
    b = batch_molecules(mols, cutoff=50.0)  # cutoff larger than the batch: only molecule membership limits pairs
    i, j = b.idx_i, b.idx_j
    assert torch.equal(b.idx_m[i], b.idx_m[j])
    assert bool((i[1:] >= i[:-1]).all())
    assert set(zip(i.tolist(), j.tolist())) == set(zip(j.tolist(), i.tolist()))
    assert bool((i != j).all())
    n = np.array([m.n_atoms for m in mols])
    assert i.numel() == int((n * (n - 1)).sum())  # every ordered pair inside each molecule


def test_batch_molecules_concatenates_atoms_and_molecule_index(ethanol, water, methane):
    mols = [ethanol, water, methane]
    b = batch_molecules(mols, cutoff=5.0)
    assert b.n_molecules == 3
    np.testing.assert_array_equal(b.n_atoms.numpy(), [9, 3, 5])
    np.testing.assert_array_equal(b.idx_m.numpy(), [0] * 9 + [1] * 3 + [2] * 5)
    np.testing.assert_array_equal(b.Z.numpy(), np.concatenate([m.numbers for m in mols]))
    np.testing.assert_allclose(b.R.numpy(), np.concatenate([m.positions for m in mols]), atol=1e-6)
    assert b.R.dtype == torch.float32 and b.Z.dtype == torch.long
    assert b.offsets is None
    # overlapping molecules in space do not interact: pairs stay within each molecule
    assert torch.equal(b.idx_m[b.idx_i], b.idx_m[b.idx_j])


def test_batch_molecules_refuses_an_empty_list():
    with pytest.raises(ShapeError):
        batch_molecules([], 5.0)


def _flat(mols):
    numbers = np.concatenate([m.numbers for m in mols]).astype(np.uint8)
    positions = np.concatenate([m.positions for m in mols])
    offsets = np.concatenate([[0], np.cumsum([m.n_atoms for m in mols])])
    return numbers, positions, offsets


def test_batch_from_arrays_picks_rows_in_order_with_consistent_indices(ethanol, water, methane, benzene):
    mols = [ethanol, water, methane, benzene]
    numbers, positions, offsets = _flat(mols)
    energy = np.array([10.0, 20.0, 30.0, 40.0])
    rows = np.array([3, 1, 2])
    b = batch_from_arrays(numbers, positions, offsets, rows, 5.0, targets={"energy_kcal": energy})
    ref = batch_molecules([mols[r] for r in rows], 5.0)
    for key in ("Z", "idx_m", "idx_i", "idx_j", "n_atoms"):
        assert torch.equal(getattr(b, key), getattr(ref, key)), key
    torch.testing.assert_close(b.R, ref.R)
    np.testing.assert_array_equal(b.n_atoms.numpy(), [12, 3, 5])
    assert torch.equal(torch.bincount(b.idx_m), b.n_atoms)
    np.testing.assert_array_equal(b.targets["energy_kcal"].numpy(), [40.0, 20.0, 30.0])
    # atom_index points back to the data set's rows of every atom
    np.testing.assert_array_equal(numbers[b.atom_index.numpy()], b.Z.numpy())
    np.testing.assert_allclose(positions[b.atom_index.numpy()], b.R.numpy(), atol=1e-6)


def test_batch_from_arrays_validates_atoms(ethanol, water):
    numbers, positions, offsets = _flat([ethanol, water])
    bad = positions.copy()
    bad[10, 0] = np.nan
    with pytest.raises(NonFiniteError):
        batch_from_arrays(numbers, bad, offsets, np.array([0, 1]), 5.0)
    batch_from_arrays(numbers, bad, offsets, np.array([0]), 5.0)  # the NaN is in a row not asked for
    zero = numbers.copy()
    zero[0] = 0
    with pytest.raises(UnknownElementError):
        batch_from_arrays(zero, positions, offsets, np.array([0]), 5.0)


def test_qm9_batches_cover_every_row_once_per_epoch_and_are_reproducible(qm9):
    rows = np.arange(100, 350)
    loader = QM9Batches(qm9, rows, batch_size=64, cutoff=5.0, targets=("energy_kcal",), seed=3)
    assert len(loader) == 4
    seen = []
    for b in loader.epoch(1):
        assert b.n_molecules <= 64
        seen.append(b.targets["energy_kcal"].numpy())
    seen = np.concatenate(seen)
    np.testing.assert_allclose(np.sort(seen), np.sort(qm9.energy_kcal[rows].astype(np.float32)))
    np.testing.assert_array_equal(loader.order(1), QM9Batches(qm9, rows, 64, 5.0, seed=3).order(1))
    assert not np.array_equal(loader.order(1), loader.order(2))
    # resuming at step 2 yields exactly the last batches of the epoch
    full = list(loader.epoch(1))
    resumed = list(loader.epoch(1, start_step=2))
    assert len(resumed) == 2
    for a, b in zip(full[2:], resumed):
        assert torch.equal(a.Z, b.Z) and torch.equal(a.R, b.R)


# ------------------------------------------------------------------------------------------ periodic
def test_rock_salt_has_six_neighbours_at_2_82_angstrom():
    cryst = nacl()
    p = periodic_pairs(cryst.positions, cryst.cell, 3.0)
    assert p.offsets is not None
    counts = torch.bincount(p.idx_i, minlength=8)
    np.testing.assert_array_equal(counts.numpy(), [6] * 8)
    d = pair_vectors(torch.as_tensor(cryst.positions, dtype=torch.float32), p).norm(dim=-1)
    torch.testing.assert_close(d, torch.full_like(d, NACL_A / 2), atol=1e-5, rtol=0)
    # nearest neighbours of Na are Cl and vice versa
    Z = torch.as_tensor(cryst.numbers)
    assert bool((Z[p.idx_i] != Z[p.idx_j]).all())


def test_rock_salt_second_shell_has_twelve_like_ions_at_a_over_sqrt2():
    cryst = nacl()
    p = periodic_pairs(cryst.positions, cryst.cell, 4.2)
    np.testing.assert_array_equal(torch.bincount(p.idx_i, minlength=8).numpy(), [18] * 8)
    d = pair_vectors(torch.as_tensor(cryst.positions, dtype=torch.float32), p).norm(dim=-1)
    Z = torch.as_tensor(cryst.numbers)
    same = Z[p.idx_i] == Z[p.idx_j]
    torch.testing.assert_close(d[same], torch.full_like(d[same], NACL_A / np.sqrt(2)), atol=1e-5, rtol=0)


def test_periodic_pairs_are_sorted_by_centre():
    cryst = nacl()
    p = periodic_pairs(cryst.positions, cryst.cell, 4.2)
    assert bool((p.idx_i[1:] >= p.idx_i[:-1]).all())


def test_batch_of_a_molecule_and_a_crystal_gives_zero_offsets_to_the_molecule(water):
    b = batch_molecules([water, nacl()], cutoff=3.0)
    assert b.offsets is not None and b.offsets.shape == (b.idx_i.numel(), 3)
    in_water = b.idx_m[b.idx_i] == 0
    assert bool((b.offsets[in_water] == 0).all())
    assert int(in_water.sum()) == 6  # O–H, O–H, H–H in both directions
    assert torch.equal(b.idx_m[b.idx_i], b.idx_m[b.idx_j])
    np.testing.assert_array_equal(torch.bincount(b.idx_i[~in_water] - 3, minlength=8).numpy(), [6] * 8)


def test_batch_to_and_with_positions_keep_pairs(water):
    b = batch_molecules([water], 5.0)
    moved = b.with_positions(b.R + 1.0)
    assert torch.equal(moved.idx_i, b.idx_i) and torch.equal(moved.R, b.R + 1.0)
    c = b.to("cpu")
    assert torch.equal(c.Z, b.Z) and torch.equal(c.idx_j, b.idx_j)
