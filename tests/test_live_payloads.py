"""Payload parsing and the ingest queue: every bad input counted by reason, never an exception."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import orjson
import pytest

from citytwin.live.ingest import Ingest
from citytwin.live.payloads import PayloadParser, PlainMapping, Rejected, parse_time, sta_topic_id
from citytwin.model.sensors import Datastream, ObservedProperty, SensorLayer, Threshold

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC).timestamp()


def _obs(t: str = "2024-06-01T11:00:00Z", result: object = 21.5) -> bytes:
    return orjson.dumps({"phenomenonTime": t, "result": result})


def test_sta_topics_and_times() -> None:
    assert sta_topic_id("v1.1/Datastreams(42)/Observations") == "42"
    assert sta_topic_id("v1.1/Datastreams('air-7')/Observations") == "air-7"
    assert sta_topic_id("v1.1/Datastreams('it''s')/Observations") == "it's"
    assert sta_topic_id("v1.1/Things(1)/Locations") is None
    assert parse_time("2024-06-01T12:00:00Z") == NOW
    assert parse_time("2024-06-01T14:00:00+02:00") == NOW
    assert parse_time("2024-06-01T12:00:00") == NOW  # naive = UTC
    assert parse_time("2024-06-01T11:00:00Z/2024-06-01T12:00:00Z") == NOW  # interval: its end
    assert parse_time(NOW) == NOW and parse_time(NOW * 1000) == NOW
    for bad in ("yesterday", None, True, [1], float("nan")):
        with pytest.raises(Rejected) as e:
            parse_time(bad)
        assert e.value.reason == "bad_time"


def test_plain_mapping() -> None:
    m = PlainMapping(topic="city/{zone}/{id}/air", sensor="{zone}-{id}", value="data.no2",
                     time="ts", lat="pos[0]", lon="pos[1]", observed_property="no2", unit="µg/m³")
    assert m.subscription == "city/+/+/air"
    caps = m.match("city/north/s7/air")
    r = m.reading(caps, {"data": {"no2": 33}, "ts": "2024-06-01T12:00:00Z", "pos": [51.5, 7.4]}, 0.0)
    assert (r.datastream, r.time, r.value, r.lat, r.lon) == ("north-s7", NOW, 33.0, 51.5, 7.4)
    assert m.match("city/north/s7/water") is None
    m2 = PlainMapping.from_dict({"topic": "raw/#", "value": "v", "id_path": "meta.id"})
    r = m2.reading(m2.match("raw/a/b"), {"v": 1.5, "meta": {"id": 9}}, 123.0)
    assert (r.datastream, r.time) == ("9", 123.0)  # no time path: arrival time
    assert PlainMapping.from_dict(m.to_dict()) == m


def _ingest(**kw) -> tuple[Ingest, SensorLayer]:
    layer = SensorLayer(capacity=16)
    mapping = PlainMapping(topic="plain/{id}", value="v", time="t")
    return Ingest(layer, PayloadParser([mapping], max_bytes=1000), now=lambda: NOW, **kw), layer


def test_bad_input_is_counted_by_reason() -> None:
    ing, layer = _ingest(max_future=300)
    sta = "v1.1/Datastreams(1)/Observations"
    cases = [
        (sta, _obs(), None),
        (sta, b"{not json", "malformed_json"),
        (sta, b"\xff\xfe garbage", "malformed_json"),
        (sta, b'{"phenomenonTime": "2024-06-01T11:00:01Z", "result": NaN}', "non_finite"),
        (sta, b'{"phenomenonTime": "2024-06-01T11:00:02Z", "result": 1e999}', "non_finite"),
        (sta, b'{"phenomenonTime": "2024-06-01T11:00:03Z", "result": -Infinity}', "non_finite"),
        (sta, _obs(result="21.5"), "bad_type"),
        (sta, _obs(result=True), "bad_type"),
        (sta, _obs(result=None), "bad_type"),
        (sta, _obs(result={"v": 1}), "bad_type"),
        (sta, b"[1, 2, 3]", "bad_type"),
        (sta, b'{"result": 1}', "missing_field"),
        (sta, b'{"phenomenonTime": "2024-06-01T11:00:00Z"}', "missing_field"),
        (sta, _obs(t="soon"), "bad_time"),
        (sta, _obs(t="2031-01-01T00:00:00Z"), "future_time"),
        (sta, b'{"result": 1, "phenomenonTime": "' + b"x" * 2000 + b'"}', "oversize"),
        ("some/other/topic", _obs(), "unknown_topic"),
        ("plain/7", b'{"v": 3, "t": "2024-06-01T11:30:00Z"}', None),
        ("plain/7", b'{"t": "2024-06-01T11:31:00Z"}', "missing_field"),
        ("plain/7", b'{"v": "3", "t": "2024-06-01T11:32:00Z"}', "bad_type"),
        ("plain/", b'{"v": 3, "t": "2024-06-01T11:32:00Z"}', "missing_field"),
    ]
    for topic, payload, _ in cases:
        ing.on_message(topic, payload)
    up = ing.drain()
    expected: dict[str, int] = {}
    for _, _, reason in cases:
        if reason:
            expected[reason] = expected.get(reason, 0) + 1
    d = ing.diag.snapshot()
    assert d["rejected"] == expected
    assert d["received"] == len(cases) and d["applied"] == 2 and up.stored == 2
    assert ing.diag.accounted(ing.pending)
    assert sorted(ds.id for ds in layer.datastreams) == ["1", "7"]
    # out of order after the fact: older than what the layer holds
    ing.on_message(sta, _obs(t="2024-06-01T10:00:00Z"))
    ing.drain()
    assert ing.diag.rejected["out_of_order"] == 1 and ing.diag.accounted(0)


def test_unknown_datastreams_and_floods() -> None:
    layer = SensorLayer()
    layer.add_datastreams([Datastream(id="1")])
    ing2 = Ingest(layer, now=lambda: NOW, auto_register=False, max_pending=5)
    for k in range(8):
        ing2.on_message("v1.1/Datastreams(1)/Observations", _obs(t=f"2024-06-01T11:00:{k:02d}Z"))
    ing2.on_message("v1.1/Datastreams(99)/Observations", _obs())
    assert ing2.diag.rejected == {"queue_full": 3, "unknown_datastream": 1}
    assert ing2.drain().stored == 5
    assert ing2.diag.accounted(0)
    capped = Ingest(SensorLayer(), now=lambda: NOW, max_datastreams=3)
    for k in range(5):
        capped.on_message(f"v1.1/Datastreams({k})/Observations", _obs())
    capped.drain()
    assert capped.diag.rejected == {"too_many_datastreams": 2} and len(capped.layer) == 3


def test_drain_is_one_vectorised_batch_with_alerts() -> None:
    layer = SensorLayer(capacity=32)
    layer.add_datastreams([Datastream(id=str(i), observed_property=ObservedProperty("no2")) for i in range(50)])
    layer.set_thresholds([Threshold("no2", above=40.0)])
    ing = Ingest(layer, now=lambda: NOW)
    calls = []
    real_apply = layer.apply
    layer.apply = lambda *a: calls.append(len(a[0])) or real_apply(*a)  # type: ignore[method-assign]
    rng = np.random.default_rng(1)
    sent = {}
    for k in range(1000):
        ds = int(rng.integers(0, 50))
        v = float(np.round(rng.random() * 60, 1))
        t = NOW - 5000 + k
        ing.on_message(f"v1.1/Datastreams({ds})/Observations", orjson.dumps({"phenomenonTime": t, "result": v}))
        sent[ds] = (t, v)
    up = ing.drain()
    assert calls == [1000] and up.stored == 1000
    vals, times = layer.latest_at(NOW)
    for ds, (t, v) in sent.items():
        assert times[ds] == t and vals[ds] == v
    assert len(layer.alerts) > 0 and all(a.value > 40 for a in layer.alerts)
    assert ing.drain().stored == 0 and calls == [1000, 0]


def test_replay_arrays_through_ingest() -> None:
    layer = SensorLayer()
    ing = Ingest(layer, now=lambda: NOW)
    idx = ing.register([Datastream(id="a"), Datastream(id="b")])
    ing.put_indexed(np.array(idx + [7]), np.array([1.0, 2.0, 3.0]), np.array([1.0, np.inf, 2.0]))
    ing.put_arrays(["a", "c"], np.array([5.0, 6.0]), np.array([4.0, 5.0]))
    up = ing.drain()
    assert up.stored == 3
    assert ing.diag.rejected == {"non_finite": 1, "unknown_datastream": 1}
    assert [d.id for d in layer.datastreams] == ["a", "b", "c"]
    assert ing.diag.accounted(0)


def test_live_package_loads_no_gui_and_only_mqtt_loads_paho() -> None:
    code = (
        "import sys, citytwin.live, citytwin.live.ingest, citytwin.live.replay, citytwin.live.sensorthings\n"
        "import citytwin.model.sensors, citytwin.model.clock, citytwin.cli.feed\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'vtk', 'vtkmodules', 'pyvista', 'paho')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    import pathlib

    import citytwin.live as live

    importers = [p.name for p in pathlib.Path(live.__file__).parent.glob("*.py")
                 if "import paho" in p.read_text() or "from paho" in p.read_text()]
    assert importers == ["mqtt.py"]


def test_feed_command_options_and_one_line_errors(tmp_path) -> None:
    import argparse

    from citytwin.cli import feed as feed_cli
    from citytwin.core.errors import CityTwinError

    p = argparse.ArgumentParser()
    feed_cli.add_parser(p.add_subparsers())

    def run(*argv: str) -> int:
        args = p.parse_args(["feed", *argv])
        return args.handler(args)

    mfile = tmp_path / "m.json"
    mfile.write_text('[{"topic": "a/{id}", "value": "v"}, {"topic": "b/#", "value": "x.y", "id_path": "id"}]')
    assert [m["topic"] for m in feed_cli._mappings([str(mfile), '{"topic": "c/{id}", "value": "v"}'])] == \
        ["a/{id}", "b/#", "c/{id}"]
    ths = feed_cli._thresholds(["no2>40", "temperature < -5.5"])
    assert [(t.observed_property, t.above, t.below) for t in ths] == [("no2", 40.0, None), ("temperature", None, -5.5)]
    for bad in (["--mapping", "{oops"], ["--mapping", '{"value": "v"}'], ["--mapping", str(tmp_path / "none.json")],
                ["--threshold", "no2 = 40"]):
        with pytest.raises(CityTwinError) as e:
            run("x.csv", *bad)
        assert "\n" not in str(e.value)
    with pytest.raises(CityTwinError) as e:
        run(str(tmp_path / "missing.csv"))
    assert "missing.csv" in str(e.value)
    with pytest.raises(CityTwinError):
        run("mqtt://host:notaport")
