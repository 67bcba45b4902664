"""Predictions of a trained model for molecules a user brings (xyz, SMILES, RDKit, QM9 rows).

:func:`predict_molecules` returns, per molecule, the molecular prediction and the latent per-atom values
(atomic energies Ê_i in kcal/mol or partial charges q̂_i in e), in the molecule's own atom order. It runs the
domain check (:mod:`xatom.domain`) first and computes on the device of the model's weights.
"""
from __future__ import annotations

import numpy as np
import torch

from .batch import batch_molecules
from .device import model_device
from .domain import check_model_input
from .molecule import Molecule


@torch.no_grad()
def predict_molecules(model, molecules, batch_size: int = 200, strict: bool = False) -> dict:
    """Predictions for a list of :class:`Molecule` (or one).

    Args:
        model: an :class:`~xatom.models.AtomisticModel`, on any device (batches are moved to it).
        molecules: a :class:`Molecule` or a list of them.
        batch_size: molecules per forward pass.
        strict: raise :class:`~xatom.errors.OutOfDomainError` for molecules outside the training domain instead of
            an :class:`~xatom.errors.OutOfDomainWarning`.

    Returns:
        ``{model.target: (n_molecules,) array, model.latent: [per-atom array of each molecule]}``, plus
        ``"dipole_vector_debye"`` (n_molecules, 3) for dipole models.

    Raises:
        UnknownElementError, OutOfDomainError, CoordinateRangeError: where the numbers would mean nothing
            (:func:`xatom.domain.check_molecules`).
    """
    if isinstance(molecules, Molecule):
        molecules = [molecules]
    molecules = list(molecules)
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    check_model_input(model, molecules, strict)
    model.eval()
    device = model_device(model)
    targets, latents, vectors = [], [], []
    for start in range(0, len(molecules), int(batch_size)):
        chunk = molecules[start:start + int(batch_size)]
        out = model(batch_molecules(chunk, model.cutoff, centre=True).to(device))
        targets.append(out[model.target].cpu().numpy())
        bounds = np.cumsum([0] + [m.n_atoms for m in chunk])
        latent = out[model.latent].cpu().numpy()
        latents += [latent[a:b].astype(np.float64) for a, b in zip(bounds[:-1], bounds[1:])]
        if "dipole_vector_debye" in out:
            vectors.append(out["dipole_vector_debye"].cpu().numpy())
    result = {model.target: np.concatenate(targets).astype(np.float64), model.latent: latents}
    if vectors:
        result["dipole_vector_debye"] = np.concatenate(vectors).astype(np.float64)
    return result


def latent_values(model, molecule: Molecule, strict: bool = False) -> np.ndarray:
    """The latent per-atom values of one molecule (Ê_i in kcal/mol or q̂_i in e), in its atom order.

    Args:
        strict: as in :func:`predict_molecules`.
    """
    return predict_molecules(model, [molecule], strict=strict)[model.latent][0]
