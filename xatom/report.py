"""One self-contained HTML report from the executed notebooks (written by ``xatom reproduce``).

At the top, the paper's own numbers beside ours: the paper's Table 1 (:data:`xatom.analysis.accuracy.PAPER_TABLE1`)
with this run's test-set errors read from the Table 1 output of notebook 01, and the claim records whose sentence
quotes a number of the paper (:data:`PAPER_NUMBERS`). Then for every notebook: its title and aim, what the paper
shows at that place (figure or table), its claim records (``claims/<notebook stem>.json`` beside the executed
notebook, written by :func:`xatom.analysis.claims.write_claims`) as a table with coloured verdicts, the outputs of
the cells marked ``# REPORT`` under their section headings, and all figures it drew (embedded as PNG), each with a
caption taken from the notebook's own markdown (:func:`figure_caption`). Markdown and its LaTeX math are rendered
at build time (:mod:`xatom.texmath`): the page needs no network. The verdict counts at the top come from the
records, never from printed text. Nothing is typed in by hand: the report only re-arranges what the notebooks
computed and wrote.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from .analysis.accuracy import ARCHITECTURES, PAPER_TABLE1, UNITS
from .analysis.claims import COLOURS, VERDICTS, claims_html, claims_path, read_claims
from .files import write_atomic
from .texmath import MATH, markdown_html

MARKER = "# REPORT"

PAPER = {
    "00": "Paper section 2.1: the QM9 data set (no figure).",
    "01": "Paper Table 1: MAE and RMSE of BP and SchNet for energies and dipoles with 100k training molecules.",
    "02": "Paper Figure 2: distributions of latent atomic energies per element, BP vs SchNet, several folds; "
          "claims: SchNet narrower, more fold variation for rare elements.",
    "03": "Paper Figure 3: the most stable aromatic six-rings of QM9 ranked by atomic energies; motifs "
          "(fluorine, alkyne, fused O-five-ring, donors).",
    "04": "Paper Figure 4: latent partial charges per element; claims: charges more conserved than energies, "
          "BP and SchNet charges agree.",
    "05": "Paper Figure 5: local chemical potential of a carbon probe on an isosurface and in cuts.",
    "06": "Paper Figure 6: electrostatic potentials from latent charges, BP vs SchNet, six molecules.",
    "07": "Paper Figure 7: PCA of element embeddings learned on Materials Project crystals.",
    "08": "Beyond the paper: every analysis for a molecule the user brings.",
}

PAPER_NUMBERS = {"03": ("schnet-top10-alkyne",), "07": ("variance-2pc",)}
"""Claim records (by notebook number and claim id) whose sentence quotes a number of the paper: "six out of the
ten structures" (sec. 3.1, Fig. 3) and "only about 20% of the variance" (sec. 3.3, Fig. 7); shown at the top."""

PROPERTIES = {"energy": "Atomization energy", "dipole": "Dipole moment"}
"""Row labels of the paper's Table 1."""

HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.M)
SECTION = re.compile(r"^#{2,6}\s+(.*)$", re.M)
ABBREVIATIONS = ("e.g.", "i.e.", "cf.", "vs.", "Fig.", "Eq.", "sec.", "al.")
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em;line-height:1.4}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px} table{border-collapse:collapse;font-size:12px;
margin:.5em 0} td,th{border:1px solid #ccc;padding:2px 6px} td.verdict{white-space:nowrap}
caption{caption-side:top;text-align:left;font-weight:bold;padding:.3em 0} .paper{background:#eef4ff;padding:.4em}
table.table1 td{text-align:right} table.table1 tr.paper-row td:not([rowspan]){background:#eef4ff}
section{border-top:2px solid #888;margin-top:2em} figure{margin:1.2em 0} figure img{max-width:100%}
figcaption{font-size:13px;color:#333;margin-top:.3em} .math{font-family:"DejaVu Serif",Georgia,serif}
.math.display{display:block;text-align:center;margin:.4em 0}"""


def _title_and_aim(nb) -> tuple[str, str]:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    title = next((ln.lstrip("# ").strip() for ln in first.splitlines() if ln.startswith("#")), "notebook")
    aim = re.search(r"\*\*Aim\.\*\*(.*?)(\n\n|$)", first, re.S)
    return title, (aim.group(1).strip() if aim else "")


def _first_sentence(markdown: str) -> str:
    """The first sentence of the first paragraph after the last heading of a markdown cell (a bold lead-in such as
    ``**Parity.**`` kept with the sentence that follows it); "" when there is none."""
    after = HEADING.split(markdown)[-1] if HEADING.search(markdown) else markdown
    paragraph = next((p.strip() for p in re.split(r"\n\s*\n", after) if p.strip()), "")
    lead = re.match(r"\*\*.+?\*\*\s*", paragraph)
    start = lead.end() if lead else 0
    masked = MATH.sub(lambda m: "x" * len(m.group()), paragraph)  # no sentence ends inside math or code
    for end in re.finditer(r"[.!?](?=\s+[A-Z(*_`$])", masked[start:]):
        if not masked[:start + end.end()].endswith(ABBREVIATIONS):
            return " ".join(paragraph[:start + end.end()].split())
    return " ".join(paragraph.split())


def _sections(cells) -> list[str]:
    """The section heading (level 2 or deeper) in effect at every cell, "" before the first."""
    current, out = "", []
    for cell in cells:
        out.append(current)
        if cell.cell_type == "markdown":
            current = (SECTION.findall(cell.source) or [current])[-1].strip()
    return out


def figure_caption(cells, k: int, sections: list[str] | None = None) -> str:
    """The caption (markdown) of the figure that code cell ``k`` drew, from the notebook's own markdown.

    The section heading in effect, then the first sentence of the markdown cell just before the figure (its
    paragraph after its last heading). Where no section heading and no markdown precede the figure, the first
    sentence of the markdown just after it (which then discusses it), if that does not open a new section.
    "" when the notebook says nothing about the figure.
    """
    sections = _sections(cells) if sections is None else sections
    before = cells[k - 1] if k > 0 and cells[k - 1].cell_type == "markdown" else None
    lead = _first_sentence(before.source) if before is not None else ""
    after = cells[k + 1] if k + 1 < len(cells) and cells[k + 1].cell_type == "markdown" else None
    if not sections[k] and not lead and after is not None and not HEADING.search(after.source.split("\n\n")[0]):
        lead = _first_sentence(after.source)
    heading = sections[k]
    if heading and lead:
        return f"**{heading.rstrip('.')}.** {lead}"
    return f"**{heading}**" if heading else lead


def _images(cell) -> list[str]:
    return [f'<img src="data:image/png;base64,{out["data"]["image/png"].strip()}" alt="">'
            for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]


def _marked(cell) -> list[str]:
    """The outputs of a ``# REPORT`` cell other than figures: HTML tables as they are, text as ``<pre>``."""
    parts = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            continue
        if "text/html" in data and "<table" in data["text/html"]:
            parts.append(data["text/html"])
        elif "text" in out:
            parts.append(f"<pre>{html.escape(out['text'])}</pre>")
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
    return parts


class _TableRows(HTMLParser):
    """The rows of the first HTML table as lists of cell texts, a ``rowspan`` cell repeated in the rows below;
    ``heads`` counts the rows of its ``<thead>``."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.cell, self.span, self.carry, self.done = [], None, None, 1, {}, False
        self.heads, self.in_head = 0, False

    def _fill(self):
        while self.row is not None and len(self.row) in self.carry:
            column = len(self.row)
            text, left = self.carry.pop(column)
            self.row.append(text)
            if left > 1:
                self.carry[column] = (text, left - 1)

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self._fill()
            self.cell, self.span = [], int(dict(attrs).get("rowspan") or 1)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag):
        if self.done:
            return
        if tag in ("td", "th") and self.cell is not None:
            column = len(self.row)
            self.row.append(" ".join("".join(self.cell).split()))
            if self.span > 1:
                self.carry[column] = (self.row[-1], self.span - 1)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self._fill()
            self.rows.append(self.row)
            self.heads += self.in_head
            self.row = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "table":
            self.done = True


def table_records(fragment: str) -> list[dict]:
    """The rows of a pandas HTML table (``DataFrame._repr_html_``) as dicts by column and index name."""
    parser = _TableRows()
    parser.feed(fragment)
    heads = parser.rows[:max(parser.heads, 1)]  # pandas: the column names, then the index names
    names = [next((h for h in column if h), "") for column in zip(*heads)]
    return [dict(zip(names, row)) for row in parser.rows[len(heads):]]


def _our_table1(notebooks) -> tuple[str, list[dict]]:
    """The notebook stem and rows of the first output that is our Table 1 (columns MAE, RMSE, paper MAE)."""
    for nb, stem in notebooks:
        for cell in nb.cells:
            for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
                fragment = out.get("data", {}).get("text/html", "")
                if "paper MAE" in fragment and "RMSE" in fragment:
                    return stem, table_records(fragment)
    return "", []


def _number(value, decimals: int) -> str:
    return "–" if value is None else f"{float(value):.{decimals}f}"


def table1_html(rows: list[dict], stem: str = "") -> str:
    """The paper's Table 1 in its own layout (a property per row, MAE and RMSE per architecture), our rows below
    each of the paper's: ``rows`` as read by :func:`table_records` from notebook ``stem``'s Table 1."""
    kind_of = {label: kind for kind, label in ARCHITECTURES.items()}
    head = ("<tr><th rowspan=\"2\">Property</th><th rowspan=\"2\">Unit</th><th rowspan=\"2\"></th>"
            + "".join(f'<th colspan="2">{label}</th>' for label in ARCHITECTURES.values())
            + "</tr><tr>" + "<th>MAE</th><th>RMSE</th>" * len(ARCHITECTURES) + "</tr>")
    body = []
    for target, prop in PROPERTIES.items():
        paper = {kind: PAPER_TABLE1[(kind, target)] for kind in ARCHITECTURES}
        decimals = max(len(repr(v).partition(".")[2]) for pair in paper.values() for v in pair)  # as the paper prints
        lines = [("paper", "paper-row", paper)]
        ours = [r for r in rows if r.get("property") == target and r.get("model") in kind_of]
        for partition in dict.fromkeys(r.get("partition", "-") for r in ours):
            values = {kind_of[r["model"]]: (r["MAE"], r["RMSE"]) for r in ours if r.get("partition", "-") == partition}
            label = "ours" if partition in ("-", "") else f"ours ({partition} partition)"
            lines.append((label, "ours-row", values))
        for j, (label, css, values) in enumerate(lines):
            first = (f'<th rowspan="{len(lines)}">{prop}</th><td rowspan="{len(lines)}">{UNITS[target]}</td>'
                     if j == 0 else "")
            cells = "".join(f"<td>{_number(v, decimals)}</td>" for kind in ARCHITECTURES
                            for v in values.get(kind, (None, None)))
            body.append(f'<tr class="{css}">{first}<th>{label}</th>{cells}</tr>')
    source = f"notebook {stem}" if stem else "no notebook output found"
    caption = (f"The paper's Table 1 beside ours: test-set MAE and RMSE of this run ({source}); "
               "the paper's values from its Table 1.")
    return (f'<table class="table1"><caption>{caption}</caption><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _section(nb, path: Path, claims, seconds: str) -> str:
    """One notebook's part of the report."""
    title, aim = _title_and_aim(nb)
    cells, sections = nb.cells, _sections(nb.cells)
    figures, marked, last = [], [], None
    for k, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        images = _images(cell)
        if images:
            caption = figure_caption(cells, k, sections) or f"**{title}**"
            figures.append(f'<figure>{"".join(images)}<figcaption>{markdown_html(caption, inline=True)}'
                           "</figcaption></figure>")
        if MARKER in cell.source and _marked(cell):
            if sections[k] and sections[k] != last:
                marked.append(f"<h4>{markdown_html(sections[k], inline=True)}</h4>")
                last = sections[k]
            marked += _marked(cell)
    claim_part = claims_html(claims) if claims is not None else "<p><i>no claim records</i></p>"
    return (f'<section id="{path.stem}"><h2>{markdown_html(title, inline=True)}{seconds}</h2>'
            f"<p><b>Aim.</b> {markdown_html(aim, inline=True)}</p>"
            f'<p class="paper"><b>In the paper.</b> {markdown_html(PAPER.get(path.name[:2], ""), inline=True)}</p>'
            + "<h3>Claims</h3>" + claim_part
            + ("<h3>Numbers behind the checks</h3>" + "".join(marked) if marked else "")
            + ("<h3>Our figures</h3>" + "".join(figures) if figures else "") + "</section>")


def _paper_numbers(notebooks, records) -> str:
    """The top of the report: Table 1 and the claims that quote a number of the paper, each beside ours."""
    stem, rows = _our_table1(notebooks)
    quoted = [c for _, name in notebooks for c in (records.get(name) or []) if c.id in PAPER_NUMBERS.get(name[:2], ())]
    links = ", ".join(f'<a href="#{name}">{name}</a>' for _, name in notebooks if name[:2] in PAPER_NUMBERS)
    part = "<h2>The paper's numbers beside ours</h2>" + (table1_html(rows, stem) if rows else "")
    if quoted:
        part += (f"<p>Sentences of the paper that give a number, checked by the notebooks ({links}): the claim "
                 "column quotes the paper, the value column is ours.</p>" + claims_html(quoted))
    return part if rows or quoted else ""


def build_report(notebooks, output: Path, timings: dict | None = None) -> Path:
    """Write ``output/report.html`` from executed notebook files; returns its path."""
    import nbformat

    loaded = [(nbformat.read(Path(p), as_version=4), Path(p).stem) for p in notebooks]
    records, totals = {}, dict.fromkeys(VERDICTS, 0)
    for p in map(Path, notebooks):
        found = claims_path(p.stem, p.parent)
        records[p.stem] = read_claims(found) if found.exists() else None
        for c in records[p.stem] or []:
            totals[c.verdict] += 1
    sections = [_section(nb, Path(p), records[stem],
                         f" ({timings[stem]:.0f} s)" if timings and stem in timings else "")
                for (nb, stem), p in zip(loaded, notebooks)]
    without = [stem for stem, found in records.items() if found is None]
    counts = ", ".join(f'<b style="background:{COLOURS[v]}">{n}× {v}</b>' for v, n in totals.items())
    missing = f" No claim records: {', '.join(without)}." if without else ""
    toc = "".join(f'<li><a href="#{stem}">{stem}</a></li>' for _, stem in loaded)
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>xatom report</title>
<style>{STYLE}</style>
</head><body><h1>xatom: interpretable atomistic networks, reproduced</h1>
<p>Every number and figure below was computed by the notebooks from the shipped weights and data in this run.
Verdicts of the claim records: {counts} (undecided: the 95 % interval straddles the threshold).{missing}</p>
<ol>{toc}</ol>{_paper_numbers(loaded, records)}{''.join(sections)}</body></html>"""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    return write_atomic(output / "report.html", page)
