"""Flooding on a height grid: which cells are under a water level, how deep, and which
buildings the water reaches.

A water level is an absolute height (the grid's vertical datum) or a rise over the lowest
terrain (or over a given reference height): :meth:`Flood.level_for`. Two modes:

``bathtub``
    every cell whose terrain is below the level is under water;
``connected``
    only the cells below the level that are connected (8-connectivity, through cells below
    the level) to a source point (a river, the sea): ``scipy.ndimage.label`` per level.

Per object (top-level buildings by default, their parts rolled up): ``ground_m`` is the terrain
height at the lowest of its footprint corners (bilinear in the grid), or the object's lowest
vertex where there is no terrain under it; the object is flooded when the water reaches that
corner (bathtub: ``ground_m`` below the level; connected: also a wet cell next to the corner),
with ``depth_m = level - ground_m``; ``share`` is the part of its footprint cells (those with
terrain) under water.

Everything that does not depend on the level is computed once in :class:`Flood` (heights
with no-data as +inf, the objects' corners and footprint cells, the source cell), so a new
level costs a comparison, a labelling in connected mode and a few gathers: a few milliseconds
per million cells (``benchmarks/bench_flood.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.city import CityModel
from ..model.semantics import SEMANTICS, object_semantic
from .terrain import TERRAIN_TYPES, HeightGrid, cover_cells

__all__ = ["Flood", "FloodObjects", "FloodResult", "MODES", "object_roots"]

MODES = ("bathtub", "connected")
_EIGHT = np.ones((3, 3), dtype=bool)


def object_roots(model: CityModel) -> NDArray[np.int64]:
    """Per object: its top-level ancestor (itself when it has no parent)."""
    root = np.arange(model.n_objects, dtype=np.int64)
    par = model.objects.parents.astype(np.int64)
    for _ in range(64):  # pointer jumping: depth 2**64 is more than any model has
        up = par[root]
        step = up >= 0
        if not step.any():
            break
        root = np.where(step, up, root)
    return root


@dataclass
class FloodObjects:
    """What the flood needs of the objects, computed once: per candidate object (``index``
    into the model's object table) its ground height and lowest footprint corner, the cells
    around that corner and its footprint cells."""

    index: NDArray[np.int64]  # (K,) object indices (top-level objects)
    ground_m: NDArray[np.float64]  # (K,)
    ground_on_terrain: NDArray[np.bool_]  # (K,) False: the lowest vertex stood in for the terrain
    corner_xy: NDArray[np.float64]  # (K, 2) the lowest footprint corner
    near_cells: NDArray[np.int64]  # (K, m) flat cells around that corner; -1 = none
    fp_object: NDArray[np.int64]  # (F,) candidate of each footprint cell
    fp_cell: NDArray[np.int64]  # (F,) flat cell
    fp_cells_with_terrain: NDArray[np.int64]  # (K,)

    @classmethod
    def empty(cls) -> FloodObjects:
        i = np.zeros(0, np.int64)
        return cls(i, np.zeros(0), np.zeros(0, bool), np.zeros((0, 2)), np.zeros((0, 1), np.int64),
                   i, i, i)


@dataclass
class FloodResult:
    """One water level: the grid under water and the flooded objects."""

    level: float
    mode: str
    wet: NDArray[np.bool_]  # (ny, nx)
    depth: NDArray[np.float32]  # (ny, nx), 0 where dry
    cell: float
    flooded: NDArray[np.bool_]  # (K,) per candidate object
    objects: NDArray[np.int64]  # model object indices of the flooded ones
    ground_m: NDArray[np.float64]  # of the flooded ones
    depth_m: NDArray[np.float64]
    share: NDArray[np.float64]  # flooded part of the footprint cells with terrain; NaN: none
    ground_on_terrain: NDArray[np.bool_]
    corner_xy: NDArray[np.float64]  # (n, 2) the lowest footprint corner of each

    @property
    def cells(self) -> int:
        return int(self.wet.sum())

    @property
    def area_m2(self) -> float:
        return self.cells * self.cell * self.cell

    @property
    def volume_m3(self) -> float:
        return float(self.depth.sum(dtype=np.float64)) * self.cell * self.cell


class Flood:
    """A flood model over ``grid`` and (optionally) the objects of ``model``.

    ``objects``: ``"buildings"`` (top-level objects whose type is a building: Building,
    BuildingPart…, parts rolled up into their building), ``"standing"`` (every top-level
    object that is not ground-like: also bridges, trees, furniture, generic objects) or
    ``"none"``.
    """

    def __init__(self, grid: HeightGrid, model: CityModel | None = None, objects: str = "buildings") -> None:
        if objects not in ("buildings", "standing", "none"):
            raise ValueError(f"objects {objects!r}: 'buildings', 'standing' or 'none'")
        self.grid = grid
        z = grid.z.astype(np.float32, copy=False)
        self.zc = np.where(np.isnan(z), np.float32(np.inf), z)  # no data never floods
        self.zmin = grid.zmin()
        if math.isnan(self.zmin):
            raise ValueError("the terrain grid has no heights")
        self.objects = FloodObjects.empty() if model is None or objects == "none" \
            else self._objects(model, objects)
        self.source_cell: int | None = None

    # ------------------------------------------------------------------ inputs
    def level_for(self, level: float | None = None, rise: float | None = None,
                  reference: float | None = None) -> float:
        """The water level: ``level`` as given, or ``rise`` over ``reference`` (default: the
        lowest terrain)."""
        if (level is None) == (rise is None):
            raise ValueError("give a level or a rise (one of them)")
        if level is not None:
            return float(level)
        assert rise is not None
        return float((self.zmin if reference is None else reference) + rise)

    def set_source(self, x: float, y: float) -> int:
        """The source point of ``connected`` mode; ValueError outside the grid or where it has
        no terrain. Returns the flat cell."""
        g = self.grid
        r, c, inside = g.index(x, y)
        if not bool(inside):
            x0, y0, x1, y1 = g.extent
            raise ValueError(f"source {x:.2f},{y:.2f} is outside the terrain grid "
                             f"({x0:.2f}..{x1:.2f}, {y0:.2f}..{y1:.2f})")
        if math.isnan(float(g.z[r, c])):
            raise ValueError(f"source {x:.2f},{y:.2f} has no terrain height (a gap in the terrain)")
        self.source_cell = int(r) * g.nx + int(c)
        return self.source_cell

    def check_level(self, level: float, mode: str = "bathtub") -> None:
        """ValueError for a level that floods nothing, or a dry source in connected mode."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: 'bathtub' or 'connected'")
        if not math.isfinite(level):
            raise ValueError(f"level {level}: not a number")
        if level <= self.zmin:
            raise ValueError(f"level {level:.2f} m is below all terrain (the lowest is {self.zmin:.2f} m)")
        if mode == "connected":
            if self.source_cell is None:
                raise ValueError("connected mode needs a source point")
            zs = float(self.zc.flat[self.source_cell])
            if zs >= level:
                raise ValueError(f"the source is dry: its terrain is at {zs:.2f} m, not below the "
                                 f"level {level:.2f} m")

    # ------------------------------------------------------------------ per level
    def wet(self, level: float, mode: str = "bathtub") -> NDArray[np.bool_]:
        """Cells under water at ``level``."""
        below = self.zc < np.float32(level)
        if mode == "bathtub":
            return below
        from scipy import ndimage

        assert self.source_cell is not None
        labels, _ = ndimage.label(below, structure=_EIGHT)
        lab = labels.flat[self.source_cell]
        if lab == 0:
            return np.zeros_like(below)
        return labels == lab

    def at(self, level: float, mode: str = "bathtub") -> FloodResult:
        """Flood to ``level`` (checked by :meth:`check_level`)."""
        self.check_level(level, mode)
        wet = self.wet(level, mode)
        depth = np.where(wet, np.float32(level) - self.zc, np.float32(0)).astype(np.float32, copy=False)
        o = self.objects
        flooded = o.ground_m < level
        wet_flat = np.append(wet.ravel(), False)  # index -1 -> False
        if mode == "connected" and len(o.index):
            flooded &= wet_flat[o.near_cells].any(1)
        k = np.flatnonzero(flooded)
        n_wet = np.bincount(o.fp_object, weights=wet_flat[o.fp_cell], minlength=len(o.index))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(o.fp_cells_with_terrain > 0, n_wet / o.fp_cells_with_terrain, np.nan)
        return FloodResult(
            level=float(level), mode=mode, wet=wet, depth=depth, cell=self.grid.cell, flooded=flooded,
            objects=o.index[k], ground_m=o.ground_m[k], depth_m=level - o.ground_m[k], share=share[k],
            ground_on_terrain=o.ground_on_terrain[k], corner_xy=o.corner_xy[k])

    # ------------------------------------------------------------------ objects, once
    def _objects(self, model: CityModel, which: str) -> FloodObjects:
        g = self.grid
        if model.n_objects == 0 or len(model.polygons) == 0:
            return FloodObjects.empty()
        roots = object_roots(model)
        types = model.objects.types
        building = SEMANTICS.index("Building")
        ground_like = model.ground_objects()
        cand = np.zeros(model.n_objects, bool)
        for i in np.unique(roots).tolist():
            t = types[i]
            if t in TERRAIN_TYPES or ground_like[i]:
                continue
            if which == "buildings" and object_semantic(t) != building:
                continue
            cand[i] = True
        p = model.polygons
        poly_root = roots[p.object]
        use_poly = cand[poly_root]
        if not use_poly.any():
            return FloodObjects.empty()
        # footprint polygons: LoD0 or ground surfaces where an object has them, else all of its polygons
        foot = use_poly & ((p.lod == 0) | (p.semantic == SEMANTICS.index("GroundSurface")))
        has_foot = np.zeros(model.n_objects, bool)
        has_foot[poly_root[foot]] = True
        sel_poly = use_poly & (foot | ~has_foot[poly_root])
        # the corners of those polygons
        n_rings = np.diff(p.poly_ring_offsets)
        ring_poly = np.repeat(np.arange(len(p.object)), n_rings)
        corner_poly = ring_poly[np.repeat(np.arange(len(p.ring_offsets) - 1), np.diff(p.ring_offsets))]
        corner_root = poly_root[corner_poly]
        verts = model.vertices.astype(np.float64) + model.origin
        # lowest vertex of every candidate (all of its polygons): where no terrain is under it
        lowest = np.full(model.n_objects, np.inf)
        all_c = use_poly[corner_poly]
        np.minimum.at(lowest, corner_root[all_c], verts[p.ring_idx[all_c], 2])
        sel_c = sel_poly[corner_poly]
        pairs = np.unique(np.stack([corner_root[sel_c], p.ring_idx[sel_c].astype(np.int64)], 1), axis=0)
        index = np.flatnonzero(cand & np.isfinite(lowest))
        kpos = np.full(model.n_objects, -1, np.int64)
        kpos[index] = np.arange(len(index))
        pairs = pairs[kpos[pairs[:, 0]] >= 0]
        pk, pv = kpos[pairs[:, 0]], pairs[:, 1]
        zt = g.sample(verts[pv, 0], verts[pv, 1])
        # per candidate: the corner with the lowest terrain (those without terrain sort last)
        order = np.lexsort((np.where(np.isnan(zt), np.inf, zt), pk))
        first = np.ones(len(order), bool)
        first[1:] = pk[order][1:] != pk[order][:-1]
        best = order[first]  # one per candidate, in candidate order
        ground = zt[best]
        on_terrain = ~np.isnan(ground)
        ground = np.where(on_terrain, ground, lowest[index])
        corner_xy = verts[pv[best], :2]
        # cells around the lowest corner (the corner's own cell may be under the building)
        rad = int(min(3, max(1, math.ceil(1.0 / g.cell))))
        r, c, inside = g.index(corner_xy[:, 0], corner_xy[:, 1])
        dr, dc = np.meshgrid(np.arange(-rad, rad + 1), np.arange(-rad, rad + 1), indexing="ij")
        rr = r[:, None] + dr.ravel()[None, :]
        cc = c[:, None] + dc.ravel()[None, :]
        ok = inside[:, None] & (rr >= 0) & (rr < g.ny) & (cc >= 0) & (cc < g.nx)
        near = np.where(ok, rr * g.nx + cc, -1)
        # footprint cells: the selected polygons' triangles seen from above
        tri_sel = sel_poly[model.tri_poly]
        tri_k = kpos[poly_root[model.tri_poly[tri_sel]]]
        xy = verts[model.triangles[tri_sel]][..., :2] - np.array([g.x0, g.y0])
        keys = []
        for t, cells, _ in cover_cells(xy, 0.0, 0.0, g.cell, g.nx, g.ny):
            keys.append(tri_k[t] * (g.nx * g.ny) + cells)
        key = np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
        fp_k, fp_cell = np.divmod(key, g.nx * g.ny)
        has_z = np.isfinite(self.zc.ravel()[fp_cell])
        fp_k, fp_cell = fp_k[has_z], fp_cell[has_z]
        with_terrain = np.bincount(fp_k, minlength=len(index)).astype(np.int64)
        return FloodObjects(index=index, ground_m=ground.astype(np.float64), ground_on_terrain=on_terrain,
                            corner_xy=corner_xy, near_cells=near.astype(np.int64), fp_object=fp_k.astype(np.int64),
                            fp_cell=fp_cell.astype(np.int64), fp_cells_with_terrain=with_terrain)

    def describe(self) -> dict[str, Any]:
        g = self.grid
        return {"cells": g.nx * g.ny, "nx": g.nx, "ny": g.ny, "cell": g.cell,
                "lowest_m": self.zmin, "highest_m": g.zmax(), "objects": int(len(self.objects.index))}
