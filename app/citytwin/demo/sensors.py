"""Demo replay feed: made-up air-quality, temperature and noise sensors over the demo district.

Deterministic (``random.Random(seed).random()`` only). Sensors stand on the
district's street centre lines (local metres → ``local_to_world`` EPSG:25832 →
WGS84 lon/lat, as a real feed would give them); NO2 follows two rush-hour peaks a day so that the default
threshold (NO2 > 40 µg/m³) fires now and then. The file it writes is a replay
file :func:`citytwin.live.replay.load_json` reads:
``{"datastreams": [...], "observations": [...]}``.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from pyproj import CRS

from ..core.crs import transform_xy
from .district import EW_Y, EXTENT, NS_X, local_to_world

DEMO_START = 1_717_200_000.0  # 2024-06-01T00:00:00Z
DEMO_THRESHOLDS = [
    {"observed_property": "no2", "above": 40.0, "label": "EU hourly NO2 guide"},
    {"observed_property": "temperature", "above": 30.0},
    {"observed_property": "noise", "above": 70.0},
]
PROPERTIES = {  # name: (unit name, symbol, UCUM definition)
    "no2": ("microgram per cubic metre", "µg/m³", "http://unitsofmeasure.org/ucum.html#para-30"),
    "temperature": ("degree Celsius", "°C", "http://unitsofmeasure.org/ucum.html#para-30"),
    "noise": ("decibel", "dB", "http://unitsofmeasure.org/ucum.html#para-30"),
}


def _rush(hour: float) -> float:
    """0..1 traffic intensity with peaks at 8:00 and 17:30."""
    return math.exp(-((hour - 8.0) / 1.5) ** 2) + 0.9 * math.exp(-((hour - 17.5) / 2.0) ** 2)


def sensor_sites(n: int, seed: int = 7) -> list[tuple[str, float, float]]:
    """``(id, lon, lat)`` of ``n`` sensors standing on the district's street centre lines."""
    rng = random.Random(seed)
    w, h = EXTENT
    local = []
    for _ in range(n):
        if rng.random() < 0.5:
            x, y = NS_X[int(rng.random() * len(NS_X))], 20 + rng.random() * (h - 40)
        else:
            x, y = 20 + rng.random() * (w - 40), EW_Y[int(rng.random() * len(EW_Y))]
        local.append((x, y))
    xyz = np.array([local_to_world(x, y) for x, y in local]).reshape(-1, 3)
    lonlat = transform_xy(xyz, CRS.from_epsg(25832), CRS.from_epsg(4326)) if n else np.zeros((0, 3))
    return [(f"S{k + 1:03d}", round(float(lon), 7), round(float(lat), 7))
            for k, (lon, lat, _) in enumerate(lonlat)]


def demo_feed(n_sensors: int = 24, hours: float = 48.0, step: float = 600.0, seed: int = 7,
              start: float = DEMO_START) -> dict[str, Any]:
    """The demo replay document: datastreams (3 per sensor) and their observations."""
    rng = random.Random(seed + 1)
    sites = sensor_sites(n_sensors, seed)
    datastreams: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    n_steps = int(hours * 3600 // step) + 1
    for sid, lon, lat in sites:
        busy = 0.6 + 0.8 * rng.random()  # how close to traffic
        warm = rng.random() * 2.0
        for prop, (uname, sym, udef) in PROPERTIES.items():
            ds_id = f"{sid}/{prop}"
            datastreams.append({
                "id": ds_id, "name": f"{sid} {prop}", "thing": sid,
                "observedProperty": {"name": prop},
                "unit": {"name": uname, "symbol": sym, "definition": udef},
                "location": {"type": "Point", "coordinates": [lon, lat, 3.0]},
            })
            for k in range(n_steps):
                t = start + k * step
                hour = (t % 86400) / 3600
                noise = rng.random() - 0.5
                if prop == "no2":
                    v = 12 + 38 * busy * _rush(hour) + 6 * noise
                elif prop == "temperature":
                    v = 17 + warm + 6 * math.sin((hour - 9) / 24 * 2 * math.pi) + noise
                else:
                    v = 48 + 20 * busy * _rush(hour) + 4 * noise
                observations.append({"datastream": ds_id,
                                     "phenomenonTime": _iso(t), "result": round(v, 2)})
    observations.sort(key=lambda o: o["phenomenonTime"])
    return {"datastreams": datastreams, "observations": observations, "thresholds": DEMO_THRESHOLDS}


def _iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_demo_feed(path: str | Path, **kw: Any) -> Path:
    """Write :func:`demo_feed` as JSON to ``path``; returns the path."""
    p = Path(path)
    p.write_bytes(orjson.dumps(demo_feed(**kw)))
    return p
