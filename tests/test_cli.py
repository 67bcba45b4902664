"""The command line: Table 1 from shipped weights, evaluation of a checkpoint, and its errors."""
import json

import numpy as np
import pytest

from xatom import zoo
from xatom.cli import main
from xatom.data import load_qm9, load_split, random_subset
from xatom.inference import predict


def test_table_matches_direct_evaluation(capsys):
    main(["table", "--n-test", "300", "--folds", "--threads", "1"])
    out = capsys.readouterr().out
    assert "test split (a random draw (seed 0) of 300 of its molecules)" in out
    table = {tuple(row.split()[:3]): row.split()[3:] for row in out.splitlines()}
    for model, prop, partition, paper_mae in [("Behler–Parrinello", "energy", "per-element", 0.77),
                                              ("Behler–Parrinello", "dipole", "-", 0.073),
                                              ("SchNet", "energy", "per-element", 0.35),
                                              ("SchNet", "dipole", "-", 0.025)]:
        unit, mae, rmse, paper, *_ = table[(model, prop, partition)]
        assert float(paper) == paper_mae and 0 < float(mae) < float(rmse)
    # the printed SchNet energy MAE is what the shipped model gives on those molecules
    data = load_qm9()
    rows = random_subset(data.rows_of(load_split(0).test), 300, seed=0)
    assert rows.max() > 100_000  # a draw over the whole split, not its first (smallest) molecules
    res = predict(zoo.load("schnet-energy-elementref"), data, rows=rows)
    mae = np.abs(res.values - res.reference).mean()
    assert float(table[("SchNet", "energy", "per-element")][1]) == pytest.approx(mae, abs=0.006)
    # every shipped fold of every Table 1 model in the fold table, with its fold count and the checks
    spread = out.split("Test MAE across the shipped folds")[1].splitlines()
    header = spread[1].split()
    assert header[:3] == ["fold", "0", "fold"] and "agree" in header
    shipped = zoo.available()
    for name in ("bp-energy-elementref", "bp-dipole", "schnet-energy-elementref", "schnet-dipole"):
        row = next(r.split() for r in spread if r.split()[:1] == [name])
        assert len([x for x in row[1:] if x != "NaN"]) >= shipped.query("name == @name")["fold"].size


def test_fold_spread_checks_agreement_and_bars():
    from xatom.analysis.accuracy import FOLD_AGREEMENT, fold_spread

    t = fold_spread({"bp-dipole": {0: 0.080, 1: 0.075, 2: 0.090},  # −6 %, +12.5 %: agree; 0.080 ≤ 0.086
                     "schnet-dipole": {0: 0.040, 1: 0.030},          # −25 %: disagree; 0.040 > 0.038
                     "bp-energy-elementref": {0: 0.5}})              # one fold, no bar
    assert t.loc["bp-dipole", "largest |fold/fold 0 − 1|"] == pytest.approx(0.125)
    assert t.loc["bp-dipole", "folds agree"] and t.loc["bp-dipole", "fold 0 meets bar"]
    assert not t.loc["schnet-dipole", "folds agree"] and not t.loc["schnet-dipole", "fold 0 meets bar"]
    assert t.loc["bp-energy-elementref", "folds agree"] is None
    assert t.loc["bp-energy-elementref", "fold 0 meets bar"] is None
    assert np.isnan(t.loc["schnet-dipole", "fold 2"]) and FOLD_AGREEMENT == 0.15


def test_evaluate_prints_metrics_with_unit(capsys):
    main(["evaluate", str(zoo.model_dir("bp-dipole") / "model.pt"), "--split", "val", "--threads", "1"])
    result = json.loads(capsys.readouterr().out)
    assert result["unit"] == "D" and result["split"] == "val"  # the task registry's unit
    assert 0 < result["mae"] < result["rmse"] < 1.0


def test_train_without_target_on_qm9_says_so(tmp_path):
    with pytest.raises(SystemExit, match="--target"):
        main(["train", "--model", "schnet", "--run-dir", str(tmp_path / "run")])


def test_table_refuses_an_empty_test_set():
    with pytest.raises(SystemExit, match="--n-test must lie between 1 and 20831"):
        main(["table", "--n-test", "0"])


def test_train_options_are_the_config_fields_with_their_defaults():
    """`xatom train` makes one option per TrainingConfig field; a new field needs no CLI edit and no default is
    written twice (only --model is required and --target has none: QM9 runs name it)."""
    import argparse
    from dataclasses import MISSING, fields

    from xatom.cli import _add_config_options
    from xatom.training import TrainingConfig

    parser = argparse.ArgumentParser()
    _add_config_options(parser)
    args = parser.parse_args(["--model", "bp", "--lr-decay", "0.25", "--min-lr", "1e-7", "--decay-epochs", "3"])
    for f in fields(TrainingConfig):
        default = f.default_factory() if f.default is MISSING else f.default
        given = {"model": "bp", "lr_decay": 0.25, "min_lr": 1e-7, "decay_epochs": 3.0, "target": None,
                 "architecture": None}
        assert getattr(args, f.name) == given.get(f.name, default), f.name
