"""``xatom reproduce``: execute the notebook series in order and write the executed notebooks, an HTML page
per notebook, the figures (``figures/*.png``), the claim records (``claims/*.json``), an index page and one
self-contained report (``report.html``, :mod:`xatom.report`) into an output folder."""
from __future__ import annotations

import copy
import os
import re
import sys
import time
from pathlib import Path

from .files import check_output_folder, write_atomic

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"

MIN_FREE_MB = 100
"""Free space in MB the output folder must have before any notebook runs (the executed notebooks alone take
about 3 MB; their pages, the figures and the report a few times that)."""


WIDGET = "application/vnd.jupyter.widget-view+json"
DEFAULT_REPR = re.compile(r"<[\w.]+( object)? at 0x[0-9a-fA-F]+>")
"""Python's default repr, e.g. ``<py3Dmol.view at 0x7f…>``: says nothing on a page."""
LIVE_WIDGET = ("<p><i>A live widget: it needs a running Jupyter kernel. This page shows the static pictures of "
               "the notebook instead.</i></p>")


def static_notebook(nb):
    """A copy of an executed notebook for a static HTML page: a widget's output becomes a short note (without a
    kernel its text would be the widget's repr, ``VBox(children=(…``), an output that is only a default repr
    (``<py3Dmol.view at 0x…>``, the return value beside the drawn view) is dropped, and markdown math is turned
    into HTML here (:mod:`xatom.texmath`), so that the page needs no MathJax from a CDN to read offline."""
    import nbformat

    from .texmath import markdown_html

    nb = copy.deepcopy(nb)
    for cell in (c for c in nb.cells if c.cell_type == "markdown" and "$" in c.source):
        cell.source = markdown_html(cell.source)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        outputs = []
        for out in cell.outputs:
            data = out.get("data", {})
            if WIDGET in data:
                out = nbformat.v4.new_output("display_data", data={"text/html": LIVE_WIDGET})
            elif set(data) == {"text/plain"} and DEFAULT_REPR.fullmatch(data["text/plain"].strip()):
                continue
            outputs.append(out)
        cell.outputs = outputs
    return nb


def notebook_page(nb) -> str:
    """The HTML page of an executed notebook (nbconvert), without widget or default reprs (:func:`static_notebook`)."""
    from nbconvert import HTMLExporter

    page, _ = HTMLExporter().from_notebook_node(static_notebook(nb))
    return page


def notebook_paths(only=None, folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The series in order; ``only`` selects by number prefix, e.g. ["00", "03"]."""
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if only:
        unknown = set(only) - {p.name[:2] for p in paths}
        if unknown:
            raise ValueError(f"no notebook numbered {sorted(unknown)}; have {[p.name[:2] for p in paths]}")
        paths = [p for p in paths if p.name[:2] in only]
    return paths


def reproduce(output: Path, only=None, device: str = "cpu", timeout_s: int = 1200, folder: Path = NOTEBOOKS_DIR) -> int:
    """Run the notebooks of ``folder``; returns 0 on success, 1 (after naming notebook and cell) on the first failure.

    Every file is written atomically (:func:`xatom.files.write_atomic`): a failed write leaves no truncated file.

    ``device`` reaches the notebooks' kernels as ``XATOM_DEVICE`` (:func:`xatom.device.default_device`).

    Raises:
        DeviceUnavailableError: before any notebook runs, when ``device`` does not exist here (``"cuda"`` without
            CUDA).
        OutputFolderError: before any notebook runs, when ``output`` cannot be created or written to or has
            less than :data:`MIN_FREE_MB` free.
    """
    from .device import resolve_device

    output = Path(output).resolve()
    paths = notebook_paths(only, folder)
    resolve_device(device)  # "cuda" without CUDA: refused here, not in every notebook's kernel
    check_output_folder(output, MIN_FREE_MB * 1_000_000)
    saved = {k: os.environ.get(k) for k in ("XATOM_OUTPUT", "XATOM_DEVICE")}
    os.environ.update(XATOM_OUTPUT=str(output), XATOM_DEVICE=device)  # read by the notebooks' kernels
    try:
        return _run(paths, output, timeout_s, folder)
    finally:  # leave the caller's environment as it was
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run(paths, output: Path, timeout_s: int, folder: Path) -> int:
    import nbformat
    from tqdm.auto import tqdm

    from .analysis.claims import claims_path
    from .notebook_runner import NotebookCellError, execute_notebook

    pages = []
    t0 = time.time()
    with tqdm(paths, unit="notebook") as bar:
        for path in bar:
            bar.set_description(f"{path.name} ({time.time() - t0:.0f} s)")
            nb = nbformat.read(path, as_version=4)
            claims_path(path.stem, output).unlink(missing_ok=True)  # a notebook that no longer writes claims
            started = time.time()
            try:
                execute_notebook(nb, folder, timeout_s)
            except (NotebookCellError, TimeoutError) as err:
                write_atomic(output / path.name, nbformat.writes(nb) + "\n")
                print(f"\nxatom reproduce: {path.name} failed in {err}", file=sys.stderr)
                return 1
            write_atomic(output / path.name, nbformat.writes(nb) + "\n")
            write_atomic(output / path.with_suffix(".html").name, notebook_page(nb))
            pages.append((path.stem, time.time() - started))
    from .report import build_report

    report = build_report([output / f"{name}.ipynb" for name, _ in pages], output, dict(pages))
    rows = "".join(f'<li><a href="{name}.html">{name}</a> ({sec:.0f} s)</li>' for name, sec in pages)
    write_atomic(output / "index.html", f"<html><body><h1>xatom: the notebook series</h1>"
                                        f'<p><a href="{report.name}">The report</a>: paper vs ours, claim checks.</p>'
                                        f"<ol>{rows}</ol><p>Total {time.time() - t0:.0f} s.</p></body></html>")
    print(f"wrote {len(pages)} notebooks, their HTML pages, figures and {report} in {time.time() - t0:.0f} s")
    return 0
