"""An atomistic model = representation (SchNet or BP) + atom-wise scalar + a physical head.

``AtomisticModel(batch)`` returns a dict with the molecular prediction (``energy_kcal`` or
``dipole_debye``), the latent per-atom quantity (``atomic_energy_kcal`` or ``charge_e``), the atom
``representation`` and, for dipole models, ``dipole_vector_debye``.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ..batch import Batch
from .acsf import ACSFParameters
from .bp import BehlerParrinello
from .heads import ENERGY_PARTITIONS, HEADS, DipoleHead, EnergyHead
from .schnet import SchNet

DEFAULT_CONFIG = {
    "schnet": {"n_features": 128, "n_filters": 128, "n_interactions": 6, "cutoff": 5.0, "n_rbf": 51,
               "rbf_gamma": 10.0, "filter_grid_spacing": 0.005, "embedding_std": 1.0, "readout_hidden": [64]},
    "bp": {"hidden": [256, 128], "acsf": ACSFParameters().as_dict()},
}


LEGACY_ENERGY_PARTITION = "element"
"""Partition of energy models whose configuration predates the option (all of them used per-element baselines)."""


def model_config(model: str, target: str, energy_partition: str = "atom", **overrides) -> dict:
    """Full configuration of a model kind ("schnet" or "bp") for a target ("energy" or "dipole").

    Args:
        energy_partition: "atom" (the paper's) or "element" (per-element baselines), energy models only.
        overrides: architecture options replacing the defaults of ``model``.
    """
    if model not in DEFAULT_CONFIG:
        raise ValueError(f"unknown model {model!r}; expected one of {sorted(DEFAULT_CONFIG)}")
    if target not in HEADS:
        raise ValueError(f"unknown target {target!r}; expected one of {sorted(HEADS)}")
    arch = copy.deepcopy(DEFAULT_CONFIG[model])
    unknown = set(overrides) - set(arch)
    if unknown:
        raise ValueError(f"unknown {model} option(s) {sorted(unknown)}; valid: {sorted(arch)}")
    arch.update(overrides)
    config = {"model": model, "target": target, "architecture": arch}
    if target == "energy":
        if energy_partition not in ENERGY_PARTITIONS:
            raise ValueError(f"unknown energy partition {energy_partition!r}; expected one of {ENERGY_PARTITIONS}")
        config["energy_partition"] = energy_partition
    return config


def _schnet(arch: dict):
    """SchNet (with its atom-wise network features → y_i) and its cutoff in Å."""
    return SchNet(**arch), arch["cutoff"]


def _behler_parrinello(arch: dict):
    """Behler–Parrinello networks (their element networks end in y_i) and the ACSF cutoff in Å."""
    representation = BehlerParrinello(hidden=tuple(arch["hidden"]), acsf=ACSFParameters.from_dict(arch["acsf"]))
    params = representation.acsf.params
    return representation, max(params.radial_cutoff, params.angular_cutoff)


REPRESENTATIONS = {"schnet": _schnet, "bp": _behler_parrinello}
"""Model kind → builder of (representation, cutoff in Å) from its architecture options. Every representation
keeps one contract: ``forward(batch, features=None)`` → ``{"representation": (n_atoms, F), "y": (n_atoms,)}``
(``features``: what its ``cached_features`` precomputed, or None), ``fit_statistics``, ``cached_features`` and
``unused_parameters_possible``."""

LEGACY_KEYS = {"readout.": "representation.readout."}
"""State-dict key prefixes of checkpoints written before SchNet held its atom-wise network → today's."""


def upgrade_legacy_keys(state_dict, prefix, *args):
    """``load_state_dict`` pre-hook (and for any raw checkpoint state dict, with ``prefix=""``): rename the keys of
    older checkpoints in place (same tensors, same order of
    parameters, so optimizer states written with them still fit)."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        for old, new in LEGACY_KEYS.items():
            if key.startswith(prefix + old):
                state_dict[prefix + new + key[len(prefix + old):]] = state_dict.pop(key)


class AtomisticModel(nn.Module):
    """Representation → per-atom scalar y_i → head (energy sum or latent-charge dipole)."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = copy.deepcopy(config)
        self.representation, self.cutoff = REPRESENTATIONS[config["model"]](dict(config["architecture"]))
        if config["target"] == "energy":
            self.head: EnergyHead | DipoleHead = EnergyHead(partition=self.energy_partition)
        else:
            self.head = HEADS[config["target"]]()
        self._register_load_state_dict_pre_hook(upgrade_legacy_keys)

    @property
    def kind(self) -> str:
        return self.config["model"]

    @property
    def energy_partition(self) -> str | None:
        """"atom" (the paper's) or "element" for QM9 energy models, None for other targets."""
        if self.config["target"] != "energy":
            return None
        return self.config.get("energy_partition", LEGACY_ENERGY_PARTITION)

    @property
    def target(self) -> str:
        return self.head.target

    @property
    def latent(self) -> str:
        return self.head.latent

    def forward(self, batch: Batch, features: torch.Tensor | None = None) -> dict:
        """Prediction, latent per-atom quantity and representation; ``features``: what the representation's
        ``cached_features`` precomputed for these atoms (BP's symmetry functions), or None."""
        out = self.representation(batch, features)
        out.update(self.head(out.pop("y"), batch))
        return out
