"""Turn what a user types into a molecule: a QM9 index, a SMILES found in QM9, or any other SMILES."""
from __future__ import annotations

from ..errors import SmilesParseError
from ..molecule import Molecule


def molecule_from_text(text: str, data=None) -> tuple[Molecule, str]:
    """A :class:`Molecule` and a sentence saying where its geometry comes from.

    * ``"1234"`` (digits): QM9 molecule with that index (its DFT geometry);
    * a SMILES that QM9 contains: QM9's DFT geometry of that molecule;
    * any other SMILES: a geometry from RDKit (ETKDG embedding + MMFF94), *not* DFT.

    Args:
        text: QM9 index or SMILES.
        data: the QM9 data set (:func:`xatom.data.load_qm9`); without it only RDKit geometries are made.
    Raises:
        KeyError for a QM9 index that does not exist, SmilesParseError for unreadable SMILES.
    """
    text = str(text).strip()
    if not text:
        raise SmilesParseError("type a QM9 index (e.g. 1234) or a SMILES (e.g. c1ccccc1O)")
    if text.isdigit():
        if data is None:
            raise KeyError(f"QM9 index {text} needs the QM9 data set (pass data=load_qm9())")
        row = int(data.rows_of(int(text))[0])
        return data.molecule(row), f"QM9 molecule {text} ({data.smiles[row]}), DFT geometry from QM9"
    if data is not None:
        try:
            row = data.find_smiles(text)
        except KeyError:
            pass
        except ValueError as err:
            raise SmilesParseError(str(err)) from None
        else:
            return data.molecule(row), f"{text} is QM9 molecule {data.index[row]}: DFT geometry from QM9"
    molecule = Molecule.from_smiles(text)
    where = "not in QM9" if data is not None else "QM9 not searched"
    return molecule, f"{text} ({where}): geometry from RDKit ETKDG + MMFF94, not DFT"
