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


# --- the report as a reader sees it: math, captions, Table 1, the paper's numbers, static pages ---------------------

import re  # noqa: E402
import shutil  # noqa: E402
import unicodedata  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from xatom.analysis.accuracy import PAPER_TABLE1, mae_rmse, table1  # noqa: E402
from xatom.texmath import markdown_html, tex_to_html  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class _Text(HTMLParser):
    """The text a reader sees: everything outside tags, ``<style>`` and ``<script>``."""

    def __init__(self):
        super().__init__()
        self.hidden, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "".join(parser.parts)


@pytest.mark.parametrize("tex, expected", [
    (r"\hat q_i", "<i>q̂</i><sub><i>i</i></sub>"),
    (r"\mathbf A_Z", "<b>A</b><sub><i>Z</i></sub>"),
    (r"\hat E_{\mathrm C}", "<i>Ê</i><sub>C</sub>"),
    (r"\boldsymbol\mu = \sum_i \hat q_i \mathbf r_i",
     "<b>μ</b> = ∑<sub><i>i</i></sub> <i>q̂</i><sub><i>i</i></sub> <b>r</b><sub><i>i</i></sub>"),
    (r"\lVert\mathbf r\rVert^{-2}", "‖<b>r</b>‖<sup>−2</sup>"),
    (r"\frac1N", "1/<i>N</i>"),
    (r"\frac{a+b}{2}", "(<i>a</i>+<i>b</i>)/2"),
    (r"\sqrt{3/2}", "√(3/2)"),
    (r"P(X \ge \text{hits}) < 0.05", "<i>P</i>(<i>X</i> ≥ hits) &lt; 0.05"),
    (r"\bar\Omega_\mathrm{bond} \approx \cdot", "Ω̄<sub>bond</sub> ≈ ·"),
    (r"\unknown x", "unknown <i>x</i>"),  # outside the subset: the name, never the backslash
])
def test_tex_to_html_renders_the_subset_the_notebooks_use(tex, expected):
    assert tex_to_html(tex) == unicodedata.normalize("NFC", expected)


def test_every_markdown_cell_of_the_notebooks_renders_without_raw_math():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            rendered = markdown_html(cell.source)
            text = visible_text(re.sub(r"<code>.*?</code>", "", rendered, flags=re.S))  # `$XATOM_OUTPUT` is code
            assert "$" not in text and "\\" not in text, (path.name, cell.source[:200])


def test_markdown_html_keeps_code_and_renders_inline_math():
    assert markdown_html(r"**Aim.** charges $\hat q_i$, folder `$XATOM_OUTPUT`", inline=True) == (
        '<strong>Aim.</strong> charges <span class="math"><i>q̂</i><sub><i>i</i></sub></span>, folder '
        "<code>$XATOM_OUTPUT</code>")


def _table1_notebook(path):
    """A notebook in the shape of 01: an aim with math, a marked Table 1 (from accuracy.table1), a captioned figure."""
    rng = np.random.default_rng(0)
    ref = rng.normal(size=50)
    results = {name: (ref + rng.normal(scale=scale, size=50), ref) for name, scale in
               [("bp-energy", 0.9), ("bp-energy-elementref", 0.8), ("schnet-energy-elementref", 0.5),
                ("bp-dipole", 0.07), ("schnet-dipole", 0.03)]}
    df = table1(results)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(r"# 01 · Table" "\n\n" r"**Aim.** Latent charges $\hat q_i$ sum up."),
                nbformat.v4.new_code_cell("# REPORT\ntable1(results)"),
                nbformat.v4.new_markdown_cell("### Learning curves\nValidation MAE per epoch. More words here."),
                nbformat.v4.new_code_cell("plot()"),
                nbformat.v4.new_code_cell("plot_again()")]
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", execution_count=1,
                                                  data={"text/html": df._repr_html_(), "text/plain": repr(df)})]
    for cell in nb.cells[3:]:
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    nbformat.write(nb, path)
    return results


def test_report_renders_math_captions_and_the_papers_table1_beside_ours(tmp_path):
    results = _table1_notebook(tmp_path / "01_table.ipynb")
    page = build_report([tmp_path / "01_table.ipynb"], tmp_path / "out").read_text()
    text = visible_text(page)
    assert "$" not in text and "\\hat" not in text and "q̂" in text
    figures = re.findall(r"<figure>(.*?)</figure>", page, re.S)
    captions = [re.search(r"<figcaption>(.*?)</figcaption>", f, re.S).group(1) for f in figures]
    assert len(figures) == 2 and f"data:image/png;base64,{PNG}" in figures[0]
    # the section heading and the first sentence of the markdown just before; after a code cell, the heading alone
    assert captions == ["<strong>Learning curves.</strong> Validation MAE per epoch.",
                        "<strong>Learning curves</strong>"]
    table = page[page.index('<table class="table1">'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table[table.index("<tbody>"):], re.S)
    cells = [re.findall(r"<td>([^<]*)</td>", row) for row in rows]
    paper_energy = [f"{v:.2f}" for kind in ("bp", "schnet") for v in PAPER_TABLE1[(kind, "energy")]]
    assert "Atomization energy" in rows[0] and "kcal/mol" in rows[0] and cells[0] == paper_energy
    ours = {"paper": ["bp-energy", None], "per-element": ["bp-energy-elementref", "schnet-energy-elementref"]}
    for row, (partition, names) in zip(cells[1:3], ours.items()):
        expected = [f"{v:.2f}" if name else "–" for name in names
                    for v in (mae_rmse(*results[name]) if name else (0, 0))]
        assert row == expected, partition
    assert "Dipole moment" in rows[3] and cells[4] == [f"{v:.3f}" for name in ("bp-dipole", "schnet-dipole")
                                                       for v in mae_rmse(*results[name])]


def _saved_report(tmp_path):
    """The report of the saved notebooks (their outputs are read, nothing runs), with two claim records that quote
    the paper's numbers."""
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, tmp_path / path.name)
    write_claims("03_aromatic_rings", [Claim("schnet-top10-alkyne", "alkynes in six of the ten", "P(X ≥ hits)",
                                             "hypergeometric", "<", 0.05, 0.0006, note="4 of 10 carry it")], tmp_path)
    write_claims("07_element_embeddings", [Claim("variance-2pc", "about 20 % of the variance", "PC1 + PC2",
                                                 "PCA", "<", 0.35, 0.43, 0.39, 0.53)], tmp_path)
    return build_report(sorted(tmp_path.glob("*.ipynb")), tmp_path / "out").read_text()


def test_report_of_the_saved_notebooks_captions_every_figure_and_shows_no_raw_math(tmp_path):
    page = _saved_report(tmp_path)
    drawn = sum(any("image/png" in o.get("data", {}) for o in c.get("outputs", []))
                for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") for c in nbformat.read(p, as_version=4).cells)
    figures = re.findall(r"<figure>(.*?)</figure>", page, re.S)
    assert len(figures) == drawn > 10
    for figure in figures:
        caption = re.search(r"<figcaption>(.*?)</figcaption>", figure, re.S)
        assert caption and visible_text(caption.group(1)).strip(), figure[-300:]
    text = visible_text(page)
    assert "$" not in text and "\\hat" not in text and "\\mathbf" not in text
    top = page[page.index("The paper's numbers beside ours"):page.index('<section id="00_data">')]
    assert '<table class="table1">' in top and "ours (per-element partition)" in top
    assert "six of the ten" in top and "4 of 10 carry it" in top and "about 20 % of the variance" in top
    assert top.count('<td class="verdict"') == 2


def test_notebook_page_shows_no_widget_or_default_repr():
    from xatom.reproduce import notebook_page

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("view"), nbformat.v4.new_code_cell("explorer.widget()")]
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<div id='3dmolviewer_1'>drawn</div>"}),
        nbformat.v4.new_output("execute_result", execution_count=1,
                               data={"text/plain": "<py3Dmol.view at 0x7ff8d22f5d10>"})]
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", execution_count=2, data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "36ac", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(HBox(children=(Text(value='Oc1ccccc1'),)),))"})]
    page = notebook_page(nb)
    assert "VBox(children=" not in page and "py3Dmol.view at" not in page
    assert "3dmolviewer_1" in page and "A live widget" in page
    assert len(nb.cells[0].outputs) == 2  # the executed notebook itself is left as it was


def test_notebook_page_renders_markdown_math_without_mathjax():
    """Offline, MathJax (a CDN script) never loads: the page's math is HTML already."""
    import re

    from xatom.reproduce import notebook_page

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Charges $\\hat q_i$ give $$E(\\mathbf r_0) = \\sum_i q_i$$ at `$HOME`.")]
    page = notebook_page(nb)
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S)
    assert "\\hat" not in body and "\\sum" not in body and "q̂" in body and "∑" in body
    assert "$HOME" in body  # a dollar in code is not math
    assert nb.cells[0].source.startswith("Charges $\\hat")  # the notebook itself is left as it was
