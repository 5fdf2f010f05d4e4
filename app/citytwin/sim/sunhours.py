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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.city import CityModel
from .chunks import SHARED, Task, run_cluster, run_local
from .clearsky import DEFAULT_LINKE, ineichen
from .place import Place, enu_to_grid, zone
from .rays import default_threads
from .samples import SurfaceSamples, surface_samples
from .sun import SUN_RADIUS_DEG, sun_position
from .sunrays import sky_chunk, sun_chunk

Progress = Callable[[float], None]
Cancel = Callable[[], bool]
CHUNK_MIN, CHUNK_MAX = 20_000, 250_000  # points per task
SKY_SPACING_FACTOR = 2.0  # sky-view points are this much sparser than sun points
SKY_STRATA = 4  # a polygon's sky points share the patches out: each traces every 4th (see _sky_strata)


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


def _spans(n: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous ranges of Z-ordered points (neighbours together): a few per worker,
    of CHUNK_MIN..CHUNK_MAX points."""
    if n == 0:
        return []
    size = int(np.clip(np.ceil(n / (4 * workers)), CHUNK_MIN, CHUNK_MAX))
    edges = list(range(0, n, size)) + [n]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _sky_strata(s: SurfaceSamples, strata: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Share the sky patches out among a polygon's points: with ``k`` = min(strata, its
    points), point ``i`` (its rank in the polygon, in Z order: neighbours differ) traces the
    patches ``p`` with ``(i + p) % k == 0``. Its factor is its area over the area of the
    points of its class, so that Σ factor · (its patches' visible cos·Ω) per polygon
    estimates the polygon's mean sky view, exactly for an open surface.

    Returns per point: phase (rank mod k), k, and the factor.
    """
    n = len(s)
    if n == 0:
        return np.zeros(0, np.int64), np.ones(0, np.int64), np.zeros(0)
    order = np.argsort(s.poly, kind="stable")
    sorted_poly = s.poly[order]
    starts = np.flatnonzero(np.r_[True, sorted_poly[1:] != sorted_poly[:-1]])
    counts = np.diff(np.r_[starts, n])
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, counts)
    per_poly = np.bincount(s.poly, minlength=len(s.polygons))
    stride = np.minimum(per_poly[s.poly], strata).astype(np.int64)
    phase = rank % stride
    cls = s.poly * strata + phase
    class_area = np.bincount(cls, weights=s.weight, minlength=len(s.polygons) * strata)
    factor = s.weight / class_area[cls]
    return phase, stride, factor


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
    scheduler: str | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> SunHours:
    """Sun hours and irradiation on every polygon of ``model`` (at ``lod``) over ``period``.

    ``model`` must be in a projected CRS (metres, z up); ``place`` gives where and in
    which time zone. ``grid`` (3x3) takes east-north-up vectors into the model's axes
    (default: from its CRS at the place; the identity for a model in local east-north
    coordinates). The points are cut into chunks run through Dask: ``threads`` threads
    here, or the workers of the ``dask.distributed`` ``scheduler`` (``tcp://host:8786``)
    with identical results. ``progress`` gets fractions 0..1; ``cancel`` returning True
    raises :class:`~citytwin.core.errors.Cancelled`.
    """
    if grid is None and model.crs is None:
        raise ValueError("the model has no CRS: the sun's direction in it is unknown")
    t0 = time.perf_counter()
    mask = model.lod_triangle_mask(lod)
    samples = surface_samples(model, mask, spacing)
    # the sky view changes slowly over a surface and only its mean per polygon is used:
    # points at twice the spacing (a quarter as many; one per triangle at least), each
    # tracing a share of the patches (_sky_strata)
    coarse = surface_samples(model, mask, spacing * SKY_SPACING_FACTOR) if diffuse else None
    tri = np.ascontiguousarray(model.vertices[model.triangles[mask]], dtype=np.float32)
    if grid is not None:
        m = np.asarray(grid, dtype=np.float64)
    else:
        assert model.crs is not None
        m = enu_to_grid(place.lon, place.lat, model.crs)
    times, hours, sun_grid, elevation = sun_steps(period, place, m)
    sky = ineichen(90.0 - elevation, times, linke, altitude_m)
    key = f"{model.source}:{len(tri)}:{hash(tri.tobytes())}"

    workers = threads or default_threads()
    n = len(samples)
    sun_spans = _spans(n, workers)
    sky_spans = _spans(len(coarse), workers) if coarse is not None else []
    local = scheduler is None
    stop = cancel if local else None  # a cluster's tasks are cancelled through the client
    normal = samples.normal
    tasks: list[Task] = [
        (sun_chunk, key, SHARED, samples.points[a:b], normal[a:b], sun_grid, hours, sky.dni, stop)
        for a, b in sun_spans
    ]
    if coarse is not None:
        coarse_normal = coarse.normal
        phase, stride, factor = _sky_strata(coarse, SKY_STRATA)
        tasks += [(sky_chunk, key, SHARED, coarse.points[a:b], coarse_normal[a:b], phase[a:b], stride[a:b], stop)
                  for a, b in sky_spans]
    # progress by expected rays: sun chunks cost about a step's worth per point and step
    weights = [(b - a) * max(len(times), 1) / 2 for a, b in sun_spans] + [(b - a) * 100.0 for a, b in sky_spans]
    setup_s = time.perf_counter() - t0
    if local:
        results = run_local(tasks, tri, workers, progress, weights)
    else:
        results = run_cluster(tasks, tri, str(scheduler), progress, cancel, weights)
    sun_res, sky_res = results[:len(sun_spans)], results[len(sun_spans):]
    lit_h = np.concatenate([r[0] for r in sun_res]) if sun_res else np.zeros(0)
    beam_wh = np.concatenate([r[1] for r in sun_res]) if sun_res else np.zeros(0)
    rays = sum(r[2] for r in sun_res)
    trace_s = sum(r[3] for r in sun_res)
    sky_rays = sum(r[1] for r in sky_res)
    sky_s = sum(r[2] for r in sky_res)
    sky_poly = np.ones(len(samples.polygons))
    if coarse is not None:
        assert np.array_equal(coarse.polygons, samples.polygons)
        sky_view = np.concatenate([r[0] for r in sky_res]) if sky_res else np.zeros(0)
        sky_poly = np.bincount(coarse.poly, weights=factor * sky_view, minlength=len(coarse.polygons)).astype(np.float64)
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
        stats={"samples": n, "sky_samples": len(coarse) if coarse is not None else 0,
               "triangles": int(len(tri)), "steps_with_sun": int(len(times)), "chunks": len(tasks),
               "workers": workers if local else str(scheduler),
               "sun_rays": rays, "sky_rays": sky_rays, "seconds_total": total_s,
               "seconds_sun_rays": trace_s, "seconds_sky_rays": sky_s, "seconds_setup": setup_s},
    )
