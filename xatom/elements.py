"""Element symbols and atomic numbers (Z = 1 … 94) and masses for centres of mass."""
import numpy as np

from .errors import UnknownElementError

SYMBOLS = (
    "X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb "
    "Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu"
).split()
"""SYMBOLS[Z] is the symbol of atomic number Z (index 0 is a placeholder)."""

MAX_Z = len(SYMBOLS) - 1

_Z_OF = {s: z for z, s in enumerate(SYMBOLS) if z > 0}

# Standard atomic weights (IUPAC, rounded) in u, for the elements that occur in QM9-like molecules
# and a default of 2·Z for the rest (only used for centres of mass of exotic user molecules).
_MASSES = {1: 1.008, 6: 12.011, 7: 14.007, 8: 15.999, 9: 18.998, 15: 30.974, 16: 32.06, 17: 35.45,
           35: 79.904, 53: 126.90}
MASSES = np.array([_MASSES.get(z, 2.0 * z) for z in range(MAX_Z + 1)])
MASSES[0] = 0.0

QM9_ELEMENTS = (1, 6, 7, 8, 9)
"""Atomic numbers present in QM9: H, C, N, O, F."""


def atomic_number(symbol: str) -> int:
    """Atomic number of an element symbol such as ``"C"`` (case-insensitive for the first letter)."""
    key = symbol.strip().capitalize()
    try:
        return _Z_OF[key]
    except KeyError:
        raise UnknownElementError(f"unknown element symbol {symbol!r}; expected one of H, He, …, Pu") from None


def symbol(z: int) -> str:
    """Element symbol of atomic number ``z``."""
    if not 1 <= int(z) <= MAX_Z:
        raise UnknownElementError(f"unknown atomic number {z!r}; expected 1 … {MAX_Z}")
    return SYMBOLS[int(z)]
