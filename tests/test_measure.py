"""Measurement maths (pure): distances, height differences, polygon areas, mesh volumes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from citytwin.model import measure


def test_distance_3d_horizontal_and_dz() -> None:
    d = measure.distance([0, 0, 0], [3, 4, 12])
    assert d.d3 == pytest.approx(13.0)
    assert d.horizontal == pytest.approx(5.0)
    assert d.dz == pytest.approx(12.0)
    assert measure.distance([1, 1, 5], [1, 1, 2]).dz == pytest.approx(-3.0)


def test_height_difference_sign() -> None:
    assert measure.height_difference([0, 0, 10], [5, 5, 12.5]) == pytest.approx(2.5)
    assert measure.height_difference([0, 0, 10], [5, 5, 7]) == pytest.approx(-3)


def test_area_of_horizontal_square_far_from_origin() -> None:
    o = np.array([394_000.0, 5_520_000.0, 120.0])
    sq = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], dtype=float) + o
    a = measure.polygon_area(sq)
    assert a.area3d == pytest.approx(100.0)
    assert a.horizontal == pytest.approx(100.0)
    assert a.perimeter == pytest.approx(40.0)
    assert a.planarity == pytest.approx(0.0, abs=1e-9)


def test_area_of_tilted_roof_and_wall() -> None:
    # a 10 x 10 m roof face pitched at 30 degrees: true area 100, map area 100 cos(30)
    c = math.cos(math.radians(30))
    s = math.sin(math.radians(30))
    roof = [[0, 0, 0], [10 * c, 0, 10 * s], [10 * c, 10, 10 * s], [0, 10, 0]]
    a = measure.polygon_area(roof)
    assert a.area3d == pytest.approx(100.0)
    assert a.horizontal == pytest.approx(100.0 * c)
    wall = [[0, 0, 0], [4, 0, 0], [4, 0, 3], [0, 0, 3]]
    w = measure.polygon_area(wall)
    assert w.area3d == pytest.approx(12.0)
    assert w.horizontal == pytest.approx(0.0, abs=1e-9)


def test_area_orientation_independent_and_degenerate() -> None:
    tri = np.array([[0, 0, 0], [4, 0, 0], [0, 3, 0]], float)
    assert measure.polygon_area(tri).area3d == pytest.approx(6.0)
    assert measure.polygon_area(tri[::-1]).area3d == pytest.approx(6.0)
    assert measure.polygon_area(tri[:2]).area3d == 0.0
    assert measure.polygon_area(np.zeros((0, 3))).area3d == 0.0
    # an L shape (concave)
    ell = [[0, 0, 0], [2, 0, 0], [2, 1, 0], [1, 1, 0], [1, 2, 0], [0, 2, 0]]
    assert measure.polygon_area(ell).area3d == pytest.approx(3.0)


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError):
        measure.polygon_area([[0, 0], [1, 1], [2, 0]])


def test_path_length() -> None:
    pts = [[0, 0, 0], [3, 0, 0], [3, 4, 0]]
    assert measure.path_length(pts) == pytest.approx(7.0)
    assert measure.path_length(pts, closed=True) == pytest.approx(12.0)


def test_mesh_volume_of_a_cube_far_from_origin() -> None:
    v = np.array([[x, y, z] for x in (0, 2) for y in (0, 3) for z in (0, 4)], float) + [85_000, 447_000, 0]
    # 12 outward triangles of the box (index = 4x + 2y + z)
    t = np.array([
        [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3], [0, 1, 3], [0, 3, 2],
        [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],
    ])
    assert measure.mesh_volume(v, t) == pytest.approx(24.0)
    assert measure.mesh_volume(v, t[:, ::-1]) == pytest.approx(24.0)
    assert measure.mesh_volume(v, np.zeros((0, 3), int)) == 0.0
