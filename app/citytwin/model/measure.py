"""Measurements between picked points: distance, height difference, polygon area.

Pure numpy: points are ``(3,)`` or ``(N, 3)`` float64 coordinates in one metric CRS
(the scene CRS, or scene-relative coordinates: differences do not depend on the origin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Distance", "Area", "distance", "height_difference", "polygon_area", "path_length", "mesh_volume"]


@dataclass(frozen=True)
class Distance:
    """Distance between two points: 3D, horizontal (xy) and vertical (signed, b - a)."""

    d3: float
    horizontal: float
    dz: float


@dataclass(frozen=True)
class Area:
    """Area of a closed polygon: the true (planar, 3D) area and its horizontal projection."""

    area3d: float
    horizontal: float
    perimeter: float
    planarity: float  # largest distance of a vertex from the best-fit plane, in metres


def _pts(points: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"expected (N, 3) points, got shape {arr.shape}")
    return arr


def distance(a: ArrayLike, b: ArrayLike) -> Distance:
    """Distance from ``a`` to ``b``.

    Parameters
    ----------
    a, b : array_like, shape (3,)
        The two points.

    Returns
    -------
    Distance
        3D length, horizontal length and signed height difference ``b.z - a.z``.
    """
    pa = np.asarray(a, dtype=np.float64).reshape(3)
    pb = np.asarray(b, dtype=np.float64).reshape(3)
    d = pb - pa
    return Distance(float(np.linalg.norm(d)), float(np.hypot(d[0], d[1])), float(d[2]))


def height_difference(a: ArrayLike, b: ArrayLike) -> float:
    """Signed height difference ``b.z - a.z`` in metres."""
    return float(np.asarray(b, dtype=np.float64).reshape(3)[2] - np.asarray(a, dtype=np.float64).reshape(3)[2])


def path_length(points: ArrayLike, closed: bool = False) -> float:
    """Length of the polyline through ``points`` (closed back to the first when ``closed``)."""
    p = _pts(points)
    if len(p) < 2:
        return 0.0
    if closed:
        p = np.vstack([p, p[:1]])
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())


def polygon_area(points: ArrayLike) -> Area:
    """Area of the polygon through ``points`` (implicitly closed).

    The 3D area is the length of the Newell vector area, exact for planar polygons
    (a roof face, a wall) of any orientation; the horizontal area is the shoelace
    area of the xy projection (what a map shows).

    Parameters
    ----------
    points : array_like, shape (N, 3)
        Corners in order; fewer than three give zero area.

    Returns
    -------
    Area
    """
    p = _pts(points)
    if len(p) < 3:
        return Area(0.0, 0.0, path_length(p, closed=len(p) == 2), 0.0)
    c = p - p.mean(axis=0)
    q = np.roll(c, -1, axis=0)
    normal = 0.5 * np.cross(c, q).sum(axis=0)
    area3d = float(np.linalg.norm(normal))
    horizontal = float(abs(normal[2]))
    if area3d > 0:
        n = normal / np.linalg.norm(normal)
        planarity = float(np.abs(c @ n).max())
    else:
        planarity = 0.0
    return Area(area3d, horizontal, path_length(p, closed=True), planarity)


def mesh_volume(vertices: ArrayLike, triangles: ArrayLike) -> float:
    """Enclosed volume of a closed, consistently oriented triangle mesh (divergence
    theorem); 0 when the mesh is empty. Open or flipped shells give meaningless values,
    so the absolute value is returned and callers treat it as an estimate.

    Parameters
    ----------
    vertices : array_like, shape (V, 3)
    triangles : array_like of int, shape (T, 3)
    """
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    if len(t) == 0:
        return 0.0
    a, b, c = v[t[:, 0]], v[t[:, 1]], v[t[:, 2]]
    ref = v[t].reshape(-1, 3).mean(axis=0)  # reduces cancellation far from the origin
    a, b, c = a - ref, b - ref, c - ref
    return float(abs(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6.0)
