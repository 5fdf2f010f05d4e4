"""Read GeoJSON building footprints and extrude them to LoD1 blocks.

Every Polygon / MultiPolygon feature becomes one object (``Building`` unless its
``type`` property names a CityJSON/CityGML object type) with all its properties as
attributes. With a usable height it is extruded with shapely-cleaned rings: a ground
polygon at the base (normal down), a roof polygon at the top (normal up) and one
wall quad per ring edge (normals outwards; holes kept), all LoD1. Without a height
the footprint is kept as an LoD0 polygon and the report says ``no-height``.

Height: the first of ``height``, ``measuredHeight``, ``building:height``, ``h``,
``hoogte`` (numbers or numeric strings such as ``"12.5 m"``), else ``storeys`` /
``storeysAboveGround`` / ``building:levels`` x ``storey_height``. Base: ``min_height``
(OpenStreetMap convention: ``height`` is then the top above ground, so the block
spans ``min_height..height``) or ``base`` (the block spans ``base..base+height``),
else 0; when the coordinates have z, heights are above the lowest ground corner.

CRS: the caller's ``crs``, else a legacy ``crs`` member, else WGS84 lon/lat
(RFC 7946). Geographic data is projected to UTM by the builder.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS
from shapely.geometry import shape
from shapely.geometry.polygon import orient

from ..core import crs as crsmod
from ..core.errors import Cancelled, CRSError, LoadReport, ReaderError
from ..model import CityModel, CityModelBuilder
from ..model.semantics import SEMANTICS
from .source import Cancel, Progress, open_input

log = logging.getLogger(__name__)

__all__ = ["read_geojson", "parse_height_value"]

HEIGHT_KEYS = ("height", "measuredHeight", "building:height", "h", "hoogte")
STOREY_KEYS = ("storeys", "storeysAboveGround", "building:levels")
ID_KEYS = ("id", "identificatie", "@id")
# CityJSON / CityGML object type names accepted from properties["type"]
CITY_TYPES = frozenset(
    """Building BuildingPart BuildingInstallation BuildingConstructiveElement BuildingFurniture
    BuildingRoom BuildingStorey BuildingUnit Bridge BridgePart BridgeInstallation
    BridgeConstructiveElement BridgeRoom BridgeFurniture CityFurniture CityObjectGroup
    GenericCityObject LandUse OtherConstruction PlantCover SolitaryVegetationObject
    TINRelief ReliefFeature TransportSquare Railway Road Track Waterway WaterBody
    Tunnel TunnelPart TunnelInstallation TunnelConstructiveElement TunnelHollowSpace
    TunnelFurniture""".split()
)
ROOF = SEMANTICS.index("RoofSurface")
WALL = SEMANTICS.index("WallSurface")
GROUND = SEMANTICS.index("GroundSurface")

_NUM_RE = re.compile(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*(?:m|meters?|metres?)?\s*$", re.IGNORECASE)


def parse_height_value(value: Any) -> float | None:
    """A number from ``12``, ``12.5``, ``"12.5"``, ``"12,5 m"``; None when not a finite number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        v = float(value)
    elif isinstance(value, str):
        m = _NUM_RE.match(value)
        if not m:
            return None
        v = float(m.group(1).replace(",", "."))
    else:
        return None
    return v if math.isfinite(v) else None


def _first_number(props: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, float] | None:
    for k in keys:
        if k in props:
            v = parse_height_value(props[k])
            if v is not None:
                return k, v
    return None


def _block_range(props: dict[str, Any], storey_height: float) -> tuple[float, float] | None:
    """``(bottom, top)`` above ground, or None when the feature has no usable height."""
    base = 0.0
    base_key = None
    b = _first_number(props, ("min_height", "base"))
    if b is not None:
        base_key, base = b
    h = _first_number(props, HEIGHT_KEYS)
    if h is not None and h[1] > 0:
        height = h[1]
        if base_key == "min_height" and height > base:
            return base, height  # OSM: height is the top above ground
        return base, base + height
    s = _first_number(props, STOREY_KEYS)
    if s is not None and s[1] > 0:
        return base, base + s[1] * storey_height
    return None


class _Batch:
    """Polygons of one LoD, gathered over all features, added in one call."""

    def __init__(self) -> None:
        self.ring_idx: list[NDArray[np.int64]] = []
        self.ring_sizes: list[NDArray[np.int64]] = []
        self.poly_nrings: list[NDArray[np.int64]] = []
        self.obj: list[NDArray[np.int64]] = []
        self.sem: list[NDArray[np.int64]] = []

    def add(self, obj: int, sem: int, ring_idx: NDArray[np.int64], sizes: ArrayLike, nrings: ArrayLike) -> None:
        nr = np.atleast_1d(np.asarray(nrings, np.int64))
        self.ring_idx.append(ring_idx)
        self.ring_sizes.append(np.atleast_1d(np.asarray(sizes, np.int64)))
        self.poly_nrings.append(nr)
        self.obj.append(np.full(len(nr), obj, np.int64))
        self.sem.append(np.full(len(nr), sem, np.int64))

    def flush(self, builder: CityModelBuilder, lod: float) -> None:
        if not self.poly_nrings:
            return
        builder.add_polygons(
            obj=np.concatenate(self.obj),
            ring_idx=np.concatenate(self.ring_idx),
            ring_sizes=np.concatenate(self.ring_sizes),
            poly_nrings=np.concatenate(self.poly_nrings),
            semantic=np.concatenate(self.sem).astype(np.uint8),
            lod=lod,
        )


def _legacy_crs(doc: dict[str, Any]) -> str | None:
    c = doc.get("crs")
    if not isinstance(c, dict):
        return None
    props = c.get("properties")
    if not isinstance(props, dict):
        return None
    if c.get("type") == "EPSG" and "code" in props:
        return f"EPSG:{props['code']}"
    name = props.get("name") or props.get("href")
    return str(name) if name else None


def _features(doc: Any, p: Path) -> list[Any]:
    if not isinstance(doc, dict):
        raise ReaderError(p, "not a GeoJSON object")
    t = doc.get("type")
    if t == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise ReaderError(p, "FeatureCollection without a 'features' list")
        return feats
    if t == "Feature":
        return [doc]
    if t in ("Polygon", "MultiPolygon"):
        return [{"type": "Feature", "geometry": doc, "properties": {}}]
    raise ReaderError(p, f"GeoJSON type {t!r} is not a FeatureCollection or Feature")


def _polygons(geom: Any, fid: str, report: LoadReport) -> list[Any] | str:
    """Valid shapely polygons of a GeoJSON geometry, or the reason it is skipped."""
    if not isinstance(geom, dict):
        return "no geometry"
    gtype = geom.get("type")
    if gtype == "GeometryCollection":
        out: list[Any] = []
        for g in geom.get("geometries") or []:
            sub = _polygons(g, fid, report)
            if isinstance(sub, list):
                out.extend(sub)
        return out or "GeometryCollection without polygons"
    if gtype not in ("Polygon", "MultiPolygon"):
        return f"{gtype} geometry is not a polygon"
    try:
        shp = shape(geom)
    except Exception as exc:  # shapely raises several kinds on malformed coordinates
        return f"unreadable {gtype}: {exc}"
    if shp.is_empty:
        return f"empty {gtype}"
    if not shp.is_valid:
        reason = shapely.is_valid_reason(shp)
        shp = shapely.make_valid(shp)
        report.warn("invalid-geometry", f"{fid}: {reason}; repaired with make_valid")
    parts = [g for g in getattr(shp, "geoms", [shp]) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for g in parts for q in getattr(g, "geoms", [g]) if not q.is_empty and q.area > 0]
    return polys or f"{gtype} has no area"


def read_geojson(
    path: str | Path,
    *,
    crs: str | CRS | None = None,
    target_crs: CRS | None = None,
    origin: ArrayLike | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    storey_height: float = 3.0,
) -> CityModel:
    """Read a GeoJSON FeatureCollection of footprints as LoD1 (or LoD0) buildings.

    Parameters
    ----------
    path : str or Path
        ``.geojson`` / ``.json`` file (optionally gzipped).
    crs : str or pyproj.CRS, optional
        CRS of the coordinates, overriding the file's legacy ``crs`` member.
    target_crs, origin
        Passed to :meth:`CityModelBuilder.build`.
    progress, cancel : callable, optional
        Progress by bytes read and cancellation (raises :class:`Cancelled`).
    storey_height : float
        Metres per storey when the height comes from a storey count.

    Returns
    -------
    CityModel

    Raises
    ------
    ReaderError
        When the file is not GeoJSON or holds no polygon feature.
    """
    p = Path(path)
    if not p.exists():
        raise ReaderError(p, "no such file")
    with open_input(p, progress, cancel) as fh:
        try:
            raw = fh.read()
        except (OSError, EOFError) as exc:
            raise ReaderError(p, f"cannot read: {exc}") from exc
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ReaderError(p, f"not valid JSON: {exc}") from exc
    feats = _features(doc, p)

    src_crs = _resolve_crs(p, crs, doc)
    swap = crsmod.is_geographic(src_crs) and crsmod.lat_first(src_crs)
    builder = CityModelBuilder(str(p), "GeoJSON", crs=src_crs)
    report = builder.report
    lod1, lod0 = _Batch(), _Batch()
    chunks: list[NDArray[np.float64]] = []
    n_vert = 0
    skipped = 0
    no_height = 0
    for n, feat in enumerate(feats):
        if cancel is not None and n % 1000 == 0 and cancel():
            raise Cancelled("cancelled")
        if not isinstance(feat, dict):
            report.skip(f"feature-{n}", "not a JSON object")
            skipped += 1
            continue
        props = feat.get("properties")
        props = dict(props) if isinstance(props, dict) else {}
        fid = _feature_id(feat, props, n)
        polys = _polygons(feat.get("geometry"), fid, report)
        if isinstance(polys, str):
            report.skip(fid, polys)
            skipped += 1
            continue
        ptype = props.get("type")
        otype = ptype if isinstance(ptype, str) and ptype in CITY_TYPES else "Building"
        obj = builder.add_object(fid, otype, props)
        rng = _block_range(props, storey_height)
        if rng is None:
            no_height += 1
            report.warn("no-height", f"{fid}: no usable height; loaded as an LoD0 footprint")
        for poly in polys:
            verts, n_vert = _add_polygon(poly, obj, rng, n_vert, lod1, lod0)
            chunks.append(verts)
    if not chunks:
        raise ReaderError(p, f"no Polygon/MultiPolygon feature among {len(feats)} feature(s)")
    allv = np.concatenate(chunks)
    if swap:
        allv[:, [0, 1]] = allv[:, [1, 0]]
    builder.add_vertices(allv)
    lod1.flush(builder, 1)
    lod0.flush(builder, 0)
    builder.metadata.update(
        {"features": len(feats), "skipped_features": skipped, "no_height": no_height,
         "storey_height": storey_height}
    )
    return builder.build(target_crs=target_crs, origin=origin)


def _feature_id(feat: dict[str, Any], props: dict[str, Any], n: int) -> str:
    fid = feat.get("id")
    if fid is None or fid == "":
        for k in ID_KEYS:
            if props.get(k) not in (None, ""):
                fid = props[k]
                break
    return str(fid) if fid not in (None, "") else f"feature-{n}"


def _resolve_crs(p: Path, crs: str | CRS | None, doc: dict[str, Any]) -> CRS:
    name: str | CRS | None = crs if crs is not None else _legacy_crs(doc)
    if name is None:
        return CRS.from_user_input("OGC:CRS84")
    try:
        out = name if isinstance(name, CRS) else crsmod.parse_crs(str(name))
    except CRSError as exc:
        raise ReaderError(p, str(exc)) from exc
    if out.to_epsg() == 4326 or str(name).upper().endswith("CRS84"):
        return CRS.from_user_input("OGC:CRS84")  # GeoJSON coordinates are lon/lat
    return out


def _add_polygon(
    poly: Any,
    obj: int,
    rng: tuple[float, float] | None,
    n_vert: int,
    lod1: _Batch,
    lod0: _Batch,
) -> tuple[NDArray[np.float64], int]:
    """Vertices of one footprint part; its polygons go to ``lod1`` or ``lod0``."""
    # drop collinear corners (make_valid leaves some; they give zero-area triangles)
    poly = orient(shapely.simplify(poly, 0.0), 1.0)  # exterior counter-clockwise, holes clockwise
    rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
    rings = [r[:-1] if len(r) > 1 and np.array_equal(r[0], r[-1]) else r for r in rings]
    rings = [r for r in rings if len(r) >= 3]
    sizes = np.array([len(r) for r in rings], np.int64)
    xy = np.concatenate([r[:, :2] for r in rings])
    ground = float(np.nanmin(rings[0][:, 2])) if rings[0].shape[1] > 2 else 0.0
    if not math.isfinite(ground):
        ground = 0.0
    m = len(xy)
    r_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if rng is None:
        verts = np.column_stack([xy, np.full(m, ground)])
        lod0.add(obj, 0, np.arange(m) + n_vert, sizes, len(sizes))
        return verts, n_vert + m
    bottom, top = ground + rng[0], ground + rng[1]
    verts = np.concatenate([np.column_stack([xy, np.full(m, bottom)]), np.column_stack([xy, np.full(m, top)])])
    base = n_vert
    # roof: rings as oriented (normal up); ground: every ring reversed (normal down)
    lod1.add(obj, ROOF, np.arange(m) + base + m, sizes, len(sizes))
    rev = np.concatenate([s + np.arange(k)[::-1] for s, k in zip(r_start, sizes)])
    lod1.add(obj, GROUND, rev + base, sizes, len(sizes))
    # walls: quad (a, b, b', a') per edge a->b; outward for a CCW exterior and CW holes
    a = np.arange(m)
    ring_of = np.repeat(np.arange(len(sizes)), sizes)
    b = np.where(a + 1 == r_start[ring_of] + sizes[ring_of], r_start[ring_of], a + 1)
    quads = np.stack([a, b, b + m, a + m], axis=1).ravel() + base
    lod1.add(obj, WALL, quads, np.full(m, 4), np.ones(m, np.int64))
    return verts, n_vert + 2 * m
