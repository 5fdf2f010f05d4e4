"""Sensor layers in the real viewer window under Xvfb: a real mosquitto broker drives glyph colours,
threshold alerts reach the Alerts dock, scrubbing the time slider shows earlier colours, and the
demo scene's replayed feed shows glyphs over the district."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pytest

import mqtt_fixtures
import qt_fixtures
from citytwin.model.sensor_spec import SensorLayerSpec, Threshold
from qt_fixtures import ROOT, look_down_at, scene_pixel

broker = mqtt_fixtures.broker  # the fixture
make_window = qt_fixtures.make_window  # the fixture
DEMO_SCENE = ROOT / "scenes" / "demo.toml"
DEMO_CITY = ROOT / "scenes" / "demo" / "demo_district.city.json"
SHOT = Path(tempfile.gettempdir()) / "citytwin_demo_sensors.png"  # look at it after a run

pytestmark = pytest.mark.gui


def wait_for(qtbot, cond, timeout: float = 30.0) -> None:  # noqa: ANN001
    qtbot.waitUntil(cond, timeout=int(timeout * 1000))


def test_broker_readings_colour_glyphs_alert_and_scrub_back(qtbot, make_window, broker) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from citytwin.demo.sensors import sensor_sites

    win = make_window()
    win.open_files([DEMO_CITY])
    wait_for(qtbot, lambda: len(win.layers) >= 1)
    spec = SensorLayerSpec(
        source=broker.url, name="kiosks", topics=["test/+/air"],
        mappings=[{"topic": "test/{id}/air", "value": "no2", "time": "ts", "lat": "lat", "lon": "lon",
                   "observed_property": "no2", "unit": "µg/m³"}],
        thresholds=[Threshold("no2", above=40.0)], stale_after=3600.0,
        styling={"size": 8.0, "range": [0.0, 60.0]})
    entry = win.sensors.add_spec(spec)
    assert entry is not None and win.sensors.timer.isActive()
    wait_for(qtbot, lambda: entry.session.state == "connected")
    sid, lon, lat = sensor_sites(1)[0]
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-viewer-{time.time_ns()}")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        now = time.time()
        t1, t2 = now - 20.0, now - 10.0

        def send(t: float, v: float) -> None:
            msg = orjson.dumps({"no2": v, "ts": t, "lat": lat, "lon": lon})
            pub.publish(f"test/{sid}/air", msg, qos=1).wait_for_publish(10)

        send(t1, 5.0)
        # the frame timer drains the queue, places the new datastream on the ground and colours it
        wait_for(qtbot, lambda: len(entry.layer) == 1 and entry.visual.shown.size == 1
                 and math.isfinite(entry.visual.values[0]) if len(entry.visual.values) else False)
        xyz = entry.visual.position(0)
        assert entry.layer.placed[0] and abs(xyz[2]) < 400  # stands on the district, not at z = 0
        look_down_at(win, xyz)
        low = scene_pixel(win, xyz)
        entry.visual.set_visible(False)
        background = scene_pixel(win, xyz)
        entry.visual.set_visible(True)
        assert np.abs(low - background).sum() > 30, "the glyph is drawn at the sensor's projected position"

        send(t2, 55.0)  # over the threshold
        wait_for(qtbot, lambda: entry.visual.values[0] == 55.0)
        wait_for(qtbot, lambda: win.sensors.alerts_dock.total >= 1)
        win.viewport.render_sync()
        high = scene_pixel(win, xyz)
        assert np.abs(high - low).sum() > 60, (low, high)
        rows = win.sensors.alerts_dock.rows()
        assert any(r[2] == sid and r[3] == "no2" and r[4].startswith("55") and r[6] == "above" for r in rows)
        assert entry.visual.over[0]

        # scrub back to a time between the two readings: the earlier colour comes back
        win.sensors.time_dock.set_time(t1 + 5.0)
        assert not win.sensors.clock.live
        qtbot.wait(150)
        win.viewport.render_sync()
        again = scene_pixel(win, xyz)
        assert np.abs(again - low).sum() < 40, (low, again)
        assert entry.visual.values[0] == 5.0
        # back to live: the latest colour
        win.sensors.time_dock.live_btn.click()
        assert win.sensors.clock.live
        qtbot.wait(150)
        win.viewport.render_sync()
        assert np.abs(scene_pixel(win, xyz) - high).sum() < 40

        # clicking the sensor shows its datastream and history chart in the Attributes dock
        win.sensors.show_sensor(entry, 0)
        assert win.attributes_dock.value_of("datastream") == sid
        assert win.attributes_dock.value_of("value").startswith("55")
        assert win.sensors._charts and len(win.sensors._charts[0][0].times) == 2
        assert "55" in win.sensors.describe(entry, 0)
    finally:
        pub.disconnect()
        pub.loop_stop()


def test_demo_scene_replays_sensors(qtbot, make_window) -> None:
    win = make_window()
    win.open_scene(DEMO_SCENE)
    wait_for(qtbot, lambda: len(win.layers) >= 1 and len(win.sensors.entries) == 1)
    s = win.sensors
    entry = s.entries[0]
    assert entry.session.replay is not None and s.clock.playing and not s.clock.live
    wait_for(qtbot, lambda: len(entry.layer) == 72 and entry.visual.shown.size == 24)
    # every sensor stands on the district (draped from z = 3 m onto the ground)
    z = entry.layer.positions[:, 2] + float(win.scene.origin[2])
    assert entry.layer.placed.all() and (z > 200).all()  # the district's ground is at ~250 m
    # pause at the morning rush hour: NO2 is high somewhere, an alert was raised
    t0, t1 = entry.session.replay.data.span
    s.clock.pause()
    s.time_dock.set_time(t0 + 8.5 * 3600)
    qtbot.wait(100)
    assert np.isfinite(entry.visual.values[entry.visual.shown]).all()
    assert s.alerts_dock.total >= 1
    assert any(r[3] == "no2" for r in s.alerts_dock.rows())
    i = int(entry.visual.shown[0])
    xyz = entry.visual.position(i)
    look_down_at(win, xyz, 150.0)
    seen = scene_pixel(win, xyz)
    entry.visual.set_visible(False)
    hidden = scene_pixel(win, xyz)
    entry.visual.set_visible(True)
    assert np.abs(seen - hidden).sum() > 30
    # hovering the glyph names the sensor in the status bar; clicking it fills the Attributes dock
    from PySide6.QtCore import Qt

    rwi = win.viewport.rwi
    at = win.viewport.widget_point(xyz)
    qtbot.mouseMove(rwi, at)
    ds = entry.layer.datastreams[i]
    wait_for(qtbot, lambda: ds.name in win.statusBar().currentMessage(), 10)
    assert entry.visual.unit() in win.statusBar().currentMessage()
    qtbot.mouseClick(rwi, Qt.MouseButton.LeftButton, pos=at)
    wait_for(qtbot, lambda: win.attributes_dock.value_of("datastream") == ds.id, 10)
    assert win.selection is None  # the building under the sensor was not selected
    assert win.attributes_dock.value_of("id") == ds.thing_id
    assert len(s._charts) == 3  # NO2, temperature and noise of this station
    win.go_to_view("Overview", animate=False)
    s.show_sensor(entry, i)
    qtbot.wait(50)
    win.grab().save(str(SHOT))
    # the scene file round-trips the sensor layer
    sf = win.scene_file()
    assert sf.sensors and sf.sensors[0]["source"] == entry.spec.source


def test_bad_feed_is_logged_and_layers_can_be_removed(qtbot, make_window, tmp_path) -> None:
    win = make_window()
    s = win.sensors
    assert s.act_add_feed in win.menuBar().actions()[0].menu().actions()
    assert s.add_spec(SensorLayerSpec(source=str(tmp_path / "missing.csv"), name="missing")) is None
    assert not s.entries and not s.timer.isActive()
    assert "missing" in win.statusBar().currentMessage()
    rec = tmp_path / "rec.csv"
    rec.write_text("time,sensor,value,parameter,lat,lon\n"
                   "2024-06-01T00:00:00Z,K1,12.5,no2,49.0114,8.6823\n"
                   "2024-06-01T00:10:00Z,K1,48.0,no2,49.0114,8.6823\n", encoding="utf-8")
    entry = s.add_spec(SensorLayerSpec(source=str(rec), name="kiosk", thresholds=[Threshold("no2", above=40)]))
    assert entry is not None and s.timer.isActive() and s.time_dock.isVisible()
    wait_for(qtbot, lambda: len(entry.layer) == 1, 20)
    s.clock.pause()
    s.time_dock.set_time(1_717_200_000.0 + 900)
    wait_for(qtbot, lambda: s.alerts_dock.total == 1, 10)
    assert entry.visual.values[0] == 48.0
    sf_path = win.save_scene(tmp_path / "scene.toml")
    from citytwin.model.scenefile import read_scene

    back = read_scene(sf_path)
    assert [Path(d["source"]) for d in back.sensors] == [rec.resolve()]
    s.remove(entry)
    assert not s.entries and not s.timer.isActive()
