"""CityModel: a city kept the way the GPU wants it.

Geometry is a float64 scene ``origin`` plus a float32 vertex array relative to it,
original polygons as flat index arrays (CityJSON's own shape) and their
triangulation as an int32 triangle array with, per triangle, the polygon it comes
from; the polygon gives object, semantic surface type, LoD, material and texture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from ..core.errors import LoadReport
from ..core.geometry import newell_normals, polygon_areas, triangle_areas
from .objects import ObjectTable
from .semantics import SEMANTICS, is_ground_type

__all__ = ["CityModel", "ObjectTable", "lod_value", "lod_code"]


def lod_code(lod: float | str | None) -> int:
    """LoD stored per polygon as tenths: ``2.2 -> 22``; unknown -> 255."""
    if lod is None or lod == "":
        return 255
    try:
        return int(round(float(lod) * 10))
    except (TypeError, ValueError):
        return 255


def lod_value(code: int) -> float | None:
    return None if code == 255 else code / 10.0


@dataclass
class Polygons:
    """Original polygons: flat rings plus per-polygon properties."""

    ring_idx: NDArray[np.int32]  # (C,) vertex index of each ring corner
    ring_offsets: NDArray[np.int64]  # (R + 1,)
    poly_ring_offsets: NDArray[np.int64]  # (P + 1,)
    object: NDArray[np.int32]  # (P,)
    semantic: NDArray[np.uint8]  # (P,)
    lod: NDArray[np.uint8]  # (P,) tenths, 255 = unknown
    material: NDArray[np.int32]  # (P,) index into CityModel.materials or -1
    texture: NDArray[np.int32]  # (P,) index into CityModel.textures or -1
    uv: NDArray[np.float32] | None = None  # (C, 2) per corner, NaN where none

    def __len__(self) -> int:
        return len(self.object)


@dataclass
class CityModel:
    """One loaded city model (one file, or several merged into one scene CRS)."""

    source: str
    format: str
    version: str
    crs: CRS | None
    origin: NDArray[np.float64]
    vertices: NDArray[np.float32]
    polygons: Polygons
    corners: NDArray[np.int32]  # (T, 3) positions in polygons.ring_idx
    tri_poly: NDArray[np.int32]  # (T,)
    objects: ObjectTable
    materials: list[dict[str, Any]] = field(default_factory=list)
    textures: list[dict[str, Any]] = field(default_factory=list)
    report: LoadReport = field(default_factory=LoadReport)
    metadata: dict[str, Any] = field(default_factory=dict)
    source_crs: CRS | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_objects(self) -> int:
        return len(self.objects)

    @property
    def n_triangles(self) -> int:
        return len(self.tri_poly)

    # ------------------------------------------------------ per-triangle data
    def _cached(self, key: str, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def triangles(self) -> NDArray[np.int32]:
        """``(T, 3)`` vertex indices."""
        return self._cached(
            "triangles", lambda: self.polygons.ring_idx[self.corners].astype(np.int32)
        )

    @property
    def tri_object(self) -> NDArray[np.int32]:
        return self._cached("tri_object", lambda: self.polygons.object[self.tri_poly])

    @property
    def tri_semantic(self) -> NDArray[np.uint8]:
        return self._cached("tri_semantic", lambda: self.polygons.semantic[self.tri_poly])

    @property
    def tri_lod(self) -> NDArray[np.uint8]:
        return self._cached("tri_lod", lambda: self.polygons.lod[self.tri_poly])

    @property
    def tri_uv(self) -> NDArray[np.float32] | None:
        """``(T, 3, 2)`` texture coordinates, or None when the model has no textures."""
        if self.polygons.uv is None:
            return None
        uv = self.polygons.uv
        return self._cached("tri_uv", lambda: uv[self.corners])

    def world_vertices(self) -> NDArray[np.float64]:
        return self.vertices.astype(np.float64) + self.origin

    # ------------------------------------------------------------------- LoDs
    def lods(self) -> list[float]:
        """LoDs present, as numbers (2.2 for CityJSON's "2.2")."""
        codes = np.unique(self.polygons.lod)
        return [c / 10.0 for c in codes.tolist() if c != 255]

    def best_lod_per_object(self) -> NDArray[np.int64]:
        """Highest LoD code (tenths) each object has; -1 without geometry."""
        best = np.full(self.n_objects, -1, dtype=np.int64)
        lod = self.polygons.lod.astype(np.int64)
        lod = np.where(lod == 255, -1, lod)  # unknown LoD ranks lowest
        np.maximum.at(best, self.polygons.object, np.maximum(lod, 0))
        return best

    def lod_polygon_mask(self, lod: float | str = "best") -> NDArray[np.bool_]:
        """Polygons to draw for ``lod``: a number (that LoD only), ``"best"`` or
        ``"lowest"`` (per object, the highest or lowest LoD it has)."""
        codes = self.polygons.lod.astype(np.int64)
        if lod in ("best", "lowest"):
            fill = -1 if lod == "best" else 10_000
            per = np.full(self.n_objects, fill, dtype=np.int64)
            ufunc = np.maximum if lod == "best" else np.minimum
            ufunc.at(per, self.polygons.object, codes)
            return codes == per[self.polygons.object]
        return codes == lod_code(lod)

    def lod_triangle_mask(self, lod: float | str = "best") -> NDArray[np.bool_]:
        return self.lod_polygon_mask(lod)[self.tri_poly]

    # ---------------------------------------------------------- measurements
    def bbox(self) -> NDArray[np.float64]:
        """``(2, 3)`` min and max corner in the model CRS (all geometry)."""
        if len(self.vertices) == 0:
            return np.zeros((2, 3))
        used = self.vertices[np.unique(self.polygons.ring_idx)] if len(self.polygons.ring_idx) else self.vertices
        return np.stack([used.min(0), used.max(0)]).astype(np.float64) + self.origin

    def polygon_areas(self) -> NDArray[np.float64]:
        p = self.polygons
        return self._cached(
            "poly_area",
            lambda: polygon_areas(
                self.vertices.astype(np.float64), p.ring_idx.astype(np.int64),
                p.ring_offsets, p.poly_ring_offsets,
            ),
        )

    def triangle_areas(self) -> NDArray[np.float64]:
        return self._cached(
            "tri_area", lambda: triangle_areas(self.vertices.astype(np.float64), self.triangles)
        )

    def total_area(self, lod: float | str = "best") -> float:
        """Total triangulated surface area of the chosen LoD."""
        return float(self.triangle_areas()[self.lod_triangle_mask(lod)].sum())

    def object_bboxes(self) -> NDArray[np.float64]:
        """``(O, 2, 3)`` bounding box of every object including its descendants (NaN if none)."""

        def make() -> NDArray[np.float64]:
            n = self.n_objects
            lo = np.full((n, 3), np.inf)
            hi = np.full((n, 3), -np.inf)
            p = self.polygons
            corner_ring = np.repeat(np.arange(len(p.ring_offsets) - 1), np.diff(p.ring_offsets))
            ring_poly = np.repeat(np.arange(len(p.object)), np.diff(p.poly_ring_offsets))
            corner_obj = p.object[ring_poly[corner_ring]]
            v = self.vertices[p.ring_idx].astype(np.float64)
            # roll each object's box up to its ancestors
            roots_needed = self.objects.parents
            owner = corner_obj.astype(np.int64)
            while len(owner):
                np.minimum.at(lo, owner, v)
                np.maximum.at(hi, owner, v)
                par = roots_needed[owner]
                keep = par >= 0
                owner, v = par[keep].astype(np.int64), v[keep]
            out = np.stack([lo, hi], axis=1) + self.origin
            out[~np.isfinite(out)] = np.nan
            return out

        return self._cached("obj_bbox", make)

    # Per-object measures, the same for the Attributes dock, the Objects table and the
    # filter. Objects that stand on the ground (buildings, parts, bridges, tunnels,
    # furniture, trees, generic objects) have a height (top - ground) and a footprint
    # (projected area of their LoD0 footprint, else of their ground surfaces, else of
    # everything seen from above). Ground-like objects (is_ground_type: terrain, roads,
    # traffic areas, railways, water, land use, plant cover) have neither: their height
    # and footprint area are NaN (shown blank) and their projected size is plan_area().
    # surface_area() is the true 3D area of every object's polygons (a TIN's triangles).
    def ground_objects(self) -> NDArray[np.bool_]:
        """Per object: True for ground-like types (no height, no footprint)."""
        return self._cached("ground_objects", lambda: np.array(
            [is_ground_type(t) for t in self.objects.types], dtype=bool).reshape(-1))

    def height(self, i: int) -> float:
        """``measuredHeight`` where given, else the vertical extent of the geometry;
        NaN for ground-like objects (terrain, roads, water, land use, plant cover)."""
        if self.ground_objects()[i]:
            return float("nan")
        attrs = self.objects.attributes[i]
        for key in ("measuredHeight", "measuredheight", "height"):
            val = attrs.get(key)
            if isinstance(val, dict):
                val = val.get("value")
            try:
                if val is not None and np.isfinite(float(val)):
                    return float(val)
            except (TypeError, ValueError):
                pass
        bb = self.object_bboxes()[i]
        return float(bb[1, 2] - bb[0, 2]) if np.isfinite(bb).all() else float("nan")

    def _object_polygons(self, i: int, lod: float | str = "best") -> NDArray[np.bool_]:
        objs = np.asarray(self.objects.descendants(i))
        return np.isin(self.polygons.object, objs) & self.lod_polygon_mask(lod)

    def polygon_plan_areas(self) -> NDArray[np.float64]:
        """Area of each polygon projected on the horizontal plane (holes subtracted)."""
        def make() -> NDArray[np.float64]:
            p = self.polygons
            nz = np.abs(newell_normals(self.vertices.astype(np.float64), p.ring_idx.astype(np.int64),
                                       p.ring_offsets)[:, 2]) * 0.5
            n_rings = np.diff(p.poly_ring_offsets)
            ring_poly = np.repeat(np.arange(len(n_rings)), n_rings)
            outer = np.zeros(len(nz), bool)
            outer[p.poly_ring_offsets[:-1][n_rings > 0]] = True
            return np.bincount(ring_poly, weights=np.where(outer, nz, -nz),
                               minlength=len(n_rings)).astype(np.float64)

        return self._cached("poly_plan_area", make)

    def surface_area(self, i: int, lod: float | str = "best") -> float:
        """True (3D) area of the polygons of object ``i`` and its descendants at ``lod``:
        from the polygons, so it does not depend on which triangles a layer draws."""
        return float(self.polygon_areas()[self._object_polygons(i, lod)].sum())

    def plan_area(self, i: int, lod: float | str = "best") -> float:
        """Area of object ``i`` and its descendants seen from above (sum of the polygons'
        horizontal projections: a terrain's, road's or lake's size on the map)."""
        return float(self.polygon_plan_areas()[self._object_polygons(i, lod)].sum())

    def footprint_area(self, i: int, max_triangles: int | None = None) -> float:
        """Area of :meth:`footprint`; NaN for ground-like objects. Without LoD0 polygons
        and with more than ``max_triangles`` triangles, the sum of the ground surfaces'
        projections, or of the upward-facing triangles', replaces the exact union."""
        if self.ground_objects()[i]:
            return float("nan")
        objs = np.asarray(self.objects.descendants(i))
        pmask = np.isin(self.polygons.object, objs)
        lod0 = pmask & (self.polygons.lod == 0)
        if not lod0.any() and max_triangles is not None:
            tmask = np.isin(self.tri_object, objs)
            if int(tmask.sum()) > max_triangles:
                ground = pmask & (self.polygons.semantic == SEMANTICS.index("GroundSurface"))
                if ground.any():
                    return float(self.polygon_plan_areas()[ground].sum())
                v = self.vertices.astype(np.float64)[self.triangles[tmask & self.lod_triangle_mask("best")]]
                cz = (v[:, 1, 0] - v[:, 0, 0]) * (v[:, 2, 1] - v[:, 0, 1]) \
                    - (v[:, 2, 0] - v[:, 0, 0]) * (v[:, 1, 1] - v[:, 0, 1])
                return float(0.5 * cz[cz > 0].sum())
        return float(self.footprint(i).area)

    def footprint(self, i: int) -> Any:
        """Footprint (shapely geometry, model CRS) of object ``i`` and its descendants.

        LoD0 footprint polygons where present, else ground surfaces, else the union of
        all triangles seen from above.
        """
        cache = self._cache.setdefault("footprints", {})
        if i in cache:
            return cache[i]
        import shapely

        objs = np.asarray(self.objects.descendants(i))
        tmask = np.isin(self.tri_object, objs)
        lod0 = tmask & (self.tri_lod == 0)
        ground = tmask & (self.tri_semantic == SEMANTICS.index("GroundSurface"))
        use = lod0 if lod0.any() else ground if ground.any() else tmask
        tri = self.triangles[use]
        xy = self.vertices[:, :2].astype(np.float64)[tri] + self.origin[:2]
        a = 0.5 * np.abs(
            (xy[:, 1, 0] - xy[:, 0, 0]) * (xy[:, 2, 1] - xy[:, 0, 1])
            - (xy[:, 2, 0] - xy[:, 0, 0]) * (xy[:, 1, 1] - xy[:, 0, 1])
        )
        xy = xy[a > 1e-6]
        if len(xy) == 0:
            geom = shapely.Polygon()
        else:
            rings = np.concatenate([xy, xy[:, :1]], axis=1)
            geom = shapely.union_all(shapely.polygons(rings), grid_size=1e-4)
        cache[i] = geom
        return geom

    def counts_by_type(self) -> dict[str, int]:
        return self.objects.counts_by_type()

    def summary(self) -> dict[str, Any]:
        return {
            "objects": self.n_objects,
            "polygons": len(self.polygons),
            "triangles": self.n_triangles,
            "vertices": len(self.vertices),
            "lods": self.lods(),
        }
