"""Execute a notebook's code cells in one fresh kernel and keep their outputs (``xatom reproduce``,
``tools/run_notebooks.py``).

Talks to the kernel through jupyter_client directly, as nbval does, rather than through nbclient: nbclient 0.11
blocks on cells that build ipywidgets (it waits on comm messages the kernel never sends; nbclient issue 312).
Widget state is not kept, and neither is what an ipywidgets ``Output`` captures (it belongs to the widget, as
nbclient has it); every live view in the series has a static picture beside it.
"""
from __future__ import annotations

import queue
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager


class NotebookCellError(RuntimeError):
    """A code cell raised; ``cell_index`` is its position in ``nb.cells``, its outputs hold the traceback."""

    def __init__(self, cell_index: int, message: str):
        super().__init__(f"cell {cell_index}: {message}")
        self.cell_index = cell_index


def _run_cell(client, cell, timeout_s: float) -> None:
    msg_id = client.execute(cell.source, allow_stdin=False)
    outputs, clear_pending, deadline = [], False, time.monotonic() + timeout_s
    capturing = set()  # comm ids of Output widgets now capturing this cell's output
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"a cell ran longer than {timeout_s:.0f} s")
        try:
            msg = client.get_iopub_msg(timeout=min(left, 5.0))
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            break
        if kind == "comm_msg":
            state = content.get("data", {}).get("state", {})
            if "msg_id" in state:  # an Output widget starts (msg_id = this cell's) or stops ("") capturing
                (capturing.add if state["msg_id"] == msg_id else capturing.discard)(content["comm_id"])
        elif capturing and kind in ("stream", "display_data", "execute_result", "clear_output"):
            continue  # the widget's output, not the cell's
        elif kind == "execute_input":
            cell.execution_count = content["execution_count"]
        elif kind == "clear_output":
            clear_pending = bool(content.get("wait"))
            if not clear_pending:
                outputs = []
        elif kind in ("stream", "display_data", "execute_result", "error"):
            if clear_pending:
                outputs, clear_pending = [], False
            out = nbformat.v4.output_from_msg(msg)
            last = outputs[-1] if outputs else None
            if kind == "stream" and last is not None and last.output_type == "stream" and last.name == out.name:
                last.text += out.text
            else:
                outputs.append(out)
    cell.outputs = outputs


def execute_notebook(nb, folder: str | Path, timeout_s: float = 1200) -> None:
    """Run every code cell of ``nb`` (an nbformat node, changed in place) with ``folder`` as working directory.

    Args:
        nb: the notebook; its code cells get fresh outputs and execution counts, its widget state is dropped.
        folder: the kernel's working directory (where the notebook's relative paths point).
        timeout_s: the most seconds one cell may run.

    Raises:
        NotebookCellError: on the first cell that raises (the cells after it are not run).
        TimeoutError: if a cell runs longer than ``timeout_s``.
    """
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(folder))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            _run_cell(client, cell, timeout_s)
            error = next((o for o in cell.outputs if o.output_type == "error"), None)
            if error is not None:
                raise NotebookCellError(index, f"{error.ename}: {error.evalue}")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        nb.metadata.pop("widgets", None)
