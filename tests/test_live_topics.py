"""MQTT topic filters are checked before connecting: the pure validator, the feed command
(with a real mosquitto and with no broker at all), and a session built from a spec."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

import mqtt_fixtures
from citytwin.live.broker import free_port, mosquitto_path
from citytwin.live.topics import TopicFilterError, check_topic_filters, topic_filter_problem

broker = mqtt_fixtures.broker  # the fixture

STA_WILDCARD = "v1.1/Datastreams(+)/Observations"


@pytest.mark.parametrize("f", ["#", "+", "v1.1/#", "v1.1/+/Observations", "a//b", "/", "+/+/#",
                               "sport/tennis/player1", "$share/g/a/+", "ü/ß", "a b/c"])
def test_valid_filters(f: str) -> None:
    assert topic_filter_problem(f) is None
    assert check_topic_filters([f]) == [f]


@pytest.mark.parametrize(
    "f, suggestion",
    [
        (STA_WILDCARD, "v1.1/+/Observations"),
        ("v1.1/Datastreams(#)", "v1.1/#"),
        ("a/#/b", "a/#"),
        ("a/b#", "a/#"),
        ("a+/b", "+/b"),
        ("city/+x/air/#", "city/+/air/#"),
        ("a\x00b", "ab"),
        ("", "#"),
    ],
)
def test_bad_filters_name_the_filter_and_a_working_form(f: str, suggestion: str) -> None:
    problem = topic_filter_problem(f)
    assert problem is not None and repr(f) in problem and repr(suggestion) in problem, problem
    assert "\n" not in problem
    assert topic_filter_problem(suggestion) is None  # what we suggest is itself valid
    with pytest.raises(TopicFilterError, match="--topic: topic filter"):
        check_topic_filters(["v1.1/#", f], "--topic")


def test_too_long_filter() -> None:
    assert topic_filter_problem("a" * 65535) is None
    problem = topic_filter_problem("ä" * 40000)  # 80000 bytes in UTF-8
    assert problem is not None and "80000 bytes" in problem


def _feed(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citytwin", "feed", *args],
                          capture_output=True, text=True, timeout=timeout)


def _one_error_line(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and "Invalid subscription filter" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed")
def test_feed_refuses_a_bad_filter_on_a_real_broker_and_the_suggestion_works(broker) -> None:
    t0 = time.monotonic()
    out = _feed(broker.url, "--topic", STA_WILDCARD, "--seconds", "20", "--json")
    line = _one_error_line(out)
    assert time.monotonic() - t0 < 15  # refused up front, not after waiting --seconds
    assert STA_WILDCARD in line and "'v1.1/+/Observations'" in line
    assert out.stdout == ""  # no "connecting ... received 0" summary

    # the suggested form receives what the SensorThings topics carry
    stop = threading.Event()

    def publish() -> None:
        pub = mqtt_fixtures.publisher(broker.port)
        k = 0
        while not stop.is_set():
            pub.publish(f"v1.1/Datastreams({k % 3})/Observations",
                        mqtt_fixtures.observation(1.7e9 + k, 20.0 + k), qos=1)
            k += 1
            time.sleep(0.01)
        mqtt_fixtures.close_client(pub)

    th = threading.Thread(target=publish, daemon=True)
    th.start()
    try:
        ok = _feed(broker.url, "--topic", "v1.1/+/Observations", "--count", "20", "--seconds", "40",
                   "--ingest", "thread", "--json")
    finally:
        stop.set()
        th.join(10)
    assert ok.returncode == 0, ok.stderr
    d = json.loads(ok.stdout)
    assert d["connection"] == "connected" and d["received"] >= 20 and d["datastreams"] == 3


def test_feed_refuses_a_bad_filter_without_a_broker() -> None:
    port = free_port()  # nothing listens there
    out = _feed(f"mqtt://127.0.0.1:{port}", "--topic", "v1.1/#", "--topic", "a/#/b", "--seconds", "20")
    line = _one_error_line(out)
    assert "never connected" not in line
    assert "'a/#/b'" in line and "'a/#'" in line and "--topic" in line


def test_session_refuses_bad_spec_and_mapping_topics() -> None:
    from citytwin.live.session import SensorSession
    from citytwin.model.sensor_spec import SensorLayerSpec

    url = f"mqtt://127.0.0.1:{free_port()}"
    with pytest.raises(TopicFilterError, match=r"sensor layer 'air'.*'v1\.1/\+/Observations'"):
        SensorSession(SensorLayerSpec(source=url, name="air", topics=[STA_WILDCARD]), ingest="thread")
    bad_mapping = {"topic": "city/x{id}/air", "value": "no2"}
    with pytest.raises(TopicFilterError, match="mapping topic 'city/x{id}/air'"):
        SensorSession(SensorLayerSpec(source=url, mappings=[bad_mapping]), ingest="thread")


def test_scene_topics_given_as_one_string_are_one_filter() -> None:
    from citytwin.model.sensor_spec import SensorLayerSpec

    spec = SensorLayerSpec.from_dict({"source": "mqtt://127.0.0.1:1883", "topics": "v1.1/+/Observations"})
    assert spec.topics == ["v1.1/+/Observations"]
    check_topic_filters(spec.topics)
