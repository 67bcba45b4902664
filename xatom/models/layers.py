"""Building blocks shared by the models: activation, radial basis, cutoff, dense layers."""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

_LOG2 = math.log(2.0)


def shifted_softplus(x: torch.Tensor) -> torch.Tensor:
    """ssp(x) = ln(1 + eˣ) − ln 2, SchNet's activation (zero at x = 0)."""
    return F.softplus(x) - _LOG2


class ShiftedSoftplus(nn.Module):
    def forward(self, x):
        return shifted_softplus(x)


def mlp(n_in: int, hidden: list[int], n_out: int) -> nn.Sequential:
    """Dense layers with shifted softplus between them (none after the last)."""
    sizes = [n_in, *hidden, n_out]
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), ShiftedSoftplus()]
    return nn.Sequential(*layers[:-1])


class GaussianRBF(nn.Module):
    """Gaussian radial basis exp(−γ (r − μ_k)²) with centres μ_k evenly spaced on [0, cutoff].

    Args:
        n_rbf: number of Gaussians.
        cutoff: last centre in Å.
        gamma: width parameter γ in Å⁻².
    """

    def __init__(self, n_rbf: int, cutoff: float, gamma: float):
        super().__init__()
        self.register_buffer("centers", torch.linspace(0.0, cutoff, n_rbf))
        self.gamma = gamma

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return torch.exp(-self.gamma * (r[..., None] - self.centers) ** 2)


class CosineCutoff(nn.Module):
    """f(r) = ½ (cos(π r / r_c) + 1) for r < r_c, else 0: smooth (zero value and slope) at r_c (Å)."""

    def __init__(self, cutoff: float):
        super().__init__()
        self.cutoff = cutoff

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return 0.5 * (torch.cos(r * (math.pi / self.cutoff)) + 1.0) * (r < self.cutoff).to(r.dtype)
