"""Is a molecule inside what a model was trained on? The one domain check of the prediction path.

The prediction entry point :func:`xatom.inference.predict` runs :func:`check_molecules` with the
:class:`TrainingDomain` of its model (:func:`training_domain`) for every molecule it is given, so the latent
charges of the ESP (:func:`~xatom.analysis.esp.latent_charges`), the notebook explorers and the molecule report
are checked through it; the probe (:class:`~xatom.analysis.probe.LocalChemicalPotential`) calls it itself.

Policy:

* **a named error where the model's number would mean nothing**:

  - :class:`~xatom.errors.UnknownElementError`: an element that never occurred in the training data (its
    SchNet embedding was never updated; a Behler–Parrinello model has no network for it);
  - :class:`~xatom.errors.OutOfDomainError`: a single atom of a molecular model. It has no neighbour, so the
    model sees its element only, while the targets are 0 by definition (atomization energy of a free atom,
    dipole of one point);
  - :class:`~xatom.errors.CoordinateRangeError`: coordinates beyond :data:`MAX_COORDINATE_ANGSTROM` or a
    structure larger than :data:`MAX_EXTENT_ANGSTROM` (the models compute in float32, see below);

* **an** :class:`~xatom.errors.OutOfDomainWarning` **where the number is an extrapolation**: a net charge
  (QM9 is neutral), more heavy atoms than in training, no heavy atom (H₂: a real molecule, but none like it in
  QM9), atoms without any other atom within the model's cutoff, fragments farther apart than the cutoff
  (the model sees unrelated molecules, and a dipole model spreads one neutral set of charges over all of
  them), a periodic structure given to a molecular model or the reverse;
* ``strict=True`` turns every warning into an :class:`~xatom.errors.OutOfDomainError`.

Coordinates: the models compute in float32 (7 significant digits), so the prediction path subtracts each
molecule's centroid in float64 before casting (:func:`xatom.batch.centroid`); a molecule 10⁸ Å from the
origin then gives the same numbers as at the origin. What float64 itself resolves bounds the coordinates
(:data:`MAX_COORDINATE_ANGSTROM`) and what float32 resolves bounds the size (:data:`MAX_EXTENT_ANGSTROM`).
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import elements
from .errors import CoordinateRangeError, OutOfDomainError, OutOfDomainWarning, UnknownElementError
from .tasks import task

MAX_COORDINATE_ANGSTROM = 1e9
"""Largest |coordinate| accepted, Å: float64 resolves 1.2e-7 Å there, so recentring keeps bond lengths exact."""

MAX_EXTENT_ANGSTROM = 1e4
"""Largest distance of an atom from the centroid, Å: float32 resolves about 1e-3 Å there."""

QM9_MAX_HEAVY_ATOMS = 9
"""QM9 holds molecules with at most nine heavy atoms (C, N, O, F)."""


@dataclass(frozen=True)
class TrainingDomain:
    """What a model was trained on.

    Args:
        name: the training data, as named in messages ("QM9").
        elements: atomic numbers that occur in the training data.
        max_heavy_atoms: most heavy atoms (Z > 1) of a training structure, or None for no limit.
        min_heavy_atoms: fewest heavy atoms of a training structure.
        neutral: the training structures carry no net charge.
        periodic: the training structures are periodic crystals, not isolated molecules.
    """

    name: str
    elements: tuple[int, ...]
    max_heavy_atoms: int | None = None
    min_heavy_atoms: int = 0
    neutral: bool = True
    periodic: bool = False

    @property
    def symbols(self) -> list[str]:
        return [elements.symbol(z) for z in self.elements]


QM9 = TrainingDomain("QM9", elements.QM9_ELEMENTS, max_heavy_atoms=QM9_MAX_HEAVY_ATOMS, min_heavy_atoms=1)
"""Neutral molecules of H, C, N, O, F with one to nine heavy atoms."""


def training_domain(model) -> TrainingDomain:
    """The training domain of a model, from its configuration's target.

    Energy and dipole models train on QM9 (the only molecular data set, :func:`xatom.training.load_dataset`);
    formation-energy models on the periodic crystal set, whose elements are those with a fitted composition
    baseline (the least-squares fit leaves absent elements at exactly 0).
    """
    target = model.config["target"]
    dataset = task(target).dataset
    if dataset == "qm9":
        return QM9
    if dataset == "crystals":
        trained = np.flatnonzero(model.head.baseline_ev.detach().cpu().numpy())
        return TrainingDomain("the crystal set", tuple(int(z) for z in trained), periodic=True)
    raise ValueError(f"no training domain known for target {target!r}")


def element_number(element, domain: TrainingDomain) -> int:
    """Atomic number of ``element`` (a symbol or an integer atomic number) that occurs in ``domain``.

    Raises:
        UnknownElementError: not a symbol or an integer (``6.7`` is not an element), unknown, or never seen in
            training (its embedding is untrained).
    """
    if isinstance(element, str):
        z = elements.atomic_number(element)
    elif isinstance(element, (int, np.integer)) and not isinstance(element, (bool, np.bool_)):
        z = int(element)
    else:
        raise UnknownElementError(f"an element is a symbol or an integer atomic number, got {element!r} "
                                  f"({type(element).__name__})")
    if z not in domain.elements:
        raise UnknownElementError(f"element {element!r} was never seen in training on {domain.name}, its embedding "
                                  f"is untrained; choose one of {domain.symbols}")
    return z


@dataclass(frozen=True)
class Problem:
    """One reason to distrust a prediction: ``error`` is raised with ``message``; None means a warning."""

    message: str
    error: type[Exception] | None = None


def _neighbour_pairs(molecule, cutoff: float) -> np.ndarray:
    """Unordered pairs (i, j) of atoms closer than ``cutoff`` Å (periodic images included), (n_pairs, 2)."""
    if molecule.cell is not None:
        from .neighbors import periodic_pairs

        pairs = periodic_pairs(molecule.positions, molecule.cell, cutoff, molecule.pbc)
        return np.stack([pairs.idx_i.numpy(), pairs.idx_j.numpy()], axis=1)
    from scipy.spatial import cKDTree

    return cKDTree(molecule.positions).query_pairs(cutoff, output_type="ndarray")


def _connectivity(molecule, cutoff: float) -> list[Problem]:
    """Atoms with no neighbour within the cutoff, and groups of atoms farther apart than it."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = molecule.n_atoms
    pairs = _neighbour_pairs(molecule, cutoff)
    problems = []
    degree = np.bincount(pairs.ravel(), minlength=n) if pairs.size else np.zeros(n, dtype=int)
    lonely = np.flatnonzero(degree == 0)
    if lonely.size:
        listed = ", ".join(f"{i} ({molecule.symbols[i]})" for i in lonely[:10]) + (" …" if lonely.size > 10 else "")
        problems.append(Problem(f"atom(s) {listed} have no other atom within the model's {cutoff:g} Å cutoff: the "
                                "model sees each of them as a free atom"))
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])) if pairs.size else ([], ([], [])),
                       shape=(n, n))
    n_fragments, label = connected_components(graph, directed=False)
    if n_fragments > 1:
        sizes = np.bincount(label)
        problems.append(Problem(f"disconnected: the atoms form {n_fragments} fragments (of {sorted(sizes.tolist())} "
                                f"atoms) farther apart than the model's {cutoff:g} Å cutoff; the model treats them as "
                                "separate molecules, and a dipole model spreads one neutral set of charges over all "
                                "of them"))
    return problems


def find_problems(molecule, domain: TrainingDomain, cutoff: float) -> list[Problem]:
    """Every reason why a model trained on ``domain`` (pair cutoff ``cutoff`` Å) may mislead for ``molecule``."""
    problems = []
    foreign = sorted({int(z) for z in molecule.numbers} - set(domain.elements))
    if foreign:
        problems.append(Problem(f"elements {[elements.symbol(z) for z in foreign]} never occur in {domain.name} "
                                f"(only {', '.join(domain.symbols)}): the model never learned them, so its numbers "
                                "for this molecule mean nothing", UnknownElementError))
    positions = molecule.positions
    largest = float(np.abs(positions).max())
    extent = float(np.linalg.norm(positions - positions.mean(0), axis=1).max())
    coordinates_ok = False
    if largest > MAX_COORDINATE_ANGSTROM:
        problems.append(Problem(f"a coordinate of {largest:.3g} Å: beyond {MAX_COORDINATE_ANGSTROM:g} Å even float64 "
                                "cannot resolve bond lengths; move the molecule near the origin", CoordinateRangeError))
    elif extent > MAX_EXTENT_ANGSTROM:
        problems.append(Problem(f"an atom {extent:.3g} Å from the centroid: a structure larger than "
                                f"{MAX_EXTENT_ANGSTROM:g} Å is beyond what the models' float32 arithmetic resolves "
                                "(about 1e-3 Å there)", CoordinateRangeError))
    else:
        coordinates_ok = True
    if molecule.n_atoms == 1 and molecule.cell is None:
        problems.append(Problem("a single atom: with no neighbour the model sees only its element, while a free atom's "
                                "atomization energy and dipole are 0 by definition, so its numbers mean nothing",
                                OutOfDomainError))
    if molecule.charge and domain.neutral:
        problems.append(Problem(f"net charge {molecule.charge:+d} e: {domain.name} holds neutral molecules only, and "
                                "the dipole models force latent charges to sum to zero"))
    heavy = int((molecule.numbers > 1).sum())
    if domain.max_heavy_atoms is not None and heavy > domain.max_heavy_atoms:
        problems.append(Problem(f"{heavy} heavy atoms: {domain.name} molecules have at most {domain.max_heavy_atoms}, "
                                "so this is an extrapolation in size"))
    if heavy < domain.min_heavy_atoms and molecule.n_atoms > 1:
        problems.append(Problem(f"{heavy} heavy atoms: every {domain.name} molecule has at least "
                                f"{domain.min_heavy_atoms}, so this is an extrapolation"))
    if (molecule.cell is not None) != domain.periodic:
        problems.append(Problem("a periodic structure, but the model was trained on isolated molecules"
                                if molecule.cell is not None else
                                "an isolated molecule, but the model was trained on periodic crystals"))
    if coordinates_ok and molecule.n_atoms > 1:
        problems += _connectivity(molecule, cutoff)
    return problems


def _label(molecule, index: int, many: bool) -> str:
    """How messages name a molecule: its name or formula, and its position when several were given."""
    return (f"molecule {index} " if many else "") + (molecule.name or molecule.formula)


_SKIPPED_DIRS = (str(Path(__file__).resolve().parent), str(Path(torch.__file__).resolve().parent))
"""Frames in these folders are not the user's: xatom itself, and torch (its ``no_grad`` decorator wraps ours)."""


def _user_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` in the caller of this function that points at the first frame
    outside xatom and torch (the user's line, not ours)."""
    frame, level = sys._getframe(1), 1  # level 1: the caller, which calls warnings.warn
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED_DIRS):
        frame, level = frame.f_back, level + 1
    return level


def check_molecules(molecules, domain: TrainingDomain, cutoff: float, strict: bool = False) -> list[list[str]]:
    """The domain check: raise where a model's numbers mean nothing, warn where they extrapolate.

    Args:
        molecules: :class:`~xatom.molecule.Molecule` objects.
        domain: what the model was trained on (:func:`training_domain`).
        cutoff: the model's pair cutoff in Å (atoms farther apart do not see each other).
        strict: raise :class:`~xatom.errors.OutOfDomainError` instead of warning.

    Returns:
        the reasons for every molecule (an empty list inside the domain).

    Raises:
        UnknownElementError, OutOfDomainError, CoordinateRangeError: see the module docstring; the message names
            the molecule and every reason.
    """
    molecules = list(molecules)
    reasons, flagged = [], []
    for k, molecule in enumerate(molecules):
        problems = find_problems(molecule, domain, cutoff)
        label = _label(molecule, k, len(molecules) > 1)
        fatal = [p for p in problems if p.error is not None]
        if fatal:
            raise fatal[0].error(f"{label}: " + "; ".join(p.message for p in fatal))
        reasons.append([p.message for p in problems])
        if problems:
            flagged.append(f"{label}: " + "; ".join(reasons[-1]))
    if flagged:
        shown = flagged[:5] + ([f"… and {len(flagged) - 5} more"] if len(flagged) > 5 else [])
        text = (f"outside the {domain.name} training domain ({len(flagged)} of {len(reasons)} molecules): "
                if len(reasons) > 1 else f"outside the {domain.name} training domain: ") + " | ".join(shown)
        if strict:
            raise OutOfDomainError(text + " (strict=True)")
        warnings.warn(text, OutOfDomainWarning, stacklevel=_user_stacklevel())
    return reasons


def warn_out_of_domain(notes: list[str]):
    """One :class:`~xatom.errors.OutOfDomainWarning` with the messages (e.g. of :class:`DomainNotes`), at the
    user's line; nothing for an empty list."""
    if notes:
        warnings.warn(" | ".join(notes), OutOfDomainWarning, stacklevel=_user_stacklevel())


def check_model_input(model, molecules, strict: bool = False) -> list[list[str]]:
    """:func:`check_molecules` for ``model``'s training domain and cutoff."""
    return check_molecules(molecules, training_domain(model), model.cutoff, strict)


class DomainNotes:
    """Collects the :class:`~xatom.errors.OutOfDomainWarning` messages raised inside a ``with`` block instead of
    printing them (other warnings pass through), for callers that show them elsewhere (a widget's status line,
    one combined warning of a report).

    ``notes`` holds the distinct messages in order of appearance.
    """

    def __enter__(self) -> "DomainNotes":
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always", OutOfDomainWarning)
        self.notes: list[str] = []
        return self

    def __exit__(self, *exc):
        self._catcher.__exit__(*exc)
        for w in self._caught:
            if issubclass(w.category, OutOfDomainWarning):
                if str(w.message) not in self.notes:
                    self.notes.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        return False
