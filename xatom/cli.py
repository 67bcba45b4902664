"""Command line: ``xatom train | budget | evaluate | table | average | export | reproduce | info``."""
from __future__ import annotations

import argparse
import json
import sys

from .tasks import TASKS, task, task_of_key
from pathlib import Path


def _train(args):
    import torch

    from .training import TrainingConfig, train

    if args.threads:
        torch.set_num_threads(args.threads)
    target = "formation_energy" if args.dataset == "crystals" else args.target
    if target is None:
        raise SystemExit("xatom train: --target energy|dipole is required for QM9")
    cfg = TrainingConfig(**{**{name: getattr(args, name) for name in _config_fields()}, "target": target,
                            "architecture": _json_object(args.architecture)})
    run_dir = Path(args.run_dir or f"runs/{args.model}-{task(target).zoo_name}-fold{args.fold}")
    resume = (run_dir / "config.json").exists()
    result = train(run_dir, None if resume and args.resume_any else cfg, max_minutes=args.max_minutes,
                   device=args.device, keep_epoch_weights=args.keep_epoch_weights)
    print(json.dumps(result))


def _config_fields() -> list[str]:
    from dataclasses import fields

    from .training import TrainingConfig

    return [f.name for f in fields(TrainingConfig)]


def _json_object(text: str | None) -> dict:
    """``--architecture``'s JSON object ({} when not given); bad JSON is one line naming the problem."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--architecture is not JSON ({err}), e.g. '{{\"n_interactions\": 3}}'") from None
    if not isinstance(value, dict):
        raise ValueError(f"--architecture must be a JSON object, e.g. '{{\"n_interactions\": 3}}', not {text!r}")
    return value


def _add_config_options(parser):
    """One option per :class:`~xatom.training.TrainingConfig` field, its type, default, choices and help read from
    the dataclass (the one place they are written). ``--model`` is required and ``--target`` has no default: QM9
    runs name theirs, crystal runs (``--dataset crystals``) predict formation energies."""
    import typing
    from dataclasses import MISSING, fields

    from .training import TrainingConfig

    hints = typing.get_type_hints(TrainingConfig)
    for f in fields(TrainingConfig):
        meta = dict(f.metadata)
        kind = next(a for a in typing.get_args(hints[f.name]) if a is not type(None)) if typing.get_args(
            hints[f.name]) else hints[f.name]
        option = {"type": str if kind is dict else kind, "help": meta.get("help")}  # JSON read by _train
        if "choices" in meta:
            option["choices"] = list(meta["choices"])
        if f.name == "model":
            option["required"] = True
        elif kind is dict:
            option["default"] = None
        elif f.name == "target":
            option.update(default=None, help="QM9 target (crystals: formation energy)",
                          choices=[t.name for t in TASKS.values() if t.dataset == "qm9"])
        else:
            option["default"] = f.default_factory() if f.default is MISSING else f.default
        parser.add_argument("--" + f.name.replace("_", "-"), **option)


def _evaluate(args):
    import torch

    from .checkpoint import load_model
    from .inference import evaluate
    from .training import load_dataset

    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)
    what = task_of_key(model.target)
    data, split = load_dataset(what.dataset, model.split_info["fold"])
    if split.sha256 != model.split_info["sha256"]:
        print(f"warning: {args.checkpoint} was trained on another version of split fold "
              f"{model.split_info['fold']}", file=sys.stderr)
    rows = data.rows_of(getattr(split, args.split))
    metrics = evaluate(model.to(args.device), data, rows, device=args.device)
    print(json.dumps({"checkpoint": str(args.checkpoint), "split": args.split, "unit": what.unit, **metrics}))


def _table(args):
    import numpy as np
    import pandas as pd
    import torch

    from . import zoo
    from .analysis.accuracy import FOLD_AGREEMENT, fold_spread, table1, table_models
    from .data import load_qm9, load_split, random_subset
    from .inference import predict

    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_qm9()
    rows = data.rows_of(load_split(0).test)  # the test molecules are the same for every fold
    if args.n_test is not None:
        if not 1 <= args.n_test <= len(rows):
            raise SystemExit(f"xatom table: --n-test must lie between 1 and {len(rows)}, not {args.n_test}")
        rows = random_subset(rows, args.n_test, seed=args.seed)
    zoo_folds = zoo.available().groupby("name")["fold"].apply(sorted).to_dict()
    shipped = {name: zoo_folds.get(name, []) for name in table_models()}
    missing = [name for name, folds in shipped.items() if 0 not in folds]
    kinds = {zoo.split_name(name)[:2] for name, folds in shipped.items() if 0 in folds}
    if len(kinds) < 4:
        raise SystemExit(f"xatom table: no shipped fold-0 model for {', '.join(missing)} (in {zoo.MODELS_DIR})")
    results, maes = {}, {}
    for name, folds in shipped.items():
        for fold in folds if args.folds else [f for f in folds if f == 0]:
            model = zoo.load(name, fold).to(args.device)
            out = predict(model, data, rows=rows, device=args.device)
            pred, ref = out.values, out.reference
            maes.setdefault(name, {})[fold] = float(np.abs(pred - ref).mean())
            if fold == 0:
                results[name] = (pred, ref)
    subset = (f"a random draw (seed {args.seed}) of {len(rows)} of its molecules" if args.n_test is not None
              else f"{len(rows)} QM9 molecules")
    print(f"Paper Table 1 from the shipped fold-0 models, test split ({subset}); energies in the paper's "
          "partition (one mean and spread per atom) and with per-element baselines:")
    print(table1(results).reset_index().to_string(index=False))
    if missing:
        print(f"(not shipped yet for fold 0: {', '.join(missing)})")
    if args.folds:
        print(f"\nTest MAE across the shipped folds (folds agree: all within {FOLD_AGREEMENT:.0%} of fold 0; "
              "bar: the project's on fold 0):")
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(fold_spread(maes).round(3).to_string())


def _average(args):
    import torch

    from .training import average_run

    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(average_run(args.run_dir, args.last, device=args.device)))


def _budget(args):
    from dataclasses import asdict

    from .training import set_budget

    print(json.dumps(asdict(set_budget(args.run_dir, args.max_epochs, args.decay_epochs))))


def _export(args):
    from .zoo import export_run

    print(export_run(args.run_dir, args.name, weights=args.weights))


def _reproduce(args):
    from .reproduce import reproduce

    only = [s.strip() for s in args.only.split(",")] if args.only else None
    sys.exit(reproduce(Path(args.output), only=only, device=args.device))


def _info(args):
    import os
    import platform

    import numpy as np
    import torch

    from . import __version__
    from .models.cfconv import cfconv_path
    from .models.kernels import kernels, unavailable_reason

    if args.threads:
        torch.set_num_threads(args.threads)
    capability = torch.backends.cpu.get_cpu_capability()
    if os.environ.get("ATEN_CPU_CAPABILITY"):
        capability += f" (ATEN_CPU_CAPABILITY={os.environ['ATEN_CPU_CAPABILITY']})"
    cuda = (f"{torch.cuda.device_count()} device(s), {torch.cuda.get_device_name(0)}" if torch.cuda.is_available()
            else "not available")
    why_not = unavailable_reason()
    rows = {"xatom": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__,
            "torch threads": f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op",
            "CPU capability": capability, "CUDA": cuda,
            "C++ kernels": f"loaded from {kernels().__file__}" if why_not is None else f"unavailable: {why_not}",
            f"cfconv (SchNet) on {args.device}": cfconv_path(args.device)}
    width = max(map(len, rows))
    for name, value in rows.items():
        print(f"{name:<{width}}  {value}")


def _exit_with(message: str):
    """Print ``message`` as one line to stderr and exit with code 2 (as argparse does for bad arguments)."""
    message = " ".join(message.split("\n"))
    print(message, file=sys.stderr)
    stop = SystemExit(message)
    stop.code = 2
    raise stop from None


def main(argv=None):
    """Run the command line on ``argv`` (default ``sys.argv[1:]``).

    Bad input (a named :class:`~xatom.errors.XatomError`, a file that cannot be read or written, a bad value)
    ends in one line naming the problem and exit code 2; ``--debug`` raises the error with its traceback.
    """
    from .errors import XatomError

    parser = argparse.ArgumentParser(prog="xatom", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="on an error, show the full traceback")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train (or resume) a model on the split of a fold (QM9 or crystals)")
    _add_config_options(t)
    t.add_argument("--run-dir", help="folder of the run (default runs/MODEL-TARGET-foldK); resumes if it exists")
    t.add_argument("--max-minutes", type=float, help="save and stop after this many minutes")
    t.add_argument("--resume-any", action="store_true", help="resume the run in --run-dir whatever its options")
    t.add_argument("--keep-epoch-weights", action="store_true",
                   help="also keep each epoch's weights in RUN_DIR/epochs (for xatom average)")
    t.add_argument("--threads", type=int, help="torch CPU threads")
    t.add_argument("--device", default="cpu")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="MAE and RMSE of a checkpoint on its fold's test (or val) split")
    e.add_argument("checkpoint")
    e.add_argument("--split", choices=["test", "val", "train"], default="test")
    e.add_argument("--threads", type=int)
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=_evaluate)

    tb = sub.add_parser("table", help="paper Table 1: evaluate the shipped main models on the test split")
    tb.add_argument("--folds", action="store_true", help="also every shipped fold model (spread of the test MAE)")
    tb.add_argument("--n-test", type=int, help="a seeded random draw of N test molecules (a quick look)")
    tb.add_argument("--seed", type=int, default=0, help="seed of the --n-test draw")
    tb.add_argument("--threads", type=int)
    tb.add_argument("--device", default="cpu")
    tb.set_defaults(func=_table)

    a = sub.add_parser("average", help="average the weights of a run's last epochs into RUN_DIR/averaged.pt")
    a.add_argument("run_dir")
    a.add_argument("--last", type=int, default=5, help="how many of the last epochs (from --keep-epoch-weights)")
    a.add_argument("--threads", type=int)
    a.add_argument("--device", default="cpu")
    a.set_defaults(func=_average)

    bu = sub.add_parser("budget", help="fix a paused run's budget: hold its lr, then cosine decay ending at "
                                       "--max-epochs (only where its lr has not changed yet)")
    bu.add_argument("run_dir")
    bu.add_argument("--max-epochs", type=int, required=True)
    bu.add_argument("--decay-epochs", type=float, required=True)
    bu.set_defaults(func=_budget)

    x = sub.add_parser("export", help="copy a run's weights, log and config into data/models/NAME")
    x.add_argument("run_dir")
    x.add_argument("name")
    x.add_argument("--weights", default="best.pt", choices=["best.pt", "averaged.pt"],
                   help="which weights of the run to ship: best epoch, or the mean from xatom average")
    x.set_defaults(func=_export)

    r = sub.add_parser("reproduce", help="execute the notebook series and write notebooks + report")
    r.add_argument("--output", default="output")
    r.add_argument("--only", help="comma-separated notebook numbers, e.g. 03,05")
    r.add_argument("--device", default="cpu")
    r.set_defaults(func=_reproduce)

    i = sub.add_parser("info", help="versions, threads, CPU capability and which cfconv path (fused kernel or plain "
                                    "torch) runs")
    i.add_argument("--threads", type=int)
    i.add_argument("--device", default="cpu", help="the device whose cfconv path to report")
    i.set_defaults(func=_info)

    for command in sub.choices.values():  # --debug also after the subcommand; SUPPRESS keeps one given before
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="on an error, show the full traceback")
    args = parser.parse_args(argv)
    try:
        if getattr(args, "device", None) is not None:
            from .device import resolve_device

            resolve_device(args.device)  # before any work: "cuda" without CUDA is one line, not an AssertionError
        args.func(args)
    except SystemExit as stop:  # the commands' own refusals, raised as SystemExit("xatom CMD: ...")
        if not isinstance(stop.code, str):
            raise
        _exit_with(stop.code)
    except (XatomError, OSError, ValueError, KeyError) as err:
        if args.debug:
            raise
        text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        _exit_with(f"xatom {args.command}: {text or type(err).__name__}")


if __name__ == "__main__":
    main()
