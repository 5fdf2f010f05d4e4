"""Per-object values from point sensors: nearest sensor or inverse-distance weighting (pure numpy).

Used to colour buildings by a sensor layer. Points are 2D (x, y) in ONE frame:
the sensor layer keeps its positions relative to the scene origin, so object
centres (``CityModel.object_bboxes()`` is in world coordinates) must have the
scene origin subtracted first (:func:`object_centres`).

No KD-tree (scipy is not a dependency): distances are computed as dense
``(chunk, S)`` matrices, the chunk sized so that one matrix stays under
``MAX_CHUNK_ELEMENTS`` float64 values; sensors with a NaN value or position are
dropped before that.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MAX_CHUNK_ELEMENTS", "idw_values", "nearest_values", "object_centres"]

MAX_CHUNK_ELEMENTS = 2_000_000  # ~16 MB per float64 distance matrix


def object_centres(bboxes: ArrayLike, origin: ArrayLike) -> NDArray[np.float64]:
    """``(N, 2)`` xy centres of ``(N, 2, 3)`` world bounding boxes minus the scene ``origin``.

    Objects without geometry (NaN boxes) get NaN centres.
    """
    b = np.asarray(bboxes, dtype=np.float64)
    o = np.asarray(origin, dtype=np.float64).reshape(-1)[:2]
    return (b[:, 0, :2] + b[:, 1, :2]) * 0.5 - o


def _valid(positions: ArrayLike, values: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    p = np.asarray(positions, dtype=np.float64)
    p = (p.reshape(-1, 2) if p.ndim == 1 else p)[:, :2]
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(p) != len(v):
        raise ValueError(f"{len(p)} sensor positions but {len(v)} values")
    ok = np.isfinite(v) & np.isfinite(p).all(axis=1)
    return p[ok], v[ok]


def _step(s: int) -> int:
    """Query rows per chunk so that a ``(rows, s)`` matrix stays under ``MAX_CHUNK_ELEMENTS``."""
    return max(1, MAX_CHUNK_ELEMENTS // max(s, 1))


def _d2(c: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    dx = c[:, None, 0] - p[None, :, 0]
    dy = c[:, None, 1] - p[None, :, 1]
    return dx * dx + dy * dy


def nearest_values(centres: ArrayLike, positions: ArrayLike, values: ArrayLike,
                   max_distance: float | None = None) -> NDArray[np.float64]:
    """Value of the nearest sensor with a value, for every point.

    Parameters
    ----------
    centres
        ``(N, 2)`` query points (NaN rows give NaN).
    positions
        ``(S, 2)`` (or ``(S, 3)``, z ignored) sensor positions in the same frame.
    values
        ``(S,)`` sensor values; NaN (no or stale reading) sensors are ignored.
    max_distance
        Points farther than this from every sensor get NaN.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` float64.
    """
    c = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    p, v = _valid(positions, values)
    out = np.full(len(c), np.nan)
    if len(p) == 0 or len(c) == 0:
        return out
    lim = np.inf if max_distance is None else float(max_distance) ** 2
    step = _step(len(p))
    for a in range(0, len(c), step):
        cc = c[a: a + step]
        d2 = _d2(cc, p)
        j = np.argmin(np.where(np.isnan(d2), np.inf, d2), axis=1)
        best = d2[np.arange(len(cc)), j]
        out[a: a + len(cc)] = np.where(best <= lim, v[j], np.nan)
    return out


def idw_values(centres: ArrayLike, positions: ArrayLike, values: ArrayLike, power: float = 2.0, k: int = 8,
               max_distance: float | None = None) -> NDArray[np.float64]:
    """Inverse-distance weighted value of the ``k`` nearest sensors for every point.

    ``sum(w_i v_i) / sum(w_i)`` with ``w_i = 1 / d_i**power`` over the ``k`` nearest
    sensors with a value (within ``max_distance`` if given); a point on a sensor
    takes its value.

    Parameters
    ----------
    centres
        ``(N, 2)`` query points (NaN rows give NaN).
    positions
        ``(S, 2)`` (or ``(S, 3)``, z ignored) sensor positions in the same frame.
    values
        ``(S,)`` values; NaN sensors are ignored.
    power
        Distance exponent (2: the usual Shepard weighting).
    k
        Sensors used per point (``<= 0``: all).
    max_distance
        Sensors farther away do not count; points with none in reach get NaN.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` float64.
    """
    c = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    p, v = _valid(positions, values)
    out = np.full(len(c), np.nan)
    s = len(p)
    if s == 0 or len(c) == 0:
        return out
    kk = s if k <= 0 else min(int(k), s)
    lim = np.inf if max_distance is None else float(max_distance) ** 2
    step = _step(s)
    for a in range(0, len(c), step):
        cc = c[a: a + step]
        d2 = _d2(cc, p)
        if kk < s:
            j = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
            d2 = np.take_along_axis(d2, j, axis=1)
            vv = v[j]
        else:
            vv = np.broadcast_to(v, d2.shape)
        reach = d2 <= lim  # False for NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(reach, 1.0 / d2 ** (0.5 * power), 0.0)
            exact = reach & (d2 == 0.0)
            res = (w * vv).sum(axis=1) / w.sum(axis=1)  # NaN where nothing is in reach
        hit = exact.any(axis=1)
        if hit.any():  # on a sensor: its value (several at one spot: their mean)
            ev = np.where(exact, vv, 0.0).sum(axis=1) / np.maximum(exact.sum(axis=1), 1)
            res = np.where(hit, ev, res)
        out[a: a + len(cc)] = res
    return out
