"""CityModelBuilder: what readers feed, in batches, to make a :class:`CityModel`.

Readers add objects to ``builder.objects`` and polygons either as coordinate rings
(:meth:`add_polygon`, CityGML) or as index rings into vertices added with
:meth:`add_vertices` (:meth:`add_polygons`, CityJSON). :meth:`build` then does
everything once, vectorised: geographic coordinates are projected to a metric CRS,
the origin is subtracted, all polygons are triangulated in one batch, and broken
polygons are counted per kind in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from ..core import crs as crsmod
from ..core.errors import LoadReport, plural
from ..core.geometry import (
    DEGENERATE,
    NON_PLANAR,
    SELF_INTERSECTING,
    TRIANGULATION_FAILED,
    triangulate_polygons,
)
from .city import CityModel, Polygons, lod_code
from .objects import ObjectTable

_STATUS_KINDS = (
    (DEGENERATE, "degenerate-polygon"),
    (NON_PLANAR, "non-planar-polygon"),
    (SELF_INTERSECTING, "self-intersecting-polygon"),
    (TRIANGULATION_FAILED, "triangulation-failed"),
)


class CityModelBuilder:
    """Accumulates objects, vertices and polygons; :meth:`build` makes the model."""

    def __init__(
        self,
        source: str,
        fmt: str,
        version: str = "",
        crs: CRS | None = None,
        report: LoadReport | None = None,
    ) -> None:
        self.source = source
        self.format = fmt
        self.version = version
        self.crs = crs
        self.report = report if report is not None else LoadReport(path=source)
        self.objects = ObjectTable()
        self.materials: list[dict[str, Any]] = []
        self.textures: list[dict[str, Any]] = []
        self.metadata: dict[str, Any] = {}
        self._vchunks: list[NDArray[np.float64]] = []
        self._nverts = 0
        # polygon chunks
        self._ring_idx: list[NDArray[np.int64]] = []
        self._ring_sizes: list[NDArray[np.int64]] = []
        self._poly_nrings: list[NDArray[np.int64]] = []
        self._poly_obj: list[NDArray[np.int32]] = []
        self._poly_sem: list[NDArray[np.uint8]] = []
        self._poly_lod: list[NDArray[np.uint8]] = []
        self._poly_mat: list[NDArray[np.int32]] = []
        self._poly_tex: list[NDArray[np.int32]] = []
        self._uv: list[tuple[int, NDArray[np.float32]]] = []  # (corner start, uv)
        self._ncorners = 0
        # single-polygon staging (CityGML adds one polygon at a time)
        self._s_rings: list[NDArray[np.float64]] = []
        self._s_sizes: list[int] = []
        self._s_nrings: list[int] = []
        self._s_obj: list[int] = []
        self._s_sem: list[int] = []
        self._s_lod: list[int] = []
        self._s_mat: list[int] = []
        self._s_tex: list[int] = []
        self._s_uv: list[tuple[int, NDArray[np.float32]]] = []
        self._s_corners = 0

    # ---------------------------------------------------------------- objects
    def add_object(
        self, obj_id: str, obj_type: str, attributes: dict[str, Any] | None = None, parent: int = -1
    ) -> int:
        if obj_id in self.objects.index:
            self.report.warn("duplicate-id", f"object id '{obj_id}' appears twice; renamed")
        return self.objects.add(obj_id, obj_type, attributes, parent)

    def add_material(self, material: dict[str, Any]) -> int:
        self.materials.append(material)
        return len(self.materials) - 1

    def add_texture(self, path: str, found: bool, **extra: Any) -> int:
        self.textures.append({"path": path, "found": found, **extra})
        if not found:
            self.report.warn("missing-texture", f"texture image not found: {path}")
        return len(self.textures) - 1

    # ------------------------------------------------------- indexed polygons
    def add_vertices(self, xyz: ArrayLike) -> int:
        """Add ``(N, 3)`` vertices; return the index of the first one."""
        arr = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        self._flush_single()
        start = self._nverts
        self._vchunks.append(arr)
        self._nverts += len(arr)
        return start

    @property
    def n_vertices(self) -> int:
        return self._nverts + sum(len(r) for r in self._s_rings)

    def add_polygons(
        self,
        obj: int | ArrayLike,
        ring_idx: ArrayLike,
        ring_sizes: ArrayLike,
        poly_nrings: ArrayLike,
        semantic: int | ArrayLike = 0,
        lod: float | str | None = None,
        material: int | ArrayLike = -1,
        texture: int | ArrayLike = -1,
        uv: ArrayLike | None = None,
    ) -> None:
        """Add polygons whose rings index vertices added with :meth:`add_vertices`.

        ``ring_idx`` lists every corner of every ring (no closing duplicate),
        ``ring_sizes`` the corner count of every ring and ``poly_nrings`` the ring
        count of every polygon (exterior first). Scalars apply to all polygons.
        ``uv`` is ``(len(ring_idx), 2)`` texture coordinates (NaN where none).
        """
        self._flush_single()
        ri = np.asarray(ring_idx, dtype=np.int64)
        rs = np.asarray(ring_sizes, dtype=np.int64)
        pn = np.asarray(poly_nrings, dtype=np.int64)
        n = len(pn)
        if n == 0:
            return
        self._ring_idx.append(ri)
        self._ring_sizes.append(rs)
        self._poly_nrings.append(pn)
        self._poly_obj.append(np.broadcast_to(np.asarray(obj, np.int32), (n,)))
        self._poly_sem.append(np.broadcast_to(np.asarray(semantic, np.uint8), (n,)))
        self._poly_lod.append(np.full(n, lod_code(lod), np.uint8))
        self._poly_mat.append(np.broadcast_to(np.asarray(material, np.int32), (n,)))
        self._poly_tex.append(np.broadcast_to(np.asarray(texture, np.int32), (n,)))
        if uv is not None:
            self._uv.append((self._ncorners, np.asarray(uv, np.float32).reshape(-1, 2)))
        self._ncorners += len(ri)

    # ------------------------------------------------------ coordinate polygons
    def add_polygon(
        self,
        obj: int,
        rings: Sequence[NDArray[np.float64]],
        semantic: int = 0,
        lod: float | str | None = None,
        material: int = -1,
        texture: int = -1,
        uvs: Sequence[NDArray[np.float64] | None] | None = None,
    ) -> None:
        """Add one polygon given as ``(n, 3)`` coordinate rings (closing point optional).

        ``uvs``, if given, has one ``(n, 2)`` array (or None) per ring, matching the
        ring's corners as passed (closing point included or not, like the ring).
        """
        sizes = []
        kept = []
        kept_uv: list[NDArray[np.float32]] = []
        any_uv = False
        for k, r in enumerate(rings):
            r = np.asarray(r, dtype=np.float64)
            n = len(r)
            if n >= 2 and np.array_equal(r[0], r[-1]):
                n -= 1
            if n < 1:
                continue
            kept.append(r[:n])
            sizes.append(n)
            u = uvs[k] if uvs is not None and k < len(uvs) else None
            if u is not None and len(u) >= n:
                kept_uv.append(np.asarray(u[:n], np.float32))
                any_uv = True
            else:
                kept_uv.append(np.full((n, 2), np.nan, np.float32))
        if not kept:
            self.report.warn(
                "degenerate-polygon", f"{self.objects.ids[obj] if obj >= 0 else '?'}: empty polygon"
            )
            return
        if any_uv:
            self._s_uv.append((self._s_corners, np.concatenate(kept_uv)))
        self._s_rings.extend(kept)
        self._s_sizes.extend(sizes)
        self._s_corners += sum(sizes)
        self._s_nrings.append(len(kept))
        self._s_obj.append(obj)
        self._s_sem.append(semantic)
        self._s_lod.append(lod_code(lod))
        self._s_mat.append(material)
        self._s_tex.append(texture)

    def _flush_single(self) -> None:
        if not self._s_nrings:
            return
        coords = np.concatenate(self._s_rings)
        start = self._nverts
        self._vchunks.append(coords)
        self._nverts += len(coords)
        self._ring_idx.append(np.arange(start, start + len(coords), dtype=np.int64))
        self._ring_sizes.append(np.asarray(self._s_sizes, np.int64))
        self._poly_nrings.append(np.asarray(self._s_nrings, np.int64))
        self._poly_obj.append(np.asarray(self._s_obj, np.int32))
        self._poly_sem.append(np.asarray(self._s_sem, np.uint8))
        self._poly_lod.append(np.asarray(self._s_lod, np.uint8))
        self._poly_mat.append(np.asarray(self._s_mat, np.int32))
        self._poly_tex.append(np.asarray(self._s_tex, np.int32))
        for off, uv in self._s_uv:
            self._uv.append((self._ncorners + off, uv))
        self._ncorners += len(coords)
        self._s_rings, self._s_sizes, self._s_nrings = [], [], []
        self._s_obj, self._s_sem, self._s_lod, self._s_mat, self._s_tex = [], [], [], [], []
        self._s_uv, self._s_corners = [], 0

    # ------------------------------------------------------------------ build
    def build(
        self,
        target_crs: CRS | None = None,
        origin: ArrayLike | None = None,
        planarity_tol: float = 0.05,
    ) -> CityModel:
        """Triangulate everything once and return the model.

        Geographic coordinates are projected to a metric CRS (UTM of the data's
        centre, or ``target_crs``); ``origin`` (float64) defaults to the rounded
        centre of the data.
        """
        self._flush_single()
        verts = np.concatenate(self._vchunks) if self._vchunks else np.zeros((0, 3))

        def cat(chunks: list[Any], dtype: Any) -> NDArray[Any]:
            return np.concatenate(chunks).astype(dtype, copy=False) if chunks else np.zeros(0, dtype)

        ring_idx = cat(self._ring_idx, np.int64)
        ring_sizes = cat(self._ring_sizes, np.int64)
        poly_nrings = cat(self._poly_nrings, np.int64)
        ring_offsets = np.concatenate([[0], np.cumsum(ring_sizes)]).astype(np.int64)
        poly_ring_offsets = np.concatenate([[0], np.cumsum(poly_nrings)]).astype(np.int64)
        if len(ring_idx) and (ring_idx.max() >= len(verts) or ring_idx.min() < 0):
            bad = int(((ring_idx >= len(verts)) | (ring_idx < 0)).sum())
            self.report.warn("bad-vertex-index", f"{bad} corner(s) index missing vertices")
            ring_idx = np.clip(ring_idx, 0, max(len(verts) - 1, 0))

        source_crs = self.crs
        crs = self.crs
        verts, crs = self._to_target(verts, crs, target_crs)

        if origin is None:
            if len(verts):
                lo, hi = np.nanmin(verts, 0), np.nanmax(verts, 0)
                origin_arr = np.round((lo + hi) / 2.0)
                origin_arr[2] = np.floor(lo[2])
            else:
                origin_arr = np.zeros(3)
        else:
            origin_arr = np.asarray(origin, dtype=np.float64).reshape(3)
        rel = verts - origin_arr
        bad_v = ~np.isfinite(rel).all(axis=1)
        if bad_v.any():
            self.report.warn("bad-coordinate", f"{int(bad_v.sum())} vertices are NaN/inf")
            rel[bad_v] = 0.0

        tri = triangulate_polygons(rel, ring_idx, ring_offsets, poly_ring_offsets, planarity_tol)
        poly_obj = cat(self._poly_obj, np.int32)
        self._report_status(tri.status, poly_obj)

        uv = None
        if self._uv:
            uv = np.full((len(ring_idx), 2), np.nan, np.float32)
            for off, arr in self._uv:
                uv[off : off + len(arr)] = arr
        polys = Polygons(
            ring_idx=ring_idx.astype(np.int32),
            ring_offsets=ring_offsets,
            poly_ring_offsets=poly_ring_offsets,
            object=poly_obj,
            semantic=cat(self._poly_sem, np.uint8),
            lod=cat(self._poly_lod, np.uint8),
            material=cat(self._poly_mat, np.int32),
            texture=cat(self._poly_tex, np.int32),
            uv=uv,
        )
        return CityModel(
            source=self.source,
            format=self.format,
            version=self.version,
            crs=crs,
            origin=origin_arr,
            vertices=rel.astype(np.float32),
            polygons=polys,
            corners=tri.corners.astype(np.int32, copy=False),
            tri_poly=tri.tri_poly,
            objects=self.objects,
            materials=self.materials,
            textures=self.textures,
            report=self.report,
            metadata=self.metadata,
            source_crs=source_crs,
        )

    def _to_target(
        self, verts: NDArray[np.float64], crs: CRS | None, target: CRS | None
    ) -> tuple[NDArray[np.float64], CRS | None]:
        if crs is None or len(verts) == 0:
            if target is not None and crs is None and len(verts):
                self.report.warn(
                    "no-crs", "file has no CRS; loaded in local coordinates (state one with --crs)"
                )
            return verts, crs if crs is not None else None
        if crsmod.is_geographic(crs):
            verts = verts.copy()
            # honour the authority axis order, but trust the data when it disagrees
            if crsmod.lat_first(crs):
                a, b = verts[:, 0], verts[:, 1]
                if np.nanmax(np.abs(a)) <= 90 or np.nanmax(np.abs(b)) > 90:
                    verts[:, [0, 1]] = verts[:, [1, 0]]
                else:
                    self.report.warn("axis-order", "coordinates are lon/lat despite a lat-first CRS")
            if target is None or crsmod.is_geographic(target):
                lon = float(np.nanmean(verts[:, 0]))
                lat = float(np.nanmean(verts[:, 1]))
                target = crsmod.projected_for_geographic(crs, lon, lat)
        if target is None or target == crs:
            return verts, crs
        try:
            return crsmod.transform_xy(verts, crs, target), target
        except Exception as exc:
            self.report.warn("crs-transform", f"cannot transform to {crsmod.crs_label(target)}: {exc}")
            return verts, crs

    def _report_status(self, status: NDArray[np.uint8], poly_obj: NDArray[np.int32]) -> None:
        for bit, kind in _STATUS_KINDS:
            hit = np.nonzero(status & bit)[0]
            if len(hit) == 0:
                continue
            objs = np.unique(poly_obj[hit])
            names = ", ".join(self.objects.ids[int(o)] for o in objs[:5] if 0 <= o < len(self.objects))
            more = f" and {len(objs) - 5} more" if len(objs) > 5 else ""
            self.report.warn(kind, f"{plural(len(hit), 'polygon')} in {plural(len(objs), 'object')}: {names}{more}",
                             n=len(hit))
