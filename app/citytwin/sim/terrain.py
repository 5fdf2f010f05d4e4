"""Height grids: terrain as a regular raster of heights, from a model's TIN or from lidar points.

A :class:`HeightGrid` is a ``(ny, nx)`` float32 array of heights with its lower-left
corner ``(x0, y0)``, its cell size and CRS. Row 0 is the *south* edge: cell ``(r, c)``
covers ``x0 + c·cell .. x0 + (c+1)·cell`` by ``y0 + r·cell .. y0 + (r+1)·cell`` and its
value is the height at its centre. NaN marks cells without data (:attr:`HeightGrid.nodata`).

- :func:`grid_from_triangles` / :func:`grid_from_model`: a TIN rasterised exactly, the
  height at every cell centre interpolated (barycentric) in the triangle that contains it;
  vectorised over triangles and cells, in bounded chunks.
- :func:`grid_from_points`: lidar points binned per cell (ground class 2 when the cloud is
  classified, mean per cell; else the lowest point per cell), small gaps filled from the
  nearest cell with data.

Arrays in, arrays out: no reader here (``citytwin.io.lidar`` reads LAS/LAZ files).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from ..model.city import CityModel
from ..model.semantics import SEMANTICS

__all__ = ["HeightGrid", "TERRAIN_TYPES", "MAX_CELLS", "grid_spec", "grid_from_triangles",
           "grid_from_model", "grid_from_points", "terrain_triangles", "cover_cells", "fill_small_gaps"]

# The viewer's rule (citytwin.qt.layers.terrain_triangle_mask), kept the same here: terrain is
# every triangle of an object of a relief type, or of a surface coded Terrain.
TERRAIN_TYPES = frozenset({"TINRelief", "ReliefFeature", "MassPointRelief", "BreaklineRelief", "RasterRelief"})
MAX_CELLS = 100_000_000  # 400 MB of float32: beyond that, ask for a coarser resolution
_CHUNK = 2_000_000  # (triangle, cell) candidates tested at once


@dataclass
class HeightGrid:
    """Heights on a regular grid (see the module docstring for the layout)."""

    z: NDArray[np.float32]  # (ny, nx), NaN = no data
    x0: float
    y0: float
    cell: float
    crs: CRS | None = None
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ny(self) -> int:
        return int(self.z.shape[0])

    @property
    def nx(self) -> int:
        return int(self.z.shape[1])

    @property
    def nodata(self) -> NDArray[np.bool_]:
        """True where the grid has no height."""
        return np.isnan(self.z)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)``: the outer edges of the grid."""
        return (self.x0, self.y0, self.x0 + self.nx * self.cell, self.y0 + self.ny * self.cell)

    def zmin(self) -> float:
        return float(np.nanmin(self.z)) if (~self.nodata).any() else math.nan

    def zmax(self) -> float:
        return float(np.nanmax(self.z)) if (~self.nodata).any() else math.nan

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(xs, ys)``: the x of every column's and the y of every row's cell centre."""
        xs = self.x0 + (np.arange(self.nx, dtype=np.float64) + 0.5) * self.cell
        ys = self.y0 + (np.arange(self.ny, dtype=np.float64) + 0.5) * self.cell
        return xs.astype(np.float64), ys.astype(np.float64)

    def index(self, x: Any, y: Any) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """``(row, col, inside)`` of the cells containing the points (clipped where outside)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        c = np.floor((x - self.x0) / self.cell).astype(np.int64)
        r = np.floor((y - self.y0) / self.cell).astype(np.int64)
        inside = (c >= 0) & (c < self.nx) & (r >= 0) & (r < self.ny)
        return np.clip(r, 0, self.ny - 1), np.clip(c, 0, self.nx - 1), inside

    def sample(self, x: Any, y: Any) -> NDArray[np.float64]:
        """Height at points by bilinear interpolation between cell centres (exact on a plane,
        up to the grid's outer edges); NaN outside the grid. Where some of the four cells lack data, the mean of those that
        have it; where none has, NaN."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        x0, y0, x1, y1 = self.extent
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        # within half a cell of the edge, extrapolated from the last two centres
        u = (x - self.x0) / self.cell - 0.5
        v = (y - self.y0) / self.cell - 0.5
        c0 = np.clip(np.floor(u), 0, max(self.nx - 2, 0)).astype(np.int64)
        r0 = np.clip(np.floor(v), 0, max(self.ny - 2, 0)).astype(np.int64)
        c1 = np.minimum(c0 + 1, self.nx - 1)
        r1 = np.minimum(r0 + 1, self.ny - 1)
        fu, fv = u - c0, v - r0
        z = self.z.astype(np.float64)
        vals = np.stack([z[r0, c0], z[r0, c1], z[r1, c0], z[r1, c1]], axis=1)
        w = np.stack([(1 - fu) * (1 - fv), fu * (1 - fv), (1 - fu) * fv, fu * fv], axis=1)
        ok = ~np.isnan(vals)
        full = ok.all(1)
        out = np.full(len(x), np.nan)
        out[full] = (vals[full] * w[full]).sum(1)
        part = ~full & ok.any(1)
        if part.any():
            out[part] = np.nanmean(vals[part], axis=1)
        out[~inside] = np.nan
        return out


def grid_spec(x_min: float, y_min: float, x_max: float, y_max: float,
              resolution: float) -> tuple[float, float, int, int]:
    """``(x0, y0, nx, ny)`` of a grid at ``resolution`` covering the box, its corner on a
    multiple of the resolution (grids of one resolution line up). Raises ValueError for a
    resolution ≤ 0 or a grid of more than :data:`MAX_CELLS` cells."""
    if not (resolution > 0 and math.isfinite(resolution)):
        raise ValueError(f"resolution {resolution:g}: must be more than 0 m")
    x0 = math.floor(x_min / resolution) * resolution
    y0 = math.floor(y_min / resolution) * resolution
    nx = max(1, math.ceil((x_max - x0) / resolution - 1e-9))
    ny = max(1, math.ceil((y_max - y0) / resolution - 1e-9))
    # a point on the far edge belongs to the last cell; one that is past it gets a new one
    if x0 + nx * resolution < x_max:
        nx += 1
    if y0 + ny * resolution < y_max:
        ny += 1
    if nx * ny > MAX_CELLS:
        raise ValueError(f"a grid of {nx} x {ny} cells at {resolution:g} m is too large "
                         f"(at most {MAX_CELLS:,} cells): use a coarser resolution")
    return x0, y0, nx, ny


# ---------------------------------------------------------------- rasterising triangles
def _chunks(counts: NDArray[np.int64], size: int) -> Iterator[slice]:
    """Consecutive slices whose counts add up to about ``size`` (at least one item each)."""
    ends = np.cumsum(counts)
    start = 0
    while start < len(counts):
        base = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + size, side="right")))
        yield slice(start, stop)
        start = stop


def _expand(counts: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(item, k)`` for ``k in range(counts[item])`` of every item, flat."""
    item = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return item, k


def cover_cells(xy: NDArray[np.float64], x0: float, y0: float, cell: float, nx: int, ny: int,
                ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]]:
    """The cell centres inside each triangle, in chunks: yields ``(triangle, flat cell,
    barycentric (n, 3))``. ``xy`` is ``(T, 3, 2)``. Scanline: per triangle and row of centres
    the span of columns where the row crosses it, so a long thin triangle costs what it
    covers, not its bounding box. A centre on an edge shared by two triangles is in both;
    triangles with no area seen from above cover nothing."""
    u = (xy[..., 0] - x0) / cell - 0.5  # centre of column c is at u == c, of row r at v == r
    v = (xy[..., 1] - y0) / cell - 0.5
    eps = 1e-9
    r0 = np.maximum(np.ceil(v.min(1) - eps), 0).astype(np.int64)
    r1 = np.minimum(np.floor(v.max(1) + eps), ny - 1).astype(np.int64)
    ua, ub, uc = u[:, 0], u[:, 1], u[:, 2]
    va, vb, vc = v[:, 0], v[:, 1], v[:, 2]
    det = (vb - vc) * (ua - uc) + (uc - ub) * (va - vc)
    keep = (r1 >= r0) & (u.max(1) >= -eps) & (u.min(1) <= nx - 1 + eps) & (np.abs(det) > 1e-12)
    idx = np.flatnonzero(keep)
    for tsl in _chunks((r1 - r0 + 1)[idx], _CHUNK):
        tris = idx[tsl]
        item, k = _expand(r1[tris] - r0[tris] + 1)
        t = tris[item]
        row = (r0[t] + k).astype(np.float64)
        lo = np.full(len(t), np.inf)
        hi = np.full(len(t), -np.inf)
        for i, j in ((0, 1), (1, 2), (2, 0)):
            ui, uj, vi, vj = u[t, i], u[t, j], v[t, i], v[t, j]
            dv = vj - vi
            flat = np.abs(dv) < 1e-12
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.clip((row - vi) / np.where(flat, 1.0, dv), 0.0, 1.0)
            crosses = ~flat & (row >= np.minimum(vi, vj) - eps) & (row <= np.maximum(vi, vj) + eps)
            at = ui + s * (uj - ui)
            lo = np.where(crosses, np.minimum(lo, at), lo)
            hi = np.where(crosses, np.maximum(hi, at), hi)
            on = flat & (np.abs(row - vi) <= eps)  # a horizontal edge on the row: both ends
            lo = np.where(on, np.minimum(lo, np.minimum(ui, uj)), lo)
            hi = np.where(on, np.maximum(hi, np.maximum(ui, uj)), hi)
        c0 = np.maximum(np.ceil(lo - eps), 0).astype(np.int64)
        c1 = np.minimum(np.floor(hi + eps), nx - 1).astype(np.int64)
        n = np.where(np.isfinite(lo) & (c1 >= c0), c1 - c0 + 1, 0)
        for csl in _chunks(n, _CHUNK):
            it, kk = _expand(n[csl])
            tt = t[csl][it]
            col = c0[csl][it] + kk
            rr = r0[tt] + k[csl][it]
            pu = col - uc[tt]
            pv = rr - vc[tt]
            d = det[tt]
            l1 = ((vb[tt] - vc[tt]) * pu + (uc[tt] - ub[tt]) * pv) / d
            l2 = ((vc[tt] - va[tt]) * pu + (ua[tt] - uc[tt]) * pv) / d
            l3 = 1.0 - l1 - l2
            tol = -1e-7
            ins = (l1 >= tol) & (l2 >= tol) & (l3 >= tol)
            bary = np.clip(np.stack([l1[ins], l2[ins], l3[ins]], axis=1), 0.0, 1.0)
            yield tt[ins], rr[ins] * nx + col[ins], bary


def grid_from_triangles(xyz: NDArray[np.float64], resolution: float, crs: CRS | None = None,
                        bbox: tuple[float, float, float, float] | None = None,
                        source: str = "") -> HeightGrid:
    """Rasterise a TIN (``(T, 3, 3)`` world coordinates) at ``resolution``: every cell centre
    inside a triangle gets the height interpolated in it (the lowest where surfaces overlap);
    cells under no triangle are NaN. The grid covers ``bbox`` (x0, y0, x1, y1), by default
    the triangles' extent."""
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3, 3)
    if len(xyz) == 0:
        raise ValueError("no terrain triangles")
    if bbox is None:
        lo = xyz.reshape(-1, 3).min(0)
        hi = xyz.reshape(-1, 3).max(0)
        bbox = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    x0, y0, nx, ny = grid_spec(*bbox, resolution)
    # work relative to the grid corner: differences of large coordinates lose no digits
    rel = xyz[..., :2] - np.array([x0, y0])
    zflat = np.full(nx * ny, np.inf)
    for tri, cells, bary in cover_cells(rel, 0.0, 0.0, resolution, nx, ny):
        zt = xyz[tri, :, 2]
        np.minimum.at(zflat, cells, (bary * zt).sum(1))
    zflat[np.isinf(zflat)] = np.nan
    return HeightGrid(zflat.reshape(ny, nx).astype(np.float32), x0, y0, float(resolution), crs, source,
                      {"kind": "tin", "triangles": int(len(xyz))})


def terrain_triangles(model: CityModel, lod: float | str = "best") -> NDArray[np.bool_]:
    """Per triangle: terrain (an object of a relief type, or a surface coded Terrain), at the
    chosen LoD of each object (a TIN given at two LoDs is not counted twice)."""
    types = np.array([t in TERRAIN_TYPES for t in model.objects.types] + [False], dtype=bool)
    obj = model.tri_object
    by_type = types[np.where(obj >= 0, obj, len(types) - 1)]
    mask = by_type | (model.tri_semantic == SEMANTICS.index("Terrain"))
    if mask.any():
        mask &= model.lod_triangle_mask(lod)
    return mask


def grid_from_model(model: CityModel, resolution: float,
                    bbox: tuple[float, float, float, float] | None = None) -> HeightGrid:
    """The model's terrain triangles rasterised at ``resolution`` (ValueError when it has none)."""
    mask = terrain_triangles(model)
    if not mask.any():
        raise ValueError("no terrain (no TINRelief or other relief, no Terrain surfaces)")
    tri = model.triangles[mask]
    xyz = model.vertices[tri].astype(np.float64) + model.origin
    g = grid_from_triangles(xyz, resolution, model.crs, bbox, model.source)
    return g


# ---------------------------------------------------------------- lidar points
def fill_small_gaps(z: NDArray[np.float32], max_cells: float) -> tuple[NDArray[np.float32], int]:
    """Fill every gap (connected cells without data, 8-connected) whose cells all lie within
    ``max_cells`` cells of data, from the nearest cell with data; larger gaps (under buildings,
    water, outside the survey) stay empty. Returns the grid and how many cells were filled."""
    from scipy import ndimage

    hole = np.isnan(z)
    if not hole.any() or hole.all() or max_cells <= 0:
        return z, 0
    dist, (ri, ci) = ndimage.distance_transform_edt(hole, return_indices=True)
    labels, n = ndimage.label(hole, structure=np.ones((3, 3), bool))
    widest = ndimage.maximum(dist, labels, np.arange(1, n + 1))
    small = np.zeros(n + 1, bool)
    small[1:] = np.asarray(widest) <= max_cells
    fill = small[labels]
    out = z.copy()
    out[fill] = z[ri[fill], ci[fill]]
    return out, int(fill.sum())


def grid_from_points(xyz: NDArray[np.float64], resolution: float,
                     classification: NDArray[np.uint8] | None = None, stat: str = "auto",
                     fill_m: float = 2.0, crs: CRS | None = None,
                     bbox: tuple[float, float, float, float] | None = None, source: str = "") -> HeightGrid:
    """Grid lidar points at ``resolution``.

    With a classification that has ground points (ASPRS class 2), only those are kept and
    ``stat="auto"`` takes their mean per cell; without one (or with no ground points), every
    point is kept and ``auto`` takes the lowest per cell (the ground under vegetation).
    ``stat`` may also be ``"min"`` or ``"mean"``. Gaps whose cells are all within ``fill_m``
    metres of data are filled from the nearest cell (:func:`fill_small_gaps`).
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    if stat not in ("auto", "min", "mean"):
        raise ValueError(f"stat {stat!r}: 'auto', 'min' or 'mean'")
    if len(xyz) == 0:
        raise ValueError("no points")
    ground = None
    if classification is not None and len(classification) == len(xyz):
        g = classification == 2
        if g.any():
            ground = g
    pts = xyz[ground] if ground is not None else xyz
    how = stat if stat != "auto" else ("mean" if ground is not None else "min")
    if bbox is None:
        bbox = (float(xyz[:, 0].min()), float(xyz[:, 1].min()), float(xyz[:, 0].max()), float(xyz[:, 1].max()))
    x0, y0, nx, ny = grid_spec(*bbox, resolution)
    c = np.floor((pts[:, 0] - x0) / resolution).astype(np.int64)
    r = np.floor((pts[:, 1] - y0) / resolution).astype(np.int64)
    ok = (c >= 0) & (c < nx) & (r >= 0) & (r < ny)
    cells = (r * nx + c)[ok]
    zs = pts[ok, 2]
    n = np.bincount(cells, minlength=nx * ny)
    if how == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            zflat = np.bincount(cells, weights=zs, minlength=nx * ny) / n
    else:
        zflat = np.full(nx * ny, np.inf)
        np.minimum.at(zflat, cells, zs)
    zflat[n == 0] = np.nan
    z = zflat.reshape(ny, nx).astype(np.float32)
    empty = int((n == 0).sum())
    z, filled = fill_small_gaps(z, fill_m / resolution)
    return HeightGrid(z, x0, y0, float(resolution), crs, source, {
        "kind": "points", "points": int(len(xyz)), "used": int(ok.sum()),
        "ground_class": ground is not None, "stat": how, "empty_cells": empty, "filled_cells": filled})
