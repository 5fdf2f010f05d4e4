"""Per-surface analysis results gathered per object: roofs, façades, everything.

A polygon is a roof or a façade by its semantic surface type where the data has one
(RoofSurface; WallSurface, Window, Door), and by its normal where it has none
(facing up more than 60° from the horizon: roof; within 30° of horizontal: façade).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model.city import CityModel
from ..model.semantics import SEMANTICS

ROOF, FACADE, OTHER = 0, 1, 2
_ROOF = {SEMANTICS.index("RoofSurface")}
_FACADE = {SEMANTICS.index(n) for n in ("WallSurface", "Window", "Door")}
_UNKNOWN = SEMANTICS.index("Unknown")


def surface_class(semantic: NDArray[np.integer], normals: NDArray[np.float64]) -> NDArray[np.int8]:
    """ROOF, FACADE or OTHER per polygon."""
    sem = np.asarray(semantic)
    nz = normals[:, 2]
    by_normal = np.where(nz > np.sin(np.radians(60)), ROOF,
                         np.where(np.abs(nz) < np.sin(np.radians(30)), FACADE, OTHER))
    by_sem = np.where(np.isin(sem, list(_ROOF)), ROOF, np.where(np.isin(sem, list(_FACADE)), FACADE, OTHER))
    return np.where(sem == _UNKNOWN, by_normal, by_sem).astype(np.int8)


def surface_index(model: CityModel, polygons: NDArray[np.int64]) -> NDArray[np.int64]:
    """The position of each polygon among its object's analysed polygons (0, 1, …)."""
    obj = model.polygons.object[polygons].astype(np.int64)
    order = np.lexsort((polygons, obj))
    out = np.empty(len(polygons), dtype=np.int64)
    sorted_obj = obj[order]
    starts = np.flatnonzero(np.r_[True, sorted_obj[1:] != sorted_obj[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    out[order] = np.arange(len(order)) - run_start
    return out


@dataclass(frozen=True)
class ObjectTotals:
    """Per object (``objects`` are model object indices): area (m²), area-weighted mean
    of a per-area value, and the value times area, for roofs, façades and all surfaces."""

    objects: NDArray[np.int64]
    parts: NDArray[np.int64]  # 0: the object's own surfaces; k > 0: a parent without surfaces of its own, over its k parts
    area: dict[str, NDArray[np.float64]]
    mean: dict[str, dict[str, NDArray[np.float64]]]  # class -> value name -> per object
    total: dict[str, dict[str, NDArray[np.float64]]]


def per_object(model: CityModel, polygons: NDArray[np.int64], areas: NDArray[np.float64],
               classes: NDArray[np.int8], values: dict[str, NDArray[np.float64]]) -> ObjectTotals:
    """Gather per-polygon ``values`` (per m² or per surface, e.g. sun hours) per object.

    A parent without surfaces of its own (a Building made of BuildingParts) gets a row
    over all its parts' surfaces, so that every building has its totals; rows never
    overlap (a parent with surfaces of its own keeps just those).
    """
    obj = model.polygons.object[polygons].astype(np.int64)
    own = np.unique(obj)
    parents = np.asarray(model.objects.parents, dtype=np.int64)
    has_own = np.zeros(model.n_objects, dtype=bool)
    has_own[own] = True
    # each polygon's row: its object, or the nearest ancestor-without-surfaces chain's top
    row_obj = [obj]
    cur = obj.copy()
    while True:
        up = parents[cur]
        lift = (up >= 0) & ~has_own[np.maximum(up, 0)]
        if not lift.any():
            break
        cur = np.where(lift, up, cur)
        row_obj.append(np.where(lift, cur, -1))
    extra = [r[r >= 0] for r in row_obj[1:]]
    src = [np.arange(len(obj))] + [np.flatnonzero(r >= 0) for r in row_obj[1:]]
    all_obj = np.concatenate([obj, *extra])
    all_src = np.concatenate(src)
    objects, inv = np.unique(all_obj, return_inverse=True)
    n = len(objects)
    child_count = np.bincount(parents[parents >= 0], minlength=model.n_objects)
    parts = np.where(has_own[objects], 0, child_count[objects]).astype(np.int64)
    areas = areas[all_src]
    classes = classes[all_src]
    values = {k: v[all_src] for k, v in values.items()}
    area: dict[str, NDArray[np.float64]] = {}
    mean: dict[str, dict[str, NDArray[np.float64]]] = {}
    total: dict[str, dict[str, NDArray[np.float64]]] = {}
    for name, sel in (("roof", classes == ROOF), ("facade", classes == FACADE), ("all", np.ones(len(inv), bool))):
        w = np.where(sel, areas, 0.0)
        a = np.bincount(inv, weights=w, minlength=n).astype(np.float64)
        area[name] = a
        mean[name], total[name] = {}, {}
        for key, v in values.items():
            t = np.bincount(inv, weights=w * v, minlength=n).astype(np.float64)
            total[name][key] = t
            with np.errstate(invalid="ignore", divide="ignore"):
                mean[name][key] = np.where(a > 0, t / np.where(a > 0, a, 1.0), np.nan)
    return ObjectTotals(objects=objects, parts=parts, area=area, mean=mean, total=total)
