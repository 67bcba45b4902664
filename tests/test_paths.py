"""An installed xatom (no data/ beside the package) reads its data from XATOM_DATA and, without it, says what to
set. Simulated with a copy of the package outside the repository, run in a fresh interpreter (the data folder is
fixed at import)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A site folder holding only a copy of the package, as ``pip install .`` lays it out."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(ROOT / "xatom", site / "xatom", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _run(site: Path, code: str, data: str | None):
    env = {k: v for k, v in os.environ.items() if k not in ("XATOM_DATA", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), OMP_NUM_THREADS="1")
    if data is not None:
        env["XATOM_DATA"] = data
    code = f"import xatom; assert xatom.__file__.startswith({str(site)!r}), xatom.__file__\n{code}"
    return subprocess.run([sys.executable, "-c", code], cwd=site, env=env, capture_output=True, text=True,
                          timeout=300)


def test_without_data_folder_the_error_says_to_set_xatom_data(installed, tmp_path):
    done = _run(installed, "from xatom import zoo\nzoo.load('schnet-energy')", None)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "MissingFileError" in last and "set XATOM_DATA to the data/ folder of a clone" in last, last

    empty = tmp_path / "empty"
    empty.mkdir()
    done = _run(installed, "from xatom.cli import main\nmain(['table', '--n-test', '5'])", str(empty))
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"XATOM_DATA={empty}" in done.stderr and "split file" in done.stderr, done.stderr[-2000:]


def test_with_xatom_data_the_installed_package_loads_models_and_splits(installed):
    code = ("from xatom import zoo\nfrom xatom.data import load_split\n"
            "model = zoo.load('bp-dipole')\nprint(type(model).__name__, load_split(0).test.size)")
    done = _run(installed, code, str(ROOT / "data"))
    assert done.returncode == 0, done.stderr[-2000:]
    name, n_test = done.stdout.split()
    assert name == "AtomisticModel" and int(n_test) > 10_000
