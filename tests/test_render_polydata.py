"""CityModel -> PolyData (no rendering, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from citytwin.model import CityModelBuilder, semantic_code  # noqa: E402
from citytwin.render.polydata import city_polydata, lod_polygon_mask, triangles_polydata  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"


@pytest.fixture(scope="module")
def demo():
    cj = pytest.importorskip("citytwin.io.cityjson")
    return cj.read_cityjson(DEMO)


def _two_lod_model():
    b = CityModelBuilder("mem", "test")
    house = b.add_object("house", "Building")
    terrain = b.add_object("t", "TINRelief")
    sq = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], float)
    b.add_polygon(house, [sq + [0, 0, 5]], semantic_code("RoofSurface"), lod="1")
    b.add_polygon(house, [sq + [0, 0, 8]], semantic_code("RoofSurface"), lod="2")
    b.add_polygon(house, [sq + [0, 0, 9]], semantic_code("RoofSurface"), lod="3")
    b.add_polygon(terrain, [sq * 3 - [10, 10, 0]], semantic_code("TINRelief"), lod="2")
    return b.build()


def test_polydata_shares_the_model_arrays(demo) -> None:
    pd = city_polydata(demo)
    mask = demo.lod_triangle_mask("best")
    assert pd.n_cells == int(mask.sum()) and pd.n_points == len(demo.vertices)
    pts = np.asarray(pd.points)
    assert pts.dtype == np.float32 and np.shares_memory(pts, demo.vertices)  # no copy
    assert np.abs(pts).max() < 2000  # relative to the origin: no float64 world coordinates on the GPU
    faces = pd.faces.reshape(-1, 4)
    assert (faces[:, 0] == 3).all()
    assert np.array_equal(faces[:, 1:], demo.triangles[mask])
    assert pd.cell_data["object"].dtype == np.int32 and pd.cell_data["semantic"].dtype == np.uint8
    assert np.array_equal(pd.cell_data["object"], demo.tri_object[mask])
    assert np.array_equal(pd.cell_data["semantic"], demo.tri_semantic[mask])
    assert np.array_equal(pd.cell_data["triangle"], np.flatnonzero(mask))


def test_lod_choice(demo) -> None:
    lod1, lod2 = city_polydata(demo, 1), city_polydata(demo, 2)
    assert lod1.n_cells < lod2.n_cells == city_polydata(demo, "best").n_cells
    # terrain, roads, trees exist in one LoD only and stay visible in both
    for pd in (lod1, lod2):
        objs = set(np.unique(pd.cell_data["object"]).tolist())
        with_geometry = set(np.unique(demo.tri_object).tolist())
        assert objs == with_geometry


def test_lod_rule_on_synthetic_model() -> None:
    m = _two_lod_model()
    z_of = lambda lod: sorted({float(m.vertices[m.polygons.ring_idx[m.polygons.ring_offsets[p]], 2])  # noqa: E731
                               for p in np.flatnonzero(lod_polygon_mask(m, lod))})
    base = float(m.origin[2])
    assert [z + base for z in z_of("best")] == [0.0, 9.0]
    assert [z + base for z in z_of("lowest")] == [0.0, 5.0]
    assert [z + base for z in z_of(2)] == [0.0, 8.0]
    assert [z + base for z in z_of(2.2)] == [0.0, 8.0]  # highest LoD not above 2.2
    assert [z + base for z in z_of(0)] == [0.0, 5.0]  # none that low: the lowest


def test_empty_model() -> None:
    b = CityModelBuilder("mem", "test")
    b.add_object("x", "Building")
    pd = city_polydata(b.build())
    assert pd.n_cells == 0
    assert triangles_polydata(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32)).n_cells == 0


def test_split_groups_gives_one_colour_group_per_point(demo) -> None:
    """The visual's layout: vertices split by (vertex, object, semantic, flat roof) so that
    per-point colours equal per-cell colours; the points are then a copy (the trade for
    drawing without a per-fragment cell-colour lookup)."""
    mask = demo.lod_triangle_mask("best")
    pd = city_polydata(demo, split_groups=True)
    assert pd.n_cells == int(mask.sum())
    src = np.asarray(pd.point_data["vertex"])
    conn = pd.faces.reshape(-1, 4)[:, 1:]
    # same triangles, same order (picking maps cell ids to the model's triangles)
    assert np.array_equal(src[conn], demo.triangles[mask])
    pts = np.asarray(pd.points)
    assert pts.dtype == np.float32 and np.array_equal(pts, demo.vertices[src])
    assert not np.shares_memory(pts, demo.vertices)
    # every point is used by cells of one group only
    flat_roof = np.asarray(pd.cell_data["flat"]).astype(bool) & (
        np.asarray(pd.cell_data["semantic"]) == semantic_code("RoofSurface"))
    group = (np.asarray(pd.cell_data["object"]).astype(np.int64) * 256
             + np.asarray(pd.cell_data["semantic"])) * 2 + flat_roof
    corner_group = np.repeat(group, 3)
    point_group = np.full(pd.n_points, -1, np.int64)
    point_group[conn.reshape(-1)] = corner_group
    assert np.array_equal(point_group[conn.reshape(-1)], corner_group)
    # and vertices are only split where groups meet: no more points than (vertex, group) pairs
    pairs = {(int(v), int(g)) for v, g in zip(demo.triangles[mask].reshape(-1), corner_group)}
    assert pd.n_points == len(pairs) < 3 * pd.n_cells
    point_cell = pd._citytwin_point_cell
    assert np.array_equal(group[point_cell], point_group)


def test_split_vertices_small_cases() -> None:
    from citytwin.render.polydata import split_vertices

    # two triangles sharing an edge: same group -> 4 points, different groups -> 6
    tri = np.array([[0, 1, 2], [2, 1, 3]])
    src, conn, cell = split_vertices(tri, np.array([7, 7]))
    assert len(src) == 4 and np.array_equal(src[conn], tri.reshape(-1))
    src, conn, cell = split_vertices(tri, np.array([7, -3]))
    assert len(src) == 6 and np.array_equal(src[conn], tri.reshape(-1))
    assert np.array_equal(cell[conn], [0, 0, 0, 1, 1, 1])
    # sparse huge group ids still work
    src, conn, cell = split_vertices(tri, np.array([2**60, 5]))
    assert len(src) == 6 and np.array_equal(src[conn], tri.reshape(-1))
    e = split_vertices(np.zeros((0, 3), int), np.zeros(0, int))
    assert all(len(a) == 0 for a in e)
