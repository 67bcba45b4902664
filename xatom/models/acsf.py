"""Atom-centred symmetry functions (ACSFs; Behler 2011; paper section 2.1), vectorised and differentiable.

For a centre atom i with neighbours j, k (all sums run over atoms within the cutoff):

* radial, one block per neighbour element (Eq. 1):
      G_rad(i; η, r_s) = Σ_j exp(−η (r_ij − r_s)²) f_c(r_ij)
* angular, one block per unordered neighbour-element pair:
      G_ang(i; ζ, λ, η, r_s) = 2^(1−ζ) Σ_{j<k} (1 + λ cos θ_ijk)^ζ exp(−η ((r_ij + r_ik)/2 − r_s)²) f_c(r_ij) f_c(r_ik)
  (Behler's angular function with the radial part centred on the mean distance, as in ANI, so that
  one set of centres resolves environments with unequal bond lengths).

f_c is the cosine cutoff. Default parameters, chosen for QM9 (bond lengths 0.96–1.6 Å, second
neighbours ≤ 3 Å):

* radial: cutoff 5.0 Å (as SchNet), 20 centres r_s evenly on [0.8, 5.0] Å, η = 1/(2Δ²) with Δ their
  spacing (0.22 Å, η ≈ 10.2 Å⁻²): neighbouring Gaussians overlap at about half height;
* angular: cutoff 4.0 Å (covers second neighbours, cheaper than 5 Å: triples grow as the cube of it),
  r_s ∈ {1.2, 1.9, 2.6, 3.3} Å with η = 3 Å⁻², ζ ∈ {1, 2, 4, 8} (increasingly sharp angular
  resolution), λ = ±1 (peaks at 0° and 180°).

With the 5 QM9 elements: 5 × 20 radial + 15 × 32 angular = 580 features per atom.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..batch import Batch
from ..errors import UnknownElementError
from ..neighbors import pair_vectors
from .kernels import kernels
from .layers import CosineCutoff


@dataclass
class ACSFParameters:
    """Hyper-parameters of the symmetry functions (lengths in Å, η in Å⁻²)."""

    elements: tuple = (1, 6, 7, 8, 9)
    radial_cutoff: float = 5.0
    radial_centers: tuple = tuple(0.8 + k * (5.0 - 0.8) / 19 for k in range(20))
    radial_eta: float = 1.0 / (2 * ((5.0 - 0.8) / 19) ** 2)
    angular_cutoff: float = 4.0
    angular_centers: tuple = (1.2, 1.9, 2.6, 3.3)
    angular_eta: float = 3.0
    zetas: tuple = (1.0, 2.0, 4.0, 8.0)
    lambdas: tuple = (1.0, -1.0)

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "ACSFParameters":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


class ACSF(nn.Module):
    """Symmetry-function features of every atom of a batch, (n_atoms, n_features).

    Feature layout: [radial block of element e₀, …, e₄ | angular block of pair (e₀,e₀), (e₀,e₁), …]; inside an
    angular block the index runs over (ζ, λ, r_s), r_s fastest.
    """

    def __init__(self, params: ACSFParameters | None = None):
        super().__init__()
        p = params or ACSFParameters()
        self.params = p
        n_el = len(p.elements)
        species = torch.full((max(p.elements) + 1,), -1, dtype=torch.long)
        species[list(p.elements)] = torch.arange(n_el)
        self.register_buffer("species_of_z", species, persistent=False)
        pair = torch.zeros(n_el, n_el, dtype=torch.long)
        k = 0
        for a in range(n_el):
            for b in range(a, n_el):
                pair[a, b] = pair[b, a] = k
                k += 1
        self.register_buffer("pair_index", pair, persistent=False)
        self.n_pairs = k
        self.register_buffer("radial_centers", torch.tensor(p.radial_centers), persistent=False)
        self.register_buffer("angular_centers", torch.tensor(p.angular_centers), persistent=False)
        self.n_angular_per_pair = len(p.zetas) * len(p.lambdas) * len(p.angular_centers)
        self.radial_cut, self.angular_cut = CosineCutoff(p.radial_cutoff), CosineCutoff(p.angular_cutoff)
        self.n_radial = n_el * len(p.radial_centers)
        self.n_angular = self.n_pairs * self.n_angular_per_pair

    @property
    def n_features(self) -> int:
        return self.n_radial + self.n_angular

    def species(self, Z: torch.Tensor) -> torch.Tensor:
        """Index 0 … n_elements−1 of each atom's element; unknown elements raise."""
        s = self.species_of_z[Z.clamp(0, self.species_of_z.numel() - 1)]
        bad = (s < 0) | (Z >= self.species_of_z.numel())
        if bad.any():
            raise UnknownElementError(f"these symmetry functions are defined for atomic numbers "
                                      f"{list(self.params.elements)}, got {sorted(set(Z[bad].tolist()))}")
        return s

    def forward(self, batch: Batch) -> torch.Tensor:
        s = self.species(batch.Z)
        needs_grad = torch.is_grad_enabled() and batch.R.requires_grad
        if (not needs_grad and batch.R.device.type == "cpu" and batch.R.dtype == torch.float32
                and batch.offsets is None and _sorted(batch.idx_i)):
            ext = kernels()
            if ext is not None:
                p = self.params
                ptr = torch.zeros(batch.Z.numel() + 1, dtype=torch.long)
                ptr[1:] = torch.cumsum(torch.bincount(batch.idx_i, minlength=batch.Z.numel()), 0)
                return ext.acsf_forward(batch.R.contiguous(), s, batch.idx_j, ptr, p.radial_cutoff,
                                        self.radial_centers, p.radial_eta, p.angular_cutoff, self.angular_centers,
                                        p.angular_eta, torch.tensor(p.zetas, dtype=torch.float32),
                                        torch.tensor(p.lambdas, dtype=torch.float32), self.pair_index,
                                        len(p.elements))
        return self.features_torch(batch, s)

    def features_torch(self, batch: Batch, s: torch.Tensor) -> torch.Tensor:
        """The differentiable pure-torch computation (the C++ kernel computes the same, forward only)."""
        n_atoms = batch.Z.numel()
        vec = pair_vectors(batch.R, batch.pairs)
        r = vec.norm(dim=-1)
        i, j = batch.idx_i, batch.idx_j
        n_rad = self.radial_centers.numel()
        # radial: (n_pairs, n_rad) scattered into rows (i, species of j)
        g = torch.exp(-self.params.radial_eta * (r[:, None] - self.radial_centers) ** 2) * self.radial_cut(r)[:, None]
        radial = torch.zeros(n_atoms * len(self.params.elements), n_rad, dtype=g.dtype, device=g.device)
        radial.index_add_(0, i * len(self.params.elements) + s[j], g)
        # angular: triples (i; j, k) with j < k among the neighbours of i within the angular cutoff
        near = r < self.params.angular_cutoff
        ia, ja, va, ra = i[near], j[near], vec[near], r[near]
        p1, p2 = _pairs_of_same_centre(ia, n_atoms)
        cos = (va[p1] * va[p2]).sum(-1) / (ra[p1] * ra[p2])
        # the angular term 2^(1−ζ)(1 + λ cos θ)^ζ and the radial term factorise: (n_triples, ζ·λ) ⊗ (n_triples, r_s)
        lam = torch.tensor(self.params.lambdas, dtype=cos.dtype, device=cos.device)
        base = (1.0 + lam * cos[:, None]).clamp(min=0.0)
        angle = torch.cat([2.0 ** (1.0 - z) * base.pow(z) for z in self.params.zetas], dim=1)
        mean_r = 0.5 * (ra[p1] + ra[p2])
        fc = self.angular_cut(ra[p1]) * self.angular_cut(ra[p2])
        radial_part = torch.exp(-self.params.angular_eta * (mean_r[:, None] - self.angular_centers) ** 2) * fc[:, None]
        ang = (angle[:, :, None] * radial_part[:, None, :]).flatten(1)
        angular = torch.zeros(n_atoms * self.n_pairs, self.n_angular_per_pair, dtype=g.dtype, device=g.device)
        angular.index_add_(0, ia[p1] * self.n_pairs + self.pair_index[s[ja[p1]], s[ja[p2]]], ang)
        return torch.cat([radial.view(n_atoms, -1), angular.view(n_atoms, -1)], dim=1)


def _sorted(idx: torch.Tensor) -> bool:
    return idx.numel() < 2 or not bool((idx[1:] < idx[:-1]).any())


def _pairs_of_same_centre(centre: torch.Tensor, n_atoms: int):
    """For pairs sorted by centre, all index combinations (p1, p2), p1 < p2, that share a centre."""
    if not _sorted(centre):
        order = torch.argsort(centre, stable=True)
        p1, p2 = _pairs_of_same_centre(centre[order], n_atoms)
        return order[p1], order[p2]
    counts = torch.bincount(centre, minlength=n_atoms)
    starts = torch.cumsum(counts, 0) - counts
    sq = counts * counts
    owner = torch.repeat_interleave(torch.arange(n_atoms, device=centre.device), sq)
    local = torch.arange(int(sq.sum()), device=centre.device) - torch.repeat_interleave(torch.cumsum(sq, 0) - sq, sq)
    c = counts[owner]
    a, b = local // c, local % c
    keep = a < b
    return (starts[owner] + a)[keep], (starts[owner] + b)[keep]
