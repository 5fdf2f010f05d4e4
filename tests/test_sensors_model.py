"""Sensor layer: positions in the scene CRS, thresholds and alerts, staleness, the spec and the clock."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Transformer

from citytwin.model.builder import CityModelBuilder
from citytwin.model.clock import SceneClock
from citytwin.model.sensors import (
    Datastream,
    Location,
    ObservedProperty,
    SensorLayer,
    SensorLayerSpec,
    Threshold,
    UnitOfMeasurement,
    building_anchors,
)


def _ds(i: str, prop: str = "no2", lon: float = 7.0, lat: float = 51.0, **kw) -> Datastream:
    return Datastream(id=i, name=i, observed_property=ObservedProperty(prop),
                      unit=UnitOfMeasurement("microgram per cubic metre", "µg/m³"),
                      location=Location(lon=lon, lat=lat, **kw))


def test_positions_are_projected_and_origin_subtracted() -> None:
    layer = SensorLayer()
    layer.add_datastreams([_ds("a", lon=6.96, lat=50.94, height=12.0), _ds("b", lon=6.97, lat=50.95),
                           Datastream(id="nowhere")])
    crs = CRS.from_epsg(25832)
    origin = np.array([356_000.0, 5_645_000.0, 40.0])
    layer.set_frame(crs, origin)
    x, y = Transformer.from_crs(4326, 25832, always_xy=True).transform([6.96, 6.97], [50.94, 50.95])
    exp = np.c_[x, y, [12.0, 0.0]] - origin
    assert layer.positions.dtype == np.float32
    np.testing.assert_allclose(layer.positions[:2], exp, atol=1e-3)
    assert layer.placed.tolist() == [True, True, False]
    # datastreams added later are placed in the same frame
    layer.add_datastreams([_ds("c", lon=6.96, lat=50.94, height=12.0)])
    np.testing.assert_allclose(layer.positions[3], exp[0], atol=1e-3)


def test_location_attached_to_a_building() -> None:
    b = CityModelBuilder("mem", "test", crs=CRS.from_epsg(25832))
    o = b.add_object("house-1", "Building")
    sq = np.array([[0, 0, 5], [10, 0, 5], [10, 8, 5], [0, 8, 5]], float) + [500_000, 5_700_000, 0]
    b.add_polygon(o, [sq], lod=2)
    b.add_polygon(o, [sq - [0, 0, 5]], lod=2)
    model = b.build()
    layer = SensorLayer()
    layer.add_datastreams([Datastream(id="roof", location=Location(building_id="house-1")),
                           Datastream(id="lost", location=Location(building_id="nope"))])
    layer.set_frame(model.crs, model.origin, building_xyz=building_anchors(model))
    world = layer.positions[0].astype(np.float64) + model.origin
    np.testing.assert_allclose(world, [500_005, 5_700_004, 5], atol=1e-2)
    assert layer.placed.tolist() == [True, False]


def test_threshold_alerts_fire_on_entering_only() -> None:
    layer = SensorLayer()
    layer.add_datastreams([_ds("p"), _ds("q"), _ds("t", prop="temperature")])
    layer.set_thresholds([Threshold("NO2", above=40.0), Threshold("temperature", below=-5.0)])
    # p: 30, 45 (alert), 50 (still above: no new alert), 20, 41 (alert again); same batch, shuffled
    idx = np.array([0, 0, 0, 0, 0, 1, 2])
    t = np.array([3.0, 1.0, 5.0, 2.0, 4.0, 1.0, 1.0])
    v = np.array([50.0, 30.0, 41.0, 45.0, 20.0, 39.9, -6.0])
    up = layer.apply(idx, t, v)
    got = [(a.datastream_id, a.time, a.value, a.kind) for a in up.alerts]
    assert got == [("p", 2.0, 45.0, "above"), ("p", 5.0, 41.0, "above"), ("t", 1.0, -6.0, "below")]
    assert list(layer.alerts) == up.alerts and layer.alerts_total == 3
    assert layer.alerting().tolist() == [True, False, True]
    # still above in the next batch: no alert; back below then above: alert
    assert layer.apply(np.array([0]), np.array([6.0]), np.array([60.0])).alerts == []
    up = layer.apply(np.array([0, 0]), np.array([7.0, 8.0]), np.array([10.0, 40.5]))
    assert [(a.time, a.limit) for a in up.alerts] == [(8.0, 40.0)]


def test_apply_counts_unknown_and_out_of_order() -> None:
    layer = SensorLayer()
    layer.add_datastreams([_ds("a")])
    up = layer.apply(np.array([0, 0, 5, -1]), np.array([10.0, 10.0, 1.0, 1.0]), np.ones(4))
    assert (up.stored, up.out_of_order, up.unknown) == (1, 1, 2)
    up = layer.apply(np.array([0]), np.array([9.0]), np.ones(1))
    assert (up.stored, up.out_of_order) == (0, 1)
    assert up.changed.tolist() == []


def test_latest_between_and_stale() -> None:
    layer = SensorLayer(capacity=8)
    layer.add_datastreams([_ds("a"), _ds("b"), _ds("c")])
    layer.apply(np.array([0, 0, 1]), np.array([100.0, 200.0, 150.0]), np.array([1.0, 2.0, 3.0]))
    vals, times = layer.latest_at(170.0)
    assert vals[:2].tolist() == [1.0, 3.0] and np.isnan(vals[2]) and times[1] == 150.0
    ds, t, v = layer.values_between(100.0, 160.0)
    assert (ds.tolist(), t.tolist(), v.tolist()) == ([0, 1], [100.0, 150.0], [1.0, 3.0])
    ds, t, v = layer.values_between(0, 1e9, datastream=0)
    assert v.tolist() == [1.0, 2.0]
    assert layer.stale(now=260.0, period=100.0).tolist() == [False, True, True]


def test_layer_spec_round_trip() -> None:
    spec = SensorLayerSpec(source="mqtt://broker.example:1883", name="air", topics=["city/+/air"],
                           qos=1, username="viewer", password_env="CITY_MQTT_PW",
                           mappings=[{"topic": "city/{id}/air", "value": "no2", "time": "ts"}],
                           thresholds=[Threshold("no2", above=40.0, label="EU")], history=512,
                           stale_after=600.0)
    d = spec.to_dict()
    assert "password" not in d and d["password_env"] == "CITY_MQTT_PW"
    back = SensorLayerSpec.from_dict(d)
    assert back == spec
    assert back.kind == "mqtt"
    assert SensorLayerSpec.from_dict({"source": "https://x/v1.1"}).kind == "sensorthings"
    assert SensorLayerSpec.from_dict({"source": "obs.csv", "styling": {"size": 3}}).styling["colormap"]
    with pytest.raises(ValueError):
        SensorLayerSpec.from_dict({"name": "no source"})
    with pytest.raises(ValueError):
        SensorLayerSpec.from_dict({"source": "x.csv", "thresholds": [{"above": "lots"}]})


class FakeWall:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_scene_clock_modes() -> None:
    wall = FakeWall()
    c = SceneClock(wall=wall)
    assert c.live and c.time() == wall.t
    wall.t += 10
    assert c.time() == wall.t  # live follows now
    c.set_time(500.0)
    assert not c.live and not c.playing and c.time() == 500.0
    wall.t += 100
    assert c.time() == 500.0  # paused
    c.play(60)
    wall.t += 2
    assert c.time() == 500.0 + 120.0
    c.speed = 3600
    wall.t += 1
    assert c.time() == 620.0 + 3600.0
    c.pause()
    wall.t += 50
    assert c.time() == 4220.0
    c.step(-220)
    assert c.time() == 4000.0
    c.go_live()
    assert c.time() == wall.t


def test_scene_clock_bounds_stop_playback() -> None:
    wall = FakeWall()
    c = SceneClock(start=0.0, bounds=(0.0, 100.0), wall=wall)
    c.play(10)
    wall.t += 5
    assert c.time() == 50.0
    wall.t += 50
    assert c.time() == 100.0 and not c.playing
    c.set_time(-5)
    assert c.time() == 0.0


def test_state_at_marks_stale_relative_to_the_scene_time() -> None:
    layer = SensorLayer()
    layer.add_datastreams([_ds("a"), _ds("b")])
    layer.apply(np.array([0, 1, 0]), np.array([0.0, 0.0, 500.0]), np.array([1.0, 2.0, 3.0]))
    vals, times, stale = layer.state_at(600.0, stale_after=300.0)
    assert vals.tolist() == [3.0, 2.0] and stale.tolist() == [False, True]
    vals, _, stale = layer.state_at(100.0, stale_after=300.0)  # scrubbed back
    assert vals.tolist() == [1.0, 2.0] and stale.tolist() == [False, False]
    assert layer.state_at(100.0)[2].tolist() == [False, False]


def test_stale_alerts_fire_once_per_silence() -> None:
    layer = SensorLayer()
    layer.add_datastreams([_ds("a"), _ds("b"), _ds("never")])
    layer.apply(np.array([0, 1]), np.array([100.0, 100.0]), np.array([5.0, 6.0]))
    assert layer.check_stale(now=150.0, period=60.0) == []
    layer.apply(np.array([1]), np.array([150.0]), np.array([7.0]))
    got = layer.check_stale(now=200.0, period=60.0)
    assert [(a.datastream_id, a.kind, a.value, a.time) for a in got] == [("a", "stale", 5.0, 200.0)]
    assert layer.check_stale(now=300.0, period=60.0)[0].datastream_id == "b"  # a is not reported again
    layer.apply(np.array([0]), np.array([310.0]), np.array([8.0]))  # a speaks again…
    assert layer.check_stale(now=320.0, period=60.0) == []
    assert [a.datastream_id for a in layer.check_stale(now=400.0, period=60.0)] == ["a"]  # …and falls silent
    assert layer.alerts_total == 3


def test_property_rows_follow_added_and_changed_datastreams() -> None:
    layer = SensorLayer()
    layer.add_datastreams([Datastream(id="a", observed_property=ObservedProperty("no2")),
                           Datastream(id="b", observed_property=ObservedProperty("pm10")),
                           Datastream(id="c", observed_property=ObservedProperty("no2")),
                           Datastream(id="d")])
    assert layer.properties() == ["no2", "pm10", "value"]
    assert layer.property_rows("no2").tolist() == [0, 2] and layer.property_rows("o3").tolist() == []
    layer.add_datastreams([Datastream(id="b", observed_property=ObservedProperty("no2")),  # metadata changed
                           Datastream(id="e", observed_property=ObservedProperty("o3"))])
    assert layer.properties() == ["no2", "value", "o3"]
    assert layer.property_rows("no2").tolist() == [0, 1, 2] and layer.property_rows("o3").tolist() == [4]
