"""Tours without a renderer: the path through the stops, its speed and roll, timing, captions,
the clock, validation and the scene-file tables."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from citytwin.core.errors import ReaderError
from citytwin.model.scenefile import SceneFile, read_scene, scene_toml, write_scene
from citytwin.model.tour import PointOfInterest, Stop, Tour, TourError, find_tour
from citytwin.model.tour_path import TourPath, frame_count

ORIGIN = np.array([476000.0, 5428000.0, 250.0])  # world coordinates as big as a UTM scene's


def _stop(pos, foc, up=(0.0, 0.0, 1.0), **kw) -> Stop:  # noqa: ANN001
    return Stop(position=tuple(ORIGIN + pos), focal_point=tuple(ORIGIN + foc), up=up, **kw)


def _tour(**kw) -> Tour:  # noqa: ANN003
    return Tour("Old town", [
        _stop((0, -300, 200), (0, 0, 0), hold=1.0, caption="Overview", **kw),
        _stop((400, -100, 120), (300, 100, 10), hold=2.0, transition=4.0, caption="Rathaus",
              poi=PointOfInterest(tuple(ORIGIN + (300, 100, 30)), "Rathaus"), **kw),
        _stop((420, 350, 80), (250, 380, 0), hold=1.5, transition=3.0, caption="Stadtpark", **kw),
        _stop((-200, 300, 150), (0, 200, 0), hold=2.0, transition=5.0, caption="St. Marien", **kw),
    ])


def test_duration_and_frame_count() -> None:
    t = _tour()
    assert t.duration == pytest.approx(1 + 2 + 1.5 + 2 + 4 + 3 + 5)
    path = TourPath(t)
    for fps in (24, 25, 30, 60):
        n = path.frame_count(fps)
        assert abs(n - fps * t.duration) <= 1
        times = path.frame_times(fps)
        assert len(times) == n and times[-1] <= t.duration
    assert frame_count(0.01, 30) == 1


def test_path_passes_through_every_stop_and_holds_there() -> None:
    t = _tour()
    path = TourPath(t)
    for k, s in enumerate(t.stops):
        for when in (path.arrive[k], (path.arrive[k] + path.leave[k]) / 2, path.leave[k]):
            smp = path.sample(when)
            assert np.allclose(smp.position, s.position, atol=1e-6)
            assert np.allclose(smp.focal_point, s.focal_point, atol=1e-6)
            assert smp.holding and smp.stop == k
    # in flight the camera is not at a stop
    mid = path.sample((path.leave[0] + path.arrive[1]) / 2)
    assert not mid.holding
    assert min(np.linalg.norm(mid.position - np.array(s.position)) for s in t.stops) > 10


def test_even_speed_with_linear_easing() -> None:
    path = TourPath(_tour(easing="linear"))
    for k in (1, 2, 3):
        ts = np.linspace(path.leave[k - 1], path.arrive[k], 121)
        smp = [path.sample(x) for x in ts]
        step = [np.linalg.norm(b.position - a.position) + np.linalg.norm(b.focal_point - a.focal_point)
                for a, b in zip(smp, smp[1:])]
        assert np.mean(step) > 1.0
        assert max(step) / min(step) < 1.03, f"flight into stop {k}: speed varies {min(step)}..{max(step)}"


def test_ease_in_out_starts_and_stops_gently() -> None:
    path = TourPath(_tour())
    a, b = path.leave[0], path.arrive[1]
    speed = []
    for x in np.linspace(a, b, 41):
        p0, p1 = path.sample(x).position, path.sample(min(x + 0.01, b)).position
        speed.append(np.linalg.norm(p1 - p0) / 0.01)
    assert speed[0] < 0.05 * max(speed) and speed[-2] < 0.1 * max(speed)
    assert np.argmax(speed) in range(15, 26)  # fastest halfway


def test_no_overshoot_below_the_stops() -> None:
    """PCHIP: between two stops the camera's height stays between theirs (no dip into roofs)."""
    t = Tour("dip", [_stop((0, 0, 300), (0, 100, 0)), _stop((10, 10, 40), (10, 110, 0), transition=3.0),
                     _stop((900, 900, 300), (900, 1000, 0), transition=3.0)])
    path = TourPath(t)
    z = np.array([path.sample(x).position[2] for x in np.linspace(0, path.duration, 400)]) - ORIGIN[2]
    assert z.min() >= 40 - 1e-6


def test_no_roll_flip_through_a_top_view() -> None:
    """Oblique (up z) -> straight down (up north) -> oblique from the other side: up turns smoothly."""
    t = Tour("top", [
        _stop((0, -500, 300), (0, 0, 0), hold=0.5),
        _stop((0, 0, 800), (0, 0, 0), up=(0.0, 1.0, 0.0), transition=3.0, hold=0.5),
        _stop((0, 500, 300), (0, 0, 0), transition=3.0, hold=0.5),
        _stop((-500, 0, 300), (0, 0, 0), transition=3.0, hold=0.5),
    ])
    path = TourPath(t)
    ups = [path.sample(x) for x in np.linspace(0, path.duration, 600)]
    for a, b in zip(ups, ups[1:]):
        assert float(a.up @ b.up) > np.cos(np.radians(10)), f"up jumped at t={b.t:.3f}"
    for s in ups:
        d = s.focal_point - s.position
        assert abs(float(s.up @ d)) / np.linalg.norm(d) < 1e-6  # orthogonal to the view
    # the horizon is level at the oblique stops (their up is z): the camera's right is horizontal
    for k in (0, 2, 3):
        s = path.sample(path.arrive[k])
        right = np.cross(s.focal_point - s.position, s.up)
        assert abs(right[2]) < 1e-9 * np.linalg.norm(right) and s.up[2] > 0.5
    # at the top the up is north, as the stop says
    assert np.allclose(path.sample(path.arrive[1] + 0.1).up, (0, 1, 0), atol=1e-9)


def test_captions_fade_in_and_out() -> None:
    path = TourPath(_tour())
    hold1 = path.sample((path.arrive[1] + path.leave[1]) / 2)
    assert hold1.caption == "Rathaus" and hold1.caption_alpha == 1.0
    assert hold1.poi is not None and hold1.poi.label == "Rathaus"
    mid = path.sample((path.leave[0] + path.arrive[1]) / 2)
    assert mid.caption_alpha == 0.0
    fading_in = path.sample(path.arrive[1] - 0.25)
    assert fading_in.caption == "Rathaus" and 0.0 < fading_in.caption_alpha < 1.0
    fading_out = path.sample(path.leave[1] + 0.25)
    assert fading_out.caption == "Rathaus" and 0.0 < fading_out.caption_alpha < 1.0
    assert path.sample(0.0).caption_alpha == 0.0 and path.sample(path.duration).caption_alpha == 0.0


def test_clock_layers_and_scenario_follow_the_stops() -> None:
    base = _tour().stops
    stops = [
        Stop(**{**base[0].__dict__, "time": "2026-06-21T08:00:00+02:00"}),
        Stop(**{**base[1].__dict__, "layers": {"Trees": False}}),
        Stop(**{**base[2].__dict__, "time": "2026-06-21T16:00:00+02:00", "scenario": "Tower"}),
        base[3],
    ]
    path = TourPath(Tour("clock", stops))
    t8 = datetime.fromisoformat("2026-06-21T08:00:00+02:00").timestamp()
    t16 = datetime.fromisoformat("2026-06-21T16:00:00+02:00").timestamp()
    assert path.sample(0.5).time == t8
    assert path.sample(path.arrive[1] + 0.5).time == t8  # stop 2 sets no time: the clock stays
    mid = path.sample((path.leave[1] + path.arrive[2]) / 2)
    assert t8 < mid.time < t16  # type: ignore[operator]
    assert path.sample(path.duration).time == t16
    assert path.sample(0.5).layers == {} and path.sample(path.arrive[1]).layers == {"Trees": False}
    assert path.sample(path.leave[1] + 0.1).scenario is None
    assert path.sample(path.arrive[2]).scenario == "Tower"


@pytest.mark.parametrize(("tour", "line"), [
    (Tour("empty", []), "tour 'empty' has no stops"),
    (Tour("on", [_stop((1, 2, 3), (1, 2, 3))]), "tour 'on' stop 1: the camera sits on its focal point"),
    (Tour("neg", [_stop((0, 0, 9), (0, 9, 0)), _stop((0, 0, 9), (0, 9, 0), transition=-1.0)]),
     "tour 'neg' stop 2: transition must be 0 or more seconds, got -1.0"),
    (Tour("hold", [_stop((0, 0, 9), (0, 9, 0), hold=float("nan"))]), "tour 'hold' stop 1: hold must be 0 or more"),
    (Tour("when", [_stop((0, 0, 9), (0, 9, 0), time="noon")]), "tour 'when' stop 1: time 'noon' is not an ISO 8601"),
    (Tour("zero", [_stop((0, 0, 9), (0, 9, 0), hold=0.0)]), "tour 'zero' lasts 0 s"),
    (Tour("roll", [_stop((0, 0, 9), (0, 0, 0))]), "tour 'roll' stop 1: up is parallel to the view direction"),
    (Tour("ease", [_stop((0, 0, 9), (0, 9, 0), easing="bounce")]), "tour 'ease' stop 1: easing must be one of"),
])
def test_validation_is_one_line(tour: Tour, line: str) -> None:
    with pytest.raises(TourError) as exc:
        tour.validate("scenes/x.toml")
    msg = str(exc.value)
    assert msg.startswith("scenes/x.toml: ") and line in msg and "\n" not in msg


def test_unknown_tour_names_the_known_ones() -> None:
    with pytest.raises(TourError, match=r"x.toml: no tour 'Nope' \(tours: 'Old town'\)"):
        find_tour([_tour()], "Nope", "x.toml")
    assert find_tour([_tour()], "old TOWN").name == "Old town"


def test_scene_file_round_trip(tmp_path: Path) -> None:
    t = _tour()
    stops = list(t.stops)
    stops[2] = Stop(**{**stops[2].__dict__, "time": "2026-06-21T10:00:00+02:00", "layers": {"Trees": False},
                       "scenario": "Tower", "easing": "linear", "caption": 'The "park"\nand its pond'})
    sf = SceneFile(title="t", tours=[Tour("Old town", stops), Tour("Empty one", [])])
    path = write_scene(sf, tmp_path / "s.toml")
    back = read_scene(path)
    assert [x.name for x in back.tours] == ["Old town", "Empty one"]
    assert back.tours[0].stops == stops
    assert back.tours[1].stops == []
    assert scene_toml(back, path) == path.read_text()


def test_scene_file_reads_the_issue_example_and_toml_datetimes(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text("""version = 1
[[tours]]
name = "Old town"

[[tours.stops]]
camera = { position = [1.0, 2.0, 30.0], focal_point = [1.0, 50.0, 0.0], up = [0.0, 0.0, 1.0] }
hold = 2.0
caption = "The cathedral"
time = 2026-06-21T10:00:00+02:00

[[tours.stops]]
camera = { position = [10.0, 2.0, 30.0], focal_point = [10.0, 50.0, 0.0] }
transition = 3.0
""")
    t = read_scene(p).tours[0]
    assert t.stops[0].caption == "The cathedral" and t.stops[0].time == "2026-06-21T10:00:00+02:00"
    assert t.stops[1].hold == 2.0 and t.stops[1].easing == "ease-in-out"
    assert t.duration == 2.0 + 3.0 + 2.0
    t.validate()


@pytest.mark.parametrize(("text", "line"), [
    ('[[tours]]\nname = "A"\n[[tours.stops]]\nhold = 2.0\n', "tours[0] ('A') stop 1 needs camera"),
    ('[[tours]]\nname = "A"\n[[tours.stops]]\ncamera = { position = [1, 2], focal_point = [0, 0, 0] }\n',
     "tours[0] ('A') stop 1: camera.position must be three numbers"),
    ('[[tours]]\nname = "A"\n[[tours.stops]]\ncamera = { position = [1, 2, 3], focal_point = [0, 0, 0] }\n'
     'hold = "long"\n', "tours[0] ('A') stop 1: hold must be a number of seconds"),
    ('[[tours]]\nstops = []\n', "tours[0] needs a name"),
])
def test_malformed_tour_tables_are_one_reader_line(tmp_path: Path, text: str, line: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("version = 1\n" + text)
    with pytest.raises(ReaderError) as exc:
        read_scene(p)
    assert str(exc.value).startswith(str(p)) and line in str(exc.value)
