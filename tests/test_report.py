"""The HTML report: figures and marked claim cells of executed notebooks, nothing else."""
import base64
import os

import nbformat

from xatom.report import build_report

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def _notebook(path, claim_text):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 02 · Energies\n\n**Aim.** See the atoms.\n\nMore."),
                nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\n# REPORT\nprint(claims)"),
                nbformat.v4.new_code_cell("plot()"), nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(other)")]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=claim_text)]
    nb.cells[2].outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="unmarked numbers")]
    nbformat.write(nb, path)


def test_report_holds_figures_marked_claims_and_verdict_counts(tmp_path):
    _notebook(tmp_path / "02_energies.ipynb", "SchNet narrower: holds\nO varies more: does not hold\n")
    page = build_report([tmp_path / "02_energies.ipynb"], tmp_path / "out", {"02_energies": 12.0}).read_text()
    assert "Energies (12 s)" in page and "See the atoms." in page and "Paper Figure 2" in page
    assert f"data:image/png;base64,{PNG}" in page
    assert "SchNet narrower: holds" in page and "unmarked numbers" not in page
    assert "1× holds" in page and "1× does not hold" in page


def _code_notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}\n\n**Aim.** Test.")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, path)


def test_reproduce_writes_notebooks_pages_and_report(tmp_path):
    from xatom.reproduce import reproduce

    _code_notebook(tmp_path / "00_first.ipynb", "# REPORT\nprint('claim: holds')")
    _code_notebook(tmp_path / "01_second.ipynb", "print(1 + 1)")
    before = os.environ.get("XATOM_OUTPUT")
    assert reproduce(tmp_path / "out", folder=tmp_path) == 0
    assert os.environ.get("XATOM_OUTPUT") == before  # the caller's environment is left as it was
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {"00_first.ipynb", "01_second.html", "index.html", "report.html"}
    assert "claim: holds" in (out / "report.html").read_text()
    assert reproduce(tmp_path / "only", only=["01"], folder=tmp_path) == 0
    assert not (tmp_path / "only" / "00_first.ipynb").exists()


def test_reproduce_names_the_failing_notebook_and_cell(tmp_path, capsys):
    from xatom.reproduce import reproduce

    _code_notebook(tmp_path / "00_ok.ipynb", "x = 1")
    _code_notebook(tmp_path / "01_broken.ipynb", "y = 2", "raise ValueError('boom')")
    assert reproduce(tmp_path / "out", folder=tmp_path) == 1
    err = capsys.readouterr().err
    assert "01_broken.ipynb failed in cell 2" in err and "boom" in err
