"""SchNet (Schütt et al. 2017/2018; paper section 2.2): continuous-filter convolutions on atom pairs.

    x_i⁽⁰⁾ = A_{Z_i}                                    (element embedding)
    x_i⁽ᵗ⁺¹⁾ = x_i⁽ᵗ⁾ + v⁽ᵗ⁾(x⁽ᵗ⁾, r)                      (interaction blocks, t = 0 … T−1)
    v⁽ᵗ⁾_i = Dense(ssp(Dense( Σ_j Dense(x_j) ∘ W⁽ᵗ⁾(r_ij) )))
    W⁽ᵗ⁾(r) = Dense(ssp(Dense(rbf(r)))) · f_cut(r)     (filter-generating network)

Defaults follow the QM9 SchNet: 128 features, 128 filters, 6 interactions, 5 Å cosine cutoff, Gaussians
every 0.1 Å (51 centres on [0, 5] Å, γ = 10 Å⁻²).

Speed: W⁽ᵗ⁾ depends on r only. With ``filter_grid_spacing`` > 0 (the default for training) the filter
network is evaluated once per step on a grid of distances (0.005 Å apart) and the per-pair filters are
linearly interpolated from that table: the cost of the filter network no longer grows with the number of
pairs, and gradients still reach every filter weight and, through the interpolation, the positions.
The interpolation error is below 1e-4 of the filter scale (tested); set ``exact_filters=True`` on the
model to evaluate the network at every pair instead. The gather–interpolate–multiply–scatter of every
pair runs in one fused C++ pass (:mod:`xatom.models.cfconv`).

Probe atoms (paper section 3.2): :meth:`SchNet.probe` runs the interaction layers for extra atoms that
feel the molecule but do not act back on it.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..batch import Batch
from ..elements import MAX_Z
from ..errors import NonFiniteError, UnknownElementError
from ..neighbors import Pairs, pair_vectors
from .cfconv import PairIndex, cfconv_tabulated
from .layers import CosineCutoff, GaussianRBF, mlp


class FilterNetwork(nn.Module):
    """W(r) = Dense(ssp(Dense(rbf(r)))) · f_cut(r), shape (..., n_filters)."""

    def __init__(self, rbf: GaussianRBF, cutoff_fn: CosineCutoff, n_filters: int):
        super().__init__()
        self.rbf, self.cutoff_fn = rbf, cutoff_fn
        self.net = mlp(rbf.centers.numel(), [n_filters], n_filters)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return self.net(self.rbf(r)) * self.cutoff_fn(r)[..., None]


class Interaction(nn.Module):
    """One SchNet interaction block; returns the update v_i for the receiving atoms.

    Senders and receivers may differ (probe atoms receive from molecule atoms only).
    """

    def __init__(self, n_features: int, n_filters: int, rbf: GaussianRBF, cutoff_fn: CosineCutoff):
        super().__init__()
        self.filter = FilterNetwork(rbf, cutoff_fn, n_filters)
        self.in2f = nn.Linear(n_features, n_filters, bias=False)
        self.f2out = mlp(n_filters, [n_features], n_features)

    def forward(self, x_send: torch.Tensor, filters: "PairFilters", index: PairIndex) -> torch.Tensor:
        """Args:
            x_send: features of the sending atoms, (n_send, n_features).
            filters: how to get this block's filter for every pair (table or exact distances).
            index: receivers and senders of the pairs.
        """
        h = self.in2f(x_send)
        if filters.exact:
            W = self.filter(filters.r)
            messages = h.index_select(0, index.idx_send) * W
            agg = torch.zeros(index.n_recv, h.shape[1], dtype=h.dtype, device=h.device)
            agg = agg.index_add_(0, index.idx_recv, messages)
        else:
            agg = cfconv_tabulated(h, self.filter(filters.grid), filters.frac, filters.k, index)
        return self.f2out(agg)


class PairFilters(NamedTuple):
    """Distances of the pairs, prepared once for all interaction blocks.

    exact: evaluate the filter network at r; else interpolate a table on ``grid`` at cell k, fraction frac.
    """

    exact: bool
    r: torch.Tensor
    grid: torch.Tensor | None = None
    k: torch.Tensor | None = None
    frac: torch.Tensor | None = None


class SchNet(nn.Module):
    """SchNet representation: atom features x_i⁽ᵀ⁾ from element embeddings and interactions, and the atom-wise
    network that turns them into the scalar y_i a head reads (the representation contract shared with
    :class:`~xatom.models.bp.BehlerParrinello`).

    Args:
        n_features: atom feature size (embedding width).
        n_filters: filter size of the continuous-filter convolution.
        n_interactions: number of interaction blocks T.
        cutoff: cutoff radius in Å.
        n_rbf: number of Gaussians on [0, cutoff].
        rbf_gamma: Gaussian width γ in Å⁻².
        max_z: largest atomic number with an embedding.
        filter_grid_spacing: spacing in Å of the filter table (0 = always exact filters).
        embedding_std: standard deviation of the random initial element embeddings (torch's default 1).
            A small value lets what training learns dominate the final embedding over the random start, which
            matters for rare elements that receive few updates (the crystal model, notebook 07).
        readout_hidden: hidden layer sizes of the atom-wise network x_i⁽ᵀ⁾ → y_i (shifted softplus).
    """

    def __init__(self, n_features: int = 128, n_filters: int = 128, n_interactions: int = 6, cutoff: float = 5.0,
                 n_rbf: int = 51, rbf_gamma: float = 10.0, max_z: int = MAX_Z, filter_grid_spacing: float = 0.005,
                 embedding_std: float = 1.0, readout_hidden=(64,)):
        super().__init__()
        self.n_features, self.cutoff, self.max_z = n_features, cutoff, max_z
        self.embedding = nn.Embedding(max_z + 1, n_features, padding_idx=0)
        if embedding_std != 1.0:
            with torch.no_grad():
                self.embedding.weight.mul_(embedding_std)
        rbf, cutoff_fn = GaussianRBF(n_rbf, cutoff, rbf_gamma), CosineCutoff(cutoff)
        self.interactions = nn.ModuleList(Interaction(n_features, n_filters, rbf, cutoff_fn)
                                          for _ in range(n_interactions))
        self.filter_grid_spacing = filter_grid_spacing
        self.exact_filters = filter_grid_spacing <= 0
        n_grid = int(round(cutoff / filter_grid_spacing)) + 2 if filter_grid_spacing > 0 else 0
        self.register_buffer("filter_grid", torch.arange(n_grid, dtype=torch.float32) * max(filter_grid_spacing, 0))
        self.readout = mlp(n_features, list(readout_hidden), 1)  # made last: parameters keep their order

    unused_parameters_possible = False
    """Every parameter takes part in every batch (data-parallel training needs no search for unused ones)."""

    def fit_statistics(self, data, rows, cutoff: float, seed: int):
        """Nothing to fit: SchNet's inputs are atomic numbers and distances (the hook of the representation
        contract, see :meth:`xatom.models.bp.BehlerParrinello.fit_statistics`)."""

    def cached_features(self, data, rows, progress: bool = True):
        """None: SchNet computes its pair filters per step (the hook of the representation contract)."""
        return None

    @property
    def element_embeddings(self) -> torch.Tensor:
        """The learned element embedding matrix A, row Z for atomic number Z, (max_z + 1, n_features)."""
        return self.embedding.weight

    def check_elements(self, Z: torch.Tensor):
        if Z.numel() and (Z.min() < 1 or Z.max() > self.max_z):
            raise UnknownElementError(f"this SchNet knows atomic numbers 1 … {self.max_z}, got "
                                      f"{sorted(set(Z[(Z < 1) | (Z > self.max_z)].tolist()))}")

    def pair_filters(self, r: torch.Tensor) -> PairFilters:
        """Prepare the distances r (Å) of all pairs for the filters of every interaction block."""
        if not torch.isfinite(r).all():
            raise NonFiniteError("pair distances are NaN or infinite: check the positions")
        if self.exact_filters:
            return PairFilters(True, r)
        u = (r / self.filter_grid_spacing).clamp(max=self.filter_grid.numel() - 1.001)
        k = u.detach().floor().long()
        return PairFilters(False, r, self.filter_grid, k, u - k.to(u.dtype))

    def layers(self, batch: Batch) -> list[torch.Tensor]:
        """The layer-wise atom features [x⁽⁰⁾, …, x⁽ᵀ⁾] of a batch, each (n_atoms, n_features): what
        :meth:`probe` needs."""
        self.check_elements(batch.Z)
        filters = self.pair_filters(pair_vectors(batch.R, batch.pairs).norm(dim=-1))
        index = PairIndex(batch.idx_i, batch.idx_j, batch.Z.numel(), batch.Z.numel())
        x = self.embedding(batch.Z)
        layers = [x]
        for block in self.interactions:
            x = x + block(x, filters, index)
            layers.append(x)
        return layers

    def forward(self, batch: Batch, features: None = None) -> dict:
        """Atom features and atom-wise scalars of a batch.

        Args:
            features: the representation contract's precomputed inputs; SchNet has none
                (:meth:`cached_features` is None), so only None is accepted.

        Returns:
            ``{"representation": x⁽ᵀ⁾ (n_atoms, n_features), "y": y_i (n_atoms,)}``.
        """
        if features is not None:
            raise ValueError("SchNet computes its inputs from the batch: features must be None")
        x = self.layers(batch)[-1]
        return {"representation": x, "y": self.readout(x).squeeze(-1)}

    def probe(self, layers: list[torch.Tensor], probe_Z: torch.Tensor, probe_pairs: Pairs,
              probe_R: torch.Tensor, molecule_R: torch.Tensor) -> dict:
        """Probe atoms that feel the molecule without acting back on it: their features and scalars.

        x_p⁽ᵗ⁺¹⁾ = x_p⁽ᵗ⁾ + v⁽ᵗ⁾(x_j⁽ᵗ⁾ of molecule atoms j, r_pj); the molecule's own layers are unchanged.

        Args:
            layers: the molecule's layer-wise features from :meth:`layers`.
            probe_Z: element of every probe, (n_probes,).
            probe_pairs: ``idx_i`` = probe, ``idx_j`` = molecule atom, for pairs within the cutoff.
            probe_R, molecule_R: positions in Å.

        Returns:
            ``{"representation": x_p⁽ᵀ⁾ (n_probes, n_features), "y": y_p (n_probes,)}``, as :meth:`forward`.
        """
        self.check_elements(probe_Z)
        filters = self.pair_filters((molecule_R[probe_pairs.idx_j] - probe_R[probe_pairs.idx_i]).norm(dim=-1))
        index = PairIndex(probe_pairs.idx_i, probe_pairs.idx_j, probe_Z.numel(), layers[0].shape[0])
        x = self.embedding(probe_Z)
        for block, x_mol in zip(self.interactions, layers[:-1]):
            x = x + block(x_mol, filters, index)
        return {"representation": x, "y": self.readout(x).squeeze(-1)}
