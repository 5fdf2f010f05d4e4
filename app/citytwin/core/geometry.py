"""Polygon geometry on flat numpy arrays: Newell normals, areas and batch triangulation.

Polygons are given the way CityJSON stores them, flattened:

``ring_idx``
    vertex index of every ring corner, all rings concatenated (no closing duplicate);
``ring_offsets``
    ``(R + 1,)`` start of every ring in ``ring_idx``;
``poly_ring_offsets``
    ``(P + 1,)`` start of every polygon in the list of rings; a polygon's first
    ring is its exterior, the others are holes.

Triangulation is vectorised: triangles and convex polygons without holes (most wall
and many roof polygons of real city models) are fanned in numpy; only concave
polygons and polygons with holes go through earcut (``mapbox_earcut``), one call
each, on the plane of their Newell normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import mapbox_earcut
import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

# per-polygon status bits
DEGENERATE = 1  # fewer than 3 distinct corners or no area: no triangles
NON_PLANAR = 2  # corners further than the tolerance from the best plane
SELF_INTERSECTING = 4  # triangle area disagrees with the polygon area
TRIANGULATION_FAILED = 8


@dataclass
class Triangulation:
    """Result of :func:`triangulate_polygons`.

    ``corners`` are positions in ``ring_idx`` (so per-corner data such as texture
    coordinates can be looked up too); ``vertex_index = ring_idx[corners]``.
    """

    corners: NDArray[np.int32]  # (T, 3)
    tri_poly: NDArray[np.int32]  # (T,)
    status: NDArray[np.uint8]  # (P,) bit mask of the flags above
    normals: F64  # (P, 3) unit Newell normals (zero for degenerate polygons)


def _next_in_ring(ring_offsets: I64) -> I64:
    """Index of the following corner of every corner, wrapping at ring ends."""
    n = int(ring_offsets[-1])
    nxt = np.arange(1, n + 1, dtype=np.int64)
    sizes = np.diff(ring_offsets)
    ends = ring_offsets[1:] - 1
    ok = sizes > 0
    nxt[ends[ok]] = ring_offsets[:-1][ok]
    return nxt


def newell_normals(
    vertices: F64, ring_idx: I64, ring_offsets: I64, rings: I64 | None = None
) -> F64:
    """Un-normalised Newell normal of each ring (or of the rings listed in ``rings``).

    Its length is twice the ring's area, so it also gives the area of planar rings.
    """
    nxt = _next_in_ring(ring_offsets)
    p = vertices[ring_idx]
    q = vertices[ring_idx[nxt]]
    terms = np.empty_like(p)
    terms[:, 0] = (p[:, 1] - q[:, 1]) * (p[:, 2] + q[:, 2])
    terms[:, 1] = (p[:, 2] - q[:, 2]) * (p[:, 0] + q[:, 0])
    terms[:, 2] = (p[:, 0] - q[:, 0]) * (p[:, 1] + q[:, 1])
    n_rings = len(ring_offsets) - 1
    out = np.zeros((n_rings, 3))
    sizes = np.diff(ring_offsets)
    nz = sizes > 0
    if nz.any():
        sums = np.add.reduceat(terms, ring_offsets[:-1][nz], axis=0) if len(terms) else terms
        out[nz] = sums
    return out if rings is None else out[rings]


def plane_basis(normals: F64) -> tuple[F64, F64]:
    """Two unit vectors spanning the plane of each (unit) normal, right-handed with it."""
    a = np.zeros_like(normals)
    small = np.argmin(np.abs(normals), axis=1)
    a[np.arange(len(normals)), small] = 1.0
    u = np.cross(normals, a)
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-300)
    v = np.cross(normals, u)
    return u, v


def triangle_areas(vertices: F64, triangles: NDArray[np.integer]) -> F64:
    """Area of each triangle ``(T, 3)`` of vertex indices."""
    a = vertices[triangles[:, 0]]
    b = vertices[triangles[:, 1]]
    c = vertices[triangles[:, 2]]
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def triangulate_polygons(
    vertices: F64,
    ring_idx: I64,
    ring_offsets: I64,
    poly_ring_offsets: I64,
    planarity_tol: float = 0.05,
    chunk_corners: int = 1 << 20,
) -> Triangulation:
    """Triangulate every polygon; see the module docstring for the layout.

    Parameters
    ----------
    vertices : (N, 3) float64
    ring_idx, ring_offsets, poly_ring_offsets : int64 arrays
    planarity_tol : float
        Distance in model units beyond which a corner makes its polygon non-planar.
        Non-planar polygons are still triangulated on their best plane.
    chunk_corners : int
        Polygons are processed in chunks of about this many corners, which bounds
        the temporary memory (a few hundred bytes per corner of a chunk).
    """
    ring_idx = np.asarray(ring_idx, dtype=np.int64)
    ring_offsets = np.asarray(ring_offsets, dtype=np.int64)
    poly_ring_offsets = np.asarray(poly_ring_offsets, dtype=np.int64)
    n_poly = len(poly_ring_offsets) - 1
    status = np.zeros(max(n_poly, 0), dtype=np.uint8)
    normals = np.zeros((max(n_poly, 0), 3))
    if n_poly <= 0:
        return Triangulation(np.zeros((0, 3), np.int32), np.zeros(0, np.int32), status, normals)
    poly_corner = ring_offsets[poly_ring_offsets]  # (P + 1,) first corner of every polygon
    corners_out: list[NDArray[np.int32]] = []
    polys_out: list[NDArray[np.int32]] = []
    p0 = 0
    while p0 < n_poly:
        # the largest p1 whose corners fit in the chunk (at least one polygon)
        p1 = int(np.searchsorted(poly_corner, poly_corner[p0] + chunk_corners, side="right")) - 1
        p1 = min(max(p1, p0 + 1), n_poly)
        r0, r1 = int(poly_ring_offsets[p0]), int(poly_ring_offsets[p1])
        c0, c1 = int(ring_offsets[r0]), int(ring_offsets[r1])
        cc, tp, st, nrm = _triangulate_chunk(
            vertices,
            ring_idx[c0:c1],
            ring_offsets[r0 : r1 + 1] - c0,
            poly_ring_offsets[p0 : p1 + 1] - r0,
            planarity_tol,
        )
        corners_out.append((cc + c0).astype(np.int32))
        polys_out.append((tp + p0).astype(np.int32))
        status[p0:p1] = st
        normals[p0:p1] = nrm
        p0 = p1
    corners = np.concatenate(corners_out) if corners_out else np.zeros((0, 3), np.int32)
    tri_poly = np.concatenate(polys_out) if polys_out else np.zeros(0, np.int32)
    return Triangulation(corners, tri_poly, status, normals)


def _reduce(ufunc: np.ufunc, values: NDArray, starts: I64, nonempty: NDArray[np.bool_], fill: float,
            n: int) -> NDArray:
    """``ufunc.reduceat`` over contiguous groups, ``fill`` for empty groups."""
    out = np.full((n,) + values.shape[1:], fill, dtype=np.result_type(values, np.float64))
    if len(values) and nonempty.any():
        out[nonempty] = ufunc.reduceat(values, starts[nonempty], axis=0)
    return out


def _triangulate_chunk(
    vertices: F64,
    ring_idx: I64,
    ring_offsets: I64,
    poly_ring_offsets: I64,
    planarity_tol: float,
) -> tuple[I64, NDArray[np.int64], NDArray[np.uint8], F64]:
    n_poly = len(poly_ring_offsets) - 1
    status = np.zeros(n_poly, dtype=np.uint8)
    ring_sizes = np.diff(ring_offsets)
    n_rings = np.diff(poly_ring_offsets)
    poly_start = ring_offsets[poly_ring_offsets[:-1]]
    poly_nc = ring_offsets[poly_ring_offsets[1:]] - poly_start
    has = n_rings > 0
    outer = np.minimum(poly_ring_offsets[:-1], max(len(ring_sizes) - 1, 0))
    outer_size = np.where(has, ring_sizes[outer] if len(ring_sizes) else 0, 0)

    pts = vertices[ring_idx]
    nxt = _next_in_ring(ring_offsets)
    q = pts[nxt]
    # Newell normal of each exterior ring: orientation and plane of the polygon
    terms = np.empty_like(pts)
    terms[:, 0] = (pts[:, 1] - q[:, 1]) * (pts[:, 2] + q[:, 2])
    terms[:, 1] = (pts[:, 2] - q[:, 2]) * (pts[:, 0] + q[:, 0])
    terms[:, 2] = (pts[:, 0] - q[:, 0]) * (pts[:, 1] + q[:, 1])
    ring_nonempty = ring_sizes > 0
    ring_normals = _reduce(np.add, terms, ring_offsets[:-1], ring_nonempty, 0.0, len(ring_sizes))
    del terms
    normals = np.zeros((n_poly, 3))
    normals[has] = ring_normals[outer[has]]
    length = np.linalg.norm(normals, axis=1)
    # scale of the chunk's coordinates, for a relative zero-area test
    scale = float(np.abs(pts).max()) if len(pts) else 1.0
    degenerate = (outer_size < 3) | (length <= 1e-12 * max(scale, 1.0) ** 2)
    status[degenerate] |= DEGENERATE
    ok = ~degenerate
    unit = np.zeros_like(normals)
    unit[ok] = normals[ok] / length[ok, None]

    corner_poly = np.repeat(np.arange(n_poly), poly_nc)
    nonempty = poly_nc > 0
    # planarity: spread of the corners' distances along the normal
    un = unit[corner_poly]
    dist = np.einsum("ij,ij->i", pts, un)
    spread = _reduce(np.maximum, dist, poly_start, nonempty, 0.0, n_poly) - _reduce(
        np.minimum, dist, poly_start, nonempty, 0.0, n_poly
    )
    del dist
    status[ok & (spread > 2 * planarity_tol)] |= NON_PLANAR

    # convexity of single-ring polygons, in 3D: every turn the same way as the normal
    single = ok & (n_rings == 1)
    prv = np.empty_like(nxt)
    prv[nxt] = np.arange(len(nxt))
    e_next = q - pts
    e_prev = pts - pts[prv]
    # triple product (e_prev x e_next) . n, written out: np.cross is slow on big arrays
    a0, a1, a2 = e_prev[:, 0], e_prev[:, 1], e_prev[:, 2]
    b0, b1, b2 = e_next[:, 0], e_next[:, 1], e_next[:, 2]
    turn = (a1 * b2 - a2 * b1) * un[:, 0]
    turn += (a2 * b0 - a0 * b2) * un[:, 1]
    turn += (a0 * b1 - a1 * b0) * un[:, 2]
    del un
    norms = np.sqrt(np.einsum("ij,ij->i", e_prev, e_prev) * np.einsum("ij,ij->i", e_next, e_next))
    rel_turn = turn / np.maximum(norms, 1e-300)
    min_turn = _reduce(np.minimum, rel_turn, poly_start, nonempty, -1.0, n_poly)
    convex = single & (min_turn >= -1e-9)
    # a star (pentagram) turns the same way at every corner but twice around:
    # check the total turn of candidates with five corners or more
    star_check = convex & (outer_size >= 5)
    if star_check.any():
        sel = star_check[corner_poly]
        ang = np.zeros(len(pts))
        ang[sel] = np.arctan2(turn[sel], np.einsum("ij,ij->i", e_prev[sel], e_next[sel]))
        total = _reduce(np.add, ang, poly_start, nonempty, 0.0, n_poly)
        convex &= ~star_check | (np.abs(total - 2 * np.pi) < 1e-6)
    del e_next, e_prev, turn, rel_turn, norms, q

    tris: list[I64] = []
    tri_polys: list[NDArray[np.int64]] = []

    # fan every convex polygon (the ring order already follows the normal)
    conv_idx = np.nonzero(convex)[0]
    if len(conv_idx):
        n_tri = outer_size[conv_idx] - 2
        base = np.repeat(poly_start[conv_idx], n_tri)
        cum = np.cumsum(n_tri)
        k = np.arange(int(cum[-1])) - np.repeat(cum - n_tri, n_tri) + 1
        tris.append(np.stack([base, base + k, base + k + 1], axis=1))
        tri_polys.append(np.repeat(conv_idx, n_tri))

    # earcut for the rest, on the plane of each polygon
    rest = np.nonzero(ok & ~convex)[0]
    if len(rest):
        # 2D coordinates of the corners of these polygons only, vectorised
        in_rest = np.zeros(n_poly, dtype=bool)
        in_rest[rest] = True
        sel = np.nonzero(in_rest[corner_poly])[0]
        cp = corner_poly[sel]
        u, v = plane_basis(unit)
        rel = pts[sel] - pts[poly_start[cp]]
        x2 = np.zeros(len(pts))
        y2 = np.zeros(len(pts))
        x2[sel] = np.einsum("ij,ij->i", rel, u[cp])
        y2[sel] = np.einsum("ij,ij->i", rel, v[cp])
        del rel
        xy = np.zeros((len(pts), 2))
        xy[:, 0], xy[:, 1] = x2, y2
        ends_all = ring_offsets[1:]
        pro_l = poly_ring_offsets.tolist()
        ro_l = ring_offsets.tolist()
        earcut = mapbox_earcut.triangulate_float64
        flats: list[NDArray[np.uint32]] = []
        offsets: list[int] = []
        done: list[int] = []
        for p in rest.tolist():  # the only per-polygon Python loop: keep it lean
            r0, r1 = pro_l[p], pro_l[p + 1]
            c0, c1 = ro_l[r0], ro_l[r1]
            if r1 - r0 == 1:
                ends = np.array((c1 - c0,), dtype=np.uint32)
            else:
                ends = (ends_all[r0:r1] - c0).astype(np.uint32)
            try:
                flat = earcut(xy[c0:c1], ends)
            except Exception:  # earcut rejects only malformed input
                status[p] |= TRIANGULATION_FAILED
                continue
            if len(flat) == 0:
                status[p] |= TRIANGULATION_FAILED
                continue
            flats.append(flat)
            offsets.append(c0)
            done.append(p)
        out_c: list[I64] = []
        if flats:
            lens = np.fromiter((len(f) for f in flats), dtype=np.int64, count=len(flats))
            allf = np.concatenate(flats).astype(np.int64) + np.repeat(np.asarray(offsets), lens)
            out_c.append(allf.reshape(-1, 3))
            out_p = np.repeat(np.asarray(done, dtype=np.int64), lens // 3)
        if out_c:
            ec = out_c[0]
            ep = out_p
            cross = (x2[ec[:, 1]] - x2[ec[:, 0]]) * (y2[ec[:, 2]] - y2[ec[:, 0]]) - (
                x2[ec[:, 2]] - x2[ec[:, 0]]
            ) * (y2[ec[:, 1]] - y2[ec[:, 0]])
            # orient every triangle like the polygon (u, v, normal is right-handed)
            flip = cross < 0
            ec[flip] = ec[flip][:, [0, 2, 1]]
            # self-intersection: triangle area must equal exterior minus holes
            tri_sum = np.bincount(ep, weights=0.5 * np.abs(cross), minlength=n_poly)
            shoe = 0.5 * (x2[sel] * y2[nxt[sel]] - x2[nxt[sel]] * y2[sel])
            corner_ring = np.repeat(np.arange(len(ring_sizes)), ring_sizes)
            ring_area = np.abs(np.bincount(corner_ring[sel], weights=shoe, minlength=len(ring_sizes)))
            is_outer = np.zeros(len(ring_sizes), bool)
            is_outer[outer[has]] = True
            ring_poly = np.repeat(np.arange(n_poly), n_rings)
            poly_area = np.bincount(
                ring_poly, weights=np.where(is_outer, ring_area, -ring_area), minlength=n_poly
            )
            diff = np.abs(tri_sum - poly_area)
            bad = (diff > 1e-3 * np.abs(poly_area)) & (diff > 1e-9)
            status[rest[bad[rest]]] |= SELF_INTERSECTING
            tris.append(ec)
            tri_polys.append(ep)

    if not tris:
        return np.zeros((0, 3), np.int64), np.zeros(0, np.int64), status, unit
    corners = np.concatenate(tris)
    tri_poly = np.concatenate(tri_polys)
    if len(tris) > 1:
        order = np.argsort(tri_poly, kind="stable")
        corners, tri_poly = corners[order], tri_poly[order]
    return corners, tri_poly, status, unit


def polygon_areas(vertices: F64, ring_idx: I64, ring_offsets: I64, poly_ring_offsets: I64) -> F64:
    """Area of each planar polygon with holes (exterior minus holes), from Newell normals."""
    rn = np.linalg.norm(newell_normals(vertices, ring_idx, ring_offsets), axis=1) * 0.5
    n_rings = np.diff(poly_ring_offsets)
    n_poly = len(n_rings)
    ring_poly = np.repeat(np.arange(n_poly), n_rings)
    is_outer = np.zeros(len(rn), bool)
    is_outer[poly_ring_offsets[:-1][n_rings > 0]] = True
    areas: F64 = np.bincount(ring_poly, weights=np.where(is_outer, rn, -rn), minlength=n_poly).astype(np.float64)
    return areas
