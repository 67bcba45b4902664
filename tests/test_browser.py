"""The notebooks in a real browser, offline: JupyterLab on 127.0.0.1 and Debian's chromium driven by Playwright.

Every request of the page that does not go to 127.0.0.1 is aborted, so a view that draws proves that nothing is
fetched from the network. The tests run notebooks 08 (JupyterLab) and 05 (Notebook 7), check that the py3Dmol
canvases drew a molecule (pixels that are not background), change the explorers' controls and check that the view
changed, and fail on any JavaScript error; a third opens an exported HTML page (nbconvert, as ``xatom reproduce``
writes them) from disk, and a fourth the report built from the saved notebooks (claim tables with coloured
verdicts, a caption under every figure, the paper's Table 1 beside ours, no raw LaTeX).

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and ``pip install -e ".[browser]"``; never
``playwright install`` (it downloads browsers). Skipped with the reason when either is missing.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

CHROMIUM = Path(os.environ.get("XATOM_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FALLBACK = '[id^="xatom3dfallback_"]'  # the message over a view that has not drawn (xatom.viz.view3d.View)
# Notebook 7.6.5's shortcuts plugin reads the schema of a plugin the settings registry has not loaded yet; it
# throws at page load, before any cell runs, with or without user settings: not the notebooks' doing
UPSTREAM = re.compile(r"uncaught: Cannot read properties of undefined \(reading 'schema'\) at "
                      r"\S+/static/notebook/notebook_core\.")
RUN_TIMEOUT_S = 240  # notebook 08 takes ~45 s of CPU on an idle 2-core machine

if not CHROMIUM.is_file():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium, or set XATOM_CHROMIUM)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason='playwright missing: pip install -e ".[browser]"')
Image = pytest.importorskip("PIL.Image")

LAB_SETTINGS = {  # user settings of the test's own JupyterLab: all cells in the page, no autosave, no news
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter(app: str, root: Path, notebook: str):
    """``jupyter <app>`` (lab or notebook) on 127.0.0.1 with a random port and token, serving a copy of a notebook.

    One server per front end: a jupyter-server that served a static file for one front end refuses the file of the
    same name for the other (403, "not in root static directory"), so sharing one would fail on that, not on us.
    """
    shutil.copy(NOTEBOOKS / notebook, root / notebook)
    settings = root / ".settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), os.urandom(12).hex()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(root / ".ws"),
               JUPYTER_RUNTIME_DIR=str(root / ".runtime"), XATOM_OUTPUT=str(root / "output"))
    trait = {"lab": "LabApp", "notebook": "JupyterNotebookApp"}[app]
    command = [sys.executable, "-m", "jupyter", app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--{trait}.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                    break
                except OSError:
                    if process.poll() is not None:
                        pytest.fail(f"jupyter {app} exited: {log_path.read_text()[-2000:]}")
                    time.sleep(0.5)
            else:
                pytest.fail(f"jupyter {app} did not answer within 60 s")
            page = {"lab": "lab/tree", "notebook": "notebooks"}[app]
            yield f"{base}/{page}/{notebook}?token={token}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield instance
        instance.close()


class OfflinePage:
    """A page whose requests to anywhere but 127.0.0.1 are aborted; records them and every JavaScript error."""

    def __init__(self, browser, init_script: str | None = None):
        self.context = browser.new_context(viewport={"width": 1500, "height": 1100})
        self.blocked, self.errors = [], []
        self.context.route("**/*", self._route)
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", self._uncaught)

    def _uncaught(self, error):
        frames = re.findall(r"\((https?://[^)]+)\)|at (https?://\S+)", error.stack or "")
        where = next((a or b for a, b in frames), "?")
        text = f"uncaught: {error.message} at {where}"
        if not UPSTREAM.search(text):
            self.errors.append(text)

    def _route(self, route):
        url = route.request.url
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).hostname != "127.0.0.1":
            self.blocked.append(url)
            route.abort()
        else:
            route.continue_()

    def viewers(self) -> list[str]:
        """Ids of the py3Dmol viewers on the page, in page order, once none still shows its fallback message."""
        return self.page.eval_on_selector_all('div[id^="3dmolviewer_"]', "els => els.map(e => e.id)")

    def wait_for_viewers(self, count: int, not_ids=(), timeout_s: float = 90):
        """Wait until ``count`` viewers have drawn (their fallback message removed), none of them in ``not_ids``."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            ids = self.viewers()
            pending = self.page.locator(FALLBACK).count()
            if len(ids) == count and pending == 0 and not set(ids) & set(not_ids):
                return ids
            self.page.wait_for_timeout(500)
        pytest.fail(f"expected {count} drawn viewers (not {list(not_ids)}), found {ids} with {pending} still "
                    f"showing the fallback message; errors: {self.errors}")

    def canvas(self, viewer_id: str):
        """The viewer's canvas as an RGB image (a screenshot of the element, as the user sees it)."""
        shot = self.page.locator(f'[id="{viewer_id}"] canvas').first.screenshot()
        return Image.open(io.BytesIO(shot)).convert("RGB")

    def close(self):
        self.context.close()


def drawn_fraction(image) -> float:
    """Share of pixels that are not the white background (any channel below 225)."""
    return float((np.asarray(image).min(axis=-1) < 225).mean())


def changed_share(before, after) -> float:
    """Pixels that differ by more than 30 in some channel, as a share of those drawn before (same-size pictures).

    SwiftShader draws the same scene to the same pixels, so an unchanged view gives 0.
    """
    a, b = np.asarray(before, dtype=int), np.asarray(after, dtype=int)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((np.abs(a - b).max(axis=-1) > 30).mean()) / drawn_fraction(before)


READY = """async () => {  // the open notebook, once loaded and its kernel idle
    const panel = window.jupyterapp.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    while (panel.sessionContext.session?.kernel?.status !== "idle") await new Promise(r => setTimeout(r, 200));
    await window.jupyterapp.commands.execute("notebook:clear-all-cell-outputs");
    window.jupyterapp.commands.execute("notebook:run-all-cells");
}"""
PROGRESS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === "code")
    .map(cell => ({count: cell.model.executionCount,
                   error: cell.model.outputs.toJSON().filter(o => o.output_type === "error")
                            .map(o => o.ename + ": " + o.evalue).join("")}))"""


def run_all_cells(page: OfflinePage, url: str, n_viewers: int) -> list[str]:
    """Open a notebook, clear its saved outputs, run all cells; fail on an error, return the viewers' ids."""
    page.page.goto(url)
    page.page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.content?.widgets?.length > 0",
                                timeout=60_000)
    page.page.evaluate(READY)
    deadline = time.time() + RUN_TIMEOUT_S
    while time.time() < deadline:
        cells = page.page.evaluate(PROGRESS)
        failed = [f"cell {i}: {c['error']}" for i, c in enumerate(cells) if c["error"]]
        if failed:
            pytest.fail(f"{url.split('?')[0]}: {failed}")
        if all(c["count"] for c in cells):
            return page.wait_for_viewers(n_viewers)
        page.page.wait_for_timeout(1000)
    pytest.fail(f"cells still running after {RUN_TIMEOUT_S} s: execution counts {[c['count'] for c in cells]}")


def dropdown(page: OfflinePage, label: str):
    return page.page.locator(".widget-dropdown", has=page.page.locator(f"label:text-is('{label}')")).locator("select")


@contextlib.contextmanager
def notebook_page(browser, app: str, root: Path, notebook: str):
    """An offline page on ``jupyter <app>`` with the notebook open; fails on any request off 127.0.0.1 or any
    JavaScript error seen until the end of the block."""
    with jupyter(app, root, notebook) as url:
        page = OfflinePage(browser)
        try:
            page.url = url
            yield page
            assert page.blocked == [], f"the page asked the network for {page.blocked}"
            assert page.errors == []
        finally:
            page.close()


def test_notebook_08_in_jupyterlab_draws_and_redraws_offline(tmp_path, browser):
    with notebook_page(browser, "lab", tmp_path, "08_your_molecule.ipynb") as page:
        molecule_view, field_view = run_all_cells(page, page.url, 2)
        before = {v: page.canvas(v) for v in (molecule_view, field_view)}
        for viewer, image in before.items():
            assert drawn_fraction(image) > 0.02, f"{viewer} is blank ({drawn_fraction(image):.4f} drawn)"

        dropdown(page, "model").select_option(label="schnet-dipole")  # latent charges instead of energies
        new_molecule_view, _ = page.wait_for_viewers(2, not_ids=[molecule_view])
        after = page.canvas(new_molecule_view)
        assert drawn_fraction(after) > 0.02
        assert changed_share(before[molecule_view], after) > 0.2  # every atom changes colour

        dropdown(page, "field").select_option(label="Ω (local chemical potential)")
        _, new_field_view = page.wait_for_viewers(2, not_ids=[field_view])
        after = page.canvas(new_field_view)
        assert drawn_fraction(after) > 0.02
        assert changed_share(before[field_view], after) > 0.2  # another field on the surface


def test_notebook_05_in_notebook_7_follows_probe_and_isovalue_offline(tmp_path, browser):
    with notebook_page(browser, "notebook", tmp_path, "05_local_chemical_potential.ipynb") as page:
        (view,) = run_all_cells(page, page.url, 1)
        before = page.canvas(view)
        assert drawn_fraction(before) > 0.02, f"blank view ({drawn_fraction(before):.4f} drawn)"

        dropdown(page, "probe").select_option(label="O")  # Ω of an oxygen probe instead of a carbon probe
        (view_o,) = page.wait_for_viewers(1, not_ids=[view])
        probe_o = page.canvas(view_o)
        assert changed_share(before, probe_o) > 0.02  # similar patterns: ~9 % of the surface moves by > 1/4 of the range

        slider = page.page.locator(".widget-slider", has=page.page.locator("label:text-is('isovalue')"))
        slider.locator(".widget-readout").click()
        page.page.keyboard.press("Control+A")
        page.page.keyboard.type("5")
        page.page.keyboard.press("Enter")  # a surface closer to the atoms
        (view_iso,) = page.wait_for_viewers(1, not_ids=[view_o])
        assert drawn_fraction(page.canvas(view_iso)) < drawn_fraction(probe_o), "a higher isovalue: a smaller surface"


@pytest.fixture(scope="module")
def exported_page(tmp_path_factory):
    """An HTML page exported by nbconvert, as ``xatom reproduce`` writes one, of a notebook showing phenol."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    folder = tmp_path_factory.mktemp("exported")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from xatom.molecule import Molecule\nfrom xatom.viz import view3d\n"
        "view3d.view_molecule(Molecule.from_smiles('c1ccccc1O'))")])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    html, _ = HTMLExporter().from_notebook_node(nb)
    path = folder / "phenol.html"
    path.write_text(html)
    return path.as_uri()


# require.js (nbconvert's pages load it when online) defines an AMD `define`; 3Dmol.js must not register with it
AMD = "window.define = function () { window.amdCalls = (window.amdCalls || 0) + 1; }; window.define.amd = {};"


@pytest.mark.parametrize("init_script", [None, AMD], ids=["offline", "offline-with-amd-define"])
def test_exported_html_page_draws_offline(exported_page, browser, init_script):
    page = OfflinePage(browser, init_script)
    try:
        page.page.goto(exported_page)
        (view,) = page.wait_for_viewers(1, timeout_s=30)
        assert drawn_fraction(page.canvas(view)) > 0.02
        assert page.page.evaluate("() => window.amdCalls") is None
        # the page's own template asks the network for require.js and MathJax; 3Dmol.js is never among them
        assert not [u for u in page.blocked if "3dmol" in u.lower()], page.blocked
        own = [e for e in page.errors if "Failed to load resource" not in e]
        assert own == []
    finally:
        page.close()


# a browser without WebGL (chromium's --disable-webgl still leaves WebGL 2): no canvas hands out a WebGL context
NO_WEBGL = """for (const C of [HTMLCanvasElement, window.OffscreenCanvas].filter(Boolean)) {
    const get = C.prototype.getContext;
    C.prototype.getContext = function (kind, ...rest) { return /webgl/i.test(kind) ? null : get.call(this, kind, ...rest); };
}"""


def test_without_webgl_the_view_shows_its_message_and_picture(exported_page, browser):
    page = OfflinePage(browser, NO_WEBGL)
    try:
        page.page.goto(exported_page)
        page.page.wait_for_function("() => window.$3Dmol !== undefined", timeout=30_000)
        page.page.wait_for_timeout(1000)
        message = page.page.locator(FALLBACK)
        assert message.count() == 1 and message.is_visible()
        assert "needs JavaScript and WebGL" in message.inner_text()
        assert message.locator("img").evaluate("img => img.naturalWidth") > 100
        assert page.errors, "3Dmol.js failing without WebGL should have reported it"
    finally:
        page.close()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    """``report.html`` built from the saved notebooks (their outputs are read, nothing runs) with two claim records."""
    from test_report import _saved_report

    folder = tmp_path_factory.mktemp("report")
    _saved_report(folder)
    return (folder / "out" / "report.html").as_uri()


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_report_shows_claim_tables_captions_and_no_raw_math_offline(report_page, browser):
    from xatom.analysis.claims import COLOURS

    page = OfflinePage(browser)
    try:
        page.page.goto(report_page)
        verdicts = page.page.eval_on_selector_all(
            "table.claims td.verdict", "tds => tds.map(td => getComputedStyle(td).backgroundColor)")
        assert verdicts and set(verdicts) <= {_rgb(c) for c in COLOURS.values()}, set(verdicts)
        captions = page.page.eval_on_selector_all(
            "figure", "fs => fs.map(f => (f.querySelector('figcaption')?.innerText || '').trim())")
        assert len(captions) > 10 and all(captions), captions
        widths = page.page.eval_on_selector_all("figure img", "imgs => imgs.map(i => i.naturalWidth)")
        assert widths and min(widths) > 100  # every embedded PNG decodes
        table1 = page.page.locator("table.table1")
        assert table1.count() == 1 and table1.is_visible() and "ours" in table1.inner_text()
        text = page.page.inner_text("body")
        assert "$" not in text and "\\hat" not in text and "\\mathbf" not in text
        assert page.blocked == [] and page.errors == []
    finally:
        page.close()
