"""Execute notebooks in place, as they are committed (outputs saved, live widget state dropped):

    python tools/run_notebooks.py 05 06      # by number; no argument: all
"""
import sys
import time
from pathlib import Path

import nbformat

from xatom.notebook_runner import execute_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if wanted and path.name[:2] not in wanted:
            continue
        nb = nbformat.read(path, as_version=4)
        t0 = time.time()
        execute_notebook(nb, NOTEBOOKS)
        nbformat.write(nb, path)
        print(f"{path.name}: {time.time() - t0:.0f} s, {path.stat().st_size / 1e3:.0f} kB", flush=True)
