"""Sample points on the surfaces of a city model, for analyses that cast rays from them.

Each triangle gets ``m * m`` points, the centroids of its ``m``-fold subdivision (an
even, deterministic cover), with ``m`` growing with the triangle's size so that a point
stands for about ``spacing²`` m²; small triangles get their centroid. Points are lifted
off their surface along the polygon's normal, so that rays do not hit their own
polygon, and ordered along a Z-order curve (rays from neighbouring points are traced
fastest together).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..core.geometry import newell_normals
from ..model.city import CityModel
from .rays import morton_order

MAX_SUBDIVISION = 12  # at most 144 points on one triangle
LIFT_M = 0.02  # metres off the surface (float32 keeps ~0.1 mm at a few km from the origin)


@dataclass(frozen=True)
class SurfaceSamples:
    """Points on the analysed polygons (coordinates relative to the model origin).

    ``polygons`` lists the analysed polygon indices of the model; ``poly`` gives, per
    point, its position in ``polygons``; ``weight`` is the area (m²) a point stands for.
    """

    polygons: NDArray[np.int64]
    normals: NDArray[np.float64]  # (P, 3) unit normal per analysed polygon
    areas: NDArray[np.float64]  # (P,) m²
    points: NDArray[np.float32]  # (N, 3) lifted off the surface
    poly: NDArray[np.int64]  # (N,)
    weight: NDArray[np.float64]  # (N,)

    def __len__(self) -> int:
        return len(self.points)

    @property
    def normal(self) -> NDArray[np.float64]:
        """Per point: its polygon's unit normal."""
        return self.normals[self.poly]


def _subdivision_centroids(m: int) -> NDArray[np.float64]:
    """Barycentric coordinates of the centroids of a triangle cut into ``m * m`` triangles."""
    pts = []
    for i in range(m):
        for j in range(m - i):
            pts.append(((i + 1 / 3) / m, (j + 1 / 3) / m))  # upright triangles
            if j < m - i - 1:
                pts.append(((i + 2 / 3) / m, (j + 2 / 3) / m))  # inverted ones
    uv = np.array(pts)
    return np.column_stack([1.0 - uv.sum(1), uv[:, 0], uv[:, 1]])


def polygon_normals(model: CityModel, polygons: NDArray[np.int64]) -> NDArray[np.float64]:
    """Unit normals (Newell, of the outer ring) of the given polygons; zero for degenerate ones."""
    p = model.polygons
    outer = p.poly_ring_offsets[:-1][polygons]
    v = model.vertices.astype(np.float64)
    n = newell_normals(v, p.ring_idx.astype(np.int64), p.ring_offsets.astype(np.int64), rings=outer)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    out: NDArray[np.float64] = np.where(length > 1e-12, n / np.maximum(length, 1e-300), 0.0)
    return out


def surface_samples(model: CityModel, triangles: NDArray[np.bool_], spacing: float = 2.0) -> SurfaceSamples:
    """Sample points on the triangles selected by the mask ``triangles`` (one per
    ``spacing²`` m², at least one per triangle)."""
    if spacing <= 0:
        raise ValueError("the sample spacing must be positive")
    tri_idx = np.flatnonzero(triangles)
    tri_poly = model.tri_poly[tri_idx].astype(np.int64)
    polygons, tri_p = np.unique(tri_poly, return_inverse=True)
    normals = polygon_normals(model, polygons)
    v = model.vertices
    corners = v[model.triangles[tri_idx]].astype(np.float64)  # (T, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    keep = (area > 1e-8) & (np.abs(normals[tri_p]).sum(1) > 0)
    m_all = np.clip(np.ceil(np.sqrt(area / (spacing * spacing))), 1, MAX_SUBDIVISION).astype(np.int64)
    pts, owner, weight = [], [], []
    for m in np.unique(m_all[keep]):
        sel = np.flatnonzero(keep & (m_all == m))
        bary = _subdivision_centroids(int(m))  # (k, 3)
        p = np.einsum("kc,tcd->tkd", bary, corners[sel]).reshape(-1, 3)
        pts.append(p)
        owner.append(np.repeat(tri_p[sel], len(bary)))
        weight.append(np.repeat(area[sel] / len(bary), len(bary)))
    if pts:
        points = np.concatenate(pts)
        poly = np.concatenate(owner)
        w = np.concatenate(weight)
    else:
        points, poly, w = np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0)
    points = points + normals[poly] * LIFT_M
    order = morton_order(points)
    areas = np.bincount(tri_p[keep], weights=area[keep], minlength=len(polygons)).astype(np.float64)
    return SurfaceSamples(polygons=polygons, normals=normals, areas=areas,
                          points=points[order].astype(np.float32), poly=poly[order], weight=w[order])
