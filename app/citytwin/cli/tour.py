"""``citytwin tour list SCENE`` and ``citytwin tour render SCENE --tour NAME --out tour.mp4``.

Everything that can be wrong with the input (the scene file, the tour's stops, the size, the
frame rate, an output that cannot be written) is found and reported in one line before the
models are loaded or any frame is rendered.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

from ..core.errors import CityTwinError

log = logging.getLogger("citytwin")

PREVIEW_SIZE = (640, 360)  # default size and frame rate of a .gif/.webp preview
PREVIEW_FPS = 15.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``tour list`` and ``tour render``."""
    t = sub.add_parser("tour", help="list a scene's tours or render one to a video",
                       description="Virtual tours of a scene file ([[tours]] tables).")
    tsub = t.add_subparsers(dest="tour_command", metavar="ACTION", required=True)

    ls = tsub.add_parser("list", help="the tours of a scene: stops, duration, problems")
    ls.add_argument("scene", metavar="SCENE", help="a scene .toml")
    ls.set_defaults(handler=_run_list)

    r = tsub.add_parser("render", help="render a tour off-screen to MP4 (H.264), GIF/WebP or PNG frames",
                        description="Render a tour without a window: captions and points of interest burned in.")
    r.add_argument("scene", metavar="SCENE", help="a scene .toml")
    r.add_argument("--tour", required=True, help="the tour's name (see 'citytwin tour list')")
    r.add_argument("--out", "-o", help="video to write: .mp4 (H.264, yuv420p), .gif or .webp (a preview)")
    r.add_argument("--frames", metavar="DIR", help="also (or only) write PNG frames into this new folder")
    r.add_argument("--size", default=None,
                   help="WIDTHxHEIGHT (default 1920x1080; a .gif/.webp alone: 640x360)")
    r.add_argument("--fps", type=float, default=None, help="frames per second (default 30; a .gif/.webp alone: 15)")
    r.add_argument("--crs", help="CRS of files that declare none")
    r.add_argument("--fxaa", action="store_true",
                   help="anti-alias each frame (FXAA: about twice the frame time on software OpenGL)")
    r.add_argument("--no-horizon", action="store_true", help="a plain gradient instead of the horizon sky")
    sh = r.add_mutually_exclusive_group()
    sh.add_argument("--shadows", dest="shadows", action="store_true", default=None,
                    help="the sun casts shadows (default: as the scene file says)")
    sh.add_argument("--no-shadows", dest="shadows", action="store_false", help="no cast shadows")
    r.set_defaults(handler=_run_render)


def _read(scene: str) -> Any:
    from ..model.scenefile import read_scene

    if not scene.lower().endswith(".toml"):
        raise CityTwinError(f"{scene}: not a scene file (.toml)")
    return read_scene(scene)


def _run_list(args: argparse.Namespace) -> int:
    sf = _read(args.scene)
    if not sf.tours:
        print(f"{args.scene}: no tours")
        return 0
    for t in sf.tours:
        problem = t.problem()
        status = f"  (cannot play: {problem})" if problem else ""
        print(f"{t.name}\t{len(t.stops)} stops\t{t.duration:.1f} s{status}")
    return 0


def _size(text: str) -> tuple[int, int]:
    from .view import parse_size

    return parse_size(text)


class _Progress:
    """``Rendering [#####   ] 40% 120/300 frames 14.2 fps`` on stderr when it is a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.last = -1.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.tty or (now - self.last < 0.2 and done < total):
            return
        self.last = now
        f = done / max(total, 1)
        fps = done / max(now - self.t0, 1e-9)
        bar = "#" * int(f * 25)
        sys.stderr.write(f"\r{self.label} [{bar:<25}] {int(f * 100):3d}% {done}/{total} frames {fps:5.1f} fps")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _run_render(args: argparse.Namespace) -> int:
    from ..model.tour import find_tour
    from ..render.video import ANIMATED_SUFFIXES, VIDEO_SUFFIXES, check_output

    if not args.out and not args.frames:
        raise CityTwinError("tour render: say --out FILE (.mp4, .gif, .webp) and/or --frames DIR")
    preview = bool(args.out) and Path(args.out).suffix.lower() in ANIMATED_SUFFIXES and not args.frames
    size = _size(args.size) if args.size else (PREVIEW_SIZE if preview else (1920, 1080))
    fps = args.fps if args.fps is not None else (PREVIEW_FPS if preview else 30.0)
    if not (math.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise CityTwinError(f"--fps must be 1..240, got {args.fps}")
    sf = _read(args.scene)
    tour = find_tour(sf.tours, args.tour, args.scene)
    tour.validate(args.scene)
    if args.out:
        check_output(args.out)
        if Path(args.out).suffix.lower() in VIDEO_SUFFIXES and (size[0] % 2 or size[1] % 2):
            raise CityTwinError(f"--size {size[0]}x{size[1]}: H.264 needs an even width and height")
    if args.frames:
        check_output(args.frames, frames_dir=True)
    if args.out and args.frames and Path(args.out).resolve() == Path(args.frames).resolve():
        raise CityTwinError("--out and --frames name the same path")

    renderer, path = _prepare(sf, tour, args, size)
    from ..render.tour_render import export_tour
    from ..render.video import open_writer

    bar = _Progress(f"Tour {tour.name!r}")
    t0 = time.perf_counter()
    try:
        writers: list[Any] = []
        try:
            if args.out:
                writers.append(open_writer(args.out, size, fps))
            if args.frames:
                writers.append(open_writer(args.frames, size, fps, frames_dir=True))
        except BaseException:
            for w in writers:
                w.abort()
            raise
        written = export_tour(renderer, path, writers, fps, progress=bar)
    finally:
        bar.done()
        renderer.close()
    n = path.frame_count(fps)
    log.info("%d frames (%.1f s of video) in %.1f s", n, n / fps, time.perf_counter() - t0)
    for p in written:
        print(p)
    if renderer.unknown_layers:
        log.warning("the tour sets layers the scene does not have: %s", ", ".join(sorted(renderer.unknown_layers)))
    return 0


def _prepare(sf: Any, tour: Any, args: argparse.Namespace, size: tuple[int, int]) -> tuple[Any, Any]:
    """Load the scene into a viewer model (as ``citytwin render`` does) and make the renderer and
    the tour's path."""
    from ..io.viewer_loader import load_viewer
    from ..model.layer import LayerKind
    from ..model.tour_path import TourPath
    from ..render.effects import RenderEffects
    from ..render.tour_render import TourRenderer
    from .view import _set_clock

    vm, _ = load_viewer([args.scene], crs=args.crs)  # hidden datasets too: a stop may show them
    cities = vm.of_kind(LayerKind.CITY, LayerKind.TERRAIN)
    if not cities or all(lay.model.n_triangles == 0 for lay in cities):
        raise CityTwinError(f"{args.scene}: nothing to draw (no triangles)")
    times = [s.time for s in tour.stops if s.time is not None]
    sunlight = None
    if times or sf.time:
        if vm.scene.crs is None:
            raise CityTwinError(f"{args.scene}: the tour or scene sets a clock time but the scene has no CRS, "
                                "so the sun's position is unknown (say --crs)")
        from ..sim.sunlight import Sunlight

        sunlight = Sunlight.of_bbox(vm.scene.bbox(), vm.scene.crs)
    _set_clock(vm, [args.scene], times[0] if times else sf.time)  # sensors before the first frame
    sun: Any = "default"
    if sunlight is not None and sf.time:
        try:
            sun = sunlight.direction(sunlight.parse(sf.time))
        except ValueError as exc:
            raise CityTwinError(f"{args.scene}: time: {exc}") from None
    try:
        path = TourPath(tour, clock=sunlight.parse if sunlight is not None else None)
    except ValueError as exc:
        raise CityTwinError(f"{args.scene}: tour {tour.name!r}: {exc}") from None
    shadows = bool(sf.shadows) if args.shadows is None else bool(args.shadows)
    effects = RenderEffects(fxaa=bool(args.fxaa), ssao=False, horizon=not args.no_horizon)
    renderer = TourRenderer(vm, size=size, effects=effects, shadows=shadows, sun=sun,
                            sun_at=sunlight.direction if sunlight is not None else None)
    return renderer, path
