"""Write a :class:`CityModel` as CityJSON 2.0.

Vertices are written in the model CRS (``origin + vertices`` in float64), quantised
with ``scale 0.001`` and deduplicated after quantising; every object gets one
``MultiSurface`` per LoD (``CompositeSurface`` for ``TINRelief``) made of its
original polygons with their holes, semantics limited to the surface types
CityJSON 2.0 allows for the object's class, and materials (theme ``"default"``).

CityGML types that CityJSON 2.0 lacks (``ReliefFeature``, ``Section``,
``Intersection``, ``TrafficArea`` ...) are written as ``GenericCityObject`` with the
original type in the attribute ``"citygml:type"``, which our reader restores.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray
from pyproj import CRS

from ...core.crs import horizontal, vertical
from ...core.files import write_bytes_atomic
from ...model import SEMANTICS, CityModel
from ...model.city import lod_code
from .loader import CITYGML_TYPE

log = logging.getLogger(__name__)

SCALE = 0.001

CITYJSON_TYPES = frozenset(
    """Bridge BridgePart BridgeInstallation BridgeConstructiveElement BridgeRoom BridgeFurniture
    Building BuildingPart BuildingInstallation BuildingConstructiveElement BuildingFurniture
    BuildingStorey BuildingRoom BuildingUnit CityFurniture CityObjectGroup GenericCityObject
    LandUse OtherConstruction PlantCover SolitaryVegetationObject TINRelief TransportSquare
    Railway Road Tunnel TunnelPart TunnelInstallation TunnelConstructiveElement TunnelHollowSpace
    TunnelFurniture WaterBody Waterway""".split()
)

_BUILDING_SURFACES = frozenset(
    """RoofSurface WallSurface GroundSurface ClosureSurface OuterCeilingSurface OuterFloorSurface
    Window Door InteriorWallSurface CeilingSurface FloorSurface""".split()
)
_WATER_SURFACES = frozenset({"WaterSurface", "WaterGroundSurface", "WaterClosureSurface"})
# our semantic names -> CityJSON transportation surface names
_TRANSPORT_SURFACES = {
    "TrafficArea": "TrafficArea",
    "AuxiliaryTrafficArea": "AuxiliaryTrafficArea",
    "Marking": "TransportationMarking",
    "Hole": "TransportationHole",
}
_MATERIAL_KEYS = (
    "name", "ambientIntensity", "diffuseColor", "emissiveColor", "specularColor",
    "shininess", "transparency", "isSmooth",
)


def _surface_names(cj_type: str) -> dict[int, str]:
    """Semantic code -> CityJSON surface type allowed for objects of ``cj_type``."""
    if cj_type.startswith(("Building", "Bridge", "Tunnel")):
        return {i: n for i, n in enumerate(SEMANTICS) if n in _BUILDING_SURFACES}
    if cj_type == "WaterBody":
        return {i: n for i, n in enumerate(SEMANTICS) if n in _WATER_SURFACES}
    if cj_type in ("Road", "Railway", "TransportSquare"):
        return {i: _TRANSPORT_SURFACES[n] for i, n in enumerate(SEMANTICS) if n in _TRANSPORT_SURFACES}
    return {}


def cityjson_type(model_type: str) -> tuple[str, str | None]:
    """The CityJSON 2.0 type to write for ``model_type`` and the original type to keep
    in ``"citygml:type"`` (None when the type is written unchanged)."""
    if model_type in CITYJSON_TYPES:
        return model_type, None
    if model_type.lstrip("+") == "GenericCityObject":
        return "GenericCityObject", model_type
    if model_type.startswith("+"):
        return model_type, None
    if model_type.split(":")[-1] in ("TINRelief", "TinRelief"):
        return "TINRelief", model_type if model_type != "TINRelief" else None
    return "GenericCityObject", model_type


def _lod_string(code: int) -> str:
    if code == 255:
        return "1"
    whole, tenth = divmod(int(code), 10)
    return str(whole) if tenth == 0 else f"{whole}.{tenth}"


@lru_cache(maxsize=32)
def _compound_code(h_name: str, v_name: str) -> int | None:
    from pyproj.database import query_crs_info
    from pyproj.enums import PJType

    want = f"{h_name} + {v_name}"
    for info in query_crs_info(auth_name="EPSG", pj_types=PJType.COMPOUND_CRS):
        if info.name == want:
            return int(info.code)
    return None


def reference_system(crs: CRS | None) -> str | None:
    """``https://www.opengis.net/def/crs/EPSG/0/<code>`` for ``crs`` (None if no EPSG code).

    A compound CRS is written as its EPSG compound code when pyproj knows one with
    the same horizontal and vertical parts, else as its horizontal code.
    """
    if crs is None:
        return None
    code = crs.to_epsg(min_confidence=90)
    if code is None and crs.is_compound:
        h, v = horizontal(crs), vertical(crs)
        if v is not None:
            code = _compound_code(h.name, v.name)
        if code is None:
            code = h.to_epsg(min_confidence=70)
    if code is None:
        code = crs.to_epsg(min_confidence=70)
    return None if code is None else f"https://www.opengis.net/def/crs/EPSG/0/{code}"


def _polygon_mask(model: CityModel, lod: Any) -> NDArray[np.bool_]:
    n = len(model.polygons)
    if lod in (None, "all"):
        return np.ones(n, bool)
    if lod in ("best", "lowest"):
        return model.lod_polygon_mask(lod)
    return model.polygons.lod == lod_code(lod)


def _clean_rings(
    ri: NDArray[np.int64], ring_sizes: NDArray[np.int64], poly_nrings: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Drop repeated consecutive corners (quantising merges close vertices), rings with
    fewer than 3 corners left and polygons whose exterior ring went.

    Returns the new corners, ring sizes, rings per polygon and the kept-polygon mask.
    """
    n_r = len(ring_sizes)
    ring_of = np.repeat(np.arange(n_r), ring_sizes)
    starts = np.concatenate([[0], np.cumsum(ring_sizes)])[:-1]
    nxt = np.arange(1, len(ri) + 1)
    ends = starts + ring_sizes - 1
    ok = ring_sizes > 0
    nxt[ends[ok]] = starts[ok]
    keep_c = ri != ri[nxt] if len(ri) else np.zeros(0, bool)
    # a ring of all-equal corners would vanish; keep its first so sizes stay >= 0
    sizes = np.bincount(ring_of, weights=keep_c, minlength=n_r).astype(np.int64)
    keep_r = sizes >= 3
    poly_of_ring = np.repeat(np.arange(len(poly_nrings)), poly_nrings)
    first = np.concatenate([[0], np.cumsum(poly_nrings)])[:-1]
    keep_p = np.zeros(len(poly_nrings), bool)
    has = poly_nrings > 0
    keep_p[has] = keep_r[first[has]]
    keep_r &= keep_p[poly_of_ring]
    keep_c &= keep_r[ring_of]
    new_nrings = np.bincount(poly_of_ring[keep_r], minlength=len(poly_nrings)).astype(np.int64)
    return ri[keep_c], sizes[keep_r], new_nrings[keep_p], keep_p


def _material(m: dict[str, Any], i: int) -> dict[str, Any]:
    out = {k: m[k] for k in _MATERIAL_KEYS if k in m and m[k] is not None}
    out.setdefault("name", str(m.get("id") or f"material_{i}"))
    for k in ("diffuseColor", "emissiveColor", "specularColor"):
        if k in out:
            try:
                out[k] = [float(c) for c in out[k]][:3]
                if len(out[k]) != 3:
                    del out[k]
            except (TypeError, ValueError):
                del out[k]
    for k in ("ambientIntensity", "shininess", "transparency"):
        if k in out:
            try:
                out[k] = min(max(float(out[k]), 0.0), 1.0)
            except (TypeError, ValueError):
                del out[k]
    if "isSmooth" in out:
        out["isSmooth"] = bool(out["isSmooth"])
    return out


def write_cityjson(
    model: CityModel,
    path: str | Path,
    lod: Any = "all",
    *,
    surface_attributes: dict[int, dict[str, Any]] | None = None,
    object_attributes: dict[int, dict[str, Any]] | None = None,
    solids: Collection[int] | None = None,
) -> Path:
    """Write ``model`` to ``path`` as CityJSON 2.0.

    Parameters
    ----------
    model : CityModel
        Any loaded model (CityJSON, CityGML, mesh ...).
    path : str or Path
        Output file (``.city.json``).
    lod : ``"all"``, ``"best"``, ``"lowest"`` or a number
        Which polygons to write: every LoD (one geometry per LoD per object), the
        best or lowest LoD of each object, or one LoD (e.g. ``2.2``).
    surface_attributes : {polygon index: attributes}, optional
        Attributes of single polygons (analysis results), written on their semantic
        surface (each such polygon gets a surface of its own). A polygon without a
        semantic type has no surface to carry them: they are not written.
    object_attributes : {object index: attributes}, optional
        Added to (and overriding) the objects' own attributes.
    solids : object indices, optional
        Objects whose polygons of each LoD form one closed outward-facing shell: written
        as a ``Solid`` (one shell) instead of a ``MultiSurface`` (scenario buildings).

    The file is written atomically (a temporary file, then a rename).

    Returns
    -------
    Path
        The written file.
    """
    out_path = Path(path)
    polys = model.polygons
    sel = _polygon_mask(model, lod)
    pidx = np.nonzero(sel)[0]
    n_rings_all = np.diff(polys.poly_ring_offsets)
    ring_sizes_all = np.diff(polys.ring_offsets)
    # rings and corners of the selected polygons
    r_sel = np.repeat(sel, n_rings_all)
    c_sel = np.repeat(r_sel, ring_sizes_all)
    ri = polys.ring_idx[c_sel].astype(np.int64)
    ring_sizes = ring_sizes_all[r_sel]
    poly_nrings = n_rings_all[sel]

    # quantise and deduplicate vertices
    world = model.vertices.astype(np.float64) + model.origin
    used = np.unique(ri)
    if len(used):
        w = world[used]
        translate = np.floor(w.min(axis=0) * 1000.0) / 1000.0
        q = np.rint((w - translate) / SCALE).astype(np.int64)
        uq, inv = np.unique(q, axis=0, return_inverse=True)
        remap = np.full(len(world), -1, np.int64)
        remap[used] = inv.reshape(-1)
        ri = remap[ri]
    else:
        translate = np.zeros(3)
        uq = np.zeros((0, 3), np.int64)
    ri, ring_sizes, poly_nrings, keep_p = _clean_rings(ri, ring_sizes, poly_nrings)
    pidx = pidx[keep_p]
    if (~keep_p).any():
        log.info("%d degenerate polygon(s) not written", int((~keep_p).sum()))

    # python lists: rings, then polygons
    ri_l = ri.tolist()
    ro = np.concatenate([[0], np.cumsum(ring_sizes)]).tolist()
    rings = [ri_l[a:b] for a, b in zip(ro[:-1], ro[1:])]
    po = np.concatenate([[0], np.cumsum(poly_nrings)]).tolist()
    surfaces = [rings[a:b] for a, b in zip(po[:-1], po[1:])]
    del rings, ri_l

    p_obj = polys.object[pidx].astype(np.int64)
    p_lod = polys.lod[pidx].astype(np.int64)
    p_sem = polys.semantic[pidx].tolist()
    p_mat = polys.material[pidx].tolist()
    has_mat = bool(model.materials) and bool((polys.material[pidx] >= 0).any())
    order = np.lexsort((p_lod, p_obj))
    table = model.objects
    n_obj = len(table)
    # geometry groups: (object, lod) runs in ``order``
    key = p_obj[order] * 1000 + p_lod[order]
    cut = np.nonzero(np.diff(key))[0] + 1 if len(key) else np.zeros(0, np.int64)
    group_starts = np.concatenate([[0], cut]).astype(np.int64) if len(key) else np.zeros(0, np.int64)
    group_ends = np.concatenate([cut, [len(key)]]).astype(np.int64) if len(key) else np.zeros(0, np.int64)
    order_l = order.tolist()
    solid_set = set(solids) if solids else set()
    geoms: list[list[dict[str, Any]]] = [[] for _ in range(n_obj)]
    types: list[str] = []
    originals: list[str | None] = []
    for t in table.types:
        ct, orig = cityjson_type(t)
        types.append(ct)
        originals.append(orig)
    names_cache: dict[str, dict[int, str]] = {}
    for g0, g1 in zip(group_starts.tolist(), group_ends.tolist()):
        members = order_l[g0:g1]
        o = int(p_obj[members[0]])
        ct = types[o]
        geom: dict[str, Any] = {
            "type": "CompositeSurface" if ct == "TINRelief" else "MultiSurface",
            "lod": _lod_string(int(p_lod[members[0]])),
            "boundaries": [surfaces[k] for k in members],
        }
        names = names_cache.get(ct)
        if names is None:
            names = names_cache[ct] = _surface_names(ct)
        if names:
            sem_types: dict[str, int] = {}
            own: list[dict[str, Any]] = []  # surfaces of single polygons with attributes
            values: list[int | None] = []
            for k in members:
                nm = names.get(p_sem[k])
                extra = surface_attributes.get(int(pidx[k])) if surface_attributes else None
                if nm is None:
                    values.append(None)
                elif extra:
                    own.append({"type": nm, **extra})
                    values.append(-len(own))  # resolved below, after the shared surfaces
                else:
                    values.append(sem_types.setdefault(nm, len(sem_types)))
            if sem_types or own:
                n_shared = len(sem_types)
                geom["semantics"] = {
                    "surfaces": [{"type": nm} for nm in sem_types] + own,
                    "values": [v if v is None or v >= 0 else n_shared - v - 1 for v in values],
                }
        if has_mat:
            mv = [p_mat[k] if p_mat[k] >= 0 else None for k in members]
            if any(v is not None for v in mv):
                geom["material"] = {"default": {"values": mv}}
        if solid_set and o in solid_set:
            geom["type"] = "Solid"
            geom["boundaries"] = [geom["boundaries"]]
            if "semantics" in geom:
                geom["semantics"]["values"] = [geom["semantics"]["values"]]
            if "material" in geom:
                geom["material"]["default"]["values"] = [geom["material"]["default"]["values"]]
        geoms[o].append(geom)

    # objects
    parents = table.parents.tolist()
    children: list[list[str]] = [[] for _ in range(n_obj)]
    for i, p in enumerate(parents):
        if p >= 0:
            children[p].append(table.ids[i])
    city_objects: dict[str, Any] = {}
    extension_types = False
    for i in range(n_obj):
        attrs = dict(table.attributes[i]) if table.attributes[i] else {}
        if object_attributes and i in object_attributes:
            attrs.update(object_attributes[i])
        if originals[i] is not None:
            attrs[CITYGML_TYPE] = originals[i]
        obj: dict[str, Any] = {"type": types[i]}
        if types[i].startswith("+"):
            extension_types = True
        if attrs:
            obj["attributes"] = attrs
        obj["geometry"] = geoms[i]
        if parents[i] >= 0:
            obj["parents"] = [table.ids[parents[i]]]
        if children[i]:
            obj["children"] = children[i]
        if types[i] == "CityObjectGroup":
            obj["members"] = children[i]  # required; our model keeps groups as parent links
        city_objects[table.ids[i]] = obj

    metadata: dict[str, Any] = {}
    rs = reference_system(model.crs)
    if rs:
        metadata["referenceSystem"] = rs
    if len(uq):
        lo = uq.min(axis=0) * SCALE + translate
        hi = uq.max(axis=0) * SCALE + translate
        metadata["geographicalExtent"] = [round(float(x), 3) for x in (*lo, *hi)]
    doc: dict[str, Any] = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [SCALE] * 3, "translate": [round(float(t), 3) for t in translate]},
        "metadata": metadata,
        "CityObjects": city_objects,
        "vertices": uq,
    }
    if extension_types and isinstance(model.metadata.get("extensions"), dict):
        doc["extensions"] = model.metadata["extensions"]
    if has_mat:
        doc["appearance"] = {"materials": [_material(m, i) for i, m in enumerate(model.materials)]}
    data = orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY, default=_fallback)
    return write_bytes_atomic(out_path, data)


def _fallback(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
