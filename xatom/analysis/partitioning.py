"""Atom-wise partitioning of chemical properties (paper section 3.1, Figures 2 and 4).

Pure functions from per-atom latent values (atomic energies Ê_i in kcal/mol, partial charges q̂_i in e)
to tables and numbers: no plotting, no model loading.

A *data set* here is anything with the flat QM9 layout of :class:`xatom.data.QM9`: ``numbers`` (Z per atom),
``positions`` (Å, one row per atom), ``offsets`` (molecule m's atoms are ``offsets[m]:offsets[m + 1]``) and
``index`` (molecule ids). :func:`molecule_set` builds one from a few :class:`xatom.Molecule` objects.

*Per-atom values* always come "in row order": for the molecule rows ``rows`` (an array of row numbers,
not QM9 ids), the atoms of ``rows[0]`` in their order in the data set, then those of ``rows[1]``, … — the
order of the ``latents`` of :func:`xatom.inference.predict` for those rows.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .. import elements
from ..bonds import BOND_TOLERANCE, covalent_radii, is_bonded
from ..elements import MASSES
from ..units import E_ANGSTROM_TO_DEBYE

HYBRIDISATION = {4: "sp3", 3: "sp2", 2: "sp"}
"""Carbon hybridisation from its number of bonded neighbours (any other count: "other")."""


@dataclass
class MoleculeSet:
    """A few molecules in the flat QM9 layout (see the module docstring); ``index`` numbers them 1, 2, …"""

    numbers: np.ndarray
    positions: np.ndarray
    offsets: np.ndarray
    index: np.ndarray
    names: list

    def __len__(self) -> int:
        return int(self.index.size)


def molecule_set(molecules) -> MoleculeSet:
    """Concatenate :class:`xatom.Molecule` objects into a :class:`MoleculeSet` (rows 0 … n−1)."""
    molecules = list(molecules)
    n = [m.n_atoms for m in molecules]
    return MoleculeSet(numbers=np.concatenate([np.asarray(m.numbers) for m in molecules]).astype(np.int64),
                       positions=np.concatenate([np.asarray(m.positions, dtype=np.float64) for m in molecules]),
                       offsets=np.concatenate([[0], np.cumsum(n)]).astype(np.int64),
                       index=np.arange(1, len(molecules) + 1), names=[m.name for m in molecules])


# ------------------------------------------------------------------------------------------------ layout
def atom_rows(data, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices into the flat atom arrays of ``data`` for the molecules ``rows``, in row order.

    Returns:
        ``(atoms, molecule, position)``: flat atom index, position of the molecule in ``rows``, and the index
        of the atom within its molecule (0-based); each of length Σ n_atoms(rows).
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    start = np.asarray(data.offsets)[rows]
    count = np.asarray(data.offsets)[rows + 1] - start
    molecule = np.repeat(np.arange(rows.size), count)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    within = np.arange(int(count.sum())) - np.repeat(first, count)
    return start[molecule] + within, molecule, within


def _values(data, rows, values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    rows = np.asarray(rows, dtype=np.int64).ravel()
    n = int((np.asarray(data.offsets)[rows + 1] - np.asarray(data.offsets)[rows]).sum())
    if values.size != n:
        raise ValueError(f"got {values.size} per-atom values for {rows.size} molecules with {n} atoms")
    return values


def per_atom_table(data, rows, values, name: str | None = None, **labels) -> pd.DataFrame:
    """One row per atom of the molecules ``rows``.

    Args:
        data: a data set in the flat QM9 layout.
        rows: molecule rows (not QM9 ids).
        values: one value per atom in row order (e.g. Ê_i in kcal/mol or q̂_i in e).
        name: stored in a column ``model`` when given (e.g. ``"bp-energy"``).
        **labels: further constant columns, e.g. ``fold=0``.

    Returns:
        DataFrame with columns ``qm9_index, row, atom, Z, element, value`` (+ ``model`` and the labels);
        ``atom`` is the atom's index within its molecule, ``element`` a categorical symbol ordered by Z.
    """
    values = _values(data, rows, values)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    atoms, molecule, within = atom_rows(data, rows)
    z = np.asarray(data.numbers)[atoms].astype(np.int64)
    present = np.unique(z)
    table = pd.DataFrame({
        "qm9_index": np.asarray(data.index)[rows][molecule],
        "row": rows[molecule],
        "atom": within,
        "Z": z,
        "element": pd.Categorical([elements.SYMBOLS[k] for k in z],
                                  categories=[elements.SYMBOLS[k] for k in present], ordered=True),
        "value": values,
    })
    if name is not None:
        table["model"] = name
    for key, val in labels.items():
        table[key] = val
    return table


def molecule_sums(data, rows, values) -> np.ndarray:
    """Σ over each molecule's atoms of a per-atom quantity (row order), e.g. Σ Ê_i = E or Σ q̂_i; (n_rows,)."""
    values = _values(data, rows, values)
    _, molecule, _ = atom_rows(data, rows)
    return np.bincount(molecule, weights=values, minlength=len(np.atleast_1d(rows)))


def dipole_from_charges(data, rows, charges) -> np.ndarray:
    """Dipole vectors μ = Σ_i q̂_i (r_i − r_COM) in Debye (paper Eq. 3), (n_rows, 3).

    Args:
        charges: q̂_i in e, one per atom in row order; positions are in Å and taken relative to each
            molecule's centre of mass (irrelevant when the charges sum to zero).
    """
    q = _values(data, rows, charges)
    atoms, molecule, _ = atom_rows(data, rows)
    n = len(np.atleast_1d(rows))
    r = np.asarray(data.positions, dtype=np.float64)[atoms]
    m = MASSES[np.asarray(data.numbers)[atoms].astype(np.int64)]
    com = np.stack([np.bincount(molecule, weights=m * r[:, k], minlength=n) for k in range(3)], 1)
    com /= np.bincount(molecule, weights=m, minlength=n)[:, None]
    rel = r - com[molecule]
    mu = np.stack([np.bincount(molecule, weights=q * rel[:, k], minlength=n) for k in range(3)], 1)
    return mu * E_ANGSTROM_TO_DEBYE


# --------------------------------------------------------------------------------- two energy partitions
def partition_difference(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Atom by atom, how two energy partitions of the same molecules differ (e.g. the paper's one mean per atom
    against per-element baselines): the total of a molecule is fixed by the data, its split between atoms is not.

    Args:
        a, b: :func:`per_atom_table` of the same molecule rows (same atoms in the same order), Ê_i in kcal/mol.

    Returns:
        One row per atom: ``row, atom, element``, ``shift`` = Ê_i(a) − Ê_i(b) (kcal/mol), ``total_shift`` = the
        difference of the two molecule totals Σ_i Ê_i (kcal/mol, the same for every atom of a molecule) and
        ``atoms`` (the molecule's number of atoms).

    Raises:
        ValueError: the two tables do not hold the same atoms in the same order.
    """
    keys = ["row", "atom", "Z"]
    if len(a) != len(b) or not (a[keys].to_numpy() == b[keys].to_numpy()).all():
        raise ValueError("partition_difference: the two tables must hold the same atoms in the same order "
                         "(per_atom_table of the same rows)")
    shift = a["value"].to_numpy(np.float64) - b["value"].to_numpy(np.float64)
    molecule = pd.factorize(a["row"])[0]
    total = np.bincount(molecule, weights=shift)
    atoms = np.bincount(molecule)
    return pd.DataFrame({"row": a["row"].to_numpy(), "atom": a["atom"].to_numpy(), "element": a["element"].values,
                         "shift": shift, "total_shift": total[molecule], "atoms": atoms[molecule]})


def partition_summary(diff: pd.DataFrame) -> pd.DataFrame:
    """Per element: atoms, mean and standard deviation of the atom-by-atom shift Ê(a) − Ê(b), and mean |shift|
    (kcal/mol); the last row ("molecule total") gives the same for the molecule totals (one value per molecule)."""
    rows = [{"element": str(e), "n": len(g), "mean shift": g["shift"].mean(), "std of shift": g["shift"].std(ddof=0),
             "mean |shift|": g["shift"].abs().mean()}
            for e, g in diff.groupby("element", observed=True, sort=True)]
    totals = diff.drop_duplicates("row")["total_shift"]
    rows.append({"element": "molecule total", "n": len(totals), "mean shift": totals.mean(),
                 "std of shift": totals.std(ddof=0), "mean |shift|": totals.abs().mean()})
    return pd.DataFrame(rows).set_index("element")


def total_to_split_ratio(weights, abs_shift, abs_total_per_atom, inverse_atoms) -> np.ndarray:
    """Bootstrap statistic (see :mod:`xatom.analysis.bootstrap`; items are atoms, resampled by molecule):
    mean over molecules of |ΔΣ_i Ê_i| divided by the mean over atoms of |ΔÊ_i|, dimensionless.

    Args:
        abs_shift: |Ê_i(a) − Ê_i(b)| per atom.
        abs_total_per_atom: |total shift| of the atom's molecule divided by its number of atoms.
        inverse_atoms: 1 / (number of atoms of the atom's molecule), so that Σ over atoms counts each molecule once.
    """
    per_molecule = (weights @ abs_total_per_atom) / (weights @ inverse_atoms)
    per_atom = (weights @ abs_shift) / weights.sum(1)
    return per_molecule / per_atom


# ------------------------------------------------------------------------------------------------ spreads
def _iqr(x) -> float:
    q75, q25 = np.percentile(x, [75, 25])
    return float(q75 - q25)


def element_spread(table: pd.DataFrame, by=("element",), column: str = "value") -> pd.DataFrame:
    """Spread of ``column`` per group (by default per element).

    Returns:
        DataFrame indexed by ``by`` with ``n``, ``mean``, ``median``, ``std`` (population std, ``np.std``
        with ddof=0) and ``iqr`` (75th − 25th percentile, ``np.percentile``), in the unit of ``column``.
    """
    by = list(by)
    rows = []
    for key, group in table.groupby(by, observed=True, sort=True):
        x = group[column].to_numpy(np.float64)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "n": int(x.size), "mean": float(x.mean()), "median": float(np.median(x)),
                     "std": float(np.std(x)), "iqr": _iqr(x)})
    return pd.DataFrame(rows, columns=by + ["n", "mean", "median", "std", "iqr"]).set_index(by)


def scaled_wasserstein(a, b) -> tuple[float, float]:
    """Wasserstein-1 distance between two samples and the same divided by their pooled std.

    Returns:
        ``(W, W / sqrt((var_a + var_b) / 2))``; W is in the unit of the samples, the ratio is scale-free
        (0 for identical distributions, ≈ |Δmean| / σ for two equally wide shifted Gaussians).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    w = float(stats.wasserstein_distance(a, b))
    pooled = float(np.sqrt(0.5 * (a.var() + b.var())))
    return w, (w / pooled if pooled > 0 else (0.0 if w == 0 else float("inf")))


def pairwise_wasserstein(table: pd.DataFrame, between: str, within=("element",), column: str = "value") -> pd.DataFrame:
    """Wasserstein distances between the distributions of ``column`` for every pair of values of ``between``
    (e.g. folds, or models), separately for every group of ``within`` (e.g. per model and element).

    Returns:
        DataFrame with the ``within`` columns, ``a``, ``b`` (the pair), ``n_a``, ``n_b``, ``wasserstein`` (unit
        of ``column``) and ``scaled`` (÷ pooled std, see :func:`scaled_wasserstein`); empty (same columns) when
        no group has two values of ``between``.
    """
    within = list(within)
    out = []
    for key, group in table.groupby(within, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        samples = {v: g[column].to_numpy(np.float64) for v, g in group.groupby(between, sort=True, observed=True)}
        for a, b in itertools.combinations(sorted(samples), 2):
            w, s = scaled_wasserstein(samples[a], samples[b])
            out.append({**dict(zip(within, key)), "a": a, "b": b, "n_a": samples[a].size, "n_b": samples[b].size,
                        "wasserstein": w, "scaled": s})
    return pd.DataFrame(out, columns=within + ["a", "b", "n_a", "n_b", "wasserstein", "scaled"])


def fold_agreement(table: pd.DataFrame, within=("model", "element"), fold: str = "fold") -> pd.DataFrame:
    """Agreement of the latent distributions of independently trained folds, per model and element.

    Returns:
        DataFrame indexed by ``within`` with ``folds`` (how many), ``pairs``, ``mean_wasserstein`` (mean over
        all fold pairs, unit of the values), ``max_wasserstein`` and ``mean_scaled`` (÷ pooled std); NaN for
        groups with fewer than two folds.
    """
    within = list(within)
    pairs = pairwise_wasserstein(table, fold, within)
    folds = table.groupby(within, observed=True, sort=True)[fold].nunique().rename("folds")
    if pairs.empty:
        agg = pd.DataFrame(index=folds.index, columns=["pairs", "mean_wasserstein", "max_wasserstein", "mean_scaled"],
                           dtype=float)
        agg["pairs"] = 0
    else:
        agg = pairs.groupby(within, observed=True).agg(pairs=("wasserstein", "size"),
                                                       mean_wasserstein=("wasserstein", "mean"),
                                                       max_wasserstein=("wasserstein", "max"),
                                                       mean_scaled=("scaled", "mean"))
    out = folds.to_frame().join(agg, how="left")
    out["pairs"] = out["pairs"].fillna(0).astype(int)
    return out


# --------------------------------------------------------------------------------------- reference values
def compare_to_reference(table: pd.DataFrame, reference, by=("element",), column: str = "value") -> pd.DataFrame:
    """Atom-by-atom comparison of ``column`` with reference values (e.g. latent vs Mulliken charges, in e).

    Args:
        reference: an array aligned with the rows of ``table``, or the name of one of its columns.

    Returns:
        DataFrame indexed by ``by`` with ``n``, ``pearson_r``, ``mae`` (mean |value − reference|), ``bias``
        (mean value − mean reference) and the two means; ``pearson_r`` is NaN where either side is constant.
    """
    by = list(by)
    ref = table[reference].to_numpy(np.float64) if isinstance(reference, str) else np.asarray(reference, np.float64)
    if ref.shape != (len(table),):
        raise ValueError(f"reference has shape {ref.shape}, expected ({len(table)},)")
    frame = table[by + [column]].copy()
    frame["_ref"] = ref
    rows = []
    for key, g in frame.groupby(by, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        x, y = g[column].to_numpy(np.float64), g["_ref"].to_numpy(np.float64)
        r = float(np.corrcoef(x, y)[0, 1]) if x.size > 1 and x.std() > 0 and y.std() > 0 else float("nan")
        rows.append({**dict(zip(by, key)), "n": int(x.size), "pearson_r": r, "mae": float(np.abs(x - y).mean()),
                     "bias": float(x.mean() - y.mean()), "mean": float(x.mean()), "mean_reference": float(y.mean())})
    return pd.DataFrame(rows, columns=by + ["n", "pearson_r", "mae", "bias", "mean", "mean_reference"]).set_index(by)


# ------------------------------------------------------------------------------------- local environments
def neighbour_counts(data, rows, tolerance: float = BOND_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """Bonded neighbours of every atom from its 3D structure, by the project's bond rule (:mod:`xatom.bonds`:
    |r_i − r_j| < ``tolerance`` · (R_i + R_j), covalent radii R in Å). Vectorised over molecules (padded to the
    largest molecule in ``rows``).

    Returns:
        ``(n_neighbours, n_H)`` per atom in row order: number of bonded atoms and of bonded hydrogens.

    Raises:
        UnknownElementError: an element without a covalent radius (a ValueError).
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    atoms, molecule, within = atom_rows(data, rows)
    z = np.asarray(data.numbers)[atoms].astype(np.int64)
    n_max = int(within.max()) + 1 if within.size else 0
    pos = np.full((rows.size, n_max, 3), np.nan)
    rad = np.full((rows.size, n_max), np.nan)
    isH = np.zeros((rows.size, n_max), dtype=bool)
    pos[molecule, within] = np.asarray(data.positions, dtype=np.float64)[atoms]
    rad[molecule, within] = covalent_radii(z)
    isH[molecule, within] = z == 1
    n_nb = np.zeros(atoms.size, dtype=np.int64)
    n_h = np.zeros(atoms.size, dtype=np.int64)
    chunk = 4096  # bounded memory: chunk × n_max² distances
    for s in range(0, rows.size, chunk):
        p, r, h = pos[s:s + chunk], rad[s:s + chunk], isH[s:s + chunk]
        d = np.sqrt(((p[:, :, None, :] - p[:, None, :, :]) ** 2).sum(-1))
        bonded = is_bonded(d, r[:, :, None], r[:, None, :], tolerance)  # NaN (padding) compares False
        idx = np.arange(n_max)
        bonded[:, idx, idx] = False
        nb, nh = bonded.sum(-1), (bonded & h[:, None, :]).sum(-1)
        sel = (molecule >= s) & (molecule < s + chunk)
        m_local = molecule[sel] - s
        n_nb[sel] = nb[m_local, within[sel]]
        n_h[sel] = nh[m_local, within[sel]]
    return n_nb, n_h


def carbon_label(n_neighbours: int, n_h: int) -> str:
    """E.g. ``"sp3 CH3"``, ``"sp2 CH"``, ``"sp C"``: hybridisation from the neighbour count, then the H count."""
    hyb = HYBRIDISATION.get(int(n_neighbours), "other")
    return f"{hyb} C" + ("" if n_h == 0 else "H" if n_h == 1 else f"H{int(n_h)}")


def carbon_environment(data, rows, tolerance: float = BOND_TOLERANCE) -> pd.DataFrame:
    """Local environment of every carbon atom of the molecules ``rows`` (distance-based, see
    :func:`neighbour_counts`).

    Returns:
        DataFrame, one row per carbon in row order, with ``qm9_index, row, atom`` (as :func:`per_atom_table`),
        ``n_neighbours``, ``n_H``, ``hybridisation`` (sp3 = 4 neighbours, sp2 = 3, sp = 2, else "other") and
        ``label`` (e.g. "sp3 CH2"). Its ``position`` column is the carbon's position in the row-ordered atom list,
        so ``values[env.position]`` picks the carbons' latent values.
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    atoms, molecule, within = atom_rows(data, rows)
    nb, nh = neighbour_counts(data, rows, tolerance)
    carbon = np.asarray(data.numbers)[atoms] == 6
    hyb = np.array([HYBRIDISATION.get(int(k), "other") for k in nb[carbon]], dtype=object)
    labels = [carbon_label(a, b) for a, b in zip(nb[carbon], nh[carbon])]
    return pd.DataFrame({"qm9_index": np.asarray(data.index)[rows][molecule[carbon]],
                         "row": rows[molecule[carbon]], "atom": within[carbon],
                         "position": np.flatnonzero(carbon),
                         "n_neighbours": nb[carbon], "n_H": nh[carbon], "hybridisation": hyb, "label": labels})


def variance_explained(values, labels) -> float:
    """Correlation ratio η² = between-group variance / total variance of ``values`` grouped by ``labels``.

    1 when every label has one value (the labels explain the spread completely), 0 when all group means are
    equal. Scale-free, so it compares atomic energies (kcal/mol) and charges (e) alike.
    """
    values = np.asarray(values, dtype=np.float64)
    codes, _ = pd.factorize(np.asarray(labels))
    counts = np.bincount(codes)
    means = np.bincount(codes, weights=values) / counts
    total = ((values - values.mean()) ** 2).sum()
    between = (counts * (means - values.mean()) ** 2).sum()
    return float(between / total) if total > 0 else float("nan")


NEEDS_FOLDS = "needs ≥ 2 folds"


def verdict(holds, missing: str = NEEDS_FOLDS) -> str:
    """Text for a checked claim: ``"holds"``, ``"does not hold"``, or ``missing`` (default :data:`NEEDS_FOLDS`)
    when ``holds`` is None or NaN, i.e. the comparison could not be made (only one fold shipped, no atoms)."""
    if holds is None or (isinstance(holds, float) and np.isnan(holds)):
        return missing
    return "holds" if bool(holds) else "does not hold"
