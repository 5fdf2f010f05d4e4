"""Texture benchmark: set-up time and orbit frame rate with textures on and off.

For every input file, in this process:

* **set-up**: read the file, then build the visual twice: with its textures (images
  read, packed into atlas pages, textured PolyData) and from the same model with its
  textures removed (what an untextured file costs); the texture part alone
  (``TextureSet.seconds``: image reading and packing) is reported too. The first
  frame of each is timed separately (texture upload and mipmaps happen there).
* **orbit**: ``--frames`` renders through :class:`citytwin.render.SceneView`, the
  camera rotated 360/frames degrees about the vertical axis between them, with the
  layer's textures on, then off (:meth:`VtkCityVisual.set_textures`), alternating for
  ``--rounds`` rounds; medians reported, with the CPU time per frame of this process
  (llvmpipe's threads included).

With ``--replicate N`` every file is also measured as N copies of itself side by side
(10 per row; the copies share the images and the object table): a textured scene of
N times the triangles, to see how set-up and frame time scale.

Usage::

    python benchmarks/bench_textures.py [FILES...] [--size 1280x800] [--frames 60] [--rounds 3]
                                        [--replicate N] [--json OUT]

Without files: PLATEAU 53394517 (CityGML 2) and PLATEAU Yokosuka from ``../shared/data``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEFAULT_FILES = [
    DATA / "citygml3" / "plateau-53394517" / "53394517_bldg_6697_2_op_CityGML2.gml",
    DATA / "citygml" / "plateau-yokosuka" / "52397519_bldg_6697_op.gml",
]

log = logging.getLogger("bench_textures")


def _first_frame(model: Any, size: tuple[int, int], msaa: int, textures: bool) -> tuple[Any, Any, float, float]:
    from citytwin.render import SceneView

    sv = SceneView(size=size, multi_samples=msaa)
    t0 = time.perf_counter()
    vis = sv.add_model(model, textures=textures)
    t1 = time.perf_counter()
    sv.set_view("iso")
    sv.render()
    sv.render_window.WaitForCompletion()
    return sv, vis, t1 - t0, time.perf_counter() - t1


def _orbit(sv: Any, frames: int) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    for _ in range(frames):
        sv.orbit(360.0 / frames)
        sv.render()
        sv.render_window.WaitForCompletion()
    return frames / (time.perf_counter() - t), (time.process_time() - c) / frames * 1000.0


def replicate(model: Any, n: int) -> Any:
    """``n`` copies of ``model`` side by side in one model (same objects, same images)."""
    from citytwin.model.city import Polygons

    p = model.polygons
    nv, nc, nr, npoly = len(model.vertices), len(p.ring_idx), len(p.ring_offsets) - 1, len(p.object)
    k = np.arange(n)
    ext = model.vertices.max(axis=0) - model.vertices.min(axis=0)
    shift = np.stack([(k % 10) * ext[0] * 1.2, (k // 10) * ext[1] * 1.2, np.zeros(n)], 1).astype(np.float32)

    def offsets(a: Any, step: int) -> Any:
        return np.concatenate([[0], (a[1:][None] + (k * step)[:, None]).reshape(-1)]).astype(np.int64)

    poly = Polygons(
        ring_idx=(p.ring_idx[None] + (k * nv)[:, None]).reshape(-1).astype(np.int32),
        ring_offsets=offsets(p.ring_offsets, nc), poly_ring_offsets=offsets(p.poly_ring_offsets, nr),
        object=np.tile(p.object, n), semantic=np.tile(p.semantic, n), lod=np.tile(p.lod, n),
        material=np.tile(p.material, n), texture=np.tile(p.texture, n),
        uv=None if p.uv is None else np.tile(p.uv, (n, 1)))
    return replace(model, vertices=(model.vertices[None] + shift[:, None]).reshape(-1, 3), polygons=poly,
                   corners=(model.corners[None] + (k * nc)[:, None, None]).reshape(-1, 3).astype(np.int32),
                   tri_poly=(model.tri_poly[None] + (k * npoly)[:, None]).reshape(-1).astype(np.int32), _cache={})


def bench_file(path: Path, size: tuple[int, int], frames: int, msaa: int, rounds: int,
               copies: int = 1) -> dict[str, Any]:
    from citytwin.io import read

    t0 = time.perf_counter()
    model = read(path)
    read_s = time.perf_counter() - t0
    if copies > 1:
        model = replicate(model, copies)
    bare = replace(model, textures=[], _cache={})  # the same geometry without textures
    sv_bare, vis_bare, bare_visual_s, bare_frame_s = _first_frame(bare, size, msaa, True)
    assert not vis_bare.has_textures and len(vis_bare.actors()) == 1
    sv_bare.close()
    sv, vis, visual_s, frame_s = _first_frame(model, size, msaa, True)
    ts = vis.texture_set
    fps_on, fps_off, cpu_on, cpu_off = [], [], [], []
    for _ in range(rounds):
        for on, fps, cpu in ((True, fps_on, cpu_on), (False, fps_off, cpu_off)):
            vis.set_textures(on)
            sv.render()
            f, c = _orbit(sv, frames)
            fps.append(f)
            cpu.append(c)
    out = {
        "file": str(path.relative_to(REPO.parent) if path.is_relative_to(REPO.parent) else path),
        "copies": copies,
        "read_s": read_s,
        "triangles_drawn": vis.n_cells,
        "textured_triangles": vis.n_textured_cells,
        "images": int((ts.group_of >= 0).sum()) if ts else 0,
        "atlas_pages": ts.n_pages if ts else 0,
        "repeat_images": (len(ts.groups) - ts.n_pages) if ts else 0,
        "atlas_texels": ts.texels() if ts else 0,
        "atlas_scale": ts.scale if ts else 1.0,
        "actors": len(vis.actors()),
        "setup": {
            "texture_images_s": ts.seconds if ts else 0.0,
            "visual_with_textures_s": visual_s,
            "visual_without_textures_s": bare_visual_s,
            "first_frame_with_textures_s": frame_s,
            "first_frame_without_textures_s": bare_frame_s,
        },
        "orbit_fps_textures_on": float(np.median(fps_on)),
        "orbit_fps_textures_off": float(np.median(fps_off)),
        "orbit_fps_on_rounds": fps_on,
        "orbit_fps_off_rounds": fps_off,
        "orbit_cpu_ms_per_frame_on": float(np.median(cpu_on)),
        "orbit_cpu_ms_per_frame_off": float(np.median(cpu_off)),
    }
    sv.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--msaa", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replicate", type=int, default=0, help="also measure N copies of every file side by side")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    w, h = (int(v) for v in args.size.lower().split("x"))
    import vtk

    from citytwin.render import SceneView

    probe = SceneView(size=(64, 48), overlays=False)
    probe.render()
    gl = probe.render_window.ReportCapabilities()
    probe.close()
    renderer = next((ln.split(":", 1)[1].strip() for ln in gl.splitlines() if "OpenGL renderer" in ln), "?")
    results = {
        "machine": {"python": sys.version.split()[0], "vtk": vtk.vtkVersion.GetVTKVersion(),
                    "platform": platform.platform(), "gl_renderer": renderer},
        "size": [w, h], "frames": args.frames, "msaa": args.msaa, "rounds": args.rounds,
        "files": [],
    }
    runs = [(Path(f), 1) for f in args.files or DEFAULT_FILES]
    if args.replicate > 1:
        runs += [(f, args.replicate) for f, _ in runs]
    for f, copies in runs:
        r = bench_file(f, (w, h), args.frames, args.msaa, args.rounds, copies)
        s = r["setup"]
        log.info("%s x%d: %d/%d textured triangles, %d image(s) -> %d page(s) + %d repeat, %d actors; "
                 "images %.3f s, visual %.3f s (untextured %.3f s), first frame %.3f s (untextured %.3f s); "
                 "orbit %.1f fps on / %.1f fps off (%.1f / %.1f ms CPU per frame)",
                 r["file"], copies, r["textured_triangles"], r["triangles_drawn"], r["images"], r["atlas_pages"],
                 r["repeat_images"], r["actors"], s["texture_images_s"], s["visual_with_textures_s"],
                 s["visual_without_textures_s"], s["first_frame_with_textures_s"],
                 s["first_frame_without_textures_s"], r["orbit_fps_textures_on"], r["orbit_fps_textures_off"],
                 r["orbit_cpu_ms_per_frame_on"], r["orbit_cpu_ms_per_frame_off"])
        results["files"].append(r)
    text = json.dumps(results, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
