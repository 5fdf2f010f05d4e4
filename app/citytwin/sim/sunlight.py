"""The sun over a scene at a clock time: the key light's direction in the scene's axes.

Qt-free and VTK-free: the viewer and ``citytwin render`` ask :meth:`Sunlight.direction`
for the scene clock's time (unix seconds) and hand the vector to the renderer. The place
is the scene's centre (:class:`~citytwin.sim.place.Place`), the direction is turned from
east-north-up into the CRS's grid (meridian convergence, :func:`~citytwin.sim.place.enu_to_grid`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from .place import Place, enu_to_grid, zone
from .sun import sun_position

__all__ = ["Sunlight", "key_dates"]


@dataclass(frozen=True)
class Sunlight:
    """The sun at ``place``; ``grid`` takes east-north-up vectors to the scene's axes."""

    place: Place
    grid: NDArray[np.float64] = field(default_factory=lambda: np.eye(3))

    @classmethod
    def of_bbox(cls, bbox: NDArray[np.float64], crs: CRS) -> Sunlight:
        """The sun over the centre of a ``(min xyz, max xyz)`` box in ``crs`` (absolute coordinates)."""
        place = Place.of_bbox(np.asarray(bbox, dtype=np.float64), crs)
        return cls(place, enu_to_grid(place.lon, place.lat, crs))

    def position(self, t: float) -> tuple[float, float]:
        """``(azimuth, apparent elevation)`` in degrees at unix time ``t``."""
        pos = sun_position(np.array([float(t)]), self.place.lon, self.place.lat)
        return float(pos.azimuth[0]), float(pos.elevation[0])

    def direction(self, t: float) -> NDArray[np.float64] | None:
        """Unit vector from the scene towards the sun at ``t``, in scene axes; ``None``
        while the sun (its centre, refracted) is below the horizon."""
        pos = sun_position(np.array([float(t)]), self.place.lon, self.place.lat)
        if not pos.elevation[0] > 0.0:
            return None
        d = self.grid @ pos.direction()[0]
        return d / np.linalg.norm(d)

    def parse(self, text: str) -> float:
        """Unix seconds of ISO 8601 text; a time without an offset is the place's own."""
        return self.place.time(text).timestamp()

    def key_dates(self, year: int, t_of_day: float | None = None) -> dict[str, float]:
        """See :func:`key_dates` (at this place's time zone)."""
        return key_dates(year, self.place.timezone, t_of_day)


# Mean dates of the solstices and equinoxes (UTC day; they move by a day over the years).
_KEY_DAYS = (("March equinox", 3, 20), ("June solstice", 6, 21),
             ("September equinox", 9, 22), ("December solstice", 12, 21))


def key_dates(year: int, tz: str, t_of_day: float | None = None) -> dict[str, float]:
    """Unix seconds of the solstices and equinoxes of ``year`` at the same local time of
    day as the instant ``t_of_day`` (default local noon), in time zone ``tz``."""
    z = zone(tz)
    if t_of_day is None:
        hms = timedelta(hours=12)
    else:
        local = datetime.fromtimestamp(float(t_of_day), z)
        hms = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    out = {}
    for name, month, day in _KEY_DAYS:
        day = min(day, calendar.monthrange(year, month)[1])
        out[name] = (datetime(year, month, day, tzinfo=z) + hms).timestamp()
    return out
