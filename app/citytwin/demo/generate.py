"""Public entry points of the demo generator."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from ..model.scenefile import Camera, Dataset, SceneFile, View, write_scene
from .district import CRS_URL, EXTENT, build_district, district_bytes
from .tour import demo_tour

log = logging.getLogger(__name__)

DEMO_FILENAME = "demo_district.city.json"
DEMO_SENSORS_FILENAME = "demo_sensors.json"
DEMO_SENSOR_HOURS, DEMO_SENSOR_STEP = 24.0, 900.0  # 24 sensors × 3 datastreams, every 15 min: ~600 kB


def generate_demo_sensors(out_dir: str | Path, seed: int = 7) -> Path:
    """Write the demo replay feed (:func:`citytwin.demo.sensors.demo_feed`) into ``out_dir``."""
    from .sensors import write_demo_feed

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return write_demo_feed(out / DEMO_SENSORS_FILENAME, hours=DEMO_SENSOR_HOURS, step=DEMO_SENSOR_STEP, seed=seed)


def demo_sensor_layer(city_path: str | Path) -> dict[str, Any]:
    """The scene-file table of the demo's sensor layer: the replay next to the district file."""
    from ..model.sensor_spec import SensorLayerSpec, Threshold
    from .sensors import DEMO_THRESHOLDS

    spec = SensorLayerSpec(source=str(Path(city_path).resolve().parent / DEMO_SENSORS_FILENAME),
                           name="Air quality (replay)", replay={"speed": 600.0}, loop=True,
                           thresholds=[Threshold.from_dict(t) for t in DEMO_THRESHOLDS], stale_after=1800.0)
    return spec.to_dict()


def generate_demo(out_dir: str | Path, seed: int = 7) -> Path:
    """Write the demo district as CityJSON 2.0 into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write ``demo_district.city.json`` into (created if needed).
    seed
        Random seed; the same seed gives the same bytes on every run.

    Returns
    -------
    Path
        The written file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data, district = district_bytes(seed)
    path = out / DEMO_FILENAME
    path.write_bytes(data)
    log.info("demo district: %s, %d vertices, %.1f kB", dict(district.counts),
             len(district.pool.vertices) if district.pool else 0, len(data) / 1024)
    return path


def demo_counts(seed: int = 7) -> dict[str, Any]:
    """What the generator intends to write: city objects per type, geometries per LoD, vertices."""
    d = build_district(seed)
    return {
        "types": dict(sorted(d.counts.items())),
        "lods": dict(sorted(d.lod_counts.items())),
        "vertices": len(d.pool.vertices) if d.pool else 0,
        "objects": len(d.city_objects),
    }


def _look(pool: Any, focal_local: tuple[float, float, float], azimuth_deg: float, elevation_deg: float,
          distance: float, view_angle: float = 30.0) -> Camera:
    """A camera looking at a local point from a compass azimuth (0 = from north, 225 = from south-west)."""
    fx, fy, fz = pool.world(*focal_local)
    az = math.radians(azimuth_deg)
    el = math.radians(elevation_deg)
    dx, dy = math.sin(az) * math.cos(el), math.cos(az) * math.cos(el)
    pos = (fx + dx * distance, fy + dy * distance, fz + math.sin(el) * distance)
    r3 = lambda v: tuple(round(c, 2) for c in v)  # noqa: E731
    up = (0.0, 1.0, 0.0) if elevation_deg >= 89.9 else (0.0, 0.0, 1.0)
    return Camera(position=r3(pos), focal_point=r3((fx, fy, fz)), up=up, view_angle=view_angle)


def demo_scene(city_path: str | Path, seed: int = 7) -> SceneFile:
    """The scene of the demo: the district, an overview camera and a few saved views."""
    d = build_district(seed)
    pool = d.pool
    cx, cy = EXTENT[0] / 2.0, EXTENT[1] / 2.0
    centre = (cx, cy, 258.0)
    overview = _look(pool, centre, 225.0, 35.0, 1050.0)
    th = d.landmarks["townhall"]
    pond = d.landmarks["pond"]
    church = d.landmarks["church"]
    views = [
        View("Overview", overview),
        View("Top", _look(pool, centre, 0.0, 90.0, 1400.0)),
        View("Rathaus", _look(pool, (th[0], th[1] + 24.0, th[2] + 6.0), 195.0, 32.0, 230.0)),
        View("Stadtpark", _look(pool, pond, 165.0, 34.0, 210.0)),
        View("St. Marien", _look(pool, (church[0] + 12.0, church[1], church[2] - 28.0), 215.0, 30.0, 240.0)),
    ]
    return SceneFile(
        version=1,
        title="Lindenau demo district",
        crs="EPSG:25832",
        color_by="semantic",
        datasets=[Dataset(path=Path(city_path).resolve(), crs="EPSG:25832", name="Lindenau district",
                          visible=True, opacity=1.0, color_by="semantic", lod="best")],
        camera=overview,
        views=views,
        sensors=[demo_sensor_layer(city_path)],
        tours=[demo_tour(pool, d.landmarks, centre, _look)],
    )


def write_demo_scene(scene_path: str | Path, city_path: str | Path, seed: int = 7) -> Path:
    """Write the demo scene file next to the data (dataset path relative to the scene file)."""
    return write_scene(demo_scene(city_path, seed), scene_path)


__all__ = ["CRS_URL", "DEMO_FILENAME", "DEMO_SENSORS_FILENAME", "generate_demo_sensors", "demo_counts", "demo_scene", "generate_demo", "write_demo_scene"]
