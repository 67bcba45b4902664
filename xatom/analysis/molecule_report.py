"""Everything the shipped models say about one molecule (notebook 08): predictions with a fold spread,
latent energies and charges per atom, and the domain check that warns before numbers mislead.

QM9 has neutral molecules of H, C, N, O, F with one to nine heavy atoms. The domain check is the shared one of
:mod:`xatom.domain`, run by every prediction: an untrained element raises, and a molecule outside the domain
still gets numbers with one :class:`~xatom.errors.OutOfDomainWarning` per table; :func:`domain_warnings` lists every
reason beforehand.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain import QM9, DomainNotes, find_problems, warn_out_of_domain
from ..errors import CheckpointMismatchError
from ..inference import latent_values, predict
from ..models.atomistic import DEFAULT_CONFIG
from ..molecule import Molecule
from ..tasks import TASKS, task_of_zoo_name
from ..zoo import QM9_MODELS, split_name

MODELS = QM9_MODELS


def domain_warnings(molecule: Molecule, cutoff: float = DEFAULT_CONFIG["schnet"]["cutoff"]) -> list[str]:
    """Every reason why a QM9-trained model may be unreliable for this molecule (empty list: inside the domain),
    including those for which predictions raise (untrained elements, a lone atom, absurd coordinates).

    Args:
        cutoff: the models' pair cutoff in Å (5 Å for the shipped SchNet and Behler–Parrinello models).
    """
    return [p.message for p in find_problems(molecule, QM9, cutoff)]


def _load(load, name: str, fold: int):
    """``load(name, fold)``, checked to predict what ``name`` says (an energy model is no dipole model)."""
    model = load(name, fold)
    want = task_of_zoo_name(split_name(name)[1]).key
    if getattr(model, "target", None) != want:
        raise CheckpointMismatchError(f"load({name!r}, {fold}) gave a model that predicts "
                                      f"{getattr(model, 'target', type(model).__name__)!r}, but {name} must predict "
                                      f"{want!r}")
    return model


def predictions(molecule: Molecule, load, folds=None, strict: bool = False) -> pd.DataFrame:
    """Atomization energy (kcal/mol) and dipole (D) from both architectures, one column per fold, plus the
    mean and the spread (standard deviation) across folds as an uncertainty.

    Args:
        load: ``load(name, fold)`` → model, e.g. :func:`xatom.zoo.load`.
        folds: ``{name: [folds]}`` to use (default: fold 0 only).
        strict: raise :class:`~xatom.errors.OutOfDomainError` outside the training domain instead of warning.

    Raises:
        CheckpointMismatchError: ``load`` returns a model of another target than its name says.
    """
    rows = []
    with DomainNotes() as notes:
        for name in MODELS:
            kind, what, _ = split_name(name)
            values = {}
            for fold in (folds or {}).get(name, [0]):
                model = _load(load, name, fold)
                values[fold] = float(predict(model, molecule, strict=strict).values[0])
            v = np.array(list(values.values()))
            rows.append({"model": kind, "property": what, "unit": TASKS[what].unit, "mean": v.mean(),
                         "spread across folds": v.std(ddof=1) if v.size > 1 else np.nan, "folds": len(v)})
    warn_out_of_domain(notes.notes)  # one warning for the table (DomainNotes drops repeats)
    return pd.DataFrame(rows)


def per_atom(molecule: Molecule, load, fold: int = 0, strict: bool = False) -> pd.DataFrame:
    """Latent atomic energies Ê_i (kcal/mol) and charges q̂_i (e) of every atom from all four models.

    Args:
        load, strict: as in :func:`predictions`.
        fold: the fold of every model.
    """
    table = pd.DataFrame({"atom": np.arange(molecule.n_atoms), "element": molecule.symbols})
    with DomainNotes() as notes:
        for name in MODELS:
            model = _load(load, name, fold)
            column = f"Ê {name.split('-')[0]} (kcal/mol)" if "energy" in name else f"q̂ {name.split('-')[0]} (e)"
            table[column] = latent_values(model, molecule, strict)
    warn_out_of_domain(notes.notes)
    return table
