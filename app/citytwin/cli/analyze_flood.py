"""``citytwin analyze flood INPUT [--terrain FILE] --level H | --rise H [--mode bathtub|connected
--source X,Y] [--resolution M] [--crs CRS] --out OUT.csv``.

The buildings a water level floods. The terrain is the model's own (TINRelief, Terrain
surfaces) or ``--terrain``: a LAS/LAZ point cloud (ground class 2 when classified) or another
model with a TIN, rasterised at ``--resolution`` metres. The level is an absolute height
(``--level``, in the terrain's heights) or a rise over the lowest terrain (``--rise``; over
``--reference`` when given). ``bathtub`` floods everything below the level; ``connected``
only what the water reaches from ``--source X,Y`` (scene coordinates) through cells below it.

OUT.csv: one row per flooded object (top-level buildings; ``--objects standing`` adds every
other standing object) with ``id, type, ground_m`` (terrain at the lowest footprint corner, or
the lowest vertex where no terrain is under it: ``ground_from``), ``depth_m`` (level − ground),
``flooded_share`` (part of the footprint cells with terrain that are under water) and the
corner's ``x, y``; deepest first. Written atomically: all of it or nothing.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import CityTwinError
from ..core.files import atomic_open


class FloodInputError(CityTwinError):
    """Bad input to ``citytwin analyze flood``: one line naming the file and the reason."""


def add_parser(kinds: Any) -> None:
    """Register ``flood`` under ``citytwin analyze``."""
    p = kinds.add_parser("flood", help="buildings under a water level (bathtub or connected to a source)",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT", help="a city model (or a LAS/LAZ file: terrain only)")
    p.add_argument("--terrain", metavar="FILE", help="terrain: a LAS/LAZ point cloud or a model with a TIN "
                                                     "(default: the model's own terrain)")
    lv = p.add_mutually_exclusive_group(required=True)
    lv.add_argument("--level", type=float, metavar="H", help="the water level, an absolute height in metres")
    lv.add_argument("--rise", type=float, metavar="H", help="the water level as a rise over the lowest "
                                                            "terrain (or over --reference), in metres")
    p.add_argument("--reference", type=float, metavar="H", help="the height --rise is counted from")
    p.add_argument("--mode", choices=("bathtub", "connected"),
                   help="bathtub: every cell below the level; connected: only those the water reaches from "
                        "--source (default: connected with --source, else bathtub)")
    p.add_argument("--source", metavar="X,Y", help="where the water comes from (scene coordinates)")
    p.add_argument("--resolution", type=float, default=1.0, metavar="M", help="grid cell size in metres "
                                                                             "(default 1)")
    p.add_argument("--crs", help="CRS of inputs that declare none (a LAZ without one needs it)")
    p.add_argument("--objects", choices=("buildings", "standing"), default="buildings",
                   help="buildings (default) or every standing object (also bridges, trees, furniture)")
    p.add_argument("--out", required=True, metavar="OUT.csv", help="the flooded objects, one row each")
    p.set_defaults(handler=run)


def _is_lidar(path: str) -> bool:
    from ..io import detect_format

    try:
        return Path(path).is_file() and detect_format(path) == "lidar"
    except CityTwinError:
        return False


def _source(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise FloodInputError(f"--source {text!r}: expected X,Y (two numbers)") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise FloodInputError(f"--source {text!r}: expected X,Y (two numbers)")
    return x, y


def _points_grid(path: str, crs: Any, target_crs: Any, resolution: float) -> Any:
    """A height grid from a LAS/LAZ file, in ``target_crs`` when given."""
    from ..core.crs import crs_label, horizontal, is_geographic, transform_xy
    from ..io.lidar import read_lidar
    from ..sim.terrain import grid_from_points

    cloud = read_lidar(path, crs=crs)
    if len(cloud) == 0:
        raise FloodInputError(f"{path}: no points")
    if cloud.crs is None:
        raise FloodInputError(f"{path}: the point cloud has no CRS; state it with --crs "
                              "(AHN tiles: --crs EPSG:28992)")
    xyz = cloud.xyz
    grid_crs = cloud.crs
    if target_crs is not None and not horizontal(target_crs).equals(horizontal(cloud.crs)):
        try:
            xyz = transform_xy(xyz, cloud.crs, target_crs)
        except Exception as exc:
            raise FloodInputError(f"{path}: cannot bring {crs_label(cloud.crs)} into the model's "
                                  f"{crs_label(target_crs)} ({exc})") from None
        grid_crs = target_crs
    if is_geographic(grid_crs):
        raise FloodInputError(f"{path}: geographic coordinates ({crs_label(grid_crs)}); a grid in metres "
                              "needs a projected CRS")
    try:
        return grid_from_points(xyz, resolution, cloud.classification, crs=grid_crs, source=path)
    except ValueError as exc:
        raise FloodInputError(f"{path}: {exc}") from None


def _model_grid(model: Any, path: str, resolution: float, hint: bool) -> Any:
    from ..sim.terrain import grid_from_model, terrain_triangles

    if not terrain_triangles(model).any():
        more = "; give one with --terrain FILE.laz (or a model with a TIN)" if hint else ""
        raise FloodInputError(f"{path}: no terrain to flood (no TINRelief or other relief, no Terrain "
                              f"surfaces){more}")
    try:
        return grid_from_model(model, resolution)
    except ValueError as exc:
        raise FloodInputError(f"{path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from ..core.crs import parse_crs
    from ..io import read
    from ..sim.flood import Flood

    t0 = time.perf_counter()
    if not Path(args.out).name.lower().endswith(".csv"):
        raise FloodInputError(f"{args.out}: unknown output format (use .csv)")
    out_dir = Path(args.out).resolve().parent
    if not out_dir.is_dir():
        raise FloodInputError(f"{args.out}: no such folder {out_dir}")
    if not (args.resolution > 0 and math.isfinite(args.resolution)):
        raise FloodInputError(f"{args.input}: --resolution {args.resolution:g}: the cell size must be "
                              "more than 0 m")
    mode = args.mode or ("connected" if args.source else "bathtub")
    if mode == "connected" and not args.source:
        raise FloodInputError(f"{args.input}: --mode connected needs --source X,Y (where the water comes from)")
    if mode == "bathtub" and args.source:
        raise FloodInputError(f"{args.input}: --source is for --mode connected (bathtub floods everything "
                              "below the level)")
    if args.reference is not None and args.rise is None:
        raise FloodInputError(f"{args.input}: --reference is for --rise")
    source = _source(args.source) if args.source else None
    crs = parse_crs(args.crs) if args.crs else None

    model = None
    if _is_lidar(args.input):
        if args.terrain:
            raise FloodInputError(f"{args.input}: a point cloud has no buildings to flood; give a city model "
                                  f"as INPUT and {args.input} as --terrain")
        terrain_file = args.input
        grid = _points_grid(args.input, crs, None, args.resolution)
    else:
        model = read(args.input, crs=crs)
        if args.terrain:
            terrain_file = args.terrain
            if _is_lidar(args.terrain):
                if model.crs is None:
                    raise FloodInputError(f"{args.input}: no CRS, so the point cloud cannot be placed under it; "
                                          "state it with --crs")
                grid = _points_grid(args.terrain, crs, model.crs, args.resolution)
            else:
                tmodel = read(args.terrain, crs=crs, target_crs=model.crs, origin=model.origin)
                grid = _model_grid(tmodel, args.terrain, args.resolution, hint=False)
        else:
            terrain_file = args.input
            grid = _model_grid(model, args.input, args.resolution, hint=True)
    t_grid = time.perf_counter()
    try:
        flood = Flood(grid, model, objects=args.objects)
    except ValueError as exc:
        raise FloodInputError(f"{terrain_file}: {exc}") from None
    level = flood.level_for(args.level, args.rise, args.reference)
    try:
        if source is not None:
            flood.set_source(*source)
        flood.check_level(level, mode)
    except ValueError as exc:
        raise FloodInputError(f"{terrain_file}: {exc}") from None
    res = flood.at(level, mode)
    rows = _rows(model, res)
    with atomic_open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "type", "ground_m", "depth_m", "flooded_share", "ground_from", "x", "y"])
        w.writerows(rows)
    g = grid
    n_obj = len(flood.objects.index)
    print(f"wrote {args.out}: {len(rows)} flooded of {n_obj} objects; level {level:.2f} m ({mode}), "
          f"{res.area_m2:,.0f} m² under water ({res.cells} of {g.nx}x{g.ny} cells at {g.cell:g} m, "
          f"terrain {flood.zmin:.2f}..{g.zmax():.2f} m from {terrain_file}); "
          f"grid {t_grid - t0:.2f} s, total {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0


def _rows(model: Any, res: Any) -> list[list[Any]]:
    if model is None or len(res.objects) == 0:
        return []
    order = np.lexsort((np.array([model.objects.ids[o] for o in res.objects.tolist()]), -res.depth_m))
    rows = []
    for k in order.tolist():
        o = int(res.objects[k])
        share = float(res.share[k])
        rows.append([model.objects.ids[o], model.objects.types[o], f"{res.ground_m[k]:.3f}",
                     f"{res.depth_m[k]:.3f}", "" if math.isnan(share) else f"{share:.3f}",
                     "terrain" if res.ground_on_terrain[k] else "object", f"{res.corner_xy[k, 0]:.3f}",
                     f"{res.corner_xy[k, 1]:.3f}"])
    return rows
