"""Predictions of a trained model for molecules a user brings (xyz, SMILES, RDKit, QM9 rows).

:func:`predict_molecules` returns, per molecule, the molecular prediction and the latent per-atom values
(atomic energies Ê_i in kcal/mol or partial charges q̂_i in e), in the molecule's own atom order.
"""
from __future__ import annotations

import numpy as np
import torch

from .batch import batch_molecules
from .molecule import Molecule


@torch.no_grad()
def predict_molecules(model, molecules, batch_size: int = 200) -> dict:
    """Predictions for a list of :class:`Molecule` (or one).

    Returns:
        ``{model.target: (n_molecules,) array, model.latent: [per-atom array of each molecule]}``, plus
        ``"dipole_vector_debye"`` (n_molecules, 3) for dipole models.
    """
    if isinstance(molecules, Molecule):
        molecules = [molecules]
    molecules = list(molecules)
    model.eval()
    targets, latents, vectors = [], [], []
    for start in range(0, len(molecules), batch_size):
        chunk = molecules[start:start + batch_size]
        out = model(batch_molecules(chunk, model.cutoff))
        targets.append(out[model.target].numpy())
        bounds = np.cumsum([0] + [m.n_atoms for m in chunk])
        latent = out[model.latent].numpy()
        latents += [latent[a:b].astype(np.float64) for a, b in zip(bounds[:-1], bounds[1:])]
        if "dipole_vector_debye" in out:
            vectors.append(out["dipole_vector_debye"].numpy())
    result = {model.target: np.concatenate(targets).astype(np.float64), model.latent: latents}
    if vectors:
        result["dipole_vector_debye"] = np.concatenate(vectors).astype(np.float64)
    return result


def latent_values(model, molecule: Molecule) -> np.ndarray:
    """The latent per-atom values of one molecule (Ê_i in kcal/mol or q̂_i in e), in its atom order."""
    return predict_molecules(model, [molecule])[model.latent][0]
