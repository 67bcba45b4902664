"""Shared physics assertion helpers and fixtures for the xatom test suite (re-exported by conftest.py).

The helpers follow the style of dscribe's ``tests/conftest.py``: every model's test file reuses the same
checks of rotation/translation/permutation invariance and rotation equivariance.

A *model function* maps a list of :class:`xatom.Molecule` to a dict of tensors (as
:class:`xatom.models.AtomisticModel` returns for a batch built with :func:`xatom.batch.batch_molecules`).
Outputs whose first dimension equals the number of atoms are per-atom quantities (latent energies,
charges, representations); outputs with first dimension 1 are molecular quantities.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pytest
import torch

import xatom
from xatom.batch import batch_molecules
from xatom.models import AtomisticModel, model_config

torch.set_num_threads(1)

VECTOR_KEYS = ("dipole_vector_debye",)
"""Outputs that rotate with the molecule (checked by :func:`assert_rotation_equivariant`)."""


# ----------------------------------------------------------------------------------------------- geometry
def random_rotation(seed: int, proper: bool = True) -> np.ndarray:
    """A random orthogonal 3×3 matrix from the QR decomposition of a seeded Gaussian matrix.

    ``proper=True`` gives a rotation (det +1); ``proper=False`` a rotation followed by a reflection (det −1).
    """
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))  # unique, uniformly distributed
    if (np.linalg.det(q) > 0) != proper:
        q[:, 0] = -q[:, 0]
    return q


def transformed(molecule: xatom.Molecule, positions=None, order=None) -> xatom.Molecule:
    """A copy of ``molecule`` with new positions and/or atoms reordered by ``order``."""
    numbers, pos = molecule.numbers, molecule.positions if positions is None else positions
    if order is not None:
        numbers, pos = numbers[order], pos[order]
    return xatom.Molecule(numbers, pos, cell=molecule.cell, pbc=molecule.pbc, name=molecule.name)


def rotate(molecule: xatom.Molecule, rot: np.ndarray) -> xatom.Molecule:
    """Rotate about the centroid (r → rot·r)."""
    c = molecule.positions.mean(0)
    return transformed(molecule, (molecule.positions - c) @ rot.T + c)


def _outputs(model_fn, molecules) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = model_fn(list(molecules))
    return {k: v.detach().double().numpy() for k, v in out.items() if isinstance(v, torch.Tensor)}


def _scale(a: np.ndarray) -> float:
    return float(np.abs(a).max()) if a.size else 1.0


def _assert_close(got, want, what: str, rtol: float, atol: float):
    tol = atol + rtol * _scale(want)
    err = float(np.abs(got - want).max()) if want.size else 0.0
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert err <= tol, f"{what}: max deviation {err:.3g} > tolerance {tol:.3g} (scale {_scale(want):.3g})"


def _scalar_keys(out: dict, keys) -> list[str]:
    keys = [k for k in out if k not in VECTOR_KEYS] if keys is None else list(keys)
    assert keys, "no outputs to compare"
    return keys


# ----------------------------------------------------------------------------------------------- helpers
def assert_rotation_invariant(model_fn, molecule: xatom.Molecule, keys=None, n_rotations: int = 3,
                              rtol: float = 1e-5, atol: float = 1e-4, seed: int = 0, proper: bool = True):
    """Scalar outputs (molecular and per-atom) do not change when the molecule is rotated.

    ``proper=False`` uses improper rotations (with a reflection), under which energies, |μ| and charges of
    distance/angle-based models must not change either.
    """
    ref = _outputs(model_fn, [molecule])
    for k in range(n_rotations):
        rot = random_rotation(seed + k, proper)
        out = _outputs(model_fn, [rotate(molecule, rot)])
        for key in _scalar_keys(ref, keys):
            _assert_close(out[key], ref[key], f"{key} of {molecule.name!r} after rotation {k}", rtol, atol)


def assert_translation_invariant(model_fn, molecule: xatom.Molecule, keys=None, shifts=None,
                                 rtol: float = 1e-5, atol: float = 1e-4):
    """Scalar outputs do not change when every atom is shifted by the same vector (Å)."""
    shifts = shifts if shifts is not None else [(3.0, -2.0, 1.5), (-40.0, 25.0, 10.0)]
    ref = _outputs(model_fn, [molecule])
    for s in shifts:
        out = _outputs(model_fn, [transformed(molecule, molecule.positions + np.asarray(s))])
        for key in _scalar_keys(ref, keys):
            _assert_close(out[key], ref[key], f"{key} of {molecule.name!r} after translation by {s}", rtol, atol)


def assert_permutation_invariant(model_fn, molecule: xatom.Molecule, keys=None, n_permutations: int = 3,
                                 rtol: float = 1e-5, atol: float = 1e-4, seed: int = 0):
    """Relabelling the atoms leaves molecular outputs unchanged and permutes per-atom outputs alike."""
    ref = _outputs(model_fn, [molecule])
    n = molecule.n_atoms
    rng = np.random.default_rng(seed)
    for k in range(n_permutations):
        order = rng.permutation(n)
        out = _outputs(model_fn, [transformed(molecule, order=order)])
        for key in _scalar_keys(ref, keys) + [v for v in VECTOR_KEYS if v in ref and keys is None]:
            want = ref[key][order] if ref[key].shape[0] == n and n > 1 else ref[key]
            _assert_close(out[key], want, f"{key} of {molecule.name!r} after permutation {k}", rtol, atol)


def assert_rotation_equivariant(model_fn, molecule: xatom.Molecule, key: str = "dipole_vector_debye",
                                n_rotations: int = 3, rtol: float = 1e-5, atol: float = 1e-4, seed: int = 0,
                                proper: bool = True):
    """A vector output v (shape (n, 3)) rotates with the molecule: v(Q r) = Q v(r)."""
    ref = _outputs(model_fn, [molecule])[key]
    assert ref.ndim == 2 and ref.shape[1] == 3, f"{key} is not a (n, 3) vector output"
    assert np.abs(ref).max() > 1e-3, f"{key} is ~0: equivariance test would be vacuous"
    for k in range(n_rotations):
        rot = random_rotation(seed + k, proper)
        out = _outputs(model_fn, [rotate(molecule, rot)])[key]
        _assert_close(out, ref @ rot.T, f"{key} of {molecule.name!r} after rotation {k}", rtol, atol)


def assert_batch_independent(model_fn, molecules, keys=None, rtol: float = 1e-5, atol: float = 1e-4):
    """The outputs of a molecule do not depend on the other molecules in its batch."""
    together = _outputs(model_fn, molecules)
    start = 0
    for m_idx, mol in enumerate(molecules):
        alone = _outputs(model_fn, [mol])
        for key in _scalar_keys(alone, keys) + [v for v in VECTOR_KEYS if v in alone and keys is None]:
            if alone[key].shape[0] == mol.n_atoms and mol.n_atoms > 1:
                got = together[key][start:start + mol.n_atoms]
            else:
                got = together[key][m_idx:m_idx + 1]
            _assert_close(got, alone[key], f"{key} of {mol.name!r} inside a batch", rtol, atol)
        start += mol.n_atoms


def model_function(model: AtomisticModel, cutoff: float | None = None):
    """``list[Molecule] → dict of tensors`` for an :class:`AtomisticModel`."""
    model.eval()

    def fn(molecules):
        return model(batch_molecules(molecules, cutoff if cutoff is not None else model.cutoff))

    return fn


# ----------------------------------------------------------------------------------------------- fixtures
WATER_XYZ = """3
water
O   0.000000   0.000000   0.117300
H   0.000000   0.757200  -0.469200
H   0.000000  -0.757200  -0.469200
"""


@pytest.fixture(scope="session")
def water() -> xatom.Molecule:
    return xatom.Molecule.from_xyz(WATER_XYZ)


@pytest.fixture(scope="session")
def methane() -> xatom.Molecule:
    return xatom.Molecule.from_smiles("C", seed=1, name="methane")


@pytest.fixture(scope="session")
def ethanol() -> xatom.Molecule:
    return xatom.Molecule.from_smiles("CCO", seed=1, name="ethanol")


@pytest.fixture(scope="session")
def benzene() -> xatom.Molecule:
    return xatom.Molecule.from_smiles("c1ccccc1", seed=1, name="benzene")


@pytest.fixture(scope="session")
def glycine() -> xatom.Molecule:
    """Contains H, C, N and O (all but F of QM9's elements)."""
    return xatom.Molecule.from_smiles("NCC(=O)O", seed=1, name="glycine")


@pytest.fixture(scope="session")
def fluoroethanol() -> xatom.Molecule:
    return xatom.Molecule.from_smiles("OCCF", seed=1, name="2-fluoroethanol")


@pytest.fixture(scope="session")
def molecules(water, methane, ethanol, benzene, glycine, fluoroethanol) -> list[xatom.Molecule]:
    return [water, methane, ethanol, benzene, glycine, fluoroethanol]


SMALL_SCHNET = dict(n_features=32, n_filters=32, n_interactions=2, readout_hidden=[16])
SMALL_BP = dict(hidden=[32, 16])


def small_model(kind: str, target: str, seed: int = 0, **overrides) -> AtomisticModel:
    torch.manual_seed(seed)
    arch = dict(SMALL_SCHNET if kind == "schnet" else SMALL_BP)
    arch.update(overrides)
    return AtomisticModel(model_config(kind, target, **arch)).eval()


@pytest.fixture
def schnet_energy() -> AtomisticModel:
    return small_model("schnet", "energy")


@pytest.fixture
def schnet_dipole() -> AtomisticModel:
    return small_model("schnet", "dipole")


@pytest.fixture
def bp_energy() -> AtomisticModel:
    return small_model("bp", "energy")


@pytest.fixture
def bp_dipole() -> AtomisticModel:
    return small_model("bp", "dipole")


@pytest.fixture(scope="session")
def qm9():
    """All of QM9 (from the user cache; built from qm9pack's CSVs on first use)."""
    from xatom.data import load_qm9

    return load_qm9()


def with_fitted_baseline(model: AtomisticModel) -> AtomisticModel:
    """Give an untrained energy model per-element offsets for H, C, N, O, F, as training would (kcal/mol)."""
    offsets = {1: -60.0, 6: -150.0, 7: -110.0, 8: -95.0, 9: -80.0}
    with torch.no_grad():
        for z, value in offsets.items():
            model.head.baseline_kcal[z] = value
    return model
