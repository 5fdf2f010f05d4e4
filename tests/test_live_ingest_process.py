"""MQTT ingest in a child process (citytwin.live.ingest_process) against a real mosquitto broker."""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pytest

from citytwin.core.errors import CityTwinError
from citytwin.live.broker import LocalBroker, free_port, mosquitto_path
from citytwin.live.ingest import Ingest
from citytwin.live.payloads import PayloadParser, PlainMapping
from citytwin.live.session import SensorSession
from citytwin.model.sensors import (
    Datastream,
    Location,
    ObservedProperty,
    SensorLayer,
    SensorLayerSpec,
    Threshold,
    UnitOfMeasurement,
)

mqtt = pytest.importorskip("paho.mqtt.client")

from citytwin.live.ingest_process import ProcessIngest  # noqa: E402
from citytwin.live.mqtt import MqttConfig  # noqa: E402

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed")

import mqtt_fixtures  # noqa: E402
from mqtt_fixtures import close_client as _close  # noqa: E402
from mqtt_fixtures import observation as _obs  # noqa: E402
from mqtt_fixtures import publisher as _publisher  # noqa: E402
from mqtt_fixtures import wait_until as _wait  # noqa: E402

broker = mqtt_fixtures.broker  # the fixture

BASE = datetime(2024, 6, 1, tzinfo=UTC).timestamp()
APP = Path(__file__).resolve().parents[1] / "app"


def _cfg(url: str, topics: list[str], **kw) -> MqttConfig:
    return MqttConfig(url, topics=topics, qos=1, reconnect_min=0.1, reconnect_max=0.5, **kw)


def _gone(pid: int) -> bool:
    """True when no process ``pid`` runs (a zombie left to a non-reaping init counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _children() -> set[int]:
    return {p.pid for p in mp.active_children() if p.pid is not None}


def test_known_readings_reach_the_layer_through_the_child(broker: LocalBroker) -> None:
    layer = SensorLayer(capacity=64)
    layer.add_datastreams([Datastream(id=str(i), observed_property=ObservedProperty("no2")) for i in range(3)])
    layer.set_thresholds([Threshold("no2", above=40.0)])
    mapping = PlainMapping(topic="city/{id}/air", value="no2", time="ts", observed_property="no2", unit="µg/m³")
    ing = ProcessIngest(layer, _cfg(broker.url, ["v1.1/#", mapping.subscription]), PayloadParser([mapping]))
    ing.start()
    try:
        assert ing.wait_for("connected", 30)
        pid = ing.pid
        assert pid is not None and pid != os.getpid() and pid in _children()
        pub = _publisher(broker.port)
        sent = {("0", BASE + 0): 20.0, ("0", BASE + 60): 45.5, ("1", BASE + 30): 12.25,
                ("2", BASE + 10): 39.0, ("2", BASE + 70): 41.0}
        for (ds, t), v in sent.items():
            pub.publish(f"v1.1/Datastreams({ds})/Observations", _obs(t, v), qos=1).wait_for_publish(10)
        pub.publish("city/kiosk-9/air", orjson.dumps({"no2": 55, "ts": BASE + 5}), qos=1).wait_for_publish(10)
        assert _wait(lambda: ing.diag.applied == 6, ing)
        _close(pub)
    finally:
        ing.stop()
    assert ing.state == "stopped"
    for (ds, t), v in sent.items():
        i = layer.index[ds]
        vals, times = layer.latest_at(t)
        assert times[i] == t and vals[i] == v
    k = layer.index["kiosk-9"]  # auto-registered in the child, metadata handed over with the batch
    assert layer.latest_at(BASE + 5)[0][k] == 55.0
    assert layer.datastreams[k].observed_property.name == "no2" and layer.datastreams[k].unit.symbol == "µg/m³"
    alerts = sorted((a.datastream_id, a.time, a.value) for a in layer.alerts)
    assert alerts == [("0", BASE + 60, 45.5), ("2", BASE + 70, 41.0), ("kiosk-9", BASE + 5, 55.0)]
    snap = ing.diag.snapshot()
    assert snap["received"] == 6 and snap["parsed"] == 6 and snap["connects"] == 1
    assert snap["bytes"] > 6 * 20 and ing.diag.accounted(0)


def test_malformed_messages_are_counted_by_reason_in_the_child(broker: LocalBroker) -> None:
    ing = ProcessIngest(SensorLayer(), _cfg(broker.url, ["#"]))
    ing.start()
    try:
        assert ing.wait_for("connected", 30)
        pub = _publisher(broker.port)
        topic = "v1.1/Datastreams(5)/Observations"
        pub.publish(topic, _obs(BASE + 1, 3.0), qos=1).wait_for_publish(10)
        assert _wait(lambda: ing.diag.applied == 1, ing)
        msgs = [(topic, _obs(BASE + 1, 3.0)), (topic, b"{oops"),
                (topic, b'{"phenomenonTime": "2024-06-01T00:00:00Z", "result": NaN}'),
                (topic, b'{"phenomenonTime": "2024-06-01T00:00:00Z", "result": "high"}'),
                (topic, b'{"phenomenonTime": "2024-06-01T00:00:00Z", "result": 1}' + b" " * 70_000),
                (topic, _obs(BASE, 2.0)),  # older than the reading the layer holds: out of order
                ("weather/station/1", b'{"t": 20}'), (topic, _obs(time.time() + 86400, 1.0))]
        for t, p in msgs:
            pub.publish(t, p, qos=1).wait_for_publish(10)
        assert _wait(lambda: ing.diag.received == len(msgs) + 1 and ing.pending == 0, ing)
        _close(pub)
    finally:
        ing.stop()
    ing.drain()
    # the same reasons as the in-thread path (test_live_mqtt): parse-time ones counted in the
    # child, out_of_order by the layer in the parent
    assert ing.diag.rejected == {"malformed_json": 1, "non_finite": 1, "bad_type": 1, "oversize": 1,
                                 "out_of_order": 2, "unknown_topic": 1, "future_time": 1}
    assert ing.diag.applied == 1 and ing.diag.parsed == 4 and ing.diag.accounted(0)


def test_broker_killed_and_restarted_reconnects_and_later_readings_arrive(broker: LocalBroker) -> None:
    layer = SensorLayer(capacity=64)
    ing = ProcessIngest(layer, _cfg(broker.url, ["v1.1/#"]))
    ing.start()
    try:
        assert ing.wait_for("connected", 30)
        pub = _publisher(broker.port)
        pub.publish("v1.1/Datastreams(1)/Observations", _obs(BASE, 1.0), qos=1).wait_for_publish(10)
        _close(pub)
        assert _wait(lambda: ing.diag.applied == 1, ing)
        broker.stop()  # kill -9
        assert ing.wait_for("reconnecting", 30)
        assert ing.diag.disconnects == 1 and "connection lost" in ing.diag.last_error
        broker.restart()
        assert ing.wait_for("connected", 30)
        assert ing.diag.connects == 2
        pub = _publisher(broker.port)
        for k in range(1, 21):
            pub.publish(f"v1.1/Datastreams({k % 4})/Observations", _obs(BASE + k, k), qos=1).wait_for_publish(10)
        _close(pub)
        assert _wait(lambda: ing.diag.applied == 21, ing)
    finally:
        ing.stop()
    assert layer.latest_at(np.inf)[1][layer.index["0"]] == BASE + 20
    assert ing.diag.accounted(0) and ing.diag.rejected_total == 0


def test_broker_down_at_start_then_up_and_a_second_start_after_stop() -> None:
    port = free_port()
    layer = SensorLayer()
    ing = ProcessIngest(layer, _cfg(f"mqtt://127.0.0.1:{port}", ["v1.1/#"]))
    ing.start()
    broker = LocalBroker(port=port)
    try:
        assert ing.wait_for("reconnecting", 30)  # the child retries with MqttFeed's backoff
        assert ing.diag.connects == 0 and "cannot reach" in ing.diag.last_error
        broker.start()
        assert ing.wait_for("connected", 30)
        pub = _publisher(port)
        pub.publish("v1.1/Datastreams(1)/Observations", _obs(BASE, 7.0), qos=1).wait_for_publish(10)
        assert _wait(lambda: ing.diag.applied == 1, ing)
        ing.stop()
        ing.register([Datastream(id="between", name="declared while stopped")])
        ing.start()  # a new child, same index space
        assert ing.wait_for("connected", 30)
        pub.publish("v1.1/Datastreams(2)/Observations", _obs(BASE, 8.0), qos=1).wait_for_publish(10)
        pub.publish("v1.1/Datastreams(between)/Observations", _obs(BASE, 9.0), qos=1).wait_for_publish(10)
        pub.publish("v1.1/Datastreams(1)/Observations", _obs(BASE + 1, 10.0), qos=1).wait_for_publish(10)
        assert _wait(lambda: ing.diag.applied == 4, ing)
        _close(pub)
    finally:
        ing.stop()
        broker.close()
    vals = layer.latest_at(np.inf)[0]
    assert {ds.id: float(vals[i]) for i, ds in enumerate(layer.datastreams)} == {"1": 10.0, "between": 9.0, "2": 8.0}
    assert ing.diag.connects == 2 and ing.diag.accounted(0)


def test_stop_mid_stream_loses_nothing_delivered(broker: LocalBroker) -> None:
    """A stop while QoS 1 readings stream in: what the child received is handed over by stop();
    what it had not, the broker keeps for the persistent session and the next child gets."""
    layer = SensorLayer(capacity=4096)
    cid = f"citytwin-test-process-{time.time_ns()}"
    first = ProcessIngest(layer, _cfg(broker.url, ["v1.1/#"], client_id=cid))
    first.start()
    assert first.wait_for("connected", 30)
    stop = threading.Event()
    published: list[int] = []

    def stream() -> None:
        pub = _publisher(broker.port)
        k = 0
        while not stop.is_set() and k < 20_000:
            pub.publish(f"v1.1/Datastreams({k % 10})/Observations", _obs(BASE + k, k), qos=1).wait_for_publish(10)
            published.append(k)
            k += 1
        _close(pub)

    th = threading.Thread(target=stream, daemon=True)
    th.start()
    try:
        assert _wait(lambda: first.diag.received >= 300, first)
        first.stop()  # mid-stream
        received_at_stop = first.diag.received
        assert first.state == "stopped" and first.pid is None
        time.sleep(0.3)  # the stream goes on for a while with nobody connected
    finally:
        stop.set()
        th.join(30)
    first.drain()
    assert first.diag.accounted(0) and first.pending == 0
    assert first.diag.applied + first.diag.rejected.get("out_of_order", 0) == received_at_stop
    second = ProcessIngest(layer, _cfg(broker.url, ["v1.1/#"], client_id=cid))
    second.start()
    try:
        assert second.wait_for("connected", 30)
        stored = lambda: sum(len(layer.history.series(layer.index[str(r)])[1]) for r in range(10))  # noqa: E731
        assert _wait(lambda: stored() == len(published), second)
    finally:
        second.stop()
    second.drain()
    values = sorted(int(v) for r in range(10) for v in layer.history.series(layer.index[str(r)])[1])
    assert values == published  # every published reading stored exactly once across the two sessions
    # a message delivered but not acknowledged when the first child left comes again: refused as
    # out of order (same datastream and time), never stored twice
    assert set(first.diag.rejected) | set(second.diag.rejected) <= {"out_of_order"}


def test_readings_queued_in_the_child_come_over_with_stop(broker: LocalBroker) -> None:
    """With a long batch interval nothing reaches the parent before stop(): stop hands it all over."""
    ing = ProcessIngest(SensorLayer(), _cfg(broker.url, ["v1.1/#"]), interval=3600.0, batch_max=10**9)
    ing.start()
    try:
        assert ing.wait_for("connected", 30)  # a state change is sent at once, readings are not
        pub = _publisher(broker.port)
        for k in range(500):
            pub.publish(f"v1.1/Datastreams({k % 5})/Observations", _obs(BASE + k, k), qos=1).wait_for_publish(10)
        _close(pub)
        time.sleep(1.0)  # deliveries on loopback take milliseconds
        assert ing.diag.received == 0 and ing.pending == 0
    finally:
        ing.stop()
    assert ing.diag.received == 500 and ing.pending == 500
    ing.drain()
    assert ing.diag.applied == 500 and ing.diag.accounted(0)


def test_parent_registrations_keep_index_spaces_in_step(broker: LocalBroker) -> None:
    """Datastreams declared by the parent (before and after start) and others auto-registered
    by the child in between end up with their own readings and metadata."""
    layer = SensorLayer(capacity=64)
    ing = ProcessIngest(layer, _cfg(broker.url, ["v1.1/#"]))
    ing.register([Datastream(id="a", name="declared early", location=Location(lon=6.9, lat=50.9),
                             observed_property=ObservedProperty("pm10"), unit=UnitOfMeasurement(symbol="µg/m³"))])
    ing.start()
    try:
        assert ing.wait_for("connected", 30)
        pub = _publisher(broker.port)
        for k, ds in enumerate(["x", "a", "y"]):
            pub.publish(f"v1.1/Datastreams({ds})/Observations", _obs(BASE + k, 100 + k), qos=1).wait_for_publish(10)
        assert _wait(lambda: ing.diag.applied == 3, ing)
        ing.register([Datastream(id=f"late{i}", name=f"late {i}") for i in range(3)] + [Datastream(id="y", name="Y!")])
        for k, ds in enumerate(["late1", "z", "y", "late0"]):
            pub.publish(f"v1.1/Datastreams({ds})/Observations", _obs(BASE + 10 + k, 200 + k),
                        qos=1).wait_for_publish(10)
        assert _wait(lambda: ing.diag.applied == 7, ing)
        _close(pub)
    finally:
        ing.stop()
    ing.drain()
    vals, _ = layer.latest_at(np.inf)
    got = {ds.id: float(vals[i]) for i, ds in enumerate(layer.datastreams)}
    assert got["a"] == 101 and got["x"] == 100 and got["y"] == 202 and got["z"] == 201
    assert got["late1"] == 200 and got["late0"] == 203 and np.isnan(got["late2"])
    a = layer.datastreams[layer.index["a"]]
    assert a.name == "declared early" and a.unit.symbol == "µg/m³" and a.location is not None
    assert layer.datastreams[layer.index["y"]].name == "Y!"  # metadata from the parent updates it
    assert len(layer) == 7


def test_child_queue_is_bounded_and_counts_the_rest(broker: LocalBroker) -> None:
    ing = ProcessIngest(SensorLayer(capacity=8), _cfg(broker.url, ["v1.1/#"]), max_pending=100, interval=1.0)
    ing.start()
    try:
        assert ing.wait_for("connected", 30)
        pub = _publisher(broker.port)
        infos = [pub.publish(f"v1.1/Datastreams({k % 3})/Observations", _obs(BASE + k, k), qos=1)
                 for k in range(3000)]
        for info in infos:
            info.wait_for_publish(10)
        _close(pub)
        assert _wait(lambda: ing.diag.received == 3000, timeout=30)  # no drain while waiting
    finally:
        ing.stop()
    assert set(ing.diag.rejected) == {"queue_full"}
    ing.drain()
    # memory bounded in the child (100 per batch) and in the parent (100 between drains)
    assert ing.diag.applied <= 100 and ing.diag.applied + ing.diag.rejected["queue_full"] == 3000
    assert ing.diag.accounted(0)


def test_child_is_gone_after_stop_and_after_the_object_is_dropped(broker: LocalBroker) -> None:
    ing = ProcessIngest(SensorLayer(), _cfg(broker.url, ["v1.1/#"]))
    ing.start()
    assert ing.wait_for("connected", 30)
    pid = ing.pid
    assert pid is not None and not _gone(pid)
    ing.stop()
    assert _gone(pid) and pid not in _children()
    ing.stop()  # twice is fine

    dropped = ProcessIngest(SensorLayer(), _cfg(broker.url, ["v1.1/#"]))
    dropped.start()
    assert dropped.wait_for("connected", 30)
    pid2 = dropped.pid
    assert pid2 is not None and pid2 in _children()
    del dropped
    gc.collect()
    assert _wait(lambda: _gone(pid2) and pid2 not in _children(), timeout=15)

    spec = SensorLayerSpec(source=broker.url, topics=["v1.1/#"])
    session = SensorSession(spec)
    assert isinstance(session.ingest, ProcessIngest) and session.source is session.ingest
    session.start()
    assert session.ingest.wait_for("connected", 30)
    pid3 = session.ingest.pid
    del session
    gc.collect()
    assert _wait(lambda: pid3 is not None and _gone(pid3) and pid3 not in _children(), timeout=15)


def test_child_exits_when_the_parent_dies(broker: LocalBroker, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(APP)!r})
        from citytwin.live.ingest_process import ProcessIngest
        from citytwin.live.mqtt import MqttConfig
        from citytwin.model.sensors import SensorLayer

        if __name__ == "__main__":
            ing = ProcessIngest(SensorLayer(), MqttConfig({broker.url!r}, topics=["v1.1/#"]))
            ing.start()
            ing.wait_for("connected", 30)
            print(ing.pid, flush=True)
            time.sleep(60)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        child = int(line)
        assert not _gone(child)
    finally:
        parent.kill()  # SIGKILL: no atexit, no finalizer; the child sees its pipe close
        parent.wait(10)
    assert _wait(lambda: _gone(child), timeout=20)


def test_session_ingest_option_and_spec_key(broker: LocalBroker) -> None:
    spec = SensorLayerSpec(source=broker.url, topics=["v1.1/#"])
    assert spec.ingest == "process" and "ingest" not in spec.to_dict()
    threaded = SensorLayerSpec.from_dict({"source": broker.url, "ingest": "thread"})
    assert threaded.ingest == "thread" and threaded.to_dict()["ingest"] == "thread"
    assert SensorLayerSpec.from_dict(threaded.to_dict()) == threaded
    with pytest.raises(ValueError):
        SensorLayerSpec.from_dict({"source": broker.url, "ingest": "fork"})
    s = SensorSession(threaded)
    assert type(s.ingest) is Ingest and s.ingest_mode == "thread"
    s = SensorSession(spec, ingest="thread")
    assert type(s.ingest) is Ingest
    with pytest.raises(CityTwinError):
        SensorSession(spec, ingest="fork")
    with pytest.raises(CityTwinError):
        SensorSession(SensorLayerSpec(source="mqtt://"))  # a bad URL fails in the parent, at once
    replay = SensorLayerSpec(source=str(tmp_replay(broker)), ingest="process")
    assert SensorSession(replay).ingest_mode == "thread"  # only MQTT layers use a child process


def tmp_replay(broker: LocalBroker) -> Path:
    p = broker.folder / "obs.csv"
    p.write_text("datastream,time,value\ns1,2024-06-01T00:00:00Z,1.5\n")
    return p


def test_session_frames_through_the_process_path(broker: LocalBroker) -> None:
    spec = SensorLayerSpec(source=broker.url, topics=["v1.1/#"], thresholds=[Threshold("", above=10.0)])
    session = SensorSession(spec)
    session.start()
    try:
        assert _wait(lambda: session.state == "connected")
        pub = _publisher(broker.port)
        for k in range(50):
            pub.publish(f"v1.1/Datastreams({k % 5})/Observations", _obs(BASE + k, k), qos=1).wait_for_publish(10)
        _close(pub)
        ups = []
        assert _wait(lambda: (ups.append(session.frame()) or session.diagnostics.applied == 50))
    finally:
        session.stop()
    session.frame()
    assert session.state == "stopped" and len(session.layer) == 5
    assert sum(u.stored for u in ups) == 50
    assert session.diagnostics.snapshot()["received"] == 50


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_feed_command_either_path(broker: LocalBroker, mode: str) -> None:
    import argparse
    import io
    import json
    from contextlib import redirect_stdout

    from citytwin.cli import feed as feed_cli

    stop = threading.Event()

    def publish() -> None:
        pub = _publisher(broker.port)
        k = 0
        while not stop.is_set():
            pub.publish(f"v1.1/Datastreams({k % 4})/Observations", _obs(BASE + k, k), qos=1)
            if k % 20 == 19:
                pub.publish("v1.1/Datastreams(1)/Observations", b"[1, 2", qos=1)
            k += 1
            time.sleep(0.002)
        _close(pub)

    th = threading.Thread(target=publish, daemon=True)
    th.start()
    p = argparse.ArgumentParser()
    feed_cli.add_parser(p.add_subparsers())
    args = p.parse_args(["feed", broker.url, "--topic", "v1.1/#", "--count", "150", "--seconds", "60",
                         "--ingest", mode, "--json"])
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            rc = args.handler(args)
    finally:
        stop.set()
        th.join(10)
    d = json.loads(out.getvalue())
    assert rc == 0 and d["ingest"] == mode and d["connection"] == "connected"
    assert {"received", "parsed", "rejected", "datastreams"} <= set(d)
    assert d["received"] >= 150 and d["datastreams"] == 4 and d["rejected"]["malformed_json"] >= 1
    assert d["applied"] + d["rejected_total"] == d["received"]


def test_shutdown_from_the_reader_thread_reaps_the_child(broker: LocalBroker) -> None:
    """A finalizer may run in whatever thread a GC happens in, the reader's too: it cannot join
    itself, so it asks the child to stop and the reader reaps it after the last batch."""
    ing = ProcessIngest(SensorLayer(), _cfg(broker.url, ["v1.1/#"]))
    ing.start()
    assert ing.wait_for("connected", 30)
    pid = ing.pid
    link = ing._link
    assert link is not None and link.reader is not None and pid is not None
    reader = link.reader
    link.reader = threading.current_thread()  # as if this were the reader thread
    link.shutdown()  # returns at once
    link.reader = reader
    reader.join(20)
    assert not reader.is_alive() and _gone(pid) and pid not in _children()
    assert ing.state == "stopped" and link.cmd is None
    ing.stop()  # a no-op now


def test_child_runs_nicer_than_the_viewer(broker: LocalBroker) -> None:
    """The child yields the CPU to the viewer's rendering when it is short (DEFAULT_NICE)."""
    from citytwin.live import ingest_process

    def nice_of(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])

    if not Path(f"/proc/{os.getpid()}/stat").exists():
        pytest.skip("no /proc here")
    for asked, added in ((None, ingest_process.DEFAULT_NICE), (0, 0)):
        ing = ProcessIngest(SensorLayer(), _cfg(broker.url, ["v1.1/#"]), nice=asked)
        ing.start()
        try:
            assert ing.wait_for("connected", 30)
            assert ing.pid is not None
            assert nice_of(ing.pid) == min(nice_of(os.getpid()) + added, 19)
        finally:
            ing.stop()


def test_a_blocked_parent_never_blocks_the_child_s_network_thread(broker: LocalBroker) -> None:
    """The parent stops reading (its reader thread is held): the pipe fills, the child's sender
    waits, paho keeps receiving into the bounded child queue and counts the overflow. Released,
    every message is accounted for and the connection never dropped."""
    ing = ProcessIngest(SensorLayer(capacity=8), _cfg(broker.url, ["v1.1/#"]), max_pending=500)
    ing._local.max_pending = 10**6  # only the child's bound: every queue_full below is counted there
    ing.start()
    n = 20_000
    try:
        assert ing.wait_for("connected", 30)
        with ing._local._lock:  # the reader blocks in put_batch on its next batch
            pub = _publisher(broker.port)
            infos = [pub.publish(f"v1.1/Datastreams({k % 50})/Observations", _obs(BASE + k, k), qos=1)
                     for k in range(n)]
            for info in infos:
                info.wait_for_publish(30)  # acknowledged by the broker: the child is reading
            _close(pub)
            time.sleep(1.0)
        assert _wait(lambda: ing.diag.received == n, ing)
    finally:
        ing.stop()
    ing.drain()
    d = ing.diag
    assert set(d.rejected) <= {"queue_full"} and d.rejected.get("queue_full", 0) > 0
    assert d.applied + d.rejected["queue_full"] == n and d.accounted(0)
    assert d.applied >= 500  # what the child had queued and the pipe held was handed over
    assert d.disconnects == 0 and d.connects == 1
