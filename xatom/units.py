"""Physical constants and unit conversions; the only place where units are converted.

Internal conventions: lengths in Å, energies in kcal/mol, charges in e, dipoles in Debye
(for targets) or e·Å (for Σ q_i r_i before conversion).
"""

HARTREE_TO_KCAL_PER_MOL = 627.509474
"""1 Hartree in kcal/mol (CODATA 2018)."""

EV_TO_KCAL_PER_MOL = 23.0605478
"""1 eV in kcal/mol."""

HARTREE_TO_EV = HARTREE_TO_KCAL_PER_MOL / EV_TO_KCAL_PER_MOL

E_ANGSTROM_TO_DEBYE = 4.80320471
"""Dipole of +1 e and −1 e separated by 1 Å, in Debye."""

BOHR_TO_ANGSTROM = 0.529177210903

COULOMB_KCAL_ANGSTROM = 332.063713
"""Coulomb constant e²/(4πε₀) in kcal/mol·Å/e² (energy of two unit charges 1 Å apart)."""


def hartree_to_kcal(value):
    """Convert energies from Hartree to kcal/mol."""
    return value * HARTREE_TO_KCAL_PER_MOL


def kcal_to_hartree(value):
    """Convert energies from kcal/mol to Hartree."""
    return value / HARTREE_TO_KCAL_PER_MOL


def ev_to_kcal(value):
    """Convert energies from eV to kcal/mol."""
    return value * EV_TO_KCAL_PER_MOL


def e_angstrom_to_debye(value):
    """Convert dipole moments from e·Å to Debye."""
    return value * E_ANGSTROM_TO_DEBYE


def debye_to_e_angstrom(value):
    """Convert dipole moments from Debye to e·Å."""
    return value / E_ANGSTROM_TO_DEBYE
