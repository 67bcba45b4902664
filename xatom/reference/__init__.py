"""Quantum-chemical reference data computed once and shipped in ``data/reference/`` (builders need ``.[dft]``)."""
