"""MQTT feed against a real mosquitto broker on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime

import numpy as np
import orjson
import pytest

from citytwin.live.broker import LocalBroker, free_port, mosquitto_path
from citytwin.live.ingest import Ingest
from citytwin.live.payloads import PayloadParser, PlainMapping
from citytwin.model.sensors import Datastream, ObservedProperty, SensorLayer, Threshold

mqtt = pytest.importorskip("paho.mqtt.client")
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from citytwin.live.mqtt import ConnectionState, MqttConfig, MqttFeed  # noqa: E402

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed")

import mqtt_fixtures  # noqa: E402
from mqtt_fixtures import close_client as _close  # noqa: E402
from mqtt_fixtures import observation as _obs  # noqa: E402
from mqtt_fixtures import publisher as _publisher  # noqa: E402
from mqtt_fixtures import wait_until as _wait  # noqa: E402

broker = mqtt_fixtures.broker  # the fixture

BASE = datetime(2024, 6, 1, tzinfo=UTC).timestamp()


def _feed(url: str, ingest: Ingest, topics: list[str], **kw) -> MqttFeed:
    cfg = MqttConfig(url, topics=topics, qos=1, reconnect_min=0.1, reconnect_max=0.5, **kw)
    return MqttFeed(cfg, ingest.on_message, ingest.diag)


def test_readings_reach_history_and_alerts(broker: LocalBroker) -> None:
    layer = SensorLayer(capacity=64)
    layer.add_datastreams([Datastream(id=str(i), observed_property=ObservedProperty("no2")) for i in range(3)])
    layer.set_thresholds([Threshold("no2", above=40.0)])
    mapping = PlainMapping(topic="city/{id}/air", value="no2", time="ts", observed_property="no2")
    ingest = Ingest(layer, PayloadParser([mapping]))
    feed = _feed(broker.url, ingest, ["v1.1/#", mapping.subscription])
    feed.start()
    try:
        assert feed.wait_for(ConnectionState.CONNECTED, 20)
        pub = _publisher(broker.port)
        sent = {("0", BASE + 0): 20.0, ("0", BASE + 60): 45.5, ("1", BASE + 30): 12.25,
                ("2", BASE + 10): 39.0, ("2", BASE + 70): 41.0}
        for (ds, t), v in sent.items():
            pub.publish(f"v1.1/Datastreams({ds})/Observations", _obs(t, v), qos=1).wait_for_publish(10)
        pub.publish("city/kiosk-9/air", orjson.dumps({"no2": 55, "ts": BASE + 5}), qos=1).wait_for_publish(10)
        assert _wait(lambda: ingest.diag.applied == 6, ingest)
        _close(pub)
    finally:
        feed.stop()
    for (ds, t), v in sent.items():
        i = layer.index[ds]
        vals, times = layer.latest_at(t)
        assert times[i] == t and vals[i] == v
    k = layer.index["kiosk-9"]
    assert layer.latest_at(BASE + 5)[0][k] == 55.0
    alerts = sorted((a.datastream_id, a.time, a.value) for a in layer.alerts)
    assert alerts == [("0", BASE + 60, 45.5), ("2", BASE + 70, 41.0), ("kiosk-9", BASE + 5, 55.0)]


def test_malformed_messages_are_counted_by_reason(broker: LocalBroker) -> None:
    ingest = Ingest(SensorLayer())
    feed = _feed(broker.url, ingest, ["#"])
    feed.start()
    try:
        assert feed.wait_for(ConnectionState.CONNECTED, 20)
        pub = _publisher(broker.port)
        topic = "v1.1/Datastreams(5)/Observations"
        pub.publish(topic, _obs(BASE + 1, 3.0), qos=1).wait_for_publish(10)
        assert _wait(lambda: ingest.diag.applied == 1, ingest)
        msgs = [(topic, _obs(BASE + 1, 3.0)), (topic, b"{oops"), (topic, b'{"phenomenonTime": "2024-06-01T00:00:00Z", "result": NaN}'),
                (topic, b'{"phenomenonTime": "2024-06-01T00:00:00Z", "result": "high"}'),
                (topic, b'{"phenomenonTime": "2024-06-01T00:00:00Z", "result": 1}' + b" " * 70_000),
                (topic, _obs(BASE, 2.0)),  # older than the reading the layer holds: out of order
                ("weather/station/1", b'{"t": 20}'), (topic, _obs(time.time() + 86400, 1.0))]
        for t, p in msgs:
            pub.publish(t, p, qos=1).wait_for_publish(10)
        assert _wait(lambda: ingest.diag.received == len(msgs) + 1 and ingest.pending == 0, ingest)
        _close(pub)
    finally:
        feed.stop()
    ingest.drain()
    assert ingest.diag.rejected == {"malformed_json": 1, "non_finite": 1, "bad_type": 1, "oversize": 1,
                                    "out_of_order": 2, "unknown_topic": 1, "future_time": 1}
    assert ingest.diag.applied == 1 and ingest.diag.accounted(0)


def test_broker_down_at_start_then_up(tmp_path) -> None:
    port = free_port()
    ingest = Ingest(SensorLayer())
    feed = _feed(f"mqtt://127.0.0.1:{port}", ingest, ["v1.1/#"])
    feed.start()
    broker = LocalBroker(port=port)
    try:
        assert feed.wait_for(ConnectionState.RECONNECTING, 20)
        assert ingest.diag.connects == 0
        broker.start()
        assert feed.wait_for(ConnectionState.CONNECTED, 20)
        pub = _publisher(port)
        pub.publish("v1.1/Datastreams(1)/Observations", _obs(BASE, 7.0), qos=1).wait_for_publish(10)
        assert _wait(lambda: ingest.diag.applied == 1, ingest)
        _close(pub)
    finally:
        feed.stop()
        broker.close()


def test_broker_restart_mid_stream_loses_nothing_delivered(broker: LocalBroker) -> None:
    layer = SensorLayer(capacity=4096)
    ingest = Ingest(layer)
    feed = _feed(broker.url, ingest, ["v1.1/#"])
    feed.start()
    stop = threading.Event()
    published: list[int] = []

    def stream() -> None:  # publishes QoS 1 readings until told to stop, across the outage
        k = 0
        while not stop.is_set():
            try:
                pub = _publisher(broker.port)
            except OSError:
                time.sleep(0.05)
                continue
            try:
                while not stop.is_set():
                    info = pub.publish(f"v1.1/Datastreams({k % 10})/Observations", _obs(BASE + k, k), qos=1)
                    info.wait_for_publish(2)
                    if not info.is_published():
                        break
                    published.append(k)
                    k += 1
            except (RuntimeError, ValueError):
                pass
            finally:
                _close(pub)

    try:
        assert feed.wait_for(ConnectionState.CONNECTED, 20)
        th = threading.Thread(target=stream, daemon=True)
        th.start()
        assert _wait(lambda: ingest.diag.received >= 200, ingest)
        before = ingest.diag.received
        broker.restart()  # kill -9 and start again on the same port
        assert feed.wait_for(ConnectionState.CONNECTED, 30)
        assert ingest.diag.disconnects >= 1 and ingest.diag.connects >= 2
        n_at_reconnect = len(published)
        assert _wait(lambda: ingest.diag.received >= before + 200, ingest)
        stop.set()
        th.join(10)
        last = published[-1]
        # everything published after the feed was back arrives (the broker held the subscription)
        assert _wait(lambda: layer.latest_at(np.inf)[1][layer.index[str(last % 10)]] == BASE + last, ingest)
    finally:
        feed.stop()
    ingest.drain()
    # nothing the broker delivered was lost on our side: every delivery applied or counted
    assert ingest.diag.accounted(0)
    # the publisher re-sends a reading whose PUBACK died with the broker (at least once): that
    # duplicate, same datastream and time, is refused as out of order; nothing else is refused
    assert set(ingest.diag.rejected) <= {"out_of_order"} and ingest.diag.rejected_total <= 2
    stored = {int(v) for r in range(10) for v in layer.history.series(layer.index[str(r)])[1]}
    after = set(published[n_at_reconnect + 1:])  # the one in flight at SUBACK time may have missed
    assert after <= stored


@pytest.mark.parametrize("protocol", [4, 5])
def test_persistent_session_gets_what_was_sent_while_away(broker: LocalBroker, protocol: int) -> None:
    ingest = Ingest(SensorLayer())
    cid = f"citytwin-test-persistent-{protocol}"
    feed = _feed(broker.url, ingest, ["v1.1/#"], client_id=cid, protocol=protocol)
    feed.start()
    assert feed.wait_for(ConnectionState.CONNECTED, 20)
    _wait(lambda: False, timeout=0.3)
    feed.stop()  # clean disconnect; the session (with its QoS 1 subscription) stays on the broker
    pub = _publisher(broker.port)
    for k in range(50):
        pub.publish(f"v1.1/Datastreams({k % 5})/Observations", _obs(BASE + k, k), qos=1).wait_for_publish(10)
    _close(pub)
    again = _feed(broker.url, ingest, ["v1.1/#"], client_id=cid, protocol=protocol)
    again.start()
    try:
        assert again.wait_for(ConnectionState.CONNECTED, 20)
        assert again.session_present
        assert _wait(lambda: ingest.diag.applied == 50, ingest)
    finally:
        again.stop()
    assert ingest.diag.accounted(0) and ingest.diag.received == 50


def test_random_client_id_drops_its_session_on_stop(broker: LocalBroker) -> None:
    ingest = Ingest(SensorLayer())
    feed = _feed(broker.url, ingest, ["v1.1/#"])
    feed.start()
    assert feed.wait_for(ConnectionState.CONNECTED, 20)
    cid = feed.client_id
    feed.stop()
    pub = _publisher(broker.port)
    for k in range(5):
        pub.publish("v1.1/Datastreams(1)/Observations", _obs(BASE + k, k), qos=1).wait_for_publish(10)
    _close(pub)
    # resume that session by hand (same id, no subscriptions of our own): nothing was queued for it
    got: list[bytes] = []
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=False)
    c.on_message = lambda client, userdata, msg: got.append(msg.payload)
    present = threading.Event()
    c.on_connect = lambda client, userdata, flags, rc, props: present.set() if flags.session_present else None
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    try:
        assert _wait(present.is_set)
        _wait(lambda: bool(got), timeout=1.0)  # give a queued message time to show up
        assert got == []
    finally:
        _close(c)


def test_feed_command_on_a_broker(broker: LocalBroker) -> None:
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
            pub.publish(f"v1.1/Datastreams({k % 7})/Observations", _obs(BASE + k, 50.0 + k % 3), qos=1)
            if k % 10 == 9:
                pub.publish("v1.1/Datastreams(3)/Observations", b"not json", qos=1)
            k += 1
            time.sleep(0.002)
        _close(pub)

    th = threading.Thread(target=publish, daemon=True)
    th.start()
    p = argparse.ArgumentParser()
    feed_cli.add_parser(p.add_subparsers())
    args = p.parse_args(["feed", broker.url, "--topic", "v1.1/#", "--count", "200", "--seconds", "60",
                         "--threshold", "no2>40", "--json"])
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            rc = args.handler(args)
    finally:
        stop.set()
        th.join(10)
    d = json.loads(out.getvalue())
    assert rc == 0 and d["connection"] == "connected"
    assert d["received"] >= 200
    assert d["received"] == d["parsed"] + d["rejected"].get("malformed_json", 0)
    assert d["rejected"]["malformed_json"] >= 1
    assert d["datastreams"] == 7
    assert d["applied"] + d["rejected_total"] == d["received"]


def _tool(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/bin/{name}", f"/usr/sbin/{name}") if os.path.exists(p)), None)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def test_username_password_and_tls(tmp_path) -> None:
    pw = tmp_path / "passwd"
    pw.touch()
    subprocess.run([_tool("mosquitto_passwd"), "-b", str(pw), "alice", "s3cret"], check=True)
    subprocess.run([_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    extra = (f"password_file {pw}\ncertfile {tmp_path / 'cert.pem'}\nkeyfile {tmp_path / 'key.pem'}\n")
    with LocalBroker(anonymous=False, extra_config=extra) as broker:
        assert broker.url.startswith("mqtts://")
        wrong = Ingest(SensorLayer())
        bad = MqttFeed(MqttConfig(broker.url, topics=["#"], username="alice", password="nope",
                                  ca_certs=str(tmp_path / "cert.pem"), reconnect_min=0.2, reconnect_max=0.5),
                       wrong.on_message, wrong.diag)
        bad.start()
        try:
            assert _wait(lambda: any("refused" in e for e in list(wrong.diag.errors)))
            assert bad.state != ConnectionState.CONNECTED and wrong.diag.connects == 0
        finally:
            bad.stop()
        ingest = Ingest(SensorLayer())
        url = broker.url.replace("mqtts://", "mqtts://alice:s3cret@")
        feed = MqttFeed(MqttConfig(url, topics=["v1.1/#"], ca_certs=str(tmp_path / "cert.pem")),
                        ingest.on_message, ingest.diag)
        feed.start()
        try:
            assert feed.wait_for(ConnectionState.CONNECTED, 20)
            pub = mqtt.Client(CallbackAPIVersion.VERSION2)
            pub.username_pw_set("alice", "s3cret")
            pub.tls_set(ca_certs=str(tmp_path / "cert.pem"))
            pub.connect("127.0.0.1", broker.port)
            pub.loop_start()
            pub.publish("v1.1/Datastreams(1)/Observations", _obs(BASE, 4.5), qos=1).wait_for_publish(10)
            assert _wait(lambda: ingest.diag.applied == 1, ingest)
            _close(pub)
        finally:
            feed.stop()


def test_a_flood_is_counted_not_crashed_on(broker: LocalBroker) -> None:
    layer = SensorLayer(capacity=8)
    ingest = Ingest(layer, max_pending=100)  # the GUI did not drain for a while
    feed = _feed(broker.url, ingest, ["v1.1/#"])
    feed.start()
    try:
        assert feed.wait_for(ConnectionState.CONNECTED, 20)
        pub = _publisher(broker.port)
        for k in range(2000):
            pub.publish(f"v1.1/Datastreams({k % 3})/Observations", _obs(BASE + k, k), qos=1)
        assert _wait(lambda: ingest.diag.received == 2000)  # no drain while waiting
        _close(pub)
    finally:
        feed.stop()
    assert ingest.pending == 100 and ingest.diag.rejected == {"queue_full": 1900}
    ingest.drain()
    assert ingest.diag.applied == 100 and ingest.diag.accounted(0)
    assert int(layer.history.count[:3].sum()) == 3 * 8  # memory bounded: 8 slots per datastream
