"""Urban-design indicators of a model, for the whole scene or a site, vectorised.

A building is a top-level object whose type is a building (its parts rolled up into it).
Per building, from the polygons of its highest LoD (LoD0 footprints where it has them):

footprint
    the plan area of its footprint: LoD0 polygons, else its GroundSurfaces, else its
    downward-facing polygons, else its upward-facing ones (each polygon's plan area; the
    first kind it has wins), summed, or united (shapely) where they lie at levels more than
    0.5 m apart (a part standing on another part, an overhang: they may overlap in plan). Its
    centroid (area-weighted) places it in a site.
height
    ``measuredHeight`` where given, else the top of its geometry minus the lowest point of
    its footprint polygons (its lowest point when only upward-facing ones stand in).
storeys
    ``storeysAboveGround`` where given, else ``max(1, round(height / storey height))``.
volume
    ``|Σ plan area × (z at the polygon's centroid − ground)|`` over its polygons (the
    divergence theorem for z; exact for closed, outward-facing shells, and an open shell
    without a bottom loses nothing since the bottom sits at the ground).

Scene indicators: buildings, footprint, gross floor area (footprint × storeys), mean and
max height, built volume; with a site (a building belongs to it when its footprint centroid
lies inside): site area, floor area ratio (GFA / site area), site coverage (footprint /
site area) and open-space ratio (1 − coverage). Each names the U4SSC KPI it feeds
(:data:`KPI`; ITU-T Y.4903 numbering) where one exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.city import CityModel
from ..model.semantics import SEMANTICS

__all__ = ["BuildingTable", "KPI", "LABELS", "building_table", "indicators", "read_site"]

# indicator -> (label, unit, U4SSC KPI it feeds or None)
_UP = "EC: I: UP: 2A Urban Development and Spatial Planning (compactness)"
LABELS: dict[str, tuple[str, str]] = {
    "buildings": ("Buildings", ""),
    "footprint_m2": ("Footprint area", "m²"),
    "gfa_m2": ("Gross floor area", "m²"),
    "mean_height_m": ("Mean height", "m"),
    "max_height_m": ("Max height", "m"),
    "volume_m3": ("Built volume", "m³"),
    "site_area_m2": ("Site area", "m²"),
    "far": ("Floor area ratio", ""),
    "coverage": ("Site coverage", ""),
    "open_space_ratio": ("Open-space ratio", ""),
    "flooded_buildings": ("Buildings flooded", ""),
    "flood_level_m": ("Flood level", "m"),
    "roof_area_m2": ("Roof area", "m²"),
    "roof_irradiation_kwh": ("Roof solar irradiation", "kWh"),
    "roof_sun_hours": ("Mean roof sun hours", "h"),
}
KPI: dict[str, str | None] = {
    "buildings": None,
    "footprint_m2": _UP,
    "gfa_m2": _UP,
    "mean_height_m": _UP,
    "max_height_m": _UP,
    "volume_m3": _UP,
    "site_area_m2": None,
    "far": _UP,
    "coverage": _UP,
    "open_space_ratio": "Environment ▸ Public Space and Nature: Green Areas (open space bounds green area from above)",
    "flooded_buildings": "SC: SH: SA: 4A Population Living in Disaster Prone Areas (buildings, not people)",
    "flood_level_m": None,
    "roof_area_m2": None,
    "roof_irradiation_kwh": "Environment ▸ Energy: Renewable Energy Consumption (the roofs' potential)",
    "roof_sun_hours": None,
}
_BUILDING_TYPES = ("Building", "BuildingPart")
_GROUND = SEMANTICS.index("GroundSurface")
STACKED_M = 0.5  # footprint polygons this far apart in height may overlap in plan


@dataclass
class BuildingTable:
    """Per building (``index``: its row in the model's object table)."""

    index: NDArray[np.int64]
    ids: list[str]
    footprint_m2: NDArray[np.float64]
    centroid: NDArray[np.float64]  # (B, 2) world CRS; NaN without a footprint
    ground_m: NDArray[np.float64]
    height_m: NDArray[np.float64]
    storeys: NDArray[np.float64]
    volume_m3: NDArray[np.float64]
    storey_height: float = 3.0

    @property
    def gfa_m2(self) -> NDArray[np.float64]:
        return self.footprint_m2 * self.storeys

    def __len__(self) -> int:
        return len(self.index)

    def subset(self, mask: NDArray[np.bool_]) -> BuildingTable:
        return BuildingTable(self.index[mask], [i for i, k in zip(self.ids, mask.tolist()) if k],
                             self.footprint_m2[mask], self.centroid[mask], self.ground_m[mask],
                             self.height_m[mask], self.storeys[mask], self.volume_m3[mask], self.storey_height)


def _roots(model: CityModel) -> NDArray[np.int64]:
    from ..sim.flood import object_roots

    return object_roots(model)


def _number_attr(attrs: list[dict[str, Any]], idx: NDArray[np.int64], keys: tuple[str, ...]) -> NDArray[np.float64]:
    out = np.full(len(idx), np.nan)
    for k, i in enumerate(idx.tolist()):
        a = attrs[i]
        for key in keys:
            v = a.get(key)
            if isinstance(v, dict):
                v = v.get("value")
            if v is None or isinstance(v, bool):
                continue
            try:
                f = float(v)
            except (TypeError, ValueError):
                continue
            if math.isfinite(f):
                out[k] = f
                break
    return out


def building_table(model: CityModel, storey_height: float = 3.0) -> BuildingTable:
    """Footprint, centroid, ground, height, storeys and volume of every building."""
    n_obj = model.n_objects
    types = model.objects.types
    roots = _roots(model)
    is_root_building = np.zeros(n_obj, bool)
    top = np.flatnonzero(roots == np.arange(n_obj))
    is_root_building[top] = [types[i].split(":")[-1].lstrip("+") in _BUILDING_TYPES for i in top.tolist()]
    index = np.flatnonzero(is_root_building)
    slot = np.full(n_obj, -1, np.int64)
    slot[index] = np.arange(len(index))
    p = model.polygons
    poly_b = slot[roots[p.object]]
    sel = np.flatnonzero(poly_b >= 0)
    B = len(index)
    # per polygon of a building: plan signed area, plan moments, z at the plan centroid
    n_rings = np.diff(p.poly_ring_offsets)
    ring_sizes = np.diff(p.ring_offsets)
    rsel = np.repeat(np.isin(np.arange(len(n_rings)), sel) if len(sel) < len(n_rings) else np.ones(len(n_rings), bool),
                     n_rings)
    csel = np.repeat(rsel, ring_sizes)
    ri = p.ring_idx[csel].astype(np.int64)
    rs = ring_sizes[rsel]
    ro = np.concatenate([[0], np.cumsum(rs)]).astype(np.int64)
    pn = n_rings[sel]
    v = model.vertices[ri].astype(np.float64)
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    nxt = np.arange(1, len(ri) + 1)
    ends = ro[1:] - 1
    ok = rs > 0
    nxt[ends[ok]] = ro[:-1][ok]
    cross = x * y[nxt] - x[nxt] * y
    starts = ro[:-1][ok]
    def ring_sum(a: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros(len(rs))
        if len(a):
            out[ok] = np.add.reduceat(a, starts)
        return out
    r_area = 0.5 * ring_sum(cross)
    r_mx = ring_sum((x + x[nxt]) * cross) / 6.0
    r_my = ring_sum((y + y[nxt]) * cross) / 6.0
    ring_poly = np.repeat(np.arange(len(sel)), pn)
    P = len(sel)
    a_p = np.bincount(ring_poly, r_area, P)
    mx_p = np.bincount(ring_poly, r_mx, P)
    my_p = np.bincount(ring_poly, r_my, P)
    first_ring = np.concatenate([[0], np.cumsum(pn)])[:-1].astype(np.int64)
    # ∫ z dA_xy per polygon: each ring fanned from its first corner (signed, exact for planar rings)
    ring_of_corner = np.repeat(np.arange(len(rs)), rs)
    c0 = ro[:-1][ring_of_corner]
    fan = (x - x[c0]) * (y[nxt] - y[c0]) - (x[nxt] - x[c0]) * (y - y[c0])
    zdA_p = np.bincount(ring_poly, ring_sum(fan * (z[c0] + z + z[nxt])) / 6.0, P)
    # per polygon z range (its rings' corners are contiguous)
    poly_start = ro[first_ring] if P else np.zeros(0, np.int64)
    has = (np.add.reduceat(rs, first_ring) > 0) if P else np.zeros(0, bool)
    zlo_p = np.full(P, np.inf)
    zhi_p = np.full(P, -np.inf)
    if has.any():
        zlo_p[has] = np.minimum.reduceat(z, poly_start[has])
        zhi_p[has] = np.maximum.reduceat(z, poly_start[has])
    b_of = poly_b[sel]
    lod = p.lod[sel].astype(np.int64)
    lod0 = lod == 0
    lodk = np.where(lod == 255, -1, lod)
    best = np.full(B, -2, np.int64)
    np.maximum.at(best, b_of[~lod0], lodk[~lod0])
    at_best = ~lod0 & (lodk == best[b_of])
    ground = p.semantic[sel] == _GROUND
    cls = np.zeros(P, np.int64)
    cls[at_best & (a_p > 1e-9)] = 1  # facing up
    cls[at_best & (a_p < -1e-9)] = 2  # facing down
    cls[at_best & ground] = 3
    cls[lod0 & (np.abs(a_p) > 1e-9)] = 4
    best_cls = np.zeros(B, np.int64)
    np.maximum.at(best_cls, b_of, cls)
    fp = (cls == best_cls[b_of]) & (cls > 0)
    # ground: the lowest point of the footprint polygons (of everything at the best LoD when only
    # upward faces stand for the footprint); top: the highest point at the best LoD
    ground_z = np.full(B, np.inf)
    down = fp & (best_cls[b_of] >= 2)
    np.minimum.at(ground_z, b_of[down], zlo_p[down])
    low_all = np.full(B, np.inf)
    anyp = at_best | lod0
    np.minimum.at(low_all, b_of[anyp], zlo_p[anyp])
    ground_z = np.where(np.isfinite(ground_z), ground_z, low_all)
    top_z = np.full(B, -np.inf)
    np.maximum.at(top_z, b_of[at_best], zhi_p[at_best])
    # a part's floor more than STACKED_M above the building's ground stands on another part
    # (or overhangs): it is not footprint, or stacked parts would count twice
    # footprint polygons at different levels may overlap in plan (a part standing on another, an
    # overhang): those buildings get the exact union of their footprint polygons (shapely)
    top_fp = np.full(B, -np.inf)
    np.maximum.at(top_fp, b_of[fp], zlo_p[fp])
    stacked = top_fp - np.where(np.isfinite(ground_z), ground_z, top_fp) > STACKED_M
    w = np.abs(a_p[fp])
    sgn = np.sign(a_p[fp])
    fb = b_of[fp]
    footprint = np.bincount(fb, w, B).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cen = np.column_stack([np.bincount(fb, mx_p[fp] * sgn, B), np.bincount(fb, my_p[fp] * sgn, B)]) \
            / footprint[:, None]
    if stacked.any():
        _overlapping(stacked, fp, b_of, zlo_p, first_ring, pn, ro, x, y, footprint, cen)
    cen = cen + model.origin[:2]
    geom_h = np.where(np.isfinite(top_z) & np.isfinite(ground_z), top_z - ground_z, np.nan)
    attrs = model.objects.attributes
    measured = _number_attr(attrs, index, ("measuredHeight", "measuredheight"))
    height = np.where(np.isfinite(measured), measured, geom_h)
    st_attr = _number_attr(attrs, index, ("storeysAboveGround",))
    with np.errstate(invalid="ignore"):
        st_est = np.maximum(1.0, np.round(np.nan_to_num(height, nan=0.0) / storey_height))
    storeys = np.where(np.isfinite(st_attr) & (st_attr > 0), st_attr, st_est)
    vol_sel = at_best
    s1 = np.bincount(b_of[vol_sel], zdA_p[vol_sel], B)
    s0 = np.bincount(b_of[vol_sel], a_p[vol_sel], B)
    g = np.where(np.isfinite(ground_z), ground_z, 0.0)
    volume = np.abs(s1 - g * s0)
    return BuildingTable(index=index, ids=[model.objects.ids[i] for i in index.tolist()], footprint_m2=footprint,
                         centroid=cen, ground_m=ground_z + model.origin[2], height_m=height, storeys=storeys,
                         volume_m3=volume, storey_height=storey_height)


def _polygons(polys: NDArray[np.int64], first_ring: NDArray[np.int64], pn: NDArray[np.int64],
              ro: NDArray[np.int64], x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.object_]:
    """Shapely polygons (plan) of the selected polygons, made in one vectorised call."""
    import shapely

    rings = np.concatenate([np.arange(first_ring[k], first_ring[k] + pn[k]) for k in polys.tolist()])
    ring_poly = np.repeat(np.arange(len(polys)), pn[polys])
    sizes = ro[rings + 1] - ro[rings]
    corner = np.concatenate([np.arange(ro[r], ro[r + 1]) for r in rings.tolist()])
    lr = shapely.linearrings(np.column_stack([x[corner], y[corner]]), indices=np.repeat(np.arange(len(rings)), sizes))
    return shapely.make_valid(shapely.polygons(lr, indices=ring_poly))


def _overlapping(stacked: NDArray[np.bool_], fp: NDArray[np.bool_], b_of: NDArray[np.int64],
                 zlo_p: NDArray[np.float64], first_ring: NDArray[np.int64], pn: NDArray[np.int64],
                 ro: NDArray[np.int64], x: NDArray[np.float64], y: NDArray[np.float64],
                 footprint: NDArray[np.float64], cen: NDArray[np.float64]) -> None:
    """Buildings whose footprint polygons at levels more than STACKED_M apart overlap in plan
    get the area and centroid of their union (in place); the pairs are tested in one
    vectorised intersection, the unions made only where one overlaps."""
    import shapely

    polys = np.flatnonzero(fp & stacked[b_of])
    shp = _polygons(polys, first_ring, pn, ro, x, y)
    owner = b_of[polys]
    order = np.argsort(owner, kind="stable")
    cuts = np.flatnonzero(np.diff(owner[order])) + 1
    groups = np.split(order, cuts)
    ii, jj = [], []
    for g in groups:
        z = zlo_p[polys[g]]
        a, b = np.nonzero(np.triu(np.abs(z[:, None] - z[None, :]) > STACKED_M, 1))
        ii.append(g[a])
        jj.append(g[b])
    if not ii:
        return
    i, j = np.concatenate(ii), np.concatenate(jj)
    if len(i) == 0:
        return
    hit = shapely.intersects(shp[i], shp[j])
    hit[hit] = shapely.area(shapely.intersection(shp[i[hit]], shp[j[hit]])) > 0.01
    for k in np.unique(owner[i[hit]]).tolist():
        u = shapely.union_all(shp[owner == k])
        footprint[k] = float(u.area)
        c = u.centroid
        cen[k] = (c.x, c.y) if not c.is_empty else (np.nan, np.nan)


@dataclass
class Indicators:
    """One scenario's (or the base's) indicator values, with what was left out and why."""

    values: dict[str, float | int | None]
    notes: list[str] = field(default_factory=list)
    table: BuildingTable | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


def indicators(model: CityModel, site: Any = None, storey_height: float = 3.0,
               table: BuildingTable | None = None) -> Indicators:
    """The scene's (or ``site``'s: a shapely polygon in the model CRS) indicators."""
    t = table if table is not None else building_table(model, storey_height)
    if site is not None:
        import shapely

        c = t.centroid
        inside = np.zeros(len(t), bool)
        okc = np.isfinite(c).all(1)
        inside[okc] = shapely.contains_xy(site, c[okc, 0], c[okc, 1])
        t = t.subset(inside)
    h = t.height_m[np.isfinite(t.height_m)]
    vals: dict[str, float | int | None] = {
        "buildings": int(len(t)),
        "footprint_m2": round(float(t.footprint_m2.sum()), 2),
        "gfa_m2": round(float(t.gfa_m2.sum()), 2),
        "mean_height_m": round(float(h.mean()), 3) if len(h) else None,
        "max_height_m": round(float(h.max()), 3) if len(h) else None,
        "volume_m3": round(float(t.volume_m3.sum()), 1),
    }
    if site is not None:
        area = float(site.area)
        vals["site_area_m2"] = round(area, 2)
        vals["far"] = round(float(t.gfa_m2.sum()) / area, 4) if area > 0 else None
        cov = float(t.footprint_m2.sum()) / area if area > 0 else None
        vals["coverage"] = round(cov, 4) if cov is not None else None
        vals["open_space_ratio"] = round(1.0 - cov, 4) if cov is not None else None
    return Indicators(vals, table=t)


def read_site(path: str) -> Any:
    """The site polygon of a GeoJSON file (the union of its polygons), in its coordinates.

    Raises :class:`~citytwin.core.errors.ReaderError` naming the file."""
    import orjson
    import shapely
    from shapely.geometry import shape

    from ..core.errors import ReaderError

    try:
        with open(path, "rb") as f:
            doc = orjson.loads(f.read())
    except FileNotFoundError:
        raise ReaderError(path, "no such file") from None
    except orjson.JSONDecodeError as exc:
        raise ReaderError(path, f"not JSON: {exc}") from None
    geoms = []
    feats = doc.get("features") if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" else [doc]
    for f in feats or []:
        g = f.get("geometry") if isinstance(f, dict) and f.get("type") == "Feature" else f
        if isinstance(g, dict) and g.get("type") in ("Polygon", "MultiPolygon"):
            try:
                geoms.append(shape(g))
            except Exception as exc:  # noqa: BLE001 - shapely's errors vary
                raise ReaderError(path, f"bad polygon: {exc}") from None
    if not geoms:
        raise ReaderError(path, "no Polygon or MultiPolygon in the file: a site is a polygon")
    site = shapely.union_all(geoms)
    if site.is_empty or site.area <= 0:
        raise ReaderError(path, "the site polygon has no area")
    if not site.is_valid:
        raise ReaderError(path, "the site polygon is invalid (it intersects itself)")
    return site
