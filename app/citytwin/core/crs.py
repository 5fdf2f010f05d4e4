"""Coordinate reference systems: parse every ``srsName`` form found in city models.

Handled forms (case-insensitive):

- ``EPSG:28992``, ``epsg:4326``, a bare ``28992``;
- OGC URNs ``urn:ogc:def:crs:EPSG::28992`` and ``urn:ogc:def:crs:EPSG:6.12:25833``;
- compound URNs ``urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783``;
- OGC URLs ``http(s)://www.opengis.net/def/crs/EPSG/0/6697`` and the compound
  ``http://www.opengis.net/def/crs-compound?1=…&2=…`` form;
- German AdV URNs such as ``urn:adv:crs:ETRS89_UTM32`` and
  ``urn:adv:crs:DE_DHDN_3GK4*DE_DHN92_NH`` (horizontal ``*`` vertical);
- anything else pyproj understands (WKT, PROJ strings, ``ESRI:…``).
"""

from __future__ import annotations

import re
import threading
from functools import wraps

import numpy as np
from pyproj import CRS, Transformer

from .errors import CRSError

# AdV (German surveying authorities) CRS names -> EPSG codes
_ADV = {
    "ETRS89_UTM31": 25831,
    "ETRS89_UTM32": 25832,
    "ETRS89_UTM33": 25833,
    "ETRS89_GK3": 5682,  # not used in practice; kept for completeness
    "DE_DHDN_3GK2": 31466,
    "DE_DHDN_3GK3": 31467,
    "DE_DHDN_3GK4": 31468,
    "DE_DHDN_3GK5": 31469,
    "DE_DHDN_3GK2_BW100": 31466,
    "DE_DHDN_3GK3_BW100": 31467,
    "DE_DHDN_3GK4_BY120": 31468,
    "DE_DHDN_3GK4_BY": 31468,
    "DE_RD/83_3GK4": 3398,
    "DE_RD/83_3GK5": 3399,
    "DE_42/83_3GK3": 3835,
    "DE_42/83_3GK4": 3836,
    "ETRS89_LAT-LON": 4258,
    "ETRS89_LON-LAT": 4258,
    "DE_DHN92_NH": 5783,
    "DE_DHHN92_NH": 5783,
    "DE_DHHN2016_NH": 7837,
    "DE_DHHN12_NOH": 5784,
    "DE_AMST_NH": 5784,
    "DE_NN": 5784,
    "DHHN92": 5783,
    "DHHN2016": 7837,
}

_EPSG_RE = re.compile(r"epsg[/:]+(?:[\d.]*[/:]+)?(\d+)\s*$", re.I)


def _epsg_in(part: str) -> int | None:
    part = part.strip().rstrip("/")
    m = _EPSG_RE.search(part)
    if m:
        return int(m.group(1))
    if part.isdigit():
        return int(part)
    return None


def _compound(codes: list[int], name: str) -> CRS:
    crss = [CRS.from_epsg(c) for c in codes]
    if len(crss) == 1:
        return crss[0]
    return CRS.from_dict(
        {"$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
         "type": "CompoundCRS", "name": name,
         "components": [c.to_json_dict() for c in crss]}
    )


def _per_thread_cache(maxsize: int):  # noqa: ANN202
    """Like ``lru_cache`` but one cache per thread: pyproj CRS and Transformer objects must
    not be used from a thread other than the one that made them (a background loader
    reading while the GUI thread converts coordinates segfaulted inside PROJ)."""
    local = threading.local()

    def deco(fn):  # noqa: ANN001, ANN202
        @wraps(fn)
        def wrapper(*args):  # noqa: ANN002, ANN202
            cache = getattr(local, "cache", None)
            if cache is None:
                cache = local.cache = {}
            try:
                return cache[args]
            except KeyError:
                pass
            value = fn(*args)
            if len(cache) >= maxsize:
                cache.clear()
            cache[args] = value
            return value

        wrapper.cache_clear = lambda: getattr(local, "cache", {}).clear()  # type: ignore[attr-defined]
        return wrapper

    return deco


@_per_thread_cache(maxsize=256)
def parse_crs(text: str) -> CRS:
    """Return the pyproj CRS named by ``text``; raise :class:`CRSError` if unknown."""
    s = (text or "").strip()
    if not s:
        raise CRSError("empty CRS name")
    low = s.lower()
    try:
        if low.startswith("urn:adv:crs:"):
            parts = s[len("urn:adv:crs:"):].split("*")
            codes = []
            for p in parts:
                key = p.strip().upper()
                if key not in _ADV:
                    raise CRSError(f"unknown AdV CRS '{p}' in '{s}'")
                codes.append(_ADV[key])
            return _compound(codes, s)
        if low.startswith("urn:ogc:def:crs,") or "crs-compound" in low:
            if "crs-compound" in low:
                parts = re.findall(r"\d+=([^&]+)", s)
            else:
                parts = s.split(",")[1:]
            codes = [c for c in (_epsg_in(p) for p in parts) if c is not None]
            if not codes:
                raise CRSError(f"no EPSG code in compound CRS '{s}'")
            return _compound(codes, s)
        code = _epsg_in(s)
        if code is not None:
            return CRS.from_epsg(code)
        return CRS.from_user_input(s)
    except CRSError:
        raise
    except Exception as exc:  # pyproj raises CRSError of its own, and ValueErrors
        raise CRSError(f"unknown CRS '{s}'") from exc


def horizontal(crs: CRS) -> CRS:
    """The horizontal part of a compound CRS (the CRS itself otherwise)."""
    if crs.is_compound:
        return crs.sub_crs_list[0]
    return crs


def vertical(crs: CRS) -> CRS | None:
    if crs.is_compound and len(crs.sub_crs_list) > 1:
        return crs.sub_crs_list[1]
    return None


def is_geographic(crs: CRS) -> bool:
    return bool(horizontal(crs).is_geographic)


def lat_first(crs: CRS) -> bool:
    """True when the CRS's authority axis order puts latitude first (e.g. EPSG:4326, 6697)."""
    h = horizontal(crs)
    if not h.is_geographic or not h.axis_info:
        return False
    return h.axis_info[0].direction.lower() in ("north", "south")


def utm_epsg(lon: float, lat: float, datum_name: str = "WGS 84") -> int:
    """EPSG code of the UTM zone containing ``lon, lat``, computed (no database query).

    ETRS89 and JGD2011 have UTM CRSs of their own for their zones; every other datum
    gets WGS 84's (they differ by at most a few metres, below city-model accuracy).
    """
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    # Norway / Svalbard exceptions
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        zone = 32
    if 72.0 <= lat < 84.0 and 0.0 <= lon < 42.0:
        zone = 31 if lon < 9 else 33 if lon < 21 else 35 if lon < 33 else 37
    name = datum_name.lower()
    if lat >= 0 and "european terrestrial reference system 1989" in name and 28 <= zone <= 38:
        return 25800 + zone
    if lat >= 0 and "japanese geodetic datum 2011" in name and 51 <= zone <= 55:
        return 6688 + zone - 51
    return (32600 if lat >= 0 else 32700) + zone


def utm_for(lon: float, lat: float, datum_name: str = "WGS 84") -> CRS:
    """The UTM CRS of the zone containing ``lon, lat``."""
    return CRS.from_epsg(utm_epsg(lon, lat, datum_name))


def projected_for_geographic(crs: CRS, lon: float, lat: float) -> CRS:
    """A metric CRS for data in geographic ``crs``: UTM of the same datum where known,
    keeping the vertical part of a compound CRS."""
    h = horizontal(crs)
    datum = h.datum.name if h.datum else "WGS 84"
    utm = utm_for(lon, lat, datum)
    v = vertical(crs)
    if v is None:
        return utm
    return CRS.from_dict(
        {"$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
         "type": "CompoundCRS", "name": f"{utm.name} + {v.name}",
         "components": [utm.to_json_dict(), v.to_json_dict()]}
    )


@_per_thread_cache(maxsize=64)
def _transformer(src: CRS, dst: CRS) -> Transformer:
    return Transformer.from_crs(horizontal(src), horizontal(dst), always_xy=True)


def transform_xy(xyz: np.ndarray, src: CRS, dst: CRS) -> np.ndarray:
    """Transform the x, y columns of ``(N, 3)`` east/north-first coordinates; z is kept.

    Heights are kept as they are: city models rarely differ in vertical datum and a
    geoid grid is not available offline.
    """
    out = np.array(xyz, dtype=np.float64, copy=True)
    if len(out) == 0:
        return out
    t = _transformer(src, dst)
    x, y = t.transform(out[:, 0], out[:, 1])
    out[:, 0], out[:, 1] = x, y
    return out


def to_wgs84_bbox(bbox: np.ndarray, crs: CRS) -> list[float]:
    """``[min_lon, min_lat, max_lon, max_lat]`` of a ``(min xyz, max xyz)`` box in ``crs``."""
    (x0, y0, _), (x1, y1, _) = bbox
    xs = np.array([x0, x1, x0, x1, (x0 + x1) / 2])
    ys = np.array([y0, y0, y1, y1, (y0 + y1) / 2])
    t = Transformer.from_crs(horizontal(crs), CRS.from_epsg(4326), always_xy=True)
    lon, lat = t.transform(xs, ys)
    return [float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))]


def crs_label(crs: CRS | None) -> str:
    """Short label such as ``EPSG:28992`` or ``EPSG:31468+5783``."""
    if crs is None:
        return "none"
    whole = crs.to_authority(min_confidence=90)
    if whole:
        return f"{whole[0]}:{whole[1]}"
    parts = crs.sub_crs_list if crs.is_compound else [crs]
    codes = []
    for p in parts:
        auth = p.to_authority(min_confidence=70)
        codes.append(auth[1] if auth else None)
    if all(codes):
        return "EPSG:" + "+".join(str(c) for c in codes)
    auth = crs.to_authority(min_confidence=70)
    if auth:
        return f"{auth[0]}:{auth[1]}"
    return crs.name
