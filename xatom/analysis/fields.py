"""A scalar field around one molecule, computed once: on a 3D box, on cut planes and on isosurfaces.

The notebooks show two fields (kcal/mol): the local chemical potential Ω of a probe atom (:mod:`.probe`,
paper Eq. 4) and the electrostatic potential of latent charges (:mod:`.esp`, paper Eq. 5).
:class:`MolecularField` holds one of them as a function of points (Å) on a :class:`SurroundingGrid` and
keeps what is costly to make again: the values on the whole box and on each isosurface. The explorers of
:mod:`xatom.viz.widgets` and notebook 08 only choose a field and draw it (:mod:`xatom.viz.fields`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .esp import electrostatic_potential
from .grids import Grid, box_grid, molecular_plane, proximity, surface_field, surface_isovalue
from .probe import LocalChemicalPotential


@dataclass(frozen=True)
class SurroundingGrid:
    """The 3D box around a molecule and Σ_i ‖r − r_i‖⁻² (Å⁻²) on its points, whose level sets are the
    molecular surfaces the fields are drawn on.

    Args:
        box: the grid (Å).
        proximity: ``(box.n_points,)`` values of Σ_i ‖r − r_i‖⁻² in Å⁻².
    """

    box: Grid
    proximity: np.ndarray

    @classmethod
    def around(cls, positions, spacing: float = 0.25, margin: float = 2.5) -> "SurroundingGrid":
        """The box ``margin`` Å beyond the atoms at ``positions`` (Å), ``spacing`` Å between points (0.25 Å:
        ~10⁵ points for a QM9 molecule)."""
        box = box_grid(positions, spacing, margin=margin)
        return cls(box, proximity(box.points(), positions))


def isovalue_for(molecule, step: float = 0.25) -> float:
    """Σ‖r − r_i‖⁻² on the molecule's atomic-sphere surface (:func:`~xatom.analysis.grids.surface_isovalue`)
    rounded to ``step`` Å⁻²: the isosurface a field is first shown on."""
    return round(surface_isovalue([molecule]) / step) * step


@dataclass
class MolecularField:
    """One field around one molecule.

    Args:
        molecule: the :class:`~xatom.molecule.Molecule` (positions in Å).
        evaluate: ``evaluate(points)`` → field values in kcal/mol at ``(n, 3)`` points in Å.
        grid: the box and surface function around ``molecule``.
        label: the field's name with its unit, for colour bars (matplotlib mathtext).
    """

    molecule: object
    evaluate: Callable[[np.ndarray], np.ndarray]
    grid: SurroundingGrid
    label: str
    _volume: np.ndarray | None = field(default=None, init=False, repr=False)
    _on_surfaces: dict = field(default_factory=dict, init=False, repr=False)

    def __call__(self, points) -> np.ndarray:
        """The field at ``(n, 3)`` points (Å), kcal/mol."""
        return self.evaluate(np.asarray(points, dtype=np.float64).reshape(-1, 3))

    def volume(self) -> np.ndarray:
        """The field on every point of the box (``(box.n_points,)``, kcal/mol), computed once."""
        if self._volume is None:
            self._volume = self(self.grid.box.points())
        return self._volume

    def cut(self, offset: float = 0.0, n: int = 80) -> tuple[Grid, np.ndarray]:
        """(plane grid, field values in kcal/mol) on the molecular plane shifted by ``offset`` Å along its
        normal, ``n`` × ``n`` points."""
        plane = molecular_plane(self.molecule.positions, n=n, offset=offset)
        return plane, self(plane.points())

    def on_surface(self, isovalue: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vertices in Å, triangles, field at each triangle's centre in kcal/mol) of the surface where
        Σ‖r − r_i‖⁻² = ``isovalue`` Å⁻², sampled from :meth:`volume`; computed once per isovalue."""
        if isovalue not in self._on_surfaces:
            self._on_surfaces[isovalue] = surface_field(self.grid.box, self.grid.proximity, self.volume(), isovalue)
        return self._on_surfaces[isovalue]


def omega_label(probe: str) -> str:
    """Colour-bar label of Ω for a probe element symbol (matplotlib mathtext)."""
    return rf"$\Omega_\mathrm{{{probe}}} - \Omega_\mathrm{{{probe}}}(\infty)$ (kcal/mol)"


ESP_LABEL = "ESP, +1 e probe (kcal/mol)"


def omega_field(potential: LocalChemicalPotential, probe: str, grid: SurroundingGrid) -> MolecularField:
    """Ω of a probe element (symbol) around ``potential``'s molecule, relative to the probe far away."""
    return MolecularField(potential.molecule, lambda points: potential(points, probe), grid, omega_label(probe))


def esp_field(molecule, charges, grid: SurroundingGrid) -> MolecularField:
    """The electrostatic potential of latent ``charges`` (e, one per atom of ``molecule``) felt by +1 e."""
    positions = molecule.positions
    return MolecularField(molecule, lambda points: electrostatic_potential(points, positions, charges), grid,
                          ESP_LABEL)
