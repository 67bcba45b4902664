"""The HTML report: figures, claim records and marked cells of executed notebooks, nothing else."""
import base64
import os

import nbformat

from xatom.analysis.claims import Claim, write_claims
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


def _records(folder, stem):
    """Three claims beside the notebook: one each that holds, does not hold, is undecided."""
    write_claims(stem, [
        Claim("narrow-N", "SchNet narrower for N", "σ(BP) − σ(SchNet)", "std over atoms", ">", 0.0, 0.9, 0.5, 1.2,
              unit="kcal/mol"),
        Claim("narrow-H", "SchNet narrower for H", "σ(BP) − σ(SchNet)", "std over atoms", ">", 0.0, -1.0, -1.3, -0.7),
        Claim("fold-O", "O varies more", "W(O) − W(C)", "mean W1 over fold pairs", ">", 0.0, 0.1, -0.2, 0.4)],
        folder)


def test_report_counts_verdicts_from_the_records_not_the_printed_text(tmp_path):
    # the printed words would count 2 × holds, 0 × does not hold; the records say 1, 1 and 1 undecided
    _notebook(tmp_path / "02_energies.ipynb", "SchNet narrower: holds\nO varies more: holds\n")
    _records(tmp_path, "02_energies")
    page = build_report([tmp_path / "02_energies.ipynb"], tmp_path / "out", {"02_energies": 12.0}).read_text()
    assert "Energies (12 s)" in page and "See the atoms." in page and "Paper Figure 2" in page
    assert f"data:image/png;base64,{PNG}" in page
    assert "SchNet narrower: holds" in page and "unmarked numbers" not in page
    assert all(f"{n}× {v}" in page for n, v in [(1, "holds"), (1, "does not hold"), (1, "undecided")])
    table = page[page.index('<table class="claims">'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr>") == 4 and "[0.5, 1.2]" in table and "0.9 kcal/mol" in table
    assert table.index("narrow-N") < table.index("#d4edda") < table.index("narrow-H") < table.index("#f8d7da")
    assert "No claim records" not in page


def test_report_says_when_a_notebook_has_no_claim_records(tmp_path):
    _notebook(tmp_path / "02_energies.ipynb", "SchNet narrower: holds\n")
    _notebook(tmp_path / "03_rings.ipynb", "")
    _records(tmp_path, "03_rings")
    page = build_report([tmp_path / "02_energies.ipynb", tmp_path / "03_rings.ipynb"], tmp_path / "out").read_text()
    first = page[page.index('<section id="02_energies">'):page.index('<section id="03_rings">')]
    assert "no claim records" in first and '<table class="claims">' not in first
    assert "No claim records: 02_energies." in page and "1× holds" in page  # only 03's records are counted


def _code_notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}\n\n**Aim.** Test.")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, path)


def test_reproduce_writes_notebooks_pages_and_report(tmp_path):
    from xatom.reproduce import reproduce

    _code_notebook(tmp_path / "00_first.ipynb", "# REPORT\nprint('claim: holds')",
                   "from xatom.analysis.claims import claim, write_claims\n"
                   "write_claims('00_first', [claim('one', 'one is small', 'one', 'the number 1', '<', 2, 1)])")
    _code_notebook(tmp_path / "01_second.ipynb", "print(1 + 1)")
    write_claims("01_second", [Claim("stale", "s", "t", "d", ">", 0.0, 1.0)], tmp_path / "out")  # an old run's
    before = os.environ.get("XATOM_OUTPUT")
    assert reproduce(tmp_path / "out", folder=tmp_path) == 0
    assert os.environ.get("XATOM_OUTPUT") == before  # the caller's environment is left as it was
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {"00_first.ipynb", "01_second.html", "index.html", "report.html"}
    page = (out / "report.html").read_text()
    assert "claim: holds" in page and "one is small" in page and (out / "claims" / "00_first.json").exists()
    assert not (out / "claims" / "01_second.json").exists() and "No claim records: 01_second." in page
    assert reproduce(tmp_path / "only", only=["01"], folder=tmp_path) == 0
    assert not (tmp_path / "only" / "00_first.ipynb").exists()


def test_reproduce_names_the_failing_notebook_and_cell(tmp_path, capsys):
    from xatom.reproduce import reproduce

    _code_notebook(tmp_path / "00_ok.ipynb", "x = 1")
    _code_notebook(tmp_path / "01_broken.ipynb", "y = 2", "raise ValueError('boom')")
    assert reproduce(tmp_path / "out", folder=tmp_path) == 1
    err = capsys.readouterr().err
    assert "01_broken.ipynb failed in cell 2" in err and "boom" in err
