"""Streaming CityGML 1.0 / 2.0 / 3.0 reader.

The file is read with an ``lxml.etree.XMLPullParser`` restricted to the top-level member
elements (``cityObjectMember``, ``featureMember``, ``appearanceMember``); each one is
turned into objects, polygon slots and appearance records on its end event and then
freed with its preceding siblings, so memory follows the output, not the XML tree.
The parser never resolves entities, never loads a DTD and never touches the network.

Within a member the walk is structural (object -> property -> thematic surface ->
geometry property) in Python, while the geometry below a property is walked
directly for the usual MultiSurface / CompositeSurface / Solid shapes or found with
``Element.iter(tags)`` in C, and its coordinates are parsed with one numpy call per
ring. XLinks and appearance targets are settled as members end (most point into
their own member) and finally at the end of the file; closing points, NaN checks and
orientation are applied once, vectorised, so a polygon is emitted exactly once, where
it is defined. The cyclic garbage collector is paused while streaming (many
short-lived proxies, no cycles) and restored afterwards.
"""

from __future__ import annotations

import gc
import gzip
import logging
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree
from pyproj import CRS

from ...core.crs import parse_crs
from ...core.errors import CityTwinError, CRSError, ReaderError
from ...model.builder import CityModelBuilder
from ...model.city import CityModel
from ..source import Cancel, Progress, open_input, read_head
from . import attributes as at
from .appearance import Appearances
from .geometry import PolygonStore
from .implicit import Implicit
from .names import (
    GEOM_KIND,
    GML_IDS,
    K_AGG,
    K_MEMBER,
    K_ORIENT,
    K_POLY,
    K_SOLID,
    LN,
    OBJECTS,
    P_ADDRESS,
    P_APPEAR,
    P_CURVE,
    P_DESC,
    P_GENERIC,
    P_GENERIC3,
    P_GEOM,
    P_IMPLICIT,
    P_NAME,
    P_OTHER,
    P_SKIP,
    P_TIN,
    SURFACE_CODE,
    SURFACES,
    TRANSPARENT,
    XLINK_HREF,
    FileTags,
    citygml_version,
    default_semantic,
    file_gml_namespaces,
    is_gml,
    prop_kind,
)

log = logging.getLogger(__name__)

_ID0, _ID1 = GML_IDS
_MEMBERS = ["{*}cityObjectMember", "{*}featureMember", "{*}featureMembers", "{*}appearanceMember"]
_SRS_XPATH = etree.XPath("(.//@srsName)[1]")
_PARSER_OPTS: dict[str, Any] = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def _root_of(path: Path) -> tuple[str | None, list[str]]:
    """Root element tag and declared namespaces, from the head of the file.

    ``(None, [])`` when the head holds no start tag (a very long prolog): the root is
    then checked on the first member.
    """
    head = read_head(path, 1 << 16)
    if not head.strip():
        raise ReaderError(path, "the file is empty")
    parser = etree.XMLPullParser(events=("start",), **_PARSER_OPTS)
    error = None
    try:
        parser.feed(head)
    except etree.XMLSyntaxError as exc:  # events before the error are still there
        error = exc
    for _, el in parser.read_events():
        return el.tag, list(el.nsmap.values())
    if error is not None:
        line = error.lineno if error.lineno is not None else "?"
        raise ReaderError(path, f"not well-formed XML at line {line}: {error.msg}") from error
    return None, []


def _check_root(path: Path, tag: str) -> None:
    if LN[tag] != "CityModel":
        raise ReaderError(path, f"root element is {LN[tag]}, expected a CityGML CityModel")


class _Reader:
    def __init__(self, path: Path, builder: CityModelBuilder, tags: FileTags) -> None:
        self.path = path
        self.b = builder
        self.tags = tags
        self.full = False  # the current member needs the full geometry walk
        self.store = PolygonStore(tags.ring, tags.ids)
        self.app = Appearances(builder, path.resolve().parent)
        self.implicit = Implicit(self.store)
        self.refs: list[tuple[str, int, bool]] = []  # (href, semantic, from a surface)
        self.resolved = 0
        self._unsettled = 0  # refs still open after the last settle_refs()
        self.surface_counts: Counter[str] = Counter()
        self.curves = 0
        self.srs: str | None = None
        self.members = 0

    # ------------------------------------------------------------------ members
    def member(self, m: Any) -> None:
        self.members += 1
        if self.srs is None:
            hit = _SRS_XPATH(m)
            if hit:
                self.srs = str(hit[0])
        full = False
        for g in m.iter(self.tags.rare):
            k = GEOM_KIND[g.tag]
            if k == K_ORIENT or g.get(_ID0) is not None or g.get(_ID1) is not None:
                full = True
                break
            if k == K_SOLID and any(LN[c.tag] == "interior" for c in g):
                full = True
                break
        self.full = full
        for el in m:
            name = LN[el.tag]
            if not name:
                continue
            if name == "Appearance":
                self.app.add(el)
            else:
                self.obj(el, -1)
        self.store.pack()
        if len(self.refs) > self._unsettled + 256:  # most xlinks point into their own member
            self.settle_refs()
        if len(self.app.materials) > self.app.unsettled + 256:
            self.app.settle(self.store)

    # ------------------------------------------------------------------ objects
    def obj(self, el: Any, parent: int) -> None:
        ln = LN[el.tag]
        gid = el.get(_ID0) or el.get(_ID1) or f"{ln}_{len(self.b.objects) + 1}"
        attrs: dict[str, Any] = {}
        idx = self.b.add_object(gid, ln, attrs, parent)
        self.body(el, idx, default_semantic(ln), attrs)

    def body(self, el: Any, idx: int, dsem: int, attrs: dict[str, Any] | None) -> None:
        """Properties of a city object (``attrs`` None: a transparent space's)."""
        for prop in el:
            tag = prop.tag
            if not isinstance(tag, str):
                continue
            kind, lod = prop_kind(tag)
            if kind == P_GEOM:
                self.geom(prop, idx, dsem, lod, False)  # type: ignore[arg-type]
            elif kind == P_SKIP:
                continue
            elif kind == P_CURVE:
                self.curves += sum(1 for _ in prop.iter(self.tags.curve))
            elif kind == P_IMPLICIT:
                self.implicit.add(prop, idx, dsem, lod)  # type: ignore[arg-type]
            elif kind == P_APPEAR:
                for a in prop:
                    if LN[a.tag] == "Appearance":
                        self.app.add(a)
            elif kind == P_TIN:
                lv = attrs.get("lod") if attrs else None
                self.geom(prop, idx, dsem, lv if isinstance(lv, int) else -1, False)
            elif attrs is None:
                self.children(prop, idx, None)
            elif kind == P_NAME:
                if prop.text and "name" not in attrs:
                    attrs["name"] = prop.text.strip()
            elif kind == P_DESC:
                if prop.text:
                    attrs["description"] = prop.text.strip()
            elif kind == P_GENERIC:
                at.generic(prop, attrs)
            elif kind == P_GENERIC3:
                for g in prop:
                    if isinstance(g.tag, str):
                        at.generic(g, attrs)
            elif kind == P_ADDRESS:
                s = at.address(prop)
                if s:
                    at.put(attrs, "address", s)
            elif len(prop) == 0:
                at.simple(attrs, LN[tag], prop)
            else:
                self.children(prop, idx, attrs)

    def children(self, prop: Any, idx: int, attrs: dict[str, Any] | None) -> None:
        """A property with element children: objects, surfaces, spaces or ADE data."""
        pname = LN[prop.tag]
        for c in prop:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            cn = LN[tag]
            if cn in SURFACES:
                self.surface(c, idx, cn)
            elif cn in OBJECTS:
                self.obj(c, idx)
            elif cn in TRANSPARENT:
                self.body(c, idx, default_semantic(cn), None)
            elif cn == "Appearance":
                self.app.add(c)
            elif attrs is not None and not is_gml(tag):
                if pname == "height":
                    at.height3(prop, attrs)
                    return
                at.leaves(c, attrs)

    def surface(self, el: Any, idx: int, name: str) -> None:
        """A thematic surface (with openings / filling surfaces / nested boundaries)."""
        self.surface_counts[name] += 1
        sem = SURFACE_CODE[name]
        for prop in el:
            tag = prop.tag
            if not isinstance(tag, str):
                continue
            kind, lod = prop_kind(tag)
            if kind == P_GEOM:
                self.geom(prop, idx, sem, lod, True)  # type: ignore[arg-type]
            elif kind == P_CURVE:
                self.curves += sum(1 for _ in prop.iter(self.tags.curve))
            elif kind == P_IMPLICIT:
                self.implicit.add(prop, idx, sem, lod)  # type: ignore[arg-type]
            elif kind == P_OTHER and len(prop):  # openings, filling surfaces, nested boundaries
                for c in prop:
                    if isinstance(c.tag, str):
                        cn = LN[c.tag]
                        if cn in SURFACES:
                            self.surface(c, idx, cn)

    # ----------------------------------------------------------------- geometry
    def geom(self, prop: Any, obj: int, sem: int, lod: int, owned: bool) -> None:
        """All polygons below one geometry property (xlinks recorded for the end)."""
        href = prop.get(XLINK_HREF)
        if href is not None:
            self.refs.append((href, sem, owned))
            return
        store = self.store
        add = store.add
        d = prop[0].get("srsDimension") if len(prop) else None
        store.dim = 2 if d == "2" else 3
        if not self.full:
            # the usual shapes (MultiSurface / CompositeSurface / Solid of surface members)
            # are walked directly; anything else goes through one C-level iter()
            tags = self.tags
            g = prop[0] if len(prop) == 1 else None
            if g is not None and g.tag in tags.solid and len(g) == 1 and len(g[0]) == 1:
                g = g[0][0]  # Solid / exterior / CompositeSurface or Shell
            if g is not None and g.tag in tags.surfaces:
                polys = tags.poly_set
                for sm in g:
                    if len(sm) == 1:
                        c = sm[0]
                        if c.tag in polys:
                            add(c, obj, sem, lod, owned)
                            continue
                    else:
                        h = sm.get(XLINK_HREF)
                        if h is not None:
                            self.refs.append((h, sem, owned))
                            continue
                    self.geom_iter(sm, obj, sem, lod, owned)
                return
            self.geom_iter(prop, obj, sem, lod, owned)
            return
        poly_tags = self.tags.poly
        skip: set[Any] | None = None
        flip: set[Any] | None = None
        for g in prop.iter(self.tags.full):
            k = GEOM_KIND[g.tag]
            if k == K_POLY:
                if skip is not None and g in skip:
                    continue
                slot = add(g, obj, sem, lod, owned)
                if flip is not None and g in flip:
                    store.flip.add(slot)
            elif k == K_MEMBER:
                h = g.get(XLINK_HREF)
                if h is not None:
                    self.refs.append((h, sem, owned))
            elif k == K_AGG:
                gid = g.get(_ID0) or g.get(_ID1)
                if gid is not None:
                    n = sum(1 for p in g.iter(poly_tags) if skip is None or p not in skip)
                    start = len(store)
                    store.aggs[gid] = (start, start + n)
            elif k == K_SOLID:
                gid = g.get(_ID0) or g.get(_ID1)
                for part in g:
                    if LN[part.tag] == "interior":  # only the outer shell is drawn
                        if skip is None:
                            skip = set()
                        skip.update(part.iter(poly_tags))
                if gid is not None:
                    n = sum(1 for p in g.iter(poly_tags) if skip is None or p not in skip)
                    start = len(store)
                    store.aggs[gid] = (start, start + n)
            elif k == K_ORIENT:
                if g.get("orientation") == "-":
                    if flip is None:
                        flip = set()
                    flip.symmetric_difference_update(set(g.iter(poly_tags)))
            else:  # K_CURVE
                self.curves += 1

    def geom_iter(self, el: Any, obj: int, sem: int, lod: int, owned: bool) -> None:
        """Polygons and surface-member xlinks below ``el``, found in C."""
        add = self.store.add
        for g in el.iter(self.tags.fast):
            if GEOM_KIND[g.tag] == K_POLY:
                add(g, obj, sem, lod, owned)
            else:
                h = g.get(XLINK_HREF)
                if h is not None:
                    self.refs.append((h, sem, owned))

    # -------------------------------------------------------------- resolving
    def settle_refs(self) -> None:
        """Resolve the xlinks whose targets are known; keep the others for later."""
        store = self.store
        sem = store.poly_sem
        owned = store.poly_owned
        later = []
        for ref in self.refs:
            slots = store.slots(ref[0])
            if slots is None:
                later.append(ref)
                continue
            self.resolved += 1
            if ref[2]:  # from a thematic surface: it owns the polygons it references
                for p in slots:
                    if not owned[p]:
                        sem[p] = ref[1]
                        owned[p] = True
        self.refs = later
        self._unsettled = len(later)

    def resolve_refs(self) -> tuple[int, int]:
        """Give xlinked polygons the semantics of the surface that references them."""
        self.settle_refs()
        return self.resolved, len(self.refs)


def _as_crs(crs: Any) -> CRS:
    if isinstance(crs, CRS):
        return crs
    return parse_crs(str(crs))


CHUNK = 1 << 16  # bytes fed to the parser at a time


class _Members:
    """Top-level member elements of a stream, fed to a pull parser in our own chunks.

    On a syntax error the members that ended before it are still yielded, then the error
    is raised: lxml's ``iterparse`` drops the events of the chunk that failed (with
    libxml2 2.14 a small file is one chunk, so nothing survived), whereas
    ``XMLPullParser.read_events()`` keeps every event parsed before the error whatever
    the chunk size or the line breaks. A document that ends early raises at ``close()``
    without the members it left open. ``root`` is the root element once the stream is
    done.
    """

    def __init__(self, src: Any, chunk: int = CHUNK) -> None:
        self.src = src
        self.chunk = chunk
        self.root: Any = None
        self.parser = etree.XMLPullParser(
            events=("end",), tag=_MEMBERS, remove_blank_text=True, remove_comments=True,
            remove_pis=True, collect_ids=False, **_PARSER_OPTS,
        )

    def __iter__(self) -> Any:
        parser = self.parser
        while True:
            data = self.src.read(self.chunk)
            if not data:
                # close() of a truncated document ends the open elements and reports their
                # events before raising: those members are incomplete, so none is kept
                self.root = parser.close()
                yield from (m for _, m in parser.read_events())
                return
            error = None
            try:
                parser.feed(data)
            except etree.XMLSyntaxError as exc:
                error = exc
            yield from (m for _, m in parser.read_events())
            if error is not None:
                raise error


def _stream(r: _Reader, src: Any, root_tag: str | None) -> str | None:
    """Feed every top-level member to ``r``; return the XML error that stopped it, if any."""
    p, b = r.path, r.b
    gc_was_on = gc.isenabled()
    gc.disable()  # many short-lived proxies and no cycles: the collector would only cost time
    members = _Members(src, CHUNK)
    try:
        for m in members:
            if r.members == 0:
                root = m.getparent()
                if root_tag is None:  # the head held no start tag
                    _check_root(p, root.tag if root is not None else m.tag)
                    if root is not None:
                        b.version = citygml_version([root.tag.partition("}")[0][1:], *root.nsmap.values()])
                if root is not None and r.srs is None:
                    for c in root:
                        if LN[c.tag] == "boundedBy":
                            hit = _SRS_XPATH(c)
                            if hit:
                                r.srs = str(hit[0])
                            break
            try:
                r.member(m)
            except CityTwinError:
                raise
            except Exception as exc:  # a member we cannot make sense of: skip it, load the rest
                first = next((c for c in m if isinstance(c.tag, str)), m)
                name = first.get(_ID0) or first.get(_ID1) or LN[first.tag]
                b.report.skip(name, f"unreadable ({type(exc).__name__}: {exc})")
                log.debug("member skipped", exc_info=True)
            m.clear(keep_tail=True)
            parent = m.getparent()
            if parent is not None:
                while m.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else "?"
        return f"line {line}: {exc.msg}"
    except (EOFError, OSError, zlib.error, gzip.BadGzipFile) as exc:
        return f"file ends early or is damaged: {exc}"
    finally:
        if gc_was_on:
            gc.enable()
    if root_tag is None and r.members == 0 and members.root is not None:
        _check_root(p, members.root.tag)
    return None


def read_citygml(
    path: str | Path,
    *,
    crs: Any = None,
    target_crs: Any = None,
    origin: Any = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> CityModel:
    """Read a CityGML 1.0, 2.0 or 3.0 file (plain or gzipped) into a :class:`CityModel`.

    Parameters
    ----------
    path
        The ``.gml`` / ``.xml`` file, possibly gzipped.
    crs
        A CRS the user states (str or pyproj CRS); overrides the file's ``srsName``.
    target_crs, origin
        Scene CRS and float64 origin, passed to :meth:`CityModelBuilder.build`.
    progress, cancel
        Progress callback (fraction of bytes read) and cancel check.

    Returns
    -------
    CityModel
        Objects (with parents and attributes), triangulated polygons with semantics,
        LoD, materials and textures; ``metadata["citygml_version"]`` and
        ``metadata["surface_counts"]``.

    Raises
    ------
    ReaderError
        When nothing can be loaded (not XML, not a CityModel, broken before the
        first object).
    """
    p = Path(path)
    root_tag, nss = _root_of(p)
    if root_tag is not None:
        _check_root(p, root_tag)
        nss = [root_tag.partition("}")[0][1:], *nss]
    version = citygml_version(nss)
    b = CityModelBuilder(str(p), "CityGML", version)
    r = _Reader(p, b, FileTags(file_gml_namespaces(nss)))
    src = open_input(p, progress, cancel)
    with src:
        xml_error = _stream(r, src, root_tag)
    if xml_error is not None:
        if len(b.objects) == 0 and len(r.store) == 0:
            raise ReaderError(p, f"not well-formed XML at {xml_error}" if xml_error.startswith("line")
                              else xml_error)
        b.report.warn("xml-error", xml_error)

    if not b.version:
        b.report.warn("unknown-version", "no CityGML namespace found; read by element names")
    _set_crs(b, r.srs, crs)
    r.implicit.finish(b.report)
    resolved, unresolved = r.resolve_refs()
    if unresolved:
        b.report.warn("unresolved-xlink", f"{unresolved} xlink(s) to geometry not in the file", n=unresolved)
    material, texture, uv_raw, missing = r.app.resolve(r.store)
    if missing:
        b.report.warn("appearance-target", f"{missing} appearance target(s) not found", n=missing)
    if r.store.broken:
        b.report.warn("bad-polygon", f"{r.store.broken} polygon(s) with unreadable coordinates skipped",
                      n=r.store.broken)
    a = r.store.assemble(material, texture, uv_raw)
    if a.bad:
        b.report.warn("bad-coordinate", f"{a.bad} polygon(s) with NaN/inf coordinates skipped", n=a.bad)
    _add_to_builder(b, a)
    b.metadata.update(
        {
            "citygml_version": b.version,
            "surface_counts": dict(sorted(r.surface_counts.items())),
            "ignored_curves_points": r.curves,
            "xlinks": {"resolved": resolved, "unresolved": unresolved},
            "implicit_geometries": r.implicit.instances,
        }
    )
    if r.app.theme is not None:
        b.metadata["appearance_theme"] = r.app.theme
    if r.app.other_themes:
        b.metadata["other_themes"] = list(r.app.other_themes)
    if r.app.skipped:
        b.metadata["appearance_skipped"] = dict(r.app.skipped)
    tcrs = _as_crs(target_crs) if target_crs is not None else None
    return b.build(target_crs=tcrs, origin=origin)


def _set_crs(b: CityModelBuilder, srs: str | None, user: Any) -> None:
    if srs is not None:
        b.metadata["srsName"] = srs
    if user is not None:
        try:
            b.crs = _as_crs(user)
        except CRSError as exc:
            raise ReaderError(b.source, f"unknown CRS given: {user}") from exc
        return
    if srs is None:
        return
    try:
        b.crs = parse_crs(srs)
    except CRSError:
        b.report.warn("unknown-crs", f"unknown srsName '{srs}'; loaded in local coordinates")


def _add_to_builder(b: CityModelBuilder, a: Any) -> None:
    """Hand the kept polygons to the builder, one batch per LoD."""
    if len(a.poly_nrings) == 0:
        return
    base = b.add_vertices(a.coords)
    corner_ring = np.repeat(np.arange(len(a.ring_sizes)), a.ring_sizes)
    ring_poly = np.repeat(np.arange(len(a.poly_nrings)), a.poly_nrings)
    corner_poly = ring_poly[corner_ring]
    for lod in np.unique(a.lod):
        pm = a.lod == lod
        rm = pm[ring_poly]
        cm = pm[corner_poly]
        b.add_polygons(
            a.obj[pm],
            base + np.nonzero(cm)[0],
            a.ring_sizes[rm],
            a.poly_nrings[pm],
            semantic=a.sem[pm],
            lod=None if lod < 0 else int(lod),
            material=a.material[pm],
            texture=a.texture[pm],
            uv=a.uv[cm] if a.uv is not None else None,
        )
