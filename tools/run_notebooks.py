"""Execute notebooks in place, as they are committed (outputs saved, live widget state dropped):

    python tools/run_notebooks.py 05 06      # by number; no argument: all

Runs each notebook's code cells in one kernel through jupyter_client directly, as nbval does: nbclient 0.11 blocks
on cells that build ipywidgets (its comm handling waits for messages the kernel never sends; nbclient issue 312).
"""
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CELL_TIMEOUT_S = 1200


def run_cell(kc, cell):
    """Execute one code cell, collecting its outputs as nbformat outputs; raises on an error output."""
    msg_id = kc.execute("".join(cell.source), allow_stdin=False)
    outputs, clear_pending, deadline = [], False, time.time() + CELL_TIMEOUT_S
    while True:
        msg = kc.get_iopub_msg(timeout=max(1.0, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            break
        if kind == "execute_input":
            cell.execution_count = content["execution_count"]
        elif kind == "clear_output":
            if content.get("wait"):
                clear_pending = True
            else:
                outputs = []
        elif kind in ("stream", "display_data", "execute_result", "error"):
            if clear_pending:
                outputs, clear_pending = [], False
            out = nbformat.v4.output_from_msg(msg)
            if kind == "stream" and outputs and outputs[-1].get("name") == out.name and outputs[-1].output_type == "stream":
                outputs[-1].text += out.text
            else:
                outputs.append(out)
    cell.outputs = outputs
    for out in outputs:
        if out.output_type == "error":
            raise RuntimeError(f"{out.ename}: {out.evalue}")


def run_notebook(path):
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(NOTEBOOKS))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                try:
                    run_cell(kc, cell)
                except RuntimeError as error:
                    raise RuntimeError(f"{path.name}, cell {index}: {error}") from None
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    nb.metadata.pop("widgets", None)  # live widget state (MBs of HTML); the static pictures stay
    nbformat.write(nb, path)


if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if wanted and path.name[:2] not in wanted:
            continue
        t0 = time.time()
        run_notebook(path)
        print(f"{path.name}: {time.time() - t0:.0f} s, {path.stat().st_size / 1e3:.0f} kB", flush=True)
