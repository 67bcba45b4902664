"""Aromatic six-membered carbon rings of QM9 and their stability from latent atomic energies (paper Fig. 3).

The paper ranks the aromatic rings of QM9 by the atomic energies a model assigns to them. Here:

1. :func:`find_aromatic_carbon_rings` finds every 6-membered ring of aromatic carbons. Bonds are perceived
   *from the 3D geometry* (the bond rule of :mod:`xatom.bonds`, bond orders by RDKit), so RDKit's atom indices are the
   model's atom indices (the QM9 order); the atom order of a SMILES string is a different one.
   A cheap preselection on QM9's SMILES (a ``c1ccccc1`` match) keeps the geometry step to the few
   hundred candidates. Molecules whose bonds cannot be perceived are returned as failures, never dropped.
2. :func:`ring_metrics` sums the atomic energies Ê_i (kcal/mol) over the ring: metric (a) over the six
   ring carbons, metric (b) over the ring carbons and the hydrogens bonded to them. Lower (more negative)
   means more stable.
3. :func:`ring_motifs` and :func:`motif_table` count the substituent motifs the paper discusses among the
   most stable rings; :func:`rank_agreement` compares the rankings of two models with Spearman's ρ.
4. Claims about the ranking: :func:`motif_enrichment` (hypergeometric test of each motif among the top rings),
   :func:`top_sets` (overlap of the top lists of several folds) and :func:`top_overlap_under_noise` (a residual
   bootstrap of the ranking with the fold-to-fold noise of :func:`fold_residuals`); :func:`ring_carbon_energies`
   shows where a model books the energy of each ring carbon's bond to its substituent.

Rankings are deterministic on every machine when ties are broken by a key: ``rank(metric, qm9_index, decimals=1)``
treats metrics equal to 0.1 kcal/mol as tied and orders them by QM9 index.

No plotting and no model loading here: inputs are QM9 arrays and per-atom energies, outputs DataFrames.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

RING_SMARTS = "c1ccccc1"
"""Six aromatic carbons in a ring; used both for the SMILES preselection and as the definition."""

MOTIFS = {
    "fluorine (c–F)": "[c:1]-F",
    "alkyne (c–C≡C)": "[c:1]-C#C",
    "nitrile (c–C≡N)": "[c:1]-C#N",
    "hydroxy (c–OH)": "[c:1]-[OX2;H1]",
    "amine (c–NH2)": "[c:1]-[NX3;H2]",
    "methyl (c–CH3)": "[c:1]-[CH3]",
}
"""Substituent SMARTS; the atom mapped ``:1`` must be a carbon of the ring for the motif to count
(SMARTS are matched on the hydrogen-suppressed molecule, so ``H1``/``H2`` count the bonded hydrogens)."""

FUSED_O5 = "fused 5-ring with O"
"""Motif name of a 5-membered ring that contains oxygen and shares a bond (two atoms) with the ring."""

FUSED_5 = "fused 5-ring (any)"
"""Motif name of any 5-membered ring sharing a bond (two atoms) with the ring."""

DONOR = "OH or NH2 donor"
"""Motif name: the ring carries a hydroxy or an amine (NH2) substituent."""


# ------------------------------------------------------------------------------------------- perception
def _remove_all_h_params():
    from rdkit import Chem

    params = Chem.RemoveHsParameters()
    params.removeDefiningBondStereo = True  # also the H of an imine N=C, which RDKit keeps by default
    return params


def mol_from_geometry(numbers, positions, charge: int = 0):
    """RDKit ``Mol`` (explicit hydrogens, atom i = input atom i) with bonds perceived from 3D positions (Å).

    The connectivity is the project's bond rule (:func:`xatom.bonds.bonded_pairs`), the same bonds every other
    analysis sees; RDKit then assigns bond orders (``rdDetermineBonds.DetermineBondOrders(charge=charge)``) and
    aromaticity (``SanitizeMol``). Raises ``RuntimeError`` naming the stage that failed.

    Raises:
        UnknownElementError: an element the bond rule has no covalent radius for.
    """
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    from ..bonds import bonded_pairs
    from ..molecule import Molecule

    numbers = np.asarray(numbers)
    positions = np.asarray(positions, dtype=np.float64)
    xyz = Molecule(numbers, positions).to_xyz(comment="")
    atoms = Chem.MolFromXYZBlock(xyz)
    if atoms is None:
        raise RuntimeError("MolFromXYZBlock: RDKit could not read the xyz block")
    editable = Chem.RWMol(atoms)
    for i, j in bonded_pairs(numbers, positions):
        editable.AddBond(int(i), int(j), Chem.BondType.SINGLE)
    mol = editable.GetMol()
    try:
        rdDetermineBonds.DetermineBondOrders(mol, charge=charge)
    except (ValueError, RuntimeError) as err:  # which one depends on the RDKit version
        raise RuntimeError(f"DetermineBondOrders: {err}".strip()) from None
    try:
        Chem.SanitizeMol(mol)
    except (ValueError, RuntimeError) as err:  # MolSanitizeException is a ValueError
        raise RuntimeError(f"SanitizeMol: {err}".strip()) from None
    return mol


def aromatic_carbon_rings(mol) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every 6-membered ring of ``mol`` whose atoms are all aromatic carbons.

    Returns ``[(ring_atoms, ring_h_atoms), ...]``: ring atom indices in ring order, and the indices of the
    hydrogens bonded to those carbons (sorted). Rings are taken from RDKit's SSSR ring perception.
    """
    found = []
    for ring in mol.GetRingInfo().AtomRings():
        if len(ring) != 6:
            continue
        atoms = [mol.GetAtomWithIdx(i) for i in ring]
        if all(a.GetAtomicNum() == 6 and a.GetIsAromatic() for a in atoms):
            hs = sorted(n.GetIdx() for a in atoms for n in a.GetNeighbors() if n.GetAtomicNum() == 1)
            found.append((tuple(int(i) for i in ring), tuple(int(h) for h in hs)))
    return found


def preselect_candidates(smiles, rows=None):
    """Rows whose SMILES contains a ``c1ccccc1`` ring after RDKit's aromaticity perception.

    QM9's SMILES are Kekulé strings (no lowercase atoms); a six-carbon aromatic ring needs three double
    bonds, so SMILES with fewer than three ``=`` are skipped without parsing. Returns
    ``(candidate_rows, unparsable)`` where ``unparsable`` lists ``(row, smiles)`` RDKit could not read.
    """
    from rdkit import Chem, RDLogger

    pattern = Chem.MolFromSmarts(RING_SMARTS)
    rows = np.arange(len(smiles)) if rows is None else np.asarray(rows)
    candidates, unparsable = [], []
    RDLogger.DisableLog("rdApp.*")
    try:
        for r in rows:
            s = str(smiles[r])
            if s.count("=") < 3 and "c" not in s:
                continue
            mol = Chem.MolFromSmiles(s)
            if mol is None:
                unparsable.append((int(r), s))
            elif mol.HasSubstructMatch(pattern):
                candidates.append(int(r))
    finally:
        RDLogger.EnableLog("rdApp.*")
    return np.array(candidates, dtype=np.int64), unparsable


def find_aromatic_carbon_rings(data, rows=None, preselect: bool = True):
    """All aromatic six-carbon rings of QM9 rows, with atom indices of the model (the QM9 atom order).

    Args:
        data: a :class:`~xatom.data.qm9.QM9` (or any object with ``numbers``, ``positions``, ``offsets``,
            ``index`` and ``smiles``).
        rows: QM9 rows to search (default: all).
        preselect: check the SMILES first (:func:`preselect_candidates`) and perceive bonds from the
            geometry only for candidates; ``False`` perceives every row (slow for QM9).

    Returns:
        ``(rings, failures)``. ``rings`` has one line per ring: ``row``, ``qm9_index``, ``ring_atoms``
        (tuple of 6 local atom indices, 0 = the molecule's first atom), ``ring_h_atoms`` (local indices of
        the hydrogens bonded to ring carbons), ``smiles`` (QM9's), ``smiles_geometry`` (canonical SMILES of
        the geometry-derived molecule without hydrogens), ``rings_in_smiles`` (aromatic C6 rings in QM9's
        SMILES, −1 without preselection) and ``mol`` (the geometry-derived RDKit ``Mol`` with hydrogens).
        ``failures`` has one line per row that could not be perceived: ``row``, ``qm9_index``, ``smiles``,
        ``stage`` and ``error`` (stage "SMILES" = QM9's SMILES unreadable; "DetermineBondOrders"/"SanitizeMol";
        "no ring" = the SMILES has an aromatic C6 ring but the geometry-derived molecule has none).
    """
    from rdkit import Chem, RDLogger

    rows = np.arange(len(data.index)) if rows is None else np.asarray(rows)
    failures = []
    if preselect:
        candidates, unparsable = preselect_candidates(data.smiles, rows)
        failures += [{"row": r, "qm9_index": int(data.index[r]), "smiles": s, "stage": "SMILES",
                      "error": "RDKit cannot parse QM9's SMILES"} for r, s in unparsable]
    else:
        candidates = rows
    pattern = Chem.MolFromSmarts(RING_SMARTS)
    remove_h = _remove_all_h_params()
    found = []
    RDLogger.DisableLog("rdApp.*")
    try:
        for r in candidates:
            a, b = data.offsets[r], data.offsets[r + 1]
            info = {"row": int(r), "qm9_index": int(data.index[r]), "smiles": str(data.smiles[r])}
            try:
                mol = mol_from_geometry(data.numbers[a:b], data.positions[a:b])
            except RuntimeError as err:
                stage, _, msg = str(err).partition(":")
                failures.append(dict(info, stage=stage, error=msg.strip()))
                continue
            rings = aromatic_carbon_rings(mol)
            n_smiles = -1
            if preselect:
                smol = Chem.MolFromSmiles(info["smiles"])
                n_smiles = len(smol.GetSubstructMatches(pattern)) if smol is not None else -1
            if not rings:
                if preselect:
                    failures.append(dict(info, stage="no ring", error="no aromatic C6 ring in the "
                                         "geometry-derived molecule although QM9's SMILES has one"))
                continue
            smiles_geometry = Chem.MolToSmiles(Chem.RemoveHs(mol, remove_h), isomericSmiles=False)
            for ring_atoms, ring_h in rings:
                found.append(dict(info, ring_atoms=ring_atoms, ring_h_atoms=ring_h,
                                  smiles_geometry=smiles_geometry, rings_in_smiles=n_smiles, mol=mol))
    finally:
        RDLogger.EnableLog("rdApp.*")
    ring_cols = ["row", "qm9_index", "ring_atoms", "ring_h_atoms", "smiles", "smiles_geometry",
                 "rings_in_smiles", "mol"]
    fail_cols = ["row", "qm9_index", "smiles", "stage", "error"]
    return (pd.DataFrame(found, columns=ring_cols).astype({"row": np.int64, "qm9_index": np.int64}),
            pd.DataFrame(failures, columns=fail_cols))


# ---------------------------------------------------------------------------------------------- metrics
def prediction_offsets(n_atoms_of_rows) -> np.ndarray:
    """Start of each molecule in a flat per-atom prediction array, plus the total: ``(len(rows) + 1,)``.

    ``predict(model, data, rows=rows).latents`` (:func:`xatom.inference.predict`) concatenates the molecules of
    ``rows``; pass ``data.n_atoms[rows]`` here to locate them (the same as that prediction's ``offsets``).
    """
    return np.concatenate([[0], np.cumsum(np.asarray(n_atoms_of_rows, dtype=np.int64))])


def ring_metrics(rings: pd.DataFrame, atomic_energy, atom_offsets, rows) -> pd.DataFrame:
    """Ring stability from atomic energies (kcal/mol): lower (more negative) = more stable.

    Args:
        rings: from :func:`find_aromatic_carbon_rings` (needs ``row``, ``ring_atoms``, ``ring_h_atoms``).
        atomic_energy: per-atom energies Ê_i in kcal/mol of the molecules ``rows``, concatenated in that
            order, each molecule's atoms in QM9 order (as ``predict(model, data, rows=rows).latents``).
        atom_offsets: ``(len(rows) + 1,)`` start of each molecule in ``atomic_energy``
            (:func:`prediction_offsets`).
        rows: QM9 rows in the order of ``atomic_energy``; must contain every ``rings.row``.

    Returns:
        DataFrame indexed like ``rings`` with ``E_ring_C`` = Σ_{i ∈ ring C} Ê_i (metric a),
        ``E_ring_CH`` = Σ_{i ∈ ring C ∪ H on ring C} Ê_i (metric b), ``n_ring_H`` and ``E_per_ring_C``
        (metric a / 6), all energies in kcal/mol.
    """
    energy = np.asarray(atomic_energy, dtype=np.float64)
    atom_offsets = np.asarray(atom_offsets)
    rows = np.asarray(rows)
    if atom_offsets.size != rows.size + 1 or atom_offsets[-1] != energy.size:
        raise ValueError(f"atom_offsets must have len(rows) + 1 = {rows.size + 1} entries ending at "
                         f"{energy.size} atoms, got {atom_offsets.size} ending at {atom_offsets[-1]}")
    position = pd.Series(np.arange(rows.size), index=rows)
    missing = np.setdiff1d(rings["row"].to_numpy(), rows)
    if missing.size:
        raise KeyError(f"rows of rings missing from the predictions: {missing[:10].tolist()}")
    start = atom_offsets[position.loc[rings["row"].to_numpy()].to_numpy()]
    n_mol = np.diff(atom_offsets)[position.loc[rings["row"].to_numpy()].to_numpy()]
    e_c, e_ch, n_h = [], [], []
    for s, n, ring, hs in zip(start, n_mol, rings["ring_atoms"], rings["ring_h_atoms"]):
        ring, hs = np.asarray(ring, dtype=np.int64), np.asarray(hs, dtype=np.int64)
        if ring.size and ring.max() >= n or hs.size and hs.max() >= n:
            raise IndexError(f"ring atom index beyond the molecule's {n} atoms")
        e_c.append(energy[s + ring].sum())
        e_ch.append(e_c[-1] + energy[s + hs].sum())
        n_h.append(hs.size)
    return pd.DataFrame({"E_ring_C": e_c, "E_ring_CH": e_ch, "n_ring_H": n_h,
                         "E_per_ring_C": np.asarray(e_c) / 6.0}, index=rings.index)


def rank(metric, tie_break=None, decimals: int | None = None) -> np.ndarray:
    """Ring positions sorted from most stable (lowest metric) to least stable.

    Args:
        metric: one value per ring (kcal/mol); lower = more stable.
        tie_break: optional key per ring (e.g. the QM9 index) that orders rings of equal metric; without it,
            ties keep the input order.
        decimals: round the metric to this many decimals before sorting (e.g. 1, the printed precision), so that
            rings whose metrics differ only in float noise (another CPU adds in another order) count as tied and
            are ordered by ``tie_break``: the printed top list is then the same on every machine.
    """
    metric = np.asarray(metric, dtype=np.float64)
    if decimals is not None:
        metric = np.round(metric, decimals)
    if tie_break is None:
        return np.argsort(metric, kind="stable")
    tie_break = np.asarray(tie_break)
    if tie_break.shape != metric.shape:
        raise ValueError(f"tie_break needs one key per ring ({metric.shape}); got {tie_break.shape}")
    return np.lexsort((tie_break, metric))


def ranking_scores(metric, tie_break, decimals: int = 1) -> np.ndarray:
    """Scores whose plain ascending order is :func:`rank` ``(metric, tie_break, decimals)``: the rank itself
    (0 = most stable), for functions that sort scores with a stable sort (:mod:`xatom.analysis.bootstrap`)."""
    order = rank(metric, tie_break, decimals)
    scores = np.empty(order.size, dtype=np.float64)
    scores[order] = np.arange(order.size)
    return scores


def rank_agreement(metric_a, metric_b, tie_break=None, decimals: int | None = None) -> dict:
    """Spearman's ρ (and p-value) between two models' metrics on the same rings, plus the overlap of
    their ten most stable rings (ties ordered as in :func:`rank`)."""
    from scipy.stats import spearmanr

    a, b = np.asarray(metric_a, dtype=np.float64), np.asarray(metric_b, dtype=np.float64)
    res = spearmanr(a, b)
    top = min(10, a.size)
    overlap = len(set(rank(a, tie_break, decimals)[:top].tolist()) & set(rank(b, tie_break, decimals)[:top].tolist()))
    return {"spearman": float(res.statistic), "p_value": float(res.pvalue), "n_rings": int(a.size),
            "top10_overlap": overlap}


def top_sets(scores: dict, k: int = 10, tie_break=None, decimals: int | None = None) -> pd.DataFrame:
    """Pairwise overlap of the top-``k`` sets of several rankings of the same rings (e.g. the folds of a model).

    Args:
        scores: ``{label: metric per ring}``, same ring order (lower = more stable).
        k, tie_break, decimals: see :func:`rank`.

    Returns:
        DataFrame, one line per pair ``(a, b)`` of labels (in the order given): ``overlap`` (rings in both top
        lists, 0–k) and ``spearman`` (ρ over all rings).
    """
    from itertools import combinations

    from scipy.stats import spearmanr

    tops = {label: set(rank(m, tie_break, decimals)[:k].tolist()) for label, m in scores.items()}
    rows = [{"a": a, "b": b, "overlap": len(tops[a] & tops[b]),
             "spearman": float(spearmanr(np.asarray(scores[a], float), np.asarray(scores[b], float)).statistic)}
            for a, b in combinations(scores, 2)]
    return pd.DataFrame(rows, columns=["a", "b", "overlap", "spearman"])


def fold_residuals(scores_by_fold) -> np.ndarray:
    """Fold-to-fold noise of ring metrics, for :func:`xatom.analysis.bootstrap.noisy_scores`.

    Each fold's metrics are first centred on their mean over rings (a shift of all rings by one constant changes
    no ranking, and folds do differ by such constants), then taken relative to the mean over folds and scaled by
    ``sqrt(n / (n − 1))`` for ``n`` folds, so that their variance is that of one fold's scores around the truth
    (deviations from a mean of ``n`` are smaller by that factor).

    Args:
        scores_by_fold: ``(n_folds, n_rings)`` metrics, kcal/mol; at least two folds.

    Returns:
        ``(n_folds, n_rings)`` residuals in kcal/mol.
    """
    s = np.asarray(scores_by_fold, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 2:
        raise ValueError(f"fold_residuals needs (n_folds ≥ 2, n_rings) scores; got shape {s.shape}")
    centred = s - s.mean(axis=1, keepdims=True)
    n = s.shape[0]
    return (centred - centred.mean(axis=0)) * np.sqrt(n / (n - 1))


def top_overlap_under_noise(scores_by_fold, k: int = 10, n_resamples: int = 1000, seed: int = 0,
                            confidence: float = 0.95):
    """How much of the fold-mean top ``k`` one model keeps: a residual bootstrap of the ranking.

    The reference is the mean over folds (the best estimate of what the architecture says); every replicate adds
    to it residuals drawn with replacement from :func:`fold_residuals` (one draw per ring), i.e. the scores of
    one more model trained like these, and counts how many of the reference's top ``k`` it keeps. Drawing per ring
    ignores that folds shift chemically similar rings together, so the overlap is, if anything, too pessimistic
    for rings that move as a block.

    Returns:
        :class:`~xatom.analysis.bootstrap.Estimate`: value = mean overlap of the replicates (the overlap of the
        reference with itself would be ``k``), interval = percentile interval of the replicate overlaps.
    """
    from .bootstrap import Estimate, noisy_scores, topk_stability

    s = np.asarray(scores_by_fold, dtype=np.float64)
    mean = s.mean(axis=0)
    replicates = noisy_scores(mean, fold_residuals(s), n_resamples=n_resamples, seed=seed)
    stability = topk_stability(mean, replicates, k=k)
    overlaps = stability["overlaps"].astype(np.float64)
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(overlaps, [alpha, 100 - alpha])
    return Estimate(float(overlaps.mean()), float(low), float(high), confidence, n_resamples, seed, overlaps)


def motif_enrichment(motifs: pd.DataFrame, metric, k: int = 10, tie_break=None, decimals: int | None = None,
                     alternative: str = "greater") -> pd.DataFrame:
    """Hypergeometric test of every motif among the ``k`` most stable rings against its share among all rings.

    Args:
        motifs: boolean DataFrame from :func:`ring_motifs` (one line per ring).
        metric: one value per ring, lower = more stable; k, tie_break, decimals: see :func:`rank`.
        alternative: ``"greater"`` (enriched among the top) or ``"less"`` (depleted).

    Returns:
        DataFrame, one line per motif: ``rings`` (all), ``with motif``, ``top`` (k), ``hits`` (carriers in the top
        k), ``expected`` (k × share) and ``p_value`` (P(X ≥ hits) for "greater", X hypergeometric).
    """
    from .bootstrap import enrichment

    flags = motifs.to_numpy(dtype=bool)
    top = rank(metric, tie_break, decimals)[:k]
    rows = {}
    for j, name in enumerate(motifs.columns):
        e = enrichment(flags.shape[0], int(flags[:, j].sum()), k, int(flags[top, j].sum()), alternative)
        rows[name] = {"rings": e.population, "with motif": e.with_motif, "top": e.drawn, "hits": e.hits,
                      "expected": e.expected, "p_value": e.p_value}
    return pd.DataFrame.from_dict(rows, orient="index")


def ring_carbon_energies(rings: pd.DataFrame, atomic_energy, atom_offsets, rows, numbers_of_rows) -> pd.DataFrame:
    """One line per ring carbon: its Ê (kcal/mol), the element of its substituent, and the substituent's Ê.

    The substituent of a ring carbon is its one neighbour outside the ring (H, or the first atom of a
    substituent; for a carbon shared with a fused ring, that ring's atom). Needed to see where a model books the
    energy of a C–X bond: on the ring carbon, on X, or split.

    Args:
        rings: from :func:`find_aromatic_carbon_rings` (needs ``row``, ``ring_atoms`` and ``mol``).
        atomic_energy, atom_offsets, rows: as :func:`ring_metrics`.
        numbers_of_rows: atomic numbers of the molecules ``rows``, concatenated like ``atomic_energy``.

    Returns:
        DataFrame with ``ring`` (index of ``rings``), ``atom`` (local index), ``E_C``, ``substituent`` (element
        symbol), ``E_substituent`` and ``E_bond`` = ``E_C + E_substituent`` (kcal/mol).
    """
    from .. import elements

    energy = np.asarray(atomic_energy, dtype=np.float64)
    numbers = np.asarray(numbers_of_rows)
    position = pd.Series(np.arange(len(rows)), index=np.asarray(rows))
    out = []
    for idx, row, ring, mol in zip(rings.index, rings["row"], rings["ring_atoms"], rings["mol"]):
        start = int(np.asarray(atom_offsets)[position.loc[row]])
        members = set(ring)
        for i in ring:
            outside = [n.GetIdx() for n in mol.GetAtomWithIdx(int(i)).GetNeighbors() if n.GetIdx() not in members]
            if len(outside) != 1:
                continue
            j = outside[0]
            out.append({"ring": idx, "atom": int(i), "E_C": energy[start + i],
                        "substituent": elements.SYMBOLS[int(numbers[start + j])], "E_substituent": energy[start + j],
                        "E_bond": energy[start + i] + energy[start + j]})
    return pd.DataFrame(out, columns=["ring", "atom", "E_C", "substituent", "E_substituent", "E_bond"])


def energy_shift(metric_bp, metric_schnet) -> dict:
    """Does BP put more (more negative) energy on the ring than SchNet? Fraction of rings where BP's metric
    is lower, the mean difference BP − SchNet and its standard deviation, in kcal/mol."""
    a, b = np.asarray(metric_bp, dtype=np.float64), np.asarray(metric_schnet, dtype=np.float64)
    d = a - b
    return {"fraction BP lower": float((d < 0).mean()), "mean BP − SchNet": float(d.mean()),
            "std BP − SchNet": float(d.std()), "n_rings": int(d.size)}


# ----------------------------------------------------------------------------------------------- motifs
def _heavy_copy(mol):
    """Hydrogen-suppressed copy of ``mol`` and the map old atom index → new index (heavy atoms only)."""
    from rdkit import Chem

    mol = Chem.Mol(mol)
    for atom in mol.GetAtoms():
        atom.SetIntProp("orig_idx", atom.GetIdx())
    heavy = Chem.RemoveHs(mol)
    return heavy, {a.GetIntProp("orig_idx"): a.GetIdx() for a in heavy.GetAtoms()}


def ring_motifs(rings: pd.DataFrame, motifs: dict | None = None) -> pd.DataFrame:
    """Which substituent motifs each ring carries (booleans, one column per motif, indexed like ``rings``).

    A SMARTS motif counts when its atom mapped ``:1`` is one of the ring's carbons (default
    :data:`MOTIFS`); :data:`FUSED_5` is a 5-membered ring sharing two atoms with the ring, :data:`FUSED_O5`
    such a ring containing oxygen; :data:`DONOR` = hydroxy or amine.
    """
    from rdkit import Chem

    motifs = MOTIFS if motifs is None else motifs
    queries = {}
    for name, smarts in motifs.items():
        q = Chem.MolFromSmarts(smarts)
        if q is None:
            raise ValueError(f"invalid SMARTS for motif {name!r}: {smarts!r}")
        mapped = [a.GetIdx() for a in q.GetAtoms() if a.GetAtomMapNum() == 1]
        queries[name] = (q, mapped[0] if mapped else 0)
    out = []
    cache = {}
    for mol, ring in zip(rings["mol"], rings["ring_atoms"]):
        key = id(mol)
        if key not in cache:
            cache[key] = _heavy_copy(mol)
        heavy, new = cache[key]
        ring_new = {new[i] for i in ring}
        flags = {}
        for name, (q, k) in queries.items():
            flags[name] = any(m[k] in ring_new for m in heavy.GetSubstructMatches(q))
        fused5 = [r for r in heavy.GetRingInfo().AtomRings() if len(r) == 5 and len(ring_new & set(r)) >= 2]
        flags[FUSED_5] = bool(fused5)
        flags[FUSED_O5] = any(heavy.GetAtomWithIdx(i).GetAtomicNum() == 8 for r in fused5 for i in r)
        if "hydroxy (c–OH)" in flags and "amine (c–NH2)" in flags:
            flags[DONOR] = flags["hydroxy (c–OH)"] or flags["amine (c–NH2)"]
        out.append(flags)
    cols = list(motifs) + [FUSED_5, FUSED_O5] + ([DONOR] if out and DONOR in out[0] else [])
    return pd.DataFrame(out, columns=cols, index=rings.index).astype(bool)


def motif_table(motifs: pd.DataFrame, metrics: dict, tops=(10, 50), tie_break=None,
                decimals: int | None = None) -> pd.DataFrame:
    """Fraction of rings carrying each motif: among all rings and among each model's ``top`` most stable.

    Args:
        motifs: boolean DataFrame from :func:`ring_motifs` (one line per ring).
        metrics: ``{model name: metric per ring}`` (same ring order; lower = more stable).
        tops: sizes of the top lists.
        tie_break, decimals: how ties are ordered, see :func:`rank`.

    Returns:
        DataFrame, one line per motif: ``all rings`` and ``<model> top <k>`` fractions (0–1) and, for
        reference, ``n (all)`` the number of rings with the motif.
    """
    flags = motifs.to_numpy(dtype=bool)
    table = {"n (all)": flags.sum(0), "all rings": flags.mean(0)}
    for name, metric in metrics.items():
        order = rank(metric, tie_break, decimals)
        for k in tops:
            table[f"{name} top {k}"] = flags[order[:k]].mean(0)
    return pd.DataFrame(table, index=motifs.columns)
