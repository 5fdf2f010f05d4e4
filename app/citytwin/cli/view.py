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
    """Models (in one scene CRS) and the scene file, from files or one scene .toml."""
    from ..io.scene_loader import load_into_scene
    from ..model.scene import Scene

    scene = Scene()
    sf = None
    if len(inputs) == 1 and inputs[0].lower().endswith(".toml"):
        from ..core.crs import parse_crs
        from ..model.scenefile import read_scene

        sf = read_scene(inputs[0])
        if sf.crs:
            scene.crs = parse_crs(sf.crs)
        for d in sf.datasets:
            if d.visible:
                load_into_scene(scene, d.path, crs=d.crs or crs)
        return scene, sf
    for f in inputs:
        load_into_scene(scene, f, crs=crs)
    return scene, None


def render_to_png(inputs: Sequence[str], out: str | Path, size: tuple[int, int] = (1920, 1080),
                  view: str = "iso", color_by: str | None = None, lod: str | float | None = None,
                  crs: str | None = None, textures: bool = True, effects: Any = None,
                  sun: str | None = None, shadows: bool | None = None) -> Path:
    """Read ``inputs`` and write a PNG of them seen from ``view`` (off-screen, no window).

    Parameters
    ----------
    inputs
        Files, or one scene ``.toml`` (its colouring and saved views apply).
    out
        The PNG to write.
    size
        Width and height in pixels.
    view
        ``iso``, ``top``, ``north``/``south``/``east``/``west``, ``scene`` (the scene
        file's camera) or the name of a saved view in the scene file.
    color_by, lod
        Colouring and LoD of every dataset.
    textures
        Draw textures (a scene file can also switch them off per dataset).
    effects
        A :class:`~citytwin.render.effects.RenderEffects` (default: FXAA and the horizon).
    sun
        ISO 8601 time to place the sun at (a scene file's ``time`` otherwise; neither: a
        fixed sun from the south-west). Needs the scene's CRS.
    shadows
        Cast shadows (``None``: the scene file's ``shadows``, else off).
    """
    from ..render.effects import DEFAULT_EFFECTS
    from ..render.snapshot import render_to_image

    scene, sf = _load(list(inputs), crs)
    if not scene.models or all(m.n_triangles == 0 for m in scene.models):
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
    if color_by is None:
        color_by = (sf.datasets[0].color_by if sf and sf.datasets and sf.datasets[0].color_by
                    else sf.color_by if sf else "semantic")
    if color_by != "semantic":
        known = set()
        for m in scene.models:
            for a in m.objects.attributes:
                known.update(a)
        if color_by not in known:
            raise CityTwinError(f"--color-by {color_by!r}: no object has this attribute")
    sun_dir = _sun_direction(scene, inputs, sun if sun is not None else (sf.time if sf is not None else None))
    if shadows is None:
        shadows = bool(sf.shadows) if sf is not None else False
    flags = [textures] * len(scene.models)
    if sf is not None and textures:
        shown = [d for d in sf.datasets if d.visible]
        if len(shown) == len(scene.models):
            flags = [d.textures for d in shown]
    return render_to_image(scene.models, out, size=size, view=cam_view, color_by=color_by,  # type: ignore[arg-type]
                           lod=lod if lod is not None else "best", scene=sf, textures=flags,
                           effects=effects if effects is not None else DEFAULT_EFFECTS,
                           shadows=bool(shadows), sun=sun_dir)


def _sun_direction(scene: Any, inputs: Sequence[str], when: str | None) -> Any:
    """The sun's direction in scene axes at ``when`` (None below the horizon), or
    ``"default"`` when no time is asked for."""
    if when is None:
        return "default"
    if scene.crs is None:
        raise CityTwinError(f"{', '.join(inputs)}: no CRS, so the sun's position is unknown (say --crs)")
    from ..sim.sunlight import Sunlight

    try:
        sunlight = Sunlight.of_bbox(scene.bbox(), scene.crs)
        t = sunlight.parse(when)
    except ValueError as exc:
        raise CityTwinError(f"--sun: {exc}") from None
    return sunlight.direction(t)


def _run_render(args: argparse.Namespace) -> int:
    size = parse_size(args.size)
    from ..render.effects import RenderEffects

    effects = RenderEffects(fxaa=not args.no_fxaa, ssao=args.ssao, horizon=not args.no_horizon)
    out = render_to_png(args.input, args.out, size=size, view=args.view, color_by=args.color_by,
                        lod=_lod(args.lod), crs=args.crs, textures=not args.no_textures, effects=effects,
                        sun=args.sun, shadows=args.shadows)
    log.info("wrote %s", out)
    print(out)  # the one line of output of the command: the file written
    return 0
