"""Hours of direct sun and clear-sky irradiation on every surface of a city model.

For each time step of a period (the middle of each step stands for it) with the sun up,
every sample point facing the sun casts an occlusion ray towards it through all the
model's triangles (buildings, terrain, vegetation: whatever the model holds at the LoD
analysed); a point that sees the sun gets the step's time and the beam irradiance on
its plane (DNI · cos θ). Diffuse light comes from the sky patches each point sees
(Tregenza's 145, cast once per point of a sparser set: twice the spacing), times the
period's diffuse horizontal irradiation, for an isotropic sky. Irradiance is Ineichen-Perez clear sky. Ground
reflection is not counted. Values per polygon are the area-weighted means of its points.

Directions: the sun's east-north-up vector is turned into the scene CRS's grid (meridian
convergence) at the scene's centre.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.errors import Cancelled
from ..model.city import CityModel
from .clearsky import DEFAULT_LINKE, ineichen, tregenza_patches
from .place import Place, enu_to_grid, zone
from .rays import OcclusionScene
from .samples import SurfaceSamples, surface_samples
from .sun import SUN_RADIUS_DEG, sun_position

Progress = Callable[[float], None]
Cancel = Callable[[], bool]
RAYS_PER_CALL = 1 << 18  # several steps go into one call when the model is small
SKY_SPACING_FACTOR = 2.0  # sky-view points are this much sparser than sun points


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last`` (inclusive) at ``step_minutes`` in ``timezone``."""

    first: date
    last: date
    step_minutes: float
    timezone: str

    def __post_init__(self) -> None:
        if not self.step_minutes > 0:
            raise ValueError(f"the time step must be positive, got {self.step_minutes} minutes")
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")
        if (self.last - self.first).days > 366 * 2:
            raise ValueError("a period of more than two years: use a year, at most")

    def instants(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Unix seconds at the middle of each step, and each step's length in hours
        (local days, so daylight-saving days have 23 or 25 hours)."""
        tz = zone(self.timezone)
        start = datetime(self.first.year, self.first.month, self.first.day, tzinfo=tz).timestamp()
        end_day = self.last + timedelta(days=1)
        end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=tz).timestamp()
        step = self.step_minutes * 60.0
        edges = np.arange(start, end, step)
        edges = np.append(edges, end)
        return (edges[:-1] + edges[1:]) / 2.0, np.diff(edges) / 3600.0


@dataclass
class SunHours:
    """Results per analysed polygon (``polygons`` are indices into the model's polygons)."""

    polygons: NDArray[np.int64]
    normals: NDArray[np.float64]
    areas: NDArray[np.float64]
    sun_hours: NDArray[np.float64]
    beam_kwh_m2: NDArray[np.float64]
    diffuse_kwh_m2: NDArray[np.float64]
    sky_view: NDArray[np.float64]  # cosine-weighted share of the sky seen (1 = open flat roof)
    period: Period
    place: Place
    daylight_hours: float  # steps with the sun's upper limb up, in hours: what an open flat roof gets
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def irradiation_kwh_m2(self) -> NDArray[np.float64]:
        return self.beam_kwh_m2 + self.diffuse_kwh_m2


def _per_polygon(s: SurfaceSamples, values: NDArray[np.float64]) -> NDArray[np.float64]:
    num = np.bincount(s.poly, weights=s.weight * values, minlength=len(s.polygons))
    den = np.bincount(s.poly, weights=s.weight, minlength=len(s.polygons))
    out: NDArray[np.float64] = num / np.maximum(den, 1e-300)
    return out


def sun_steps(period: Period, place: Place, grid: NDArray[np.float64]) -> tuple[
        NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The steps with the sun up: unix seconds, hours per step, unit vectors to the sun in
    the model's axes (``grid`` @ east-north-up) and the sun's apparent elevation.

    The sun is up while its upper limb is (as for sunrise and sunset); rays go to the
    middle of the part of its disc above the horizon.
    """
    times, hours = period.instants()
    pos = sun_position(times, place.lon, place.lat)
    el = pos.elevation
    up = el > -SUN_RADIUS_DEG
    el_vis = np.where(el < SUN_RADIUS_DEG, (np.maximum(el, -SUN_RADIUS_DEG) + SUN_RADIUS_DEG) / 2, el)
    az, alt = np.radians(pos.azimuth[up]), np.radians(el_vis[up])
    enu = np.stack([np.cos(alt) * np.sin(az), np.cos(alt) * np.cos(az), np.sin(alt)], axis=-1)
    sun = (grid @ enu.T).T
    sun /= np.linalg.norm(sun, axis=1, keepdims=True)
    return times[up], hours[up], sun, el[up]


Batch = tuple[list[tuple[int, NDArray[np.int64], NDArray[np.float64]]], NDArray[np.float32], NDArray[np.float32]]


def sun_ray_batches(s: SurfaceSamples, sun: NDArray[np.float64], start: int = 0,
                    limit: int = RAYS_PER_CALL) -> Iterator[tuple[int, Batch]]:
    """Rays from the points facing the sun, as many steps at a time as fill ``limit``
    rays: yields ``(next step, ([(step, facing points, cos θ)], origins, directions))``."""
    normal, pts = s.normal, s.points
    k = start
    while k < len(sun):
        items: list[tuple[int, NDArray[np.int64], NDArray[np.float64]]] = []
        origins, dirs = [], []
        total = 0
        while k < len(sun) and (total == 0 or total < limit):
            cos = normal @ sun[k]
            facing = np.flatnonzero(cos > 1e-6)
            items.append((k, facing, cos[facing]))
            origins.append(pts[facing])
            dirs.append(np.broadcast_to(sun[k].astype(np.float32), (len(facing), 3)))
            total += len(facing)
            k += 1
        yield k, (items, np.concatenate(origins), np.concatenate(dirs))


def sky_ray_sets(s: SurfaceSamples) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float32],
                                                     NDArray[np.float32]]]:
    """Per Tregenza patch: the points facing it, cos θ × Ω / π for them, origins, directions."""
    dirs, omega = tregenza_patches()
    normal = s.normal
    for d, w in zip(dirs, omega, strict=True):
        cos = normal @ d
        facing = np.flatnonzero(cos > 0)
        if len(facing):
            yield facing, cos[facing] * w / np.pi, s.points[facing], np.broadcast_to(
                d.astype(np.float32), (len(facing), 3))


def _sky_view(scene: OcclusionScene, s: SurfaceSamples, cancel: Cancel | None) -> tuple[NDArray[np.float64], int]:
    """Per point: (1/π) Σ visible · max(0, n·d) · Ω over the sky patches, normalised so
    that an open horizontal point gets 1."""
    dirs, omega = tregenza_patches()
    open_flat = float(np.sum(np.maximum(dirs[:, 2], 0) * omega) / np.pi)
    out = np.zeros(len(s))
    rays = 0
    for facing, weight, origins, directions in sky_ray_sets(s):
        blocked = scene.occluded(origins, directions, cancel)
        if cancel is not None and cancel():
            raise Cancelled("cancelled")
        out[facing] += np.where(blocked, 0.0, weight)
        rays += len(facing)
    result: NDArray[np.float64] = out / open_flat
    return result, rays


def analyse(
    model: CityModel,
    period: Period,
    place: Place,
    *,
    lod: float | str = "best",
    spacing: float = 2.0,
    linke: float = DEFAULT_LINKE,
    altitude_m: float = 0.0,
    diffuse: bool = True,
    grid: NDArray[np.float64] | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> SunHours:
    """Sun hours and irradiation on every polygon of ``model`` (at ``lod``) over ``period``.

    ``model`` must be in a projected CRS (metres, z up); ``place`` gives where and in
    which time zone. ``grid`` (3x3) takes east-north-up vectors into the model's axes
    (default: from its CRS at the place; the identity for a model in local east-north
    coordinates). ``progress`` gets fractions 0..1; ``cancel`` returning True raises
    :class:`~citytwin.core.errors.Cancelled`.
    """
    if grid is None and model.crs is None:
        raise ValueError("the model has no CRS: the sun's direction in it is unknown")
    t0 = time.perf_counter()
    mask = model.lod_triangle_mask(lod)
    samples = surface_samples(model, mask, spacing)
    tri = model.vertices[model.triangles[mask]]
    if grid is not None:
        m = np.asarray(grid, dtype=np.float64)
    else:
        assert model.crs is not None
        m = enu_to_grid(place.lon, place.lat, model.crs)
    times, hours, sun_grid, elevation = sun_steps(period, place, m)
    sky = ineichen(90.0 - elevation, times, linke, altitude_m)

    n = len(samples)
    lit_h = np.zeros(n)
    beam_wh = np.zeros(n)
    rays = 0
    trace_s = 0.0
    with OcclusionScene(tri, threads) as scene:
        setup_s = time.perf_counter() - t0
        for k, (items, origins, dirs) in sun_ray_batches(samples, sun_grid):
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
            if len(origins):
                ts = time.perf_counter()
                blocked = scene.occluded(origins, dirs, cancel)
                trace_s += time.perf_counter() - ts
                rays += len(origins)
                at = 0
                for step, facing, cos in items:
                    lit = ~blocked[at:at + len(facing)]
                    at += len(facing)
                    lit_pts = facing[lit]
                    lit_h[lit_pts] += hours[step]
                    beam_wh[lit_pts] += sky.dni[step] * cos[lit] * hours[step]
            if progress is not None:
                progress(0.9 * k / max(len(times), 1))
        sky_poly = np.ones(len(samples.polygons))
        sky_rays, sky_s = 0, 0.0
        if diffuse:
            # the sky view changes slowly over a surface, and only its mean per polygon is
            # used: points at twice the spacing (a quarter as many; one per triangle at least)
            ts = time.perf_counter()
            coarse = surface_samples(model, mask, spacing * SKY_SPACING_FACTOR)
            assert np.array_equal(coarse.polygons, samples.polygons)
            sky_view, sky_rays = _sky_view(scene, coarse, cancel)
            sky_poly = _per_polygon(coarse, sky_view)
            sky_s = time.perf_counter() - ts
    diffuse_kwh = sky_poly * float(np.sum(sky.dhi * hours)) / 1000.0 if diffuse else np.zeros(len(sky_poly))
    if progress is not None:
        progress(1.0)
    total_s = time.perf_counter() - t0
    return SunHours(
        polygons=samples.polygons,
        normals=samples.normals,
        areas=samples.areas,
        sun_hours=_per_polygon(samples, lit_h),
        beam_kwh_m2=_per_polygon(samples, beam_wh) / 1000.0,
        diffuse_kwh_m2=diffuse_kwh,
        sky_view=sky_poly,
        period=period,
        place=place,
        daylight_hours=float(np.sum(hours)),
        stats={"samples": n, "triangles": int(len(tri)), "steps_with_sun": int(len(times)),
               "sun_rays": rays, "sky_rays": sky_rays, "seconds_total": total_s, "seconds_sun_rays": trace_s,
               "seconds_sky": sky_s, "seconds_setup": setup_s},
    )
