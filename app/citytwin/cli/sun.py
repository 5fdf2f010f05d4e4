"""``citytwin sun (INPUT | --lonlat LON,LAT) [--at ISO_TIME] [--json]``: where the sun is.

The place is the centre of INPUT (a city file or a scene file) or ``--lonlat``; the time
zone is found offline. ``--at`` takes ISO 8601 with an offset (``2026-06-21T10:00+02:00``,
``…Z``) or a bare date-time read in the place's own zone (default: now).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import CityTwinError
from ..sim.place import Place, day_instants, local_iso, zone
from ..sim.sun import day_events, sun_position


class SunError(CityTwinError):
    """Bad arguments of ``citytwin sun``."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sun", help="the sun's position (and the day's sunrise and sunset) at a place",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", nargs="?", metavar="INPUT", help="a city file or scene file: its centre is the place")
    p.add_argument("--lonlat", metavar="LON,LAT", help="the place in WGS84 degrees, e.g. 4.30,52.08")
    p.add_argument("--at", metavar="ISO_TIME", help="the instant (default: now)")
    p.add_argument("--crs", help="CRS of an INPUT file that declares none")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(handler=run)


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise SunError(f"--lonlat {text!r}: expected LON,LAT in degrees, e.g. 4.30,52.08") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SunError(f"--lonlat {text!r}: longitude must be in -180..180 and latitude in -90..90")
    return lon, lat


def place_of_input(path: Path, crs: str | None) -> Place:
    """The WGS84 centre of a city file or of a scene file's datasets."""
    from ..core.crs import parse_crs
    from ..io.scene_loader import load_into_scene
    from ..model.scene import Scene

    if path.suffix.lower() == ".toml":
        from ..model.scenefile import read_scene

        sf = read_scene(path)
        scene = Scene(crs=parse_crs(sf.crs) if sf.crs else None)
        for d in sf.datasets:
            load_into_scene(scene, d.path, crs=d.crs or crs)
    else:
        scene = Scene()
        load_into_scene(scene, path, crs=crs)
    if scene.crs is None:
        raise SunError(f"{path}: no CRS, so no place on Earth (state one with --crs, or use --lonlat)")
    bbox = scene.bbox()
    if not np.any(bbox[1] > bbox[0]):
        raise SunError(f"{path}: no geometry to find a place from (use --lonlat)")
    return Place.of_bbox(bbox, scene.crs)  # model bboxes are absolute


def describe(place: Place, at: str | None) -> dict[str, Any]:
    """The facts ``sun`` prints, as a JSON-able dict."""
    try:
        dt = place.time(at) if at else None
    except ValueError as exc:
        raise SunError(f"--at: {exc}") from None
    t = dt.timestamp() if dt is not None else time.time()
    pos = sun_position(t, place.lon, place.lat)
    local = datetime.fromtimestamp(t, UTC).astimezone(zone(place.timezone))  # the place's own day
    ev = day_events(day_instants(local), place.lon, place.lat)

    def iso(v: float | None) -> str | None:
        return None if v is None else local_iso(round(v), place.timezone)

    return {
        "lon": round(place.lon, 7),
        "lat": round(place.lat, 7),
        "timezone": place.timezone,
        "time": local_iso(t, place.timezone),
        "time_utc": local_iso(t, "UTC").replace("+00:00", "Z"),
        "azimuth": round(float(pos.azimuth), 3),
        "elevation": round(float(pos.elevation), 3),
        "elevation_true": round(float(pos.elevation_true), 3),
        "sunrise": iso(ev.sunrise),
        "solar_noon": iso(ev.noon),
        "sunset": iso(ev.sunset),
        "day_length_hours": round(ev.day_length_s / 3600.0, 3),
    }


def run(args: argparse.Namespace) -> int:
    if (args.input is None) == (args.lonlat is None):
        raise SunError("give either INPUT (a city or scene file) or --lonlat LON,LAT")
    if args.lonlat is not None:
        place = Place.at(*_lonlat(args.lonlat))
    else:
        place = place_of_input(Path(args.input), args.crs)
    d = describe(place, args.at)
    if args.json:
        sys.stdout.write(json.dumps(d) + "\n")
        return 0
    out = sys.stdout
    out.write(f"place       lon {d['lon']:.5f}, lat {d['lat']:.5f} ({d['timezone']})\n")
    out.write(f"time        {d['time']} ({d['time_utc']})\n")
    out.write(f"sun         azimuth {d['azimuth']:.2f}° (from north, clockwise), "
              f"elevation {d['elevation']:.2f}° (apparent)\n")
    out.write(f"day         sunrise {d['sunrise'] or '-'}, noon {d['solar_noon']}, sunset {d['sunset'] or '-'}"
              f" ({d['day_length_hours']:.2f} h of sun)\n")
    return 0
