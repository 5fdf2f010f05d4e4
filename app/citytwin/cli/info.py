"""``citytwin info FILE… [--json] [--crs CRS]``: what a file holds (a city model, or a LAS/LAZ point cloud)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.crs import crs_label, is_geographic, parse_crs, to_wgs84_bbox, transform_xy
from ..core.errors import CityTwinError
from ..model.city import CityModel


def add_parser(sub: Any) -> None:
    p = sub.add_parser("info", help="describe city model files", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    p.add_argument("--crs", help="CRS of files that declare none (or to override), e.g. EPSG:3946")
    p.set_defaults(handler=run)


def describe(model: CityModel, path: str | Path, seconds: float | None = None) -> dict[str, Any]:
    """The facts ``info`` prints, as a JSON-able dict."""
    bbox = model.bbox()
    file_crs = model.source_crs if model.source_crs is not None else model.crs
    file_bbox = bbox
    if model.source_crs is not None and model.crs is not None and model.source_crs != model.crs \
            and len(model.vertices):
        # the scene was reprojected: bound the vertices in the file's own CRS (a box's
        # corners taken back would be off by the grid's rotation)
        ring = model.polygons.ring_idx
        used = model.vertices[np.unique(ring)] if len(ring) else model.vertices
        back = transform_xy(used.astype(np.float64) + model.origin, model.crs, model.source_crs)
        file_bbox = np.stack([back.min(0), back.max(0)])
    degrees = file_crs is not None and is_geographic(file_crs)
    xy_decimals = 7 if degrees else 3  # 1e-7 degree is about a centimetre
    bbox_wgs84 = None
    if model.crs is not None and model.n_triangles:
        try:
            bbox_wgs84 = [round(v, 7) for v in to_wgs84_bbox(bbox, model.crs)]
        except Exception:  # a CRS pyproj cannot take to WGS84
            bbox_wgs84 = None
    tex = model.textures
    info: dict[str, Any] = {
        "file": str(path),
        "format": model.format,
        "version": model.version,
        "crs": crs_label(model.source_crs if model.source_crs is not None else model.crs),
        "scene_crs": crs_label(model.crs),
        "objects": model.objects.counts_by_type(),
        "objects_total": model.n_objects,
        "lods": model.lods(),
        "vertices": int(len(model.vertices)),
        "polygons": int(len(model.polygons)),
        "triangles": int(model.n_triangles),
        "bbox": [[round(float(row[0]), xy_decimals), round(float(row[1]), xy_decimals),
                  round(float(row[2]), 3)] for row in file_bbox] if model.n_triangles else None,
        "bbox_units": "degrees" if degrees else "metres",
        "bbox_scene": [[round(float(v), 3) for v in row] for row in bbox] if model.n_triangles else None,
        "bbox_wgs84": bbox_wgs84,
        "textures": {"found": sum(1 for t in tex if t.get("found")),
                     "missing": sum(1 for t in tex if not t.get("found"))},
        "materials": len(model.materials),
        "skipped_objects": model.report.skipped_objects,
        "warnings": model.report.as_dict(),
    }
    surfaces = model.metadata.get("surface_counts")
    if surfaces:
        info["surfaces"] = dict(sorted(surfaces.items()))
    if seconds is not None:
        info["load_seconds"] = round(seconds, 3)
    return info


def _print_text(d: dict[str, Any], messages: list[str]) -> None:
    out = sys.stdout
    out.write(f"{d['file']}\n")
    out.write(f"  format      {d['format']} {d['version']}\n")
    crs = d["crs"] if d["crs"] == d["scene_crs"] else f"{d['crs']} (loaded as {d['scene_crs']})"
    out.write(f"  CRS         {crs}\n")
    out.write(f"  objects     {d['objects_total']}\n")
    for t, n in d["objects"].items():
        out.write(f"    {t:<28}{n:>9}\n")
    if d.get("surfaces"):
        out.write("  surfaces\n")
        for t, n in d["surfaces"].items():
            out.write(f"    {t:<28}{n:>9}\n")
    out.write(f"  LoDs        {', '.join(f'{v:g}' for v in d['lods']) or '-'}\n")
    out.write(f"  geometry    {d['vertices']} vertices, {d['polygons']} polygons, {d['triangles']} triangles\n")
    if d["bbox"]:
        lo, hi = d["bbox"]
        if d.get("bbox_units") == "degrees":  # x, y are lon, lat (east first)
            out.write(f"  bbox        lon {lo[0]:.7f} .. {hi[0]:.7f}, lat {lo[1]:.7f} .. {hi[1]:.7f}, "
                      f"z {lo[2]:.2f} .. {hi[2]:.2f} ({d['crs']})\n")
        else:
            out.write(f"  bbox        {lo[0]:.2f} {lo[1]:.2f} {lo[2]:.2f} .. "
                      f"{hi[0]:.2f} {hi[1]:.2f} {hi[2]:.2f}\n")
        if d.get("bbox_scene") and d["scene_crs"] != d["crs"]:
            lo, hi = d["bbox_scene"]
            size = [h - v for v, h in zip(lo, hi)]
            out.write(f"  scene bbox  {lo[0]:.2f} {lo[1]:.2f} {lo[2]:.2f} .. {hi[0]:.2f} {hi[1]:.2f} "
                      f"{hi[2]:.2f} m ({d['scene_crs']}; {size[0]:.1f} x {size[1]:.1f} x {size[2]:.1f} m)\n")
    if d["bbox_wgs84"]:
        b = d["bbox_wgs84"]
        out.write(f"  WGS84       lon {b[0]:.6f} .. {b[2]:.6f}, lat {b[1]:.6f} .. {b[3]:.6f}\n")
    t = d["textures"]
    if t["found"] or t["missing"]:
        out.write(f"  textures    {t['found']} found, {t['missing']} missing\n")
    if d["materials"]:
        out.write(f"  materials   {d['materials']}\n")
    if d["warnings"]:
        out.write("  warnings\n")
        for k, n in d["warnings"].items():
            out.write(f"    {k:<28}{n:>9}\n")
        for m in messages[:10]:
            out.write(f"      {m}\n")
    if "load_seconds" in d:
        out.write(f"  loaded in   {d['load_seconds']:.3f} s\n")


def _is_point_cloud(path: str) -> bool:
    from ..io import detect_format

    try:
        return Path(path).is_file() and detect_format(path) == "lidar"
    except CityTwinError:
        return False


def describe_points(cloud: Any, path: str | Path, seconds: float | None = None) -> dict[str, Any]:
    """What ``info`` prints for a LAS/LAZ point cloud: the keys of :func:`describe` (no objects,
    no geometry but points) plus ``points``, ``point_format`` and ``classes`` (ASPRS code →
    count, ``class_names`` beside it)."""
    from ..io.lidar import ASPRS_CLASSES

    bbox = cloud.bbox()
    n = len(cloud)
    degrees = cloud.crs is not None and is_geographic(cloud.crs)
    xy_decimals = 7 if degrees else 3
    bbox_wgs84 = None
    if cloud.crs is not None and n:
        try:
            bbox_wgs84 = [round(v, 7) for v in to_wgs84_bbox(bbox, cloud.crs)]
        except Exception:  # a CRS pyproj cannot take to WGS84
            bbox_wgs84 = None
    classes = cloud.class_counts()
    box = [[round(float(r[0]), xy_decimals), round(float(r[1]), xy_decimals), round(float(r[2]), 3)]
           for r in bbox] if n else None
    info: dict[str, Any] = {
        "file": str(path), "format": cloud.format, "version": cloud.version,
        "crs": crs_label(cloud.crs), "scene_crs": crs_label(cloud.crs),
        "crs_in_file": cloud.crs_in_file,
        "objects": {}, "objects_total": 0, "lods": [],
        "points": n, "point_format": cloud.point_format,
        "classes": {str(c): k for c, k in classes.items()},
        "class_names": {str(c): ASPRS_CLASSES.get(c, "user-defined") for c in classes},
        "vertices": 0, "polygons": 0, "triangles": 0,
        "bbox": box, "bbox_units": "degrees" if degrees else "metres", "bbox_scene": box,
        "bbox_wgs84": bbox_wgs84, "textures": {"found": 0, "missing": 0}, "materials": 0,
        "skipped_objects": 0, "warnings": {},
    }
    if seconds is not None:
        info["load_seconds"] = round(seconds, 3)
    return info


def _print_points(d: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"{d['file']}\n")
    out.write(f"  format      {d['format']} {d['version']} (point format {d['point_format']})\n")
    crs = d["crs"] if d["crs_in_file"] or d["crs"] == "none" else f"{d['crs']} (stated; none in the file)"
    out.write(f"  CRS         {crs}\n")
    out.write(f"  points      {d['points']}\n")
    if d["classes"]:
        out.write("  classes\n")
        for c, n in d["classes"].items():
            out.write(f"    {c:>3} {d['class_names'][c]:<24}{n:>9}\n")
    if d["bbox"]:
        lo, hi = d["bbox"]
        out.write(f"  bbox        {lo[0]:.2f} {lo[1]:.2f} {lo[2]:.2f} .. {hi[0]:.2f} {hi[1]:.2f} {hi[2]:.2f}\n")
    if d["bbox_wgs84"]:
        b = d["bbox_wgs84"]
        out.write(f"  WGS84       lon {b[0]:.6f} .. {b[2]:.6f}, lat {b[1]:.6f} .. {b[3]:.6f}\n")
    if "load_seconds" in d:
        out.write(f"  loaded in   {d['load_seconds']:.3f} s\n")


def _describe_file(f: str, crs: Any) -> tuple[dict[str, Any], Callable[[dict[str, Any]], None]]:
    """What ``info`` says of one file, and how to print it as text."""
    from ..io import read

    t0 = time.perf_counter()
    if _is_point_cloud(f):
        from ..io.lidar import read_lidar

        cloud = read_lidar(f, crs=crs)
        return describe_points(cloud, f, time.perf_counter() - t0), _print_points
    model = read(f, crs=crs)
    return describe(model, f, time.perf_counter() - t0), lambda d: _print_text(d, model.report.messages)


def run(args: argparse.Namespace) -> int:
    crs = parse_crs(args.crs) if args.crs else None
    failed = 0
    for f in args.files:
        try:
            d, print_text = _describe_file(f, crs)
        except CityTwinError as exc:
            failed += 1
            print(f"citytwin: error: {exc}", file=sys.stderr)
            continue
        if args.json:
            sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
        else:
            print_text(d)
    return 1 if failed else 0
