"""Grids around molecules, the proximity field, isosurface meshes and Gaussian cube files."""
import re

import numpy as np
import pytest

import xatom
from physics import random_rotation
from xatom.analysis.grids import (Grid, box_grid, isosurface_mesh, molecular_plane, outward_points, principal_axes,
                                 proximity, sample, surface_isovalue, surface_sign_patches)
from xatom.errors import DataFormatError, GridError, NonFiniteError, ShapeError
from xatom.viz.cube import read_cube, write_cube


def test_grid_points_run_last_axis_fastest():
    grid = Grid([1.0, 2.0, 3.0], np.eye(3) * [0.1, 0.2, 0.3], (2, 3, 4))
    points = grid.points()
    assert points.shape == (24, 3)
    np.testing.assert_allclose(points[1] - points[0], [0, 0, 0.3])
    np.testing.assert_allclose(points[4] - points[0], [0, 0.2, 0])
    np.testing.assert_allclose(points[-1], [1.1, 2.4, 3.9])


def test_box_grid_keeps_the_margin_around_every_atom(glycine):
    grid = box_grid(glycine.positions, spacing=0.3, margin=2.0)
    points = grid.points()
    assert np.all(points.min(0) <= glycine.positions.min(0) - 2.0 + 1e-9)
    assert np.all(points.max(0) >= glycine.positions.max(0) + 2.0 - 1e-9)


def test_molecular_plane_of_benzene_holds_all_atoms(benzene):
    plane = molecular_plane(benzene.positions, n=50)
    unit = plane.axes / plane.spacing[:, None]
    normal = np.cross(unit[0], unit[1])
    assert np.abs((benzene.positions - plane.origin) @ normal).max() < 0.05
    centre = plane.points().mean(0)
    np.testing.assert_allclose(centre, benzene.positions.mean(0), atol=1e-9)


def test_rotated_grid_points_are_the_rotated_points(glycine):
    plane = molecular_plane(glycine.positions, n=12)
    rot, centre = random_rotation(5), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(plane.rotated(rot, centre).points(), (plane.points() - centre) @ rot.T + centre,
                               atol=1e-12)


def test_principal_axes_turn_with_the_molecule(glycine):
    _, axes = principal_axes(glycine.positions)
    rot = random_rotation(7)
    _, turned = principal_axes(glycine.positions @ rot.T)
    np.testing.assert_allclose(turned, axes @ rot.T, atol=1e-8)


def test_proximity_of_one_atom_is_inverse_square_distance():
    np.testing.assert_allclose(proximity([[2.0, 0, 0], [0, 0, 0.5]], [[0.0, 0, 0]]), [0.25, 4.0])


def test_isosurface_vertices_lie_on_the_isosurface(water):
    grid = box_grid(water.positions, spacing=0.1, margin=2.0)
    values = proximity(grid.points(), water.positions)
    verts, faces = isosurface_mesh(grid, values, 2.0)
    assert len(faces) > 100
    np.testing.assert_allclose(proximity(verts, water.positions), 2.0, rtol=0.03)
    np.testing.assert_allclose(sample(grid, values, grid.points()[:50]), values[:50], rtol=1e-9)
    with pytest.raises(ValueError, match="outside the field's range"):
        isosurface_mesh(grid, values, -1.0)


def test_cube_file_round_trip(tmp_path, glycine):
    grid = Grid(glycine.positions.min(0) - 1.0, random_rotation(3) * 0.25, (7, 5, 9))
    values = np.random.default_rng(0).normal(size=grid.shape) * 10
    path = write_cube(tmp_path / "field.cube", glycine, grid, values, comment="Ω_C in kcal/mol")
    molecule, back, read, comment = read_cube(path)
    assert comment == "Ω_C in kcal/mol" and back.shape == grid.shape
    np.testing.assert_allclose(back.origin, grid.origin, atol=1e-5)
    np.testing.assert_allclose(back.axes, grid.axes, atol=1e-5)
    np.testing.assert_allclose(read, values, rtol=1e-5)
    np.testing.assert_array_equal(molecule.numbers, glycine.numbers)
    np.testing.assert_allclose(molecule.positions, glycine.positions, atol=1e-5)


def test_cube_errors(tmp_path, water):
    plane = molecular_plane(water.positions, n=5)
    with pytest.raises(ShapeError, match="3D"):
        write_cube(tmp_path / "a.cube", water, plane, np.zeros(25))
    box = box_grid(water.positions, 0.5, 1.0)
    with pytest.raises(ShapeError):
        write_cube(tmp_path / "a.cube", water, box, np.zeros(box.n_points + 1))
    (tmp_path / "bad.cube").write_text("not\na cube\n")
    with pytest.raises(DataFormatError):
        read_cube(tmp_path / "bad.cube")


def test_bad_grids_are_refused():
    with pytest.raises(ShapeError):
        Grid([0, 0], np.eye(3), (2, 2, 2))
    with pytest.raises(ShapeError):
        Grid([0, 0, 0], np.eye(3), (2, 0, 2))
    with pytest.raises(ShapeError):
        box_grid(np.zeros((0, 3)))


def test_sign_patches_count_connected_regions(water):
    grid = box_grid(water.positions, spacing=0.15, margin=2.0)
    verts, faces = isosurface_mesh(grid, proximity(grid.points(), water.positions), 2.0)
    tri = verts[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    centre = tri.mean(1)
    halves = surface_sign_patches(faces, centre[:, 2] - water.positions[:, 2].mean(), area)  # split by a plane
    assert halves["negative_patches"] == 1 and halves["positive_patches"] == 1
    assert halves["negative_area_in_5_largest"] == pytest.approx(1.0)
    slabs = surface_sign_patches(faces, np.sin(centre[:, 0] * 4.0), area)  # stripes across the surface
    assert slabs["negative_patches"] + slabs["positive_patches"] > 2


# ------------------------------------------------------------------ named bugs (issue 16)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_cube_writer_refuses_non_finite_values_and_counts_them(tmp_path, water, bad):
    box = box_grid(water.positions, 0.5, 1.0)
    values = np.zeros(box.shape)
    values.flat[[3, 17, 40]] = bad
    first = tuple(int(i) for i in np.unravel_index(3, box.shape))
    with pytest.raises(NonFiniteError, match=re.escape(f"3 of the {box.n_points} values") + ".*" +
                       re.escape(f"first at grid index {first})")):  # plain integers, not np.int64(…)
        write_cube(tmp_path / "bad.cube", water, box, values)
    assert not (tmp_path / "bad.cube").exists()  # nothing half-written


def test_cube_write_replaces_an_old_file_whole(tmp_path, water, monkeypatch):
    box = box_grid(water.positions, 0.5, 1.0)
    path = write_cube(tmp_path / "field.cube", water, box, np.ones(box.shape))
    before = path.read_text()
    import xatom.files

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xatom.files.Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_cube(path, water, box, np.zeros(box.shape))
    monkeypatch.undo()
    assert path.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["field.cube"]


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", b""])
def test_binary_or_empty_cube_file_is_refused_by_name(tmp_path, content):
    path = tmp_path / "picture.cube"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match="picture.cube"):
        read_cube(path)


def test_missing_cube_file_is_refused_by_name(tmp_path):
    with pytest.raises(DataFormatError, match="nothing.cube.*does not exist"):
        read_cube(tmp_path / "nothing.cube")


@pytest.mark.parametrize("axes", [np.zeros((3, 3)), np.diag([0.2, 0.0, 0.2]), np.diag([0.2, 1e-14, 0.2]),
                                  [[0.2, 0, 0], [0.4, 0, 0], [0, 0, 0.2]]])
def test_grid_with_zero_or_degenerate_spacing_is_refused(axes):
    with pytest.raises(GridError, match="spacing|independent"):
        Grid([0, 0, 0], axes, (4, 4, 4))


@pytest.mark.parametrize("spacing", [0.0, -0.2, np.nan, np.inf])
def test_box_grid_refuses_zero_negative_or_non_finite_spacing(water, spacing):
    with pytest.raises(GridError, match="spacing"):
        box_grid(water.positions, spacing=spacing)


def test_fine_spacing_is_refused_with_the_number_of_points_not_an_overflow(water):
    from xatom.analysis.grids import MAX_GRID_POINTS

    with pytest.raises(GridError, match=f"at most {MAX_GRID_POINTS:,}"):
        box_grid(water.positions, spacing=1e-4)
    # sizes whose product overflows int64 (np.prod would wrap around to a small or negative count)
    with pytest.raises(GridError, match="8000000000000000000000000000 points"):
        Grid([0, 0, 0], np.eye(3) * 0.1, (2_000_000_000,) * 3)
    assert Grid([0, 0, 0], np.eye(3), (2, 3, 4)).n_points == 24


def test_molecular_plane_needs_two_points_per_side(water):
    with pytest.raises(GridError, match="n"):
        molecular_plane(water.positions, n=1)


def test_surface_isovalue_of_a_lone_atom_is_its_inverse_square_radius():
    lone_h = xatom.Molecule([1], [[0.3, -1.0, 2.0]])
    assert surface_isovalue([lone_h]) == pytest.approx(1 / 1.2 ** 2)
    assert surface_isovalue([lone_h], scale=2.0) == pytest.approx(1 / 2.4 ** 2)


def test_surface_isovalue_rises_with_neighbours_and_turns_with_the_molecule(water):
    value = surface_isovalue([water])
    assert value > 1 / 1.4 ** 2  # O alone on its 1.4 Å sphere; the hydrogens add to every point
    turned = xatom.Molecule(water.numbers, water.positions @ random_rotation(5).T + 3.0)
    assert surface_isovalue([turned]) == pytest.approx(value, rel=1e-2)  # the sphere points are fixed in space


def test_outward_points_point_away_from_the_bonded_neighbours(water, glycine):
    o, h1, h2 = water.positions
    points = outward_points(water.numbers, water.positions, [1, 2, 0], distance=1.0)
    # an H's only bonded neighbour is the O (the H–H contact, 1.51 Å, is no bond): the point continues O→H
    np.testing.assert_allclose(points[0], h1 + (h1 - o) / np.linalg.norm(h1 - o), atol=1e-12)
    np.testing.assert_allclose(points[1], h2 + (h2 - o) / np.linalg.norm(h2 - o), atol=1e-12)
    bisector = o - (h1 + h2) / 2
    np.testing.assert_allclose(points[2], o + bisector / np.linalg.norm(bisector), atol=1e-12)
    # every point is `distance` from its atom and turns with the molecule
    atoms = np.arange(glycine.n_atoms)
    p = outward_points(glycine.numbers, glycine.positions, atoms, distance=1.3)
    np.testing.assert_allclose(np.linalg.norm(p - glycine.positions, axis=1), 1.3)
    rot = random_rotation(4)
    np.testing.assert_allclose(outward_points(glycine.numbers, glycine.positions @ rot.T, atoms, 1.3), p @ rot.T,
                               atol=1e-10)
    # an atom without bonded neighbours: away from the centroid
    lone = outward_points([6, 6], [[0, 0, 0], [3, 0, 0]], [1])
    np.testing.assert_allclose(lone, [[4, 0, 0]])
