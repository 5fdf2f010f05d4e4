"""``citytwin kpi``, ``citytwin scenario apply`` and ``citytwin report``: urban-design what-ifs.

``kpi INPUT [--scenario S.toml] [--site SITE.geojson] [--storey-height 3] [--json]``
    the indicators of the city (as a scenario leaves it), for the scene or a site.
``scenario apply INPUT S.toml --out OUT.city.json``
    the edited city as CityJSON 2.0 (new buildings as solids with their attributes).
``report INPUT --scenario A.toml --scenario B.toml [--site] --out report.html``
    pictures of the base and every scenario from the same cameras, the indicator table with
    differences, charts: one self-contained HTML file.

A bad scenario (a bad footprint, an unknown id or op, another base, a truncated file) is one
line naming the file and the edit, a non-zero exit and no output file.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from ..core.errors import CityTwinError

__all__ = ["add_parser"]


def add_parser(sub: Any) -> None:
    k = sub.add_parser("kpi", help="urban-design indicators of a city or a scenario of it",
                       description="Indicators (buildings, footprint, gross floor area, heights, volume; "
                                   "FAR, coverage and open space with a site) of INPUT, or of INPUT as "
                                   "scenarios leave it.")
    k.add_argument("input", metavar="INPUT", help="a city model (CityJSON, CityGML, …)")
    _common(k)
    k.add_argument("--scenario", metavar="S.toml", help="apply this scenario first")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.set_defaults(handler=_run_kpi)

    s = sub.add_parser("scenario", help="apply a scenario (.scenario.toml) to a city",
                       description="Work with scenarios: edits on a base city model.")
    ssub = s.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    a = ssub.add_parser("apply", help="write the edited city as CityJSON 2.0",
                        description="Apply a scenario's edits to INPUT and write the result as CityJSON 2.0 "
                                    "(the base file is not changed).")
    a.add_argument("input", metavar="INPUT", help="the base city model")
    a.add_argument("scenario", metavar="S.toml", help="the scenario file")
    a.add_argument("--out", "-o", required=True, help="the CityJSON file to write (.city.json)")
    a.add_argument("--crs", help="CRS of an input that declares none")
    a.set_defaults(handler=_run_apply)

    r = sub.add_parser("report", help="an HTML report comparing scenarios (pictures, indicators, charts)",
                       description="Render the base and each scenario from the same cameras, compute the "
                                   "indicators and write one self-contained HTML file.")
    r.add_argument("input", metavar="INPUT", help="the base city model")
    r.add_argument("--scenario", metavar="S.toml", action="append", required=True,
                   help="a scenario (repeat for several)")
    _common(r)
    r.add_argument("--out", "-o", required=True, help="the HTML file to write")
    r.add_argument("--size", default="960x600", help="picture size WIDTHxHEIGHT (default 960x600)")
    r.add_argument("--title", help="the report's title")
    r.set_defaults(handler=_run_report)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", metavar="SITE.geojson", help="a site polygon (GeoJSON, in the model's CRS)")
    p.add_argument("--storey-height", type=float, default=None,
                   help="metres per storey where the data gives none (default: the scenario's, else 3.0)")
    p.add_argument("--flood-level", type=float, metavar="H",
                   help="also count the buildings flooded at this water level (the model's heights; needs terrain)")
    p.add_argument("--solar-day", metavar="YYYY-MM-DD",
                   help="also compute the roofs' clear-sky solar irradiation on this day (needs a CRS)")
    p.add_argument("--crs", help="CRS of an input that declares none")


# ----------------------------------------------------------------- helpers
def _read_base(path: str, crs: str | None) -> Any:
    from ..core.crs import parse_crs
    from ..io import read

    if not Path(path).exists():
        raise CityTwinError(f"{path}: no such file")
    return read(path, crs=parse_crs(crs) if crs else None)


def _storey_height(args: argparse.Namespace, scenario: Any = None) -> float:
    sh = args.storey_height if args.storey_height is not None else (
        scenario.storey_height if scenario is not None else 3.0)
    if not sh > 0:
        raise CityTwinError(f"--storey-height {sh:g}: must be more than 0 m")
    return float(sh)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CityTwinError(f"--solar-day {text!r}: a date like 2026-06-21") from None


def _values(model: Any, site: Any, sh: float, args: argparse.Namespace, notes: list[str]) -> dict[str, Any]:
    from ..scenario.indicators import building_table, indicators

    table = building_table(model, sh)
    vals: dict[str, Any] = dict(indicators(model, site, sh, table=table).values)
    if args.flood_level is not None:
        from ..scenario.sim_indicators import flood_indicators

        f = flood_indicators(model, table, args.flood_level, site)
        note = f.pop("_note", None)
        if note and note not in notes:
            notes.append(note)
        vals.update(f)
    day = _day(args.solar_day)
    if day is not None:
        from ..scenario.sim_indicators import solar_indicators

        s = solar_indicators(model, table, day, site)
        note = s.pop("_note", None)
        if note and note not in notes:
            notes.append(note)
        vals.update(s)
    return vals


def _check_out(path: str, suffixes: tuple[str, ...]) -> None:
    out_dir = Path(path).resolve().parent
    if not out_dir.is_dir():
        raise CityTwinError(f"{path}: no such folder {out_dir}")
    if not path.lower().endswith(suffixes):
        raise CityTwinError(f"{path}: the output must end in {' or '.join(suffixes)}")


# ----------------------------------------------------------------- commands
def _run_kpi(args: argparse.Namespace) -> int:
    from ..scenario.files import read_scenario
    from ..scenario.indicators import KPI, read_site

    scenario = read_scenario(args.scenario) if args.scenario else None
    site = read_site(args.site) if args.site else None
    sh = _storey_height(args, scenario)
    _day(args.solar_day)
    model = _read_base(args.input, args.crs)
    if scenario is not None:
        model = scenario.apply(model).model
    notes: list[str] = []
    vals = _values(model, site, sh, args, notes)
    if args.json:
        doc = {**vals, "storey_height_m": sh, "scenario": scenario.name if scenario else None,
               "u4ssc": {k: KPI[k] for k in vals if KPI.get(k)}}
        if notes:
            doc["notes"] = notes
        sys.stdout.write(orjson.dumps(doc).decode() + "\n")
        return 0
    from ..scenario.indicators import LABELS

    print(f"{args.input}{' + ' + scenario.name if scenario else ''}{' (site ' + args.site + ')' if site else ''}")
    for key, v in vals.items():
        if key in LABELS:
            label, unit = LABELS[key]
            print(f"  {label + (' (' + unit + ')' if unit else ''):<32} {'–' if v is None else v}")
    for n in notes:
        print(f"  note: {n}")
    return 0


def _run_apply(args: argparse.Namespace) -> int:
    from ..io.cityjson.writer import write_cityjson
    from ..scenario.files import read_scenario

    _check_out(args.out, (".json",))
    scenario = read_scenario(args.scenario)
    base = _read_base(args.input, args.crs)
    applied = scenario.apply(base)
    m = applied.model
    solids = [m.objects.index[i] for i in applied.solids if i in m.objects.index]
    write_cityjson(m, args.out, solids=solids)
    print(f"{args.out}: {len(applied.added)} added, {len(applied.changed)} changed, {len(applied.removed)} removed",
          file=sys.stderr)
    print(args.out)
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from ..scenario.files import read_scenario
    from ..scenario.indicators import read_site
    from ..scenario.report import Column, report_html, write_report
    from .view import parse_size

    t0 = time.perf_counter()
    _check_out(args.out, (".html", ".htm"))
    size = parse_size(args.size)
    scenarios = [read_scenario(p) for p in args.scenario]
    site = read_site(args.site) if args.site else None
    _day(args.solar_day)
    base = _read_base(args.input, args.crs)
    applied = [s.apply(base) for s in scenarios]  # every scenario checked before anything is drawn
    notes: list[str] = []
    sh = [_storey_height(args, s) for s in scenarios]
    columns = [Column("Base", _values(base, site, _storey_height(args), args, notes), source=args.input)]
    for s, a, h in zip(scenarios, applied, sh):
        columns.append(Column(s.name, _values(a.model, site, h, args, notes), added=a.added, changed=a.changed,
                              removed=a.removed, edits=[e.describe() for e in s.edits], source=s.source))
    # cameras: the whole scene from the south-west and from above, and the changes close up
    cameras: list[tuple[str, Any]] = [("iso", None), ("top", None)]
    labels = ["overview from the south-west", "plan from above"]
    focus = _changes_box(base, applied)
    if focus is not None:
        cameras.append(("iso", focus))
        labels.append("the changes, close up")
    from ..render.scenario_views import render_scenarios

    images = render_scenarios([base, *(a.model for a in applied)], cameras, size,
                              tinted=[[], *([*a.added, *a.changed] for a in applied)])
    for c, imgs in zip(columns, images):
        c.images = imgs
    if args.flood_level is None:
        notes.append("Flooded buildings: not computed (give --flood-level H).")
    if args.solar_day is None:
        notes.append("Roof solar potential: not computed (give --solar-day YYYY-MM-DD).")
    notes.append("Shadow hours added on neighbouring façades and ground: not computed yet.")
    title = args.title or f"What-ifs on {Path(args.input).name}: " + ", ".join(s.name for s in scenarios)
    text = report_html(title, args.input, columns, labels, notes, site=args.site)
    write_report(args.out, text)
    print(f"{args.out}: {len(scenarios)} scenario(s), {len(cameras)} camera(s), "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(args.out)
    return 0


def _changes_box(base: Any, applied: list[Any]) -> Any:
    """World box around every added, changed or removed building (in its model), padded."""
    import numpy as np

    boxes = []
    for a in applied:
        for m, ids in ((a.model, [*a.added, *a.changed]), (base, a.removed)):
            idx = [m.objects.index[i] for i in ids if i in m.objects.index]
            if idx:
                bb = m.object_bboxes()[idx]
                bb = bb[np.isfinite(bb).all(axis=(1, 2))]
                if len(bb):
                    boxes.append(np.stack([bb[:, 0].min(0), bb[:, 1].max(0)]))
    if not boxes:
        return None
    b = np.stack(boxes)
    lo, hi = b[:, 0].min(0), b[:, 1].max(0)
    pad = max(30.0, 0.4 * float(max(hi[0] - lo[0], hi[1] - lo[1])))
    lo[:2] -= pad
    hi[:2] += pad
    return np.stack([lo, hi])
