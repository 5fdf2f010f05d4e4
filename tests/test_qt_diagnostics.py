"""The Feed diagnostics dock in the real viewer under Xvfb: reachable from View ▸ Panels and the Sensors dock,
it shows per sensor layer the messages received / parsed / applied, the rate, the datastreams and the
messages rejected by reason after good and malformed messages went through a real mosquitto broker, and
the connection errors when the broker goes away and the reconnection when it comes back."""

from __future__ import annotations

import time

import orjson
import pytest

import mqtt_fixtures
import qt_fixtures
from citytwin.model.sensor_spec import SensorLayerSpec

broker = mqtt_fixtures.broker  # the fixture
make_window = qt_fixtures.make_window  # the fixture

pytestmark = pytest.mark.gui


def wait_for(qtbot, cond, timeout: float = 30.0) -> None:  # noqa: ANN001
    qtbot.waitUntil(cond, timeout=int(timeout * 1000))


def test_helpers_cut_network_text_to_one_line() -> None:
    from citytwin.qt.diagnostics_dock import human_bytes, one_line

    assert one_line("a\nb\r\n\tc\x00d") == "a b c?d"
    assert len(one_line("x" * 10_000)) == 160 and one_line("x" * 10_000).endswith("…")
    assert human_bytes(12) == "12 B" and human_bytes(1500) == "1.5 kB" and human_bytes(2_345_678) == "2.3 MB"


def test_dock_counts_good_and_malformed_messages_and_connection_errors(qtbot, make_window, broker) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from citytwin.demo.sensors import sensor_sites

    win = make_window()
    s = win.sensors
    dock = s.diagnostics_dock
    # reachable from View > Panels like the other docks (hidden until asked for)
    view = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == "View")
    panels = next(a.menu() for a in view.actions() if a.menu() is not None and a.text() == "Panels")
    assert dock.toggleViewAction() in panels.actions()
    assert dock.windowTitle() == "Feed diagnostics" and not dock.isVisible()

    spec = SensorLayerSpec(
        source=broker.url, name="kiosks", topics=["diag/+/air"],
        mappings=[{"topic": "diag/{id}/air", "value": "no2", "time": "ts", "lat": "lat", "lon": "lon",
                   "observed_property": "no2", "unit": "µg/m³"}], stale_after=3600.0)
    entry = s.add_spec(spec)
    assert entry is not None
    assert not dock.isVisible()  # adding a layer does not push the dock forward
    wait_for(qtbot, lambda: entry.session.state == "connected")
    # ... and from the Sensors dock's button
    s.sensors_dock.list.setCurrentRow(0)
    s.sensors_dock.diag_btn.click()
    assert dock.isVisible()
    v = dock.values("kiosks")
    assert v["state"].startswith("connected") and v["counts"] == "0 / 0 / 0" and v["rejected"] == "0"

    sites = sensor_sites(3)
    now = time.time()
    good = [orjson.dumps({"no2": 10.0 + k, "ts": now - 60 + k, "lat": lat, "lon": lon})
            for k, (_, lon, lat) in enumerate(sites)]
    good += [orjson.dumps({"no2": 30.0, "ts": now - 30, "lat": sites[0][2], "lon": sites[0][1]})]
    bad = [b"{not json", b"[1, 2", b"\xff\xfe\x00\x01",  # malformed (the last is not even UTF-8)
           orjson.dumps({"ts": now, "lat": sites[0][2], "lon": sites[0][1]}),  # no value
           orjson.dumps({"no2": [1, 2], "ts": now, "lat": sites[0][2], "lon": sites[0][1]}),  # a list
           b'{"no2": ' + b"9" * 400 + b"e999, " + b'"ts": 1}',  # an infinite number
           orjson.dumps({"no2": 1.0, "ts": "yesterday", "lat": sites[0][2], "lon": sites[0][1]})]
    topics = [f"diag/{sites[k % len(sites)][0]}/air" for k in range(len(good) + len(bad))]
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-diag-{time.time_ns()}")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        for topic, msg in zip(topics, [*good, *bad]):
            pub.publish(topic, msg, qos=1).wait_for_publish(10)
    finally:
        pub.disconnect()
        pub.loop_stop()
    n = len(good) + len(bad)
    nbytes = sum(map(len, good)) + sum(map(len, bad))

    # the dock follows on its own (the frame timer refreshes it about once a second)
    wait_for(qtbot, lambda: dock.values("kiosks")["counts"].startswith(f"{n} /")
             and dock.values("kiosks")["rejected"] == str(len(bad)), 15)
    snap = entry.session.diagnostics.snapshot()
    v = dock.values("kiosks")
    assert snap["received"] == n and snap["rejected_total"] == len(bad)
    assert v["counts"] == f"{n} / {snap['parsed']} / {snap['applied']}" and snap["applied"] == len(good)
    assert v["rejected_by_reason"] == snap["rejected"] and sum(v["rejected_by_reason"].values()) == len(bad)
    assert v["rejected_by_reason"]["malformed_json"] >= 2
    assert len(v["rejected_by_reason"]) >= 3  # malformed, missing value, wrong type / time ...
    assert v["datastreams"] == "3" == str(len(entry.layer))
    assert v["bytes"] == (f"{nbytes} B" if nbytes < 1000 else f"{nbytes / 1000:.1f} kB")
    assert v["rate_value"] > 0  # messages arrived within the last seconds
    assert v["errors"] == "none"
    # the per-reason rows are the table the user reads
    rej = dock._rows[id(entry.session)].rows["rejected"]
    table = {rej.child(k).text(0): int(rej.child(k).text(1)) for k in range(rej.childCount())}
    assert table == snap["rejected"]

    # the broker goes away: the state says so and the connection error is listed; nothing froze
    broker.stop()
    wait_for(qtbot, lambda: entry.session.state != "connected", 20)
    wait_for(qtbot, lambda: bool(dock.values("kiosks")["error_lines"]), 20)
    v = dock.values("kiosks")
    assert not v["state"].startswith("connected ")
    assert v["errors"] == str(len(v["error_lines"])) and all("\n" not in e for e in v["error_lines"])
    assert any(w in " ".join(v["error_lines"]) for w in ("lost", "reach", "refused"))
    # no messages for a while: the rate falls to zero
    wait_for(qtbot, lambda: dock.values("kiosks")["rate_value"] == 0.0, 20)
    broker.restart()
    wait_for(qtbot, lambda: entry.session.state == "connected", 30)
    wait_for(qtbot, lambda: "2 connects" in dock.values("kiosks")["state"], 10)
    # removing the layer removes its rows
    s.remove(entry)
    assert dock.tree.topLevelItemCount() == 0
    with pytest.raises(KeyError):
        dock.values("kiosks")


def test_dock_survives_a_broken_session_and_shows_a_replay(qtbot, make_window, tmp_path) -> None:
    win = make_window()
    s = win.sensors
    rec = tmp_path / "rec.csv"
    rec.write_text("time,sensor,value,parameter,lat,lon\n"
                   "2024-06-01T00:00:00Z,K1,12.5,no2,49.0114,8.6823\n"
                   "2024-06-01T00:10:00Z,K1,48.0,no2,49.0114,8.6823\n"
                   "2024-06-01T00:10:00Z,K2,7.0,no2,49.0120,8.6830\n", encoding="utf-8")
    entry = s.add_spec(SensorLayerSpec(source=str(rec), name="replay"))
    assert entry is not None
    s.show_diagnostics(0)
    wait_for(qtbot, lambda: dock_counts(s) == "3 / 3 / 3", 20)
    v = s.diagnostics_dock.values("replay")
    assert v["datastreams"] == "2" and v["rejected"] == "0"
    assert v["state"].split(" ·")[0] in ("playing", "paused", "done")


def test_dock_survives_broken_sessions_and_odd_text(qtbot) -> None:
    from types import SimpleNamespace

    from citytwin.qt.diagnostics_dock import QtDiagnosticsDock

    class Broken:
        def snapshot(self) -> dict:
            raise RuntimeError("boom")

    class Odd:
        def snapshot(self) -> dict:
            return {"received": 5, "parsed": "x", "rejected": {"weird\nreason\x00": 2}, "rejected_total": 2,
                    "last_error": "line one\nline two " + "x" * 500}

    odd = SimpleNamespace(name="odd", session=SimpleNamespace(diagnostics=Odd(), state="connecting"), layer=[])
    broken = SimpleNamespace(name="broken", session=SimpleNamespace(diagnostics=Broken(), state="?"), layer=[])
    entries = [broken, odd]
    dock = QtDiagnosticsDock(lambda: entries)
    qtbot.addWidget(dock)
    dock.refresh()  # the broken one is skipped (logged), the odd one shown as far as it goes
    v = dock.values("odd")
    assert v["counts"] == "" or v["counts"].startswith("5 /")
    odd.session.diagnostics = SimpleNamespace(snapshot=lambda: {
        "received": 5, "rejected": {"weird\nreason\x00": 2}, "rejected_total": 2,
        "last_error": "line one\nline two " + "x" * 500})
    dock.refresh()
    v = dock.values("odd")
    assert v["counts"] == "5 / 0 / 0" and v["state"].startswith("connecting")
    assert v["rejected_by_reason"] == {"weird reason?": 2}
    assert len(v["error_lines"]) == 1 and "\n" not in v["error_lines"][0] and len(v["error_lines"][0]) <= 160
    assert dock.refreshes == 2
    entries.remove(odd)
    dock.refresh()
    assert [dock.tree.topLevelItem(k).text(0) for k in range(dock.tree.topLevelItemCount())] == ["broken"]


def dock_counts(s) -> str:  # noqa: ANN001
    try:
        return s.diagnostics_dock.values("replay")["counts"]
    except KeyError:
        return ""
