"""Behler–Parrinello network (paper section 2.1): one feed-forward network per element on ACSFs.

Features are standardised per centre element with training-set statistics (:meth:`fit_standardization`),
then each atom's element network maps them to the last hidden layer (the atom's representation) and
to one scalar y_i that the shared heads turn into Ê_i or q̂_i.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..batch import Batch, QM9Batches
from .acsf import ACSF, ACSFParameters
from .layers import mlp, shifted_softplus


class BehlerParrinello(nn.Module):
    """ACSF → per-element networks.

    Args:
        hidden: hidden layer sizes of each element network (shifted softplus activations).
        acsf: symmetry-function parameters (default :class:`ACSFParameters`).
    """

    def __init__(self, hidden=(256, 128), acsf: ACSFParameters | None = None):
        super().__init__()
        self.acsf = ACSF(acsf)
        n_el, n_f = len(self.acsf.params.elements), self.acsf.n_features
        self.register_buffer("feature_mean", torch.zeros(n_el, n_f))
        self.register_buffer("feature_std", torch.ones(n_el, n_f))
        self.networks = nn.ModuleList(mlp(n_f, list(hidden[:-1]), hidden[-1]) for _ in range(n_el))
        self.outputs = nn.ModuleList(nn.Linear(hidden[-1], 1) for _ in range(n_el))
        self.n_features = hidden[-1]

    unused_parameters_possible = True
    """A batch may lack an element, leaving that element's network without gradient (data-parallel training)."""

    def fit_statistics(self, data, rows, cutoff: float, seed: int):
        """Fit the feature standardisation on a seeded sample of at most 5,000 of the training ``rows``."""
        sample = np.random.default_rng(seed).choice(rows, min(5000, len(rows)), replace=False)
        self.fit_standardization(QM9Batches(data, sample, 500, cutoff, (), False).epoch(0))

    def cached_features(self, data, rows, progress: bool = True):
        """The symmetry functions of all QM9 atoms, computed once and memory-mapped (``xatom.data.features``), for
        training on ``rows`` of ≥ 20,000 molecules; None for small runs, which compute their few on the fly."""
        if len(rows) < 20_000:
            return None
        from ..data.features import qm9_acsf

        return qm9_acsf(data, self.acsf, progress=progress)

    @torch.no_grad()
    def fit_standardization(self, batches):
        """Per-element mean and standard deviation of the features over an iterable of batches."""
        n_el, n_f = self.feature_mean.shape
        s0 = torch.zeros(n_el, 1, dtype=torch.float64)
        s1 = torch.zeros(n_el, n_f, dtype=torch.float64)
        s2 = torch.zeros(n_el, n_f, dtype=torch.float64)
        for batch in batches:
            g = self.acsf(batch).double()
            s = self.acsf.species(batch.Z)
            s0.index_add_(0, s, torch.ones(len(s), 1, dtype=torch.float64))
            s1.index_add_(0, s, g)
            s2.index_add_(0, s, g * g)
        mean = s1 / s0.clamp(min=1)
        std = (s2 / s0.clamp(min=1) - mean ** 2).clamp(min=0).sqrt()
        self.feature_mean.copy_(mean.float())
        # a floor keeps features that are (almost) constant in the sample from blowing up elsewhere
        self.feature_std.copy_(std.clamp(min=0.05).float())

    def forward(self, batch: Batch, features: torch.Tensor | None = None) -> dict:
        """Returns ``{"representation": last hidden layer (n_atoms, hidden[-1]), "y": (n_atoms,)}``."""
        g = self.acsf(batch) if features is None else features
        s = self.acsf.species(batch.Z)
        g = (g - self.feature_mean[s]) / self.feature_std[s]
        rep = g.new_zeros(g.shape[0], self.n_features)
        y = g.new_zeros(g.shape[0])
        for e, (net, out) in enumerate(zip(self.networks, self.outputs)):
            idx = torch.nonzero(s == e).squeeze(1)
            if idx.numel():
                h = shifted_softplus(net(g.index_select(0, idx)))
                rep = rep.index_copy(0, idx, h)
                y = y.index_copy(0, idx, out(h).squeeze(1))
        return {"representation": rep, "y": y}
