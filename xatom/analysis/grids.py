"""Regular grids of points around a molecule: 3D boxes and 2D cut planes, positions in Å.

A :class:`Grid` is an origin plus one step vector per axis, so points are
``origin + i·axes[0] + j·axes[1] (+ k·axes[2])``. Grids turn with the molecule: rotate the origin and
the step vectors, and every point lands on the rotated point (this is how the invariance of a field is
checked). Values on a grid come as arrays of shape ``grid.shape`` (C order: the last axis runs fastest),
the layout of Gaussian cube files. Isosurfaces of a field on a grid (marching cubes) and values sampled on them
(trilinear) are computed here too; :mod:`xatom.viz.fields` only draws them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GridError, NonFiniteError, ShapeError

MAX_GRID_POINTS = 20_000_000
"""Most points a grid may have (their coordinates alone take 480 MB); a finer grid is refused by name."""

MIN_SPACING_ANGSTROM = 1e-6
"""Shortest step vector of a grid in Å; shorter (or zero) steps are refused."""


@dataclass(frozen=True)
class Grid:
    """A regular 2D or 3D grid.

    Args:
        origin: position of the first point in Å, (3,).
        axes: step vector of each grid axis in Å, (n_dims, 3).
        shape: number of points along each axis, (n_dims,).
    """

    origin: np.ndarray
    axes: np.ndarray
    shape: tuple[int, ...]

    def __post_init__(self):
        origin = np.asarray(self.origin, dtype=np.float64)
        axes = np.atleast_2d(np.asarray(self.axes, dtype=np.float64))
        shape = tuple(int(n) for n in self.shape)
        if origin.shape != (3,) or axes.shape[1:] != (3,) or len(shape) != axes.shape[0] or len(shape) not in (2, 3):
            raise ShapeError(f"a grid needs origin (3,), axes (2 or 3, 3) and one size per axis; got origin "
                             f"{origin.shape}, axes {axes.shape}, shape {shape}")
        if min(shape) < 1:
            raise ShapeError(f"grid sizes must be positive, got {shape}")
        if not (np.isfinite(origin).all() and np.isfinite(axes).all()):
            raise NonFiniteError("grid origin or axes contain NaN or infinite values")
        steps = np.linalg.norm(axes, axis=1)
        if steps.min() < MIN_SPACING_ANGSTROM:
            raise GridError(f"grid spacing must be at least {MIN_SPACING_ANGSTROM} Å along every axis, got step "
                            f"lengths {steps.tolist()} Å")
        singular = np.linalg.svd(axes / steps[:, None], compute_uv=False)
        if singular.min() < 1e-9:
            raise GridError(f"grid axes must be linearly independent, got {axes.tolist()} (Å)")
        n_points = math.prod(shape)
        if n_points > MAX_GRID_POINTS:
            raise GridError(f"a grid of shape {shape} (step lengths {np.round(steps, 8).tolist()} Å) has {n_points} "
                            f"points; at most {MAX_GRID_POINTS:,} are allowed: use a coarser spacing or a smaller box")
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "shape", shape)

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    @property
    def spacing(self) -> np.ndarray:
        """Length of each step vector in Å."""
        return np.linalg.norm(self.axes, axis=1)

    def points(self) -> np.ndarray:
        """All grid points in Å, (n_points, 3), last axis fastest."""
        index = np.indices(self.shape).reshape(len(self.shape), -1).T
        return self.origin + index @ self.axes

    def coordinates(self) -> list[np.ndarray]:
        """Distance in Å along each axis from the origin (for plotting a plane as x/y)."""
        return [np.arange(n) * s for n, s in zip(self.shape, self.spacing)]

    def rotated(self, rotation: np.ndarray, center=np.zeros(3)) -> "Grid":
        """The grid turned by the rotation matrix about ``center`` (Å), as a molecule's positions R·(x − c) + c."""
        rotation = np.asarray(rotation, dtype=np.float64)
        center = np.asarray(center, dtype=np.float64)
        return Grid((self.origin - center) @ rotation.T + center, self.axes @ rotation.T, self.shape)


def box_grid(positions, spacing: float = 0.2, margin: float = 3.0) -> Grid:
    """A 3D box aligned with the coordinate axes around ``positions`` (Å), ``margin`` Å beyond every atom."""
    positions = _positions(positions)
    if not (np.isfinite(spacing) and spacing > 0 and np.isfinite(margin) and margin >= 0):
        raise GridError(f"box_grid: spacing must be finite and > 0, margin finite and ≥ 0 (Å), "
                        f"got spacing {spacing}, margin {margin}")
    low, high = positions.min(0) - margin, positions.max(0) + margin
    shape = tuple(int(np.ceil((h - l) / spacing)) + 1 for l, h in zip(low, high))
    return Grid(low, np.eye(3) * spacing, shape)


def principal_axes(positions) -> tuple[np.ndarray, np.ndarray]:
    """Centroid (Å) and principal axes (rows, largest spread first) of a point set.

    Signs are fixed by the points themselves (each axis points towards the atom with the largest
    projection), so the axes rotate with the molecule.
    """
    positions = _positions(positions)
    centroid = positions.mean(0)
    centred = positions - centroid
    _, _, vt = np.linalg.svd(centred, full_matrices=True)
    axes = vt.copy()
    for k in range(2):
        proj = centred @ axes[k]
        if abs(proj.max()) < abs(proj.min()):
            axes[k] = -axes[k]
    axes[2] = np.cross(axes[0], axes[1])
    return centroid, axes


def molecular_plane(positions, n: int = 100, margin: float = 2.5, offset: float = 0.0) -> Grid:
    """An n × n cut plane through the molecule's best-fit plane (the two largest principal axes).

    Args:
        positions: atom positions in Å.
        n: points per side.
        margin: extent beyond the atoms in Å.
        offset: shift of the plane along its normal in Å (0 = through the centroid).
    """
    positions = _positions(positions)
    if n < 2:
        raise GridError(f"molecular_plane: n must be at least 2 points per side, got {n}")
    centroid, axes = principal_axes(positions)
    proj = (positions - centroid) @ axes[:2].T
    half = np.abs(proj).max() + margin
    step = 2 * half / (n - 1)
    origin = centroid - half * axes[0] - half * axes[1] + offset * axes[2]
    return Grid(origin, axes[:2] * step, (n, n))


def _inverse_square_distances(points, positions, reduce) -> np.ndarray:
    """``reduce(1 / d², axis=1)`` over the atoms for every point, in chunks of 65,536 points."""
    points, positions = _positions(points), _positions(positions)
    out = np.empty(len(points))
    for start in range(0, len(points), 65536):
        d2 = ((points[start:start + 65536, None, :] - positions[None]) ** 2).sum(-1)
        out[start:start + 65536] = reduce(1.0 / np.maximum(d2, 1e-12), axis=1)
    return out


def proximity(points, positions) -> np.ndarray:
    """Σ_i ‖r − r_i‖⁻² in Å⁻² at every point: the smooth function whose isosurface the paper colours."""
    return _inverse_square_distances(points, positions, np.sum)


def _positions(positions) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3 or len(positions) == 0:
        raise ShapeError(f"positions must have shape (n, 3) with n ≥ 1, got {positions.shape}")
    if not np.isfinite(positions).all():
        raise NonFiniteError("positions contain NaN or infinite values")
    return positions


def steepness_by_distance(grid: Grid, values, positions, shells=(0.0, 1.0, 1.5, 2.0, 3.0, 5.0)):
    """Mean and 90th percentile of |∇f| (per Å) on a 2D cut, by distance of the point to the nearest atom.

    Args:
        grid: the 2D grid the field was evaluated on.
        values: field at ``grid.points()``.
        positions: atom positions in Å.
        shells: edges of the distance shells in Å.
    Returns:
        DataFrame indexed by shell ("0.0–1.0 Å", …) with columns ``points``, ``mean_gradient``, ``p90_gradient``.
    """
    import pandas as pd

    if len(grid.shape) != 2:
        raise ShapeError("steepness_by_distance needs a 2D grid")
    values = np.asarray(values, dtype=float).reshape(grid.shape)
    gu, gv = np.gradient(values, *grid.spacing)
    magnitude = np.hypot(gu, gv).ravel()
    nearest = np.sqrt(1.0 / proximity_max(grid.points(), positions))
    rows = []
    for low, high in zip(shells[:-1], shells[1:]):
        inside = (nearest >= low) & (nearest < high)
        sel = magnitude[inside]
        rows.append({"shell": f"{low:.1f}–{high:.1f} Å", "points": int(inside.sum()),
                     "mean_gradient": float(sel.mean()) if sel.size else np.nan,
                     "p90_gradient": float(np.quantile(sel, 0.9)) if sel.size else np.nan})
    return pd.DataFrame(rows).set_index("shell")


def surface_isovalue(molecules, scale: float = 1.0) -> float:
    """The value of Σ‖r − r_i‖⁻² (Å⁻²) on the molecules' surface of atomic spheres: the median over the points of
    the Merz–Kollman spheres (radii :data:`xatom.reference.esp.MK_RADII_ANGSTROM` × ``scale``, H 1.2 Å, close to
    van der Waals radii) that lie outside every other sphere. Its isosurface follows that surface, where a probe
    atom first touches the molecule.

    Args:
        molecules: :class:`~xatom.molecule.Molecule` objects (H, C, N, O, F).
    """
    from ..reference.esp import surface_points  # the one definition of the atomic-sphere surface

    values = [proximity(surface_points(m.numbers, m.positions, scales=(scale,)), m.positions) for m in molecules]
    if not values:
        raise ValueError("surface_isovalue needs at least one molecule")
    return float(np.median(np.concatenate(values)))


def proximity_max(points, positions) -> np.ndarray:
    """max_i ‖r − r_i‖⁻² in Å⁻², i.e. 1 / (distance to the nearest atom)²."""
    return _inverse_square_distances(points, positions, np.max)


def outward_points(numbers, positions, atoms, distance: float = 1.0) -> np.ndarray:
    """For each atom in ``atoms``, the point ``distance`` Å away from it, pointing away from its bonded neighbours.

    The direction is from the mean of the atom's neighbours (bonded by the project's bond rule,
    :func:`xatom.bonds.bond_matrix`) through the atom: outward along a C–H bond, or along the bisector opposite
    an O's two neighbours. An atom without neighbours gets the direction away from the centroid of the molecule
    (and +z when it sits on the centroid or its neighbours' mean). Returns ``(len(atoms), 3)`` points in Å.

    Args:
        numbers: ``(n,)`` atomic numbers.
        positions: ``(n, 3)`` positions in Å.
        atoms: indices of the atoms to place points outside of.
        distance: how far from the atom, Å.
    """
    from ..bonds import bond_matrix

    positions = _positions(positions)
    atoms = np.atleast_1d(np.asarray(atoms, dtype=np.int64))
    bonded = bond_matrix(numbers, positions)[atoms]  # (n_atoms, n)
    count = bonded.sum(1, keepdims=True)
    anchor = np.where(count > 0, (bonded @ positions) / np.maximum(count, 1), positions.mean(0))
    direction = positions[atoms] - anchor
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = np.where(norm > 1e-8, direction / np.where(norm > 1e-8, norm, 1.0), np.array([0.0, 0.0, 1.0]))
    return (positions[atoms] + distance * direction).reshape(-1, 3)


def surface_sign_patches(faces, face_values, face_area) -> dict:
    """How the sign of a field is organised on a triangulated surface.

    Triangles sharing a vertex are neighbours; connected triangles of one sign form a patch. Returns, per
    sign, the number of patches covering at least 1 % of the surface (``*_patches``) and the share of that
    sign's area in its five largest patches (``*_area_in_5_largest``): few large patches = clearly separated
    regions, many small ones = speckle.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    faces = np.asarray(faces)
    face_values, face_area = np.asarray(face_values, float), np.asarray(face_area, float)
    n_faces, n_verts = len(faces), int(faces.max()) + 1
    incidence = coo_matrix((np.ones(faces.size), (np.repeat(np.arange(n_faces), 3), faces.ravel())),
                           shape=(n_faces, n_verts)).tocsr()
    result = {}
    for name, mask in (("negative", face_values < 0), ("positive", face_values >= 0)):
        sub = incidence[np.where(mask)[0]]
        adjacency = sub @ sub.T
        n, labels = connected_components(adjacency, directed=False) if mask.any() else (0, np.zeros(0, int))
        areas = np.sort(np.bincount(labels, weights=face_area[mask]))[::-1] if n else np.zeros(0)
        result[f"{name}_patches"] = int((areas >= 0.01 * face_area.sum()).sum())
        result[f"{name}_area_in_5_largest"] = float(areas[:5].sum() / max(face_area[mask].sum(), 1e-12)) if n else np.nan
    return result


def isosurface_mesh(grid: Grid, surface_values, isovalue: float):
    """Vertices (Å, (n, 3)) and triangles of the isosurface ``surface_values = isovalue`` (marching cubes)."""
    from skimage.measure import marching_cubes

    volume = np.asarray(surface_values, dtype=float).reshape(grid.shape)
    if not volume.min() < isovalue < volume.max():
        raise ValueError(f"isovalue {isovalue} lies outside the field's range [{volume.min():.3g}, {volume.max():.3g}]")
    verts, faces, _, _ = marching_cubes(volume, level=isovalue)
    return grid.origin + verts @ grid.axes, faces


def sample(grid: Grid, values, points) -> np.ndarray:
    """Trilinear interpolation of a field on a 3D grid at arbitrary points (Å)."""
    from scipy.ndimage import map_coordinates

    volume = np.asarray(values, dtype=float).reshape(grid.shape)
    index = (np.asarray(points, dtype=float) - grid.origin) @ np.linalg.inv(grid.axes)
    return map_coordinates(volume, index.T, order=1, mode="nearest")


def surface_field(grid: Grid, surface_values, colour_values, isovalue: float):
    """The isosurface ``surface_values = isovalue`` (vertices in Å, triangles) and ``colour_values`` sampled at
    the centre of each triangle."""
    verts, faces = isosurface_mesh(grid, surface_values, isovalue)
    return verts, faces, sample(grid, colour_values, verts[faces].mean(1))
