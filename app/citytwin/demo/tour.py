"""The demo scene's tour: from the overview to the town hall, the park, the church and back,
with the sun moving from morning to evening on 1 June 2024, the day the demo's sensor replay
covers (the sensors move with the tour)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.scenefile import Camera
from ..model.tour import PointOfInterest, Stop, Tour

__all__ = ["DEMO_TOUR_NAME", "demo_tour"]

DEMO_TOUR_NAME = "Lindenau in brief"

Look = Callable[..., Camera]  # generate._look(pool, focal_local, azimuth, elevation, distance)


def _stop(cam: Camera, **kw: Any) -> Stop:
    return Stop(position=cam.position, focal_point=cam.focal_point, up=cam.up, view_angle=cam.view_angle, **kw)


def demo_tour(pool: Any, landmarks: dict[str, tuple[float, float, float]], centre: tuple[float, float, float],
              look: Look) -> Tour:
    """Five stops, 26.5 s: 2.5 s at each, 3.5 s flights between them."""
    th, pond, church = landmarks["townhall"], landmarks["pond"], landmarks["church"]

    def poi(local: tuple[float, float, float], label: str) -> PointOfInterest:
        x, y, z = pool.world(*local)
        return PointOfInterest((round(x, 2), round(y, 2), round(z, 2)), label)

    return Tour(DEMO_TOUR_NAME, [
        _stop(look(pool, centre, 225.0, 35.0, 1050.0), hold=2.5, transition=0.0,
              caption="Lindenau\nA made-up district: 362 buildings, LoD1 and LoD2",
              time="2024-06-01T09:00:00"),
        _stop(look(pool, (th[0], th[1] + 24.0, th[2] + 6.0), 200.0, 28.0, 260.0), hold=2.5, transition=3.5,
              caption="Rathaus Lindenau\nThe town hall on the market square",
              poi=poi((th[0], th[1] + 24.0, th[2] + 30.0), "Rathaus"), time="2024-06-01T11:00:00"),
        _stop(look(pool, pond, 150.0, 30.0, 230.0), hold=2.5, transition=3.5,
              caption="Stadtpark\nThe Schwanenteich and its trees",
              poi=poi((pond[0], pond[1], pond[2] + 2.0), "Schwanenteich"), time="2024-06-01T14:00:00"),
        _stop(look(pool, (church[0] + 12.0, church[1], church[2] - 28.0), 250.0, 24.0, 250.0), hold=2.5,
              transition=3.5, caption="St. Marien\nThe church tower, 40 m",
              poi=poi(church, "St. Marien"), time="2024-06-01T17:00:00"),
        _stop(look(pool, centre, 200.0, 40.0, 1150.0), hold=2.5, transition=3.5,
              caption="Lindenau at evening", time="2024-06-01T19:30:00"),
    ])
