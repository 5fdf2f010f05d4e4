"""Tour export benchmark: ``citytwin tour render``'s pipeline against raw VTK plus raw ffmpeg.

Two parts, in one run, on the demo scene (``scenes/demo.toml``) and its tour:

1. **Throughput against the raw baseline** on the tour's first ``--stops`` stops (255 frames
   at 30 fps with 2): *ours* is :func:`citytwin.render.tour_render.export_tour` (the viewer
   model's layers through the visual registry, horizon sky, overlays, caption and POI, the
   sensors on the clock, frames piped to ffmpeg while the next renders); the *raw* baseline is
   the same triangles as one plain ``vtkPolyData`` in a bare off-screen ``vtkRenderWindow``
   (bench_render's), the same cameras, each frame read back into memory, **plus** encoding
   those frames with ffmpeg alone afterwards (``imageio_ffmpeg.write_frames``, the same libx264
   settings). Throughput ratio = raw seconds (render + encode) / our seconds; target ≥ 80 %.
   ``--rounds`` alternate raw and ours; medians are printed.
2. **The whole demo tour** exported to MP4 as the command does, wall-clock time against the
   video's duration (target ≤ 2×), and the CPU time of this process (llvmpipe's threads
   included, and ffmpeg's).

Usage::

    xvfb-run -a .venv/bin/python benchmarks/bench_tour.py [--size 1280x720] [--fps 30] [--stops 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import REPO, machine_info, print_header  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process (llvmpipe's threads included) and of its finished children (ffmpeg)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _raw_round(base: Any, samples: list[Any], origin: np.ndarray, size: tuple[int, int], fps: float,
               out: Path) -> tuple[float, float, float]:
    """Raw VTK: render and read back every frame; then raw ffmpeg on them. Seconds of each, CPU seconds."""
    import imageio_ffmpeg
    from vtkmodules.vtkCommonCore import vtkUnsignedCharArray

    w, h = size
    frames = np.empty((len(samples), h, w, 3), dtype=np.uint8)
    arr = vtkUnsignedCharArray()
    from vtkmodules.util.numpy_support import vtk_to_numpy

    cam = base.ren.GetActiveCamera()
    c0 = _cpu()
    t0 = time.perf_counter()
    for i, s in enumerate(samples):
        cam.SetPosition(*(s.position - origin))
        cam.SetFocalPoint(*(s.focal_point - origin))
        cam.SetViewUp(*s.up)
        cam.SetViewAngle(s.view_angle)
        base.ren.ResetCameraClippingRange()
        base.win.Render()
        base.win.GetPixelData(0, 0, w - 1, h - 1, 0, arr, 0)
        frames[i] = vtk_to_numpy(arr).reshape(h, w, 3)[::-1]
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen = imageio_ffmpeg.write_frames(str(out), size, fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                      quality=None, macro_block_size=2, ffmpeg_log_level="error",
                                      output_params=["-preset", "veryfast", "-crf", "20", "-movflags", "+faststart"])
    gen.send(None)
    for f in frames:
        gen.send(f)
    gen.close()
    encode_s = time.perf_counter() - t0
    return render_s, encode_s, _cpu() - c0


def _ours(vm: Any, path: Any, size: tuple[int, int], fps: float, out: Path) -> tuple[float, float]:
    from citytwin.render.effects import RenderEffects
    from citytwin.render.tour_render import TourRenderer, export_tour
    from citytwin.render.video import Mp4Writer

    r = TourRenderer(vm, size=size, effects=RenderEffects(fxaa=False, ssao=False, horizon=True),
                     sun_at=None)
    try:
        t0, c0 = time.perf_counter(), _cpu()
        export_tour(r, path, [Mp4Writer(out, size, fps)], fps)
        return time.perf_counter() - t0, _cpu() - c0
    finally:
        r.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scene", default=str(REPO / "scenes" / "demo.toml"))
    ap.add_argument("--tour", default=None, help="default: the scene's first tour")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--stops", type=int, default=2, help="stops of the tour used for the raw comparison")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)

    from bench_render import _Baseline
    from citytwin.cli.view import parse_size
    from citytwin.io.viewer_loader import load_viewer
    from citytwin.model.tour import Tour, find_tour
    from citytwin.model.tour_path import TourPath
    from citytwin.render.scene_view import SceneView

    size = parse_size(args.size)
    info = machine_info(["benchmarks/bench_tour.py", *argv])
    import imageio_ffmpeg
    import vtkmodules

    print_header(info, f"VTK {vtkmodules.__version__}, ffmpeg {imageio_ffmpeg.get_ffmpeg_version()} "
                       f"(imageio-ffmpeg {imageio_ffmpeg.__version__}), libx264 -preset veryfast -crf 20, yuv420p",
                 "figures on a shared machine: other engineers' jobs load the same 2 cores")
    vm, sf = load_viewer([args.scene])
    tour = find_tour(sf.tours, args.tour) if args.tour else sf.tours[0]
    from citytwin.sim.sunlight import Sunlight

    sunlight = Sunlight.of_bbox(vm.scene.bbox(), vm.scene.crs) if vm.scene.crs is not None else None
    clock = sunlight.parse if sunlight is not None else None
    part = TourPath(Tour(tour.name, tour.stops[:max(2, args.stops)]), clock=clock)
    samples = [part.sample(t) for t in part.frame_times(args.fps)]
    n = len(samples)
    origin = np.asarray(vm.scene.origin, dtype=np.float64)
    probe = SceneView(size=(64, 64), overlays=False)  # a camera to start the baseline with
    base = _Baseline(vm.scene.models[0], "best", size, 0, probe.renderer.GetActiveCamera())
    probe.close()
    print(f"part 1: tour {tour.name!r}, first {max(2, args.stops)} stops: {n} frames at {size[0]}x{size[1]}, "
          f"{args.fps:g} fps ({part.duration:.1f} s of video); {vm.scene.models[0].n_triangles:,} triangles")
    raw_total, ours_total, raw_cpu, ours_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.rounds):
            rr, re_, rc = _raw_round(base, samples, origin, size, args.fps, Path(tmp) / "raw.mp4")
            ow, oc = _ours(vm, part, size, args.fps, Path(tmp) / "ours.mp4")
            raw_total.append(rr + re_)
            ours_total.append(ow)
            raw_cpu.append(rc)
            ours_cpu.append(oc)
            print(f"  round {k + 1}: raw VTK render+readback {rr:6.2f} s + raw ffmpeg {re_:5.2f} s = {rr + re_:6.2f} s"
                  f" ({rc:5.1f} s CPU) | ours {ow:6.2f} s ({oc:5.1f} s CPU) | ratio {(rr + re_) / ow:5.1%}")
        base.close()
        raw_m, ours_m = float(np.median(raw_total)), float(np.median(ours_total))
        print(f"  median: raw {raw_m:.2f} s ({n / raw_m:.1f} fps), ours {ours_m:.2f} s ({n / ours_m:.1f} fps): "
              f"throughput {raw_m / ours_m:.1%} of raw (target >= 80 %); CPU seconds (with ffmpeg's): "
              f"raw {np.median(raw_cpu):.1f}, ours {np.median(ours_cpu):.1f} "
              f"({np.median(raw_cpu) / np.median(ours_cpu):.1%})")

        full = TourPath(tour, clock=clock)
        nf = full.frame_count(args.fps)
        print(f"part 2: the whole tour, {nf} frames, {full.duration:.1f} s of video at {size[0]}x{size[1]}, "
              f"{args.fps:g} fps, as 'citytwin tour render' exports it")
        from citytwin.render.effects import RenderEffects
        from citytwin.render.tour_render import TourRenderer, export_tour
        from citytwin.render.video import Mp4Writer

        r = TourRenderer(vm, size=size, effects=RenderEffects(fxaa=False, ssao=False, horizon=True),
                         sun_at=sunlight.direction if sunlight is not None else None)
        try:
            t0, c0 = time.perf_counter(), _cpu()
            export_tour(r, full, [Mp4Writer(Path(tmp) / "tour.mp4", size, args.fps)], args.fps)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
        finally:
            r.close()
        mb = (Path(tmp) / "tour.mp4").stat().st_size / 1e6
        print(f"  {wall:.1f} s wall ({nf / wall:.1f} fps), {cpu:.1f} s CPU (with ffmpeg's): "
              f"{wall / full.duration:.2f}x the video's duration (target <= 2x); {mb:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
