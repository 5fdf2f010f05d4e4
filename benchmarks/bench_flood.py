"""Flood benchmark: terrain grids and the per-level update a level slider needs.

1. Grid build at ``--resolution`` (1 m): the Den Haag TIN (``sim.terrain.grid_from_model``)
   against matplotlib's ``LinearTriInterpolator`` on the same triangles at the same cell centres
   (the raw baseline, also a cross-check: the largest height difference is printed), and the
   AHN3 LAZ tile (``grid_from_points``: ground class, mean per cell, small gaps filled) against
   ``scipy.stats.binned_statistic_2d`` (mean) on the same ground points; the LAZ read itself
   (laspy + lazrs) is timed apart.
2. Per-level update on a 1 km² grid at 1 m (1,000 x 1,000 cells), as a slider sweeps 20
   levels: ``Flood.at`` in ``bathtub`` and ``connected`` mode (wet cells, depth grid, flooded
   objects and their footprint shares), against the bare operations on the same grid: numpy
   ``z < level`` (bathtub) and ``z < level`` + ``scipy.ndimage.label`` (8-connectivity).
   Two grids: a smooth synthetic terrain (20 m of relief, no objects) and the demo district's
   TIN in a 1 km² box around it with its 362 buildings.

Usage::

    python benchmarks/bench_flood.py [--repeat K] [--resolution M] [--data PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import machine_info, print_header  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out, res = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        out.append(time.perf_counter() - t)
    return min(out), res


def sweep(fn: Callable[[float], Any], levels: np.ndarray) -> np.ndarray:
    """Seconds per level, for every level of the sweep (after one warm-up call)."""
    fn(float(levels[0]))
    out = []
    for lv in levels:
        t = time.perf_counter()
        fn(float(lv))
        out.append(time.perf_counter() - t)
    return np.array(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--resolution", type=float, default=1.0)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    a = ap.parse_args(argv)

    import scipy
    from matplotlib import __version__ as mpl_version
    from matplotlib.tri import LinearTriInterpolator, Triangulation
    from scipy import ndimage
    from scipy.stats import binned_statistic_2d

    from citytwin.io.lidar import read_lidar
    from citytwin.io.registry import read
    from citytwin.sim.flood import Flood
    from citytwin.sim.terrain import HeightGrid, grid_from_model, grid_from_points, terrain_triangles

    data = Path(a.data)
    res = a.resolution
    info = machine_info(["benchmarks/bench_flood.py", *argv])
    w = sys.stdout.write
    print_header(info, f"versions: numpy {np.__version__}, scipy {scipy.__version__}, matplotlib {mpl_version}",
                 f"best of {a.repeat}; resolution {res:g} m")

    # ---------------------------------------------------------------- grid build
    w("## grid build\n")
    w(f"{'input':<28} {'cells':>9} {'data %':>7} {'ours ms':>9} {'baseline ms':>12} {'ratio':>6}  baseline\n")
    dh = read(data / "citygml/denhaag/DenHaag_01.gml.gz")
    t_ours, g = best(lambda: grid_from_model(dh, res), a.repeat)
    # matplotlib wants each corner once: the TIN's triangles repeat their shared corners
    v = dh.vertices.astype(np.float64)
    corners = dh.triangles[terrain_triangles(dh)]
    uniq, first, inv = np.unique(np.round(v[:, :2], 4), axis=0, return_index=True, return_inverse=True)
    vz = v[first, 2] + dh.origin[2]
    tri = Triangulation(uniq[:, 0] + dh.origin[0], uniq[:, 1] + dh.origin[1], inv.ravel()[corners])
    xs, ys = g.centres()
    X, Y = np.meshgrid(xs, ys)

    def mpl() -> Any:
        return LinearTriInterpolator(tri, vz)(X, Y)

    t_base, ref = best(mpl, a.repeat)
    ref = np.ma.filled(ref, np.nan)
    both = ~np.isnan(ref) & ~g.nodata
    diff = float(np.abs(g.z[both] - ref[both]).max())
    w(f"{'Den Haag TIN (5,595 tri)':<28} {g.nx * g.ny:>9} {100 * (~g.nodata).mean():>6.1f}% {t_ours * 1e3:>9.1f} "
      f"{t_base * 1e3:>12.1f} {t_ours / t_base:>5.2f}x  matplotlib LinearTriInterpolator "
      f"(max |dz| {diff:.1e} m, coverage differs in {int(((~np.isnan(ref)) != ~g.nodata).sum())} cells)\n")

    t_read, cloud = best(lambda: read_lidar(data / "terrain/delft-ahn3/ahn3_cropped_1.laz"), a.repeat)
    t_ours, g = best(lambda: grid_from_points(cloud.xyz, res, cloud.classification), a.repeat)
    ground = cloud.xyz[cloud.classification == 2]
    x0, y0, x1, y1 = g.extent

    def binned() -> Any:
        return binned_statistic_2d(ground[:, 1], ground[:, 0], ground[:, 2], "mean",
                                   bins=[g.ny, g.nx], range=[[y0, y1], [x0, x1]]).statistic

    t_base, ref = best(binned, a.repeat)
    raw = ~np.isnan(ref)
    diff = float(np.abs(g.z[raw] - ref[raw]).max())
    w(f"{'AHN3 LAZ (640,510 pts)':<28} {g.nx * g.ny:>9} {100 * (~g.nodata).mean():>6.1f}% {t_ours * 1e3:>9.1f} "
      f"{t_base * 1e3:>12.1f} {t_ours / t_base:>5.2f}x  scipy binned_statistic_2d mean of the ground points "
      f"(max |dz| {diff:.1e} m; ours also fills {g.info['filled_cells']} gap cells)\n")
    w(f"{'  LAZ read (laspy+lazrs)':<28} {'':>9} {'':>7} {t_read * 1e3:>9.1f}\n\n")

    # ---------------------------------------------------------------- per level
    w("## per-level update, 1 km² at 1 m (20 levels swept; median / max ms)\n")
    rng = np.random.default_rng(1)
    z = ndimage.gaussian_filter(rng.normal(size=(1000, 1000)), 25)
    z = ((z - z.min()) / (z.max() - z.min()) * 20).astype(np.float32)
    synth = HeightGrid(z, 0.0, 0.0, 1.0)
    demo = read(REPO / "scenes/demo/demo_district.city.json")
    lo, hi = demo.bbox()
    cx, cy = (lo[:2] + hi[:2]) / 2
    demo_grid = grid_from_model(demo, 1.0, bbox=(cx - 500, cy - 500, cx + 500, cy + 500))
    w(f"{'grid':<34} {'prep ms':>8} {'mode':<10} {'ours':>15} {'raw':>15} {'ratio':>6}  raw baseline\n")
    for name, grid, model in (("synthetic 1000x1000, no objects", synth, None),
                              (f"demo TIN {demo_grid.nx}x{demo_grid.ny}, 362 bldgs", demo_grid, demo)):
        t0 = time.perf_counter()
        fl = Flood(grid, model)
        prep = time.perf_counter() - t0
        zc = fl.zc
        lowest = np.unravel_index(int(np.argmin(zc)), zc.shape)
        xs, ys = grid.centres()
        fl.set_source(float(xs[lowest[1]]), float(ys[lowest[0]]))
        zmin, zmax = grid.zmin(), grid.zmax()
        levels = np.linspace(zmin + 0.05 * (zmax - zmin), zmin + 0.8 * (zmax - zmin), 20)
        struct = np.ones((3, 3), bool)
        for mode in ("bathtub", "connected"):
            ours = sweep(lambda lv, fl=fl, mode=mode: fl.at(lv, mode), levels)
            if mode == "bathtub":
                raw = sweep(lambda lv, zc=zc: zc < lv, levels)
                what = "numpy z < level"
            else:
                raw = sweep(lambda lv, zc=zc, s=struct: ndimage.label(zc < lv, structure=s), levels)
                what = "z < level + ndimage.label (8-conn)"
            w(f"{name:<34} {prep * 1e3:>8.1f} {mode:<10} {np.median(ours) * 1e3:>7.2f} /{ours.max() * 1e3:>6.2f} "
              f"{np.median(raw) * 1e3:>7.2f} /{raw.max() * 1e3:>6.2f} {np.median(ours) / np.median(raw):>5.1f}x  {what}\n")
            name = ""
        r = fl.at(float(levels[10]), "bathtub")
        w(f"{'':<34} (mid level {levels[10]:.2f} m: {r.cells:,} wet cells, {len(r.objects)} flooded objects)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
