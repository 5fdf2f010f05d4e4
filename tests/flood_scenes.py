"""Synthetic terrain for flood tests: CityJSON files with a TINRelief of given triangles and box
buildings standing on it, and the terrains themselves as height functions with known answers.

Coordinates are metres from ``DEN_HAAG`` (RD New), so the readers see real-sized numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from boxes import DEN_HAAG, RD_NEW, box_faces

Tri = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


def write_city(path: Path, tin: list[Tri], boxes: list[tuple[str, float, float, float, float, float, float]],
               parts: dict[str, list[tuple[str, float, float, float, float, float, float]]] | None = None,
               crs: str | None = RD_NEW, translate: tuple[float, float] = DEN_HAAG) -> Path:
    """A CityJSON 2.0 file: a TINRelief of ``tin`` (empty: no terrain) and LoD2 box buildings;
    ``parts`` maps a building id to BuildingParts carrying its geometry (the building has none)."""
    scale = 0.001
    verts: list[list[int]] = []
    objects: dict[str, Any] = {}

    def add(p: tuple[float, float, float] | list[float]) -> int:
        verts.append([round(p[0] / scale), round(p[1] / scale), round(p[2] / scale)])
        return len(verts) - 1

    def solid(x0: float, y0: float, x1: float, y1: float, z0: float, z1: float) -> dict[str, Any]:
        v, faces = box_faces(x0, y0, x1, y1, z0, z1)
        base = len(verts)
        for p in v:
            add(p)
        return {"type": "Solid", "lod": "2", "boundaries": [[[[base + i for i in f]] for f in faces]],
                "semantics": {"surfaces": [{"type": "RoofSurface"}, {"type": "WallSurface"},
                                           {"type": "GroundSurface"}], "values": [[0, 1, 1, 1, 1, 2]]}}

    for bid, *box in boxes:
        objects[bid] = {"type": "Building", "geometry": [solid(*box)]}
    for bid, plist in (parts or {}).items():
        objects[bid] = {"type": "Building", "children": [p[0] for p in plist]}
        for pid, *box in plist:
            objects[pid] = {"type": "BuildingPart", "parents": [bid], "geometry": [solid(*box)]}
    if tin:
        faces = [[[add(a), add(b), add(c)]] for a, b, c in tin]
        objects["terrain"] = {"type": "TINRelief", "geometry": [
            {"type": "CompositeSurface", "lod": "1", "boundaries": faces}]}
    doc: dict[str, Any] = {"type": "CityJSON", "version": "2.0",
                           "transform": {"scale": [scale] * 3, "translate": [translate[0], translate[1], 0.0]},
                           "CityObjects": objects, "vertices": verts}
    if crs:
        doc["metadata"] = {"referenceSystem": crs}
    path.write_bytes(orjson.dumps(doc))
    return path


def plane(a: float, b: float, c: float) -> Callable[[Any, Any], Any]:
    return lambda x, y: a * np.asarray(x) + b * np.asarray(y) + c


def quad_tin(f: Callable[[Any, Any], Any], x0: float, y0: float, x1: float, y1: float) -> list[Tri]:
    """Two triangles over a rectangle (exact for a plane)."""
    def p(x: float, y: float) -> tuple[float, float, float]:
        return (x, y, float(f(x, y)))
    return [(p(x0, y0), p(x1, y0), p(x1, y1)), (p(x0, y0), p(x1, y1), p(x0, y1))]


def pyramid_bowl(cx: float, cy: float, half: float, slope: float) -> tuple[Callable[[Any, Any], Any], list[Tri]]:
    """A square bowl: z = slope * max(|x - cx|, |y - cy|) over the square of half-side ``half``,
    as four triangles from the centre to the edges (exact: z is linear on each)."""
    def f(x: Any, y: Any) -> Any:
        return slope * np.maximum(np.abs(np.asarray(x) - cx), np.abs(np.asarray(y) - cy))

    c = (cx, cy, 0.0)
    k = [(cx - half, cy - half), (cx + half, cy - half), (cx + half, cy + half), (cx - half, cy + half)]
    tin = [(c, (*k[i], float(f(*k[i]))), (*k[(i + 1) % 4], float(f(*k[(i + 1) % 4])))) for i in range(4)]
    return f, tin


def profile_tin(xs: list[float], zs: list[float], y0: float, y1: float) -> tuple[Callable[[Any, Any], Any], list[Tri]]:
    """A terrain varying along x only, piecewise linear through ``(xs, zs)``, over ``y0..y1``."""
    def f(x: Any, y: Any) -> Any:
        return np.interp(np.asarray(x, dtype=float), xs, zs) + 0 * np.asarray(y, dtype=float)

    tin: list[Tri] = []
    for xa, xb, za, zb in zip(xs[:-1], xs[1:], zs[:-1], zs[1:], strict=True):
        tin += [((xa, y0, za), (xb, y0, zb), (xb, y1, zb)), ((xa, y0, za), (xb, y1, zb), (xa, y1, za))]
    return f, tin
