"""Everything the shipped models say about one molecule (notebook 08): predictions with a fold spread,
latent energies and charges per atom, and the domain check that warns before numbers mislead.

QM9 has neutral molecules of H, C, N, O, F with at most nine heavy atoms. A molecule outside that domain
still gets numbers, but :func:`domain_warnings` names every reason to distrust them and :func:`predictions`
emits an :class:`~xatom.errors.OutOfDomainWarning`.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import elements
from ..errors import OutOfDomainWarning
from ..inference import predict_molecules
from ..molecule import Molecule

QM9_MAX_HEAVY_ATOMS = 9
MODELS = ("schnet-energy", "bp-energy", "schnet-dipole", "bp-dipole")
UNITS = {"energy": "kcal/mol", "dipole": "D"}


def domain_warnings(molecule: Molecule) -> list[str]:
    """Reasons why a QM9-trained model may be unreliable for this molecule (empty list: inside the domain)."""
    reasons = []
    foreign = sorted({elements.symbol(z) for z in molecule.numbers if z not in elements.QM9_ELEMENTS})
    if foreign:
        reasons.append(f"elements {foreign} never occur in QM9 (only H, C, N, O, F): their embeddings or "
                       "networks are untrained")
    heavy = int((molecule.numbers > 1).sum())
    if heavy > QM9_MAX_HEAVY_ATOMS:
        reasons.append(f"{heavy} heavy atoms: QM9 molecules have at most {QM9_MAX_HEAVY_ATOMS}, so this is an "
                       "extrapolation in size")
    if molecule.charge:
        reasons.append(f"net charge {molecule.charge:+d} e: QM9 holds neutral molecules only, and the dipole "
                       "models force latent charges to sum to zero")
    return reasons


def predictions(molecule: Molecule, load, folds=None) -> pd.DataFrame:
    """Atomization energy (kcal/mol) and dipole (D) from both architectures, one column per fold, plus the
    mean and the spread (standard deviation) across folds as an uncertainty.

    Args:
        load: ``load(name, fold)`` → model, e.g. :func:`xatom.zoo.load`.
        folds: ``{name: [folds]}`` to use (default: fold 0 only).
    """
    reasons = domain_warnings(molecule)
    if reasons:
        warnings.warn(f"{molecule.name or molecule.formula}: " + "; ".join(reasons), OutOfDomainWarning, stacklevel=2)
    rows = []
    for name in MODELS:
        kind, what = name.split("-")
        values = {}
        for fold in (folds or {}).get(name, [0]):
            model = load(name, fold)
            values[fold] = float(predict_molecules(model, molecule)[model.target][0])
        v = np.array(list(values.values()))
        rows.append({"model": kind, "property": what, "unit": UNITS[what], "mean": v.mean(),
                     "spread across folds": v.std(ddof=1) if v.size > 1 else np.nan, "folds": len(v)})
    return pd.DataFrame(rows)


def per_atom(molecule: Molecule, load, fold: int = 0) -> pd.DataFrame:
    """Latent atomic energies Ê_i (kcal/mol) and charges q̂_i (e) of every atom from all four models."""
    table = pd.DataFrame({"atom": np.arange(molecule.n_atoms), "element": molecule.symbols})
    for name in MODELS:
        model = load(name, fold)
        column = f"Ê {name.split('-')[0]} (kcal/mol)" if "energy" in name else f"q̂ {name.split('-')[0]} (e)"
        table[column] = predict_molecules(model, molecule)[model.latent][0]
    return table
