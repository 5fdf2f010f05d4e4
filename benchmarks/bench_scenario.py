"""What-if figures: indicators for 10k buildings, an edit on the 100k scale-up (model side),
and a two-scenario report of the demo.

* indicators: ``building_table`` + ``indicators`` on the 10k Den Haag scale-up (CityJSON,
  buildings made of parts) against two raw baselines in the same run: one ``np.bincount`` of
  every polygon's plan area per building (the least a vectorised pass does) and the per-building
  shapely footprint union (``CityModel.footprint``; timed on a sample, scaled to all);
* an edit on the 100k scale-up (CityJSONSeq): each op applied to the loaded model
  (``apply_edits``: a new model, the base untouched) against the raw cost of copying the
  model's vertex and corner arrays once (what any copy-on-write edit pays at least);
* the report: ``citytwin report`` of the demo with two scenarios (a subprocess, as users run it),
  against one ``citytwin render`` of the demo (the same picture size).

Scale-ups are made with benchmarks/scaleup.py into .cache/scaleup/ (reused when present).
Run under Xvfb for the report part: ``xvfb-run -a .venv/bin/python benchmarks/bench_scenario.py``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import machine_info, print_header  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenes" / "demo" / "demo_district.city.json"
TOWER = """version = 1
name = "Tower on the corner"
[[edits]]
op = "remove"
ids = ["BLD_0002"]
[[edits]]
op = "add"
id = "new-1"
footprint = [[476742.0, 5428392.0], [476768.0, 5428397.0], [476763.0, 5428421.0], [476737.0, 5428416.0]]
height = 40.0
storeys = 12
roof = "hip"
"""
STOREYS = """version = 1
name = "Two storeys more"
[[edits]]
op = "set-height"
ids = ["BLD_0010", "BLD_0011", "BLD_0012"]
storeys = 6
"""


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out, res = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        out.append(time.perf_counter() - t)
    return min(out), res


def bench_indicators(a: argparse.Namespace, w: Callable[[str], Any]) -> None:
    import scaleup
    from citytwin.io import read
    from citytwin.scenario.indicators import building_table, indicators
    from citytwin.sim.flood import object_roots

    f = scaleup.generate("json", a.buildings, scaleup.DEFAULT_OUT)["path"]
    m = read(f)
    t_ours, t = best(lambda: indicators(m, table=building_table(m)), a.repeat)
    roots = object_roots(m)

    def raw() -> Any:  # the plan area of every polygon, summed per building
        m._cache.pop("poly_plan_area", None)
        return np.bincount(roots[m.polygons.object], m.polygon_plan_areas(), m.n_objects)

    t_raw, _ = best(raw, a.repeat)
    table = t.table
    sample = table.index[:: max(1, len(table.index) // 300)]

    def shp() -> Any:
        m._cache.pop("footprints", None)
        return [m.footprint(int(i)).area for i in sample]

    t_shp, areas = best(shp, 1)
    t_shp_all = t_shp * len(table.index) / len(sample)
    k = np.searchsorted(table.index, sample)
    err = float(np.max(np.abs(np.asarray(areas) - table.footprint_m2[k]) / np.maximum(areas, 1e-9)))
    w("## indicators (building_table + indicators, whole scene)\n")
    w(f"{'input':<34} {'buildings':>9} {'polygons':>9} {'ours ms':>8} {'raw ms':>8} {'shapely s':>10}\n")
    w(f"{Path(f).name:<34} {len(table):>9} {len(m.polygons):>9} {t_ours * 1e3:>8.1f} {t_raw * 1e3:>8.1f} "
      f"{t_shp_all:>10.1f}\n")
    w(f"# raw: every polygon's plan area (CityModel.polygon_plan_areas) and one bincount per building; shapely: "
      f"CityModel.footprint union per building, {len(sample)} timed and scaled; footprints agree within "
      f"{err * 100:.3f} %\n\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--buildings", type=int, default=10_000, help="scale-up for the indicators")
    ap.add_argument("--big", type=int, default=100_000, help="scale-up for the edits (0: skip)")
    ap.add_argument("--no-report", action="store_true")
    a = ap.parse_args(argv)

    import scaleup
    from citytwin.io import read
    from citytwin.scenario import apply_edits, parse_edit
    from citytwin.scenario.indicators import building_table

    info = machine_info(["benchmarks/bench_scenario.py", *argv])
    print_header(info, f"numpy {np.__version__}; best of {a.repeat}; the machine is shared (loaded): "
                       "compare the ratios more than the absolute times")
    w = sys.stdout.write

    bench_indicators(a, w)

    # ------------------------------------------------------------------ edits on the big one
    if a.big:
        g = scaleup.generate("jsonl", a.big, scaleup.DEFAULT_OUT)["path"]
        t0 = time.perf_counter()
        big = read(g)
        t_read = time.perf_counter() - t0
        tb = building_table(big)
        i0 = int(tb.index[len(tb.index) // 2])
        bid = big.objects.ids[i0]
        c = tb.centroid[len(tb.index) // 2]
        spot = [[c[0] + 200, c[1]], [c[0] + 230, c[1]], [c[0] + 230, c[1] + 20], [c[0] + 200, c[1] + 20]]
        edits = {
            "set-height": {"op": "set-height", "ids": [bid], "height": 30.0},
            "move": {"op": "move", "ids": [bid], "offset": [3.0, 0.0]},
            "set-attributes": {"op": "set-attributes", "ids": [bid], "attributes": {"function": "office"}},
            "add (hip roof)": {"op": "add", "id": "new-1", "footprint": spot, "height": 30.0, "roof": "hip",
                               "ground": 0.0},
            "remove": {"op": "remove", "ids": [bid]},
        }

        def copy_raw() -> Any:
            return (np.concatenate([big.vertices, big.vertices[:1]]), np.concatenate([big.polygons.ring_idx, [0]]))

        t_copy, _ = best(copy_raw, a.repeat)
        w(f"## one edit on {Path(g).name} ({len(tb)} buildings, {len(big.polygons):,} polygons, "
          f"{len(big.polygons.ring_idx):,} corners; read in {t_read:.1f} s)\n")
        w(f"{'edit':<18} {'ours ms':>8} {'raw copy ms':>12}\n")
        for name, table in edits.items():
            e = parse_edit(table, 1)
            t_e, out = best(lambda e=e: apply_edits(big, [e]), a.repeat)
            w(f"{name:<18} {t_e * 1e3:>8.1f} {t_copy * 1e3:>12.1f}\n")
        w("# raw copy: np.concatenate of the vertex array and of the corner array (one element more)\n\n")
        del big

    # ------------------------------------------------------------------ report
    if not a.no_report:
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            (d / "a.scenario.toml").write_text(TOWER)
            (d / "b.scenario.toml").write_text(STOREYS)
            cmd = [sys.executable, "-m", "citytwin", "report", str(DEMO), "--scenario", str(d / "a.scenario.toml"),
                   "--scenario", str(d / "b.scenario.toml"), "--out", str(d / "r.html")]
            rend = [sys.executable, "-m", "citytwin", "render", str(DEMO), "--size", "960x600", "--out",
                    str(d / "one.png")]
            times = []
            for c in (cmd, rend):
                runs = []
                for _ in range(max(1, a.repeat // 2)):
                    t0 = time.perf_counter()
                    r = subprocess.run(c, capture_output=True, text=True)
                    runs.append(time.perf_counter() - t0)
                    if r.returncode:
                        raise SystemExit(r.stderr)
                times.append(min(runs))
            size = (d / "r.html").stat().st_size
        w("## report of the demo, two scenarios (subprocess wall time, start-up included)\n")
        w(f"{'command':<58} {'s':>6}\n")
        w(f"{'citytwin report (3 scenarios incl. base x 3 cameras, 960x600)':<58} {times[0]:>6.2f}\n")
        w(f"{'citytwin render demo --size 960x600 (one picture; raw)':<58} {times[1]:>6.2f}\n")
        w(f"# report size {size / 1e6:.2f} MB\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
