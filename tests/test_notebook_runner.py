"""The notebook runner of ``xatom reproduce`` and ``tools/run_notebooks.py``: outputs kept, errors located,
widget cells (which block nbclient) run through."""
import nbformat
import pytest

from xatom.notebook_runner import NotebookCellError, execute_notebook


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")]
                                    + [nbformat.v4.new_code_cell(s) for s in sources])


def test_outputs_counts_and_a_widget_cell(tmp_path):
    (tmp_path / "data.txt").write_text("from the notebook's folder\n")
    nb = _notebook("print('a'); print('b')", "open('data.txt').read().strip()",
                   "import ipywidgets as w\nout = w.Output()\nwith out:\n    print('x')\n    out.clear_output(wait=True)\n"
                   "    print('y')\nprint('z')\nw.VBox([w.Text('t'), out])",
                   "from IPython.display import clear_output\nprint('gone')\nclear_output(wait=True)\nprint('kept')",
                   "1 + 1")
    nb.metadata["widgets"] = {"state": "MBs"}
    execute_notebook(nb, tmp_path, timeout_s=60)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3, 4, 5]
    assert code[0].outputs[0].text == "a\nb\n"  # one stream output per stream
    assert code[1].outputs[0].data["text/plain"] == "\"from the notebook's folder\""
    # what the Output widget captured stays in the widget; the cell keeps its own print and the widget view
    assert [o.text for o in code[2].outputs if o.output_type == "stream"] == ["z\n"]
    assert "application/vnd.jupyter.widget-view+json" in code[2].outputs[-1].data
    assert [o.text for o in code[3].outputs] == ["kept\n"]  # clear_output(wait=True) clears at the next output
    assert code[4].outputs[0].data["text/plain"] == "2"
    assert "widgets" not in nb.metadata


def test_the_failing_cell_is_named_and_the_rest_not_run(tmp_path):
    nb = _notebook("x = 1", "1 / 0", "x = 2")
    with pytest.raises(NotebookCellError, match="cell 2: ZeroDivisionError") as err:
        execute_notebook(nb, tmp_path, timeout_s=60)
    assert err.value.cell_index == 2
    assert nb.cells[2].outputs[-1].output_type == "error" and nb.cells[3].outputs == []
