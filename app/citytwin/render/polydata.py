"""CityModel -> one vtkPolyData (pyvista.PolyData), built from numpy arrays without copies where possible."""

from __future__ import annotations

import numpy as np
import pyvista as pv
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray

from ..model.city import CityModel, lod_code

__all__ = ["city_polydata", "lod_triangle_mask", "lod_polygon_mask", "triangles_polydata"]


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


def city_polydata(model: CityModel, lod: float | str = "best") -> pv.PolyData:
    """One PolyData for a whole model.

    Points are ``model.vertices`` (float32, relative to the model's origin; the
    float64 origin never reaches the GPU). Cells are the triangles of the chosen
    LoD; cell data ``object`` (int32) and ``semantic`` (uint8) give, per triangle,
    the object index and semantic surface code, and ``triangle`` (int32) the index
    into ``model.triangles``.

    Parameters
    ----------
    model
        The city model.
    lod
        ``"best"``, ``"lowest"`` or a LoD number (see :func:`lod_polygon_mask`).
    """
    tmask = lod_triangle_mask(model, lod)
    tri_index = np.flatnonzero(tmask).astype(np.int32)
    pd = triangles_polydata(model.vertices, model.triangles[tri_index])
    pd.cell_data["object"] = np.ascontiguousarray(model.tri_object[tri_index], dtype=np.int32)
    pd.cell_data["semantic"] = np.ascontiguousarray(model.tri_semantic[tri_index], dtype=np.uint8)
    pd.cell_data["triangle"] = tri_index
    return pd
