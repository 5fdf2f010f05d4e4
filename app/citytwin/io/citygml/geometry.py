"""GML polygons -> flat arrays.

:class:`PolygonStore` gives every polygon element met in a geometry property one
*slot* (in document order) and keeps its rings as raw ``(n, 3)`` coordinate arrays
(closing point included, as in the file). Everything that needs the whole file --
xlinks, appearances, closing-point removal, NaN checks, orientation -- is done once,
vectorised, in :meth:`PolygonStore.assemble`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .names import COORDS_TAGS, GML_IDS, POS_TAGS, POSLIST_TAGS, RING_TAGS


def _parse(text: str | None, dim: int) -> NDArray[np.float64] | None:
    if not text:
        return None
    try:
        arr = np.fromstring(text, sep=" ")  # one C call per ring
    except ValueError:
        return None
    n = len(arr)
    if n % dim:
        if dim == 3 and n % 2 == 0:
            dim = 2
        else:
            return None
    if dim == 3:
        return arr.reshape(-1, 3)
    pts = arr.reshape(-1, dim)
    out = np.zeros((len(pts), 3))
    out[:, : min(dim, 3)] = pts[:, :3]
    return out


def ring_coords(lr: Any, dim: int = 3) -> NDArray[np.float64] | None:
    """``(n, 3)`` coordinates of a ``gml:LinearRing`` (posList, pos list or GML2 coordinates).

    ``dim`` is the ``srsDimension`` inherited from the enclosing geometry, used when
    the posList states none.
    """
    n = len(lr)
    if n == 1:
        c = lr[0]
        tag = c.tag
        if tag in POSLIST_TAGS:
            d = c.get("srsDimension")
            if d is None and dim != 3:
                d = str(dim)
            if d is None or d == "3":  # the usual case, inlined
                text = c.text
                if not text:
                    return None
                try:
                    arr = np.fromstring(text, sep=" ")
                except ValueError:
                    return None
                if len(arr) % 3 == 0:
                    return arr.reshape(-1, 3)
                return _parse(text, 3)
            return _parse(c.text, int(d) if d.isdigit() else 3)
        if tag in COORDS_TAGS:
            text = c.text or ""
            cs = c.get("cs", ",")
            tuples = text.split(c.get("ts") or None)
            if not tuples:
                return None
            dim = len(tuples[0].split(cs))
            return _parse(" ".join(tuples).replace(cs, " "), dim)
        return None
    if n == 0:
        return None
    # a list of gml:pos
    texts = [p.text for p in lr if p.tag in POS_TAGS]
    if not texts or None in texts:
        return None
    n = len(texts)
    try:
        flat = np.fromstring(" ".join(texts), sep=" ")
    except ValueError:
        return None
    k = len(flat)
    if k == 3 * n or (k % 3 == 0 and k != 2 * n):
        return flat.reshape(-1, 3)
    if k == 2 * n:
        out = np.zeros((n, 3))
        out[:, :2] = flat.reshape(-1, 2)
        return out
    return None


@dataclass
class Assembled:
    """Kept polygons, as the builder wants them."""

    coords: NDArray[np.float64]  # (C, 3) corners, closing points removed
    ring_sizes: NDArray[np.int64]
    poly_nrings: NDArray[np.int64]
    obj: NDArray[np.int32]
    sem: NDArray[np.uint8]
    lod: NDArray[np.int64]  # -1 = unknown
    material: NDArray[np.int32]
    texture: NDArray[np.int32]
    uv: NDArray[np.float32] | None
    bad: int  # polygons dropped (NaN coordinates)


class PolygonStore:
    """Polygon slots with their rings, ids, objects, semantics and LoDs."""

    def __init__(self, ring_tags: tuple[str, ...] = RING_TAGS, ids: tuple[str, ...] = GML_IDS) -> None:
        self.ring_tags = ring_tags
        self._id = ids[0]
        self._id2 = ids[1] if len(ids) > 1 else None
        self.rings: list[NDArray[np.float64]] = []  # rings not yet packed into a chunk
        self.chunks: list[NDArray[np.float64]] = []  # packed rings, one array per member
        self.ring_sizes: list[int] = []  # of every ring (global ring index = position here)
        self.ring_ids: dict[str, int] = {}
        self.poly_nrings: list[int] = []
        self.poly_obj: list[int] = []
        self.poly_sem: list[int] = []
        self.poly_lod: list[int] = []
        self.poly_owned: list[bool] = []  # geometry of a thematic surface
        self.poly_ids: dict[str, int] = {}
        self.aggs: dict[str, tuple[int, int]] = {}  # id of an aggregate -> slot range
        self.flip: set[int] = set()
        self.broken = 0  # polygons whose coordinates could not be read
        self.dim = 3  # srsDimension of the geometry being read

    def __len__(self) -> int:
        return len(self.poly_obj)

    # ------------------------------------------------------------------ adding
    def add(self, poly: Any, obj: int, sem: int, lod: int, owned: bool) -> int:
        """Parse one ``gml:Polygon``/``Triangle``/``PolygonPatch`` into the next slot."""
        slot = len(self.poly_obj)
        idk, id2 = self._id, self._id2
        nr = 0
        b = poly[0] if len(poly) == 1 else None
        if b is not None and len(b) == 1:  # one boundary, one ring: the common case
            lr = b[0]
            arr = ring_coords(lr, self.dim)
            if arr is not None and len(arr) >= 3:
                rid = lr.get(idk)
                if rid is None and id2 is not None:
                    rid = lr.get(id2)
                if rid is not None:
                    self.ring_ids[rid] = len(self.ring_sizes)
                self.rings.append(arr)
                self.ring_sizes.append(len(arr))
                nr = 1
            else:
                self.broken += 1
        else:
            nr = self._rings(poly)
        pid = poly.get(idk)
        if pid is None and id2 is not None:
            pid = poly.get(id2)
        if pid is not None:
            self.poly_ids[pid] = slot
        self.poly_nrings.append(nr)
        self.poly_obj.append(obj)
        self.poly_sem.append(sem)
        self.poly_lod.append(lod)
        self.poly_owned.append(owned)
        return slot

    def _rings(self, poly: Any) -> int:
        """Rings of a polygon with holes (or an unusual encoding); 0 if one is unreadable."""
        rings = self.rings
        sizes = self.ring_sizes
        start, start_s = len(rings), len(sizes)
        rids = []
        for lr in poly.iter(self.ring_tags):
            arr = ring_coords(lr, self.dim)
            if arr is None or len(arr) < 3:
                del rings[start:], sizes[start_s:]
                self.broken += 1
                return 0
            rid = lr.get(self._id) or (lr.get(self._id2) if self._id2 else None)
            if rid is not None:
                rids.append((rid, len(sizes)))
            rings.append(arr)
            sizes.append(len(arr))
        if len(rings) == start:
            self.broken += 1
            return 0
        for rid, r in rids:
            self.ring_ids[rid] = r
        return len(rings) - start

    def add_rings(self, rings: list[NDArray[np.float64]], obj: int, sem: int, lod: int) -> None:
        """Add one polygon from already parsed rings (implicit geometry instances)."""
        for r in rings:
            self.rings.append(r)
            self.ring_sizes.append(len(r))
        self.poly_nrings.append(len(rings))
        self.poly_obj.append(obj)
        self.poly_sem.append(sem)
        self.poly_lod.append(lod)
        self.poly_owned.append(False)

    def pack(self) -> None:
        """Join the rings read since the last call into one array (fewer Python objects)."""
        if self.rings:
            self.chunks.append(self.rings[0] if len(self.rings) == 1 else np.concatenate(self.rings))
            self.rings = []

    # --------------------------------------------------------------- resolving
    def slots(self, ref: str) -> range | None:
        """Slots named by a polygon or aggregate id (``#`` and file part stripped)."""
        key = ref.rpartition("#")[2] if "#" in ref else ref
        s = self.poly_ids.get(key)
        if s is not None:
            return range(s, s + 1)
        a = self.aggs.get(key)
        if a is not None:
            return range(a[0], a[1])
        return None

    def ring_starts(self) -> NDArray[np.int64]:
        sizes = np.asarray(self.ring_sizes, np.int64)
        return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) else sizes

    def poly_first_ring(self) -> NDArray[np.int64]:
        nr = np.asarray(self.poly_nrings, np.int64)
        return np.concatenate([[0], np.cumsum(nr)[:-1]]).astype(np.int64) if len(nr) else nr

    # ---------------------------------------------------------------- assembly
    def assemble(
        self,
        material: NDArray[np.int32],
        texture: NDArray[np.int32],
        uv_raw: NDArray[np.float32] | None,
    ) -> Assembled:
        """Drop closing points and broken polygons, apply orientation; arrays for the builder."""
        sizes = np.asarray(self.ring_sizes, np.int64)
        nrings = np.asarray(self.poly_nrings, np.int64)
        self.pack()
        coords = np.concatenate(self.chunks) if self.chunks else np.zeros((0, 3))
        starts = self.ring_starts()
        if self.flip:
            first = self.poly_first_ring()
            for p in self.flip:
                for r in range(first[p], first[p] + nrings[p]):
                    s, e = starts[r], starts[r] + sizes[r]
                    coords[s:e] = coords[s:e][::-1].copy()
                    if uv_raw is not None:
                        uv_raw[s:e] = uv_raw[s:e][::-1].copy()
        n_c = len(coords)
        keep = np.ones(n_c, bool)
        if len(sizes):
            last = starts + sizes - 1
            closed = (sizes >= 2) & (coords[starts] == coords[last]).all(axis=1)
            keep[last[closed]] = False
            new_sizes = sizes - closed
        else:
            new_sizes = sizes
        # polygons with NaN/inf corners are dropped
        ring_poly = np.repeat(np.arange(len(nrings)), nrings)
        corner_ring = np.repeat(np.arange(len(sizes)), sizes)
        bad_corner = ~np.isfinite(coords).all(axis=1)
        poly_ok = nrings > 0
        bad = 0
        if bad_corner.any():
            bad_ring = np.zeros(len(sizes), bool)
            bad_ring[corner_ring[bad_corner]] = True
            bad_poly = np.zeros(len(nrings), bool)
            bad_poly[ring_poly[bad_ring]] = True
            bad = int((bad_poly & poly_ok).sum())
            poly_ok &= ~bad_poly
        ring_ok = poly_ok[ring_poly] if len(ring_poly) else np.zeros(0, bool)
        corner_ok = keep & ring_ok[corner_ring] if len(corner_ring) else keep
        return Assembled(
            coords=coords[corner_ok],
            ring_sizes=new_sizes[ring_ok],
            poly_nrings=nrings[poly_ok],
            obj=np.asarray(self.poly_obj, np.int32)[poly_ok],
            sem=np.asarray(self.poly_sem, np.uint8)[poly_ok],
            lod=np.asarray(self.poly_lod, np.int64)[poly_ok],
            material=material[poly_ok],
            texture=texture[poly_ok],
            uv=uv_raw[corner_ok] if uv_raw is not None else None,
            bad=bad,
        )
