"""Point charges against a quantum-chemical electrostatic potential on a molecular surface.

The reference is the DFT ESP at surface points around a molecule (:mod:`xatom.reference.esp`), as the energy in
kcal/mol of a +1 e probe, the convention of :func:`~xatom.analysis.esp.electrostatic_potential`. Two tools:

* :func:`fit_esp_charges`: the point charges (e) that reproduce a reference ESP best in the least-squares sense
  with a fixed total charge (Merz–Kollman/CHELPG-style, no restraints): what the best atom-centred point
  charges can do;
* :func:`esp_agreement` / :func:`compare_charges`: how well point charges (latent, Mulliken, ESP-fitted)
  reproduce the reference: Pearson r, slope, RMSE (kcal/mol) and the share of points with the right sign.

For all molecules of a reference at once (notebooks 04 and 06): :func:`model_charges` (a dipole model's latent
charges) and :func:`qm9_mulliken_charges` gather the charge sets; :func:`agreement_table` gives the metrics per
molecule × source × model × fold, :func:`surface_table` the ESP of every source point by point (parity plots,
maps) and :func:`element_agreement` the charges atom by atom against reference charges, per element.
"""
from __future__ import annotations

import numpy as np

from ..errors import NonFiniteError, ShapeError
from ..tasks import TASKS
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


# --------------------------------------------------------------------------- every molecule of a reference
SOURCES = ("latent", "Mulliken", "ESP-fitted")
"""Charge sources of :func:`agreement_table`: a dipole model's latent charges, QM9's Mulliken charges (B3LYP/
6-31G(2df,p), ``Mulliken_pop``), and the ESP-fitted charges of the reference (the best point charges can do)."""


def model_charges(model, reference, strict: bool = False) -> dict:
    """A dipole model's latent charges (e) for every molecule of an ESP reference, name → (n_atoms,), after the
    domain check (one batch).

    Args:
        model: a dipole model (latent ``charge_e``).
        reference: an :class:`~xatom.reference.esp.EspReference`.
        strict: as in :func:`~xatom.inference.predict`.

    Raises:
        CheckpointMismatchError: ``model`` is not a dipole model.
    """
    from ..errors import CheckpointMismatchError
    from ..inference import predict

    if model.latent != TASKS["dipole"].latent:
        raise CheckpointMismatchError(f"the ESP needs the latent charges (charge_e) of a dipole model; this "
                                      f"{model.kind} model predicts {model.target} with latent {model.latent}")
    names = reference.names
    out = predict(model, [reference[name].molecule for name in names], strict=strict)
    return {name: out.atoms(k).astype(np.float64) for k, name in enumerate(names)}


def qm9_mulliken_charges(reference, data) -> dict:
    """QM9's Mulliken charges (e) of every reference molecule, name → (n_atoms,), in the reference's atom order.

    Args:
        reference: an :class:`~xatom.reference.esp.EspReference`.
        data: the QM9 set (:func:`xatom.data.load_qm9`), which holds the reference geometries.

    Raises:
        DataFormatError: a molecule's atoms in QM9 differ from the reference's.
    """
    from ..errors import DataFormatError

    out = {}
    for name in reference.names:
        m = reference[name]
        row = data.rows_of(m.qm9_index)[0]
        if not np.array_equal(data.molecule(row).numbers, m.molecule.numbers):
            raise DataFormatError(f"{name}: QM9 molecule {m.qm9_index} has other atoms than the reference")
        out[name] = np.asarray(data.mulliken_e[data.offsets[row]:data.offsets[row + 1]], dtype=np.float64)
    return out


def _check_charges(name, charges, n_atoms, what) -> np.ndarray:
    charges = np.asarray(charges, dtype=np.float64)
    if charges.shape != (n_atoms,):
        raise ShapeError(f"{what} of {name!r}: need {n_atoms} charges, got shape {charges.shape}")
    return charges


def agreement_table(reference, latent=None, mulliken=None, names=None):
    """How well each charge source reproduces the reference ESP, one row per molecule × source × model × fold.

    Args:
        reference: an :class:`~xatom.reference.esp.EspReference` (its ESP-fitted charges are always a source).
        latent: ``{(model label, fold): {molecule name: charges (e)}}``, e.g. from :func:`model_charges`.
        mulliken: ``{molecule name: charges (e)}``, e.g. from :func:`qm9_mulliken_charges`.
        names: the molecules (default all of the reference).

    Returns:
        DataFrame with columns ``molecule``, ``source`` (of :data:`SOURCES`), ``model`` (the model label for
        latent charges, else the source), ``fold`` (nullable integer, <NA> but for latent charges), ``n_atoms``,
        ``n_points`` and the :func:`esp_agreement` metrics ``r``, ``slope``, ``rmse_kcal`` (kcal/mol, +1 e probe)
        and ``sign_agreement`` (share of the surface points).
    """
    import pandas as pd

    names = reference.names if names is None else list(names)
    sets = [("latent", label, fold, charges) for (label, fold), charges in (latent or {}).items()]
    if mulliken is not None:
        sets.append(("Mulliken", "Mulliken", None, mulliken))
    sets.append(("ESP-fitted", "ESP-fitted", None, {n: reference[n].esp_charges_e for n in names}))
    rows = []
    for name in names:
        m = reference[name]
        pos = m.molecule.positions
        a = coulomb_matrix(m.points, pos)
        for source, label, fold, charges in sets:
            if name not in charges:
                raise KeyError(f"no {source} charges of {name!r} ({label}); have {sorted(charges)}")
            q = _check_charges(name, charges[name], m.molecule.n_atoms, f"{source} charges ({label})")
            rows.append({"molecule": name, "source": source, "model": label, "fold": fold,
                         "n_atoms": m.molecule.n_atoms, **esp_agreement(a @ q, m.esp_kcal)})
    table = pd.DataFrame(rows)
    table["fold"] = table["fold"].astype("Int64")
    return table[["molecule", "source", "model", "fold", "n_atoms", "n_points", "r", "slope", "rmse_kcal",
                  "sign_agreement"]]


def surface_table(reference, charges: dict, names=None):
    """The reference ESP and that of every charge set at every surface point, for parity plots and maps.

    Args:
        reference: an :class:`~xatom.reference.esp.EspReference`.
        charges: ``{column label: {molecule name: charges (e)}}``.
        names: the molecules (default all of the reference).

    Returns:
        DataFrame, one row per surface point: ``molecule``, ``point`` (its index in the molecule's surface),
        ``x``, ``y``, ``z`` (Å), ``dft`` (kcal/mol) and one column per label (kcal/mol, +1 e probe).
    """
    import pandas as pd

    names = reference.names if names is None else list(names)
    parts = []
    for name in names:
        m = reference[name]
        a = coulomb_matrix(m.points, m.molecule.positions)
        part = {"molecule": name, "point": np.arange(len(m.points)), "x": m.points[:, 0], "y": m.points[:, 1],
                "z": m.points[:, 2], "dft": m.esp_kcal}
        for label, by_name in charges.items():
            part[label] = a @ _check_charges(name, by_name[name], m.molecule.n_atoms, f"charges {label!r}")
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)


def element_agreement(reference, charges: dict, against: dict, names=None):
    """Atom by atom, per element, charges against reference charges on the reference molecules.

    Args:
        reference: an :class:`~xatom.reference.esp.EspReference` (for the atoms' elements).
        charges: ``{molecule name: charges (e)}`` to judge (e.g. latent charges of one model and fold).
        against: ``{molecule name: charges (e)}`` to compare with (e.g. ESP-fitted or Mulliken charges).
        names: the molecules (default all of the reference).

    Returns:
        DataFrame indexed by element (H, C, N, O, F present, then ``"all"``): ``n`` atoms, ``molecules`` holding
        them, ``r`` (Pearson; NaN below 3 atoms), ``slope`` (least squares of ``charges`` on ``against``; 1: same
        scale), ``mae`` (e) and ``bias`` (mean of ``charges − against``, e).
    """
    import pandas as pd

    from .. import elements

    names = reference.names if names is None else list(names)
    z, q, ref, mol = [], [], [], []
    for name in names:
        m = reference[name]
        n = m.molecule.n_atoms
        z.append(m.molecule.numbers)
        q.append(_check_charges(name, charges[name], n, "charges"))
        ref.append(_check_charges(name, against[name], n, "reference charges"))
        mol += [name] * n
    z, q, ref, mol = np.concatenate(z), np.concatenate(q), np.concatenate(ref), np.array(mol)
    rows = []
    groups = [(elements.symbol(int(e)), z == e) for e in sorted(set(z.tolist()))] + [("all", np.ones(z.size, bool))]
    for symbol, at in groups:
        x, y = ref[at], q[at]
        xc, yc = x - x.mean(), y - y.mean()
        enough = at.sum() >= 3 and (xc ** 2).sum() > 0 and (yc ** 2).sum() > 0
        rows.append({"element": symbol, "n": int(at.sum()), "molecules": len(set(mol[at])),
                     "r": float((xc * yc).sum() / np.sqrt((xc ** 2).sum() * (yc ** 2).sum())) if enough else np.nan,
                     "slope": float((xc * yc).sum() / (xc ** 2).sum()) if enough else np.nan,
                     "mae": float(np.abs(y - x).mean()), "bias": float((y - x).mean())})
    table = pd.DataFrame(rows).set_index("element")
    order = [e for e in ("H", "C", "N", "O", "F") if e in table.index]
    return table.loc[order + [e for e in table.index if e not in order]]
