"""Turn parsed CityJSON objects into :class:`CityModelBuilder` batches.

One :class:`CityJSONLoader` serves a whole CityJSON file (one document) and a
CityJSONSeq file (one document per feature line). Boundaries are flattened with
tight loops over the parsed lists into flat Python lists (ring corners, ring
sizes, rings per polygon and per-polygon object / semantic / LoD / material /
texture); :meth:`CityJSONLoader.flush` turns a batch into numpy arrays with one call
per array, checks every vertex index at once, and hands the batch to the builder
with one ``add_vertices`` and one ``add_polygons`` per LoD.

Objects are only added to the builder when their batch is flushed, so an object
whose geometry turns out to be broken (wrong nesting, an index out of range, a
missing template) is skipped whole and reported, and the rest loads.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from ...core.crs import parse_crs
from ...core.errors import CRSError, LoadReport, ReaderError
from ...model import CityModelBuilder, semantic_code
from ...model.city import lod_code, lod_value
from .upgrade import Header, object_parents

log = logging.getLogger(__name__)

_SURFACE_DEPTH = {
    "MultiSurface": 1,
    "CompositeSurface": 1,
    "Solid": 2,
    "MultiSolid": 3,
    "CompositeSolid": 3,
}
_IGNORED = ("MultiPoint", "MultiLineString")
# the attribute our writer uses for CityGML types that CityJSON 2.0 lacks
CITYGML_TYPE = "citygml:type"


def _has_semantics(g: dict[str, Any]) -> bool:
    """The geometry names at least one semantic surface for at least one of its faces."""
    sem = g.get("semantics")
    if sem.__class__ is not dict or not sem.get("surfaces"):
        return False
    todo = [sem.get("values")]
    while todo:
        v = todo.pop()
        if v.__class__ is int:
            return True
        if v.__class__ is list:
            todo.extend(v)
    return False


def _geometry_rank(g: dict[str, Any]) -> tuple[bool, bool, int]:
    """Which of several geometries at one LoD to draw: the one with semantics, then a
    volume (Solid, MultiSolid, CompositeSolid), then the one with more surfaces."""
    depth = _SURFACE_DEPTH.get(str(g.get("type")), 1)
    b: Any = g.get("boundaries")
    n: int = 0
    try:
        if depth == 1:
            n = len(b)
        elif depth == 2:
            n = sum(len(shell) for shell in b)
        else:
            n = sum(len(shell) for solid in b for shell in solid)
    except TypeError:  # broken boundaries rank last; _geometry reports them
        n = -1
    return _has_semantics(g), depth > 1, n


@dataclass
class Packed:
    """One batch as arrays, vertex and object indices local to the batch (picklable)."""

    verts: NDArray[np.float64]
    ri: NDArray[np.int64]
    rs: NDArray[np.int64]
    pn: NDArray[np.int64]
    p_obj: NDArray[np.int64]
    p_sem: NDArray[np.uint8]
    p_lod: NDArray[np.int64]
    p_mat: NDArray[np.int32]
    p_tex: NDArray[np.int32]
    uv: NDArray[np.float32] | None
    ids: list[str]
    types: list[str]
    attrs: list[dict[str, Any]]
    parents: list[list[str]]
    children: list[Any]
    bad: dict[int, str]
    materials: list[dict[str, Any]] = field(default_factory=list)
    textures: list[dict[str, Any]] = field(default_factory=list)
    mat_base: int = 0
    tex_base: int = 0


class AppearanceSink:
    """Stands in for the builder in a worker process: collects materials and textures."""

    def __init__(self, report: LoadReport, materials: list[Any], textures: list[Any]) -> None:
        self.report = report
        self.materials: list[dict[str, Any]] = list(materials)
        self.textures: list[dict[str, Any]] = list(textures)

    def add_material(self, material: dict[str, Any]) -> int:
        self.materials.append(material)
        return len(self.materials) - 1

    def add_texture(self, path: str, found: bool, **extra: Any) -> int:
        self.textures.append({"path": path, "found": found, **extra})
        return len(self.textures) - 1


def resolve_crs(path: Path, declared: str | None, user: Any, report: LoadReport) -> CRS | None:
    """The CRS to load with: the user's if given (it overrides), else the file's.

    An unknown declared CRS is reported and the file is loaded in local
    coordinates; an unknown user CRS is an error.
    """
    if user is not None:
        if isinstance(user, CRS):
            return user
        try:
            return parse_crs(str(user))
        except CRSError as exc:
            raise ReaderError(path, f"unknown CRS {user!r} given") from exc
    if declared:
        try:
            return parse_crs(declared)
        except CRSError:
            report.warn("unknown-crs", f"unknown referenceSystem {declared!r}; loaded in local coordinates")
    return None


def _flat_values(values: Any, depth: int, boundaries: list[Any], n: int) -> list[Any]:
    """Per-surface values (semantics, materials, texture rings) nested like ``boundaries``."""
    if values is None:
        return [None] * n
    if depth == 1:
        out = values
    elif depth == 2:
        out = []
        for k, shell in enumerate(boundaries):
            v = values[k] if k < len(values) else None
            out.extend(v if v is not None else [None] * len(shell))
    else:
        out = []
        for i, solid in enumerate(boundaries):
            sv = values[i] if i < len(values) else None
            for k, shell in enumerate(solid):
                v = sv[k] if sv is not None and k < len(sv) else None
                out.extend(v if v is not None else [None] * len(shell))
    if len(out) != n:
        raise ValueError(f"{len(out)} values for {n} surfaces")
    return out


class CityJSONLoader:
    """Accumulates CityJSON objects in batches and feeds them to a builder."""

    def __init__(self, builder: CityModelBuilder | AppearanceSink, header: Header, base_dir: Path) -> None:
        self.b: Any = builder
        self.report = builder.report
        self.header = header
        self.base_dir = base_dir
        self.scale = header.scale
        self.translate = header.translate
        self._sem: dict[str, int] = {}
        self._lodc: dict[Any, int] = {}
        self.templates: list[Any] = []
        self.template_vertices: NDArray[np.float64] = np.zeros((0, 3))
        self.has_uv = False
        self._uv_chunks: list[NDArray[np.float32]] = []
        self._uv_count = 0
        self._uv_all: NDArray[np.float32] | None = None
        self.pending_parents: list[tuple[int, str]] = []
        self.pending_children: list[tuple[int, str]] = []
        self.ignored: Counter[str] = Counter()
        self.n_documents = 0
        # materials / textures that belong to the header (workers detach the rest)
        self.mat_base = len(builder.materials)
        self.tex_base = len(builder.textures)
        self._reset()

    # ------------------------------------------------------------- batches
    def _reset(self) -> None:
        self.ri: list[int] = []
        self.rs: list[int] = []
        self.pn: list[int] = []
        self.p_obj: list[int] = []
        self.p_sem: list[int] = []
        self.p_lod: list[int] = []
        self.p_mat: list[int] = []
        self.p_tex: list[int] = []
        self.cuv: list[int] = []
        self.o_id: list[str] = []
        self.o_type: list[str] = []
        self.o_attr: list[dict[str, Any]] = []
        self.o_par: list[list[str]] = []
        self.o_chi: list[Any] = []
        self.o_c0: list[int] = []
        self.vlists: list[list[Any]] = []
        self.blocks: list[tuple[int, int, int, int]] = []  # vstart, n, obj0, obj1
        self.nv = 0
        self.inst: list[NDArray[np.float64]] = []
        self.ninst = 0
        # corner segments: (first corner, kind 0 = document / 1 = instance, local base, count)
        self.seg_start: list[int] = []
        self.seg_kind: list[int] = []
        self.seg_base: list[int] = []
        self.seg_n: list[int] = []

    @property
    def batch_objects(self) -> int:
        return len(self.o_id)

    def _segment(self, kind: int, base: int, n: int) -> None:
        at = len(self.ri)
        if self.seg_start and self.seg_start[-1] == at:
            self.seg_kind[-1], self.seg_base[-1], self.seg_n[-1] = kind, base, n
        else:
            self.seg_start.append(at)
            self.seg_kind.append(kind)
            self.seg_base.append(base)
            self.seg_n.append(n)

    # ---------------------------------------------------------- appearance
    def add_appearance(self, app: Any) -> tuple[int, int, int]:
        """Register materials, textures and texture vertices; return their index offsets."""
        mat_off = len(self.b.materials)
        tex_off = len(self.b.textures)
        uv_off = self._uv_count
        if not isinstance(app, dict):
            return mat_off, tex_off, uv_off
        for m in app.get("materials") or ():
            self.b.add_material(m if isinstance(m, dict) else {"name": str(m)})
        for t in app.get("textures") or ():
            image = str(t.get("image", "")) if isinstance(t, dict) else ""
            p = (self.base_dir / image) if image else self.base_dir
            found = bool(image) and p.is_file()
            extra = {k: v for k, v in t.items() if k != "image"} if isinstance(t, dict) else {}
            self.b.add_texture(str(p), found, **extra)
        vt = app.get("vertices-texture")
        if vt:
            try:
                arr = np.asarray(vt, dtype=np.float32).reshape(-1, 2)
            except (ValueError, TypeError):
                self.report.warn("bad-texture-vertices", "vertices-texture is not a list of (u, v)")
                arr = np.zeros((0, 2), np.float32)
            self._uv_chunks.append(arr)
            self._uv_count += len(arr)
            self._uv_all = None
        if app.get("textures") and not self.has_uv:
            self.has_uv = True
            self.cuv.extend([-1] * len(self.ri))  # corners added before have no texture
        return mat_off, tex_off, uv_off

    def set_templates(self, gt: Any) -> None:
        """Read ``geometry-templates`` (templates + their own float vertices)."""
        if not isinstance(gt, dict):
            return
        self.templates = list(gt.get("templates") or [])
        try:
            self.template_vertices = np.asarray(gt.get("vertices-templates") or [], np.float64).reshape(-1, 3)
        except (ValueError, TypeError):
            self.report.warn("bad-templates", "vertices-templates is not a list of (x, y, z)")
            self.templates = []

    # ------------------------------------------------------------ documents
    def add_document(
        self,
        city_objects: dict[str, Any],
        vertices: list[Any],
        offsets: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        """Add the objects of one CityJSON file or one CityJSONFeature."""
        self.n_documents += 1
        vstart, nv = self.nv, len(vertices)
        self.vlists.append(vertices)
        self.nv += nv
        self._doc = (vstart, nv, vertices, offsets)
        self._segment(0, vstart, nv)
        obj0 = len(self.o_id)
        for oid, obj in city_objects.items():
            self._object(str(oid), obj)
        self.blocks.append((vstart, nv, obj0, len(self.o_id)))

    def _object(self, oid: str, obj: Any) -> None:
        otype = obj.get("type") if obj.__class__ is dict else None
        if otype.__class__ is not str:
            self.report.skip(oid, "not a city object (no type)")
            return
        attrs = obj.get("attributes")
        if attrs.__class__ is not dict:
            attrs = {}
        elif CITYGML_TYPE in attrs:
            ct = attrs.pop(CITYGML_TYPE)
            if isinstance(ct, str) and ct:
                otype = ct
        default = self._sem.get(otype)
        if default is None:
            default = self._sem[otype] = semantic_code(otype)
        c0 = len(self.ri)
        geoms = obj.get("geometry")
        if geoms.__class__ is list and len(geoms) > 1:
            geoms = self._one_per_lod(oid, geoms)
        if geoms:
            local = len(self.o_id)
            saved = (c0, len(self.rs), len(self.pn), len(self.cuv), len(self.seg_start), len(self.inst))
            ninst = self.ninst
            try:
                for g in geoms:
                    self._geometry(g, local, default, True)
            except (TypeError, KeyError, IndexError, ValueError, AttributeError) as exc:
                c, r, p, u, s, i = saved
                del self.ri[c:], self.rs[r:], self.cuv[u:]
                for lst in (self.pn, self.p_obj, self.p_sem, self.p_lod, self.p_mat, self.p_tex):
                    del lst[p:]
                del self.seg_start[s:], self.seg_kind[s:], self.seg_base[s:], self.seg_n[s:]
                del self.inst[i:]
                self.ninst = ninst
                vs, nv = self._doc[0], self._doc[1]
                self._segment(0, vs, nv)
                self.report.skip(oid, f"broken geometry ({type(exc).__name__}: {exc})")
                return
        self.o_id.append(oid)
        self.o_type.append(otype)
        self.o_attr.append(attrs)
        par = obj.get("parents")
        self.o_par.append(par if par.__class__ is list else object_parents(obj))
        self.o_chi.append(obj.get("children"))
        self.o_c0.append(c0)

    def _one_per_lod(self, oid: str, geoms: list[Any]) -> list[Any]:
        """Keep one geometry per LoD: exports often carry, e.g., an LoD2 Solid with
        semantic surfaces and an LoD2 MultiSurface without; drawing both puts the
        plain copy over the coloured roofs. Geometry instances are left alone."""
        best: dict[int, int] = {}
        dup = False
        for k, g in enumerate(geoms):
            if g.__class__ is not dict or g.get("type") not in _SURFACE_DEPTH:
                continue
            lc = lod_code(g.get("lod"))
            if lc in best:
                dup = True
                if _geometry_rank(g) > _geometry_rank(geoms[best[lc]]):
                    best[lc] = k
            else:
                best[lc] = k
        if not dup:
            return geoms
        kept = set(best.values())
        out = []
        for k, g in enumerate(geoms):
            if k in kept or g.__class__ is not dict or g.get("type") not in _SURFACE_DEPTH:
                out.append(g)
                continue
            win = geoms[best[lod_code(g.get("lod"))]]
            why = " with semantic surfaces" if _has_semantics(win) else ""
            self.report.warn("same-lod-geometry", f"{oid}: LoD {g.get('lod')} drawn from the "
                             f"{win.get('type')}{why}, not the {g.get('type')}")
        return out

    def _sem_code(self, s: Any, default: int) -> int:
        t = s.get("type") if isinstance(s, dict) else None
        if not isinstance(t, str):
            return default
        c = self._sem.get(t)
        if c is None:
            c = self._sem[t] = semantic_code(t)
        return c if c else default

    def _geometry(self, g: dict[str, Any], obj: int, default: int, allow_instance: bool) -> None:
        gtype = g["type"]
        depth = _SURFACE_DEPTH.get(gtype)
        if depth is None:
            if gtype == "GeometryInstance" and allow_instance:
                self._instance(g, obj, default)
                return
            if gtype in _IGNORED:
                self.ignored[gtype] += 1
                return
            raise ValueError(f"unknown geometry type {gtype!r}")
        b = g["boundaries"]
        if depth == 1:
            surfaces = b
        elif depth == 2:
            surfaces = [s for shell in b for s in shell]
        else:
            surfaces = [s for solid in b for shell in solid for s in shell]
        n = len(surfaces)
        if n == 0:
            return
        ri, rs, pn = self.ri, self.rs, self.pn
        ri_extend, rs_append, pn_append = ri.extend, rs.append, pn.append
        c0 = len(ri)
        for surf in surfaces:
            for ring in surf:
                ri_extend(ring)
                rs_append(len(ring))
            pn_append(len(surf))
        if len(ri) - c0 and not isinstance(ri[-1], int):
            raise ValueError("boundaries nested too deep")
        self.p_obj.extend([obj] * n)
        lod = g.get("lod")
        hashable = lod.__class__ in (str, int, float)
        lc = self._lodc.get(lod) if hashable else None
        if lc is None:
            lc = lod_code(lod) if hashable or lod is None else 255
            if hashable:
                self._lodc[lod] = lc
        self.p_lod.extend([lc] * n)
        # semantics
        sem = g.get("semantics")
        if sem:
            try:
                cache = self._sem
                codes = []
                for s in sem.get("surfaces") or ():
                    c = cache.get(s["type"]) if s.__class__ is dict else None
                    if c is None:
                        c = self._sem_code(s, default)
                    codes.append(c or default)
                vals = sem.get("values")
                if depth == 2 and len(b) == 1 and vals and vals[0] and len(vals[0]) == n:
                    vals = vals[0]  # one shell: the common Solid
                elif depth != 1 or vals is None or len(vals) != n:
                    vals = _flat_values(vals, depth, b, n)
                self.p_sem.extend([codes[v] if v is not None else default for v in vals])
            except (TypeError, IndexError, ValueError, AttributeError) as exc:
                self.report.warn("bad-semantics", f"semantics ignored: {exc}")
                self.p_sem.extend([default] * n)
        else:
            self.p_sem.extend([default] * n)
        mat = g.get("material")
        tex = g.get("texture") if self.has_uv else None
        if not mat and not tex:
            neg = [-1] * n
            self.p_mat.extend(neg)
            self.p_tex.extend(neg)
            if self.has_uv:
                self.cuv.extend([-1] * (len(ri) - c0))
            return
        _, _, _, (mat_off, tex_off, uv_off) = self._doc
        # materials: first theme
        if mat:
            th = next(iter(mat.values()))
            if "values" in th:
                vals = _flat_values(th["values"], depth, b, n)
                self.p_mat.extend([v + mat_off if v is not None else -1 for v in vals])
            elif th.get("value") is not None:
                self.p_mat.extend([th["value"] + mat_off] * n)
            else:
                self.p_mat.extend([-1] * n)
        else:
            self.p_mat.extend([-1] * n)
        # textures: first theme; per polygon image, per corner uv
        if tex:
            th = next(iter(tex.values()))
            vals = _flat_values(th.get("values"), depth, b, n)
            cuv = self.cuv
            for surf, tv in zip(surfaces, vals):
                t0 = -1
                for k, ring in enumerate(surf):
                    entry = tv[k] if tv is not None and k < len(tv) else None
                    if entry and entry[0] is not None and len(entry) == len(ring) + 1:
                        if k == 0:
                            t0 = entry[0] + tex_off
                        cuv.extend([u + uv_off for u in entry[1:]])
                    else:
                        cuv.extend([-1] * len(ring))
                self.p_tex.append(t0)
        else:
            self.p_tex.extend([-1] * n)
            if self.has_uv:
                self.cuv.extend([-1] * (len(ri) - c0))

    def _instance(self, g: dict[str, Any], obj: int, default: int) -> None:
        ti = g["template"]
        if not isinstance(ti, int) or not 0 <= ti < len(self.templates):
            raise IndexError(f"template {ti!r} does not exist")
        tpl = self.templates[ti]
        vstart, nv, verts, _ = self._doc
        ref = g["boundaries"][0]
        if not isinstance(ref, int) or not 0 <= ref < nv:
            raise IndexError(f"reference point {ref!r} out of range")
        ref_xyz = np.asarray(verts[ref], dtype=np.float64).reshape(3)
        if self.scale is not None:
            ref_xyz = ref_xyz * self.scale + self.translate
        m = g.get("transformationMatrix")
        mat = np.eye(4) if m is None else np.asarray(m, dtype=np.float64).reshape(4, 4)
        tv = self.template_vertices
        xyz = tv @ mat[:3, :3].T + mat[:3, 3] + ref_xyz
        base = self.ninst
        self.inst.append(xyz)
        self.ninst += len(xyz)
        self._segment(1, base, len(xyz))
        if isinstance(tpl, dict) and "lod" not in tpl and "lod" in g:
            tpl = {**tpl, "lod": g["lod"]}
        self._geometry(tpl, obj, default, False)
        self._segment(0, vstart, nv)

    # ---------------------------------------------------------------- flush
    def _uv_array(self) -> NDArray[np.float32]:
        if self._uv_all is None:
            self._uv_all = (
                np.concatenate(self._uv_chunks) if self._uv_chunks else np.zeros((0, 2), np.float32)
            )
        return self._uv_all

    def _vertices(self, bad: dict[int, str]) -> NDArray[np.float64]:
        flat: list[Any] = []
        for vl in self.vlists:
            flat.extend(vl)
        try:
            # 2-3x faster than np.array on a list of lists; a wrong count raises
            v = np.fromiter(chain.from_iterable(flat), dtype=np.float64, count=3 * len(flat))
        except (ValueError, TypeError):
            v = np.zeros((len(flat), 3))
            for vstart, n, o0, o1 in self.blocks:
                try:
                    v[vstart : vstart + n] = np.array(flat[vstart : vstart + n], dtype=np.float64).reshape(n, 3)
                except (ValueError, TypeError):
                    for o in range(o0, o1):
                        bad.setdefault(o, "its vertices are not (x, y, z) numbers")
        del flat
        v = v.reshape(-1, 3)
        if self.scale is not None:
            v *= self.scale
            v += self.translate
        return v

    def _corner_indices(self, bad: dict[int, str]) -> NDArray[np.int64]:
        try:
            ri = np.array(self.ri, dtype=np.int64)
            if ri.ndim != 1:
                raise ValueError
            return ri
        except (ValueError, TypeError, OverflowError):
            pass
        ri = np.zeros(len(self.ri), np.int64)
        ends = self.o_c0[1:] + [len(self.ri)]
        for i, (c0, c1) in enumerate(zip(self.o_c0, ends)):
            try:
                part = np.array(self.ri[c0:c1], dtype=np.int64)
                if part.ndim != 1:
                    raise ValueError
                ri[c0:c1] = part
            except (ValueError, TypeError, OverflowError):
                bad.setdefault(i, "malformed boundaries (not vertex indices)")
        return ri

    def pack(self, detach_appearance: bool = False) -> Packed | None:
        """Convert the current batch to arrays (indices local to the batch) and reset it.

        With ``detach_appearance`` (worker processes) materials and textures that
        features added since the last pack are moved into the result, to be added
        to the real builder by :meth:`commit`.
        """
        nobj = len(self.o_id)
        if nobj == 0 and not self.ri:
            self._reset()
            return None
        bad: dict[int, str] = {}
        verts = self._vertices(bad)
        n_main = len(verts)
        if self.inst:
            verts = np.concatenate([verts, *self.inst])
        ri = self._corner_indices(bad)
        n_c = len(ri)
        rs = np.asarray(self.rs, dtype=np.int64)
        pn = np.asarray(self.pn, dtype=np.int64)
        p_obj = np.asarray(self.p_obj, dtype=np.int64)
        if n_c:
            starts = np.asarray(self.seg_start + [n_c], dtype=np.int64)
            lens = np.diff(starts)
            kind = np.asarray(self.seg_kind, dtype=np.int64)
            base = np.asarray(self.seg_base, dtype=np.int64) + np.where(kind == 1, n_main, 0)
            lim = np.repeat(np.asarray(self.seg_n, dtype=np.int64), lens)
            bad_c = (ri < 0) | (ri >= lim)
            ri += np.repeat(base, lens)
            if bad_c.any():
                ring_cum = np.concatenate([[0], np.cumsum(rs)])
                poly_r = np.concatenate([[0], np.cumsum(pn)])
                per_poly = ring_cum[poly_r[1:]] - ring_cum[poly_r[:-1]]
                corner_poly = np.repeat(np.arange(len(pn)), per_poly)
                for o in np.unique(p_obj[corner_poly[bad_c]]).tolist():
                    bad.setdefault(o, "vertex index out of range")
        uv = None
        if self.has_uv:
            cuv = np.asarray(self.cuv, dtype=np.int64)
            uva = self._uv_array()
            ok = (cuv >= 0) & (cuv < len(uva))
            uv = np.full((len(cuv), 2), np.nan, np.float32)
            uv[ok] = uva[cuv[ok]]
        pk = Packed(
            verts=verts, ri=ri, rs=rs, pn=pn, p_obj=p_obj,
            p_sem=np.asarray(self.p_sem, dtype=np.uint8),
            p_lod=np.asarray(self.p_lod, dtype=np.int64),
            p_mat=np.asarray(self.p_mat, dtype=np.int32),
            p_tex=np.asarray(self.p_tex, dtype=np.int32),
            uv=uv, ids=self.o_id, types=self.o_type, attrs=self.o_attr,
            parents=self.o_par, children=self.o_chi, bad=bad,
        )
        if detach_appearance:
            pk.mat_base, pk.tex_base = self.mat_base, self.tex_base
            pk.materials = self.b.materials[self.mat_base :]
            pk.textures = self.b.textures[self.tex_base :]
            del self.b.materials[self.mat_base :], self.b.textures[self.tex_base :]
        self._reset()
        return pk

    def commit(self, pk: Packed | None) -> None:
        """Add a packed batch to the builder: one ``add_vertices``, one ``add_polygons`` per LoD."""
        if pk is None:
            return
        b = self.b
        vstart = b.add_vertices(pk.verts)
        ri = pk.ri + vstart
        p_mat, p_tex = pk.p_mat, pk.p_tex
        if pk.materials:
            off = len(b.materials) - pk.mat_base
            for m in pk.materials:
                b.add_material(m)
            p_mat = np.where(p_mat >= pk.mat_base, p_mat + off, p_mat).astype(np.int32)
        if pk.textures:
            off = len(b.textures) - pk.tex_base
            for t in pk.textures:
                extra = {k: v for k, v in t.items() if k not in ("path", "found")}
                b.add_texture(t["path"], t["found"], **extra)
            p_tex = np.where(p_tex >= pk.tex_base, p_tex + off, p_tex).astype(np.int32)
        nobj = len(pk.ids)
        gidx = np.full(max(nobj, 1), -1, dtype=np.int64)
        add = b.add_object
        pp, pc = self.pending_parents, self.pending_children
        bad = pk.bad
        for i in range(nobj):
            if i in bad:
                self.report.skip(pk.ids[i], bad[i])
                continue
            g = add(pk.ids[i], pk.types[i], pk.attrs[i])
            gidx[i] = g
            par = pk.parents[i]
            if par:
                pp.append((g, par[0]))
                if len(par) > 1:
                    self.report.warn("several-parents", f"{pk.ids[i]}: only the first parent is kept")
            ch = pk.children[i]
            if ch:
                for c in ch:
                    pc.append((g, str(c)))
        pn, rs = pk.pn, pk.rs
        if not len(pn):
            return
        p_gobj = gidx[pk.p_obj]
        keep = p_gobj >= 0
        for code in np.unique(pk.p_lod[keep]).tolist():
            m = keep & (pk.p_lod == code)
            rm: Any = slice(None)
            cm: Any = slice(None)
            if not m.all():
                rm = np.repeat(m, pn)
                cm = np.repeat(rm, rs)
            b.add_polygons(
                p_gobj[m],
                ri[cm],
                rs[rm],
                pn[m],
                semantic=pk.p_sem[m],
                lod=lod_value(int(code)),
                material=p_mat[m],
                texture=p_tex[m],
                uv=None if pk.uv is None else pk.uv[cm],
            )

    def flush(self) -> None:
        """Convert the current batch to arrays and add it to the builder."""
        self.commit(self.pack())

    # --------------------------------------------------------------- finish
    def finish(self) -> None:
        """Resolve parent/child links (children may come before parents) and metadata."""
        table = self.b.objects
        idx = table.index
        missing = 0
        for child, pid in self.pending_parents:
            pi = idx.get(pid)
            if pi is None or pi == child:
                missing += 1
                if missing <= 5:
                    self.report.warn("missing-parent", f"{table.ids[child]}: parent {pid!r} not in the file")
                continue
            table.set_parent(child, pi)
        for parent, cid in self.pending_children:
            ci = idx.get(cid)
            if ci is None:
                self.report.warn("missing-child", f"{table.ids[parent]}: child {cid!r} not in the file")
                continue
            if table.parent(ci) < 0 and ci != parent:
                table.set_parent(ci, parent)
        if missing > 5:
            self.report.warn("missing-parent", n=missing - 5)
        self._break_cycles()
        md = self.b.metadata
        md["cityjson_version"] = self.header.version
        if self.header.metadata:
            md["cityjson_metadata"] = self.header.metadata
        if self.header.geographical_extent:
            md["geographicalExtent"] = self.header.geographical_extent
        if self.header.extensions:
            md["extensions"] = self.header.extensions
        if self.ignored:
            md["ignored_geometries"] = dict(self.ignored)
        self.pending_parents, self.pending_children = [], []

    def _break_cycles(self) -> None:
        table = self.b.objects
        par = table.parents.astype(np.int64)
        if not len(par) or (par < 0).all():
            return
        cur = par.copy()
        for _ in range(64):
            has = cur >= 0
            if not has.any():
                return
            nxt = np.full_like(cur, -1)
            nxt[has] = par[cur[has]]
            cur = nxt
        for i in np.nonzero(cur >= 0)[0].tolist():
            table.set_parent(i, -1)
            self.report.warn("parent-cycle", f"{table.ids[i]}: parent links form a cycle; cut")
