"""Bad input on the command line: one line naming the problem and exit code 2 (``--debug``: the traceback);
``xatom reproduce`` checks its output folder before running anything and never leaves a truncated file.

Nothing here trains or executes a notebook: the notebook runner is replaced where reproduce is called."""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from physics import small_model
from xatom.checkpoint import save_checkpoint
from xatom.cli import main
from xatom.errors import CorruptCheckpointError, MissingFileError


def _fails(argv, capsys) -> str:
    """Run the CLI, check it exits with code 2, and return what it wrote to stderr."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_a_missing_checkpoint_ends_in_one_line_and_exit_code_2_in_a_real_process(tmp_path):
    missing = tmp_path / "nothing.pt"
    run = subprocess.run([sys.executable, "-m", "xatom.cli", "evaluate", str(missing)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"xatom evaluate: checkpoint {str(missing)!r} does not exist"]


def test_a_checkpoint_with_nan_weights_is_refused_not_evaluated_to_nan(tmp_path, capsys):
    model = small_model("schnet", "energy", seed=1)
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] = float("nan")
    save_checkpoint(tmp_path / "nan.pt", model, "0123", fold=0)
    err = _fails(["evaluate", str(tmp_path / "nan.pt")], capsys)
    assert "nan.pt" in err and next(iter(dict(model.named_parameters()))) in err and "NaN" in err


def test_debug_shows_the_original_exception(tmp_path):
    with pytest.raises(MissingFileError, match="nothing.pt"):
        main(["--debug", "evaluate", str(tmp_path / "nothing.pt")])
    with pytest.raises(MissingFileError):
        main(["evaluate", str(tmp_path / "nothing.pt"), "--debug"])  # after the subcommand too
    model = small_model("schnet", "energy", seed=1)
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] = float("inf")
    save_checkpoint(tmp_path / "inf.pt", model, "0123", fold=0)
    with pytest.raises(CorruptCheckpointError):
        main(["evaluate", str(tmp_path / "inf.pt"), "--debug"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_is_one_clear_line(tmp_path, capsys):
    save_checkpoint(tmp_path / "fine.pt", small_model("schnet", "energy", seed=1), "0123", fold=0)
    err = _fails(["evaluate", str(tmp_path / "fine.pt"), "--device", "cuda"], capsys)  # was an AssertionError
    assert "CUDA is not available" in err and "'cuda'" in err


def test_an_unknown_device_is_one_line(tmp_path, capsys):
    err = _fails(["average", str(tmp_path), "--device", "gpu0"], capsys)
    assert "'gpu0'" in err


def test_bad_input_raised_as_system_exit_text_also_exits_with_2(tmp_path, capsys):
    err = _fails(["train", "--model", "schnet", "--run-dir", str(tmp_path / "run")], capsys)
    assert "--target" in err


def test_bad_json_architecture_names_the_problem(tmp_path, capsys):
    err = _fails(["train", "--model", "schnet", "--target", "energy", "--architecture", "{n_interactions: 3",
                  "--run-dir", str(tmp_path / "run")], capsys)
    assert "--architecture" in err


# ------------------------------------------------------------------------------------------ reproduce
def _notebooks(folder: Path) -> Path:
    folder.mkdir()
    for name in ("00_first", "01_second"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}\n\n**Aim.** Test."), nbformat.v4.new_code_cell("1 + 1")]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture
def executed(monkeypatch):
    """Replace the notebook runner: 'executing' gives every code cell the output '2'; returns the names run."""
    from xatom import notebook_runner

    ran = []

    def execute(nb, folder, timeout_s=1200):
        ran.append(nb.cells[0].source.splitlines()[0])
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]

    monkeypatch.setattr(notebook_runner, "execute_notebook", execute)
    return ran


def test_reproduce_runs_with_the_runner_replaced(tmp_path, executed):
    from xatom.reproduce import reproduce

    assert reproduce(tmp_path / "out", folder=_notebooks(tmp_path / "nbs")) == 0
    assert executed == ["# 00_first", "# 01_second"]
    assert {"00_first.ipynb", "00_first.html", "01_second.html", "index.html", "report.html"} <= {
        p.name for p in (tmp_path / "out").iterdir()}
    assert nbformat.read(tmp_path / "out" / "01_second.ipynb", as_version=4).cells[1].outputs[0].data["text/plain"] == "2"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_reproduce_passes_its_device_to_the_notebooks_and_restores_the_environment(tmp_path, monkeypatch):
    """The notebooks read the device through one helper (xatom.device.default_device, used by zoo.load)."""
    from xatom import notebook_runner
    from xatom.device import DEVICE_VARIABLE, default_device
    from xatom.reproduce import reproduce

    seen = []

    def execute(nb, folder, timeout_s=1200):
        seen.append((os.environ.get(DEVICE_VARIABLE), default_device()))

    monkeypatch.setattr(notebook_runner, "execute_notebook", execute)
    monkeypatch.setenv(DEVICE_VARIABLE, "before")
    assert reproduce(tmp_path / "out", device="cpu:0", folder=_notebooks(tmp_path / "nbs")) == 0
    assert seen == [("cpu:0", torch.device("cpu:0"))] * 2
    assert os.environ[DEVICE_VARIABLE] == "before"


@pytest.mark.parametrize("device", ["gpu0", pytest.param("cuda", marks=pytest.mark.skipif(
    torch.cuda.is_available(), reason="this machine has CUDA"))])
def test_reproduce_with_a_device_not_here_is_refused_before_any_notebook_runs(tmp_path, executed, device):
    """Called from Python (not only through the CLI): every notebook's kernel would have failed on its own."""
    from xatom.errors import DeviceUnavailableError
    from xatom.reproduce import reproduce

    with pytest.raises(DeviceUnavailableError, match=repr(device)):
        reproduce(tmp_path / "out", device=device, folder=_notebooks(tmp_path / "nbs"))
    assert executed == [] and not (tmp_path / "out").exists()


def test_reproduce_into_a_file_is_refused_before_any_notebook_runs(tmp_path, executed, capsys):
    (tmp_path / "taken").write_text("a file, not a folder\n")
    err = _fails(["reproduce", "--output", str(tmp_path / "taken")], capsys)
    assert "taken" in err and "not a folder" in err and executed == []


def test_reproduce_into_a_read_only_folder_is_refused_before_any_notebook_runs(tmp_path, executed, monkeypatch):
    from xatom.errors import OutputFolderError
    from xatom.reproduce import reproduce

    out = tmp_path / "read-only"
    out.mkdir()
    if os.geteuid() == 0:  # root writes through chmod 555: refuse the write itself, as a read-only mount would
        real = Path.write_bytes

        def read_only(self, data):
            if self.parent == out:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, data)

        monkeypatch.setattr(Path, "write_bytes", read_only)
    else:
        out.chmod(0o555)
    with pytest.raises(OutputFolderError, match="cannot write to the output folder.*read-only.*Permission denied"):
        reproduce(out, folder=_notebooks(tmp_path / "nbs"))
    assert executed == []
    out.chmod(0o755)


def test_reproduce_into_a_full_disk_is_refused_before_any_notebook_runs(tmp_path, executed, monkeypatch):
    import shutil

    from xatom.errors import OutputFolderError
    from xatom.reproduce import MIN_FREE_MB, reproduce

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=3_000_000))
    with pytest.raises(OutputFolderError, match=f"has 3 MB free; {MIN_FREE_MB} MB are needed"):
        reproduce(tmp_path / "out", folder=_notebooks(tmp_path / "nbs"))
    assert executed == []


def test_a_failed_write_leaves_no_truncated_html(tmp_path, executed, monkeypatch):
    from xatom.reproduce import reproduce

    real = Path.write_text

    def disk_fills_halfway(self, data, *args, **kwargs):
        if ".html" in self.name:  # the page (or its temporary file) gets half its text, then the disk is full
            real(self, data[: len(data) // 2], *args, **kwargs)
            raise OSError(28, "No space left on device")
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_fills_halfway)
    with pytest.raises(OSError, match="No space left"):
        reproduce(tmp_path / "out", folder=_notebooks(tmp_path / "nbs"))
    left = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file())
    assert left == ["00_first.ipynb"]  # the executed notebook; no half page, no temporary file


def test_a_failed_figure_or_claims_write_leaves_no_truncated_file(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from xatom.analysis.claims import Claim, write_claims
    from xatom.viz.plots import save

    real_bytes, real_text = Path.write_bytes, Path.write_text

    def half_bytes(self, data):
        real_bytes(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    def half_text(self, data, *args, **kwargs):
        real_text(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setenv("XATOM_OUTPUT", str(tmp_path))
    monkeypatch.setattr(Path, "write_bytes", half_bytes)
    monkeypatch.setattr(Path, "write_text", half_text)
    fig, _ = plt.subplots()
    with pytest.raises(OSError, match="No space left"):
        save(fig, "figure")
    with pytest.raises(OSError, match="No space left"):
        write_claims("00_x", [Claim("a", "b", "c", "d", ">", 0.0, 1.0)], tmp_path)
    plt.close(fig)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
