"""environment.yml (conda) and pyproject.toml (pip) must list the same packages with the same lower bounds."""
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch", "py3dmol": "py3dmol"}


def _parse(spec: str):
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", spec)
    name = m.group(1).lower().replace("_", "-")
    return CONDA_NAMES.get(name, name), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_specs = project["dependencies"] + project["optional-dependencies"]["test"]
    from_pip = dict(_parse(s) for s in pip_specs)
    lines = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1].splitlines()
    specs = [ln.strip()[2:] for ln in lines if re.match(r"\s+- ", ln) and not ln.strip().endswith(":")]
    from_conda = dict(_parse(s) for s in specs if not s.startswith(("python", "pip")) or s.startswith("pip:"))
    from_conda.pop("pip:", None)
    assert from_conda == from_pip
