"""Apply edits to a :class:`CityModel`, giving a new model; the base is never changed.

The new model shares what the edits leave alone (vertex and polygon arrays are copied only
where an edit changes them, attribute dicts of untouched objects are the base's own: treat
them as read-only). Edited objects get their own copies of their vertices, so a shared
vertex never moves a neighbour. Moving, rotating and stretching keep the triangulation
(it indexes ring corners, not positions); added buildings are triangulated on their own.
Removed objects (with their parts) go when the model is made, all at once.

An edit that cannot be applied raises :class:`EditError` with its number; nothing of the
scenario is then returned, so nothing is ever applied half-way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.errors import CityTwinError, LoadReport
from ..core.geometry import triangulate_polygons
from ..model.city import CityModel, Polygons, lod_code
from ..model.objects import ObjectTable
from ..model.semantics import SEMANTICS
from .edits import Edit, EditError
from .roofs import shell

__all__ = ["Applied", "apply_edits", "ground_height"]

_SEM = {name: SEMANTICS.index(name) for name in ("RoofSurface", "WallSurface", "GroundSurface")}


@dataclass
class Applied:
    """The edited model and what changed, by id."""

    model: CityModel
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    solids: set[str] = field(default_factory=set)  # ids of added buildings that are closed shells


def ground_height(model: CityModel, xy: NDArray[np.float64], pad: float = 30.0) -> float:
    """The lowest ground under the points ``xy`` (world CRS): the model's terrain where it
    has some there, else the lowest vertex of anything within ``pad`` metres, else the
    model's lowest point."""
    from ..sim.terrain import terrain_triangles

    xy = np.asarray(xy, np.float64)
    lo, hi = xy.min(0), xy.max(0)
    mask = terrain_triangles(model)
    if mask.any():
        tri = model.vertices[model.triangles[mask]].astype(np.float64)
        tri[..., :2] += model.origin[:2]
        tmin, tmax = tri[..., :2].min(1), tri[..., :2].max(1)
        near = (tmax >= lo - 1e-6).all(1) & (tmin <= hi + 1e-6).all(1)
        z = _sample_triangles(tri[near], xy)
        if np.isfinite(z).any():
            return float(np.nanmin(z)) + float(model.origin[2])
    v = model.vertices.astype(np.float64)
    if len(v) == 0:
        return float(model.origin[2])
    w = v[:, :2] + model.origin[:2]
    close = ((w >= lo - pad) & (w <= hi + pad)).all(1)
    zs = v[close, 2] if close.any() else v[:, 2]
    return float(zs.min() + model.origin[2])


def _sample_triangles(tri: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Height of the triangles ``(T, 3, 3)`` (z relative) under each point; NaN where none."""
    out = np.full(len(xy), np.nan)
    if len(tri) == 0:
        return out
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    for k, (x, y) in enumerate(xy):
        v0, v1 = b[:, :2] - a[:, :2], c[:, :2] - a[:, :2]
        v2 = np.array([x, y]) - a[:, :2]
        den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
        ok = np.abs(den) > 1e-12
        s = np.where(ok, (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / np.where(ok, den, 1), -1)
        t = np.where(ok, (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / np.where(ok, den, 1), -1)
        inside = ok & (s >= -1e-9) & (t >= -1e-9) & (s + t <= 1 + 1e-9)
        if inside.any():
            z = a[inside, 2] + s[inside] * (b[inside, 2] - a[inside, 2]) + t[inside] * (c[inside, 2] - a[inside, 2])
            out[k] = z.min()
    return out


class _Work:
    """The model being edited: arrays copied on first change, object rows as lists."""

    def __init__(self, base: CityModel) -> None:
        self.base = base
        p = base.polygons
        self.vertices: NDArray[np.float32] = base.vertices
        self.ring_idx: NDArray[np.int32] = p.ring_idx
        self.ring_offsets: NDArray[np.int64] = p.ring_offsets
        self.poly_ring_offsets: NDArray[np.int64] = p.poly_ring_offsets
        self.obj, self.sem, self.lod = p.object, p.semantic, p.lod
        self.mat, self.tex, self.uv = p.material, p.texture, p.uv
        self.corners: NDArray[np.int32] = base.corners
        self.tri_poly: NDArray[np.int32] = base.tri_poly
        self.materials = base.materials
        t = base.objects
        self.ids = list(t.ids)
        self.types = list(t.types)
        self.parents = t.parents.astype(np.int64).copy()
        self.attributes = list(t.attributes)
        self.index = t.index  # copied on the first new object
        self._own_index = False
        self.keep = np.ones(len(t), bool)
        self._own_ring_idx = False

    # ----------------------------------------------------------------- lookup
    def lookup(self, ids: Sequence[str]) -> list[int]:
        out = []
        for i in ids:
            j = self.index.get(i)
            if j is None or not self.keep[j]:
                raise EditError(f"no object with id {i!r} in the model" if j is None else f"object {i!r} was removed by an earlier edit")
            out.append(j)
        return out

    def descendants(self, roots: Sequence[int]) -> NDArray[np.int64]:
        sel = np.zeros(len(self.ids), bool)
        sel[list(roots)] = True
        while True:
            par = self.parents
            more = ~sel & (par >= 0) & sel[np.maximum(par, 0)]
            if not more.any():
                return np.flatnonzero(sel)
            sel |= more

    def _corner_positions(self, objs: NDArray[np.int64]) -> NDArray[np.int64]:
        polys = np.flatnonzero(np.isin(self.obj, objs))
        start = self.ring_offsets[self.poly_ring_offsets[polys]]
        end = self.ring_offsets[self.poly_ring_offsets[polys + 1]]
        n = end - start
        if n.sum() == 0:
            return np.zeros(0, np.int64)
        # every corner of every selected polygon: runs start..end, expanded without a Python loop
        step = np.ones(int(n.sum()), np.int64)
        heads = np.concatenate([[0], np.cumsum(n)[:-1]])
        nz = n > 0
        step[heads[nz]] = start[nz] - np.concatenate([[0], end[nz][:-1] - 1])
        return np.cumsum(step)

    def detach(self, objs: NDArray[np.int64]) -> tuple[slice, NDArray[np.float64]]:
        """Give ``objs`` vertices of their own (appended); returns their slice and world coordinates."""
        pos = self._corner_positions(objs)
        if len(pos) == 0:
            raise EditError("the object has no geometry")
        uniq, inv = np.unique(self.ring_idx[pos], return_inverse=True)
        start = len(self.vertices)
        if not self._own_ring_idx:
            self.ring_idx = self.ring_idx.copy()
            self._own_ring_idx = True
        self.ring_idx[pos] = (start + inv.reshape(-1)).astype(np.int32)
        world = self.vertices[uniq].astype(np.float64) + self.base.origin
        self.vertices = np.concatenate([self.vertices, self.vertices[uniq]])
        return slice(start, start + len(uniq)), world

    def set_vertices(self, sl: slice, world: NDArray[np.float64]) -> None:
        self.vertices[sl] = (world - self.base.origin).astype(np.float32)

    # -------------------------------------------------------------- objects
    def new_object(self, obj_id: str, obj_type: str, attributes: dict[str, Any]) -> int:
        if obj_id in self.index and self.keep[self.index[obj_id]]:
            raise EditError(f"an object with id {obj_id!r} exists already")
        if not self._own_index:
            self.index = dict(self.index)
            self._own_index = True
        i = len(self.ids)
        self.ids.append(obj_id)
        self.types.append(obj_type)
        self.parents = np.append(self.parents, -1)
        self.attributes.append(attributes)
        self.keep = np.append(self.keep, True)
        self.index[obj_id] = i
        return i

    def set_attributes(self, i: int, values: dict[str, Any], unset: Sequence[str] = ()) -> None:
        a = dict(self.attributes[i])
        a.update(values)
        for k in unset:
            a.pop(k, None)
        self.attributes[i] = a

    def add_polygons(self, obj: int, world: NDArray[np.float64], ring_sizes: NDArray[np.int64],
                     poly_nrings: NDArray[np.int64], sem: NDArray[np.uint8], lod: NDArray[np.uint8],
                     mat: NDArray[np.int32] | None = None,
                     corners: NDArray[np.int32] | None = None, tri_poly: NDArray[np.int32] | None = None) -> None:
        """Append polygons given by their corners' world coordinates (each corner its own
        vertex); triangulated here unless ``corners``/``tri_poly`` (local) are given."""
        rel = world - self.base.origin
        v0, c0, p0 = len(self.vertices), len(self.ring_idx), len(self.obj)
        n = len(poly_nrings)
        local = np.arange(len(rel), dtype=np.int64)
        if corners is None or tri_poly is None:
            ro = np.concatenate([[0], np.cumsum(ring_sizes)]).astype(np.int64)
            po = np.concatenate([[0], np.cumsum(poly_nrings)]).astype(np.int64)
            tri = triangulate_polygons(rel, local, ro, po)
            corners, tri_poly = tri.corners, tri.tri_poly
        self.vertices = np.concatenate([self.vertices, rel.astype(np.float32)])
        self.ring_idx = np.concatenate([self.ring_idx, (v0 + local).astype(np.int32)])
        self._own_ring_idx = True
        self.ring_offsets = np.concatenate([self.ring_offsets, self.ring_offsets[-1] + np.cumsum(ring_sizes)])
        self.poly_ring_offsets = np.concatenate([self.poly_ring_offsets,
                                                 self.poly_ring_offsets[-1] + np.cumsum(poly_nrings)])
        self.obj = np.concatenate([self.obj, np.full(n, obj, np.int32)])
        self.sem = np.concatenate([self.sem, sem.astype(np.uint8)])
        self.lod = np.concatenate([self.lod, lod.astype(np.uint8)])
        self.mat = np.concatenate([self.mat, mat.astype(np.int32) if mat is not None else np.full(n, -1, np.int32)])
        self.tex = np.concatenate([self.tex, np.full(n, -1, np.int32)])
        if self.uv is not None:
            self.uv = np.concatenate([self.uv, np.full((len(rel), 2), np.nan, np.float32)])
        self.corners = np.concatenate([self.corners, (np.asarray(corners, np.int64) + c0).astype(np.int32)])
        self.tri_poly = np.concatenate([self.tri_poly, (np.asarray(tri_poly, np.int64) + p0).astype(np.int32)])

    # ----------------------------------------------------------------- make
    def model(self, name: str) -> CityModel:
        keep_p = self.keep[self.obj]
        ring_offsets, poly_ring_offsets = self.ring_offsets, self.poly_ring_offsets
        ring_idx, corners, tri_poly = self.ring_idx, self.corners, self.tri_poly
        obj, sem, lod, mat, tex, uv = self.obj, self.sem, self.lod, self.mat, self.tex, self.uv
        if not keep_p.all():
            ring_sizes, poly_nrings = np.diff(ring_offsets), np.diff(poly_ring_offsets)
            keep_r = np.repeat(keep_p, poly_nrings)
            keep_c = np.repeat(keep_r, ring_sizes)
            new_c = np.cumsum(keep_c) - 1
            new_p = np.cumsum(keep_p) - 1
            keep_t = keep_p[tri_poly]
            corners = new_c[corners[keep_t]].astype(np.int32)
            tri_poly = new_p[tri_poly[keep_t]].astype(np.int32)
            ring_idx = ring_idx[keep_c]
            ring_offsets = np.concatenate([[0], np.cumsum(ring_sizes[keep_r])]).astype(np.int64)
            poly_ring_offsets = np.concatenate([[0], np.cumsum(poly_nrings[keep_p])]).astype(np.int64)
            obj, sem, lod, mat, tex = obj[keep_p], sem[keep_p], lod[keep_p], mat[keep_p], tex[keep_p]
            uv = uv[keep_c] if uv is not None else None
        remap = np.cumsum(self.keep) - 1
        kept = np.flatnonzero(self.keep)
        if len(kept) != len(self.ids):
            obj = remap[obj].astype(np.int32)
        table = ObjectTable()
        table.ids = [self.ids[i] for i in kept] if len(kept) != len(self.ids) else self.ids
        table.types = [self.types[i] for i in kept] if len(kept) != len(self.ids) else self.types
        par = self.parents[kept]
        par = np.where(par >= 0, remap[np.maximum(par, 0)], -1)
        par = np.where((par >= 0) & self.keep[np.maximum(self.parents[kept], 0)], par, -1)
        table._parents = par.astype(np.int64).tolist()
        table.attributes = [self.attributes[i] for i in kept] if len(kept) != len(self.ids) else self.attributes
        table.index = {k: i for i, k in enumerate(table.ids)} if len(kept) != len(self.ids) or self._own_index \
            else self.base.objects.index
        b = self.base
        polys = Polygons(
            ring_idx=ring_idx.astype(np.int32, copy=False),
            ring_offsets=ring_offsets.astype(np.int64, copy=False),
            poly_ring_offsets=poly_ring_offsets.astype(np.int64, copy=False),
            object=obj.astype(np.int32, copy=False), semantic=sem, lod=lod, material=mat, texture=tex, uv=uv,
        )
        return CityModel(source=b.source, format=b.format, version=b.version, crs=b.crs, origin=b.origin,
                         vertices=self.vertices, polygons=polys, corners=corners, tri_poly=tri_poly,
                         objects=table, materials=self.materials, textures=b.textures,
                         report=LoadReport(path=b.source), metadata={**b.metadata, "scenario": name},
                         source_crs=b.source_crs)


def _flatten(surfaces: list[tuple[str, list[NDArray[np.float64]]]], lod: float
             ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.uint8], NDArray[np.uint8]]:
    pts, rs, pn, sem = [], [], [], []
    for name, rings in surfaces:
        pn.append(len(rings))
        sem.append(_SEM[name])
        for r in rings:
            pts.append(r)
            rs.append(len(r))
    n = len(pn)
    return (np.concatenate(pts), np.asarray(rs, np.int64), np.asarray(pn, np.int64),
            np.asarray(sem, np.uint8), np.full(n, lod_code(lod), np.uint8))


def _geometric_height(work: _Work, objs: NDArray[np.int64]) -> tuple[float, float]:
    pos = work._corner_positions(objs)
    if len(pos) == 0:
        raise EditError("the object has no geometry")
    z = work.vertices[work.ring_idx[pos], 2].astype(np.float64) + work.base.origin[2]
    return float(z.min()), float(z.max())


def _add(work: _Work, d: dict[str, Any], storey_height: float, applied: Applied) -> None:
    fp = np.asarray(d["footprint"], np.float64)
    z0 = d["ground"] if "ground" in d else ground_height(work.base, fp)
    height = d.get("height", d.get("storeys", 0) * storey_height)
    attrs = dict(d.get("attributes", {}))
    attrs.setdefault("measuredHeight", round(float(height), 3))
    if "storeys" in d:
        attrs.setdefault("storeysAboveGround", d["storeys"])
    if d["roof"] != "flat":
        attrs.setdefault("roofType", d["roof"])
    i = work.new_object(d["id"], d.get("type", "Building"), attrs)
    try:
        lod1 = shell(fp, z0, z0 + height, "flat")
        lod2 = shell(fp, z0, z0 + height, d["roof"], d.get("roof_height"))
    except ValueError as exc:
        raise EditError(str(exc)) from None
    parts = [_flatten(surfaces, lod) for surfaces, lod in ((lod1, 1.0), (lod2, 2.0))]
    work.add_polygons(i, *(np.concatenate(arrays) for arrays in zip(*parts)))
    applied.added.append(d["id"])
    applied.solids.add(d["id"])


def _set_height(work: _Work, d: dict[str, Any], storey_height: float, applied: Applied) -> None:
    for i in work.lookup(d["ids"]):
        objs = work.descendants([i])
        height = d.get("height", d.get("storeys", 0) * storey_height)
        z_lo, z_hi = _geometric_height(work, objs)
        if z_hi - z_lo <= 1e-6:
            raise EditError(f"object {work.ids[i]!r} is flat: it has no height to change")
        sl, world = work.detach(objs)
        world[:, 2] = z_lo + (world[:, 2] - z_lo) * (height / (z_hi - z_lo))
        work.set_vertices(sl, world)
        values: dict[str, Any] = {"measuredHeight": round(float(height), 3)}
        if "storeys" in d:
            values["storeysAboveGround"] = d["storeys"]
        work.set_attributes(i, values, () if "storeys" in d else ("storeysAboveGround",))
        for j in objs.tolist():  # parts carry their own heights: they follow theirs
            if j != i and any(k in work.attributes[j] for k in ("measuredHeight", "storeysAboveGround")):
                work.set_attributes(j, {}, ("measuredHeight", "storeysAboveGround"))
        applied.changed.append(work.ids[i])


def _transform(work: _Work, d: dict[str, Any], applied: Applied, op: str) -> None:
    idx = work.lookup(d["ids"])
    objs = work.descendants(idx)
    sl, world = work.detach(objs)
    if op == "move":
        off = list(d["offset"]) + [0.0] * (3 - len(d["offset"]))
        world += np.asarray(off)
    else:
        about = np.asarray(d["about"]) if "about" in d else (world[:, :2].min(0) + world[:, :2].max(0)) / 2.0
        a = math.radians(d["angle"])
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        world[:, :2] = (world[:, :2] - about) @ rot.T + about
    work.set_vertices(sl, world)
    applied.changed.extend(work.ids[i] for i in idx)


def _place_mesh(work: _Work, d: dict[str, Any], base_dir: Path | None, applied: Applied) -> None:
    from ..io.mesh import read_mesh

    path = Path(d["path"])
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        mesh = read_mesh(path, up=d.get("up", "auto"))
    except CityTwinError as exc:
        raise EditError(f"the mesh cannot be read: {exc}") from None
    if mesh.n_triangles == 0:
        raise EditError(f"{path}: the mesh has no faces")
    p = mesh.polygons
    used = mesh.vertices[p.ring_idx].astype(np.float64) + mesh.origin
    lo, hi = used.min(0), used.max(0)
    anchor = np.array([(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0, lo[2]])
    local = (used - anchor) * d["scale"]
    a = math.radians(d["rotation"])
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    local[:, :2] = local[:, :2] @ rot.T
    at = list(d["at"])
    if len(at) == 2:
        fp = local[:, :2] + np.asarray(at)
        corners = np.array([fp.min(0), [fp.min(0)[0], fp.max(0)[1]], fp.max(0), [fp.max(0)[0], fp.min(0)[1]]])
        at.append(ground_height(work.base, corners))
    world = local + np.asarray(at)
    attrs = dict(d.get("attributes", {}))
    attrs.setdefault("measuredHeight", round(float(world[:, 2].max() - at[2]), 3))
    attrs.setdefault("designMesh", path.name)
    i = work.new_object(d["id"], d.get("type", "Building"), attrs)
    mat = p.material.copy()
    if mesh.materials:
        mat = np.where(mat >= 0, mat + len(work.materials), -1)
        work.materials = list(work.materials) + list(mesh.materials)
    lod = np.where(p.lod == 255, lod_code(2), p.lod).astype(np.uint8)
    work.add_polygons(i, world, np.diff(p.ring_offsets), np.diff(p.poly_ring_offsets), p.semantic, lod, mat,
                      corners=mesh.corners, tri_poly=mesh.tri_poly)
    applied.added.append(d["id"])


def apply_edits(base: CityModel, edits: Sequence[Edit], *, name: str = "", storey_height: float = 3.0,
                base_dir: str | Path | None = None, first_number: int = 1) -> Applied:
    """The model ``base`` becomes after ``edits``, in order (``base`` is not changed).

    ``base_dir`` resolves relative mesh paths; an :class:`EditError` names the edit by its
    number (``first_number`` for the first)."""
    work = _Work(base)
    applied = Applied(model=base)
    bdir = Path(base_dir) if base_dir is not None else None
    for k, e in enumerate(edits):
        try:
            d = e.data
            if e.op == "add":
                _add(work, d, storey_height, applied)
            elif e.op == "remove":
                idx = work.lookup(d["ids"])
                work.keep[work.descendants(idx)] = False
                applied.removed.extend(d["ids"])
            elif e.op == "set-height":
                _set_height(work, d, storey_height, applied)
            elif e.op in ("move", "rotate"):
                _transform(work, d, applied, e.op)
            elif e.op == "place-mesh":
                _place_mesh(work, d, bdir, applied)
            elif e.op == "set-attributes":
                for i in work.lookup(d["ids"]):
                    work.set_attributes(i, d["attributes"], d.get("unset", ()))
                    applied.changed.append(work.ids[i])
            else:
                raise EditError(f"unknown op {e.op!r}")
        except EditError as exc:
            raise EditError(exc.reason, first_number + k) from None
    applied.model = work.model(name)
    gone = set(applied.removed)
    applied.added = [i for i in dict.fromkeys(applied.added) if i not in gone]
    applied.changed = [i for i in dict.fromkeys(applied.changed) if i not in gone and i not in applied.added]
    applied.solids &= set(applied.added)
    return applied
