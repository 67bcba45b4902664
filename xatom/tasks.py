"""The prediction tasks: one entry per target, read by the configuration, the CLI, the zoo, training, evaluation,
the domain check and the reports. Adding a target is one entry here plus its head in :mod:`xatom.models.heads`.

Each :class:`Task` says what a model of that target predicts (the molecular output key, which is also the data
set's attribute of the reference values), which per-atom latent quantity explains it, its unit and how many
digits a table shows.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    """One target.

    Args:
        name: the configuration's and the CLI's name (``TrainingConfig.target``, ``--target``).
        zoo_name: its part of a zoo model name (``schnet-<zoo_name>-fold0``).
        dataset: the data set it trains on: "qm9" or "crystals".
        key: the model's output key and the data set's attribute holding the reference values.
        latent: the per-atom output key whose sum (energy) or dipole (charges) gives ``key``.
        unit: of ``key`` and ``latent``-derived quantities, as printed.
        digits: decimals of an MAE in a table.
        label: a few words for tables and plots.
    """

    name: str
    zoo_name: str
    dataset: str
    key: str
    latent: str
    unit: str
    digits: int
    label: str


TASKS = {task.name: task for task in (
    Task("energy", "energy", "qm9", "energy_kcal", "atomic_energy_kcal", "kcal/mol", 2, "energy"),
    Task("dipole", "dipole", "qm9", "dipole_debye", "charge_e", "D", 3, "dipole moment"),
    Task("formation_energy", "crystals", "crystals", "formation_energy_ev_per_atom", "atomic_energy_ev", "eV/atom", 3,
         "formation energy per atom"),
)}
"""Task name → :class:`Task`."""


def task(name: str) -> Task:
    """The task of a configuration's target name ("energy", "dipole", "formation_energy")."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown target {name!r}; expected one of {sorted(TASKS)}") from None


def task_of_key(key: str) -> Task:
    """The task whose model output key is ``key`` (e.g. a loaded model's ``target``, "dipole_debye")."""
    for candidate in TASKS.values():
        if candidate.key == key:
            return candidate
    raise ValueError(f"no task predicts {key!r}; known outputs: {sorted(t.key for t in TASKS.values())}")


def task_of_zoo_name(zoo_name: str) -> Task:
    """The task named by the second part of a zoo model name ("crystals" → formation energy)."""
    for candidate in TASKS.values():
        if candidate.zoo_name == zoo_name:
            return candidate
    raise ValueError(f"no task is called {zoo_name!r} in model names; known: "
                     f"{sorted(t.zoo_name for t in TASKS.values())}")
