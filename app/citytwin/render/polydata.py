"""CityModel -> one vtkPolyData (pyvista.PolyData), built from numpy arrays without copies where possible."""

from __future__ import annotations

import numpy as np
import pyvista as pv
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray

from ..model.city import CityModel, lod_code
from ..model.semantics import SEMANTICS

__all__ = [
    "city_polydata",
    "flat_triangles",
    "lod_polygon_mask",
    "lod_triangle_mask",
    "split_vertices",
    "triangles_polydata",
]


def lod_polygon_mask(model: CityModel, lod: float | str = "best") -> NDArray[np.bool_]:
    """Polygons to draw for ``lod``.

    ``"best"``/``"lowest"``: per object its highest/lowest LoD. A number: per object
    the highest LoD not above it, or its lowest LoD when it has none that low (so
    terrain and roads that exist in one LoD only stay visible when switching
    buildings between LoD1 and LoD2).
    """
    if lod in ("best", "lowest"):
        return model.lod_polygon_mask(lod)
    want = lod_code(lod)
    codes = model.polygons.lod.astype(np.int64)
    obj = model.polygons.object
    known = np.where(codes == 255, -1, codes)
    below = np.full(model.n_objects, -1, dtype=np.int64)
    ok = known <= want
    np.maximum.at(below, obj[ok], known[ok])
    lowest = np.full(model.n_objects, 10_000, dtype=np.int64)
    np.minimum.at(lowest, obj, known)
    chosen = np.where(below >= 0, below, lowest)
    return known == chosen[obj]


def lod_triangle_mask(model: CityModel, lod: float | str = "best") -> NDArray[np.bool_]:
    """Per-triangle version of :func:`lod_polygon_mask`."""
    return lod_polygon_mask(model, lod)[model.tri_poly]


def triangles_polydata(points: NDArray[np.float32], triangles: NDArray[np.integer]) -> pv.PolyData:
    """A PolyData of ``(n, 3)`` triangles over ``points``; both arrays are referenced, not copied.

    The cell array is set from offsets/connectivity arrays (``vtkCellArray.SetData``),
    so no Python loop or VTK-side parsing of a legacy cell list happens.
    """
    pts_np = np.ascontiguousarray(points, dtype=np.float32)
    conn = np.ascontiguousarray(triangles, dtype=np.int64).reshape(-1)
    offsets = np.arange(0, len(conn) + 1, 3, dtype=np.int64)
    vpts = vtkPoints()
    vpts.SetData(numpy_to_vtk(pts_np, deep=False))
    cells = vtkCellArray()
    cells.SetData(numpy_to_vtkIdTypeArray(offsets, deep=False), numpy_to_vtkIdTypeArray(conn, deep=False))
    pd = pv.PolyData()
    pd.SetPoints(vpts)
    pd.SetPolys(cells)
    # keep the numpy buffers alive as long as the dataset
    pd._citytwin_buffers = (pts_np, conn, offsets)  # type: ignore[attr-defined]
    return pd


def flat_triangles(model: CityModel, tri_index: NDArray[np.integer], cos_max: float = 0.985) -> NDArray[np.bool_]:
    """Per triangle of ``tri_index``: does it face (almost) straight up or down?"""
    v = model.vertices
    t = model.triangles[tri_index]
    # the cross product written out in place (float32): half the time of np.cross + norm
    # on millions of triangles, and no square root (compare squares)
    a = v[t[:, 0]]
    u = v[t[:, 1]]
    u -= a
    w = v[t[:, 2]]
    w -= a
    ux, uy, uz = u[:, 0], u[:, 1], u[:, 2]
    wx, wy, wz = w[:, 0], w[:, 1], w[:, 2]
    nx = uy * wz
    nx -= uz * wy
    ny = uz * wx
    ny -= ux * wz
    nz = ux * wy
    nz -= uy * wx
    nz *= nz
    n2 = nx * nx
    n2 += ny * ny
    n2 += nz
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray(nz >= np.float32(cos_max * cos_max) * n2)


def split_vertices(
    triangles: NDArray[np.integer], group: NDArray[np.integer]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Split shared vertices where the triangles using them belong to different groups.

    Every new point is one (vertex, group) pair, so all corners of a point's
    triangles share one group and per-point colours written per group look exactly
    like per-cell colours, without the per-fragment cell-colour lookup that costs
    about a third of the frame with software OpenGL.

    Parameters
    ----------
    triangles
        ``(n, 3)`` vertex indices.
    group
        ``(n,)`` group id per triangle (any integers).

    Returns
    -------
    source, connectivity, point_cell
        Per new point the original vertex index; the ``(n*3,)`` connectivity over
        the new points (same triangle order); per new point one triangle that uses it.
    """
    conn = np.ascontiguousarray(triangles, dtype=np.int64).reshape(-1)
    if len(conn) == 0:
        e = np.zeros(0, np.int64)
        return e, e.copy(), e.copy()
    g = np.asarray(group, dtype=np.int64).reshape(-1)
    g = g - g.min()
    n_vert = int(conn.max()) + 1
    if n_vert * (int(g.max()) + 1) >= 2**62:  # sparse group ids: number them 0..n-1
        _, g = np.unique(g, return_inverse=True)
        g = g.reshape(-1).astype(np.int64)
    n_groups = int(g.max()) + 1
    if n_vert * n_groups < 2**62:
        key = conn * n_groups + np.repeat(g, 3)
    else:  # too many for one int64: compact the pairs first (slower)
        _, key = np.unique(np.stack([conn, np.repeat(g, 3)], axis=1), axis=0, return_inverse=True)
        key = key.reshape(-1).astype(np.int64)
    # stable: timsort runs on the mostly ascending keys (triangles follow the vertex order),
    # 3x faster than quicksort here
    order = np.argsort(key, kind="stable")
    sk = key[order]
    first = np.empty(len(sk), dtype=bool)
    first[0] = True
    np.not_equal(sk[1:], sk[:-1], out=first[1:])
    new_sorted = np.cumsum(first) - 1
    new_conn = np.empty(len(conn), dtype=np.int64)
    new_conn[order] = new_sorted
    corner = order[first]
    return conn[corner], new_conn, corner // 3


def city_polydata(model: CityModel, lod: float | str = "best", split_groups: bool = False) -> pv.PolyData:
    """One PolyData for a whole model.

    Points are ``model.vertices`` (float32, relative to the model's origin; the
    float64 origin never reaches the GPU). Cells are the triangles of the chosen
    LoD; cell data ``object`` (int32) and ``semantic`` (uint8) give, per triangle,
    the object index and semantic surface code, ``triangle`` (int32) the index
    into ``model.triangles`` and ``flat`` (uint8) whether it faces straight up or down.

    Parameters
    ----------
    model
        The city model.
    lod
        ``"best"``, ``"lowest"`` or a LoD number (see :func:`lod_polygon_mask`).
    split_groups
        Split vertices by colour group (object, semantic surface, flat), see
        :func:`split_vertices`: the points are then a copy of the vertices they come
        from (point data ``vertex``: the index into ``model.vertices``) and
        ``pd._citytwin_point_cell`` gives per point one cell that uses it, so a
        per-cell colour array ``rgb`` becomes per-point colours as ``rgb[point_cell]``.
        Without it the points share memory with ``model.vertices``.
    """
    tmask = lod_triangle_mask(model, lod)
    tri_index = np.flatnonzero(tmask).astype(np.int32)
    tri = model.triangles[tri_index]
    flat = flat_triangles(model, tri_index)
    if split_groups:
        # what cell colours depend on: the object (thematic colours, highlight), the
        # semantic surface, and, for roofs, flatness (see model.style.cell_colors)
        sem = model.tri_semantic[tri_index].astype(np.int64)
        flat_roof = flat & (sem == SEMANTICS.index("RoofSurface"))
        group = (model.tri_object[tri_index].astype(np.int64) * 256 + sem) * 2 + flat_roof
        src, conn, point_cell = split_vertices(tri, group)
        pd = triangles_polydata(model.vertices[src], conn.reshape(-1, 3))
        pd.point_data["vertex"] = src
        pd._citytwin_point_cell = point_cell  # type: ignore[attr-defined]
    else:
        pd = triangles_polydata(model.vertices, tri)
    pd.cell_data["object"] = np.ascontiguousarray(model.tri_object[tri_index], dtype=np.int32)
    pd.cell_data["semantic"] = np.ascontiguousarray(model.tri_semantic[tri_index], dtype=np.uint8)
    pd.cell_data["triangle"] = tri_index
    pd.cell_data["flat"] = flat.astype(np.uint8)
    return pd
