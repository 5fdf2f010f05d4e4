"""CityJSON / CityJSONSeq scale-up writers (see :mod:`scaleup`).

The source tile is parsed once; each output feature (or the whole tile, for plain
CityJSON) becomes a text template with a placeholder for the id suffix. Per tile only
the suffix, the integer vertices (shifted with numpy, written by orjson) and, for plain
CityJSON, the vertex indices (shifted by the tile's vertex offset) change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from scaleup import BUILDINGS_PER_TILE, MARK, Grid, select_buildings, suffix

NUMPY = orjson.OPT_SERIALIZE_NUMPY
CRS_URL = "https://www.opengis.net/def/crs/EPSG/0/{}"


def _flat(a: Any) -> Iterator[int]:
    """All integers of a nested list (None skipped)."""
    for x in a:
        if isinstance(x, list):
            yield from _flat(x)
        elif x is not None:
            yield x


def _remap(a: Any, mapping: dict[int, int]) -> Any:
    """A copy of a nested list with every integer replaced through ``mapping``."""
    return [_remap(x, mapping) if isinstance(x, list) else (None if x is None else mapping[x]) for x in a]


def _lod2(lod: Any) -> str:
    """CityJSON 1.0 LoD number as a 2.0 string."""
    if isinstance(lod, str):
        return lod
    return str(int(lod)) if float(lod).is_integer() else str(lod)


def _crs_url(ref: str | None) -> str | None:
    if not ref:
        return None
    m = re.search(r"EPSG[^0-9]*(?:[\d.]*:)?:?(\d+)$", ref) or re.search(r"/EPSG/\d+/(\d+)$", ref)
    return CRS_URL.format(m.group(1)) if m else ref


class Source:
    """The parsed source tile."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.doc = orjson.loads(self.path.read_bytes())
        self.objects: dict[str, Any] = self.doc["CityObjects"]
        self.vertices = np.asarray(self.doc["vertices"], dtype=np.int64).reshape(-1, 3)
        self.transform = self.doc["transform"]
        scale = self.transform["scale"]
        ext = self.vertices.max(axis=0) - self.vertices.min(axis=0)
        # tile pitch: extent rounded up to whole metres, in quantised units
        self.pitch = tuple(int(round(math.ceil(ext[i] * scale[i]) / scale[i])) for i in (0, 1))
        self.buildings = [k for k, o in self.objects.items() if o["type"] == "Building"]
        self.terrain = [
            k for k, o in self.objects.items() if not o.get("parents") and o["type"] not in ("Building",)
        ]
        self.materials = self.doc.get("appearance", {}).get("materials", [])
        meta = self.doc.get("metadata", {})
        self.crs = _crs_url(meta.get("referenceSystem"))

    def family(self, oid: str) -> list[str]:
        """A top-level object and its descendants, in order."""
        out = [oid]
        for c in self.objects[oid].get("children", []):
            out.extend(self.family(c))
        return out

    def upgraded(self, oid: str, vmap: dict[int, int] | None, mmap: dict[int, int] | None) -> dict[str, Any]:
        """Object ``oid`` as CityJSON 2.0, ids marked for the suffix, indices remapped."""
        o = self.objects[oid]
        new: dict[str, Any] = {"type": o["type"]}
        for key in ("attributes",):
            if key in o:
                new[key] = o[key]
        geoms = []
        for g in o.get("geometry", []):
            g2 = dict(g)
            g2["lod"] = _lod2(g["lod"])
            if vmap is not None:
                g2["boundaries"] = _remap(g["boundaries"], vmap)
            if mmap is not None and "material" in g:
                g2["material"] = {
                    theme: (
                        {"value": mmap[m["value"]]} if "value" in m else {"values": _remap(m["values"], mmap)}
                    )
                    for theme, m in g["material"].items()
                }
            geoms.append(g2)
        if geoms:
            new["geometry"] = geoms
        if "parents" in o:
            new["parents"] = [p + MARK for p in o["parents"]]
        if "children" in o:
            new["children"] = [c + MARK for c in o["children"]]
        return new

    def real(self, q: np.ndarray) -> list[float]:
        """Quantised (x, y, z) -> real coordinates."""
        s, t = self.transform["scale"], self.transform["translate"]
        return [round(float(q[i]) * s[i] + t[i], 6) for i in range(3)]


def _feature_template(src: Source, top: str) -> tuple[bytes, np.ndarray, int]:
    """(line template without vertices, local vertices, number of objects) of one CityJSONFeature."""
    members = src.family(top)
    idx = np.fromiter(
        (i for m in members for g in src.objects[m].get("geometry", []) for i in _flat(g["boundaries"])),
        dtype=np.int64,
    )
    uniq = np.unique(idx)
    vmap = {int(v): i for i, v in enumerate(uniq)}
    mats = sorted(
        {
            i
            for m in members
            for g in src.objects[m].get("geometry", [])
            for t in g.get("material", {}).values()
            for i in (_flat(t["values"]) if "values" in t else [t["value"]])
        }
    )
    mmap = {m: i for i, m in enumerate(mats)}
    feat: dict[str, Any] = {
        "type": "CityJSONFeature",
        "id": top + MARK,
        "CityObjects": {m + MARK: src.upgraded(m, vmap, mmap) for m in members},
    }
    if mats:
        feat["appearance"] = {"materials": [src.materials[i] for i in mats]}
    head = orjson.dumps(feat)[:-1] + b',"vertices":'
    return head, np.ascontiguousarray(src.vertices[uniq]), len(members)


def _header(src: Source, grid: Grid, bbox: list[float], title: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": title, "geographicalExtent": bbox}
    if src.crs:
        meta["referenceSystem"] = src.crs
    return {
        "type": "CityJSON",
        "version": "2.0",
        "transform": src.transform,
        "metadata": meta,
        "CityObjects": {},
        "vertices": [],
    }


def _tiles(src: Source, grid: Grid, terrain: bool) -> Iterator[tuple[int, list[str], np.ndarray]]:
    """(k, top-level ids in output order, xyz shift) for each tile."""
    for k in range(grid.n_tiles):
        keep = select_buildings(src.buildings, grid.count(k))
        tops = [b for b in src.buildings if b in keep] + (src.terrain if terrain else [])
        dx, dy = grid.offset(k)
        yield k, tops, np.array([dx, dy, 0], dtype=np.int64)


def _result(src: Source, grid: Grid, terrain: bool, lo: np.ndarray, hi: np.ndarray) -> dict[str, Any]:
    n_parts = 0
    for k in range(grid.n_tiles):
        keep = select_buildings(src.buildings, grid.count(k))
        n_parts += sum(len(src.family(b)) - 1 for b in keep)
    return {
        "buildings": grid.n_buildings,
        "building_parts": n_parts,
        "terrain": grid.n_tiles * len(src.terrain) if terrain else 0,
        "terrain_type": sorted({src.objects[t]["type"] for t in src.terrain}),
        "tiles": grid.n_tiles,
        "grid": [grid.cols, grid.rows],
        "pitch": [p * s for p, s in zip(grid.pitch, src.transform["scale"][:2])],
        "bbox": src.real(lo) + src.real(hi),
    }


def _bbox(src: Source, grid: Grid, terrain: bool, verts_of: Any) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(3, np.iinfo(np.int64).max)
    hi = np.full(3, np.iinfo(np.int64).min)
    for _k, tops, shift in _tiles(src, grid, terrain):
        v = verts_of(tops)
        lo = np.minimum(lo, v.min(axis=0) + shift)
        hi = np.maximum(hi, v.max(axis=0) + shift)
    return lo, hi


def write_cityjsonseq(source: Path, out: Path, buildings: int, *, terrain: bool = True) -> dict[str, Any]:
    """Write a CityJSONSeq (CityJSON 2.0) scale-up file; returns counts and bbox."""
    src = Source(source)
    grid = Grid(buildings, len(src.buildings) or BUILDINGS_PER_TILE, src.pitch)
    feats = {top: _feature_template(src, top) for top in src.buildings + src.terrain}
    fmin = {t: f[1].min(axis=0) for t, f in feats.items()}
    fmax = {t: f[1].max(axis=0) for t, f in feats.items()}
    lo = np.full(3, np.iinfo(np.int64).max)
    hi = np.full(3, np.iinfo(np.int64).min)
    for _k, tops, shift in _tiles(src, grid, terrain):
        lo = np.minimum(lo, np.min([fmin[t] for t in tops], axis=0) + shift)
        hi = np.maximum(hi, np.max([fmax[t] for t in tops], axis=0) + shift)
    result = _result(src, grid, terrain, lo, hi)
    title = f"Den Haag tile 01 x{grid.n_tiles} ({buildings} Buildings), citytwin scale-up benchmark"
    n_features = 0
    with open(out, "wb") as f:
        f.write(orjson.dumps(_header(src, grid, result["bbox"], title)) + b"\n")
        mark = MARK.encode()
        for k, tops, shift in _tiles(src, grid, terrain):
            sfx = suffix(k).encode()
            buf = []
            for t in tops:
                head, verts, _ = feats[t]
                buf.append(head.replace(mark, sfx))
                buf.append(orjson.dumps(verts + shift, option=NUMPY))
                buf.append(b"}\n")
            n_features += len(tops)
            f.write(b"".join(buf))
    result["features"] = n_features
    return result


class _TileTemplate:
    """Text of a tile's CityObjects with the vertex indices cut out, plus its vertices."""

    def __init__(self, src: Source, tops: list[str]) -> None:
        members = [m for t in tops for m in src.family(t)]
        idx = np.fromiter(
            (i for m in members for g in src.objects[m].get("geometry", []) for i in _flat(g["boundaries"])),
            dtype=np.int64,
        )
        uniq = np.unique(idx)
        vmap = {int(v): i for i, v in enumerate(uniq)}
        self.vertices = np.ascontiguousarray(src.vertices[uniq])
        bounds: list[str] = []
        objs = {}
        for m in members:
            o = src.upgraded(m, vmap, None)
            for g in o.get("geometry", []):
                bounds.append(orjson.dumps(g["boundaries"]).decode())
                g["boundaries"] = f"@@B{len(bounds) - 1}@@"
            objs[m + MARK] = o
        body = orjson.dumps(objs).decode()[1:-1]
        lits: list[str] = []
        nums: list[str] = []
        cur: list[str] = []
        for i, part in enumerate(re.split(r'"@@B(\d+)@@"', body)):
            if i % 2 == 0:
                cur.append(part)
                continue
            for j, tok in enumerate(re.split(r"(\d+)", bounds[int(part)])):
                if j % 2 == 0:
                    cur.append(tok)
                else:
                    lits.append("".join(cur))
                    cur = []
                    nums.append(tok)
        lits.append("".join(cur))
        self.lits = lits
        self.nums = np.array(nums, dtype=np.int64)

    def render(self, vertex_offset: int, sfx: str) -> bytes:
        """The tile's CityObjects members (no braces) with indices shifted and ids suffixed."""
        parts: list[str] = [""] * (2 * len(self.nums) + 1)
        parts[0::2] = self.lits
        parts[1::2] = map(str, (self.nums + vertex_offset).tolist())
        return "".join(parts).replace(MARK, sfx).encode()


def write_cityjson(source: Path, out: Path, buildings: int, *, terrain: bool = True) -> dict[str, Any]:
    """Write one CityJSON 2.0 scale-up file (global vertices and materials); returns counts and bbox."""
    src = Source(source)
    grid = Grid(buildings, len(src.buildings) or BUILDINGS_PER_TILE, src.pitch)
    templates: dict[tuple[str, ...], _TileTemplate] = {}

    def template(tops: list[str]) -> _TileTemplate:
        key = tuple(tops)
        if key not in templates:
            templates[key] = _TileTemplate(src, tops)
        return templates[key]

    lo, hi = _bbox(src, grid, terrain, lambda tops: template(tops).vertices)
    result = _result(src, grid, terrain, lo, hi)
    title = f"Den Haag tile 01 x{grid.n_tiles} ({buildings} Buildings), citytwin scale-up benchmark"
    head = orjson.dumps(_header(src, grid, result["bbox"], title))
    cut = head.index(b',"CityObjects":{}')
    n_vertices = 0
    with open(out, "wb") as f:
        f.write(head[:cut] + b',"CityObjects":{')
        for k, tops, _shift in _tiles(src, grid, terrain):
            f.write((b"," if k else b"") + template(tops).render(n_vertices, suffix(k)))
            n_vertices += len(template(tops).vertices)
        f.write(b'},"vertices":[')
        for k, tops, shift in _tiles(src, grid, terrain):
            f.write((b"," if k else b"") + orjson.dumps(template(tops).vertices + shift, option=NUMPY)[1:-1])
        f.write(b"]")
        if src.materials:
            f.write(b',"appearance":' + orjson.dumps({"materials": src.materials}))
        f.write(b"}\n")
    result["vertices"] = n_vertices
    return result
