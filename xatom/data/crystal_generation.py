"""Build the offline crystal set of notebook 07: substituted prototype crystals labelled by CHGNet.

No Materials Project structures ship in any package reachable offline, so the set is generated, seeded and
bit-for-bit repeatable, from what pymatgen ships:

1. **Structures**: the AFLOW prototype library in pymatgen (288 structure types; those with ≤ 16 atoms and
   elements up to Pu are used). Each prototype's composition gets oxidation states (pymatgen's guesses);
   ionic prototypes are turned into new compounds by replacing every species with one drawn from the
   ICSD-derived substitution probabilities p(s′|s) (pymatgen ``SubstitutionProbability``, Hautier et al.
   2011), accepting only charge-balanced results. Prototypes without an oxidation-state solution
   (metals, intermetallics) get random elements of similar kind (metals for metals). Every main-group
   element also appears as an element in the simple elemental prototypes.
2. **Volumes**: the data-mined bond-length volume predictor of pymatgen (``DLSVolumePredictor``) rescales
   each cell; where it has no parameters, the cell is scaled so that its closest pair sits at the sum of
   the two atomic radii. Cells still too compressed (a pair closer than 0.7 × radii sum) are dropped.
3. **Labels**: single-point energies per atom from the pretrained CHGNet 0.3.0 shipped inside the
   ``chgnet`` wheel (trained on MPtrj: Materials Project GGA/GGA+U relaxation trajectories, 89
   elements). Formation energy per atom = E/N − Σ_Z x_Z μ_Z with μ_Z the lowest CHGNet energy per atom of
   element Z among the elemental prototypes. This is a distillation of MP through CHGNet, not MP itself.

Run (needs ``pip install .[crystals]`` in an environment with the CPU torch; resumable, chunk by chunk)::

    python -m xatom.data.crystal_generation --n 20000 --seed 0 --out data/crystals

Output: ``crystals.npz`` (flat arrays as :class:`xatom.data.crystals.Crystals` reads them) and ``README.md``
with the counts and the command.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from ..elements import MAX_Z

MAX_PROTOTYPE_ATOMS = 16
CHUNK = 1000
ELEMENTAL_TYPES = ("A_cF4_225_a", "A_cI2_229_a", "A_hP2_194_c", "A_cF8_227_a", "A_cP1_221_a")
"""fcc, bcc, hcp, diamond and simple cubic: the elemental references of every element."""
IONIC_SHARE = 0.7
"""Share of draws that use an ionic prototype (charge-balanced ICSD substitutions); the rest are metallic."""


def _prototypes():
    from monty.serialization import loadfn
    import pymatgen.analysis.prototypes as protos

    path = Path(list(protos.__path__)[0]) / "aflow_prototypes.json.gz"
    out = []
    for entry in loadfn(str(path)):
        s = entry["snl"].structure
        if len(s) <= MAX_PROTOTYPE_ATOMS and max(e.Z for e in s.composition.elements) <= MAX_Z and s.is_ordered:
            out.append((entry["tags"]["aflow"], s))
    return out


def _element_pools():
    from pymatgen.core import Element

    elements = [Element.from_Z(z) for z in range(1, MAX_Z + 1)]
    metals = [e.symbol for e in elements if e.is_metal or e.is_metalloid]
    everything = [e.symbol for e in elements]
    return metals, everything


def _conditional_tables(sp):
    """For each species s: candidate replacements s′ and normalised probabilities p(s′|s)."""
    species = [s for s in sp.species if s.Z <= MAX_Z]  # the table also knows Am, Cm, …
    tables = {}
    for s in species:
        probs = np.array([sp.cond_prob(s, t) for t in species])
        probs[~np.isfinite(probs)] = 0.0
        if probs.sum() > 0:
            tables[str(s)] = (species, probs / probs.sum())
    return tables


def _scale_volume(structure, predictor):
    from pymatgen.core import Element

    try:
        scaled = predictor.get_predicted_structure(structure)
        if scaled is not None and np.isfinite(scaled.volume) and scaled.volume > 0:
            structure = scaled
    except Exception:  # no bond parameters for these elements: fall back to radii
        d = structure.distance_matrix + np.eye(len(structure)) * 1e9
        i, j = np.unravel_index(np.argmin(d), d.shape)
        radii = [Element(structure[k].specie.symbol).atomic_radius or 1.5 for k in (i, j)]
        structure = structure.copy()
        structure.scale_lattice(structure.volume * (float(sum(radii)) / d[i, j]) ** 3)
    return structure


def _plausible(structure) -> bool:
    from pymatgen.core import Element

    if len(structure) > 1:
        d = structure.distance_matrix + np.eye(len(structure)) * 1e9
        radii = np.array([float(Element(site.specie.symbol).atomic_radius or 1.5) for site in structure])
        if (d < 0.7 * (radii[:, None] + radii[None, :])).any():
            return False
    vpa = structure.volume / len(structure)
    return 5.0 <= vpa <= 120.0


def generate_structures(n: int, seed: int = 0, progress: bool = True):
    """``n`` distinct (prototype, substitution) crystals plus the elemental references, deterministically."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _generate(n, seed, progress)


def _generate(n: int, seed: int, progress: bool):
    from pymatgen.analysis.structure_prediction.substitution_probability import SubstitutionProbability
    from pymatgen.analysis.structure_prediction.volume_predictor import DLSVolumePredictor
    from pymatgen.core import Element, Species
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    protos = _prototypes()
    tables = _conditional_tables(SubstitutionProbability())
    metals, everything = _element_pools()
    predictor = DLSVolumePredictor()
    templates = []
    for name, s in protos:
        guesses = s.composition.oxi_state_guesses()
        oxi = {el: int(round(v)) for el, v in guesses[0].items()} if guesses else None
        if oxi is not None and all(f"{Species(el, ox)}" in tables for el, ox in oxi.items() if ox != 0):
            templates.append((name, s, "ionic", oxi))
        else:
            templates.append((name, s, "metallic", None))
    elemental = [(n, s) for n, s in protos if n in ELEMENTAL_TYPES]
    ionic = [t for t in templates if t[2] == "ionic"]
    metallic = [t for t in templates if t[2] == "metallic"]
    seen, out = set(), []

    def add(name, structure, kind):
        key = (name, structure.composition.reduced_formula)
        if key in seen or not _plausible(structure):
            return False
        seen.add(key)
        out.append({"prototype": name, "kind": kind, "structure": structure})
        return True

    # elemental structures of every element up to Pu: references for formation energies, and every
    # element present at least a few times
    refs = []
    for z in range(1, MAX_Z + 1):
        el = Element.from_Z(z).symbol
        for name, s in elemental:
            t = s.copy()
            t.replace_species({s.composition.elements[0]: Element(el)})
            t = _scale_volume(t, predictor)
            if _plausible(t):
                refs.append({"prototype": name, "kind": "elemental", "structure": t})
    bar = tqdm(total=n, desc="structures", disable=not progress)
    attempts = 0
    while len(out) < n and attempts < 50 * n:
        attempts += 1
        group = ionic if rng.random() < IONIC_SHARE else metallic
        name, s, kind, oxi = group[rng.integers(len(group))]
        mapping = {}
        if kind == "ionic":
            charge = 0
            for el, ox in oxi.items():
                if ox == 0:
                    new = Element(rng.choice(metals))
                    mapping[Element(el)] = new
                    continue
                species, p = tables[str(Species(el, ox))]
                new = species[rng.choice(len(species), p=p)]
                mapping[Element(el)] = new
                charge += new.oxi_state * s.composition[Element(el)]
            if abs(charge) > 1e-6:
                continue
            mapping = {k: Element(v.symbol) if isinstance(v, Species) else v for k, v in mapping.items()}
        else:
            pool = everything if rng.random() < 0.15 else metals
            for el in s.composition.elements:
                mapping[el] = Element(rng.choice(pool))
        if len({v.symbol for v in mapping.values()}) < len(mapping):
            continue
        t = s.copy()
        t.replace_species(mapping)
        t = _scale_volume(t, predictor)
        if add(name, t, kind):
            bar.update(1)
    bar.close()
    return refs, out


def label(structures, batch_size: int = 64, progress: bool = True) -> np.ndarray:
    """CHGNet energies per atom (eV) of pymatgen structures, single points."""
    from chgnet.model import CHGNet
    from tqdm.auto import tqdm

    model = CHGNet.load(verbose=False)
    energies = []
    for start in tqdm(range(0, len(structures), batch_size), desc="CHGNet", disable=not progress, leave=False):
        preds = model.predict_structure(structures[start:start + batch_size], task="e", batch_size=batch_size)
        energies += [float(p["e"]) for p in preds]
    return np.array(energies)


def _pack(entries, energies) -> dict:
    numbers, positions, cells, n_atoms = [], [], [], []
    for e in entries:
        s = e["structure"]
        numbers.append(np.array([site.specie.Z for site in s], dtype=np.uint8))
        positions.append(np.array(s.cart_coords, dtype=np.float32))
        cells.append(np.array(s.lattice.matrix, dtype=np.float32))
        n_atoms.append(len(s))
    return {"numbers": np.concatenate(numbers), "positions": np.concatenate(positions), "cells": np.stack(cells),
            "n_atoms": np.array(n_atoms, dtype=np.int32), "energy_ev_per_atom": np.asarray(energies, np.float64),
            "prototype": np.array([e["prototype"] for e in entries]), "kind": np.array([e["kind"] for e in entries])}


def build(out: Path, n: int, seed: int, progress: bool = True) -> Path:
    """Generate, label chunk by chunk (resumable: finished chunks in ``out/build`` are kept), and merge."""
    import torch

    torch.set_num_threads(int(os.environ.get("XATOM_THREADS", "1")))
    out = Path(out)
    work = out / "build"
    work.mkdir(parents=True, exist_ok=True)
    refs, entries = generate_structures(n, seed, progress)
    everything = refs + entries
    parts = []
    for k, start in enumerate(range(0, len(everything), CHUNK)):
        path = work / f"chunk_{seed}_{n}_{k:03d}.npz"
        if not path.exists():
            chunk = everything[start:start + CHUNK]
            np.savez(path.with_suffix(".tmp.npz"), **_pack(chunk, label([e["structure"] for e in chunk], progress=progress)))
            os.replace(path.with_suffix(".tmp.npz"), path)
        parts.append(dict(np.load(path)))
    merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    is_ref = np.arange(len(merged["n_atoms"])) < len(refs)
    offsets = np.concatenate([[0], np.cumsum(merged["n_atoms"])])
    mu = np.full(MAX_Z + 1, np.nan)
    for m in np.where(is_ref)[0]:
        z = int(merged["numbers"][offsets[m]])
        mu[z] = np.nanmin([mu[z], merged["energy_ev_per_atom"][m]])
    counts = np.zeros((len(merged["n_atoms"]), MAX_Z + 1))
    np.add.at(counts, (np.repeat(np.arange(len(merged["n_atoms"])), merged["n_atoms"]), merged["numbers"]), 1.0)
    reference = (counts / merged["n_atoms"][:, None]) @ np.nan_to_num(mu)
    merged["formation_energy_ev_per_atom"] = merged["energy_ev_per_atom"] - reference
    merged["elemental_reference_ev"] = mu
    merged["is_elemental_reference"] = is_ref
    merged["seed"] = np.array(seed)
    path = out / "crystals.npz"
    np.savez_compressed(path, **merged)
    _write_readme(out, merged, n, seed)
    return path


def _write_readme(out: Path, data: dict, n: int, seed: int):
    from pymatgen.core import Element

    z_counts = np.bincount(data["numbers"], minlength=MAX_Z + 1)
    per_structure = np.zeros(MAX_Z + 1, int)
    offsets = np.concatenate([[0], np.cumsum(data["n_atoms"])])
    for a, b in zip(offsets[:-1], offsets[1:]):
        per_structure[np.unique(data["numbers"][a:b])] += 1
    present = [Element.from_Z(z).symbol for z in range(1, MAX_Z + 1) if z_counts[z]]
    rows = " ".join(f"{Element.from_Z(z).symbol}:{per_structure[z]}" for z in range(1, MAX_Z + 1) if z_counts[z])
    e = data["formation_energy_ev_per_atom"]
    text = f"""# Offline crystal set (generated, CHGNet-labelled)

Made by `python -m xatom.data.crystal_generation --n {n} --seed {seed} --out {out}`
(see that module's docstring for the method; it is a distillation of Materials Project data through CHGNet,
not Materials Project itself).

- structures: {len(data['n_atoms']):,} ({int(data['is_elemental_reference'].sum())} elemental references included), atoms: {int(data['n_atoms'].sum()):,}
- atoms per structure: {int(data['n_atoms'].min())}–{int(data['n_atoms'].max())}, mean {data['n_atoms'].mean():.1f}
- elements: {len(present)}
- formation energy per atom (eV): mean {e.mean():.2f}, std {e.std():.2f}, 1st–99th percentile {np.percentile(e, 1):.2f} to {np.percentile(e, 99):.2f}
- structures containing each element: {rows}

Arrays in `crystals.npz`: numbers (Z per atom), positions (Å), cells (Å, rows = lattice vectors), n_atoms,
energy_ev_per_atom (CHGNet), formation_energy_ev_per_atom, prototype (AFLOW label), kind (ionic / metallic /
elemental), elemental_reference_ev (μ_Z), is_elemental_reference, seed.
"""
    (out / "README.md").write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate and label the offline crystal set.")
    parser.add_argument("--n", type=int, default=20000, help="substituted structures (plus elemental references)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="data/crystals")
    args = parser.parse_args(argv)
    print(build(Path(args.out), args.n, args.seed))


if __name__ == "__main__":
    sys.exit(main())
