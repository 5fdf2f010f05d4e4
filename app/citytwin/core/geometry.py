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

    corners: I64  # (T, 3)
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
) -> Triangulation:
    """Triangulate every polygon; see the module docstring for the layout.

    Parameters
    ----------
    vertices : (N, 3) float64
    ring_idx, ring_offsets, poly_ring_offsets : int64 arrays
    planarity_tol : float
        Distance in model units beyond which a corner makes its polygon non-planar.
        Non-planar polygons are still triangulated on their best plane.
    """
    ring_idx = np.asarray(ring_idx, dtype=np.int64)
    ring_offsets = np.asarray(ring_offsets, dtype=np.int64)
    poly_ring_offsets = np.asarray(poly_ring_offsets, dtype=np.int64)
    n_poly = len(poly_ring_offsets) - 1
    status = np.zeros(n_poly, dtype=np.uint8)
    if n_poly == 0:
        return Triangulation(
            np.zeros((0, 3), np.int64), np.zeros(0, np.int32), status, np.zeros((0, 3))
        )
    ring_sizes = np.diff(ring_offsets)
    n_rings = np.diff(poly_ring_offsets)
    outer = poly_ring_offsets[:-1]
    outer_size = np.where(n_rings > 0, ring_sizes[np.minimum(outer, len(ring_sizes) - 1)], 0)

    # Newell normal of the exterior ring: orientation and plane of the polygon
    ring_normals = newell_normals(vertices, ring_idx, ring_offsets)
    normals = np.zeros((n_poly, 3))
    has = n_rings > 0
    normals[has] = ring_normals[outer[has]]
    length = np.linalg.norm(normals, axis=1)
    scale = np.abs(vertices).max() if len(vertices) else 1.0
    degenerate = (outer_size < 3) | (length <= 1e-12 * max(scale, 1.0) ** 2)
    status[degenerate] |= DEGENERATE
    unit = np.zeros_like(normals)
    ok = ~degenerate
    unit[ok] = normals[ok] / length[ok, None]

    # per-corner polygon index and 2D coordinates on the polygon's plane
    ring_poly = np.repeat(np.arange(n_poly), n_rings)
    corner_ring = np.repeat(np.arange(len(ring_sizes)), ring_sizes)
    corner_poly = ring_poly[corner_ring]
    pts = vertices[ring_idx]
    u, v = plane_basis(unit)
    first = ring_offsets[outer[has]]
    origin = np.zeros((n_poly, 3))
    origin[has] = vertices[ring_idx[first]]
    rel = pts - origin[corner_poly]
    x2 = np.einsum("ij,ij->i", rel, u[corner_poly])
    y2 = np.einsum("ij,ij->i", rel, v[corner_poly])
    dist = np.abs(np.einsum("ij,ij->i", rel, unit[corner_poly]))
    centroid_off = np.zeros(n_poly)
    np.add.at(centroid_off, corner_poly, np.einsum("ij,ij->i", rel, unit[corner_poly]))
    # distance from the mean plane (the plane through the first corner is biased)
    counts = np.bincount(corner_poly, minlength=n_poly).astype(float)
    mean_off = centroid_off / np.maximum(counts, 1)
    dev = np.abs(np.einsum("ij,ij->i", rel, unit[corner_poly]) - mean_off[corner_poly])
    max_dev = np.zeros(n_poly)
    np.maximum.at(max_dev, corner_poly, dev)
    del dist
    status[ok & (max_dev > planarity_tol)] |= NON_PLANAR

    # convexity of single-ring polygons: every turn the same way, total turn 2*pi
    nxt = _next_in_ring(ring_offsets)
    prv = np.empty_like(nxt)
    prv[nxt] = np.arange(len(nxt))
    ex, ey = x2[nxt] - x2, y2[nxt] - y2
    px, py = x2 - x2[prv], y2 - y2[prv]
    cross = px * ey - py * ex
    dot = px * ex + py * ey
    turn = np.arctan2(cross, dot)
    single = ok & (n_rings == 1)
    min_cross = np.full(n_poly, np.inf)
    np.minimum.at(min_cross, corner_poly, cross)
    total_turn = np.zeros(n_poly)
    np.add.at(total_turn, corner_poly, turn)
    edge_len2 = ex * ex + ey * ey
    tol = 1e-9 * np.maximum(edge_len2, 1e-30)
    min_cross_tol = np.full(n_poly, np.inf)
    np.minimum.at(min_cross_tol, corner_poly, cross + tol)
    convex = single & (min_cross_tol >= 0) & (np.abs(total_turn - 2 * np.pi) < 1e-6)

    tris: list[I64] = []
    tri_polys: list[NDArray[np.int32]] = []

    # fan every convex polygon, grouped by corner count
    conv_idx = np.nonzero(convex)[0]
    if len(conv_idx):
        sizes = outer_size[conv_idx]
        starts = ring_offsets[outer[conv_idx]]
        n_tri = sizes - 2
        tp = np.repeat(conv_idx, n_tri).astype(np.int32)
        base = np.repeat(starts, n_tri)
        # k-th triangle of its polygon: 1..n-2
        cum = np.cumsum(n_tri)
        k = np.arange(int(cum[-1])) - np.repeat(cum - n_tri, n_tri) + 1
        fan = np.stack([base, base + k, base + k + 1], axis=1)
        tris.append(fan)
        tri_polys.append(tp)

    # earcut for the rest
    rest = np.nonzero(ok & ~convex)[0]
    tri_area_poly = None
    if len(rest):
        out_c: list[I64] = []
        out_p: list[int] = []
        for p in rest.tolist():
            r0, r1 = int(poly_ring_offsets[p]), int(poly_ring_offsets[p + 1])
            c0, c1 = int(ring_offsets[r0]), int(ring_offsets[r1])
            xy = np.stack([x2[c0:c1], y2[c0:c1]], axis=1)
            ends = (ring_offsets[r0 + 1 : r1 + 1] - c0).astype(np.uint32)
            try:
                flat = mapbox_earcut.triangulate_float64(xy, ends)
            except Exception:  # pragma: no cover - earcut rejects only malformed input
                status[p] |= TRIANGULATION_FAILED
                continue
            if len(flat) == 0:
                status[p] |= TRIANGULATION_FAILED
                continue
            out_c.append(flat.astype(np.int64).reshape(-1, 3) + c0)
            out_p.extend([p] * (len(flat) // 3))
        if out_c:
            ec = np.concatenate(out_c)
            ep = np.asarray(out_p, dtype=np.int32)
            tris.append(ec)
            tri_polys.append(ep)
            tri_area_poly = (ec, ep)

    # self-intersection check for earcut output: triangle area vs ring areas
    if tri_area_poly is not None:
        ec, ep = tri_area_poly
        a2 = 0.5 * np.abs(
            (x2[ec[:, 1]] - x2[ec[:, 0]]) * (y2[ec[:, 2]] - y2[ec[:, 0]])
            - (x2[ec[:, 2]] - x2[ec[:, 0]]) * (y2[ec[:, 1]] - y2[ec[:, 0]])
        )
        tri_sum = np.bincount(ep, weights=a2, minlength=n_poly)
        shoe = 0.5 * (x2 * y2[nxt] - x2[nxt] * y2)
        ring_area = np.abs(np.bincount(corner_ring, weights=shoe, minlength=len(ring_sizes)))
        is_outer = np.zeros(len(ring_sizes), bool)
        is_outer[outer[has]] = True
        signed = np.where(is_outer, ring_area, -ring_area)
        poly_area = np.bincount(ring_poly, weights=signed, minlength=n_poly)
        bad = (np.abs(tri_sum - poly_area) > 1e-3 * np.maximum(np.abs(poly_area), 1e-9)) & (
            np.abs(tri_sum - poly_area) > 1e-9
        )
        status[rest[bad[rest]]] |= SELF_INTERSECTING

    if tris:
        corners = np.concatenate(tris)
        tri_poly = np.concatenate(tri_polys)
        order = np.argsort(tri_poly, kind="stable")
        corners, tri_poly = corners[order], tri_poly[order]
    else:
        corners, tri_poly = np.zeros((0, 3), np.int64), np.zeros(0, np.int32)
    # earcut may return clockwise triangles: orient every triangle like its polygon
    if len(corners):
        a = pts[corners[:, 0]]
        tn = np.cross(pts[corners[:, 1]] - a, pts[corners[:, 2]] - a)
        flip = np.einsum("ij,ij->i", tn, unit[tri_poly]) < 0
        corners[flip] = corners[flip][:, [0, 2, 1]]
    return Triangulation(corners, tri_poly, status, unit)


def polygon_areas(vertices: F64, ring_idx: I64, ring_offsets: I64, poly_ring_offsets: I64) -> F64:
    """Area of each planar polygon with holes (exterior minus holes), from Newell normals."""
    rn = np.linalg.norm(newell_normals(vertices, ring_idx, ring_offsets), axis=1) * 0.5
    n_rings = np.diff(poly_ring_offsets)
    n_poly = len(n_rings)
    ring_poly = np.repeat(np.arange(n_poly), n_rings)
    is_outer = np.zeros(len(rn), bool)
    is_outer[poly_ring_offsets[:-1][n_rings > 0]] = True
    return np.bincount(ring_poly, weights=np.where(is_outer, rn, -rn), minlength=n_poly)
