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

    # pass 1 (Python, cheap per feature): ids, properties, heights, geometry text
    rows: list[tuple[str, dict[str, Any], str, tuple[float, float] | None]] = []
    geo_text: list[bytes] = []
    skipped = 0
    for n, feat in enumerate(feats):
        if cancel is not None and n % 5000 == 0 and cancel():
            raise Cancelled("cancelled")
        if not isinstance(feat, dict):
            report.skip(f"feature-{n}", "not a JSON object")
            skipped += 1
            continue
        props = feat.get("properties")
        props = dict(props) if isinstance(props, dict) else {}
        fid = _feature_id(feat, props, n)
        geom = feat.get("geometry")
        gtype = geom.get("type") if isinstance(geom, dict) else None
        if gtype not in _POLYGONAL:
            report.skip(fid, f"{gtype} geometry is not a polygon" if gtype else "no geometry")
            skipped += 1
            continue
        ptype = props.get("type")
        otype = ptype if isinstance(ptype, str) and ptype in CITY_TYPES else "Building"
        rows.append((fid, props, otype, _block_range(props, storey_height)))
        geo_text.append(orjson.dumps(geom))

    # pass 2 (shapely, vectorised): parse, repair, explode, clean and orient
    parts, part_row, why = _polygon_parts(geo_text, [r[0] for r in rows], report)
    has_part = np.zeros(len(rows), bool)
    has_part[part_row] = True
    obj_of_row = np.full(len(rows), -1, np.int64)
    no_height = 0
    for k, (fid, props, otype, rng) in enumerate(rows):
        if not has_part[k]:
            report.skip(fid, why.get(k, "polygon has no area"))
            skipped += 1
            continue
        obj_of_row[k] = builder.add_object(fid, otype, props)
        if rng is None:
            no_height += 1
            report.warn("no-height", f"{fid}: no usable height; loaded as an LoD0 footprint")
    if not len(parts):
        raise ReaderError(p, f"no Polygon/MultiPolygon feature among {len(feats)} feature(s)")
    if cancel is not None and cancel():
        raise Cancelled("cancelled")

    ranges = np.array([r[3] if r[3] is not None else (np.nan, np.nan) for r in rows], np.float64)
    part_obj = obj_of_row[part_row]
    part_range = ranges[part_row].reshape(-1, 2)
    extruded = np.isfinite(part_range[:, 0])
    _extrude(builder, parts[extruded], part_obj[extruded], part_range[extruded], swap)
    _extrude(builder, parts[~extruded], part_obj[~extruded], None, swap)
    builder.metadata.update(
        {"features": len(feats), "skipped_features": skipped, "no_height": no_height,
         "storey_height": storey_height}
    )
    return builder.build(target_crs=target_crs, origin=origin)


_POLYGONAL = ("Polygon", "MultiPolygon", "GeometryCollection")


def _polygon_parts(
    geo_text: list[bytes], fids: list[str], report: LoadReport
) -> tuple[NDArray[np.object_], NDArray[np.int64], dict[int, str]]:
    """Valid, oriented polygons (one per footprint part) and the row each comes from."""
    why: dict[int, str] = {}
    if not geo_text:
        return np.zeros(0, object), np.zeros(0, np.int64), why
    geoms = shapely.from_geojson(np.array(geo_text, dtype=object), on_invalid="ignore")
    for k in np.flatnonzero(shapely.is_missing(geoms)).tolist():
        why[k] = "unreadable polygon coordinates"
    bad = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
    for k in bad.tolist():
        reason = shapely.is_valid_reason(geoms[k])
        geoms[k] = shapely.make_valid(geoms[k])
        report.warn("invalid-geometry", f"{fids[k]}: {reason}; repaired with make_valid")
    rows = np.arange(len(geoms))
    ok = ~shapely.is_missing(geoms)
    geoms, rows = geoms[ok], rows[ok]
    # explode multi-part geometries and collections until only single parts are left
    while True:
        multi = shapely.get_type_id(geoms) >= 4
        if not multi.any():
            break
        sub, idx = shapely.get_parts(geoms[multi], return_index=True)
        geoms = np.concatenate([geoms[~multi], sub])
        rows = np.concatenate([rows[~multi], rows[multi][idx]])
    keep = (shapely.get_type_id(geoms) == 3) & (shapely.area(geoms) > 0)
    geoms, rows = geoms[keep], rows[keep]
    order = np.argsort(rows, kind="stable")
    geoms, rows = geoms[order], rows[order]
    # drop collinear corners (make_valid leaves some; they give zero-area triangles),
    # then exterior counter-clockwise, holes clockwise
    geoms = shapely.orient_polygons(shapely.simplify(geoms, 0.0), exterior_cw=False)
    return geoms, rows, why


def _extrude(
    builder: CityModelBuilder,
    parts: NDArray[np.object_],
    part_obj: NDArray[np.int64],
    part_range: NDArray[np.float64] | None,
    swap: bool,
) -> None:
    """Add footprint parts as LoD1 blocks (``part_range`` = bottom, top) or LoD0 polygons."""
    if len(parts) == 0:
        return
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, corner_ring = shapely.get_coordinates(rings, include_z=True, return_index=True)
    # drop the closing corner of every ring
    n_with_close = np.bincount(corner_ring, minlength=len(rings))
    last = np.cumsum(n_with_close) - 1
    keep = np.ones(len(coords), bool)
    keep[last] = False
    coords, corner_ring = coords[keep], corner_ring[keep]
    sizes = n_with_close - 1
    good = sizes >= 3
    if not good.all():  # cannot happen for valid polygons; be safe
        ok_corner = good[corner_ring]
        coords, corner_ring = coords[ok_corner], corner_ring[ok_corner]
        remap = np.cumsum(good) - 1
        corner_ring = remap[corner_ring]
        ring_part, sizes = ring_part[good], sizes[good]
    nrings = np.bincount(ring_part, minlength=len(parts))
    has = nrings > 0
    # ground height: lowest z of the exterior ring where the coordinates have z
    ring_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    first_ring = np.concatenate([[0], np.cumsum(nrings)[:-1]])
    ground = np.zeros(len(parts))
    z = coords[:, 2]
    if np.isfinite(z).any():
        is_ext = np.zeros(len(sizes), bool)
        is_ext[first_ring[has]] = True
        zc = np.where(is_ext[corner_ring] & np.isfinite(z), z, np.inf)
        lowest = np.full(len(parts), np.inf)
        np.minimum.at(lowest, ring_part[corner_ring], zc)
        ground = np.where(np.isfinite(lowest), lowest, 0.0)
    xy = coords[:, :2][:, ::-1] if swap else coords[:, :2]
    m = len(xy)
    corner_part = ring_part[corner_ring]
    poly_obj = part_obj[has]
    if part_range is None:
        base = builder.add_vertices(np.column_stack([xy, ground[corner_part]]))
        builder.add_polygons(poly_obj, np.arange(m) + base, sizes, nrings[has], semantic=0, lod=0)
        return
    bottom = ground + part_range[:, 0]
    top = ground + part_range[:, 1]
    base = builder.add_vertices(
        np.concatenate([np.column_stack([xy, bottom[corner_part]]), np.column_stack([xy, top[corner_part]])])
    )
    k = np.arange(m)
    s, n = ring_start[corner_ring], sizes[corner_ring]
    roof = k + m
    ground_idx = 2 * s + n - 1 - k  # every ring reversed: normal down
    nxt = np.where(k + 1 == s + n, s, k + 1)
    quads = np.stack([k, nxt, nxt + m, k + m], axis=1).ravel()
    builder.add_polygons(
        np.concatenate([poly_obj, poly_obj, part_obj[corner_part]]),
        np.concatenate([roof, ground_idx, quads]) + base,
        np.concatenate([sizes, sizes, np.full(m, 4)]),
        np.concatenate([nrings[has], nrings[has], np.ones(m, np.int64)]),
        semantic=np.concatenate(
            [np.full(len(poly_obj), ROOF), np.full(len(poly_obj), GROUND), np.full(m, WALL)]
        ).astype(np.uint8),
        lod=1,
    )


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
