"""Where a scene is on Earth: its WGS84 centre, its time zone (offline), times read there.

The time zone comes from timezonefinder's bundled boundaries (no network); at sea, where
no zone is drawn, the nautical zone of the longitude (``Etc/GMT-1`` east of 7.5° E, …).
A time written without an offset is read as the place's own wall-clock time.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pyproj import CRS

from ..core.crs import to_wgs84_bbox

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def nautical_zone(lon: float) -> str:
    """The ``Etc/GMT±n`` zone of a longitude (POSIX signs: ``Etc/GMT-1`` is UTC+1)."""
    hours = int(np.clip(np.floor((lon + 7.5) / 15.0), -12, 12))
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"


def timezone_at(lon: float, lat: float) -> str:
    """IANA time zone name at ``(lon, lat)`` (WGS84 degrees), found offline."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"not a longitude, latitude: {lon}, {lat}")
    with _lock:  # TimezoneFinder keeps file handles and caches: one caller at a time
        name = _finder().timezone_at(lng=float(lon), lat=float(lat))
    return str(name) if name else nautical_zone(lon)


def zone(name: str) -> tzinfo:
    """A time zone by IANA name (``UTC`` and ``Etc/…`` included)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_time(text: str, tz: str | tzinfo) -> datetime:
    """An aware datetime from ISO 8601 text: ``2026-06-21T10:00:00+02:00``, ``…Z``, or
    a bare ``2026-06-21T10:00`` / ``2026-06-21 10:00`` read in ``tz`` (the place's zone).

    A bare date (``2026-12-21``) is noon, local. Raises ``ValueError`` with the text.
    """
    s = text.strip()
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {text!r} (e.g. 2026-06-21T10:00:00+02:00)") from None
    if len(s) == 10:  # a date alone
        dt = dt.replace(hour=12)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz) if isinstance(tz, str) else tz)
    return dt


def unix_seconds(dt: datetime) -> float:
    return dt.timestamp()


def local_iso(t: float, tz: str | tzinfo) -> str:
    """ISO 8601 text of the instant ``t`` (unix seconds) in ``tz``, with its offset."""
    z = zone(tz) if isinstance(tz, str) else tz
    return datetime.fromtimestamp(t, UTC).astimezone(z).isoformat(timespec="seconds")


def day_start(dt: datetime) -> datetime:
    """Local midnight of ``dt``'s day, in ``dt``'s zone."""
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def day_instants(dt: datetime, step_s: float = 60.0) -> np.ndarray:
    """Unix seconds over ``dt``'s local day (a DST day is 23 or 25 hours long)."""
    start = day_start(dt)
    end = day_start(start + timedelta(hours=26))
    return np.arange(start.timestamp(), end.timestamp() + step_s / 2, step_s)


@dataclass(frozen=True)
class Place:
    """A scene's place: WGS84 centre and time zone."""

    lon: float
    lat: float
    timezone: str

    @classmethod
    def at(cls, lon: float, lat: float) -> Place:
        return cls(float(lon), float(lat), timezone_at(lon, lat))

    @classmethod
    def of_bbox(cls, bbox: np.ndarray, crs: CRS) -> Place:
        """The centre of a ``(min xyz, max xyz)`` box in ``crs`` (absolute coordinates)."""
        lon0, lat0, lon1, lat1 = to_wgs84_bbox(np.asarray(bbox, dtype=np.float64), crs)
        return cls.at((lon0 + lon1) / 2.0, (lat0 + lat1) / 2.0)

    def time(self, text: str) -> datetime:
        return parse_time(text, self.timezone)


def enu_to_grid(lon: float, lat: float, crs: CRS) -> np.ndarray:
    """A 3x3 matrix taking east-north-up vectors at ``(lon, lat)`` to the axes of the
    projected ``crs`` (its grid north differs from true north by the meridian
    convergence, up to a few degrees in UTM). Found numerically: the grid vectors of a
    small step east and north."""
    from pyproj import Transformer

    from ..core.crs import horizontal

    t = Transformer.from_crs(CRS.from_epsg(4326), horizontal(crs), always_xy=True)
    d = 1e-4
    x0, y0 = t.transform(lon, lat)
    xe, ye = t.transform(lon + d, lat)
    xn, yn = t.transform(lon, lat + d)
    east = np.array([xe - x0, ye - y0])
    north = np.array([xn - x0, yn - y0])
    if not (np.all(np.isfinite(east)) and np.all(np.isfinite(north))):
        raise ValueError(f"cannot take ({lon}, {lat}) into {crs.name}")
    east /= np.linalg.norm(east)
    north /= np.linalg.norm(north)
    m = np.eye(3)
    m[:2, 0] = east
    m[:2, 1] = north
    return m
