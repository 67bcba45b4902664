"""Where xatom finds its data folder: the shipped models, the QM9 splits and the crystal set.

A clone of the repository (the editable install of ``make install``) reads the repository's ``data/``. An installed
package (``pip install .``) carries no data, to keep it small: it reads the folder named by the environment variable
``XATOM_DATA`` (e.g. the ``data/`` folder of a clone), and a missing file says so (:func:`missing_data`).
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import MissingFileError

DATA_ENV = "XATOM_DATA"
REPOSITORY_DATA = Path(__file__).resolve().parents[1] / "data"


DATA_FROM_ENV = os.environ.get(DATA_ENV) or None
DATA_DIR = Path(DATA_FROM_ENV).expanduser().resolve() if DATA_FROM_ENV else REPOSITORY_DATA
"""The data folder: ``$XATOM_DATA`` if set when xatom is imported, else the repository's ``data/``."""


def missing_data(path: Path, what: str) -> MissingFileError:
    """The error for a data file or folder that is not there: where xatom looked and what to set.

    Args:
        path: the file or folder that was looked for.
        what: what it holds, e.g. ``"the QM9 split file"``.
    """
    if DATA_FROM_ENV:
        where = f"the folder named by {DATA_ENV}={DATA_FROM_ENV}"
    else:
        where = (f"{REPOSITORY_DATA}, the data/ folder beside the package, which only a clone of the repository "
                 f"has; an installed xatom (pip install .) carries none: set {DATA_ENV} to the data/ folder of a clone")
    return MissingFileError(f"{what} not found: {path} does not exist. xatom reads its data from {where}")
