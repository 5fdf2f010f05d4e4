"""The scene clock: one notion of "now" shared by sensor replay and the simulation layers.

Pure and deterministic: the wall clock is injected, nothing runs by itself. The GUI
asks :meth:`SceneClock.time` once per frame and publishes a ``TimeChanged`` event
when it moved.

Modes: *live* follows the wall clock; otherwise the clock holds a scene time that
advances at ``speed`` scene seconds per wall second while playing, and stays put
while paused. ``set_time`` (scrub) leaves live mode.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable


class SceneClock:
    """Scene time in seconds since the epoch (UTC).

    Parameters
    ----------
    start
        Initial scene time; ``None`` starts in live mode.
    speed
        Scene seconds per wall-clock second when playing (1, 60, 3600…).
    bounds
        Optional ``(t_min, t_max)``: playing stops (pauses) at ``t_max``, or with
        :attr:`loop` set goes on from ``t_min`` (counted in :attr:`wraps`); scrubbing clamps.
    wall
        Wall clock (injectable for tests).
    """

    def __init__(self, start: float | None = None, speed: float = 1.0,
                 bounds: tuple[float, float] | None = None,
                 wall: Callable[[], float] = _time.time) -> None:
        self._wall = wall
        self._speed = float(speed)
        self.bounds = bounds
        self._live = start is None
        self._playing = False
        self._anchor_scene = float(start) if start is not None else wall()
        self._anchor_wall = wall()
        self.loop = False  # playing past the bounds wraps round instead of stopping
        self.wraps = 0  # laps completed while looping (a replay restarts when it changes)

    # ------------------------------------------------------------ state
    @property
    def live(self) -> bool:
        return self._live

    @property
    def playing(self) -> bool:
        return self._live or self._playing

    @property
    def speed(self) -> float:
        return 1.0 if self._live else self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        t = self.time()
        self._speed = float(value)
        self._anchor(t)

    def _anchor(self, t: float) -> None:
        self._anchor_scene = t
        self._anchor_wall = self._wall()

    def _clamp(self, t: float) -> float:
        if self.bounds is None:
            return t
        return min(max(t, self.bounds[0]), self.bounds[1])

    def time(self) -> float:
        """The scene time now."""
        if self._live:
            return self._wall()
        if not self._playing:
            return self._anchor_scene
        t = self._anchor_scene + (self._wall() - self._anchor_wall) * self._speed
        if self.bounds is not None and ((self._speed > 0 and t >= self.bounds[1])
                                        or (self._speed < 0 and t <= self.bounds[0])):
            t0, t1 = self.bounds
            if self.loop and t1 > t0:
                laps = (t - t0) // (t1 - t0)  # >= 1 forwards, < 0 backwards
                t = t - laps * (t1 - t0)
                self.wraps += int(abs(laps))
            else:
                t = self._clamp(t)
                self._playing = False
            self._anchor(t)
        return t

    # ------------------------------------------------------------ control
    def go_live(self) -> None:
        """Follow the wall clock again."""
        self._live = True

    def set_time(self, t: float) -> None:
        """Scrub to ``t`` (leaves live mode; keeps playing or paused)."""
        self._live = False
        self._anchor(self._clamp(float(t)))

    def step(self, dt: float) -> None:
        """Scrub by ``dt`` scene seconds."""
        self.set_time(self.time() + dt)

    def play(self, speed: float | None = None) -> None:
        """Advance at ``speed`` (or the current speed) from the current scene time."""
        t = self.time()
        self._live = False
        if speed is not None:
            self._speed = float(speed)
        self._playing = True
        self._anchor(t)

    def pause(self) -> None:
        """Hold the current scene time."""
        t = self.time()
        self._live = False
        self._playing = False
        self._anchor(t)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()
