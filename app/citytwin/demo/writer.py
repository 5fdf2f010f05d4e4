"""CityJSON 2.0 document assembly for the demo: a quantised vertex pool and geometry dicts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import orjson

from .shapes import Point3, Surface

SCALE = 0.001  # millimetres


class VertexPool:
    """Deduplicated integer vertices, from local metres to the world CRS.

    Local coordinates are rotated by ``angle_deg`` about ``pivot`` and shifted by
    ``offset`` (world easting/northing of the local origin), then quantised with
    CityJSON's ``transform`` (``SCALE`` and ``translate``).
    """

    def __init__(self, offset: tuple[float, float], pivot: tuple[float, float], angle_deg: float,
                 translate: tuple[float, float, float]) -> None:
        self.offset = offset
        self.pivot = pivot
        self.cos = math.cos(math.radians(angle_deg))
        self.sin = math.sin(math.radians(angle_deg))
        self.translate = translate
        self.index: dict[tuple[int, int, int], int] = {}
        self.vertices: list[tuple[int, int, int]] = []

    def world(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        """World coordinates of a local point."""
        px, py = self.pivot
        dx, dy = x - px, y - py
        wx = self.offset[0] + px + dx * self.cos - dy * self.sin
        wy = self.offset[1] + py + dx * self.sin + dy * self.cos
        return wx, wy, z

    def add(self, p: Point3) -> int:
        wx, wy, wz = self.world(*p)
        tx, ty, tz = self.translate
        key = (round((wx - tx) / SCALE), round((wy - ty) / SCALE), round((wz - tz) / SCALE))
        i = self.index.get(key)
        if i is None:
            i = len(self.vertices)
            self.index[key] = i
            self.vertices.append(key)
        return i

    def ring(self, ring: Sequence[Point3]) -> list[int]:
        out = [self.add(p) for p in ring]
        # drop consecutive duplicates created by quantisation
        ded = [v for k, v in enumerate(out) if v != out[k - 1]] if len(out) > 1 else out
        return ded

    def extent(self) -> list[float]:
        tx, ty, tz = self.translate
        lo = [min(v[k] for v in self.vertices) for k in range(3)]
        hi = [max(v[k] for v in self.vertices) for k in range(3)]
        t = (tx, ty, tz)
        return [round(lo[k] * SCALE + t[k], 3) for k in range(3)] + [
            round(hi[k] * SCALE + t[k], 3) for k in range(3)
        ]


def solid(pool: VertexPool, surfaces: list[Surface], lod: str) -> dict[str, Any]:
    """A ``Solid`` geometry with semantics from ``(semantic, rings)`` surfaces."""
    types: list[str] = []
    values: list[int] = []
    shell = []
    for sem, rings in surfaces:
        shell.append([pool.ring(r) for r in rings])
        if sem not in types:
            types.append(sem)
        values.append(types.index(sem))
    return {
        "type": "Solid",
        "lod": lod,
        "boundaries": [shell],
        "semantics": {"surfaces": [{"type": t} for t in types], "values": [values]},
    }


def multisurface(pool: VertexPool, faces: list[list[Point3]], lod: str, semantic: list[str] | None = None,
                 kind: str = "MultiSurface") -> dict[str, Any]:
    """A ``MultiSurface`` (or ``CompositeSurface``) of single-ring faces, with optional semantics."""
    geom: dict[str, Any] = {
        "type": kind,
        "lod": lod,
        "boundaries": [[pool.ring(f)] for f in faces],
    }
    if semantic is not None:
        types: list[str] = []
        values: list[int] = []
        for s in semantic:
            if s not in types:
                types.append(s)
            values.append(types.index(s))
        geom["semantics"] = {"surfaces": [{"type": t} for t in types], "values": values}
    return geom


def dump_cityjson(header: dict[str, Any], city_objects: dict[str, dict[str, Any]],
                  vertices: list[tuple[int, int, int]]) -> bytes:
    """CityJSON bytes with one city object per line and 8 vertices per line (diff-friendly)."""
    head = orjson.dumps(header)[:-1]  # without the closing brace
    parts = [head, b',"CityObjects":{\n']
    items = list(city_objects.items())
    for k, (oid, obj) in enumerate(items):
        parts.append(orjson.dumps(oid) + b":" + orjson.dumps(obj))
        parts.append(b",\n" if k + 1 < len(items) else b"\n")
    parts.append(b'},"vertices":[\n')
    for k in range(0, len(vertices), 8):
        chunk = orjson.dumps([list(v) for v in vertices[k : k + 8]])[1:-1]
        parts.append(chunk)
        parts.append(b",\n" if k + 8 < len(vertices) else b"\n")
    parts.append(b"]}\n")
    return b"".join(parts)
