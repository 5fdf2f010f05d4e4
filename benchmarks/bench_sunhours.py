"""Sun-hours benchmark: the whole analysis against the ray engine's raw rate on the same rays.

For each input, ``citytwin.sim.sunhours.analyse`` runs over one day (``--date``, local) at
``--step`` minutes; then the very same rays (the sun rays of every step and the sky-patch
rays) are traced by embreex directly - float32 arrays, one ``run(..., "OCCLUDED")`` per
equal span, 2 threads, rays in the analysis's Z order - which is the raw baseline. The
ratio (whole analysis rays/s over raw rays/s) is what the analysis adds around the engine.
With more rays than ``--max-raw-rays`` the raw rate is measured on every k-th batch.

Usage::

    python benchmarks/bench_sunhours.py FILE... [--date 2026-06-21] [--step 10] [--spacing 2]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import machine_info, print_header  # noqa: E402


def raw_trace(tri: np.ndarray, origins: np.ndarray, dirs: np.ndarray, threads: int) -> float:
    """Seconds for embreex alone to trace the rays (scene built beforehand, not timed)."""
    from embreex import rtcore_scene
    from embreex.mesh_construction import TriangleMesh

    scene = rtcore_scene.EmbreeScene()
    TriangleMesh(scene, np.ascontiguousarray(tri, dtype=np.float32))
    parts = threads * max(1, -(-len(origins) // (threads * (1 << 17))))
    b = np.linspace(0, len(origins), parts + 1).astype(np.int64)
    spans = list(zip(b[:-1], b[1:], strict=True))
    with ThreadPoolExecutor(threads) as pool:
        t = time.perf_counter()
        list(pool.map(lambda ab: scene.run(origins[ab[0]:ab[1]], dirs[ab[0]:ab[1]], query="OCCLUDED"), spans))
        return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--date", default="2026-06-21")
    ap.add_argument("--step", type=float, default=10.0)
    ap.add_argument("--spacing", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-raw-rays", type=int, default=40_000_000,
                    help="rays held at once for the raw baseline (a sample of the batches beyond)")
    a = ap.parse_args(argv)

    from citytwin.io.registry import read
    from citytwin.sim.place import Place, enu_to_grid
    from citytwin.sim.samples import surface_samples
    from citytwin.sim.sunhours import SKY_SPACING_FACTOR, SKY_STRATA, Period, _sky_strata, analyse, sun_steps
    from citytwin.sim.sunrays import sky_ray_sets, sun_ray_batches

    info = machine_info(["benchmarks/bench_sunhours.py", *argv])
    w = sys.stdout.write
    print_header(info, f"one day ({a.date}) at {a.step:g}-minute steps, sample spacing {a.spacing:g} m, "
                 f"{a.threads} threads; baseline: embreex run(OCCLUDED) on the same rays, same threads, same order")
    w(f"{'file':<28} {'triangles':>9} {'points':>8} {'steps':>5} {'rays':>11} {'total s':>8} {'raw s':>7} "
      f"{'ours Mr/s':>9} {'raw Mr/s':>9} {'ratio':>6}\n")
    day = date.fromisoformat(a.date)
    for f in a.files:
        t = time.perf_counter()
        model = read(f)
        load_s = time.perf_counter() - t
        place = Place.of_bbox(model.bbox(), model.crs)
        period = Period(day, day, a.step, place.timezone)
        res = analyse(model, period, place, spacing=a.spacing, threads=a.threads)
        st = res.stats
        # the same rays again, for the raw engine (every k-th batch when there are too many
        # to hold at once: the raw rate is then measured on that sample)
        mask = model.lod_triangle_mask("best")
        s = surface_samples(model, mask, a.spacing)
        _, _, sun, _ = sun_steps(period, place, enu_to_grid(place.lon, place.lat, model.crs))
        total_rays = st["sun_rays"] + st["sky_rays"]
        every = max(1, -(-total_rays // a.max_raw_rays))
        o_parts, d_parts = [], []
        coarse = surface_samples(model, mask, a.spacing * SKY_SPACING_FACTOR)
        batches = (b for _, b in sun_ray_batches(s.points, s.normal, sun))
        phase, stride, _ = _sky_strata(coarse, SKY_STRATA)
        sky = ((None, o, d) for _, _, o, d in sky_ray_sets(coarse.points, coarse.normal, phase, stride))
        for i, (_, o, d) in enumerate(itertools.chain(batches, sky)):
            if i % every == 0:
                o_parts.append(o)
                d_parts.append(np.ascontiguousarray(d))
        origins, dirs = np.concatenate(o_parts), np.concatenate(d_parts)
        del o_parts, d_parts
        rays = total_rays
        if every == 1:
            assert len(origins) == rays
        raw_s = raw_trace(model.vertices[model.triangles[mask]], origins, dirs, a.threads) * rays / len(origins)
        ours = rays / st["seconds_total"]
        raw = rays / raw_s
        sampled = f", raw rate on 1 in {every} batches" if every > 1 else ""
        w(f"{Path(f).name[:28]:<28} {st['triangles']:>9} {st['samples']:>8} {st['steps_with_sun']:>5} {rays:>11} "
          f"{st['seconds_total']:>8.2f} {raw_s:>7.2f} {ours / 1e6:>9.2f} {raw / 1e6:>9.2f} {ours / raw:>5.0%}\n")
        w(f"{'':<28} (load {load_s:.2f} s; analysis: set-up {st['seconds_setup']:.2f} s, sun rays "
          f"{st['seconds_sun_rays']:.2f} s, sky rays {st['seconds_sky_rays']:.2f} s, thread-seconds tracing; "
          f"{st['chunks']} chunks{sampled})\n")
    w(f"# load average at end: {[round(x, 2) for x in os.getloadavg()]}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
