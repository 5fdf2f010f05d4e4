"""Replay of recorded observations on the scene clock; the OpenAQ CSV checked with the csv module."""

from __future__ import annotations

import argparse
import csv
import io
import json
from contextlib import redirect_stdout
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from citytwin.core.errors import ReaderError
from citytwin.live.ingest import Ingest
from citytwin.live.replay import ReplayFeed, load_replay
from citytwin.model.clock import SceneClock
from citytwin.model.sensors import SensorLayer


@pytest.fixture
def openaq(data_dir: Path) -> Path:
    p = data_dir / "sensors" / "openaq" / "air_quality_no2_long.csv"
    if not p.exists():
        pytest.skip(f"{p} missing")
    return p


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _ts(s: str) -> float:
    return datetime.fromisoformat(s).timestamp()


class Wall:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _feed(cli_args: list[str]) -> tuple[int, str]:
    from citytwin.cli import feed as feed_cli

    p = argparse.ArgumentParser()
    feed_cli.add_parser(p.add_subparsers())
    args = p.parse_args(["feed", *cli_args])
    out = io.StringIO()
    with redirect_stdout(out):
        rc = args.handler(args)
    return rc, out.getvalue()


def test_openaq_replay_values_equal_the_csv(openaq: Path) -> None:
    rows = _csv_rows(openaq)
    stations: dict[str, tuple[float, float]] = {}
    for r in _csv_rows(openaq.parent / "air_quality_stations.csv"):
        stations.setdefault(r["location"], (float(r["coordinates.longitude"]), float(r["coordinates.latitude"])))
    data = load_replay(openaq)
    assert len(data.times) == len(rows)
    assert sorted(d.id for d in data.datastreams) == sorted({f"{r['location']}/{r['parameter']}" for r in rows})
    for d in data.datastreams:
        assert (d.location.lon, d.location.lat) == stations[d.thing_id]
        assert d.unit.symbol == "µg/m³" and d.observed_property.name == "no2"

    wall = Wall()
    t_first = min(_ts(r["date.utc"]) for r in rows)
    clock = SceneClock(start=t_first, wall=wall)
    layer = SensorLayer(capacity=2048)
    ingest = Ingest(layer)
    feed = ReplayFeed(data, ingest, clock)
    clock.play(3600)  # one hour of data per wall second
    checks = [t_first + 3600 * h + off for h, off in [(0, 0), (5, 1800), (24 * 13 + 7, 0), (24 * 30, 59), (24 * 44, 0)]]
    for t in checks:
        wall.t = (t - t_first) / 3600
        assert clock.time() == pytest.approx(t)
        feed.poll()
        ingest.drain()
        vals, times = layer.latest_at(clock.time())
        for d in data.datastreams:
            mine = [r for r in rows if r["location"] == d.thing_id and _ts(r["date.utc"]) <= clock.time()]
            i = layer.index[d.id]
            if not mine:
                assert np.isnan(vals[i])
                continue
            last = max(mine, key=lambda r: _ts(r["date.utc"]))
            assert vals[i] == float(last["value"]) and times[i] == _ts(last["date.utc"])
        # exactly the rows up to now were pushed, no more
        assert ingest.diag.applied == sum(_ts(r["date.utc"]) <= clock.time() for r in rows)
    # scrub back: nothing pushed again, history still answers
    pushed = ingest.diag.received
    t_back = t_first + 3600 * 30
    clock.set_time(t_back)
    assert feed.poll() == 0 and ingest.diag.received == pushed
    vals, _ = layer.latest_at(t_back)
    exp = {r["location"]: float(r["value"]) for r in sorted(rows, key=lambda r: _ts(r["date.utc"]))
           if _ts(r["date.utc"]) <= t_back}
    for d in data.datastreams:
        assert vals[layer.index[d.id]] == exp[d.thing_id]
    # values in a window equal the CSV's rows in that window
    t0, t1 = t_first + 3600 * 10, t_first + 3600 * 20
    ds, t, v = layer.values_between(t0, t1)
    got = sorted((layer.datastreams[i].thing_id, tt, vv) for i, tt, vv in zip(ds, t, v))
    exp_win = sorted((r["location"], _ts(r["date.utc"]), float(r["value"])) for r in rows
                     if t0 <= _ts(r["date.utc"]) <= t1)
    assert got == exp_win


def test_replay_positions_in_scene_crs(openaq: Path) -> None:
    from pyproj import CRS, Transformer

    data = load_replay(openaq)
    layer = SensorLayer()
    Ingest(layer)
    layer.add_datastreams(data.datastreams)
    crs = CRS.from_epsg(3035)  # ETRS89-LAEA: Paris, Antwerp and London in one metric frame
    origin = np.array([3_500_000.0, 3_000_000.0, 0.0])
    layer.set_frame(crs, origin)
    tr = Transformer.from_crs(4326, 3035, always_xy=True)
    for d in data.datastreams:
        x, y = tr.transform(d.location.lon, d.location.lat)
        np.testing.assert_allclose(layer.positions[layer.index[d.id], :2], [x - origin[0], y - origin[1]], atol=0.5)


def test_demo_feed_replays(tmp_path: Path) -> None:
    from citytwin.demo.sensors import demo_feed, write_demo_feed

    p = write_demo_feed(tmp_path / "demo.json", n_sensors=4, hours=6, step=900)
    doc = json.loads(p.read_text(encoding="utf-8"))
    data = load_replay(p)
    assert len(data.datastreams) == len(doc["datastreams"]) == 12
    assert len(data.times) == len(doc["observations"]) == 12 * 25
    assert [t.observed_property for t in data.thresholds] == ["no2", "temperature", "noise"]
    assert demo_feed(n_sensors=4, hours=6, step=900) == doc  # deterministic
    layer = SensorLayer()
    ingest = Ingest(layer)
    feed = ReplayFeed(data, ingest)
    feed.poll(np.inf)
    ingest.drain()
    assert ingest.diag.applied == 300 and feed.done


def test_bad_rows_are_counted_and_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    p = tmp_path / "obs.csv"
    p.write_text("sensor,time,value,lat,lon,building\n"
                 "a,2024-06-01T00:00:00Z,1.5,51.0,7.0,\n"
                 "a,2024-06-01T01:00:00Z,oops,51.0,7.0\n"
                 "b,whenever,2.0,51.1,7.1\n"
                 ",2024-06-01T01:00:00Z,2.0,51.1,7.1\n"
                 "b,2024-06-01T01:00:00Z,nan,51.1,7.1\n"
                 "b,2024-06-01T02:00:00Z,3.0,51.1,7.1\n"
                 "b,2024-06-01T02:00:00Z,4.0,51.1,7.1\n", encoding="utf-8")
    data = load_replay(p)
    assert data.report.as_dict() == {"bad_type": 1, "bad_time": 1, "missing-sensor": 1, "non_finite": 1,
                                     "duplicate-observation": 1}
    assert data.values.tolist() == [1.5, 3.0]
    assert data.datastreams[0].location.lat == 51.0 and data.datastreams[0].location.building_id is None
    (tmp_path / "roof.csv").write_text("sensor,time,value,building\nr1,2024-06-01T00:00:00Z,3,B7\n", encoding="utf-8")
    assert load_replay(tmp_path / "roof.csv").datastreams[0].location.building_id == "B7"
    jl = tmp_path / "obs.jsonl"
    jl.write_text('{"datastream": "x", "phenomenonTime": "2024-06-01T00:00:00Z", "result": 1}\n'
                  "{broken\n"
                  '{"Datastream": {"@iot.id": 7}, "phenomenonTime": "2024-06-01T00:00:00Z", "result": 2}\n',
                  encoding="utf-8")
    data = load_replay(jl)
    assert sorted(d.id for d in data.datastreams) == ["7", "x"] and data.report.as_dict() == {"malformed_json": 1}
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    for bad in (tmp_path / "missing.csv", tmp_path / "cols.csv"):
        with pytest.raises(ReaderError) as e:
            load_replay(bad)
        assert "\n" not in str(e.value) and str(bad) in str(e.value)


def test_feed_command_on_the_openaq_file(openaq: Path) -> None:
    rows = _csv_rows(openaq)
    rc, out = _feed([str(openaq), "--json", "--threshold", "no2>40"])
    d = json.loads(out)
    assert rc == 0
    assert (d["received"], d["parsed"], d["applied"], d["rejected"]) == (len(rows), len(rows), len(rows), {})
    assert d["datastreams"] == len({r["location"] for r in rows})
    newest = {}
    for r in rows:
        if r["location"] not in newest or _ts(r["date.utc"]) > _ts(newest[r["location"]]["date.utc"]):
            newest[r["location"]] = r
    for loc, r in newest.items():
        assert d["last_values"][f"{loc}/no2"]["value"] == float(r["value"])
    assert d["alerts"] > 0
    rc, out = _feed([str(openaq)])
    assert rc == 0 and "received" in out and "FR04014/no2" in out


def test_session_from_a_layer_spec(openaq: Path) -> None:
    from citytwin.live.session import SensorSession
    from citytwin.model.sensors import SensorLayerSpec

    spec = SensorLayerSpec.from_dict({"source": str(openaq), "name": "NO2",
                                      "thresholds": [{"observed_property": "no2", "above": 40}],
                                      "replay": {"speed": 3600}, "history": 64})
    wall = Wall()
    rows = _csv_rows(openaq)
    t_first = min(_ts(r["date.utc"]) for r in rows)
    clock = SceneClock(start=t_first, wall=wall)
    s = SensorSession(spec, clock=clock)
    assert s.kind == "replay" and s.clock is clock and s.state == "playing"
    s.start()
    wall.t = 48.0  # two days of data
    up = s.frame()
    assert up.stored == sum(_ts(r["date.utc"]) <= t_first + 48 * 3600 for r in rows)
    assert s.layer.history.capacity == 64 and s.layer.name == "NO2"
    above = [a for a in s.layer.alerts if a.kind == "above"]
    assert above and all(a.value > 40 for a in above)
    # hourly data with gaps: silent datastreams (900 s default) are reported as stale at the scene time
    assert all(a.time == clock.time() for a in s.layer.alerts if a.kind == "stale")
    s.stop()


def test_demo_sensors_stand_on_the_district_streets() -> None:
    import math

    from pyproj import Transformer

    from citytwin.demo.district import EW_Y, EXTENT, NS_X, ROTATION_DEG, WORLD_OFFSET
    from citytwin.demo.sensors import sensor_sites

    tr = Transformer.from_crs(4326, 25832, always_xy=True)
    px, py = EXTENT[0] / 2, EXTENT[1] / 2
    a = math.radians(-ROTATION_DEG)
    for _, lon, lat in sensor_sites(40):
        e, n = tr.transform(lon, lat)
        dx, dy = e - WORLD_OFFSET[0] - px, n - WORLD_OFFSET[1] - py
        x, y = px + dx * math.cos(a) - dy * math.sin(a), py + dx * math.sin(a) + dy * math.cos(a)
        assert 0 <= x <= EXTENT[0] and 0 <= y <= EXTENT[1]
        assert min(abs(x - s) for s in NS_X) < 0.05 or min(abs(y - s) for s in EW_Y) < 0.05


def test_json_replay_with_building_locations(tmp_path: Path) -> None:
    from pyproj import CRS

    from citytwin.model.builder import CityModelBuilder
    from citytwin.model.sensors import building_anchors

    doc = {"datastreams": [
        {"id": "roof-temp", "observedProperty": {"name": "temperature"}, "unit": {"symbol": "°C"},
         "location": {"building": "B1"}},
        {"id": "street-no2", "observedProperty": "no2", "unit": "µg/m³",
         "location": {"type": "Point", "coordinates": [9.0, 48.0]}}],
        "observations": [{"datastream": "roof-temp", "phenomenonTime": "2024-06-01T00:00:00Z", "result": 21},
                         {"datastream": "street-no2", "phenomenonTime": "2024-06-01T00:00:00Z", "result": 33}]}
    p = tmp_path / "b.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    data = load_replay(p)
    b = CityModelBuilder("mem", "test", crs=CRS.from_epsg(25832))
    o = b.add_object("B1", "Building")
    ring = np.array([[0, 0, 12], [6, 0, 12], [6, 6, 12], [0, 6, 12]], float) + [500_000, 5_300_000, 0]
    b.add_polygon(o, [ring], lod=2)
    model = b.build()
    layer = SensorLayer()
    layer.add_datastreams(data.datastreams)
    layer.set_frame(model.crs, model.origin, building_anchors(model))
    np.testing.assert_allclose(layer.positions[0].astype(float) + model.origin, [500_003, 5_300_003, 12], atol=0.01)
    assert layer.placed.all() and data.datastreams[1].unit.symbol == "µg/m³"
