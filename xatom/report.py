"""One self-contained HTML report from the executed notebooks (written by ``xatom reproduce``).

For every notebook: its title and aim, what the paper shows at that place (figure or table), all figures the
notebook drew (embedded as PNG), its claim records (``claims/<notebook stem>.json`` beside the executed
notebook, written by :func:`xatom.analysis.claims.write_claims`: value, 95 % interval, threshold and verdict) and
the outputs of the cells marked ``# REPORT`` (e.g. Table 1 side by side with the paper). The verdict counts at the
top come from the records, never from printed text. Nothing is typed in by hand: the report only re-arranges what
the notebooks computed.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from .analysis.claims import COLOURS, VERDICTS, claims_html, claims_path, read_claims
from .files import write_atomic

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


def _title_and_aim(nb) -> tuple[str, str]:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    title = next((ln.lstrip("# ").strip() for ln in first.splitlines() if ln.startswith("#")), "notebook")
    aim = re.search(r"\*\*Aim\.\*\*(.*?)(\n\n|$)", first, re.S)
    return title, (aim.group(1).strip() if aim else "")


def _outputs(cell) -> list[str]:
    parts = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            parts.append(f'<img src="data:image/png;base64,{data["image/png"].strip()}" style="max-width:100%">')
        elif MARKER in cell.source:
            if "text/html" in data and "<table" in data["text/html"]:
                parts.append(data["text/html"])
            elif "text" in out:
                parts.append(f"<pre>{html.escape(out['text'])}</pre>")
            elif "text/plain" in data:
                parts.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
    return parts


def build_report(notebooks, output: Path, timings: dict | None = None) -> Path:
    """Write ``output/report.html`` from executed notebook files; returns its path."""
    import nbformat

    sections, totals, without = [], dict.fromkeys(VERDICTS, 0), []
    for path in notebooks:
        path = Path(path)
        nb = nbformat.read(path, as_version=4)
        title, aim = _title_and_aim(nb)
        figures, marked = [], []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for part in _outputs(cell):
                (figures if part.startswith("<img") else marked).append(part)
        records = claims_path(path.stem, path.parent)
        if records.exists():
            claims = read_claims(records)
            for c in claims:
                totals[c.verdict] += 1
            claim_part = "<h3>Claims</h3>" + claims_html(claims)
        else:
            without.append(path.stem)
            claim_part = "<h3>Claims</h3><p><i>no claim records</i></p>"
        seconds = f" ({timings[path.stem]:.0f} s)" if timings and path.stem in timings else ""
        sections.append(
            f'<section id="{path.stem}"><h2>{html.escape(title)}{seconds}</h2>'
            f"<p><b>Aim.</b> {html.escape(aim)}</p>"
            f'<p class="paper"><b>In the paper.</b> {html.escape(PAPER.get(path.name[:2], ""))}</p>'
            + claim_part
            + ("<h3>Numbers behind the checks</h3>" + "".join(marked) if marked else "")
            + ("<h3>Our figures</h3>" + "".join(figures) if figures else "") + "</section>")
    counts = ", ".join(f'<b style="background:{COLOURS[v]}">{n}× {v}</b>' for v, n in totals.items())
    missing = f" No claim records: {', '.join(without)}." if without else ""
    toc = "".join(f'<li><a href="#{Path(p).stem}">{Path(p).stem}</a></li>' for p in notebooks)
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>xatom report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}} pre{{background:#f6f6f6;padding:.6em;
overflow-x:auto;font-size:12px}} table{{border-collapse:collapse;font-size:12px}} td,th{{border:1px solid #ccc;
padding:2px 6px}} td.verdict{{white-space:nowrap}} .paper{{background:#eef4ff;padding:.4em}} section{{border-top:2px solid #888;margin-top:2em}}</style>
</head><body><h1>xatom: interpretable atomistic networks, reproduced</h1>
<p>Every number and figure below was computed by the notebooks from the shipped weights and data in this run.
Verdicts of the claim records: {counts} (undecided: the 95 % interval straddles the threshold).{missing}</p>
<ol>{toc}</ol>{''.join(sections)}</body></html>"""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    return write_atomic(output / "report.html", page)
