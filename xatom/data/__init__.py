"""Data sets: offline QM9 (:mod:`xatom.data.qm9`) and seeded splits (:mod:`xatom.data.splits`)."""
from .qm9 import QM9, load_qm9
from .splits import Split, load_split, random_subset

__all__ = ["QM9", "load_qm9", "Split", "load_split", "random_subset"]
