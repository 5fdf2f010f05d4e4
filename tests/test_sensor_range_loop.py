"""Fixed sensor colour ranges (replay: known up front; live: growing only; metadata first) and looping replays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from citytwin.live.ingest import Ingest
from citytwin.live.replay import ReplayFeed, load_replay
from citytwin.live.session import SensorSession
from citytwin.model.clock import SceneClock
from citytwin.model.sensors import Datastream, ObservedProperty, SensorLayer, SensorLayerSpec, Threshold

T0 = 1_700_000_000.0


class Wall:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _replay_file(tmp_path: Path, props: dict | None = None) -> Path:
    """Two NO2 stations, 10 readings 60 s apart; station a climbs 10..100, b has one peak of 250 at the end."""
    obs = []
    for k in range(10):
        obs.append({"datastream": "a", "phenomenonTime": T0 + 60 * k, "result": 10.0 * (k + 1)})
        obs.append({"datastream": "b", "phenomenonTime": T0 + 60 * k, "result": 250.0 if k == 9 else 20.0})
    ds = [{"id": i, "observedProperty": "no2", "unit": "ug/m3",
           "location": {"type": "Point", "coordinates": [8.0, 49.0]}} for i in ("a", "b")]
    if props:
        ds[0]["properties"] = props
    p = tmp_path / "feed.json"
    p.write_text(json.dumps({"datastreams": ds, "observations": obs,
                             "thresholds": [{"observed_property": "no2", "above": 40.0}]}))
    return p


def test_replay_range_is_fixed_across_clock_changes(tmp_path: Path) -> None:
    from citytwin.render.sensor_visual import VtkSensorVisual

    wall = Wall()
    clock = SceneClock(start=T0, wall=wall)
    session = SensorSession(SensorLayerSpec(source=str(_replay_file(tmp_path))), clock=clock)
    vis = VtkSensorVisual(session.layer)
    ranges = []
    for t in (T0, T0 + 30, T0 + 200, T0 + 540, T0 + 100, T0 - 50, T0 + 10_000):
        clock.set_time(t)
        session.frame(t)
        vis.refresh_range()
        vis.update(t)
        ranges.append(vis.value_range)
    # from the first frame (nothing pushed yet) it spans the whole replay (10..250), not what has arrived
    assert ranges == [(10.0, 250.0)] * len(ranges)
    lo, hi = vis.lut.GetTableRange()
    assert (lo, hi) == (10.0, 250.0)


def test_live_range_grows_only_and_spans_thresholds() -> None:
    layer = SensorLayer()
    layer.set_thresholds([Threshold("no2", above=40.0)])
    rows = layer.add_datastreams([Datastream("a", observed_property=ObservedProperty("no2")),
                                  Datastream("b", observed_property=ObservedProperty("no2"))])
    assert layer.value_range(rows) == (40.0, 41.0)  # only the threshold known yet
    layer.apply(rows, np.array([T0, T0]), np.array([20.0, 30.0]))
    assert layer.value_range(rows) == (20.0, 40.0)
    layer.apply(rows, np.array([T0 + 1, T0 + 1]), np.array([25.0, 90.0]))
    assert layer.value_range(rows) == (20.0, 90.0)
    layer.apply(rows, np.array([T0 + 2, T0 + 2]), np.array([30.0, 35.0]))  # calmer readings: no shrinking
    assert layer.value_range(rows) == (20.0, 90.0)
    layer.apply(rows, np.array([T0 + 3, T0 + 3]), np.array([5.0, np.nan]))
    assert layer.value_range(rows) == (5.0, 90.0)


def test_declared_range_in_metadata_wins(tmp_path: Path) -> None:
    data = load_replay(_replay_file(tmp_path, {"range": [0, 400]}))
    assert data.datastreams[0].value_range == (0.0, 400.0)
    layer = SensorLayer()
    ReplayFeed(data, Ingest(layer), SceneClock(start=T0))
    assert layer.value_range(layer.property_rows("no2")) == (0.0, 400.0)
    from citytwin.live.sensorthings import datastream_from_json

    ds = datastream_from_json({"@iot.id": 7, "name": "x", "unitOfMeasurement": {"symbol": "dB"},
                               "ObservedProperty": {"name": "noise", "properties": {"min": 30, "max": 110}}})
    assert ds.value_range == (30.0, 110.0)
    assert datastream_from_json({"@iot.id": 8, "properties": {"valueRange": {"min": 5, "max": 1}}}).value_range is None


def test_looping_replay_comes_back_from_the_start(tmp_path: Path) -> None:
    wall = Wall()
    data = load_replay(_replay_file(tmp_path))
    layer = SensorLayer()
    layer.set_thresholds(data.thresholds)
    ingest = Ingest(layer, now=lambda: T0)
    feed = ReplayFeed(data, ingest, loop=True, clock=None)
    clock = feed.clock
    clock._wall = wall  # noqa: SLF001 - drive the replay's own clock by hand
    clock.set_time(T0)
    assert clock.loop and clock.bounds == (T0, T0 + 600.0)  # 10 readings + one 60 s step
    clock.play(60.0)  # one reading per wall second
    a, b = layer.index["a"], layer.index["b"]

    def at(w: float) -> tuple[float, np.ndarray]:
        wall.t = w
        t = clock.time()
        feed.poll()
        ingest.drain()
        return t, layer.latest_at(t)[0]

    t, v = at(0.5)
    assert v[a] == 10.0
    t, v = at(9.5)  # the last reading, shown for a whole step before the wrap
    assert t == pytest.approx(T0 + 570) and v[a] == 100.0 and v[b] == 250.0
    assert len(layer.alerts) == 2  # a over 40 at 50, b at 250
    t, v = at(10.5)  # past the end: the clock wrapped to the start and the values came back from there
    assert t == pytest.approx(T0 + 30) and clock.playing and clock.wraps == 1
    assert v[a] == 10.0 and v[b] == 20.0
    assert not feed.done
    t, v = at(14.5)
    assert t == pytest.approx(T0 + 270) and v[a] == 50.0
    assert len(layer.alerts) == 3  # the alert of a fired again in the second lap
    t, v = at(35.5)  # several laps in one step
    assert clock.wraps == 3 and t == pytest.approx(T0 + 330) and v[a] == 60.0
    # the colour range stayed the replay's, and the rejected counts stayed clean
    assert layer.value_range(layer.property_rows("no2")) == (10.0, 250.0)
    assert not ingest.diag.rejected_total


def test_loop_in_scene_file_and_demo(tmp_path: Path) -> None:
    from citytwin.model.scenefile import read_scene

    spec = SensorLayerSpec.from_dict({"source": "x.json", "loop": True})
    assert spec.loop and spec.to_dict()["loop"] is True
    assert "loop" not in SensorLayerSpec(source="x.json").to_dict()
    with pytest.raises(ValueError, match="loop"):
        SensorLayerSpec.from_dict({"source": "x.json", "loop": "yes"})
    demo = Path(__file__).resolve().parents[1] / "scenes" / "demo.toml"
    sf = read_scene(demo)
    assert [SensorLayerSpec.from_dict(s).loop for s in sf.sensors] == [True]
    # a session built from it loops on its clock: never "done"
    session = SensorSession(SensorLayerSpec.from_dict(sf.sensors[0]))
    t0, t1 = session.replay.data.span
    session.frame(t1 + 1)
    assert session.replay.clock.loop and not session.done and session.state != "done"


def test_feed_cli_loop(tmp_path: Path) -> None:
    from test_live_replay import _feed

    p = _replay_file(tmp_path)
    rc, _ = _feed([str(p), "--loop"])
    assert rc == 2
    # 600 scene s per lap at 600x: a lap a second; 2.5 s run -> more readings than the file holds
    rc, out = _feed([str(p), "--loop", "--speed", "600", "--seconds", "2.5", "--json"])
    assert rc == 0
    fig = json.loads(out)
    assert fig["received"] > 20 and fig["rejected_total"] == 0
