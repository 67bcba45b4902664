"""Throughput of xatom's models next to schnetpack, torchani and dscribe, on the same QM9 batches.

What is measured, in molecules per second on the CPU:

1. SchNet training step (forward + backward + Adam step, batches of 100 molecules, energy target):
   xatom's SchNet with its default tabulated filters, xatom's SchNet with exact per-pair filters, and
   schnetpack 2.1's SchNet at the same architecture (128 features, 128 filters, 6 interactions, 51
   Gaussians, 5 Å cosine cutoff, Atomwise 128 → 64 → 1 energy head). Both libraries get the same
   precomputed neighbour pairs.
2. ACSF featurisation (forward only, no gradients, batches of 100): xatom's ACSF (with the precomputed
   pairs, and once more including its neighbour search), torchani's AEV computer with ANI-2x constants
   for H, C, N, O, F, and dscribe's ACSF (H, C, N, O, F, 5 Å cutoff, 8 G2 and 8 G4 functions).
   torchani and dscribe find neighbours themselves. Features per atom differ between the three.
3. xatom Behler–Parrinello training step (ACSF computed on the fly, batches of 100) and inference of the
   latent atomic energies of the SchNet and BP energy models (no gradients, batches of 500).

How: the batches are drawn once, uniformly at random (seeded) from all of QM9, and every line of a
section runs on the same molecules. The lines of a section are timed in interleaved rounds (one pass of
each line per round, ``time.perf_counter``), so that a busy machine slows them alike; the first rounds
are warm-up, and molecules/s = molecules per pass / median pass time over the timed rounds.
The models are untrained (random weights); their speed does not depend on the weights.

The peers live in a separate virtual environment (see benchmarks/README.md); a peer that is not
installed is reported as such and its lines are skipped.

Usage: python benchmarks/model_speed.py [--quick] [--threads N] [--batches K] [--qm9-cache DIR]
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.metadata
import os
import platform
import statistics
import time
import typing
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from xatom.batch import Batch, batch_from_arrays
from xatom.data.qm9 import load_qm9
from xatom.models import ACSF, AtomisticModel, model_config
from xatom.models.kernels import available as kernel_available
from xatom.neighbors import molecule_pairs

CUTOFF = 5.0
ELEMENTS = (1, 6, 7, 8, 9)
TRAIN_BATCH_SIZE = 100
INFERENCE_BATCH_SIZE = 500
SCHNET = {"n_features": 128, "n_filters": 128, "n_interactions": 6, "n_rbf": 51}


@dataclasses.dataclass
class Timing:
    """How many passes to time, after how many warm-up passes."""

    warmup: int
    repeats: int


@dataclasses.dataclass
class Result:
    key: str  # short name that RATIOS refers to
    section: str
    implementation: str
    molecules_per_s: float | None
    features_per_atom: int | None = None
    note: str = ""


def pass_seconds(run, inputs: list) -> float:
    """Wall time of one pass of ``run`` over all ``inputs``."""
    start = time.perf_counter()
    for x in inputs:
        run(x)
    return time.perf_counter() - start


class Section:
    """Lines timed on the same batches, interleaved: every round times one pass of each line in turn,
    so that a change in the machine's load affects all lines of the section alike."""

    def __init__(self, title: str, batches: list[Batch], gradients: bool = True):
        self.title, self.batches, self.gradients = title, batches, gradients
        self.lines: list[tuple] = []
        self.skipped: list[Result] = []

    def add(self, key: str, implementation: str, run, inputs: list | None = None,
            features_per_atom: int | None = None, note: str = ""):
        """A line: ``run`` over ``inputs`` (default: the batches themselves; else one input per batch)."""
        self.lines.append((key, implementation, run, self.batches if inputs is None else inputs,
                           features_per_atom, note))

    def skip(self, key: str, package: str):
        self.skipped.append(Result(key, self.title, package, None, note="not installed"))

    def measure(self, timing: Timing) -> list[Result]:
        print(self.title, flush=True)
        seconds = {line[0]: [] for line in self.lines}
        with torch.set_grad_enabled(self.gradients):
            for round_ in range(timing.warmup + timing.repeats):
                for key, _, run, inputs, _, _ in self.lines:
                    elapsed = pass_seconds(run, inputs)
                    if round_ >= timing.warmup:
                        seconds[key].append(elapsed)
        n_molecules = sum(b.n_molecules for b in self.batches)
        results = []
        for key, implementation, _, _, features_per_atom, note in self.lines:
            rate = n_molecules / statistics.median(seconds[key])
            print(f"  {implementation:<48s} {rate:10.1f} molecules/s", flush=True)
            results.append(Result(key, self.title, implementation, rate, features_per_atom, note))
        for result in self.skipped:
            print(f"  {result.implementation:<48s} skipped: not installed", flush=True)
        return results + self.skipped


def optional_import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def draw_batches(data, n_batches: int, batch_size: int, seed: int) -> list[Batch]:
    """Disjoint batches of molecules drawn uniformly at random from all of QM9, pairs within 5 Å included."""
    rows = np.random.default_rng(seed).choice(len(data), n_batches * batch_size, replace=False)
    targets = {"energy_kcal": data.energy_kcal}
    return [batch_from_arrays(data.numbers, data.positions, data.offsets, chunk, CUTOFF, targets)
            for chunk in rows.reshape(n_batches, batch_size)]


def training_step(model: torch.nn.Module, predict_energy):
    """One Adam step on the squared error of the energy; ``predict_energy(inputs)`` → (n_molecules,)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def step(inputs_and_target):
        inputs, target = inputs_and_target
        loss = (predict_energy(inputs) - target).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def xatom_model(kind: str, exact_filters: bool = False) -> AtomisticModel:
    config = model_config(kind, "energy", **(SCHNET if kind == "schnet" else {}))
    model = AtomisticModel(config)
    if exact_filters:
        model.representation.exact_filters = True
    return model


# ------------------------------------------------------------------------------------------- peers
def import_schnetpack():
    """schnetpack 2.1.1 refers to ``torch.utils.data.dataloader.T_co``, a typing name recent torch removed,
    and calls ``torch.jit.script`` on import, which recent torch deprecates loudly."""
    import torch.utils.data.dataloader as dataloader

    if not hasattr(dataloader, "T_co"):
        dataloader.T_co = typing.TypeVar("T_co", covariant=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated")
        return optional_import("schnetpack")


def import_torchani():
    """torchani without its warning about CUDA extensions, which a CPU benchmark does not use."""
    os.environ.setdefault("TORCHANI_NO_WARN_EXTENSIONS", "1")
    return optional_import("torchani")


def schnetpack_energy_model(spk) -> torch.nn.Module:
    representation = spk.representation.SchNet(
        n_atom_basis=SCHNET["n_features"], n_filters=SCHNET["n_filters"], n_interactions=SCHNET["n_interactions"],
        radial_basis=spk.nn.GaussianRBF(n_rbf=SCHNET["n_rbf"], cutoff=CUTOFF), cutoff_fn=spk.nn.CosineCutoff(CUTOFF))
    head = spk.atomistic.Atomwise(n_in=SCHNET["n_features"], output_key="energy_kcal",
                                  activation=spk.nn.shifted_softplus)
    return spk.model.NeuralNetworkPotential(representation=representation,
                                            input_modules=[spk.atomistic.PairwiseDistances()],
                                            output_modules=[head])


def schnetpack_inputs(spk, batch: Batch) -> dict:
    """schnetpack's input dictionary for an xatom batch, with the same neighbour pairs."""
    p = spk.properties
    return {p.Z: batch.Z, p.R: batch.R, p.idx_m: batch.idx_m, p.idx_i: batch.idx_i, p.idx_j: batch.idx_j,
            p.offsets: torch.zeros(batch.idx_i.numel(), 3), p.n_atoms: batch.n_atoms}


def padded_species_and_coordinates(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """torchani's input: element indices (−1 = padding) and positions, (n_molecules, max_atoms[, 3])."""
    index_of_z = torch.full((max(ELEMENTS) + 1,), -1, dtype=torch.long)
    index_of_z[list(ELEMENTS)] = torch.arange(len(ELEMENTS))
    n_mol, max_atoms = batch.n_molecules, int(batch.n_atoms.max())
    slot = torch.arange(batch.Z.numel()) - torch.repeat_interleave(torch.cumsum(batch.n_atoms, 0) - batch.n_atoms,
                                                                   batch.n_atoms)
    species = torch.full((n_mol, max_atoms), -1, dtype=torch.long)
    coordinates = torch.zeros(n_mol, max_atoms, 3)
    species[batch.idx_m, slot] = index_of_z[batch.Z]
    coordinates[batch.idx_m, slot] = batch.R
    return species, coordinates


def ase_molecules(batch: Batch) -> list:
    from ase import Atoms

    bounds = torch.cumsum(batch.n_atoms, 0).tolist()
    return [Atoms(numbers=batch.Z[a:b].numpy(), positions=batch.R[a:b].double().numpy())
            for a, b in zip([0] + bounds[:-1], bounds)]


def dscribe_acsf(dscribe_descriptors):
    g2 = [[eta, r_s] for eta in (0.5, 4.0) for r_s in (1.0, 2.0, 3.0, 4.0)]
    g4 = [[eta, zeta, lam] for eta in (0.005, 0.1) for zeta in (1.0, 4.0) for lam in (1.0, -1.0)]
    return dscribe_descriptors.ACSF(r_cut=CUTOFF, g2_params=g2, g4_params=g4, species=["H", "C", "N", "O", "F"])


# ---------------------------------------------------------------------------------------- sections
def schnet_training(batches: list[Batch]) -> Section:
    section = Section(f"SchNet training step (batch {TRAIN_BATCH_SIZE})", batches)
    with_targets = [(b, b.targets["energy_kcal"]) for b in batches]
    for key, name, exact in (("schnet_tabulated", "xatom SchNet (tabulated filters)", False),
                             ("schnet_exact", "xatom SchNet (exact filters)", True)):
        model = xatom_model("schnet", exact_filters=exact)
        section.add(key, name, training_step(model, lambda b, model=model: model(b)["energy_kcal"]), with_targets)
    spk = import_schnetpack()
    if spk is None:
        section.skip("schnetpack", "schnetpack")
        return section
    model = schnetpack_energy_model(spk)
    inputs = [(schnetpack_inputs(spk, b), b.targets["energy_kcal"]) for b in batches]
    # schnetpack writes its intermediate results into the input dictionary: give it a fresh one each step
    step = training_step(model, lambda x: model(dict(x))["energy_kcal"])
    section.add("schnetpack", f"schnetpack {importlib.metadata.version('schnetpack')} SchNet", step, inputs)
    return section


def acsf_featurisation(batches: list[Batch], n_jobs: int) -> Section:
    section = Section(f"ACSF featurisation, no grad (batch {TRAIN_BATCH_SIZE})", batches, gradients=False)
    acsf = ACSF()

    def with_neighbour_search(batch: Batch) -> torch.Tensor:
        pairs = molecule_pairs(batch.R, batch.n_atoms, CUTOFF)
        return acsf(dataclasses.replace(batch, idx_i=pairs.idx_i, idx_j=pairs.idx_j))

    section.add("acsf_pairs_given", "xatom ACSF (pairs precomputed)", acsf, features_per_atom=acsf.n_features)
    section.add("acsf_own_pairs", "xatom ACSF (incl. neighbour search)", with_neighbour_search,
                features_per_atom=acsf.n_features)
    torchani = import_torchani()
    if torchani is None:
        section.skip("torchani", "torchani")
    else:
        aev = torchani.AEVComputer.like_2x(num_species=len(ELEMENTS))
        section.add("torchani", f"torchani {torchani.__version__} AEV (ANI-2x constants)", lambda x: aev(*x),
                    [padded_species_and_coordinates(b) for b in batches], aev.out_dim,
                    "own neighbour search; padded molecules")
    descriptors = optional_import("dscribe.descriptors")
    if descriptors is None:
        section.skip("dscribe", "dscribe")
        return section
    acsf_dscribe = dscribe_acsf(descriptors)
    section.add("dscribe", f"dscribe {importlib.metadata.version('dscribe')} ACSF (n_jobs={n_jobs})",
                lambda molecules: acsf_dscribe.create(molecules, n_jobs=n_jobs),
                [ase_molecules(b) for b in batches], acsf_dscribe.get_number_of_features(),
                "own neighbour search; float64")
    return section


def bp_training(batches: list[Batch]) -> Section:
    section = Section(f"BP training step (batch {TRAIN_BATCH_SIZE})", batches)
    model = xatom_model("bp")
    section.add("bp_train", "xatom BP (ACSF on the fly)", training_step(model, lambda b: model(b)["energy_kcal"]),
                [(b, b.targets["energy_kcal"]) for b in batches])
    return section


def latent_inference(batches: list[Batch]) -> Section:
    section = Section(f"inference of atomic energies, no grad (batch {INFERENCE_BATCH_SIZE})", batches,
                      gradients=False)
    for name, kind in (("xatom SchNet", "schnet"), ("xatom BP", "bp")):
        model = xatom_model(kind).eval()
        section.add(f"{kind}_inference", name, lambda b, model=model: model(b)[model.latent])
    return section


# ---------------------------------------------------------------------------------------------- report
def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_info(threads: int, timing: Timing, n_batches: int, n_inference_batches: int) -> dict:
    return {
        "CPU": f"{cpu_model()} ({os.cpu_count()} logical cores)",
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
        "python / torch": f"{platform.python_version()} / {torch.__version__}",
        "torch threads": threads,
        "xatom C++ kernels (cfconv, ACSF)": "yes" if kernel_available() else "no (pure-torch fallback)",
        "batches per pass": f"{n_batches} × {TRAIN_BATCH_SIZE} (training, ACSF), "
                            f"{n_inference_batches} × {INFERENCE_BATCH_SIZE} (inference)",
        "warm-up passes / timed passes (median)": f"{timing.warmup} / {timing.repeats}",
    }


RATIOS = [("xatom SchNet (tabulated filters) / schnetpack", "schnet_tabulated", "schnetpack"),
          ("xatom SchNet (exact filters) / schnetpack", "schnet_exact", "schnetpack"),
          ("xatom ACSF (pairs precomputed) / torchani", "acsf_pairs_given", "torchani"),
          ("xatom ACSF (incl. neighbour search) / torchani", "acsf_own_pairs", "torchani"),
          ("xatom ACSF (pairs precomputed) / dscribe", "acsf_pairs_given", "dscribe"),
          ("xatom ACSF (incl. neighbour search) / dscribe", "acsf_own_pairs", "dscribe")]


def ratios(results: list[Result]) -> pd.DataFrame:
    """Ratios of molecules/s of xatom to its peers, for the peers that ran."""
    rate = {r.key: r.molecules_per_s for r in results}
    return pd.DataFrame([(label, rate[ours] / rate[theirs]) for label, ours, theirs in RATIOS
                         if rate.get(ours) and rate.get(theirs)], columns=["xatom / peer, molecules/s", "ratio"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 warm-up and 3 timed passes (default 2 and 7)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads and dscribe jobs (default 2)")
    parser.add_argument("--batches", type=int, default=None,
                        help="batches of 100 molecules per pass (default 2 with --quick, else 5); "
                             "inference uses half as many batches of 500 (at least 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the molecule draw")
    parser.add_argument("--qm9-cache", default=None, help="QM9 cache folder (default: xatom's user cache)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    timing = Timing(warmup=1, repeats=3) if args.quick else Timing(warmup=2, repeats=7)
    n_batches = args.batches or (2 if args.quick else 5)
    n_inference_batches = max(1, n_batches // 2)

    data = load_qm9(cache_dir=args.qm9_cache)
    train_batches = draw_batches(data, n_batches, TRAIN_BATCH_SIZE, args.seed)
    inference_batches = draw_batches(data, n_inference_batches, INFERENCE_BATCH_SIZE, args.seed + 1)
    info = machine_info(args.threads, timing, n_batches, n_inference_batches)

    sections = [schnet_training(train_batches), acsf_featurisation(train_batches, args.threads),
                bp_training(train_batches), latent_inference(inference_batches)]
    results = [result for section in sections for result in section.measure(timing)]

    table = pd.DataFrame([dataclasses.asdict(r) for r in results])
    table["molecules_per_s"] = table["molecules_per_s"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")
    table["features_per_atom"] = table["features_per_atom"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    print()
    for key, value in info.items():
        print(f"{key:<40s} {value}")
    for section, rows in table.groupby("section", sort=False):
        print(f"\n{section}")
        rows = rows.drop(columns=["key", "section"])
        print(rows.loc[:, (rows != "").any()].to_string(index=False))
    print()
    print(ratios(results).to_string(index=False, float_format=lambda v: f"{v:.2f}×"))


if __name__ == "__main__":
    main()
