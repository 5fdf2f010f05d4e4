"""Virtual tours: a named list of stops the camera flies through (no Qt, no VTK).

A stop is a camera (position, focal point, up in world coordinates of the scene CRS), a
hold (seconds at the stop), a transition (seconds flying in from the previous stop; the
first stop has none), an easing of that flight, a caption, and optionally a point of
interest (a marker with a label), the scene clock's time, layer visibility and a
scenario. The path between stops is :mod:`citytwin.model.tour_path`; the scene-file
tables are :mod:`citytwin.model.tourfile`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from ..core.errors import CityTwinError

__all__ = ["EASINGS", "MIN_CAMERA_DISTANCE", "PointOfInterest", "Stop", "Tour", "TourError", "ease",
           "find_tour", "parse_clock_time"]

Vec3 = tuple[float, float, float]

EASINGS = ("linear", "ease-in", "ease-out", "ease-in-out")
MIN_CAMERA_DISTANCE = 1e-3  # metres between a camera and its focal point (closer: no view direction)


class TourError(CityTwinError):
    """A tour that cannot be played: ``str()`` is one line naming the file, the tour and the stop."""


@dataclass(frozen=True)
class PointOfInterest:
    """A marker at ``position`` (world coordinates) with a label that faces the camera."""

    position: Vec3
    label: str = ""


@dataclass(frozen=True)
class Stop:
    """One stop of a tour."""

    position: Vec3
    focal_point: Vec3
    up: Vec3 = (0.0, 0.0, 1.0)
    view_angle: float = 30.0
    hold: float = 2.0  # seconds at the stop
    transition: float = 3.0  # seconds flying in from the previous stop (ignored for the first)
    easing: str = "ease-in-out"
    caption: str = ""
    poi: PointOfInterest | None = None
    time: str | None = None  # the scene clock's time (ISO 8601; no offset: the place's local time)
    layers: dict[str, bool] | None = None  # layer (dataset) name -> visible, from this stop on
    scenario: str | None = None  # a scenario's name, from this stop on


@dataclass
class Tour:
    """A named tour: its stops in order."""

    name: str
    stops: list[Stop] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds: every hold and every transition but the first stop's."""
        return sum(s.hold for s in self.stops) + sum(s.transition for s in self.stops[1:])

    def problem(self) -> str | None:
        """What makes the tour unplayable (``"stop 2: the camera sits on its focal point"``), or None."""
        if not self.stops:
            return "has no stops"
        for k, s in enumerate(self.stops, start=1):
            what = _stop_problem(s, first=k == 1)
            if what:
                return f"stop {k}: {what}"
        if self.duration <= 0.0:
            return "lasts 0 s (every hold and transition is 0)"
        return None

    def validate(self, where: str = "") -> None:
        """Raise :class:`TourError` (one line, prefixed by ``where``, e.g. the file) if unplayable."""
        what = self.problem()
        if what:
            raise TourError(f"{where + ': ' if where else ''}tour {self.name!r} {what}")


def _stop_problem(s: Stop, first: bool) -> str | None:
    for name, v in (("position", s.position), ("focal_point", s.focal_point), ("up", s.up)):
        if len(v) != 3 or not all(math.isfinite(c) for c in v):
            return f"{name} must be three finite numbers"
    d = [f - p for f, p in zip(s.focal_point, s.position)]
    dist = math.sqrt(sum(c * c for c in d))
    if dist < MIN_CAMERA_DISTANCE:
        return "the camera sits on its focal point"
    up_len = math.sqrt(sum(c * c for c in s.up))
    if up_len < 1e-9:
        return "up is a zero vector"
    cross = (d[1] * s.up[2] - d[2] * s.up[1], d[2] * s.up[0] - d[0] * s.up[2], d[0] * s.up[1] - d[1] * s.up[0])
    if math.sqrt(sum(c * c for c in cross)) < 1e-6 * dist * up_len:
        return "up is parallel to the view direction (the roll is undefined)"
    if not (math.isfinite(s.hold) and s.hold >= 0.0):
        return f"hold must be 0 or more seconds, got {s.hold}"
    if not first and not (math.isfinite(s.transition) and s.transition >= 0.0):
        return f"transition must be 0 or more seconds, got {s.transition}"
    if s.easing not in EASINGS:
        return f"easing must be one of {', '.join(EASINGS)}, got {s.easing!r}"
    if not (math.isfinite(s.view_angle) and 1.0 <= s.view_angle <= 179.0):
        return f"view_angle must be 1..179 degrees, got {s.view_angle}"
    if s.poi is not None and not all(math.isfinite(c) for c in s.poi.position):
        return "poi position must be three finite numbers"
    if s.time is not None:
        try:
            parse_clock_time(s.time)
        except ValueError:
            return f"time {s.time!r} is not an ISO 8601 time (e.g. 2026-06-21T10:00:00+02:00)"
    return None


def parse_clock_time(text: str) -> datetime:
    """An ISO 8601 date-time (``2026-06-21T10:00``, with or without an offset); ValueError if not one."""
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    return datetime.fromisoformat(t)


def ease(name: str, u: float) -> float:
    """The eased fraction of a transition at time fraction ``u`` in [0, 1] (cubic easings)."""
    u = min(1.0, max(0.0, u))
    if name == "linear":
        return u
    if name == "ease-in":
        return u * u * u
    if name == "ease-out":
        return 1.0 - (1.0 - u) ** 3
    return 4.0 * u * u * u if u < 0.5 else 1.0 - (-2.0 * u + 2.0) ** 3 / 2.0  # ease-in-out


def find_tour(tours: list[Tour], name: str, where: str = "") -> Tour:
    """The tour called ``name`` (case-insensitive); :class:`TourError` naming the known ones if none."""
    for t in tours:
        if t.name.lower() == name.lower():
            return t
    known = ", ".join(repr(t.name) for t in tours) or "none"
    raise TourError(f"{where + ': ' if where else ''}no tour {name!r} (tours: {known})")
