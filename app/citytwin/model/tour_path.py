"""The camera path of a tour: where the camera is, where it looks and what is shown at time t.

- **Positions and focal points** follow shape-preserving cubic curves (scipy's PCHIP per
  coordinate) through the stops, parameterised by centripetal chord length. PCHIP never
  overshoots: between two stops every coordinate stays between theirs, so the camera never
  dips below the lower of two stops into the roofs between them, as a natural cubic
  spline does when the stops are unevenly spaced.
- **Even speed**: each transition is re-parameterised by arc length (the camera's plus the
  focal point's), and its easing maps time to the fraction of that length covered, so with
  ``linear`` easing the camera moves at one speed, with ``ease-in-out`` it starts and stops
  gently and never jerks where the curve bends.
- **No roll flips**: the camera's orientation at each stop is a rotation (right, up, back);
  between stops scipy's Slerp turns it along the shortest arc, and its up vector is made
  orthogonal to the path's view direction. Up never turns through the view direction, even
  on the way to or from a straight-down view whose up is north.
- **What is shown**: the caption (and the point of interest) of a stop fades in over the
  end of the flight into it and out over the start of the flight away (half a second or
  half the transition); the clock's time moves between stops that have one; layer
  visibility and the scenario switch halfway through the flight into the stop that sets them.

``sample(t)`` gives a :class:`TourSample`; frame ``i`` of a video at ``fps`` is
``sample(i / fps)`` for ``i < frame_count(fps)`` = round(fps × duration).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import PchipInterpolator
from scipy.spatial.transform import Rotation, Slerp

from .tour import PointOfInterest, Tour, ease, parse_clock_time

__all__ = ["CAPTION_FADE", "TourPath", "TourSample", "frame_count"]

CAPTION_FADE = 0.5  # seconds a caption takes to fade in or out (at most half the transition)
_ARC_SAMPLES = 256  # points per transition for the arc-length table


@dataclass(frozen=True)
class TourSample:
    """The state of a tour at one instant (world coordinates of the scene CRS)."""

    t: float
    position: NDArray[np.float64]
    focal_point: NDArray[np.float64]
    up: NDArray[np.float64]
    view_angle: float
    stop: int  # the stop whose caption/POI is (or was last) shown
    caption: str
    caption_alpha: float  # 0..1 (fading)
    poi: PointOfInterest | None
    time: float | None  # the scene clock, Unix seconds (None: no stop so far sets one)
    layers: dict[str, bool]  # visibility set by the stops so far (layers not named keep theirs)
    scenario: str | None
    holding: bool  # at a stop (not flying)


def frame_count(duration: float, fps: float) -> int:
    """Frames of a video of ``duration`` seconds at ``fps``: round(fps × duration), at least 1."""
    return max(1, int(round(duration * fps)))


def _default_clock(text: str) -> float:
    return parse_clock_time(text).timestamp()


def _frame(d: NDArray[np.float64], up: NDArray[np.float64]) -> NDArray[np.float64]:
    """Camera rotation: columns right, up, back (the view direction is -back)."""
    back = -d / np.linalg.norm(d)
    right = np.cross(-back, up)
    right /= np.linalg.norm(right)
    true_up = np.cross(back, right)
    return np.column_stack([right, true_up, back])


class TourPath:
    """The sampled path of a valid tour.

    Parameters
    ----------
    tour
        A tour that passes :meth:`Tour.validate`.
    clock
        Converts a stop's ``time`` text to Unix seconds (the renderer passes the place's own
        parser so times without an offset are local to the scene); default: ISO 8601, naive
        times in this machine's zone.
    """

    def __init__(self, tour: Tour, clock: Callable[[str], float] | None = None) -> None:
        tour.validate()
        self.tour = tour
        stops = tour.stops
        n = len(stops)
        self.origin = np.asarray(stops[0].position, dtype=np.float64)
        pos = np.array([s.position for s in stops], dtype=np.float64) - self.origin
        foc = np.array([s.focal_point for s in stops], dtype=np.float64) - self.origin
        # the timeline: hold of stop 0, then for each next stop its transition and its hold
        starts, ends = [], []
        t = 0.0
        for k, s in enumerate(stops):
            if k:
                t += s.transition
            starts.append(t)
            t += s.hold
            ends.append(t)
        self.arrive = np.array(starts)  # time the camera reaches stop k
        self.leave = np.array(ends)  # time it leaves stop k
        self.duration = float(t)
        # knots by centripetal chord length of (position, focal point)
        step = np.linalg.norm(np.diff(pos, axis=0), axis=1) + np.linalg.norm(np.diff(foc, axis=0), axis=1)
        scale = max(float(step.sum()), 1.0)
        step = np.sqrt(np.maximum(step, 1e-9 * scale))
        self.knots = np.concatenate([[0.0], np.cumsum(step)])
        if n >= 2:
            self._pos = PchipInterpolator(self.knots, pos, axis=0)
            self._foc = PchipInterpolator(self.knots, foc, axis=0)
        self._pos_k, self._foc_k = pos, foc
        self._arc: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
        for k in range(n - 1):
            u = np.linspace(self.knots[k], self.knots[k + 1], _ARC_SAMPLES)
            seg = np.linalg.norm(np.diff(self._pos(u), axis=0), axis=1) + np.linalg.norm(
                np.diff(self._foc(u), axis=0), axis=1)
            self._arc.append((u, np.concatenate([[0.0], np.cumsum(seg)])))
        rots = Rotation.from_matrix(np.stack([_frame(foc[k] - pos[k], np.asarray(stops[k].up, dtype=np.float64))
                                              for k in range(n)]))
        self._slerps = [Slerp([0.0, 1.0], rots[k:k + 2]) for k in range(n - 1)]
        self._rots = rots
        # clock, layers and scenario in effect at each stop (carried forward)
        parse = clock or _default_clock
        self._clock: list[float | None] = []
        self._layers: list[dict[str, bool]] = []
        self._scenario: list[str | None] = []
        now: float | None = None
        layers: dict[str, bool] = {}
        scenario: str | None = None
        for s in stops:
            if s.time is not None:
                now = float(parse(s.time))
            if s.layers:
                layers = {**layers, **s.layers}
            if s.scenario is not None:
                scenario = s.scenario
            self._clock.append(now)
            self._layers.append(layers)
            self._scenario.append(scenario)

    # ------------------------------------------------------------------ timing
    def frame_count(self, fps: float) -> int:
        return frame_count(self.duration, fps)

    def frame_times(self, fps: float) -> NDArray[np.float64]:
        """The instants of the frames of a video at ``fps``: ``i / fps``."""
        return np.arange(self.frame_count(fps), dtype=np.float64) / float(fps)

    def locate(self, t: float) -> tuple[int, float]:
        """``(k, u)``: at stop k when ``u == 0`` (holding), else flying from stop k-1 to stop k,
        ``u`` in (0, 1) the time fraction of that transition."""
        t = min(max(float(t), 0.0), self.duration)
        k = int(np.searchsorted(self.arrive, t, side="right")) - 1  # the last stop reached
        k = max(k, 0)
        if t <= self.leave[k] or k + 1 >= len(self.tour.stops):
            return k, 0.0
        span = self.arrive[k + 1] - self.leave[k]
        return k + 1, (t - self.leave[k]) / span if span > 0 else 1.0

    # ------------------------------------------------------------------ geometry
    def _knot_at(self, k: int, e: float) -> float:
        """The curve parameter ``e`` (eased fraction of length) along the flight into stop k."""
        u, cum = self._arc[k - 1]
        total = cum[-1]
        if total <= 1e-9:
            return float(u[0] + e * (u[-1] - u[0]))
        return float(np.interp(e * total, cum, u))

    def sample(self, t: float) -> TourSample:
        """The camera and what is shown at ``t`` seconds (clamped to the tour)."""
        t = min(max(float(t), 0.0), self.duration)
        stops = self.tour.stops
        k, u = self.locate(t)
        if u == 0.0:
            pos, foc = self._pos_k[k], self._foc_k[k]
            rot = self._rots[k]
            angle = stops[k].view_angle
            e = 1.0
        else:
            e = ease(stops[k].easing, u)
            s = self._knot_at(k, e)
            pos, foc = np.asarray(self._pos(s)), np.asarray(self._foc(s))
            rot = self._slerps[k - 1]([e])[0]
            angle = stops[k - 1].view_angle + (stops[k].view_angle - stops[k - 1].view_angle) * e
        d = foc - pos
        if np.linalg.norm(d) < 1e-6:  # a curve may pass through its focal point: keep the turned direction
            d = -rot.as_matrix()[:, 2]
            foc = pos + d
        d = d / np.linalg.norm(d)
        up = rot.as_matrix()[:, 1]
        up = up - float(up @ d) * d
        if np.linalg.norm(up) < 1e-6:
            up = rot.as_matrix()[:, 2]  # looking along the turned up: its back is a valid up
        up /= np.linalg.norm(up)
        shown, alpha = self._caption(t)
        j = k if u == 0.0 or u >= 0.5 else k - 1  # layers/scenario switch halfway through a flight
        return TourSample(
            t=t, position=pos + self.origin, focal_point=foc + self.origin, up=up, view_angle=float(angle),
            stop=shown, caption=stops[shown].caption, caption_alpha=alpha, poi=stops[shown].poi,
            time=self._time(k, u, e), layers=self._layers[j], scenario=self._scenario[j], holding=u == 0.0,
        )

    # ------------------------------------------------------------------ overlays and clock
    def _caption(self, t: float) -> tuple[int, float]:
        """The stop whose caption is shown at ``t`` and its opacity."""
        n = len(self.tour.stops)
        best, alpha = 0, 0.0
        for k in range(n):
            a, b = self.arrive[k], self.leave[k]
            fin = min(CAPTION_FADE, (a - self.leave[k - 1]) / 2) if k else min(CAPTION_FADE, (b - a) / 3)
            fout = min(CAPTION_FADE, (self.arrive[k + 1] - b) / 2) if k + 1 < n else min(CAPTION_FADE, (b - a) / 3)
            if t < a - fin or t > b + fout:
                continue
            if t < a:
                v = (t - (a - fin)) / fin if fin > 0 else 1.0
            elif k == 0 and fin > 0 and t < a + fin:  # the first caption fades in at the start
                v = (t - a) / fin
            elif t > b:
                v = 1.0 - (t - b) / fout if fout > 0 else 1.0
            elif k + 1 == n and fout > 0 and t > b - fout:  # the last fades out at the end
                v = (b - t) / fout
            else:
                v = 1.0
            v = min(1.0, max(0.0, v))
            if v > alpha or (v == alpha and k > best and v > 0):
                best, alpha = k, v
        if alpha == 0.0:  # between captions: the stop last reached, invisible
            best = self.locate(t)[0]
        return best, math.sin(alpha * math.pi / 2) ** 2 if 0 < alpha < 1 else alpha

    def _time(self, k: int, u: float, e: float) -> float | None:
        now = self._clock[k]
        if u == 0.0 or k == 0:
            return now
        prev = self._clock[k - 1]
        if prev is None or now is None:
            return now if u >= 0.5 else prev
        return prev + (now - prev) * e
