"""A closed building shell from a footprint polygon, a height and a roof form.

Every roof here is the lowest of a few planes over the footprint: flat (one level), shed
(one sloping plane), gable (two planes meeting at a ridge) and hip (four: the gable's and
one at each end), laid out in the footprint's minimum rotated rectangle (the ridge along
its long side). Any simple footprint works, not only rectangles: each plane's roof piece
is the part of the footprint where that plane is lowest, and every wall is cut where the
roof above it changes plane, so the walls' tops meet the roof's edges. Surfaces face
outwards (footprint counter-clockwise seen from above, as CityJSON wants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

ROOFS = ("flat", "gable", "hip", "shed")
ROOF, WALL, GROUND = "RoofSurface", "WallSurface", "GroundSurface"
DEFAULT_PITCH_DEG = 30.0  # the rise of a pitched roof when none is given
Surface = tuple[str, list[NDArray[np.float64]]]  # (semantic, rings of (n, 3) points)


@dataclass(frozen=True)
class Frame:
    """The footprint's minimum rotated rectangle: centre, unit axes (u along the long
    side) and half-lengths ``hu >= hv``."""

    centre: NDArray[np.float64]
    eu: NDArray[np.float64]
    ev: NDArray[np.float64]
    hu: float
    hv: float

    @classmethod
    def of(cls, xy: NDArray[np.float64]) -> Frame:
        rect = shapely.minimum_rotated_rectangle(shapely.Polygon(xy))
        c = np.asarray(rect.exterior.coords)[:4]
        a, b = c[1] - c[0], c[2] - c[1]
        la, lb = float(np.hypot(*a)), float(np.hypot(*b))
        if la < lb:
            a, la, lb = b, lb, la
        eu = a / max(la, 1e-12)
        ev = np.array([-eu[1], eu[0]])
        return cls(c.mean(0), eu, ev, la / 2.0, lb / 2.0)

    def uv(self, xy: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        d = np.asarray(xy, np.float64) - self.centre
        return d @ self.eu, d @ self.ev


def default_rise(roof: str, frame: Frame, wall_height: float) -> float:
    """Rise of a pitched roof: a 30 degree pitch over the short half-width (the whole short
    width for a shed), at most half the building's height."""
    if roof == "flat":
        return 0.0
    run = 2.0 * frame.hv if roof == "shed" else frame.hv
    return float(min(run * math.tan(math.radians(DEFAULT_PITCH_DEG)), 0.5 * wall_height))


def roof_planes(roof: str, frame: Frame, top: float, rise: float) -> NDArray[np.float64]:
    """``(k, 3)`` planes ``z = a + b x + c y``; the roof is their minimum."""
    if roof not in ROOFS:
        raise ValueError(f"roof {roof!r}: one of {', '.join(ROOFS)}")
    hu, hv = frame.hu, max(frame.hv, 1e-9)
    local: list[tuple[float, float, float]]  # (a, bu, bv): z = a + bu u + bv v
    if roof == "flat" or rise <= 0:
        local = [(top, 0.0, 0.0)]
    elif roof == "shed":
        k = rise / (2.0 * hv)
        local = [(top - rise / 2.0, 0.0, k)]  # top at v = +hv
    else:
        k = rise / hv
        local = [(top, 0.0, -k), (top, 0.0, k)]
        if roof == "hip":
            local += [(top + k * (hu - hv), -k, 0.0), (top + k * (hu - hv), k, 0.0)]
    out = []
    cx, cy = frame.centre
    for a, bu, bv in local:
        b = bu * frame.eu[0] + bv * frame.ev[0]
        c = bu * frame.eu[1] + bv * frame.ev[1]
        out.append((a - b * cx - c * cy, b, c))
    return np.asarray(out, np.float64)


def _z(planes: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    xy = np.atleast_2d(xy)
    return (planes[:, 0][None, :] + xy[:, :1] * planes[:, 1][None, :] + xy[:, 1:2] * planes[:, 2][None, :]).min(1)


def _split_edge(a: NDArray[np.float64], b: NDArray[np.float64], planes: NDArray[np.float64]) -> list[float]:
    """Parameters in (0, 1) along ``a -> b`` where the lowest plane changes."""
    za = planes[:, 0] + planes[:, 1] * a[0] + planes[:, 2] * a[1]
    dz = planes[:, 1] * (b[0] - a[0]) + planes[:, 2] * (b[1] - a[1])
    ts = []
    for i in range(len(planes)):
        for j in range(i + 1, len(planes)):
            den = dz[i] - dz[j]
            if abs(den) < 1e-12:
                continue
            t = (za[j] - za[i]) / den
            if 1e-9 < t < 1 - 1e-9:
                z_here = za[i] + dz[i] * t
                if z_here <= (za + dz * t).min() + 1e-9:  # both are the lowest there
                    ts.append(float(t))
    return sorted(set(round(t, 12) for t in ts))


def shell(footprint: NDArray[np.float64], z0: float, top: float, roof: str = "flat",
          rise: float | None = None) -> list[Surface]:
    """Ground, walls and roof of a building standing at ``z0`` with its highest point at
    ``top``. ``footprint`` is ``(n, 2)``, simple, without the closing point (made
    counter-clockwise here); ``rise`` is the pitched roof's height (default:
    :func:`default_rise`)."""
    xy = np.asarray(footprint, np.float64)
    if shapely.LinearRing(xy).is_ccw is False:
        xy = xy[::-1]
    if top <= z0:
        raise ValueError("the top must be above the ground")
    frame = Frame.of(xy)
    if rise is None:
        rise = default_rise(roof, frame, top - z0)
    rise = float(min(max(rise, 0.0), top - z0 - 0.01)) if roof != "flat" else 0.0
    planes = roof_planes(roof, frame, top, rise)
    out, zmax = _surfaces(xy, z0, planes, frame)
    if zmax < top - 1e-9:  # the ridge misses the footprint (an L under a hip roof): lift the roof to the height
        planes[:, 0] += top - zmax
        out, zmax = _surfaces(xy, z0, planes, frame)
    return out


def _surfaces(xy: NDArray[np.float64], z0: float, planes: NDArray[np.float64], frame: Frame
              ) -> tuple[list[Surface], float]:
    """Ground, walls and roof pieces under ``planes``, and the roof's highest point."""
    # the footprint ring with the points where the roof above changes plane
    ring: list[NDArray[np.float64]] = []
    n = len(xy)
    for i in range(n):
        a, b = xy[i], xy[(i + 1) % n]
        ring.append(a)
        for t in _split_edge(a, b, planes):
            ring.append(a + t * (b - a))
    ring_xy = np.asarray(ring)
    ring_z = _z(planes, ring_xy)
    zmax = -math.inf
    out: list[Surface] = [(GROUND, [np.column_stack([ring_xy[::-1], np.full(len(ring_xy), z0)])])]
    m = len(ring_xy)
    for i in range(m):
        j = (i + 1) % m
        (ax, ay), (bx, by) = ring_xy[i], ring_xy[j]
        out.append((WALL, [np.array([[ax, ay, z0], [bx, by, z0], [bx, by, ring_z[j]], [ax, ay, ring_z[i]]])]))
    # roof pieces: where each plane is the lowest
    fp = shapely.Polygon(ring_xy)
    big = 10.0 * (frame.hu + frame.hv) + 10.0
    cx, cy = frame.centre
    for k in range(len(planes)):
        region = fp
        for j in range(len(planes)):
            if j == k:
                continue
            d = planes[k] - planes[j]  # d0 + d1 x + d2 y <= 0 where k is lower
            region = region.intersection(_half_plane(d, cx, cy, big))
            if region.is_empty:
                break
        for piece in getattr(region, "geoms", [region]):
            if not isinstance(piece, shapely.Polygon) or piece.is_empty or piece.area < 1e-6:
                continue
            piece = shapely.geometry.polygon.orient(piece, 1.0)
            rings = [np.asarray(piece.exterior.coords)[:-1]] + [np.asarray(r.coords)[:-1] for r in piece.interiors]
            rings = [_snap(r, ring_xy) for r in rings]
            lifted = [np.column_stack([r, planes[k, 0] + planes[k, 1] * r[:, 0] + planes[k, 2] * r[:, 1]]) for r in rings]
            zmax = max(zmax, max(float(r[:, 2].max()) for r in lifted))
            out.append((ROOF, lifted))
    return out, zmax


def _half_plane(d: NDArray[np.float64], cx: float, cy: float, big: float) -> shapely.Polygon:
    """The square of side ``2 big`` around ``(cx, cy)`` cut to ``d0 + d1 x + d2 y <= 0``."""
    sq = np.array([[cx - big, cy - big], [cx + big, cy - big], [cx + big, cy + big], [cx - big, cy + big]])
    val = d[0] + sq @ d[1:]
    pts = []
    for i in range(4):
        p, q = sq[i], sq[(i + 1) % 4]
        vp, vq = val[i], val[(i + 1) % 4]
        if vp <= 0:
            pts.append(p)
        if (vp < 0) != (vq < 0) and vp != vq:
            pts.append(p + (vp / (vp - vq)) * (q - p))
    return shapely.Polygon(pts) if len(pts) >= 3 else shapely.Polygon()


def _snap(r: NDArray[np.float64], ring_xy: NDArray[np.float64], tol: float = 1e-6) -> NDArray[np.float64]:
    """Roof corners that are wall-top corners take exactly their coordinates."""
    d = np.hypot(r[:, None, 0] - ring_xy[None, :, 0], r[:, None, 1] - ring_xy[None, :, 1])
    near = d.argmin(1)
    hit = d[np.arange(len(r)), near] < tol
    r = r.copy()
    r[hit] = ring_xy[near[hit]]
    return r


def footprint_problem(xy: NDArray[np.float64]) -> str | None:
    """Why ``xy`` (``(n, 2)``, no closing point) cannot be a footprint, or None."""
    if len(xy) < 3:
        return f"a footprint needs at least 3 corners, got {len(xy)}"
    if not np.isfinite(xy).all():
        return "the footprint has a coordinate that is not a finite number"
    ring = shapely.LinearRing(xy)
    area = abs(shapely.Polygon(xy).area)
    if not ring.is_simple and not _collinear(xy):  # a bow tie has no area either: say what it is
        return "the footprint intersects itself"
    if area < 0.01:
        return f"the footprint has no area ({area:.3g} m²)"
    return None


def _collinear(xy: NDArray[np.float64]) -> bool:
    d = xy - xy[0]
    return bool(np.abs(d[:, 0] * d[-1, 1] - d[:, 1] * d[-1, 0]).max() < 1e-9 * max(float(np.abs(d).max()), 1.0) ** 2)
