"""Predictions of a trained model: the one entry point for molecules a user brings and for data-set rows.

:func:`predict` takes a :class:`~xatom.molecule.Molecule`, a list of them, or a data set (QM9 or the crystal
set) with the rows to predict, and returns one :class:`Prediction` whatever the source: the molecular prediction
per molecule and the latent per-atom values (atomic energies Ê_i or partial charges q̂_i) of all molecules one
after another, with ``offsets`` to find each molecule's atoms. The CLI (``xatom evaluate``, ``xatom table``),
training's validation (:func:`evaluate`), the notebooks, the analyses and the explorers all predict through it.
:func:`latent_values` is the one-molecule shorthand.

Molecules pass the domain check (:mod:`xatom.domain`) first; data-set rows are not checked, since a model's own
data set is its training domain by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .batch import QM9Batches, batch_molecules
from .device import model_device, resolve_device
from .domain import check_model_input
from .errors import ShapeError
from .molecule import Molecule
from .tasks import Task, task_of_key


@dataclass(frozen=True)
class Prediction:
    """What a model predicts for a set of molecules (or crystal structures), in the order given.

    Attributes:
        task: what the model predicts (:class:`~xatom.tasks.Task`: output key, latent key, unit).
        values: the molecular prediction ``task.key`` per molecule, (n_molecules,), in ``task.unit``.
        latents: the latent per-atom values ``task.latent`` of all molecules, molecule after molecule, each in its
            own atom order (a data set's order for rows), (n_atoms,).
        offsets: molecule k's atoms are ``latents[offsets[k]:offsets[k + 1]]``, (n_molecules + 1,).
        reference: the data set's reference values of ``task.key`` for the rows, (n_molecules,); ``None`` for
            molecules (or a data set without them).
        dipole_vectors: the dipole vectors in Debye, (n_molecules, 3), for dipole models, else ``None``.
        domain_notes: for molecules, the reasons of the domain check per molecule (empty list: inside the domain);
            ``None`` for data-set rows.

    Arrays are float32, as the model computes them.
    """

    task: Task
    values: np.ndarray
    latents: np.ndarray
    offsets: np.ndarray
    reference: np.ndarray | None = None
    dipole_vectors: np.ndarray | None = None
    domain_notes: list | None = None

    def __len__(self) -> int:
        return int(self.values.size)

    def atoms(self, k: int) -> np.ndarray:
        """The latent per-atom values of molecule ``k``."""
        return self.latents[self.offsets[k]:self.offsets[k + 1]]


def _device(model, device) -> torch.device:
    """Where to compute: ``device`` (checked to exist and to hold the model's weights) or the model's device."""
    held = model_device(model)
    if device is None:
        return held
    device = resolve_device(device)
    if device.type != held.type or (device.index is not None and held.index is not None and device.index != held.index):
        raise ValueError(f"device={str(device)!r}, but the model's weights are on {str(held)!r}: move the model "
                         f"(model.to({str(device)!r})) or leave device=None")
    return device


@torch.no_grad()
def predict(model, source, *, rows=None, batch_size: int = 500, device=None, strict: bool = False) -> Prediction:
    """Predictions of ``model`` for molecules or data-set rows.

    Args:
        model: an :class:`~xatom.models.AtomisticModel`.
        source: a :class:`~xatom.molecule.Molecule`, a list (any iterable) of them, or a data set with the flat
            layout of :class:`~xatom.data.QM9` (QM9, or a :class:`~xatom.data.crystals.Crystals` set: periodic
            pairs).
        rows: for a data set, the rows to predict, in order (row numbers, not QM9 indices; default: all rows).
        batch_size: molecules per forward pass; results agree across batch sizes to float32 rounding.
        device: where to compute, a device the model's weights are on; default: the model's device.
        strict: for molecules, raise :class:`~xatom.errors.OutOfDomainError` outside the training domain instead
            of an :class:`~xatom.errors.OutOfDomainWarning`.

    Molecules pass the domain check (:func:`xatom.domain.check_molecules`) once, before any forward pass, and are
    centred on their centroid in float64 (:func:`xatom.batch.batch_molecules`). Data-set rows are not checked:
    a model's data set is its training domain by construction.

    Raises:
        UnknownElementError, OutOfDomainError, CoordinateRangeError: molecules where the numbers would mean
            nothing (:mod:`xatom.domain`).
        ShapeError: no molecules or no rows.
        ValueError: ``rows`` with molecules, ``batch_size`` below 1, or a ``device`` the model is not on.
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    batch_size = int(batch_size)
    device = _device(model, device)
    what = task_of_key(model.target)
    reference = notes = None
    if isinstance(source, Molecule) or not hasattr(source, "offsets"):
        if rows is not None:
            raise ValueError("rows select rows of a data set; pass the molecules themselves instead")
        molecules = [source] if isinstance(source, Molecule) else list(source)
        if not molecules:
            raise ShapeError("predict: no molecules given")
        notes = check_model_input(model, molecules, strict)
        n_atoms = [m.n_atoms for m in molecules]
        batches = (batch_molecules(molecules[s:s + batch_size], model.cutoff, centre=True)
                   for s in range(0, len(molecules), batch_size))
    else:
        rows = np.arange(len(source.offsets) - 1) if rows is None else np.asarray(rows, dtype=np.int64)
        if not rows.size:
            raise ShapeError("predict: no rows given")
        n_atoms = source.offsets[rows + 1] - source.offsets[rows]
        batches = QM9Batches(source, rows, batch_size, model.cutoff, targets=(), shuffle=False).epoch(0)
        if hasattr(source, what.key):
            reference = np.asarray(getattr(source, what.key))[rows].astype(np.float32)
    model.eval()
    values, latents, vectors = [], [], []
    for batch in batches:
        out = model(batch.to(device))
        values.append(out[what.key].cpu())
        latents.append(out[what.latent].cpu())
        if "dipole_vector_debye" in out:
            vectors.append(out["dipole_vector_debye"].cpu())
    return Prediction(what, torch.cat(values).numpy(), torch.cat(latents).numpy(),
                      np.concatenate([[0], np.cumsum(n_atoms, dtype=np.int64)]), reference,
                      torch.cat(vectors).numpy() if vectors else None, notes)


def latent_values(model, molecule: Molecule, strict: bool = False) -> np.ndarray:
    """The latent per-atom values of one molecule (Ê_i in kcal/mol or q̂_i in e), in its atom order, float64.

    Args:
        strict: as in :func:`predict`.
    """
    return predict(model, molecule, strict=strict).atoms(0).astype(np.float64)


def _mae_rmse(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    err = pred - true
    return float(np.abs(err).mean()), float(np.sqrt((err ** 2).mean()))


def evaluate(model, data, rows, batch_size: int = 500, device=None) -> dict:
    """MAE and RMSE of ``model`` on data-set rows (in the task's unit: kcal/mol, D, eV/atom), and their number.

    Computed in float32 from :func:`predict`'s values and references (training's validation MAE, as logged).
    """
    res = predict(model, data, rows=rows, batch_size=batch_size, device=device)
    mae, rmse = _mae_rmse(res.values, res.reference)
    return {"mae": mae, "rmse": rmse, "n": int(len(rows))}
