"""Accuracy per CPU hour: validation MAE against wall-clock minutes for several training recipes, side by side.

Each recipe is one ``xatom train`` run on the full training set of a fold, all with the same epoch budget (the
same number of steps of the same batches, so the same wall clock up to the EMA's < 1 % overhead), started at
once, one torch thread each (``--parallel`` at a time), so that the machine's load hits them alike. The table
prints, per epoch, the minutes since the start and the validation MAE of what the recipe would ship (the
moving average where it keeps one), then the first minute at which each recipe reaches each accuracy.

    python benchmarks/training_recipes.py --model schnet --target energy --epochs 12
    python benchmarks/training_recipes.py --model schnet --target dipole --epochs 12 --recipes plateau,cosine-ema
    python benchmarks/training_recipes.py --report-only --out runs/recipes     # print the table of finished runs

Runs live in ``--out`` (default ``runs/recipes``) as ``MODEL-TARGET-RECIPE``; starting the script again resumes
them (``xatom train`` resumes a run folder), so a benchmark can be spread over several sessions.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

RECIPES = {
    # today's recipe (data/models/*/command.txt): Adam 5e-4, halve after 3 epochs without improvement
    "plateau": ["--lr", "0.0005", "--lr-patience", "3"],
    "plateau-ema": ["--lr", "0.0005", "--lr-patience", "3", "--ema-decay", "0.999"],
    "cosine": ["--lr", "0.0005", "--lr-schedule", "cosine", "--warmup-epochs", "1"],
    "cosine-ema": ["--lr", "0.0005", "--lr-schedule", "cosine", "--warmup-epochs", "1", "--ema-decay", "0.999"],
}
"""Recipe name → the options of ``xatom train`` it adds to the shared ones (batch 100, seed 0, fold 0)."""

THRESHOLDS = {"energy": (2.0, 1.5, 1.0, 0.8, 0.6), "dipole": (0.15, 0.1, 0.08, 0.06, 0.05)}
"""Accuracies (validation MAE: kcal/mol, Debye) whose first arrival is reported."""


def run_dirs(out: Path, model: str, target: str, recipes: list[str]) -> dict[str, Path]:
    return {r: out / f"{model}-{target}-{r}" for r in recipes}


def train_side_by_side(dirs: dict[str, Path], model: str, target: str, epochs: int, fold: int, parallel: int,
                       n_train: int | None = None):
    """Start the recipes' runs, ``parallel`` at a time, one torch thread each, and wait for them
    (``n_train``: a random subset of the training set, for a quick check of the script only)."""
    xatom = [sys.executable, "-m", "xatom.cli"]
    pending = list(dirs.items())
    while pending:
        batch, pending = pending[:parallel], pending[parallel:]
        procs = []
        for recipe, run_dir in batch:
            cmd = xatom + ["train", "--model", model, "--target", target, "--fold", str(fold), "--batch-size", "100",
                           "--seed", "0", "--max-epochs", str(epochs), "--early-stop-patience", str(epochs),
                           "--threads", "1", "--run-dir", str(run_dir)] + RECIPES[recipe]
            if n_train:
                cmd += ["--n-train", str(n_train)]
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            log = open(run_dir.parent / f"{run_dir.name}.out", "a")
            procs.append((run_dir, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                                    env={**os.environ, "OMP_NUM_THREADS": "1"})))
        for run_dir, p in procs:
            if p.wait() != 0:
                raise SystemExit(f"the run {run_dir} failed (exit {p.returncode}); see {run_dir}.out")


def curves(dirs: dict[str, Path]) -> pd.DataFrame:
    """One row per recipe and epoch: minutes since the start and validation MAE (from each run's log.csv)."""
    frames = []
    for recipe, run_dir in dirs.items():
        log = run_dir / "log.csv"
        if not log.exists():
            continue
        df = pd.read_csv(log)
        frames.append(pd.DataFrame({"recipe": recipe, "epoch": df["epoch"], "minutes": df["wall_s"] / 60,
                                    "val_mae": df["val_mae"]}))
    if not frames:
        raise SystemExit(f"no finished epochs in {sorted(str(d) for d in dirs.values())}")
    return pd.concat(frames, ignore_index=True)


def first_arrival(table: pd.DataFrame, thresholds) -> pd.DataFrame:
    """Minutes until each recipe's validation MAE first reaches each threshold (NaN: not within the budget)."""
    rows = {}
    for recipe, df in table.groupby("recipe", sort=False):
        rows[recipe] = {f"≤ {t:g}": (df.loc[df["val_mae"] <= t, "minutes"].min()) for t in thresholds}
    return pd.DataFrame(rows).T.round(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["schnet", "bp"], default="schnet")
    parser.add_argument("--target", choices=["energy", "dipole"], default="energy")
    parser.add_argument("--epochs", type=int, default=12, help="budget of every recipe, in epochs")
    parser.add_argument("--recipes", default="plateau,cosine-ema", help=f"comma-separated, of {sorted(RECIPES)}")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time (one thread each)")
    parser.add_argument("--out", default="runs/recipes")
    parser.add_argument("--report-only", action="store_true", help="only print the table of the runs in --out")
    parser.add_argument("--n-train", type=int, help="train on a random subset (a quick check of the script only)")
    args = parser.parse_args(argv)
    recipes = [r.strip() for r in args.recipes.split(",")]
    unknown = sorted(set(recipes) - set(RECIPES))
    if unknown:
        raise SystemExit(f"unknown recipe(s) {unknown}; known: {sorted(RECIPES)}")
    dirs = run_dirs(Path(args.out), args.model, args.target, recipes)
    if not args.report_only:
        train_side_by_side(dirs, args.model, args.target, args.epochs, args.fold, args.parallel, args.n_train)
    table = curves(dirs)
    unit = "kcal/mol" if args.target == "energy" else "D"
    shown = table.assign(minutes=table["minutes"].round(1), val_mae=table["val_mae"].round(4))
    print(f"{args.model} {args.target}, fold {args.fold}: validation MAE ({unit}) against wall-clock minutes")
    print(shown.pivot(index="epoch", columns="recipe", values=["minutes", "val_mae"]).to_string())
    print(f"\nminutes until the validation MAE first reaches ({unit}):")
    print(first_arrival(table, THRESHOLDS[args.target]).to_string())
    best = table.loc[table.groupby("recipe")["val_mae"].idxmin()].set_index("recipe")
    print("\nbest validation MAE within the budget:")
    print(best[["epoch", "minutes", "val_mae"]].assign(minutes=lambda d: d["minutes"].round(1)).to_string())


if __name__ == "__main__":
    main()
