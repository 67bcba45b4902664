"""Pictures of 3D fields around a molecule (local chemical potential Ω, electrostatic potential).

* :func:`plane_contours`: a cut plane as a filled contour plot, negative levels dashed, atoms near the
  plane drawn on top (matplotlib, static).
* :func:`isosurface_figure`: the isosurface of one field (e.g. Σ_i ‖r − r_i‖⁻²) coloured by another
  (Ω or ESP), drawn with matplotlib from a marching-cubes mesh (static: GitHub, nbval, HTML report).
* :func:`surface_and_cut_figure`: Figure 5's layout for several molecules, one colour range per row.
* :func:`isosurface_view`: the same as an interactive py3Dmol view (3Dmol.js colours the isosurface of
  one cube volume by the values of another).

Colours: blue = positive, red = negative, white = zero, on a range symmetric about zero.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..analysis.grids import Grid, principal_axes, surface_field
from ..molecule import Molecule
from .cube import cube_text

ATOM_COLOURS = {1: "white", 6: "0.35", 7: "tab:blue", 8: "tab:red", 9: "tab:green", 16: "gold", 17: "lime"}
CMAP = "RdBu"


def symmetric_limit(values, quantile: float = 0.98) -> float:
    """A colour limit v such that [−v, v] holds the given quantile of |values|."""
    values = np.asarray(values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    return float(np.quantile(finite, quantile)) if finite.size else 1.0


def plane_contours(grid: Grid, values, molecule: Molecule, label: str, ax=None, limit: float | None = None,
                   n_levels: int = 17, atom_window: float = 1.0, title: str | None = None, colorbar: bool = True):
    """Filled contours of a field on a 2D grid, contour lines dashed where negative.

    Args:
        grid: a 2D :class:`~xatom.analysis.grids.Grid` (e.g. :func:`~xatom.analysis.grids.molecular_plane`).
        values: the field at ``grid.points()``, any shape with ``grid.n_points`` entries.
        molecule: drawn as dots where atoms lie within ``atom_window`` Å of the plane.
        label: colour-bar label with the unit, e.g. ``"Ω_C (kcal/mol)"``.
        limit: colour range ±limit (default: 98th percentile of |values|).
        colorbar: draw the panel's own colour bar (off where one bar serves a row of panels).
    """
    if len(grid.shape) != 2:
        raise ValueError("plane_contours needs a 2D grid")
    values = np.asarray(values, dtype=float).reshape(grid.shape)
    limit = symmetric_limit(values) if limit is None else float(limit)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 4.0))
    u, v = grid.coordinates()
    levels = np.linspace(-limit, limit, n_levels)
    clipped = np.clip(values, -limit, limit)
    filled = ax.contourf(u, v, clipped.T, levels=levels, cmap=CMAP, extend="neither")
    ax.contour(u, v, clipped.T, levels=levels[::2], colors="k", linewidths=0.4, negative_linestyles="dashed")
    unit = grid.axes / grid.spacing[:, None]
    rel = molecule.positions - grid.origin
    normal = np.cross(unit[0], unit[1])
    near = np.abs(rel @ normal) < atom_window
    xy = rel[near] @ unit.T
    ax.scatter(xy[:, 0], xy[:, 1], s=[60 if z > 1 else 25 for z in molecule.numbers[near]],
               c=[ATOM_COLOURS.get(int(z), "purple") for z in molecule.numbers[near]], edgecolors="k", zorder=3)
    ax.set_aspect("equal")
    ax.set_xlabel("x in plane (Å)")
    ax.set_ylabel("y in plane (Å)")
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar:
        (fig or ax.figure).colorbar(filled, ax=ax, label=label, shrink=0.85, ticks=MaxNLocator(5))
    return fig or ax.figure


def surface_and_cut_figure(molecules: dict, boxes: dict, planes: dict, isovalue: float, label: str,
                           dpi: int = 150, column_width: float = 3.1):
    """Figure 5's layout: one column per molecule, its isosurface coloured by the field above its cut plane.

    Each row has one colour range for all molecules (the 98th percentile of |field| over the row's surfaces, or
    over its cuts) and one colour bar, so colours compare across molecules.

    Args:
        molecules: name → :class:`~xatom.molecule.Molecule`.
        boxes: name → (3D grid, Σ‖r − r_i‖⁻² on it in Å⁻², field on it).
        planes: name → (2D grid, field on it).
        isovalue: of Σ‖r − r_i‖⁻², Å⁻².
        label: colour-bar label with the field's unit.

    Returns:
        (figure, the cut axes by name, (surface limit, cut limit)).
    """
    from matplotlib import cm, colors

    surface_limit = symmetric_limit(np.concatenate(
        [surface_field(box, surface, field, isovalue)[2] for box, surface, field in boxes.values()]))
    cut_limit = symmetric_limit(np.concatenate([np.ravel(values) for _, values in planes.values()]))
    n = len(molecules)
    fig = plt.figure(figsize=(column_width * n + 1.0, 2 * column_width + 0.4), dpi=dpi)
    top = [fig.add_subplot(2, n, k + 1, projection="3d") for k in range(n)]
    bottom = [fig.add_subplot(2, n, n + k + 1) for k in range(n)]
    for k, (name, mol) in enumerate(molecules.items()):
        box, surface, field = boxes[name]
        isosurface_figure(mol, box, surface, field, isovalue, label, limit=surface_limit, ax=top[k], title=name,
                          colorbar=False)
        plane, values = planes[name]
        plane_contours(plane, values, mol, label, ax=bottom[k], limit=cut_limit, colorbar=False)
        if k:
            bottom[k].set_ylabel("")
    fig.subplots_adjust(left=0.05, right=0.9, wspace=0.3, hspace=0.15)
    cmap = plt.get_cmap(CMAP)
    for axes, limit, where in ((top, surface_limit, "surface"), (bottom, cut_limit, "cut")):
        bar = fig.colorbar(cm.ScalarMappable(colors.Normalize(-limit, limit), cmap), ax=axes, shrink=0.8,
                           pad=0.015, ticks=MaxNLocator(5))
        bar.set_label(f"{label}\n{where}", fontsize=9)
    return fig, dict(zip(molecules, bottom)), (surface_limit, cut_limit)


def isosurface_figure(molecule: Molecule, grid: Grid, surface_values, colour_values, isovalue: float, label: str,
                      limit: float | None = None, ax=None, title: str | None = None, view=(35, -60),
                      colorbar: bool = True):
    """Static 3D picture: isosurface of ``surface_values`` coloured by ``colour_values`` (both on ``grid``).

    Drawn in the molecule's principal-axes frame (its best plane horizontal), seen from elevation/azimuth
    ``view`` in degrees, so every molecule is shown the same way whatever its orientation in the file.
    """
    from matplotlib import cm, colors
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    verts, faces, on_faces = surface_field(grid, surface_values, colour_values, isovalue)
    limit = symmetric_limit(on_faces) if limit is None else float(limit)
    norm = colors.Normalize(-limit, limit)
    cmap = plt.get_cmap(CMAP)
    fig = None
    if ax is None:
        fig = plt.figure(figsize=(4.6, 4.2))
        ax = fig.add_subplot(projection="3d")
    centre, frame = principal_axes(molecule.positions)
    verts = (verts - centre) @ frame.T
    mesh = Poly3DCollection(verts[faces], facecolors=cmap(norm(on_faces)), edgecolor="none", alpha=0.9)
    ax.add_collection3d(mesh)
    R = (molecule.positions - centre) @ frame.T
    ax.scatter(*R.T, s=[50 if z > 1 else 20 for z in molecule.numbers],
               c=[ATOM_COLOURS.get(int(z), "purple") for z in molecule.numbers], edgecolors="k", depthshade=False)
    low, high = verts.min(0), verts.max(0)
    for setter, a, b in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), low, high):
        setter(a, b)
    ax.set_box_aspect(np.maximum(high - low, 1e-3), zoom=1.05)  # equal scale on all axes, box fitted to the surface
    ax.view_init(*view)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar:
        (fig or ax.figure).colorbar(cm.ScalarMappable(norm, cmap), ax=ax, label=label, shrink=0.6, pad=0.02)
    return fig or ax.figure


def isosurface_view(molecule: Molecule, grid: Grid, surface_values, colour_values, isovalue: float,
                    limit: float, width: int = 360, height: int = 300, opacity: float = 0.85, picture=None):
    """Interactive py3Dmol view: isosurface of ``surface_values`` coloured by ``colour_values`` in [−limit, limit];
    ``picture`` (a matplotlib figure, e.g. :func:`isosurface_figure`) is shown where the browser cannot draw it."""
    from .view3d import View

    view = View(width=width, height=height, picture=picture)
    view.addModel(molecule.to_xyz(), "xyz")
    view.setStyle({"stick": {"radius": 0.12}, "sphere": {"scale": 0.22}})
    view.addVolumetricData(cube_text(molecule, grid, surface_values), "cube",
                           {"isoval": float(isovalue), "opacity": opacity, "voldata": cube_text(molecule, grid, colour_values),
                            "volformat": "cube", "volscheme": {"gradient": "rwb", "min": -float(limit), "max": float(limit)}})
    view.zoomTo()
    return view
