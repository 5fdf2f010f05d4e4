"""``citytwin analyze sun-hours INPUT --date D [--to D] [--step MIN] [--per-object] --out OUT``.

Hours of direct sun and clear-sky irradiation (beam + diffuse, kWh/m²) on every surface
polygon, obstructed by everything in the model. OUT is ``.csv`` (one row per polygon, or
per object with ``--per-object``) or ``.city.json`` (the values on the semantic surfaces,
and per-object totals as attributes). Output is written atomically: all of it or nothing.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import Cancelled, CityTwinError
from ..core.files import atomic_open
from . import analyze_flood


class AnalyzeError(CityTwinError):
    """Bad input to ``citytwin analyze``."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("analyze", help="analyses: sun hours and solar irradiation per surface",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = p.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)
    s = kinds.add_parser("sun-hours", help="hours of direct sun and irradiation on every surface",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("input", metavar="INPUT", help="a city model file")
    s.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the first (or only) day, local")
    s.add_argument("--to", metavar="YYYY-MM-DD", help="the last day (inclusive; default: --date)")
    s.add_argument("--step", type=float, default=10.0, metavar="MINUTES", help="time step (default 10)")
    s.add_argument("--per-object", action="store_true", help="CSV: one row per object (roofs, façades, all)")
    s.add_argument("--out", required=True, metavar="OUT", help=".csv or .city.json")
    s.add_argument("--crs", help="CRS of an input that declares none")
    s.add_argument("--lonlat", metavar="LON,LAT",
                   help="the place, for a file without a CRS (its x, y axes are then taken as east, north)")
    s.add_argument("--lod", default="best", help="LoD analysed: 'best' (default), 'lowest' or a number")
    s.add_argument("--spacing", type=float, default=2.0, metavar="M",
                   help="one sample point per SPACING² m² of surface (default 2)")
    s.add_argument("--linke", type=float, default=3.0, help="Linke turbidity of the clear sky (default 3)")
    s.add_argument("--no-diffuse", action="store_true", help="direct sun only (no sky-view rays)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the chunks on a dask.distributed cluster (e.g. tcp://HOST:8786); "
                        "default: threads on this machine")
    s.set_defaults(handler=run)
    analyze_flood.add_parser(kinds)


def _day(text: str, flag: str) -> date:
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise AnalyzeError(f"{flag} {text!r}: expected a date as YYYY-MM-DD") from None
    if not 1901 <= d.year <= 2099:
        raise AnalyzeError(f"{flag} {text}: dates from 1901 to 2099 only")
    return d


def _out_kind(path: str) -> str:
    name = Path(path).name.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".city.json", ".json")):
        return "cityjson"
    raise AnalyzeError(f"{path}: unknown output format (use .csv or .city.json)")


class _Bar:
    """A progress bar on stderr when it is a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, f: float) -> None:
        pct = int(f * 100)
        if self.tty and pct != self.last:
            self.last = pct
            bar = "#" * (pct // 4)
            sys.stderr.write(f"\r{self.label} [{bar:<25}] {pct:3d}%")
            sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _fmt(v: float, digits: int) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def run(args: argparse.Namespace) -> int:
    from ..core.crs import parse_crs
    from ..io import read
    from ..sim.place import Place
    from ..sim.sunhours import Period, analyse

    kind = _out_kind(args.out)
    if not args.step > 0:
        raise AnalyzeError(f"--step {args.step:g}: the time step must be more than 0 minutes")
    first = _day(args.date, "--date")
    last = _day(args.to, "--to") if args.to else first
    if last < first:
        raise AnalyzeError(f"--to {last} is before --date {first}")
    if (last - first).days > 731:
        raise AnalyzeError("a period of more than two years: analyse a year at most")
    out_dir = Path(args.out).resolve().parent
    if not out_dir.is_dir():
        raise AnalyzeError(f"{args.out}: no such folder {out_dir}")

    model = read(args.input, crs=parse_crs(args.crs) if args.crs else None)
    if model.n_triangles == 0:
        raise AnalyzeError(f"{args.input}: no surfaces to analyse")
    grid = None
    if args.lonlat:
        from .sun import _lonlat

        place = Place.at(*_lonlat(args.lonlat))
        if model.crs is None:
            grid = np.eye(3)
    elif model.crs is None:
        raise AnalyzeError(f"{args.input}: no CRS, so the sun's direction is unknown "
                           "(state the CRS with --crs, or the place with --lonlat)")
    else:
        place = Place.of_bbox(model.bbox(), model.crs)
    try:
        period = Period(first, last, args.step, place.timezone)
    except ValueError as exc:
        raise AnalyzeError(str(exc)) from None
    bar = _Bar("sun hours")
    try:
        res = analyse(model, period, place, lod=args.lod, spacing=args.spacing, linke=args.linke,
                      diffuse=not args.no_diffuse, grid=grid, scheduler=args.scheduler, progress=bar)
    except Cancelled:
        raise
    except ConnectionError as exc:
        raise AnalyzeError(f"--scheduler: {exc}") from None
    except ValueError as exc:
        raise AnalyzeError(f"{args.input}: {exc}") from None
    finally:
        bar.done()
    if kind == "csv":
        rows = _write_objects_csv(args.out, model, res) if args.per_object else _write_surfaces_csv(args.out, model, res)
    else:
        rows = _write_cityjson(args.out, model, res, args.lod)
    st = res.stats
    print(f"wrote {args.out}: {rows} rows; {len(res.polygons)} surfaces of {model.n_objects} objects, "
          f"{st['samples']} sample points, {st['steps_with_sun']} steps with sun "
          f"({res.daylight_hours:.1f} h of daylight), {st['seconds_total']:.1f} s", file=sys.stderr)
    return 0


def _surface_table(model: Any, res: Any) -> dict[str, Any]:
    from ..model.semantics import SEMANTICS
    from ..sim.aggregate import surface_index

    obj = model.polygons.object[res.polygons]
    return {
        "id": [model.objects.ids[o] for o in obj.tolist()],
        "surface_index": surface_index(model, res.polygons).tolist(),
        "semantic": [SEMANTICS[s] for s in model.polygons.semantic[res.polygons].tolist()],
    }


def _write_surfaces_csv(path: str, model: Any, res: Any) -> int:
    t = _surface_table(model, res)
    irr = res.irradiation_kwh_m2
    with atomic_open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "surface_index", "semantic", "nx", "ny", "nz", "area_m2", "sun_hours",
                    "irradiation_kwh_m2", "beam_kwh_m2", "diffuse_kwh_m2", "sky_view"])
        for i in range(len(res.polygons)):
            n = res.normals[i]
            w.writerow([t["id"][i], t["surface_index"][i], t["semantic"][i], f"{n[0]:.4f}", f"{n[1]:.4f}",
                        f"{n[2]:.4f}", f"{res.areas[i]:.3f}", f"{res.sun_hours[i]:.3f}", f"{irr[i]:.4f}",
                        f"{res.beam_kwh_m2[i]:.4f}", f"{res.diffuse_kwh_m2[i]:.4f}", f"{res.sky_view[i]:.4f}"])
    return len(res.polygons)


def _totals(model: Any, res: Any) -> Any:
    from ..sim.aggregate import per_object, surface_class

    classes = surface_class(model.polygons.semantic[res.polygons], res.normals)
    return per_object(model, res.polygons, res.areas, classes,
                      {"sun_hours": res.sun_hours, "irradiation_kwh_m2": res.irradiation_kwh_m2})


def _object_values(model: Any, res: Any) -> tuple[list[str], list[list[Any]], Any]:
    tot = _totals(model, res)
    head = ["id", "type", "parts"]
    for c in ("roof", "facade", "all"):
        head += [f"{c}_area_m2", f"{c}_sun_hours", f"{c}_irradiation_kwh_m2", f"{c}_irradiation_kwh"]
    rows = []
    for k, o in enumerate(tot.objects.tolist()):
        row: list[Any] = [model.objects.ids[o], model.objects.types[o], int(tot.parts[k])]
        for c in ("roof", "facade", "all"):
            row += [tot.area[c][k], tot.mean[c]["sun_hours"][k], tot.mean[c]["irradiation_kwh_m2"][k],
                    tot.total[c]["irradiation_kwh_m2"][k]]
        rows.append(row)
    return head, rows, tot


def _write_objects_csv(path: str, model: Any, res: Any) -> int:
    head, rows, _ = _object_values(model, res)
    digits = [None, None, None] + [2, 3, 4, 2] * 3
    with atomic_open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(head)
        for row in rows:
            w.writerow([v if d is None else _fmt(float(v), d) for v, d in zip(row, digits, strict=True)])
    return len(rows)


def _write_cityjson(path: str, model: Any, res: Any, lod: str) -> int:
    from ..io.cityjson import write_cityjson

    irr = res.irradiation_kwh_m2
    surf = {int(p): {"sun_hours": round(float(res.sun_hours[i]), 3),
                     "irradiation_kwh_m2": round(float(irr[i]), 4),
                     "sky_view": round(float(res.sky_view[i]), 4)}
            for i, p in enumerate(res.polygons.tolist())}
    head, rows, _ = _object_values(model, res)
    objs: dict[int, dict[str, Any]] = {}
    index = {model.objects.ids[o]: o for o in range(model.n_objects)}
    for row in rows:
        attrs = {}
        for name, v in zip(head[3:], row[3:], strict=True):
            if isinstance(v, float) and math.isnan(v):
                continue
            attrs[name] = round(float(v), 4)
        objs[index[row[0]]] = attrs
    write_cityjson(model, path, lod=lod, surface_attributes=surf, object_attributes=objs)
    return len(rows)
