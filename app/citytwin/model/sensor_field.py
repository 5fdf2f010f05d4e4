"""Per-object values from point sensors: nearest sensor or inverse-distance weighting (pure numpy).

Used to colour buildings by a sensor layer. Points are 2D (x, y) in ONE frame:
the sensor layer keeps its positions relative to the scene origin, so object
centres (``CityModel.object_bboxes()`` is in world coordinates) must have the
scene origin subtracted first (:func:`object_centres`).

No KD-tree (scipy is not a dependency): distances are computed as dense
``(chunk, S)`` matrices, the chunk sized so that one matrix stays under
``MAX_CHUNK_ELEMENTS`` float64 values; sensors with a NaN value or position are
dropped before that. As the sensors rarely move or fall silent, a viewer keeps the
:class:`FieldWeights` of one geometry (:func:`field_weights`) and applies new values
with :meth:`FieldWeights.apply`, ``O(N k)`` per update.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EXACT_WEIGHT", "MAX_CHUNK_ELEMENTS", "FieldWeights", "field_weights", "idw_values", "nearest_values",
           "object_centres", "object_vertices"]

MAX_CHUNK_ELEMENTS = 2_000_000  # ~16 MB per float64 distance matrix


def object_centres(bboxes: ArrayLike, origin: ArrayLike) -> NDArray[np.float64]:
    """``(N, 2)`` xy centres of ``(N, 2, 3)`` world bounding boxes minus the scene ``origin``.

    Objects without geometry (NaN boxes) get NaN centres.
    """
    b = np.asarray(bboxes, dtype=np.float64)
    o = np.asarray(origin, dtype=np.float64).reshape(-1)[:2]
    return (b[:, 0, :2] + b[:, 1, :2]) * 0.5 - o


def object_vertices(triangles: ArrayLike, tri_object: ArrayLike, objects: ArrayLike) -> NDArray[np.int64]:
    """Sorted indices of the vertices used by the triangles of the chosen objects.

    Parameters
    ----------
    triangles
        ``(T, 3)`` vertex indices.
    tri_object
        ``(T,)`` object index of every triangle (``< 0``: none).
    objects
        ``(n_objects,)`` bool, the objects whose vertices are wanted.

    Returns
    -------
    numpy.ndarray
        ``(M,)`` int64, unique vertex indices.
    """
    tri = np.asarray(triangles).reshape(-1, 3)
    obj = np.asarray(tri_object).reshape(-1)
    sel = np.asarray(objects, dtype=bool).reshape(-1)
    if len(tri) == 0 or len(sel) == 0:
        return np.zeros(0, dtype=np.int64)
    keep = (obj >= 0) & (obj < len(sel))
    keep[keep] = sel[obj[keep]]
    return np.unique(tri[keep].astype(np.int64))


def _points(positions: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(positions, dtype=np.float64)
    return (p.reshape(-1, 2) if p.ndim == 1 else p)[:, :2]


def _step(s: int) -> int:
    """Query rows per chunk so that a ``(rows, s)`` matrix stays under ``MAX_CHUNK_ELEMENTS``."""
    return max(1, MAX_CHUNK_ELEMENTS // max(s, 1))


def _d2(c: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    dx = c[:, None, 0] - p[None, :, 0]
    dy = c[:, None, 1] - p[None, :, 1]
    return dx * dx + dy * dy


EXACT_WEIGHT = 1e30  # weight of a sensor at distance 0 (its value wins unless it has none)


GRID_MIN_PAIRS = 4_000_000  # above this many point-sensor pairs the k nearest are found cell by cell
GRID_POINTS_PER_CELL = 64


def _fill(idx: NDArray[np.int64], w: NDArray[np.float64], a: int, j: NDArray[np.int64],
          d2: NDArray[np.float64], lim: float, power: float) -> None:
    """Write candidates ``j`` (nearest first) and their raw weights into rows ``a..`` of ``idx``/``w``."""
    reach = np.isfinite(d2) & (d2 <= lim)
    with np.errstate(divide="ignore"):
        ww = np.where(reach, 1.0 / d2 ** (0.5 * power), 0.0)
    ww[reach & (d2 == 0.0)] = EXACT_WEIGHT
    idx[a: a + len(j)] = j
    w[a: a + len(j)] = ww


def _knn_grid(c: NDArray[np.float64], p: NDArray[np.float64], kk: int
              ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The ``kk`` nearest of sensors ``p`` for every point ``c`` (nearest first), via a grid of points.

    Points are bucketed into square cells of side ``h``; for a cell with centre ``q``
    and half-diagonal ``r``, every sensor among a member's ``kk`` nearest lies within
    ``r_k(q) + 2 r`` of ``q`` (``r_k(q)``: distance of ``q``'s ``kk``-th nearest
    sensor), so a cell compares its points with those candidates only.
    """
    n = len(c)
    j_out = np.zeros((n, kk), dtype=np.int64)
    d_out = np.full((n, kk), np.inf)
    fin = np.flatnonzero(np.isfinite(c).all(axis=1))
    if len(fin) == 0:
        return j_out, d_out
    cf = c[fin]
    lo = cf.min(axis=0)
    ext = np.maximum(cf.max(axis=0) - lo, 1e-9)
    cells = max(1, len(cf) // GRID_POINTS_PER_CELL)
    h = max(float(np.sqrt(ext[0] * ext[1] / cells)), float(ext.max()) / cells, 1e-6)
    ij = np.floor((cf - lo) / h).astype(np.int64)
    ny = int(ij[:, 1].max()) + 1
    key = ij[:, 0] * ny + ij[:, 1]
    order = np.argsort(key, kind="stable")
    starts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])
    ends = np.r_[starts[1:], len(order)]
    r = h * np.sqrt(0.5)
    for a, b in zip(starts, ends):
        rows = order[a:b]
        cx, cy = ij[rows[0]]
        q = lo + (np.array([cx, cy]) + 0.5) * h
        dq = np.hypot(p[:, 0] - q[0], p[:, 1] - q[1])
        rk = np.partition(dq, kk - 1)[kk - 1]
        cand = np.flatnonzero(dq <= rk + 2.0 * r + 1e-9)
        d2 = _d2(cf[rows], p[cand])
        if len(cand) > kk:
            jj = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
            d2 = np.take_along_axis(d2, jj, axis=1)
        else:
            jj = np.broadcast_to(np.arange(len(cand)), d2.shape)
        srt = np.argsort(d2, axis=1, kind="stable")
        j_out[fin[rows]] = cand[np.take_along_axis(jj, srt, axis=1)]
        d_out[fin[rows]] = np.take_along_axis(d2, srt, axis=1)
    return j_out, d_out


@dataclass
class FieldWeights:
    """Candidate sensors and inverse-distance weights of every point, nearest first.

    :meth:`apply` uses, per point, the first ``k`` candidates that have a finite
    value (one for ``"nearest"``), so sensors falling silent or coming back need no
    new weights as long as a point keeps enough candidates. Rows without any
    usable candidate give NaN.
    """

    idx: NDArray[np.int64]  # (N, c) candidate sensor indices, nearest first
    w: NDArray[np.float64]  # (N, c) raw weights 1/d**power (EXACT_WEIGHT at d = 0; 0: out of reach)
    k: int = 8  # candidates used per point
    method: str = "idw"
    complete: bool = False  # every usable sensor is a candidate of every point
    _norm: tuple[NDArray[np.int64], NDArray[np.float64]] | None = field(default=None, init=False, repr=False,
                                                                        compare=False)

    def _normalised(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Candidates and normalised weights used when every sensor has a value (cached): the
        first ``k`` candidates in reach (they come first), a sensor at distance 0 alone, NaN
        weights for points with none in reach. The same as the general case of :meth:`apply`."""
        if self._norm is None:
            kk = min(1 if self.method == "nearest" else max(self.k, 1), self.idx.shape[1])
            w = self.w[:, :kk]
            ok = w > 0
            exact = w >= EXACT_WEIGHT
            hit = exact.any(axis=1)
            ww = ok.astype(np.float64) if self.method == "nearest" else np.where(ok, w, 0.0)
            ww[hit] = exact[hit]
            tot = ww.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                norm = ww / tot[:, None]
            norm[~(tot > 0)] = np.nan
            self._norm = (np.ascontiguousarray(self.idx[:, :kk]), norm)
        return self._norm

    def refillable(self) -> NDArray[np.bool_]:
        """Points for which sensors beyond the candidates could still count: all their
        candidates are within reach and some sensors are not candidates. Where
        :meth:`apply` gives NaN for such a point (all candidates silent), weights over
        the sensors that have a value (a new :func:`field_weights`) may give one; for the
        other points they cannot."""
        n, c = self.idx.shape
        if self.complete or c == 0:
            return np.zeros(n, dtype=bool)
        return self.w[:, -1] > 0

    def apply(self, values: ArrayLike) -> NDArray[np.float64]:
        """``(N,)`` values at the points for sensor ``values`` ``(S,)`` (NaN: sensor ignored)."""
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        n, c = self.idx.shape
        if c == 0 or len(v) == 0:
            return np.full(n, np.nan)
        if np.isfinite(v).all():  # every sensor has a value (the usual case): normalised weights, one gather
            idx, norm = self._normalised()
            return np.einsum("nk,nk->n", norm, v[idx])
        vv = v[self.idx]
        ok = np.isfinite(vv) & (self.w > 0)
        ok &= np.cumsum(ok, axis=1) <= (1 if self.method == "nearest" else max(self.k, 1))
        exact = ok & (self.w >= EXACT_WEIGHT)
        hit = exact.any(axis=1)
        ok[hit] = exact[hit]  # on a sensor: its value (several at one spot: their mean)
        ww = ok.astype(np.float64) if self.method == "nearest" else np.where(ok, self.w, 0.0)
        ww[hit] = ok[hit]
        tot = ww.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.einsum("nk,nk->n", ww, np.where(ok, vv, 0.0)) / tot
        out[~(tot > 0)] = np.nan
        return out


def field_weights(centres: ArrayLike, positions: ArrayLike, valid: ArrayLike | None = None, *,
                  method: str = "idw", power: float = 2.0, k: int = 8, candidates: int | None = None,
                  max_distance: float | None = None) -> FieldWeights:
    """Weights of the ``method`` (``"idw"`` or ``"nearest"``) interpolation from sensors to points.

    Parameters
    ----------
    centres
        ``(N, 2)`` query points (NaN rows give NaN).
    positions
        ``(S, 2)`` (or ``(S, 3)``, z ignored) sensor positions in the same frame.
    valid
        ``(S,)`` bool: sensors that may count; default all with a finite position.
    method
        ``"idw"``: ``w_i = 1 / d_i**power`` over the ``k`` nearest sensors with a value,
        normalised (a point on a sensor takes its value); ``"nearest"``: the nearest.
    power, k
        IDW exponent and sensors per point (``k <= 0``: all).
    candidates
        Nearest sensors kept per point (default ``k``, 1 for ``"nearest"``); more
        than ``k`` lets :meth:`FieldWeights.apply` skip sensors without a value.
    max_distance
        Sensors farther away do not count.

    Returns
    -------
    FieldWeights
    """
    c = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    p = _points(positions)
    ok = np.isfinite(p).all(axis=1)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool).reshape(-1)
    sid = np.flatnonzero(ok)
    p = p[sid]
    s = len(p)
    k_use = s if k <= 0 else int(k)
    want = candidates if candidates is not None else (1 if method == "nearest" else k_use)
    kk = min(max(int(want), 1), s)
    idx = np.zeros((len(c), kk), dtype=np.int64)
    w = np.zeros((len(c), kk), dtype=np.float64)
    if s == 0 or len(c) == 0:
        return FieldWeights(idx, w, k_use, method, complete=True)
    lim = np.inf if max_distance is None else float(max_distance) ** 2
    if kk < s and len(c) * s > GRID_MIN_PAIRS:
        j, d2 = _knn_grid(c, p, kk)
        _fill(idx, w, 0, sid[j], d2, lim, power)
        return FieldWeights(idx, w, k_use, method, complete=kk >= s)
    step = _step(s)
    for a in range(0, len(c), step):
        cc = c[a: a + step]
        d2 = _d2(cc, p)
        d2[np.isnan(d2)] = np.inf
        if kk == 1:
            j = np.argmin(d2, axis=1)[:, None]
        elif kk < s:
            j = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
        else:
            j = np.broadcast_to(np.arange(s), d2.shape)
        d2 = np.take_along_axis(d2, j, axis=1)
        order = np.argsort(d2, axis=1, kind="stable")  # nearest first
        _fill(idx, w, a, sid[np.take_along_axis(j, order, axis=1)], np.take_along_axis(d2, order, axis=1),
              lim, power)
    return FieldWeights(idx, w, k_use, method, complete=kk >= s)


def _check(positions: ArrayLike, values: ArrayLike) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(_points(positions)) != len(v):
        raise ValueError(f"{len(_points(positions))} sensor positions but {len(v)} values")
    return v


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
    v = _check(positions, values)
    return field_weights(centres, positions, np.isfinite(v), method="nearest",
                         max_distance=max_distance).apply(v)


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
    v = _check(positions, values)
    return field_weights(centres, positions, np.isfinite(v), method="idw", power=power, k=k,
                         max_distance=max_distance).apply(v)
