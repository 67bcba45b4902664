"""xatom's C++ CPU kernels (``kernels.cpp``): compiled on first use with the compiler torch uses (needs ninja;
about a minute, then cached by torch). Where that fails, or ``XATOM_NO_KERNEL=1`` is set, callers fall
back to their pure-torch paths, which compute the same values (tests compare both)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

_MODULE = None
_UNAVAILABLE = None  # why the kernels are unavailable, once known


def kernels():
    """The compiled extension module, or None where it is unavailable (:func:`unavailable_reason` says why)."""
    global _MODULE, _UNAVAILABLE
    if _MODULE is None and _UNAVAILABLE is None:
        if os.environ.get("XATOM_NO_KERNEL") == "1":
            _UNAVAILABLE = "XATOM_NO_KERNEL=1 is set"
            return None
        try:
            import sys

            from torch.utils.cpp_extension import load

            # OpenMP makes at::parallel_for use several threads (Apple's clang has no -fopenmp: serial there)
            openmp = [] if sys.platform == "darwin" else ["-fopenmp"]
            _MODULE = load(name="xatom_kernels", sources=[str(Path(__file__).with_name("kernels.cpp"))],
                           extra_cflags=["-O3", *openmp], extra_ldflags=openmp, verbose=False)
        except Exception as err:  # no compiler or no ninja: fall back, loudly
            _UNAVAILABLE = f"they could not be built ({type(err).__name__}: {err})"
            warnings.warn(f"xatom: the C++ kernels could not be built ({type(err).__name__}: {err}); "
                          "using the slower pure-torch paths")
    return _MODULE


def available() -> bool:
    return kernels() is not None


def unavailable_reason() -> str | None:
    """Why :func:`kernels` returns None, in words; None where the kernels load."""
    kernels()
    return _UNAVAILABLE
