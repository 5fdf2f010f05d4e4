"""Rendering benchmark: time to first frame and orbit frame rate, against raw VTK.

For every input file, in this process:

* **time to first frame**: read the file (``citytwin.io.read``), build the visual
  (one PolyData, colours), create the off-screen window, frame the iso view and
  render once (``WaitForCompletion``), each step timed;
* **orbit**: ``--frames`` renders, the camera rotated 360/frames degrees about the
  vertical axis between them, through :class:`citytwin.render.SceneView` (overlays
  on, as the app draws them);
* **plain**: the same through a second SceneView without sky gradient and overlays;
* **baseline**: the same triangles as one plain ``vtkPolyData`` (float32 points,
  one solid colour, no cell data, no overlays) in a bare ``vtkRenderWindow`` of the
  same size and MSAA setting, the same camera, the same orbit. The two orbits
  alternate for ``--rounds`` rounds and the medians are reported, so that load from
  other processes on a shared machine hits both alike. Besides fps, the CPU time per
  frame of this process (llvmpipe's threads included) and, per round, our frame time
  over the baseline's are reported: the target is at most +10 %.
* **coloured baselines** (the same orbit, alternating too): raw VTK drawing the
  same triangles with the app's colours, once as per-point colours on the app's
  split points (what the app itself sends to OpenGL, minus everything else the app
  does) and once as per-cell RGB scalars on the shared vertices (the plain VTK /
  pyvista way: ``add_mesh(mesh, scalars="rgb", rgb=True)``). They separate the
  app's own overhead from the price of showing per-surface colours at all, which
  with llvmpipe is a per-vertex attribute fetch on every triangle corner.

* **effects** (``--effects``): the same orbit through SceneViews with each image effect
  of :mod:`citytwin.render.effects` alone (FXAA, SSAO, horizon sky), the viewer's
  defaults and all of them, alternating with the view without effects and with the raw
  VTK baseline in the same rounds; each is reported as ms per frame, CPU ms per frame
  and its frame time over the no-effect view's and over raw VTK's (medians of the
  per-round ratios). ``--shots DIR`` also writes one PNG per configuration of the iso view.
* **shadows** (``--shadows``): the same orbit with the sun's cast shadows off and on
  (:class:`~citytwin.render.effects.ShadowPasses`, a 2048² shadow map, drawn again only
  when the sun or the scene changed), and on with the sun moving every frame (``+sun``:
  the map drawn every frame, as when a day plays), with no effects and with the viewer's
  defaults, alternating with raw VTK in the same rounds; reported like the effects, plus
  on over off. Issue 10 asks for shadows on at most 2x the frame time of shadows off on
  llvmpipe.

Usage::

    python benchmarks/bench_render.py [FILES...] [--size 1280x800] [--frames 60] [--msaa 0] [--effects]
        [--shadows] [--shots DIR] [--json OUT]

Without files: the committed demo district and the Den Haag CityGML tile.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEFAULT_FILES = [REPO / "scenes" / "demo" / "demo_district.city.json", DATA / "citygml" / "denhaag" / "DenHaag_01.gml.gz"]

log = logging.getLogger("bench_render")


class _Baseline:
    """The same triangles as one plain vtkPolyData in a bare off-screen vtkRenderWindow."""

    def __init__(self, model: Any, lod: str, size: tuple[int, int], msaa: int, camera: Any,
                 colours: str = "none", visual: Any = None) -> None:
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (OpenGL factories)
        from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
        from vtkmodules.vtkCommonCore import vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow

        from citytwin.render.polydata import lod_triangle_mask

        t0 = time.perf_counter()
        tris = np.ascontiguousarray(model.triangles[lod_triangle_mask(model, lod)], dtype=np.int64).reshape(-1)
        pts = np.ascontiguousarray(model.vertices, dtype=np.float32).copy()
        if colours == "points":  # the app's split points and per-point colours
            pts = np.asarray(visual.polydata.points, dtype=np.float32).copy()
            tris = np.asarray(visual.polydata.GetPolys().GetConnectivityArray(), dtype=np.int64).copy()
        vp = vtkPoints()
        vp.SetData(numpy_to_vtk(pts, deep=True))
        ca = vtkCellArray()
        ca.SetData(numpy_to_vtkIdTypeArray(np.arange(0, len(tris) + 1, 3, dtype=np.int64), deep=True),
                   numpy_to_vtkIdTypeArray(tris, deep=True))
        pd = vtkPolyData()
        pd.SetPoints(vp)
        pd.SetPolys(ca)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(pd)
        if colours != "none":
            rgb = np.ascontiguousarray(visual._point_rgb if colours == "points" else visual.cell_rgb(), np.uint8)
            arr = numpy_to_vtk(rgb.copy(), deep=True)
            arr.SetName("rgb")
            (pd.GetPointData() if colours == "points" else pd.GetCellData()).AddArray(arr)
            if colours == "points":
                mapper.SetScalarModeToUsePointFieldData()
            else:
                mapper.SetScalarModeToUseCellFieldData()
            mapper.SetColorModeToDirectScalars()
            mapper.SelectColorArray("rgb")
            mapper.ScalarVisibilityOn()
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(0.85, 0.82, 0.78)
        self.ren = vtkRenderer()
        self.ren.AddActor(actor)
        self.win = vtkRenderWindow()
        self.win.SetOffScreenRendering(True)
        self.win.SetMultiSamples(msaa)
        self.win.SetSize(*size)
        self.win.AddRenderer(self.ren)
        cam = self.ren.GetActiveCamera()
        cam.SetPosition(camera.GetPosition())
        cam.SetFocalPoint(camera.GetFocalPoint())
        cam.SetViewUp(camera.GetViewUp())
        cam.SetViewAngle(camera.GetViewAngle())
        self.frame()
        self.first_frame_s = time.perf_counter() - t0

    def frame(self, degrees: float = 0.0) -> None:
        if degrees:
            self.ren.GetActiveCamera().Azimuth(degrees)
        self.ren.ResetCameraClippingRange()
        self.win.Render()
        self.win.WaitForCompletion()

    def close(self) -> None:
        self.win.Finalize()


def orbiter(view: Any) -> Any:
    """One orbit frame of a SceneView: turn by ``deg``, draw, wait for the GPU."""
    def frame(deg: float) -> None:
        view.orbit(deg)
        view.render()
        view.render_window.WaitForCompletion()
    return frame


def _orbit(frame: Any, frames: int) -> tuple[float, float]:
    """Frames per second (wall clock) and CPU milliseconds per frame (all threads of
    this process, llvmpipe's included: steadier than fps when others load the machine)."""
    t, c = time.perf_counter(), time.process_time()
    for _ in range(frames):
        frame(360.0 / frames)
    return frames / (time.perf_counter() - t), (time.process_time() - c) / frames * 1000.0


def _effect_configs() -> dict[str, Any]:
    from citytwin.render.effects import DEFAULT_EFFECTS, NO_EFFECTS, RenderEffects

    return {"none": NO_EFFECTS, "fxaa": NO_EFFECTS.with_(fxaa=True), "ssao": NO_EFFECTS.with_(ssao=True),
            "horizon": NO_EFFECTS.with_(horizon=True), "default": DEFAULT_EFFECTS,
            "all": RenderEffects(fxaa=True, ssao=True, horizon=True)}


def _shadow_configs() -> dict[str, Any]:
    from citytwin.render.effects import DEFAULT_EFFECTS, NO_EFFECTS

    return {"none": (NO_EFFECTS, False), "none+shadows": (NO_EFFECTS, True),
            "none+shadows+sun": (NO_EFFECTS, True, True),
            "default": (DEFAULT_EFFECTS, False), "default+shadows": (DEFAULT_EFFECTS, True),
            "default+shadows+sun": (DEFAULT_EFFECTS, True, True)}


def sun_orbiter(view: Any) -> Any:
    """An orbit frame with the sun moving too (0.25 degrees of azimuth a frame, as when a day is
    played): the shadow map is drawn again on every frame."""
    from citytwin.render.lighting import camera_direction

    state = {"az": 200.0}

    def frame(deg: float) -> None:
        state["az"] += 0.25
        view.set_sun(camera_direction(state["az"], 35.0))
        view.orbit(deg)
        view.render()
        view.render_window.WaitForCompletion()
    return frame


def bench_effects(model: Any, size: tuple[int, int], frames: int, msaa: int, rounds: int, lod: str,
                  base: Any, shots: Path | None, configs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Orbit frame cost of each effect configuration, alternating with raw VTK (see the module notes);
    ``configs``: name -> effects, or name -> (effects, shadows)."""
    from citytwin.render import SceneView

    views = {}
    moving = set()
    for name, cfg in (configs or _effect_configs()).items():
        eff, shadows, sun = (*cfg, False)[:3] if isinstance(cfg, tuple) else (cfg, False, False)
        if sun:
            moving.add(name)
        v = SceneView(size=size, multi_samples=msaa, effects=eff, shadows=shadows)
        v.add_model(model, lod=lod)
        v.set_view("iso")
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            v.screenshot(shots / f"{Path(str(model.source)).name.split('.')[0]}_{name}.png")
        v.render()  # shaders compiled before the clock starts
        views[name] = v

    ms: dict[str, list[float]] = {k: [] for k in [*views, "raw"]}
    cpu: dict[str, list[float]] = {k: [] for k in ms}
    for _ in range(rounds):
        for name in ms:
            frame = (base.frame if name == "raw" else sun_orbiter(views[name]) if name in moving
                     else orbiter(views[name]))
            f, c = _orbit(frame, frames)
            ms[name].append(1000.0 / f)
            cpu[name].append(c)
    for v in views.values():
        v.close()
    out = {}
    for name in views:
        out[name] = {
            "ms_per_frame": float(np.median(ms[name])), "cpu_ms_per_frame": float(np.median(cpu[name])),
            "vs_none": float(np.median([a / b for a, b in zip(ms[name], ms["none"])])),
            "vs_raw": float(np.median([a / b for a, b in zip(ms[name], ms["raw"])])),
            "cpu_vs_none": float(np.median([a / b for a, b in zip(cpu[name], cpu["none"])])),
        }
        if "+shadows" in name:  # over the same configuration without shadows
            off = name.split("+")[0]
            out[name]["vs_shadows_off"] = float(np.median([a / b for a, b in zip(ms[name], ms[off])]))
            out[name]["cpu_vs_shadows_off"] = float(np.median([a / b for a, b in zip(cpu[name], cpu[off])]))
    out["raw"] = {"ms_per_frame": float(np.median(ms["raw"])), "cpu_ms_per_frame": float(np.median(cpu["raw"]))}
    return out


def bench_file(path: Path, size: tuple[int, int], frames: int, msaa: int, rounds: int = 3,
               lod: str = "best", effects: bool = False, shots: Path | None = None,
               shadows: bool = False) -> dict[str, Any]:
    from citytwin.io import read
    from citytwin.render import SceneView

    t0 = time.perf_counter()
    model = read(path)
    t_read = time.perf_counter()
    sv = SceneView(size=size, multi_samples=msaa)
    t_window = time.perf_counter()
    vis = sv.add_model(model, lod=lod)
    t_visual = time.perf_counter()
    sv.set_view("iso")
    sv.render()
    sv.render_window.WaitForCompletion()
    t_first = time.perf_counter()
    ttff = {
        "read_s": t_read - t0,
        "window_s": t_window - t_read,
        "visual_s": t_visual - t_window,
        "frame_s": t_first - t_visual,
        "total_s": t_first - t0,
    }
    t2 = time.perf_counter()
    vis.build_locator()
    locator_s = time.perf_counter() - t2
    base = _Baseline(model, lod, size, msaa, sv.renderer.GetActiveCamera())
    cam = sv.renderer.GetActiveCamera()
    base_pts = _Baseline(model, lod, size, msaa, cam, colours="points", visual=vis)
    base_cells = _Baseline(model, lod, size, msaa, cam, colours="cells", visual=vis)
    # the same view without the sky gradient and the overlays: what the eye candy costs
    plain = SceneView(size=size, multi_samples=msaa, overlays=False, sky=False)
    plain.add_model(model, lod=lod)
    plain.set_view("iso")

    # alternate so that background load hits all alike; report the medians
    fps_ours, fps_plain, fps_base, fps_pts, fps_cells = [], [], [], [], []
    cpu_ours, cpu_plain, cpu_base, cpu_pts, cpu_cells = [], [], [], [], []
    for _ in range(rounds):
        for fps, cpu, frame in ((fps_ours, cpu_ours, orbiter(sv)), (fps_plain, cpu_plain, orbiter(plain)),
                                (fps_base, cpu_base, base.frame), (fps_pts, cpu_pts, base_pts.frame),
                                (fps_cells, cpu_cells, base_cells.frame)):
            f, c = _orbit(frame, frames)
            fps.append(f)
            cpu.append(c)
    fx = bench_effects(model, size, frames, msaa, rounds, lod, base, shots) if effects else None
    sh = bench_effects(model, size, frames, msaa, rounds, lod, base, shots, _shadow_configs()) if shadows else None
    base.close()
    base_pts.close()
    base_cells.close()
    plain.close()
    out = {
        "file": str(path.relative_to(REPO.parent) if path.is_relative_to(REPO.parent) else path),
        "triangles_drawn": vis.n_cells,
        "objects": model.n_objects,
        "time_to_first_frame": ttff,
        "orbit_fps": float(np.median(fps_ours)),
        "orbit_fps_rounds": fps_ours,
        "orbit_fps_plain": float(np.median(fps_plain)),
        "orbit_fps_plain_rounds": fps_plain,
        "orbit_cpu_ms_per_frame": float(np.median(cpu_ours)),
        "orbit_cpu_ms_per_frame_plain": float(np.median(cpu_plain)),
        # per round: our frame time over the baseline's (same round, so the same load)
        "orbit_frame_time_ratio": float(np.median([b / o for o, b in zip(fps_ours, fps_base)])),
        "orbit_cpu_ratio": float(np.median([o / b for o, b in zip(cpu_ours, cpu_base)])),
        "locator_build_s": locator_s,
        "baseline_raw_vtk": {"first_frame_s": base.first_frame_s, "orbit_fps": float(np.median(fps_base)),
                             "orbit_fps_rounds": fps_base, "orbit_cpu_ms_per_frame": float(np.median(cpu_base))},
        "baseline_raw_vtk_point_colours": {
            "orbit_fps": float(np.median(fps_pts)), "orbit_cpu_ms_per_frame": float(np.median(cpu_pts)),
            "frame_time_ratio": float(np.median([b / o for o, b in zip(fps_ours, fps_pts)])),
            "cpu_ratio": float(np.median([o / b for o, b in zip(cpu_ours, cpu_pts)]))},
        "baseline_raw_vtk_cell_colours": {
            "orbit_fps": float(np.median(fps_cells)), "orbit_cpu_ms_per_frame": float(np.median(cpu_cells)),
            "frame_time_ratio": float(np.median([b / o for o, b in zip(fps_ours, fps_cells)])),
            "cpu_ratio": float(np.median([o / b for o, b in zip(cpu_ours, cpu_cells)]))},
    }
    if fx is not None:
        out["effects"] = fx
    if sh is not None:
        out["shadows"] = sh
    caps = str(sv.render_window.ReportCapabilities() or "")
    out["gl_renderer"] = next((ln.split(":", 1)[1].strip() for ln in caps.splitlines()
                               if "renderer string" in ln.lower()), "unknown")
    sv.close()
    return out


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--msaa", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3, help="orbit rounds per method, alternating (median)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--effects", action="store_true", help="also time FXAA, SSAO and the horizon sky")
    ap.add_argument("--shadows", action="store_true", help="also time cast shadows on and off")
    ap.add_argument("--shots", type=Path, help="with --effects/--shadows: write the iso view of each configuration here")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child mode: one file, JSON out
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    w, h = (int(v) for v in args.size.lower().split("x"))
    import vtk

    if args.one:
        print(json.dumps(bench_file(args.files[0], (w, h), args.frames, args.msaa, args.rounds,
                                    effects=args.effects, shots=args.shots, shadows=args.shadows)))
        return 0
    log.info("command: %s", " ".join([Path(sys.executable).name, *sys.argv]))
    log.info("machine: %s, %s CPUs, %s, Python %s, VTK %s, load average %s", _cpu_name(), os.cpu_count(),
             platform.platform(), platform.python_version(), vtk.vtkVersion.GetVTKVersion(),
             " ".join(f"{v:.2f}" for v in os.getloadavg()))
    results = []
    for f in args.files or DEFAULT_FILES:
        if not f.exists():
            log.warning("skipped (missing): %s", f)
            continue
        # a fresh process per file: the first frame includes creating the GL context
        cmd = [sys.executable, __file__, str(f), "--one", "--size", args.size, "--frames", str(args.frames),
               "--msaa", str(args.msaa), "--rounds", str(args.rounds)]
        if args.effects:
            cmd.append("--effects")
        if args.shadows:
            cmd.append("--shadows")
        if args.shots is not None:
            cmd += ["--shots", str(args.shots)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        if len(results) == 1:
            log.info("OpenGL: %s, %dx%d, MSAA %d", r.get("gl_renderer"), w, h, args.msaa)
        t = r["time_to_first_frame"]
        b = r["baseline_raw_vtk"]
        log.info(
            "%s: %d triangles | first frame %.2f s (read %.2f, GL window %.2f, visual %.3f, frame %.2f) | "
            "orbit %.1f fps, %.1f CPU ms/frame (no sky/overlays %.1f fps) | raw VTK: first frame %.2f s "
            "(after read), orbit %.1f fps, %.1f CPU ms/frame | frame time vs raw %+.0f %% (CPU %+.0f %%) | "
            "locator %.3f s | raw VTK with the app's colours: per point %.1f fps (ours %+.0f %%, CPU %+.0f %%), "
            "per cell %.1f fps (ours %+.0f %%, CPU %+.0f %%)",
            r["file"], r["triangles_drawn"], t["total_s"], t["read_s"], t["window_s"], t["visual_s"], t["frame_s"],
            r["orbit_fps"], r["orbit_cpu_ms_per_frame"], r["orbit_fps_plain"], b["first_frame_s"], b["orbit_fps"],
            b["orbit_cpu_ms_per_frame"], (r["orbit_frame_time_ratio"] - 1) * 100, (r["orbit_cpu_ratio"] - 1) * 100,
            r["locator_build_s"],
            r["baseline_raw_vtk_point_colours"]["orbit_fps"],
            (r["baseline_raw_vtk_point_colours"]["frame_time_ratio"] - 1) * 100,
            (r["baseline_raw_vtk_point_colours"]["cpu_ratio"] - 1) * 100,
            r["baseline_raw_vtk_cell_colours"]["orbit_fps"],
            (r["baseline_raw_vtk_cell_colours"]["frame_time_ratio"] - 1) * 100,
            (r["baseline_raw_vtk_cell_colours"]["cpu_ratio"] - 1) * 100,
        )
        for name, e in (r.get("effects") or {}).items():
            if name == "raw":
                log.info("    raw VTK (same rounds): %.1f ms/frame, %.1f CPU ms/frame", e["ms_per_frame"],
                         e["cpu_ms_per_frame"])
                continue
            log.info("    effects %-8s %6.1f ms/frame %+5.0f %% vs no effects (CPU %+5.0f %%), %5.2fx raw VTK",
                     name, e["ms_per_frame"], (e["vs_none"] - 1) * 100, (e["cpu_vs_none"] - 1) * 100, e["vs_raw"])
        for name, e in (r.get("shadows") or {}).items():
            if name == "raw":
                log.info("    raw VTK (same rounds): %.1f ms/frame, %.1f CPU ms/frame", e["ms_per_frame"],
                         e["cpu_ms_per_frame"])
                continue
            extra = (f" | shadows on / off: {e['vs_shadows_off']:.2f}x frame time, "
                     f"{e['cpu_vs_shadows_off']:.2f}x CPU" if "vs_shadows_off" in e else "")
            log.info("    %-16s %6.1f ms/frame, %6.1f CPU ms/frame, %5.2fx raw VTK%s", name, e["ms_per_frame"],
                     e["cpu_ms_per_frame"], e["vs_raw"], extra)
    log.info("load average %s on %s CPUs (other processes share them: compare the two columns, not runs)",
             " ".join(f"{v:.1f}" for v in os.getloadavg()), os.cpu_count())
    report = {
        "load_average_1_5_15": list(os.getloadavg()), "cpus": os.cpu_count(),
        "size": [w, h], "frames": args.frames, "msaa": args.msaa, "vtk": vtk.vtkVersion.GetVTKVersion(),
        "python": platform.python_version(), "machine": platform.machine(), "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
