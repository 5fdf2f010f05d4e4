"""Closed building shapes as lists of semantic surfaces (pure Python, deterministic).

A shape is a list of ``(semantic, rings)`` where ``rings`` is a list of rings of
``(x, y, z)`` tuples, the exterior first; every surface faces outwards (exterior
counter-clockwise seen from outside, holes the other way), as CityJSON wants.
Footprints are given counter-clockwise seen from above.
"""

from __future__ import annotations

from collections.abc import Sequence

Point2 = tuple[float, float]
Point3 = tuple[float, float, float]
Ring = list[Point3]
Surface = tuple[str, list[Ring]]

ROOF, WALL, GROUND = "RoofSurface", "WallSurface", "GroundSurface"


def signed_area(ring: Sequence[Point2]) -> float:
    """Shoelace area, positive for counter-clockwise rings."""
    a = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i][0], ring[i][1]
        x1, y1 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        a += x0 * y1 - x1 * y0
    return a / 2.0


def _at(ring: Sequence[Point2], z: float) -> Ring:
    return [(p[0], p[1], z) for p in ring]


def _walls(ring: Sequence[Point2], z0: float, z1: float) -> list[Surface]:
    """Walls below every edge of ``ring`` (CCW exterior or CW hole: both face out)."""
    out: list[Surface] = []
    n = len(ring)
    for i in range(n):
        (ax, ay), (bx, by) = ring[i], ring[(i + 1) % n]
        out.append((WALL, [[(ax, ay, z0), (bx, by, z0), (bx, by, z1), (ax, ay, z1)]]))
    return out


def prism(outer: Sequence[Point2], holes: Sequence[Sequence[Point2]], z0: float, z1: float) -> list[Surface]:
    """A flat-roofed extrusion of a footprint with optional courtyards (LoD1 block, flat LoD2)."""
    holes = [list(h) for h in holes]
    ground = [list(reversed(_at(outer, z0)))] + [list(reversed(_at(h, z0))) for h in holes]
    roof = [_at(outer, z1)] + [_at(h, z1) for h in holes]
    surfaces: list[Surface] = [(GROUND, ground), (ROOF, roof)]
    surfaces += _walls(outer, z0, z1)
    for h in holes:
        surfaces += _walls(h, z0, z1)
    return surfaces


def _rect_frame(x0: float, y0: float, x1: float, y1: float, along_x: bool):
    """Map a canonical frame (ridge along u) to the rectangle; returns (u0, v0, u1, v1, to_xy, mirrored)."""
    if along_x:
        return x0, y0, x1, y1, (lambda u, v, z: (u, v, z)), False
    # swap axes: a reflection, so every ring must be reversed afterwards
    return y0, x0, y1, x1, (lambda u, v, z: (v, u, z)), True


def _finish(surfaces: list[tuple[str, list[Point3]]], to_xy, mirrored: bool) -> list[Surface]:
    out: list[Surface] = []
    for sem, ring in surfaces:
        pts = [to_xy(*p) for p in ring]
        if mirrored:
            pts.reverse()
        out.append((sem, [pts]))
    return out


def _box_ground(u0: float, v0: float, u1: float, v1: float, z0: float) -> tuple[str, list[Point3]]:
    return (GROUND, [(u0, v0, z0), (u0, v1, z0), (u1, v1, z0), (u1, v0, z0)])


def gabled(x0: float, y0: float, x1: float, y1: float, z0: float, eave: float, ridge: float,
           along_x: bool) -> list[Surface]:
    """Rectangle with a gabled roof, ridge along x (``along_x``) or y, gable walls at the ends."""
    u0, v0, u1, v1, to_xy, mir = _rect_frame(x0, y0, x1, y1, along_x)
    vm = (v0 + v1) / 2.0
    s = [
        _box_ground(u0, v0, u1, v1, z0),
        (WALL, [(u0, v0, z0), (u1, v0, z0), (u1, v0, eave), (u0, v0, eave)]),
        (WALL, [(u1, v0, z0), (u1, v1, z0), (u1, v1, eave), (u1, vm, ridge), (u1, v0, eave)]),
        (WALL, [(u1, v1, z0), (u0, v1, z0), (u0, v1, eave), (u1, v1, eave)]),
        (WALL, [(u0, v1, z0), (u0, v0, z0), (u0, v0, eave), (u0, vm, ridge), (u0, v1, eave)]),
        (ROOF, [(u0, v0, eave), (u1, v0, eave), (u1, vm, ridge), (u0, vm, ridge)]),
        (ROOF, [(u1, v1, eave), (u0, v1, eave), (u0, vm, ridge), (u1, vm, ridge)]),
    ]
    return _finish(s, to_xy, mir)


def _box_walls(u0: float, v0: float, u1: float, v1: float, z0: float, z1: float) -> list[tuple[str, list[Point3]]]:
    return [
        (WALL, [(u0, v0, z0), (u1, v0, z0), (u1, v0, z1), (u0, v0, z1)]),
        (WALL, [(u1, v0, z0), (u1, v1, z0), (u1, v1, z1), (u1, v0, z1)]),
        (WALL, [(u1, v1, z0), (u0, v1, z0), (u0, v1, z1), (u1, v1, z1)]),
        (WALL, [(u0, v1, z0), (u0, v0, z0), (u0, v0, z1), (u0, v1, z1)]),
    ]


def hipped(x0: float, y0: float, x1: float, y1: float, z0: float, eave: float, ridge: float,
           along_x: bool) -> list[Surface]:
    """Rectangle with a hipped roof (equal pitch on all sides); a pyramid when nearly square."""
    u0, v0, u1, v1, to_xy, mir = _rect_frame(x0, y0, x1, y1, along_x)
    vm = (v0 + v1) / 2.0
    inset = (v1 - v0) / 2.0
    s = [_box_ground(u0, v0, u1, v1, z0)] + _box_walls(u0, v0, u1, v1, z0, eave)
    if (u1 - u0) - 2 * inset < 0.5:  # pyramid
        um = (u0 + u1) / 2.0
        apex = (um, vm, ridge)
        s += [
            (ROOF, [(u0, v0, eave), (u1, v0, eave), apex]),
            (ROOF, [(u1, v0, eave), (u1, v1, eave), apex]),
            (ROOF, [(u1, v1, eave), (u0, v1, eave), apex]),
            (ROOF, [(u0, v1, eave), (u0, v0, eave), apex]),
        ]
    else:
        r0, r1 = (u0 + inset, vm, ridge), (u1 - inset, vm, ridge)
        s += [
            (ROOF, [(u0, v0, eave), (u1, v0, eave), r1, r0]),
            (ROOF, [(u1, v0, eave), (u1, v1, eave), r1]),
            (ROOF, [(u1, v1, eave), (u0, v1, eave), r0, r1]),
            (ROOF, [(u0, v1, eave), (u0, v0, eave), r0]),
        ]
    return _finish(s, to_xy, mir)


def shed(x0: float, y0: float, x1: float, y1: float, z0: float, low: float, high: float,
         along_x: bool) -> list[Surface]:
    """Rectangle with a mono-pitch (shed) roof rising towards the high v side."""
    u0, v0, u1, v1, to_xy, mir = _rect_frame(x0, y0, x1, y1, along_x)
    s = [
        _box_ground(u0, v0, u1, v1, z0),
        (WALL, [(u0, v0, z0), (u1, v0, z0), (u1, v0, low), (u0, v0, low)]),
        (WALL, [(u1, v0, z0), (u1, v1, z0), (u1, v1, high), (u1, v0, low)]),
        (WALL, [(u1, v1, z0), (u0, v1, z0), (u0, v1, high), (u1, v1, high)]),
        (WALL, [(u0, v1, z0), (u0, v0, z0), (u0, v0, low), (u0, v1, high)]),
        (ROOF, [(u0, v0, low), (u1, v0, low), (u1, v1, high), (u0, v1, high)]),
    ]
    return _finish(s, to_xy, mir)


def rect(x0: float, y0: float, x1: float, y1: float) -> list[Point2]:
    """Counter-clockwise rectangle."""
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def cone(cx: float, cy: float, z0: float, z1: float, r: float, sides: int = 8) -> list[list[Point3]]:
    """An upright cone (tree crown): base polygon facing down and ``sides`` triangles."""
    import math

    ring = [
        (cx + r * math.cos(2 * math.pi * k / sides), cy + r * math.sin(2 * math.pi * k / sides), z0)
        for k in range(sides)
    ]
    apex = (cx, cy, z1)
    faces = [list(reversed(ring))]
    faces += [[ring[k], ring[(k + 1) % sides], apex] for k in range(sides)]
    return faces


def box(x0: float, y0: float, x1: float, y1: float, z0: float, z1: float) -> list[list[Point3]]:
    """The six faces of an axis-aligned box, outward."""
    return [rings[0] for _, rings in prism(rect(x0, y0, x1, y1), [], z0, z1)]
