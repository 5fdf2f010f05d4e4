"""Scene files (``*.toml``): which datasets to load, how to show them, camera and saved views.

Format (``version = 1``)::

    version = 1
    title = "..."
    crs = "EPSG:25832"          # scene CRS (optional)
    color_by = "semantic"       # default colouring for datasets that do not say
    shadows = true              # optional: the sun casts shadows (default false)
    time = "2026-06-21T15:00"   # optional: the clock's time for the sun (ISO 8601; no offset: local time)

    [[datasets]]
    name = "District"
    path = "demo/district.city.json"   # relative to the scene file
    crs = "EPSG:25832"                 # optional, overrides the file's CRS
    visible = true
    opacity = 1.0
    color_by = "semantic"              # or an attribute name
    lod = "best"                       # "best", "lowest" or a number
    textures = false                   # optional: hide the file's textures (default: shown)

    [camera]                           # world coordinates of the scene CRS
    position = [x, y, z]
    focal_point = [x, y, z]
    up = [0.0, 0.0, 1.0]
    view_angle = 30.0

    [[views]]
    name = "Town hall"
    position = [...]
    focal_point = [...]
    up = [...]

    [[sensors]]                        # SensorLayerSpec.to_dict(); nested tables inline
    type = "sensors"
    source = "demo/demo_sensors.json"  # mqtt://…, https://…/v1.1 or a replay file (relative)
    name = "Air quality"
    styling = { color_by = "value", colormap = "viridis", size = 8.0 }
    thresholds = [{ observed_property = "no2", above = 40.0 }]

    [[tours]]                          # virtual tours and their [[tours.stops]]: see model/tourfile.py

    [[scenarios]]                      # what-ifs: path = "x.scenario.toml" (relative), or name + edits inline
    path = "tower.scenario.toml"

Reading uses :mod:`tomllib`; writing is a small TOML emitter for exactly this
shape. Dataset paths are absolute in memory and relative to the scene file on disk.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ReaderError
from .tour import Tour
from .tourfile import read_tours, tours_toml

SCENE_VERSION = 1

__all__ = ["SCENE_VERSION", "Camera", "Dataset", "SceneFile", "View", "read_scene", "write_scene"]


@dataclass
class Camera:
    """A camera in world coordinates of the scene CRS (float64)."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    view_angle: float = 30.0


@dataclass
class View:
    """A named, saved camera."""

    name: str
    camera: Camera


@dataclass
class Dataset:
    """One dataset of a scene; ``path`` is absolute once read."""

    path: Path
    crs: str | None = None
    name: str = ""
    visible: bool = True
    opacity: float = 1.0
    color_by: str | None = None
    lod: str | float = "best"
    textures: bool = True  # draw the dataset's textures where it has them


@dataclass
class SceneFile:
    """The contents of a scene file."""

    version: int = SCENE_VERSION
    datasets: list[Dataset] = field(default_factory=list)
    camera: Camera | None = None
    views: list[View] = field(default_factory=list)
    title: str = ""
    crs: str | None = None
    color_by: str = "semantic"
    sensors: list[dict[str, Any]] = field(default_factory=list)  # SensorLayerSpec.to_dict() tables
    shadows: bool = False  # the sun casts shadows in the view
    time: str | None = None  # ISO 8601 time for the sun (no offset: the place's local time)
    tours: list[Tour] = field(default_factory=list)  # [[tours]] (model/tourfile.py)
    scenarios: list[dict[str, Any]] = field(default_factory=list)  # [[scenarios]] raw tables (scenario/files.py)

    def view(self, name: str) -> View | None:
        """The saved view called ``name`` (case-insensitive), or None."""
        for v in self.views:
            if v.name.lower() == name.lower():
                return v
        return None


# ------------------------------------------------------------------ reading
def _vec3(value: Any, path: Path, what: str) -> tuple[float, float, float]:
    try:
        x, y, z = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ReaderError(path, f"{what} must be three numbers, got {value!r}") from exc
    if not all(math.isfinite(v) for v in (x, y, z)):
        raise ReaderError(path, f"{what} must be finite, got {value!r}")
    return x, y, z


def _camera(tbl: dict[str, Any], path: Path, what: str) -> Camera:
    if "position" not in tbl or "focal_point" not in tbl:
        raise ReaderError(path, f"{what} needs position and focal_point")
    return Camera(
        position=_vec3(tbl["position"], path, f"{what}.position"),
        focal_point=_vec3(tbl["focal_point"], path, f"{what}.focal_point"),
        up=_vec3(tbl.get("up", (0.0, 0.0, 1.0)), path, f"{what}.up"),
        view_angle=float(tbl.get("view_angle", 30.0)),
    )


def read_scene(path: str | Path) -> SceneFile:
    """Read a scene file.

    Parameters
    ----------
    path
        The ``.toml`` file.

    Returns
    -------
    SceneFile
        With dataset paths resolved against the scene file's folder.

    Raises
    ------
    ReaderError
        When the file is missing, not TOML, of a newer version or malformed.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ReaderError(p, "no such file") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReaderError(p, f"not a valid TOML scene file: {exc}") from exc
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ReaderError(p, "scene file has no integer 'version'")
    if version > SCENE_VERSION or version < 1:
        raise ReaderError(p, f"scene file version {version} is not supported (this citytwin reads 1..{SCENE_VERSION})")
    base = p.resolve().parent
    datasets = []
    for k, d in enumerate(doc.get("datasets", [])):
        if not isinstance(d, dict) or not isinstance(d.get("path"), str):
            raise ReaderError(p, f"datasets[{k}] needs a 'path' string")
        lod = d.get("lod", "best")
        datasets.append(
            Dataset(
                path=(base / d["path"]).resolve() if not os.path.isabs(d["path"]) else Path(d["path"]),
                crs=d.get("crs"),
                name=str(d.get("name", Path(d["path"]).name)),
                visible=bool(d.get("visible", True)),
                opacity=float(d.get("opacity", 1.0)),
                color_by=d.get("color_by"),
                lod=lod if isinstance(lod, str) else float(lod),
                textures=bool(d.get("textures", True)),
            )
        )
    cam = _camera(doc["camera"], p, "camera") if isinstance(doc.get("camera"), dict) else None
    views = []
    for k, v in enumerate(doc.get("views", [])):
        if not isinstance(v, dict):
            raise ReaderError(p, f"views[{k}] is not a table")
        views.append(View(name=str(v.get("name", f"View {k + 1}")), camera=_camera(v, p, f"views[{k}]")))
    sensors = []
    for k, sd in enumerate(doc.get("sensors", [])):
        if not isinstance(sd, dict) or not isinstance(sd.get("source"), str) or not sd["source"]:
            raise ReaderError(p, f"sensors[{k}] needs a 'source' string")
        sd = dict(sd)
        if "://" not in sd["source"] and not os.path.isabs(sd["source"]):  # a replay file
            sd["source"] = str((base / sd["source"]).resolve())
        sensors.append(sd)
    return SceneFile(
        version=version,
        datasets=datasets,
        camera=cam,
        views=views,
        title=str(doc.get("title", "")),
        crs=doc.get("crs"),
        color_by=str(doc.get("color_by", "semantic")),
        sensors=sensors,
        shadows=_flag(doc.get("shadows", False), p, "shadows"),
        time=_text(doc.get("time"), p, "time"),
        tours=read_tours(doc.get("tours"), p),
        scenarios=_scenario_tables(doc.get("scenarios", []), p),
    )


def _scenario_tables(value: Any, path: Path) -> list[dict[str, Any]]:
    """``[[scenarios]]`` kept as tables (``path = "x.scenario.toml"`` or inline edits): the
    scenario package reads them (scenario/files.py ``scenarios_from_tables``)."""
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ReaderError(path, "scenarios must be an array of tables ([[scenarios]])")
    return [dict(t) for t in value]


def _flag(value: Any, path: Path, what: str) -> bool:
    if not isinstance(value, bool):
        raise ReaderError(path, f"{what} must be true or false, got {value!r}")
    return value


def _text(value: Any, path: Path, what: str) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):  # a TOML date-time literal
        return str(value.isoformat())
    if not isinstance(value, str):
        raise ReaderError(path, f"{what} must be text (ISO 8601), got {value!r}")
    return value


# ------------------------------------------------------------------ writing
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v} to TOML")
        return repr(round(v, 3)) if abs(v) >= 1000 else repr(v)
    if isinstance(v, str):
        out = v.replace("\\", "\\\\").replace('"', '\\"')
        for ch, esc in (("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
            out = out.replace(ch, esc)
        return f'"{out}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # inline table; None values left out (TOML has no null)
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: Any) -> str:
    k = str(k)
    return k if k and all(c.isalnum() or c in "_-" for c in k) and k.isascii() else _toml_value(k)


def _table(items: dict[str, Any]) -> list[str]:
    return [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in items.items() if v is not None]


def _cam_items(c: Camera) -> dict[str, Any]:
    return {
        "position": [float(x) for x in c.position],
        "focal_point": [float(x) for x in c.focal_point],
        "up": [float(x) for x in c.up],
        "view_angle": float(c.view_angle),
    }


def scene_toml(scene: SceneFile, path: str | Path) -> str:
    """The TOML text of ``scene`` as it would be written to ``path``."""
    base = Path(path).resolve().parent
    lines = ["# citytwin scene file", *_table({
        "version": scene.version, "title": scene.title or None, "crs": scene.crs, "color_by": scene.color_by,
        "shadows": True if scene.shadows else None,  # written only when on: old files stay as they were
        "time": scene.time,
    })]
    for d in scene.datasets:
        dp = Path(d.path)
        try:
            rel = os.path.relpath(dp.resolve() if dp.is_absolute() else base / dp, base)
        except ValueError:  # another drive on Windows
            rel = str(dp)
        lines += ["", "[[datasets]]", *_table({
            "name": d.name or None, "path": Path(rel).as_posix(), "crs": d.crs, "visible": d.visible,
            "opacity": float(d.opacity), "color_by": d.color_by, "lod": d.lod,
            "textures": None if d.textures else False,  # written only when off: old files stay as they were
        })]
    if scene.camera is not None:
        lines += ["", "[camera]", *_table(_cam_items(scene.camera))]
    for v in scene.views:
        lines += ["", "[[views]]", *_table({"name": v.name, **_cam_items(v.camera)})]
    for sd in scene.sensors:
        sd = dict(sd)
        src = str(sd.get("source", ""))
        if "://" not in src and os.path.isabs(src):  # a replay file: relative to the scene file
            try:
                sd["source"] = Path(os.path.relpath(src, base)).as_posix()
            except ValueError:
                pass
        lines += ["", "[[sensors]]", *_table(sd)]
    lines += tours_toml(scene.tours)
    for sc in scene.scenarios:
        lines += ["", "[[scenarios]]", *_table(sc)]
    return "\n".join(lines) + "\n"


def write_scene(scene: SceneFile, path: str | Path) -> Path:
    """Write ``scene`` to ``path`` (dataset paths made relative to it); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(scene_toml(scene, p), encoding="utf-8", newline="\n")
    return p


