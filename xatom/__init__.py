"""xatom: interpretable atomistic neural networks (Behler–Parrinello and SchNet) as a workbook."""
from .molecule import Molecule

__version__ = "0.1.0"
__all__ = ["Molecule", "__version__"]
