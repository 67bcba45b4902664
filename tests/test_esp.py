"""Electrostatic potential of latent charges (Eq. 5): known values, units, far field, errors."""
import numpy as np
import pytest

from physics import random_rotation
from xatom.analysis.esp import electrostatic_potential, kcal_to_volt
from xatom.errors import ImplausibleValueError, NonFiniteError, ShapeError
from xatom.units import COULOMB_KCAL_ANGSTROM


def test_unit_charge_at_one_angstrom():
    e = electrostatic_potential([[1.0, 0, 0], [0, 2.0, 0]], [[0.0, 0, 0]], [1.0])
    np.testing.assert_allclose(e, [COULOMB_KCAL_ANGSTROM, COULOMB_KCAL_ANGSTROM / 2])
    assert e[0] == pytest.approx(332.06, abs=0.01)
    assert kcal_to_volt(e[0]) == pytest.approx(14.3996, abs=1e-3)  # e/(4πε₀·1 Å) in V


def test_probe_charge_scales_and_flips_the_sign():
    args = ([[0.0, 0.0, 1.5]], [[0.0, 0, 0], [0, 0, 1.0]], [-0.4, 0.4])
    np.testing.assert_allclose(electrostatic_potential(*args, probe_charge=-2.0),
                               -2.0 * electrostatic_potential(*args))


def test_neutral_pair_has_the_dipole_far_field():
    q, d, r = 0.3, 1.2, 60.0
    positions = [[0, 0, -d / 2], [0, 0, d / 2]]
    e = electrostatic_potential([[0, 0, r], [r, 0, 0]], positions, [-q, q])
    np.testing.assert_allclose(e[0], COULOMB_KCAL_ANGSTROM * q * d / r ** 2, rtol=1e-3)
    assert abs(e[1]) < 1e-9  # on the dipole's equatorial plane


def test_potential_turns_with_the_molecule():
    rng = np.random.default_rng(1)
    positions, charges = rng.normal(size=(6, 3)), rng.normal(size=6)
    points = rng.normal(scale=4.0, size=(40, 3))
    rot = random_rotation(2)
    np.testing.assert_allclose(electrostatic_potential(points @ rot.T + 1.0, positions @ rot.T + 1.0, charges),
                               electrostatic_potential(points, positions, charges), rtol=1e-10)


def test_point_on_an_atom_stays_finite():
    assert np.isfinite(electrostatic_potential([[0.0, 0, 0]], [[0.0, 0, 0]], [0.5])).all()


def test_bad_inputs():
    with pytest.raises(ShapeError):
        electrostatic_potential(np.zeros((3, 2)), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ShapeError):
        electrostatic_potential(np.zeros((3, 3)), np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(NonFiniteError):
        electrostatic_potential(np.zeros((3, 3)), np.zeros((2, 3)), [np.nan, 0.0])


def test_latent_energies_passed_as_charges_are_refused():
    """Issue 16: an energy model's latent energies (tens of kcal/mol) gave |q̂| ≈ 100 e and an ESP without a word."""
    positions = [[0.0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]]
    energies = [-96.7, -61.2, -61.3]  # water's Ê_i from schnet-energy-elementref, kcal/mol
    with pytest.raises(ImplausibleValueError, match=r"charge -96\.7 e on atom 0.*latent energies"):
        electrostatic_potential([[3.0, 0, 0]], positions, energies)
    electrostatic_potential([[3.0, 0, 0]], positions, [-0.7, 0.35, 0.35])  # charges of a few tenths e are fine


@pytest.mark.parametrize("probe_charge, error, message", [
    (float("nan"), NonFiniteError, "finite"), (np.inf, NonFiniteError, "finite"), (-np.inf, NonFiniteError, "finite"),
    ("1", ImplausibleValueError, "a number"), (None, ImplausibleValueError, "a number"),
    (True, ImplausibleValueError, "a number")])
def test_a_nan_or_non_numeric_probe_charge_is_refused_by_name(probe_charge, error, message):
    """Issue 16: a NaN probe charge gave an all-NaN ESP; a string or None ended in numpy's TypeError."""
    with pytest.raises(error, match=f"probe_charge.*{message}"):
        electrostatic_potential([[1.0, 0, 0]], [[0.0, 0, 0]], [0.5], probe_charge=probe_charge)
    assert electrostatic_potential([[1.0, 0, 0]], [[0.0, 0, 0]], [0.5], probe_charge=np.float32(-1.0))[0] < 0
