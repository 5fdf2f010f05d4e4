"""Triangulation properties: area preserved, holes stay holes, no triangle outside."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from citytwin.core.geometry import (
    DEGENERATE,
    NON_PLANAR,
    SELF_INTERSECTING,
    polygon_areas,
    triangle_areas,
    triangulate_polygons,
)


def _flat(polys: list[list[np.ndarray]]) -> tuple[np.ndarray, ...]:
    verts, ring_idx, ring_sizes, nrings = [], [], [], []
    n = 0
    for rings in polys:
        nrings.append(len(rings))
        for r in rings:
            verts.append(r)
            ring_idx.extend(range(n, n + len(r)))
            ring_sizes.append(len(r))
            n += len(r)
    v = np.concatenate(verts)
    ro = np.concatenate([[0], np.cumsum(ring_sizes)])
    pro = np.concatenate([[0], np.cumsum(nrings)])
    return v, np.asarray(ring_idx), ro, pro


def _rotate(xy: np.ndarray, z: float, rot: np.ndarray) -> np.ndarray:
    p = np.column_stack([xy, np.full(len(xy), z)])
    return p @ rot.T


def _rotation(a: float, b: float) -> np.ndarray:
    ca, sa, cb, sb = np.cos(a), np.sin(a), np.cos(b), np.sin(b)
    rx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    rz = np.array([[cb, -sb, 0], [sb, cb, 0], [0, 0, 1]])
    return rz @ rx


@st.composite
def star_polygons(draw: st.DrawFn) -> tuple[np.ndarray, list[np.ndarray]]:
    """A random simple star-shaped polygon (angular gaps < pi/2, so a disk of radius 3.5
    around the origin is inside) with up to two square holes in that disk."""
    n = draw(st.integers(6, 24))
    radii = np.array(draw(st.lists(st.floats(5.0, 20.0), min_size=n, max_size=n)))
    jitter = np.array(draw(st.lists(st.floats(0.0, 0.5), min_size=n, max_size=n)))
    ang = (np.arange(n) + jitter) * 2 * np.pi / n
    outer = np.column_stack([radii * np.cos(ang), radii * np.sin(ang)])
    holes = []
    for k in range(draw(st.integers(0, 2))):
        cx = -1.5 + 3.0 * k
        size = draw(st.floats(0.3, 1.2))
        holes.append(np.array([[cx - size, -size], [cx - size, size], [cx + size, size], [cx + size, -size]]))
    return outer, holes


@settings(max_examples=150, deadline=None)
@given(star_polygons(), st.floats(0, np.pi), st.floats(0, 2 * np.pi), st.floats(-1e3, 1e3))
def test_area_preserved_holes_kept_nothing_outside(poly, a, b, z) -> None:
    outer, holes = poly
    rot = _rotation(a, b)
    rings3 = [_rotate(outer, z, rot)] + [_rotate(h, z, rot) for h in holes]
    v, ri, ro, pro = _flat([rings3])
    tri = triangulate_polygons(v, ri, ro, pro)
    assert tri.status[0] & (DEGENERATE | SELF_INTERSECTING) == 0
    tris = ri[tri.corners]
    expected = shapely.Polygon(outer, holes)
    assert np.isclose(triangle_areas(v, tris).sum(), expected.area, rtol=1e-6)
    assert np.isclose(polygon_areas(v, ri, ro, pro)[0], expected.area, rtol=1e-6)
    # back to the plane: every triangle lies inside the polygon, none covers a hole
    back = (v @ rot)[:, :2]
    cent = back[tris].mean(axis=1)
    assert shapely.contains_xy(expected.buffer(1e-6), cent[:, 0], cent[:, 1]).all()
    for h in holes:
        hole = shapely.Polygon(h).buffer(-1e-6)
        assert not shapely.contains_xy(hole, cent[:, 0], cent[:, 1]).any()
    # orientation follows the polygon's normal
    nrm = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
    assert (nrm @ tri.normals[0] > -1e-9).all()


def test_convex_fan_and_batches() -> None:
    sq = np.array([[0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0]], float)
    tri_ = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 1]], float)
    v, ri, ro, pro = _flat([[sq], [tri_], [sq + 5]])
    t = triangulate_polygons(v, ri, ro, pro)
    assert t.tri_poly.tolist() == [0, 0, 1, 2, 2]
    assert np.allclose(triangle_areas(v, ri[t.corners]).sum(), 4 + 0.5 + 4)


def test_degenerate_nonplanar_and_self_intersecting_are_flagged() -> None:
    line = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0]], float)
    bent = np.array([[0, 0, 0], [4, 0, 0], [4, 4, 1.0], [0, 4, 0]], float)
    bowtie = np.array([[0, 0, 0], [3, 3, 0], [3, 0, 0], [0, 1, 0]], float)
    v, ri, ro, pro = _flat([[line], [bent], [bowtie]])
    t = triangulate_polygons(v, ri, ro, pro)
    assert t.status[0] & DEGENERATE
    assert t.status[1] & NON_PLANAR and not t.status[1] & DEGENERATE
    assert t.status[2] & SELF_INTERSECTING
    assert 0 not in t.tri_poly  # degenerate polygons give no triangles
    assert 1 in t.tri_poly


def test_pentagram_is_not_fanned_as_convex() -> None:
    ang = np.arange(5) * 4 * np.pi / 5
    star = np.column_stack([np.cos(ang), np.sin(ang), np.zeros(5)])
    v, ri, ro, pro = _flat([[star]])
    t = triangulate_polygons(v, ri, ro, pro)
    assert t.status[0] & SELF_INTERSECTING
