"""``citytwin view FILE… [--crs]`` (the desktop viewer) and ``citytwin render INPUT --out FILE.png``
(a headless snapshot)."""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import CityTwinError

log = logging.getLogger("citytwin")

VIEWS = ("iso", "top", "north", "south", "east", "west")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``view`` and ``render``."""
    v = sub.add_parser("view", help="open files or a scene in the desktop viewer",
                       description="Open city models (or one scene .toml) in the desktop viewer.")
    v.add_argument("files", nargs="*", metavar="FILE", help="CityGML, CityJSON, mesh files or a scene .toml")
    v.add_argument("--crs", help="CRS of files that declare none (e.g. EPSG:3946)")
    v.add_argument("--msaa", type=int, default=None, help="multi-sampling samples (0 for software rendering)")
    v.set_defaults(handler=_run_view)

    r = sub.add_parser("render", help="render a file or scene to a PNG without a window",
                       description="Render a file or a scene .toml to a PNG image (no display needed).")
    r.add_argument("input", nargs="+", metavar="INPUT", help="file(s) or a scene .toml")
    r.add_argument("--out", "-o", required=True, help="PNG file to write")
    r.add_argument("--size", default="1920x1080", help="image size WIDTHxHEIGHT (default 1920x1080)")
    r.add_argument("--view", default="iso", help=f"camera: {', '.join(VIEWS)} or a saved view of the scene")
    r.add_argument("--color-by", default=None, help="'semantic' or an attribute name")
    r.add_argument("--lod", default=None, help="'best', 'lowest' or a LoD number")
    r.add_argument("--crs", help="CRS of files that declare none")
    r.add_argument("--no-textures", action="store_true", help="draw textured surfaces in their colours")
    r.add_argument("--no-fxaa", action="store_true", help="no anti-aliasing pass (FXAA, on by default)")
    r.add_argument("--ssao", action="store_true",
                   help="ambient occlusion (SSAO: darker creases; off by default, ~3x the frame time on software GL)")
    r.add_argument("--no-horizon", action="store_true",
                   help="a plain screen gradient behind the city instead of the sky and ground meeting at the horizon")
    r.add_argument("--sun", metavar="ISO_TIME",
                   help="light the scene by the sun at this time (ISO 8601, e.g. 2026-06-21T15:00+02:00; "
                        "without an offset: the place's local time)")
    r.add_argument("--time", metavar="ISO_TIME",
                   help="the scene clock's time: sensor layers show their values then (ISO 8601; without an "
                        "offset: the place's local time; default: the scene file's time, else the replay's start)")
    sh = r.add_mutually_exclusive_group()
    sh.add_argument("--shadows", dest="shadows", action="store_true", default=None,
                    help="the sun casts shadows (default: as the scene file says, else off)")
    sh.add_argument("--no-shadows", dest="shadows", action="store_false", help="no cast shadows")
    r.set_defaults(handler=_run_render)


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_viewer(paths: Sequence[str | Path], crs: str | None = None, multi_samples: int | None = None) -> int:
    """Run the desktop viewer on ``paths`` until its window closes."""
    if not has_display():
        raise CityTwinError("no display: the viewer needs X11 or Wayland (use 'citytwin render' headless)")
    from ..app import run_viewer

    return run_viewer([str(p) for p in paths], crs=crs, multi_samples=multi_samples)


def _run_view(args: argparse.Namespace) -> int:
    for f in args.files:
        if not Path(f).exists():
            raise CityTwinError(f"{f}: no such file")
    return open_viewer(args.files, crs=args.crs, multi_samples=args.msaa)


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise CityTwinError(f"--size must look like 1920x1080, got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise CityTwinError(f"--size {w}x{h} is out of range (16..16384)")
    return w, h


def _lod(text: str | None) -> str | float | None:
    if text is None or text in ("best", "lowest"):
        return text
    try:
        return float(text)
    except ValueError as exc:
        raise CityTwinError(f"--lod must be best, lowest or a number, got {text!r}") from exc


def _load(inputs: Sequence[str], crs: str | None):  # noqa: ANN202
    """The viewer model (in one scene CRS) and the scene file, from files or one scene .toml."""
    from ..io.viewer_loader import load_viewer

    return load_viewer(list(inputs), crs)


def render_to_png(inputs: Sequence[str], out: str | Path, size: tuple[int, int] = (1920, 1080),
                  view: str = "iso", color_by: str | None = None, lod: str | float | None = None,
                  crs: str | None = None, textures: bool = True, effects: Any = None,
                  sun: str | None = None, shadows: bool | None = None, when: str | None = None) -> Path:
    """Read ``inputs`` and write a PNG of them seen from ``view`` (off-screen, no window), drawn
    as the window draws them (:func:`~citytwin.render.snapshot.render_viewer`).

    Parameters
    ----------
    inputs
        Files, or one scene ``.toml`` (its datasets' styles, terrain split, sensor layers,
        saved views, shadows and time apply).
    out
        The PNG to write.
    size
        Width and height in pixels.
    view
        ``iso``, ``top``, ``north``/``south``/``east``/``west``, ``scene`` (the scene
        file's camera) or the name of a saved view in the scene file.
    color_by, lod
        Colouring and LoD of every dataset (default: each dataset's own); the colouring may be a
        sensor field (``sensors:idw/both:no2``) of the scene's sensor layers at the clock time.
    textures
        Draw textures (a scene file can also switch them off per dataset).
    effects
        A :class:`~citytwin.render.effects.RenderEffects` (default: FXAA and the horizon).
    sun
        ISO 8601 time to place the sun at (a scene file's ``time`` otherwise: the sun then
        follows the clock, as in the window; neither: a fixed sun from the south-west). Needs the
        scene's CRS.
    shadows
        Cast shadows (``None``: the scene file's ``shadows``, else off).
    when
        ISO 8601 time of the scene clock: sensor layers show their values then (default: the
        scene file's ``time``, else the start of the replays, else now); clamped to the
        replays' span as in the window.
    """
    from ..model.layer import LayerKind
    from ..render.effects import DEFAULT_EFFECTS
    from ..render.snapshot import render_viewer

    vm, sf = _load(list(inputs), crs)
    cities = vm.of_kind(LayerKind.CITY, LayerKind.TERRAIN)
    if not cities or all(lay.model.n_triangles == 0 for lay in cities):
        raise CityTwinError(f"{', '.join(inputs)}: nothing to draw (no triangles)")
    cam_view: object = view
    if view not in VIEWS:
        if sf is None:
            raise CityTwinError(f"--view must be one of {', '.join(VIEWS)} (or a saved view of a scene file)")
        if view == "scene" and sf.camera is not None:
            cam_view = sf.camera
        elif sf.view(view) is None:
            names = ", ".join(x.name for x in sf.views) or "none"
            raise CityTwinError(f"--view {view!r}: not a camera preset ({', '.join(VIEWS)}) "
                                f"nor a saved view of the scene ({names})")
    if color_by is not None:
        if color_by != "semantic" and not color_by.startswith("sensors:"):  # a sensor field: the sensors
            known = set()
            for lay in cities:
                for a in lay.model.objects.attributes:
                    known.update(a)
            if color_by not in known:
                raise CityTwinError(f"--color-by {color_by!r}: no object has this attribute")
        for lay in vm.of_kind(LayerKind.CITY):
            vm.set_color_by(lay.id, color_by)
    for lay in cities:
        if lod is not None:
            vm.set_lod(lay.id, lod)
        if not textures:
            vm.set_textures(lay.id, False)
    _set_clock(vm, inputs, when if when is not None else (sf.time if sf is not None else None))
    follows = sun is None and sf is not None and sf.time is not None  # the sun on the scene clock
    sun_dir = _sun_direction(vm.scene, inputs, sun, "--sun") if sun is not None else \
        _sun_at(vm.scene, inputs, vm.clock.time()) if follows else "default"
    if shadows is None:
        shadows = bool(sf.shadows) if sf is not None else False
    return render_viewer(vm, out, size=size, view=cam_view, effects=effects if effects is not None else DEFAULT_EFFECTS,  # type: ignore[arg-type]
                         shadows=bool(shadows), sun=sun_dir)


def _sunlight(scene: Any, inputs: Sequence[str]) -> Any:
    if scene.crs is None:
        raise CityTwinError(f"{', '.join(inputs)}: no CRS, so the sun's position is unknown (say --crs)")
    from ..sim.sunlight import Sunlight

    return Sunlight.of_bbox(scene.bbox(), scene.crs)


def _set_clock(vm: Any, inputs: Sequence[str], when: str | None) -> None:
    """The scene clock, paused: at ``when`` (the place's local time without an offset), else at
    the start of the replays; clamped to the replays' span like the window's."""
    from ..live.replay import load_replay
    from ..model.layer import LayerKind

    t0, t1 = float("inf"), float("-inf")
    for lay in vm.of_kind(LayerKind.SENSORS):
        spec = lay.data
        if spec.kind == "replay":
            a, b = load_replay(spec.source, **{k: v for k, v in spec.replay.items()
                                               if k in ("stations", "time_col", "id_col", "value_col",
                                                        "property_col")}).span
            t0, t1 = min(t0, a), max(t1, b)
    if when is not None:
        from ..sim.place import parse_time

        tz = "UTC"
        if vm.scene.crs is not None:
            tz = _sunlight(vm.scene, inputs).place.timezone
        try:
            t = parse_time(when, tz).timestamp()
        except ValueError as exc:
            raise CityTwinError(f"--time: {exc}") from None
    elif t0 <= t1:
        t = t0
    else:
        import time as _time

        t = _time.time()
    if t0 <= t1:
        t = min(max(t, t0), t1)
    vm.set_time(t)
    vm.pause()


def _sun_at(scene: Any, inputs: Sequence[str], t: float) -> Any:
    return _sunlight(scene, inputs).direction(t)


def _sun_direction(scene: Any, inputs: Sequence[str], when: str, option: str = "--sun") -> Any:
    """The sun's direction in scene axes at ISO time ``when`` (None below the horizon)."""
    sunlight = _sunlight(scene, inputs)
    try:
        t = sunlight.parse(when)
    except ValueError as exc:
        raise CityTwinError(f"{option}: {exc}") from None
    return sunlight.direction(t)


def _run_render(args: argparse.Namespace) -> int:
    size = parse_size(args.size)
    from ..render.effects import RenderEffects

    effects = RenderEffects(fxaa=not args.no_fxaa, ssao=args.ssao, horizon=not args.no_horizon)
    out = render_to_png(args.input, args.out, size=size, view=args.view, color_by=args.color_by,
                        lod=_lod(args.lod), crs=args.crs, textures=not args.no_textures, effects=effects,
                        sun=args.sun, shadows=args.shadows, when=args.time)
    log.info("wrote %s", out)
    print(out)  # the one line of output of the command: the file written
    return 0
