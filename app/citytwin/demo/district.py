"""The demo district "Lindenau": a made-up town quarter, generated deterministically.

Everything is computed in a local metric frame (x east, y north, metres) and
rotated/shifted into EPSG:25832 only when vertices are quantised, so the layout
code stays simple. Randomness comes from :class:`random.Random`'s ``random()``
alone, whose sequence Python guarantees across versions for a given seed.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import shapes as sh
from .writer import VertexPool, dump_cityjson, multisurface, solid

CRS_URL = "https://www.opengis.net/def/crs/EPSG/0/25832"
WORLD_OFFSET = (476_650.0, 5_428_420.0)  # EPSG:25832 easting/northing of the local origin (made up)
ROTATION_DEG = 11.0  # street grid bearing
EXTENT = (696.0, 616.0)  # local terrain extent (m)
GRID = 8.0  # terrain grid spacing (m)
NS_X = [40.0 + 88.0 * k for k in range(8)]  # north-south street centre lines
EW_Y = [40.0 + 76.0 * k for k in range(8)]  # east-west street centre lines
MAIN_NS, MAIN_EW = 3, 4  # the two avenues
POND = (392.0 + 44.0, 192.0 + 38.0, 24.0, 16.0)  # centre x, y and semi-axes (block 4, 2)

NS_NAMES = ["Ahornweg", "Birkenstraße", "Goethestraße", "Lindenallee", "Schillerstraße",
            "Uhlandstraße", "Mörikeweg", "Kastanienweg"]
EW_NAMES = ["Am Bach", "Talstraße", "Gartenstraße", "Kirchstraße", "Hauptstraße",
            "Bergstraße", "Hangweg", "Am Weinberg"]


class Rng:
    """Only ``random.random()`` is used: its sequence is stable across Python versions."""

    def __init__(self, seed: int) -> None:
        self._r = random.Random(seed)

    def u(self, a: float = 0.0, b: float = 1.0) -> float:
        return a + (b - a) * self._r.random()

    def i(self, a: int, b: int) -> int:
        """Integer in ``[a, b]``."""
        return a + min(int(self._r.random() * (b - a + 1)), b - a)

    def pick(self, items: list[Any], weights: list[float] | None = None) -> Any:
        w = weights or [1.0] * len(items)
        x = self._r.random() * sum(w)
        for item, wi in zip(items, w):
            x -= wi
            if x < 0:
                return item
        return items[-1]

    def chance(self, p: float) -> bool:
        return self._r.random() < p


def terrain_height(x: float, y: float) -> float:
    """Gentle hills rising to the north-east, with a bowl for the pond."""
    h = 248.0 + 0.02 * x + 0.03 * y
    h += 6.5 * math.sin(2 * math.pi * x / 560.0 + 0.7) * math.cos(2 * math.pi * y / 480.0 - 0.4)
    h += 2.4 * math.sin(2 * math.pi * (x + 0.6 * y) / 330.0 + 1.9)
    px, py, ax, ay = POND
    r = math.hypot((x - px) / (ax * 1.45), (y - py) / (ay * 1.45))
    if r < 1.0:
        h -= 3.0 * (0.5 + 0.5 * math.cos(math.pi * r))
    return h


def local_to_world(x: float, y: float, z: float = 0.0) -> tuple[float, float, float]:
    """EPSG:25832 coordinates of a point given in the district's local frame.

    The local frame is rotated by ``ROTATION_DEG`` about the centre of ``EXTENT``
    (not about the local origin) and shifted by ``WORLD_OFFSET``; use this rather
    than re-deriving the transform.
    """
    px, py = EXTENT[0] / 2.0, EXTENT[1] / 2.0
    a = math.radians(ROTATION_DEG)
    dx, dy = x - px, y - py
    return (WORLD_OFFSET[0] + px + dx * math.cos(a) - dy * math.sin(a),
            WORLD_OFFSET[1] + py + dx * math.sin(a) + dy * math.cos(a), z)


def _round(v: float, nd: int = 2) -> float:
    return round(v, nd)


@dataclass
class District:
    """The generated document plus the counts the generator intended."""

    city_objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    pool: VertexPool | None = None
    counts: Counter[str] = field(default_factory=Counter)
    lod_counts: Counter[str] = field(default_factory=Counter)
    landmarks: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def add(self, oid: str, obj: dict[str, Any]) -> None:
        assert oid not in self.city_objects, oid
        self.city_objects[oid] = obj
        self.counts[obj["type"]] += 1
        for g in obj.get("geometry", []):
            self.lod_counts[g["lod"]] += 1


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = Rng(seed)
        pivot = (EXTENT[0] / 2.0, EXTENT[1] / 2.0)
        self.pool = VertexPool(WORLD_OFFSET, pivot, ROTATION_DEG, (476_500.0, 5_428_300.0, 200.0))
        self.d = District(pool=self.pool)
        self.nb = 0
        self.nt = 0
        self.house_no: Counter[str] = Counter()

    # ------------------------------------------------------------ helpers
    def street_w(self, main: bool) -> float:
        return 22.0 if main else 14.0

    def base_z(self, footprint: list[sh.Point2]) -> float:
        xs = [p[0] for p in footprint]
        ys = [p[1] for p in footprint]
        pts = list(footprint) + [((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)]
        return round(min(terrain_height(x, y) for x, y in pts) - 0.3, 2)

    def next_id(self) -> str:
        self.nb += 1
        return f"BLD_{self.nb:04d}"

    def address(self, street: str) -> dict[str, Any]:
        self.house_no[street] += 1
        return {"street": street, "houseNumber": str(2 * self.house_no[street] - (self.nb % 2))}

    # ------------------------------------------------------------ buildings
    def roof_shape(self, roof: str, r: tuple[float, float, float, float], z0: float, eave: float,
                   ridge: float) -> list[sh.Surface]:
        x0, y0, x1, y1 = r
        along_x = (x1 - x0) >= (y1 - y0)
        if roof == "gabled":
            return sh.gabled(x0, y0, x1, y1, z0, eave, ridge, along_x)
        if roof == "hipped":
            return sh.hipped(x0, y0, x1, y1, z0, eave, ridge, along_x)
        if roof == "shed":
            return sh.shed(x0, y0, x1, y1, z0, eave, ridge, along_x)
        return sh.prism(sh.rect(x0, y0, x1, y1), [], z0, eave)

    def volume(self, footprint: list[sh.Point2], holes: list[list[sh.Point2]], roof: str, z0: float,
               eave: float, ridge: float) -> tuple[list[dict[str, Any]], float]:
        """LoD1 block and LoD2 geometry; returns geometries and the measured height."""
        if roof == "flat" or len(footprint) != 4 or holes:
            ridge = eave
            lod2 = sh.prism(footprint, holes, z0, eave)
        else:
            xs = [p[0] for p in footprint]
            ys = [p[1] for p in footprint]
            lod2 = self.roof_shape(roof, (min(xs), min(ys), max(xs), max(ys)), z0, eave, ridge)
        lod1_top = eave + 0.5 * (ridge - eave)
        lod1 = sh.prism(footprint, holes, z0, lod1_top)
        geoms = [solid(self.pool, lod1, "1"), solid(self.pool, lod2, "2")]
        return geoms, ridge - z0

    def building(self, footprint: list[sh.Point2], roof: str, storeys: int, attrs: dict[str, Any],
                 holes: list[list[sh.Point2]] | None = None, storey_h: float = 3.0, pitch: float = 38.0,
                 parts: list[dict[str, Any]] | None = None) -> str:
        """Add a building (optionally made of BuildingParts, each a dict of the same arguments)."""
        oid = self.next_id()
        if parts:
            child_ids = []
            heights = []
            for k, part in enumerate(parts, 1):
                pid = f"{oid}-{k}"
                geoms, mh, st = self._part_geometry(**part)
                heights.append(mh)
                self.d.add(pid, {
                    "type": "BuildingPart",
                    "attributes": {
                        "roofType": part["roof"],
                        "storeysAboveGround": st,
                        "measuredHeight": _round(mh),
                        **part.get("attrs", {}),
                    },
                    "geometry": geoms,
                    "parents": [oid],
                })
                child_ids.append(pid)
            a = dict(attrs)
            a.setdefault("measuredHeight", _round(max(heights)))
            a.setdefault("storeysAboveGround", max(p["storeys"] for p in parts))
            self.d.add(oid, {"type": "Building", "attributes": _order(a), "geometry": [], "children": child_ids})
            return oid
        geoms, mh, st = self._part_geometry(footprint, roof, storeys, holes or [], storey_h, pitch)
        a = {"roofType": roof, "storeysAboveGround": st, "measuredHeight": _round(mh), **attrs}
        self.d.add(oid, {"type": "Building", "attributes": _order(a), "geometry": geoms})
        return oid

    def _part_geometry(self, footprint: list[sh.Point2], roof: str, storeys: int,
                       holes: list[list[sh.Point2]] | None = None, storey_h: float = 3.0,
                       pitch: float = 38.0, attrs: dict[str, Any] | None = None,
                       z0: float | None = None) -> tuple[list[dict[str, Any]], float, int]:
        if sh.signed_area(footprint) < 0:
            footprint = list(reversed(footprint))
        holes = [h if sh.signed_area(h) < 0 else list(reversed(h)) for h in (holes or [])]
        z = self.base_z(footprint) if z0 is None else z0
        eave = round(z + 0.4 + storeys * storey_h, 2)
        xs = [p[0] for p in footprint]
        ys = [p[1] for p in footprint]
        short = min(max(xs) - min(xs), max(ys) - min(ys))
        if roof == "shed":
            rise = math.tan(math.radians(min(pitch, 18.0))) * short
        elif roof in ("gabled", "hipped"):
            rise = math.tan(math.radians(pitch)) * short / 2.0
        else:
            rise = 0.0
        geoms, mh = self.volume(footprint, holes, roof, z, eave, round(eave + rise, 2))
        return geoms, mh, storeys

    # ------------------------------------------------------------ blocks
    def block_rect(self, i: int, j: int) -> tuple[float, float, float, float]:
        x0 = NS_X[i] + self.street_w(i == MAIN_NS) / 2.0
        x1 = NS_X[i + 1] - self.street_w(i + 1 == MAIN_NS) / 2.0
        y0 = EW_Y[j] + self.street_w(j == MAIN_EW) / 2.0
        y1 = EW_Y[j + 1] - self.street_w(j + 1 == MAIN_EW) / 2.0
        return x0, y0, x1, y1

    def detached(self, i: int, j: int) -> None:
        r = self.rng
        x0, y0, x1, y1 = self.block_rect(i, j)
        n = 4
        pw = (x1 - x0) / n
        ym = (y0 + y1) / 2.0
        for row, street in ((0, EW_NAMES[j]), (1, EW_NAMES[j + 1])):
            for k in range(n):
                w = r.u(9.5, min(13.5, pw - 4.0))
                d = r.u(9.0, 12.0)
                cx = x0 + pw * (k + 0.5) + r.u(-1.0, 1.0)
                setback = r.u(4.0, 7.0)
                fy0 = y0 + setback if row == 0 else y1 - setback - d
                hx0, hx1, hy0, hy1 = cx - w / 2, cx + w / 2, fy0, fy0 + d
                storeys = r.pick([1, 2, 2, 3], [0.25, 0.45, 0.2, 0.1])
                year = r.i(1952, 2021)
                attrs = {"function": "residential", "yearOfConstruction": year, **self.address(street)}
                if r.chance(0.7):  # a tree in the back garden
                    ty = ym - r.u(3.0, 9.0) if row == 0 else ym + r.u(3.0, 9.0)
                    self.tree(x0 + pw * (k + r.u(0.25, 0.75)), ty)
                shape = r.pick(["rect", "L", "garage"], [0.68, 0.14, 0.18])
                if shape == "L":
                    ext = r.u(4.0, 6.0)
                    # wing towards the back of the plot
                    if row == 0:
                        fp = [(hx0, hy0), (hx1, hy0), (hx1, hy1 + ext), (hx1 - 5.0, hy1 + ext), (hx1 - 5.0, hy1),
                              (hx0, hy1)]
                    else:
                        fp = [(hx0, hy0), (hx1 - 5.0, hy0), (hx1 - 5.0, hy0 - ext), (hx1, hy0 - ext),
                              (hx1, hy1), (hx0, hy1)]
                    self.building(fp, "flat", storeys, attrs, storey_h=2.9)
                    continue
                roof = r.pick(["gabled", "hipped", "shed", "flat"], [0.45, 0.3, 0.1, 0.15])
                pitch = r.u(30.0, 45.0)
                fp = sh.rect(hx0, hy0, hx1, hy1)
                if shape == "garage" and hx1 + 3.5 < x0 + pw * (k + 1) - 0.5:
                    gfp = sh.rect(hx1, hy0 + (0.0 if row == 0 else d - 6.0), hx1 + 3.2,
                                  hy0 + (6.0 if row == 0 else d))
                    z = self.base_z(fp)
                    parts = [
                        {"footprint": fp, "roof": roof, "storeys": storeys, "storey_h": 2.9, "pitch": pitch,
                         "z0": z, "attrs": {"partName": "house"}},
                        {"footprint": gfp, "roof": "flat", "storeys": 1, "storey_h": 2.6, "z0": z,
                         "attrs": {"partName": "garage"}},
                    ]
                    self.building(fp, roof, storeys, attrs, parts=parts)
                else:
                    self.building(fp, roof, storeys, attrs, storey_h=2.9, pitch=pitch)

    def row_houses(self, i: int, j: int) -> None:
        r = self.rng
        x0, y0, x1, y1 = self.block_rect(i, j)
        for _ in range(r.i(3, 6)):
            self.tree(r.u(x0 + 6.0, x1 - 6.0), r.u(y0 + 22.0, y1 - 22.0))
        for row, street in ((0, EW_NAMES[j]), (1, EW_NAMES[j + 1])):
            n = r.i(6, 8)
            margin = r.u(3.0, 6.0)
            uw = (x1 - x0 - 2 * margin) / n
            d = r.u(9.5, 11.5)
            setback = r.u(3.0, 5.0)
            fy0 = y0 + setback if row == 0 else y1 - setback - d
            storeys = r.pick([2, 2, 3])
            roof = r.pick(["gabled", "gabled", "flat", "shed"])
            pitch = r.u(35.0, 45.0)
            era = r.i(1925, 1985)
            for k in range(n):
                ux0 = x0 + margin + k * uw
                fp = sh.rect(ux0, fy0, ux0 + uw, fy0 + d)
                st = storeys + (1 if r.chance(0.12) else 0)
                attrs = {"function": "residential", "yearOfConstruction": era + r.i(0, 3),
                         **self.address(street)}
                # the ridge must run along the street even for narrow units
                if roof in ("gabled", "shed"):
                    z = self.base_z(fp)
                    eave = round(z + 0.4 + st * 2.9, 2)
                    rise = math.tan(math.radians(pitch)) * d / 2.0 if roof == "gabled" else 2.2
                    if roof == "gabled":
                        lod2 = sh.gabled(ux0, fy0, ux0 + uw, fy0 + d, z, eave, eave + rise, True)
                    else:
                        lo, hi = (eave, eave + rise)
                        lod2 = sh.shed(ux0, fy0, ux0 + uw, fy0 + d, z, lo, hi, True)
                    lod1 = sh.prism(fp, [], z, eave + rise / 2.0)
                    oid = self.next_id()
                    a = {"roofType": roof, "storeysAboveGround": st,
                         "measuredHeight": _round(eave + rise - z), **attrs}
                    self.d.add(oid, {"type": "Building", "attributes": _order(a),
                                     "geometry": [solid(self.pool, lod1, "1"), solid(self.pool, lod2, "2")]})
                else:
                    self.building(fp, "flat", st, attrs, storey_h=2.9)

    def perimeter(self, i: int, j: int, split: bool, name: str | None = None,
                  function: str | None = None, tower: bool = False,
                  bounds: tuple[float, float, float, float] | None = None) -> None:
        r = self.rng
        bx0, by0, bx1, by1 = bounds or self.block_rect(i, j)
        X0, Y0, X1, Y1 = bx0 + 1.0, by0 + 1.0, bx1 - 1.0, by1 - 1.0
        D = r.u(12.0, 14.0)
        era = r.i(1885, 1932)
        if not tower and (X1 - X0) > 2 * D + 12.0:
            for _ in range(r.i(2, 4)):  # courtyard trees
                self.tree(r.u(X0 + D + 4.0, X1 - D - 4.0), r.u(Y0 + D + 4.0, Y1 - D - 4.0))
        if not split:
            outer = sh.rect(X0, Y0, X1, Y1)
            hole = list(reversed(sh.rect(X0 + D, Y0 + D, X1 - D, Y1 - D)))
            storeys = r.i(4, 6)
            attrs: dict[str, Any] = {"function": function or r.pick(["residential", "mixed-use", "commercial"]),
                                     "yearOfConstruction": era, **self.address(EW_NAMES[j])}
            if name:
                attrs["name"] = name
            if tower:
                xm = (X0 + X1) / 2.0
                tfp = sh.rect(xm - 4.5, Y0 - 9.0, xm + 4.5, Y0)
                parts = [
                    {"footprint": outer, "holes": [hole], "roof": "flat", "storeys": storeys, "storey_h": 3.8,
                     "attrs": {"partName": "main building"}},
                    {"footprint": tfp, "roof": "hipped", "storeys": 8, "storey_h": 3.8, "pitch": 62.0,
                     "attrs": {"partName": "tower"}},
                ]
                self.building(outer, "flat", storeys, attrs, parts=parts)
            else:
                self.building(outer, "flat", storeys, attrs, holes=[hole], storey_h=3.4)
            return
        a = X0 + (X1 - X0) * r.u(0.3, 0.4)
        b = X0 + (X1 - X0) * r.u(0.6, 0.7)
        c = Y0 + (Y1 - Y0) * r.u(0.3, 0.4)
        e = Y0 + (Y1 - Y0) * r.u(0.6, 0.7)
        corners = [
            [(X0, Y0), (a, Y0), (a, Y0 + D), (X0 + D, Y0 + D), (X0 + D, c), (X0, c)],
            [(b, Y0), (X1, Y0), (X1, c), (X1 - D, c), (X1 - D, Y0 + D), (b, Y0 + D)],
            [(X1, e), (X1, Y1), (b, Y1), (b, Y1 - D), (X1 - D, Y1 - D), (X1 - D, e)],
            [(X0, e), (X0 + D, e), (X0 + D, Y1 - D), (a, Y1 - D), (a, Y1), (X0, Y1)],
        ]
        sides = [(a, Y0, b, Y0 + D, EW_NAMES[j]), (a, Y1 - D, b, Y1, EW_NAMES[j + 1]),
                 (X0, c, X0 + D, e, NS_NAMES[i]), (X1 - D, c, X1, e, NS_NAMES[i + 1])]
        streets = [EW_NAMES[j], EW_NAMES[j + 1], EW_NAMES[j + 1], EW_NAMES[j]]
        for fp, street in zip(corners, streets):
            attrs = {"function": r.pick(["mixed-use", "residential", "commercial"]),
                     "yearOfConstruction": era + r.i(0, 12), **self.address(street)}
            self.building(fp, "flat", r.i(4, 6), attrs, storey_h=3.4)
        for sx0, sy0, sx1, sy1, street in sides:
            attrs = {"function": r.pick(["residential", "residential", "mixed-use"]),
                     "yearOfConstruction": era + r.i(0, 20), **self.address(street)}
            roof = r.pick(["gabled", "flat", "hipped"], [0.5, 0.3, 0.2])
            self.building(sh.rect(sx0, sy0, sx1, sy1), roof, r.i(3, 5), attrs, storey_h=3.3,
                          pitch=r.u(35.0, 48.0))

    def offices(self, i: int, j: int) -> None:
        r = self.rng
        x0, y0, x1, y1 = self.block_rect(i, j)
        xm = (x0 + x1) / 2.0
        # west half: podium (L-shaped part) wrapped around a tower (part)
        px0, py0, px1, py1 = x0 + 2.0, y0 + 2.0, xm - 2.0, y1 - 2.0
        tw, td = r.u(14.0, 18.0), r.u(16.0, 22.0)
        tx0, ty1 = px1 - tw, py1
        ty0 = ty1 - td
        podium = [(px0, py0), (px1, py0), (px1, ty0), (tx0, ty0), (tx0, py1), (px0, py1)]
        tower = sh.rect(tx0, ty0, px1, ty1)
        z = self.base_z(sh.rect(px0, py0, px1, py1))
        parts = [
            {"footprint": podium, "roof": "flat", "storeys": r.i(2, 3), "storey_h": 4.2, "z0": z,
             "attrs": {"partName": "podium"}},
            {"footprint": tower, "roof": "flat", "storeys": r.i(9, 16), "storey_h": 3.6, "z0": z,
             "attrs": {"partName": "tower"}},
        ]
        attrs: dict[str, Any] = {"function": "office", "yearOfConstruction": r.i(1968, 2022),
                                 **self.address(NS_NAMES[i])}
        self.building(podium, "flat", 0, attrs, parts=parts)
        # east half: two slabs or one L
        qx0, qx1 = xm + 2.0, x1 - 2.0
        if r.chance(0.5):
            ym = (y0 + y1) / 2.0
            for sy0, sy1, street in ((y0 + 2.0, ym - 3.0, EW_NAMES[j]), (ym + 3.0, y1 - 2.0, EW_NAMES[j + 1])):
                attrs = {"function": r.pick(["office", "commercial"]), "yearOfConstruction": r.i(1965, 2020),
                         **self.address(street)}
                self.building(sh.rect(qx0, sy0, qx1, sy1), "flat", r.i(4, 8), attrs, storey_h=3.6)
        else:
            wing = r.u(12.0, 15.0)
            fp = [(qx0, y0 + 2.0), (qx1, y0 + 2.0), (qx1, y1 - 2.0), (qx1 - wing, y1 - 2.0),
                  (qx1 - wing, y0 + 2.0 + wing), (qx0, y0 + 2.0 + wing)]
            attrs = {"function": "commercial", "yearOfConstruction": r.i(1975, 2015),
                     **self.address(EW_NAMES[j])}
            self.building(fp, "flat", r.i(3, 6), attrs, storey_h=3.8)

    def industrial(self, i: int, j: int) -> None:
        r = self.rng
        x0, y0, x1, y1 = self.block_rect(i, j)
        ym = (y0 + y1) / 2.0
        for hy0, hy1, street in ((y0 + 3.0, ym - 2.0, EW_NAMES[j]), (ym + 2.0, y1 - 3.0, EW_NAMES[j + 1])):
            hx1 = x1 - r.u(3.0, 14.0)
            hall = sh.rect(x0 + 3.0, hy0, hx1, hy1)
            attrs = {"function": "industrial", "yearOfConstruction": r.i(1958, 2005), **self.address(street)}
            roof = r.pick(["shed", "gabled", "flat"])
            self.building(hall, roof, 2, attrs, storey_h=4.5, pitch=r.u(10.0, 16.0))

    def school(self, i: int, j: int, name: str) -> None:
        r = self.rng
        x0, y0, x1, y1 = self.block_rect(i, j)
        wing = 14.0
        fp = [(x0 + 4.0, y0 + 4.0), (x1 - 4.0, y0 + 4.0), (x1 - 4.0, y0 + 4.0 + wing), (x0 + 4.0 + wing, y0 + 4.0 + wing),
              (x0 + 4.0 + wing, y1 - 4.0), (x0 + 4.0, y1 - 4.0)]
        self.building(fp, "flat", 3, {"function": "school", "name": name, "yearOfConstruction": r.i(1955, 1978),
                                      **self.address(EW_NAMES[j])}, storey_h=3.6)
        gym = sh.rect(x1 - 32.0, y1 - 24.0, x1 - 6.0, y1 - 6.0)
        self.building(gym, "gabled", 2, {"function": "sports hall", "name": f"{name} (Sporthalle)",
                                         "yearOfConstruction": r.i(1980, 2012), **self.address(EW_NAMES[j + 1])},
                      storey_h=4.0, pitch=12.0)
        for _ in range(6):
            self.tree(r.u(x0 + 24.0, x1 - 36.0), r.u(y0 + 24.0, y1 - 10.0))

    def church(self, i: int, j: int) -> None:
        x0, y0, x1, y1 = self.block_rect(i, j)
        cx, cy = (x0 + x1) / 2.0 + 4.0, (y0 + y1) / 2.0
        nave = sh.rect(cx - 16.0, cy - 7.5, cx + 20.0, cy + 7.5)
        tower = sh.rect(cx - 26.0, cy - 5.0, cx - 16.0, cy + 5.0)
        z = self.base_z(sh.rect(cx - 26.0, cy - 7.5, cx + 20.0, cy + 7.5))
        parts = [
            {"footprint": nave, "roof": "gabled", "storeys": 3, "storey_h": 4.6, "pitch": 52.0, "z0": z,
             "attrs": {"partName": "nave"}},
            {"footprint": tower, "roof": "hipped", "storeys": 9, "storey_h": 4.4, "pitch": 74.0, "z0": z,
             "attrs": {"partName": "tower"}},
        ]
        self.building(nave, "gabled", 3, {"function": "church", "name": "St. Marien", "yearOfConstruction": 1892,
                                          **self.address(EW_NAMES[j + 1])}, parts=parts)
        self.d.landmarks["church"] = (cx - 21.0, cy, z + 40.0)
        for k in range(5):
            self.tree(x0 + 8.0 + k * (x1 - x0 - 16.0) / 4.0, y0 + 6.0)
            self.tree(x0 + 8.0 + k * (x1 - x0 - 16.0) / 4.0, y1 - 6.0)

    def park(self, i: int, j: int) -> None:
        r = self.rng
        x0, y0, x1, y1 = self.block_rect(i, j)
        px, py, ax, ay = POND
        ring = [(px + ax * math.cos(2 * math.pi * k / 32), py + ay * math.sin(2 * math.pi * k / 32))
                for k in range(32)]
        level = round(max(terrain_height(x, y) for x, y in ring) + 0.05, 2)
        self.d.add("WATER_0001", {
            "type": "WaterBody",
            "attributes": {"name": "Schwanenteich", "function": "pond", "class": "stagnant water"},
            "geometry": [multisurface(self.pool, [[(x, y, level) for x, y in ring]], "1", ["WaterSurface"])],
        })
        self.d.landmarks["pond"] = (px, py, level)
        placed = 0
        while placed < 22:
            tx, ty = r.u(x0 + 4.0, x1 - 4.0), r.u(y0 + 4.0, y1 - 4.0)
            if ((tx - px) / (ax + 6.0)) ** 2 + ((ty - py) / (ay + 6.0)) ** 2 < 1.0:
                continue
            self.tree(tx, ty)
            placed += 1

    # ------------------------------------------------------------ vegetation
    def tree(self, x: float, y: float, species: str | None = None) -> None:
        r = self.rng
        species = species or r.pick(["Tilia cordata", "Acer platanoides", "Quercus robur", "Picea abies",
                                     "Aesculus hippocastanum"], [0.3, 0.25, 0.2, 0.1, 0.15])
        z = round(terrain_height(x, y) - 0.2, 2)
        h = r.u(9.0, 18.0)
        conifer = species == "Picea abies"
        crown_r = r.u(2.0, 3.0) if conifer else r.u(2.8, 5.0)
        trunk_top = z + (1.8 if conifer else h * 0.28)
        t = 0.25 + h / 60.0
        faces = sh.box(x - t, y - t, x + t, y + t, z, trunk_top + 0.3)
        if conifer:
            faces += sh.cone(x, y, trunk_top, z + h, crown_r, 8)
        else:  # a bicone: inverted cone below, cone above the widest ring
            mid = trunk_top + (z + h - trunk_top) * 0.32
            lower = sh.cone(x, y, mid, trunk_top, crown_r, 8)[1:]
            lower = [list(reversed(f)) for f in lower]
            faces += lower + sh.cone(x, y, mid, z + h, crown_r, 8)[1:]
        self.nt += 1
        self.d.add(f"TREE_{self.nt:04d}", {
            "type": "SolitaryVegetationObject",
            "attributes": {"species": species, "height": _round(h, 1), "crownDiameter": _round(2 * crown_r, 1),
                           "trunkDiameter": _round(2 * t, 2)},
            "geometry": [multisurface(self.pool, faces, "1")],
        })

    # ------------------------------------------------------------ terrain & roads
    def terrain(self) -> None:
        nx, ny = int(EXTENT[0] / GRID), int(EXTENT[1] / GRID)
        z = [[terrain_height(ix * GRID, iy * GRID) for ix in range(nx + 1)] for iy in range(ny + 1)]
        faces = []
        for iy in range(ny):
            for ix in range(nx):
                p00 = (ix * GRID, iy * GRID, z[iy][ix])
                p10 = ((ix + 1) * GRID, iy * GRID, z[iy][ix + 1])
                p11 = ((ix + 1) * GRID, (iy + 1) * GRID, z[iy + 1][ix + 1])
                p01 = (ix * GRID, (iy + 1) * GRID, z[iy + 1][ix])
                if (ix + iy) % 2 == 0:
                    faces += [[p00, p10, p11], [p00, p11, p01]]
                else:
                    faces += [[p00, p10, p01], [p10, p11, p01]]
        self.d.add("TERRAIN_0001", {
            "type": "TINRelief",
            "attributes": {"name": "Lindenau terrain", "gridSpacing": GRID},
            "geometry": [multisurface(self.pool, faces, "2", kind="CompositeSurface")],
        })

    def road_z(self, pts: list[sh.Point2]) -> float:
        return max(terrain_height(x, y) for x, y in pts) + 0.12

    def roads(self) -> None:
        X, Y = EXTENT
        ew_spans = [(y - self.street_w(k == MAIN_EW) / 2, y + self.street_w(k == MAIN_EW) / 2)
                    for k, y in enumerate(EW_Y)]
        ns_spans = [(x - self.street_w(k == MAIN_NS) / 2, x + self.street_w(k == MAIN_NS) / 2)
                    for k, x in enumerate(NS_X)]
        for k, cx in enumerate(NS_X):
            main = k == MAIN_NS
            w = self.street_w(main)
            cw = w - (7.0 if main else 5.0)
            stations = sorted({*[GRID * s for s in range(int(Y / GRID) + 1)], *[v for s in ew_spans for v in s]})
            faces, sems = [], []
            xa, xb, xc, xd = cx - w / 2, cx - cw / 2, cx + cw / 2, cx + w / 2
            zs = [self.road_z([(xa, s), (cx, s), (xd, s)]) for s in stations]
            for s0, s1, z0, z1 in zip(stations, stations[1:], zs, zs[1:]):
                crossing = any(a <= s0 and s1 <= b for a, b in ew_spans)
                faces.append([(xb, s0, z0), (xc, s0, z0), (xc, s1, z1), (xb, s1, z1)])
                sems.append("TrafficArea")
                for ua, ub in ((xa, xb), (xc, xd)):
                    dz = 0.0 if crossing else 0.12
                    faces.append([(ua, s0, z0 + dz), (ub, s0, z0 + dz), (ub, s1, z1 + dz), (ua, s1, z1 + dz)])
                    sems.append("TrafficArea" if crossing else "AuxiliaryTrafficArea")
            self._road(f"ROAD_NS_{k + 1:02d}", NS_NAMES[k], main, faces, sems, cw)
        for k, cy in enumerate(EW_Y):
            main = k == MAIN_EW
            w = self.street_w(main)
            cw = w - (7.0 if main else 5.0)
            ya, yb, yc, yd = cy - w / 2, cy - cw / 2, cy + cw / 2, cy + w / 2
            faces, sems = [], []
            bounds = [0.0] + [v for s in ns_spans for v in s] + [X]
            for s_start, s_end in zip(bounds[::2], bounds[1::2]):
                stations = sorted({s_start, s_end, *[GRID * s for s in range(int(X / GRID) + 1)
                                                     if s_start < GRID * s < s_end]})
                zs = [self.road_z([(s, ya), (s, cy), (s, yd)]) for s in stations]
                for s0, s1, z0, z1 in zip(stations, stations[1:], zs, zs[1:]):
                    faces.append([(s0, yb, z0), (s1, yb, z1), (s1, yc, z1), (s0, yc, z0)])
                    sems.append("TrafficArea")
                    for va, vb in ((ya, yb), (yc, yd)):
                        faces.append([(s0, va, z0 + 0.12), (s1, va, z1 + 0.12), (s1, vb, z1 + 0.12),
                                      (s0, vb, z0 + 0.12)])
                        sems.append("AuxiliaryTrafficArea")
            self._road(f"ROAD_EW_{k + 1:02d}", EW_NAMES[k], main, faces, sems, cw)

    def _road(self, oid: str, name: str, main: bool, faces: list[list[sh.Point3]], sems: list[str],
              cw: float) -> None:
        self.d.add(oid, {
            "type": "Road",
            "attributes": {"name": name, "function": "main road" if main else "residential street",
                           "surfaceMaterial": "asphalt", "lanes": 4 if main else 2,
                           "carriagewayWidth": _round(cw, 1)},
            "geometry": [multisurface(self.pool, faces, "2", sems)],
        })

    def avenue_trees(self) -> None:
        cx = NS_X[MAIN_NS]
        w = self.street_w(True)
        spans = [(y - self.street_w(k == MAIN_EW) / 2 - 3.0, y + self.street_w(k == MAIN_EW) / 2 + 3.0)
                 for k, y in enumerate(EW_Y)]
        y = 6.0
        while y < EXTENT[1] - 6.0:
            if not any(a <= y <= b for a, b in spans):
                self.tree(cx - w / 2 + 1.6, y, "Tilia cordata")
                self.tree(cx + w / 2 - 1.6, y, "Tilia cordata")
            y += 14.0

    # ------------------------------------------------------------ plan
    def run(self) -> District:
        r = self.rng
        self.terrain()
        self.roads()
        special = {(3, 4): "townhall", (2, 4): "church", (4, 2): "park", (1, 1): "school1", (5, 5): "school2"}
        for j in range(7):
            for i in range(7):
                kind = special.get((i, j))
                d = max(abs(i - 3), abs(j - 3.5))
                if kind == "townhall":
                    x0, y0, x1, y1 = self.block_rect(i, j)
                    self.perimeter(i, j, False, name="Rathaus Lindenau", function="public administration",
                                   tower=True, bounds=(x0 + 6.0, y0 + 22.0, x1 - 6.0, y1 - 2.0))
                    self.d.landmarks["townhall"] = ((x0 + x1) / 2, y0 + 14.0, self.base_z(sh.rect(x0, y0, x1, y1)))
                    for k in range(4):
                        self.tree(x0 + 8.0 + k * (x1 - x0 - 16.0) / 3.0, y0 + 5.0)
                elif kind == "church":
                    self.church(i, j)
                elif kind == "park":
                    self.park(i, j)
                elif kind == "school1":
                    self.school(i, j, "Lindenschule")
                elif kind == "school2":
                    self.school(i, j, "Gymnasium am Hang")
                elif d <= 1.0:
                    t = r.pick(["offices", "perimeter", "split"], [0.4, 0.3, 0.3])
                    if t == "offices":
                        self.offices(i, j)
                    else:
                        self.perimeter(i, j, t == "split")
                elif d <= 2.0:
                    t = r.pick(["perimeter", "split", "row", "detached"], [0.15, 0.25, 0.3, 0.3])
                    if t in ("perimeter", "split"):
                        self.perimeter(i, j, t == "split")
                    elif t == "row":
                        self.row_houses(i, j)
                    else:
                        self.detached(i, j)
                else:
                    t = r.pick(["detached", "row", "industrial"], [0.55, 0.2, 0.25] if i == 6 else [0.75, 0.25, 0.0])
                    getattr(self, {"detached": "detached", "row": "row_houses", "industrial": "industrial"}[t])(i, j)
        self.avenue_trees()
        return self.d


_ATTR_ORDER = ("name", "function", "roofType", "storeysAboveGround", "measuredHeight", "yearOfConstruction",
               "street", "houseNumber")


def _order(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {k: attrs[k] for k in _ATTR_ORDER if k in attrs}
    out.update({k: v for k, v in attrs.items() if k not in out})
    return out


def build_district(seed: int = 7) -> District:
    """Generate the district in memory (objects, vertex pool, intended counts)."""
    return _Gen(seed).run()


def district_bytes(seed: int = 7) -> tuple[bytes, District]:
    """The CityJSON 2.0 document of the district, as bytes."""
    d = build_district(seed)
    assert d.pool is not None
    header = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": list(d.pool.translate)},
        "metadata": {
            "identifier": f"citytwin-demo-lindenau-seed{seed}",
            "title": "Lindenau demo district (synthetic, generated by citytwin.demo; not a real place)",
            "referenceDate": "2026-01-01",
            "referenceSystem": CRS_URL,
            "geographicalExtent": d.pool.extent(),
        },
    }
    return dump_cityjson(header, d.city_objects, d.pool.vertices), d
