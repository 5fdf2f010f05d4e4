"""Tours in scene files: the ``[[tours]]`` and ``[[tours.stops]]`` tables.

::

    [[tours]]
    name = "Old town"

    [[tours.stops]]
    camera = { position = [x, y, z], focal_point = [x, y, z], up = [0.0, 0.0, 1.0] }   # scene CRS
    hold = 2.0                        # seconds at the stop (default 2)
    transition = 3.0                  # seconds flying in from the previous stop (none for the first)
    easing = "ease-in-out"            # linear, ease-in, ease-out, ease-in-out (default)
    caption = "The cathedral"         # first line bold; "\\n" starts a smaller line
    poi = { position = [x, y, z], label = "St. Marien" }   # optional marker with a label
    time = "2026-06-21T10:00:00+02:00"                     # optional: the scene clock (sun, sensors)
    layers = { "Lindenau district" = true }                # optional: visibility by layer name
    scenario = "Tower"                                     # optional: a scenario's name

Reading checks the shape of the tables (one :class:`~citytwin.core.errors.ReaderError`
line naming the file, the tour and the stop); whether a tour can be played (stops, a camera
off its focal point, times) is :meth:`~citytwin.model.tour.Tour.validate`, asked when it is
played or rendered, so a scene with an unfinished tour still opens.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..core.errors import ReaderError
from .tour import PointOfInterest, Stop, Tour

__all__ = ["read_tours", "tours_toml"]


def _where(k: int, name: str, j: int | None = None) -> str:
    w = f"tours[{k}] ({name!r})" if name else f"tours[{k}]"
    return f"{w} stop {j + 1}" if j is not None else w


def _vec3(value: Any, path: Path, what: str) -> tuple[float, float, float]:
    try:
        x, y, z = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ReaderError(path, f"{what} must be three numbers, got {value!r}") from exc
    return x, y, z


def _num(tbl: dict[str, Any], key: str, default: float, path: Path, what: str) -> float:
    v = tbl.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ReaderError(path, f"{what}: {key} must be a number of seconds, got {v!r}")
    return float(v)


def _str(tbl: dict[str, Any], key: str, path: Path, what: str) -> str | None:
    v = tbl.get(key)
    if v is None:
        return None
    if hasattr(v, "isoformat"):  # a TOML date-time literal
        return str(v.isoformat())
    if not isinstance(v, str):
        raise ReaderError(path, f"{what}: {key} must be text, got {v!r}")
    return v


def _stop(tbl: Any, path: Path, what: str) -> Stop:
    if not isinstance(tbl, dict):
        raise ReaderError(path, f"{what} is not a table")
    cam = tbl.get("camera")
    if not isinstance(cam, dict) or "position" not in cam or "focal_point" not in cam:
        raise ReaderError(path, f"{what} needs camera = {{ position = [x, y, z], focal_point = [x, y, z] }}")
    poi = None
    if tbl.get("poi") is not None:
        p = tbl["poi"]
        if not isinstance(p, dict) or "position" not in p:
            raise ReaderError(path, f"{what}: poi needs a position")
        poi = PointOfInterest(_vec3(p["position"], path, f"{what}: poi.position"), str(p.get("label", "")))
    layers = tbl.get("layers")
    if layers is not None and (not isinstance(layers, dict)
                               or not all(isinstance(v, bool) for v in layers.values())):
        raise ReaderError(path, f"{what}: layers must be a table of layer name = true/false")
    easing = _str(tbl, "easing", path, what)
    return Stop(
        position=_vec3(cam["position"], path, f"{what}: camera.position"),
        focal_point=_vec3(cam["focal_point"], path, f"{what}: camera.focal_point"),
        up=_vec3(cam.get("up", (0.0, 0.0, 1.0)), path, f"{what}: camera.up"),
        view_angle=_num(cam, "view_angle", 30.0, path, what),
        hold=_num(tbl, "hold", 2.0, path, what),
        transition=_num(tbl, "transition", 3.0, path, what),
        easing=easing if easing is not None else "ease-in-out",
        caption=_str(tbl, "caption", path, what) or "",
        poi=poi,
        time=_str(tbl, "time", path, what),
        layers={str(k): bool(v) for k, v in layers.items()} if layers else None,
        scenario=_str(tbl, "scenario", path, what),
    )


def read_tours(value: Any, path: str | Path) -> list[Tour]:
    """The tours of a scene document's ``tours`` array (None or missing: none)."""
    p = Path(path)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReaderError(p, "tours must be an array of tables ([[tours]])")
    tours = []
    for k, t in enumerate(value):
        if not isinstance(t, dict):
            raise ReaderError(p, f"tours[{k}] is not a table")
        name = t.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ReaderError(p, f"tours[{k}] needs a name")
        stops = t.get("stops", [])
        if not isinstance(stops, list):
            raise ReaderError(p, f"{_where(k, name)}: stops must be [[tours.stops]] tables")
        tours.append(Tour(name=name, stops=[_stop(s, p, _where(k, name, j)) for j, s in enumerate(stops)]))
    return tours


# ------------------------------------------------------------------ writing
def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"cannot write {v} to TOML")
        return repr(round(f, 3))
    if isinstance(v, str):
        out = v.replace("\\", "\\\\").replace('"', '\\"')
        for ch, esc in (("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
            out = out.replace(ch, esc)
        return f'"{out}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: Any) -> str:
    k = str(k)
    return k if k and k.isascii() and all(c.isalnum() or c in "_-" for c in k) else _value(k)


def _stop_items(s: Stop) -> dict[str, Any]:
    return {
        "camera": {"position": list(s.position), "focal_point": list(s.focal_point), "up": list(s.up),
                   "view_angle": s.view_angle},
        "hold": s.hold,
        "transition": s.transition,
        "easing": s.easing,
        "caption": s.caption or None,
        "poi": {"position": list(s.poi.position), "label": s.poi.label} if s.poi else None,
        "time": s.time,
        "layers": s.layers or None,
        "scenario": s.scenario,
    }


def tours_toml(tours: list[Tour]) -> list[str]:
    """The lines of the ``[[tours]]`` tables (empty without tours); they go last in a scene file."""
    lines: list[str] = []
    for t in tours:
        lines += ["", "[[tours]]", f"name = {_value(t.name)}"]
        for s in t.stops:
            lines += ["", "[[tours.stops]]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in _stop_items(s).items() if v is not None]
    return lines
