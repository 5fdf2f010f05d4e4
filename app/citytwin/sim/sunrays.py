"""The ray work of the sun-hours analysis, for one chunk of surface points at a time.

Chunks run anywhere (a thread here, a Dask worker process elsewhere): each takes plain
arrays and builds, or reuses, its process's Embree scene of the model's triangles,
keyed by the triangles' token. A point's result depends only on the point, so any
chunking gives identical results.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from ..core.errors import Cancelled
from .clearsky import tregenza_patches
from .rays import OcclusionScene

RAYS_PER_CALL = 1 << 16  # several steps go into one engine call when a chunk is small
Cancel = Callable[[], bool]

_scenes: dict[str, OcclusionScene] = {}
_scenes_lock = threading.Lock()


def scene_for(key: str, triangles: NDArray[np.floating]) -> OcclusionScene:
    """This process's single-threaded Embree scene of ``triangles`` (built once per key;
    Embree scenes answer queries from several threads at once)."""
    with _scenes_lock:
        scene = _scenes.get(key)
        if scene is None:
            for old in _scenes.values():
                old.close()
            _scenes.clear()
            scene = _scenes[key] = OcclusionScene(triangles, threads=1)
        return scene


Batch = tuple[list[tuple[int, NDArray[np.int64], NDArray[np.float64]]], NDArray[np.float32], NDArray[np.float32]]


def sun_ray_batches(points: NDArray[np.float32], normals: NDArray[np.float64], sun: NDArray[np.float64],
                    limit: int = RAYS_PER_CALL) -> Iterator[tuple[int, Batch]]:
    """Rays from the points facing the sun, as many steps at a time as fill ``limit``
    rays: yields ``(next step, ([(step, facing points, cos θ)], origins, directions))``."""
    k = 0
    while k < len(sun):
        items: list[tuple[int, NDArray[np.int64], NDArray[np.float64]]] = []
        origins, dirs = [], []
        total = 0
        while k < len(sun) and (total == 0 or total < limit):
            cos = normals @ sun[k]
            facing = np.flatnonzero(cos > 1e-6)
            items.append((k, facing, cos[facing]))
            origins.append(points[facing])
            dirs.append(np.broadcast_to(sun[k].astype(np.float32), (len(facing), 3)))
            total += len(facing)
            k += 1
        yield k, (items, np.concatenate(origins), np.concatenate(dirs))


def sky_ray_sets(points: NDArray[np.float32], normals: NDArray[np.float64],
                 phase: NDArray[np.int64] | None = None, stride: NDArray[np.int64] | None = None) -> Iterator[
        tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float32], NDArray[np.float32]]]:
    """Per Tregenza patch: the points facing it (of those whose share it is: ``(phase + patch)
    % stride == 0``), cos θ × Ω / π for them, origins, directions."""
    dirs, omega = tregenza_patches()
    for p, (d, w) in enumerate(zip(dirs, omega, strict=True)):
        cos = normals @ d
        take = cos > 0
        if phase is not None and stride is not None:
            take &= (phase + p) % stride == 0
        facing = np.flatnonzero(take)
        if len(facing):
            yield facing, cos[facing] * w / np.pi, points[facing], np.broadcast_to(
                d.astype(np.float32), (len(facing), 3))


def sun_chunk(key: str, triangles: NDArray[np.floating], points: NDArray[np.float32],
              normals: NDArray[np.float64], sun: NDArray[np.float64], hours: NDArray[np.float64],
              dni: NDArray[np.float64], cancel: Cancel | None = None,
              ) -> tuple[NDArray[np.float64], NDArray[np.float64], int, float]:
    """Hours of sun and beam irradiation (Wh/m²) per point; rays cast and seconds tracing."""
    scene = scene_for(key, triangles)
    lit_h = np.zeros(len(points))
    beam_wh = np.zeros(len(points))
    rays, trace_s = 0, 0.0
    for _, (items, origins, dirs) in sun_ray_batches(points, normals, sun):
        if cancel is not None and cancel():
            raise Cancelled("cancelled")
        if not len(origins):
            continue
        t = time.perf_counter()
        blocked = scene.occluded(origins, dirs)
        trace_s += time.perf_counter() - t
        rays += len(origins)
        at = 0
        for step, facing, cos in items:
            lit = ~blocked[at:at + len(facing)]
            at += len(facing)
            lit_pts = facing[lit]
            lit_h[lit_pts] += hours[step]
            beam_wh[lit_pts] += dni[step] * cos[lit] * hours[step]
    return lit_h, beam_wh, rays, trace_s


def sky_chunk(key: str, triangles: NDArray[np.floating], points: NDArray[np.float32],
              normals: NDArray[np.float64], phase: NDArray[np.int64] | None = None,
              stride: NDArray[np.int64] | None = None, cancel: Cancel | None = None,
              ) -> tuple[NDArray[np.float64], int, float]:
    """Per point: (1/π) Σ visible · max(0, n·d) · Ω over the sky patches it traces (all, or
    its share: see :func:`sky_ray_sets`), normalised so that an open horizontal point
    tracing all of them gets 1; rays cast and seconds tracing."""
    scene = scene_for(key, triangles)
    dirs, omega = tregenza_patches()
    open_flat = float(np.sum(np.maximum(dirs[:, 2], 0) * omega) / np.pi)
    out = np.zeros(len(points))
    rays, trace_s = 0, 0.0
    for facing, weight, origins, directions in sky_ray_sets(points, normals, phase, stride):
        if cancel is not None and cancel():
            raise Cancelled("cancelled")
        t = time.perf_counter()
        blocked = scene.occluded(origins, directions)
        trace_s += time.perf_counter() - t
        out[facing] += np.where(blocked, 0.0, weight)
        rays += len(facing)
    result: NDArray[np.float64] = out / open_flat
    return result, rays, trace_s
