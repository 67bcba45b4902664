"""The command line: Table 1 from shipped weights, evaluation of a checkpoint, and its errors."""
import json

import numpy as np
import pytest

from xatom import zoo
from xatom.cli import main
from xatom.data import load_qm9, load_split, random_subset
from xatom.training import predict_qm9


def test_table_matches_direct_evaluation(capsys):
    main(["table", "--n-test", "300", "--folds", "--threads", "1"])
    out = capsys.readouterr().out
    assert "test split (a random draw (seed 0) of 300 of its molecules)" in out
    table = {tuple(row.split()[:2]): row.split()[2:] for row in out.splitlines()}
    for model, prop, paper_mae in [("Behler–Parrinello", "energy", 0.77), ("Behler–Parrinello", "dipole", 0.073),
                                   ("SchNet", "energy", 0.35), ("SchNet", "dipole", 0.025)]:
        unit, mae, rmse, paper, *_ = table[(model, prop)]
        assert float(paper) == paper_mae and 0 < float(mae) < float(rmse)
    # the printed SchNet energy MAE is what the shipped model gives on those molecules
    data = load_qm9()
    rows = random_subset(data.rows_of(load_split(0).test), 300, seed=0)
    assert rows.max() > 100_000  # a draw over the whole split, not its first (smallest) molecules
    res = predict_qm9(zoo.load("schnet-energy"), data, rows)
    mae = np.abs(res["energy_kcal"] - res["reference"]).mean()
    assert float(table[("SchNet", "energy")][1]) == pytest.approx(mae, abs=0.006)
    spread = out.split("Test MAE across the shipped folds:")[1]
    for name in ("bp-energy", "bp-dipole", "schnet-energy", "schnet-dipole"):
        folds = (zoo.available().query("name == @name")["fold"]).size
        assert any(row.split()[:2] == [name, str(folds)] for row in spread.splitlines())


def test_evaluate_prints_metrics_with_unit(capsys):
    main(["evaluate", str(zoo.model_dir("bp-dipole") / "model.pt"), "--split", "val", "--threads", "1"])
    result = json.loads(capsys.readouterr().out)
    assert result["unit"] == "Debye" and result["split"] == "val"
    assert 0 < result["mae"] < result["rmse"] < 1.0


def test_train_without_target_on_qm9_says_so(tmp_path):
    with pytest.raises(SystemExit, match="--target"):
        main(["train", "--model", "schnet", "--run-dir", str(tmp_path / "run")])


def test_table_refuses_an_empty_test_set():
    with pytest.raises(SystemExit, match="--n-test must lie between 1 and 20831"):
        main(["table", "--n-test", "0"])
