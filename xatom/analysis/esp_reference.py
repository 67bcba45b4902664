"""Point charges against a quantum-chemical electrostatic potential on a molecular surface.

The reference is the DFT ESP at surface points around a molecule (:mod:`xatom.reference.esp`), as the energy in
kcal/mol of a +1 e probe, the convention of :func:`~xatom.analysis.esp.electrostatic_potential`. Two tools:

* :func:`fit_esp_charges`: the point charges (e) that reproduce a reference ESP best in the least-squares sense
  with a fixed total charge (Merz–Kollman/CHELPG-style, no restraints): what the best atom-centred point
  charges can do;
* :func:`esp_agreement` / :func:`compare_charges`: how well point charges (latent, Mulliken, ESP-fitted)
  reproduce the reference: Pearson r, slope, RMSE (kcal/mol) and the share of points with the right sign.
"""
from __future__ import annotations

import numpy as np

from ..errors import NonFiniteError, ShapeError
from .esp import electrostatic_potential


def _points_and_values(points, esp_kcal) -> tuple[np.ndarray, np.ndarray]:
    points = np.asarray(points, dtype=np.float64)
    esp_kcal = np.asarray(esp_kcal, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or esp_kcal.shape != (len(points),):
        raise ShapeError(f"need points (n, 3) and one ESP value per point; got {points.shape} and {esp_kcal.shape}")
    if not (np.isfinite(points).all() and np.isfinite(esp_kcal).all()):
        raise NonFiniteError("points or ESP values contain NaN or infinite values")
    return points, esp_kcal


def coulomb_matrix(points, positions) -> np.ndarray:
    """ESP (kcal/mol, +1 e probe) at every point of a unit charge on each atom, (n_points, n_atoms).

    Args:
        points: probe positions in Å, (n_points, 3).
        positions: atom positions in Å, (n_atoms, 3).
    """
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ShapeError(f"positions must have shape (n_atoms, 3), got {positions.shape}")
    return np.stack([electrostatic_potential(points, positions, unit) for unit in np.eye(len(positions))], axis=1)


def fit_esp_charges(points, positions, esp_kcal, total_charge: float = 0.0) -> np.ndarray:
    """Atom-centred charges (e) whose ESP matches ``esp_kcal`` best (least squares) with Σq = ``total_charge``.

    Args:
        points: surface points in Å, (n_points, 3); at least as many as atoms.
        positions: atom positions in Å, (n_atoms, 3).
        esp_kcal: reference ESP at the points, kcal/mol for a +1 e probe, (n_points,).
        total_charge: the molecule's charge in e (0 for QM9).

    Solves the Lagrange system [[AᵀA, 1], [1ᵀ, 0]] [q, λ] = [AᵀV, Q] with A from :func:`coulomb_matrix`.
    """
    points, esp_kcal = _points_and_values(points, esp_kcal)
    a = coulomb_matrix(points, positions)
    n_atoms = a.shape[1]
    if len(points) < n_atoms:
        raise ShapeError(f"{len(points)} points cannot fix the charges of {n_atoms} atoms")
    if not np.isfinite(total_charge):
        raise NonFiniteError(f"total_charge must be finite, got {total_charge!r}")
    system = np.zeros((n_atoms + 1, n_atoms + 1))
    system[:n_atoms, :n_atoms] = a.T @ a
    system[:n_atoms, n_atoms] = system[n_atoms, :n_atoms] = 1.0
    rhs = np.append(a.T @ esp_kcal, total_charge)
    return np.linalg.solve(system, rhs)[:n_atoms]


def esp_agreement(esp_kcal, reference_kcal) -> dict:
    """How well an ESP reproduces a reference ESP at the same points.

    Args:
        esp_kcal: the ESP to judge (e.g. of latent charges), kcal/mol, (n_points,).
        reference_kcal: the reference (DFT) ESP at the same points, kcal/mol, (n_points,).

    Returns:
        ``r``: Pearson correlation; ``slope``: least-squares slope of ``esp_kcal`` against ``reference_kcal``
        (1 = right strength, < 1 = too weak); ``rmse_kcal``: root mean square difference in kcal/mol;
        ``sign_agreement``: share of points where both have the same sign; ``n_points``.
    """
    esp_kcal = np.asarray(esp_kcal, dtype=np.float64)
    reference_kcal = np.asarray(reference_kcal, dtype=np.float64)
    if esp_kcal.shape != reference_kcal.shape or esp_kcal.ndim != 1 or esp_kcal.size < 2:
        raise ShapeError(f"need two ESP arrays of the same shape (n ≥ 2,), got {esp_kcal.shape} and "
                         f"{reference_kcal.shape}")
    if not (np.isfinite(esp_kcal).all() and np.isfinite(reference_kcal).all()):
        raise NonFiniteError("ESP values contain NaN or infinite values")
    ref_centred = reference_kcal - reference_kcal.mean()
    esp_centred = esp_kcal - esp_kcal.mean()
    spread = np.sqrt((ref_centred ** 2).sum() * (esp_centred ** 2).sum())
    return {"r": float((ref_centred * esp_centred).sum() / spread) if spread > 0 else float("nan"),
            "slope": float((ref_centred * esp_centred).sum() / (ref_centred ** 2).sum())
            if (ref_centred ** 2).sum() > 0 else float("nan"),
            "rmse_kcal": float(np.sqrt(((esp_kcal - reference_kcal) ** 2).mean())),
            "sign_agreement": float((np.sign(esp_kcal) == np.sign(reference_kcal)).mean()),
            "n_points": int(esp_kcal.size)}


def compare_charges(charges, positions, points, reference_kcal) -> dict:
    """:func:`esp_agreement` of the ESP of point ``charges`` (e) on atoms at ``positions`` (Å) with the
    reference ESP ``reference_kcal`` (kcal/mol, +1 e probe) at ``points`` (Å)."""
    points, reference_kcal = _points_and_values(points, reference_kcal)
    return esp_agreement(electrostatic_potential(points, positions, charges), reference_kcal)
