"""``citytwin convert IN OUT``: to CityJSON 2.0 (``.city.json``/``.json``), GLB or OBJ."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..core.crs import parse_crs
from ..core.errors import CityTwinError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("convert", help="convert a city model to CityJSON 2.0, GLB or OBJ",
                       description=__doc__)
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT", help="output file: .city.json / .json, .glb, .obj")
    p.add_argument("--crs", help="CRS of an input that declares none (or to override)")
    p.add_argument("--lod", default=None,
                   help="LoD to write to GLB/OBJ: a number, 'best' (default) or 'lowest'; "
                        "CityJSON keeps every LoD unless given")
    p.set_defaults(handler=run)


def output_kind(path: str | Path) -> str:
    name = Path(path).name.lower()
    if name.endswith((".city.json", ".json")):
        return "cityjson"
    if name.endswith(".glb"):
        return "glb"
    if name.endswith(".obj"):
        return "obj"
    raise CityTwinError(f"{path}: unknown output format (use .city.json, .glb or .obj)")


def run(args: argparse.Namespace) -> int:
    from ..io import read

    kind = output_kind(args.output)
    model = read(args.input, crs=parse_crs(args.crs) if args.crs else None)
    if kind == "cityjson":
        from ..io.cityjson import write_cityjson

        write_cityjson(model, args.output, lod=args.lod or "all")
    elif kind == "glb":
        from ..io.writers import write_glb

        write_glb(model, args.output, lod=args.lod or "best")
    else:
        from ..io.writers import write_obj

        write_obj(model, args.output, lod=args.lod or "best")
    skipped = model.report.skipped_objects
    note = f" ({skipped} broken objects skipped)" if skipped else ""
    print(f"wrote {args.output}: {model.n_objects} objects{note}", file=sys.stderr)
    return 0
