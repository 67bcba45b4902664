"""Unit conversions (xatom.units is the only place where units are converted) and QM9's energy scale."""
import numpy as np
import pytest

from xatom import units


def test_one_hartree_is_627_5095_kcal_per_mol():
    assert units.hartree_to_kcal(1.0) == pytest.approx(627.5095, abs=1e-4)
    assert units.HARTREE_TO_KCAL_PER_MOL == pytest.approx(627.509474, rel=1e-9)


def test_one_e_angstrom_is_4_8032_debye():
    assert units.e_angstrom_to_debye(1.0) == pytest.approx(4.8032, abs=1e-4)


def test_one_ev_is_23_06_kcal_per_mol_and_hartree_is_27_2114_ev():
    assert units.ev_to_kcal(1.0) == pytest.approx(23.0605, abs=1e-4)
    assert units.HARTREE_TO_EV == pytest.approx(27.211386, abs=1e-5)


def test_bohr_and_coulomb_constant_are_consistent():
    # e²/(4πε₀·a₀) = 1 Hartree  ⇒  k_e (kcal·Å/mol) = 1 Hartree (kcal/mol) · a₀ (Å)
    assert units.COULOMB_KCAL_ANGSTROM == pytest.approx(units.HARTREE_TO_KCAL_PER_MOL * units.BOHR_TO_ANGSTROM,
                                                        rel=1e-6)


@pytest.mark.parametrize("value", [0.0, -1.5, 3.25, np.array([1.0, -2.0, 1e-3])])
def test_energy_and_dipole_conversions_round_trip(value):
    np.testing.assert_allclose(units.kcal_to_hartree(units.hartree_to_kcal(value)), value, rtol=1e-14, atol=0)
    np.testing.assert_allclose(units.debye_to_e_angstrom(units.e_angstrom_to_debye(value)), value, rtol=1e-14,
                               atol=0)


def test_conversions_are_linear_in_sign_and_scale():
    assert units.hartree_to_kcal(-2.0) == -2 * units.hartree_to_kcal(1.0)
    assert units.e_angstrom_to_debye(0.5) == 0.5 * units.E_ANGSTROM_TO_DEBYE


def test_methane_atomization_energy_is_minus_396_kcal_per_mol(qm9):
    row = int(qm9.rows_of(1)[0])
    assert qm9.molecule(row).formula == "CH4"
    assert qm9.energy_kcal[row] == pytest.approx(-396.0, abs=0.1)


def test_methane_atomization_energy_from_published_u0():
    # QM9 molecule 1: U0 = −40.47893 Ha; atoms: C −37.846772 Ha, H −0.500273 Ha
    from xatom.data.qm9 import ATOM_REFERENCE_U0_HARTREE as ref

    e = units.hartree_to_kcal(-40.47893 - ref[6] - 4 * ref[1])
    assert e == pytest.approx(-396.0, abs=0.1)
