"""SensorThings HTTP client and poller against a loopback ``http.server`` serving standard-shaped JSON.

The entities follow the examples of OGC SensorThings API Part 1 (Things with
``properties``, Locations with a GeoJSON ``location``, Datastreams with
``unitOfMeasurement`` and ``observationType``, Observations with ``phenomenonTime``
and ``result``), with server-driven paging through ``@iot.nextLink``.
"""

from __future__ import annotations

import argparse
import io
import json
import threading
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pytest

from citytwin.core.errors import CityTwinError
from citytwin.live.ingest import Ingest
from citytwin.live.sensorthings import SensorThingsClient, SensorThingsFeed
from citytwin.model.sensors import SensorLayer

T0 = datetime(2024, 6, 1, tzinfo=UTC).timestamp()
PAGE = 2  # the server pages after 2 entities, whatever $top says (server-driven paging)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeSTA:
    """In-memory SensorThings service: 3 Things, 5 Datastreams, hourly Observations."""

    def __init__(self) -> None:
        self.base = ""
        self.requests: list[str] = []
        places = [(-114.06, 51.05), (-114.1, 51.08), (-113.99, 51.02)]
        self.things = [{"@iot.id": i + 1, "name": f"Station {i + 1}",
                        "description": "An air quality station", "properties": {"owner": "City"},
                        "loc": {"@iot.id": 100 + i, "name": f"Site {i + 1}", "description": "kerbside",
                                "encodingType": "application/geo+json",
                                "location": {"type": "Point", "coordinates": list(places[i])}}}
                       for i in range(3)]
        props = {"no2": ("Nitrogen dioxide", "microgram per cubic metre", "µg/m³"),
                 "temp": ("Air temperature", "degree Celsius", "°C")}
        self.datastreams = []
        for k, (thing, prop) in enumerate([(1, "no2"), (1, "temp"), (2, "no2"), (3, "no2"), (3, "temp")]):
            name, uname, sym = props[prop]
            self.datastreams.append({
                "@iot.id": k + 1, "name": f"{prop} at station {thing}", "description": name,
                "unitOfMeasurement": {"name": uname, "symbol": sym,
                                      "definition": "http://unitsofmeasure.org/ucum.html#para-30"},
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "thing": thing, "op": {"@iot.id": 10 + len(prop), "name": prop, "definition": name,
                                       "description": name}})
        self.observations: list[dict[str, Any]] = []
        for h in range(4):
            for ds in self.datastreams:
                self.add(ds["@iot.id"], T0 + 3600 * h, round(10 + ds["@iot.id"] * 3.1 + h, 2))

    def add(self, ds: int, t: float, result: Any) -> None:
        self.observations.append({"@iot.id": len(self.observations) + 1, "phenomenonTime": iso(t),
                                  "resultTime": iso(t), "result": result, "ds": ds})

    # ---------------------------------------------------------------- entity JSON
    def _link(self, path: str) -> str:
        return f"{self.base}/{path}"

    def thing_json(self, th: dict[str, Any], expand: str) -> dict[str, Any]:
        i = th["@iot.id"]
        out = {"@iot.id": i, "@iot.selfLink": self._link(f"Things({i})"),
               "Locations@iot.navigationLink": self._link(f"Things({i})/Locations"),
               "Datastreams@iot.navigationLink": self._link(f"Things({i})/Datastreams"),
               "HistoricalLocations@iot.navigationLink": self._link(f"Things({i})/HistoricalLocations"),
               "name": th["name"], "description": th["description"], "properties": th["properties"]}
        if "Locations" in expand:
            loc = dict(th["loc"])
            loc["@iot.selfLink"] = self._link(f"Locations({loc['@iot.id']})")
            out["Locations"] = [loc]
        return out

    def obs_json(self, o: dict[str, Any], expand: str) -> dict[str, Any]:
        i = o["@iot.id"]
        out = {"@iot.id": i, "@iot.selfLink": self._link(f"Observations({i})"),
               "FeatureOfInterest@iot.navigationLink": self._link(f"Observations({i})/FeatureOfInterest"),
               "Datastream@iot.navigationLink": self._link(f"Observations({i})/Datastream"),
               "phenomenonTime": o["phenomenonTime"], "resultTime": o["resultTime"], "result": o["result"]}
        if expand.startswith("Datastream"):
            out["Datastream"] = {"@iot.id": o["ds"]}
        return out

    def ds_json(self, ds: dict[str, Any], expand: str) -> dict[str, Any]:
        i = ds["@iot.id"]
        out = {k: v for k, v in ds.items() if k not in ("thing", "op")}
        out.update({"@iot.selfLink": self._link(f"Datastreams({i})"),
                    "Thing@iot.navigationLink": self._link(f"Datastreams({i})/Thing"),
                    "Sensor@iot.navigationLink": self._link(f"Datastreams({i})/Sensor"),
                    "ObservedProperty@iot.navigationLink": self._link(f"Datastreams({i})/ObservedProperty"),
                    "Observations@iot.navigationLink": self._link(f"Datastreams({i})/Observations")})
        if "Thing/Locations" in expand:
            out["Thing"] = self.thing_json(self.things[ds["thing"] - 1], "Locations")
        if "ObservedProperty" in expand:
            out["ObservedProperty"] = ds["op"]
        if "Observations($orderby=phenomenonTime desc;$top=1)" in expand:
            mine = [o for o in self.observations if o["ds"] == i]
            mine.sort(key=lambda o: o["phenomenonTime"], reverse=True)
            out["Observations"] = [self.obs_json(o, "") for o in mine[:1]]
        return out

    # ---------------------------------------------------------------- collections
    def collection(self, path: str, q: dict[str, str]) -> dict[str, Any] | None:
        expand = q.get("$expand", "")
        if path == "Things":
            items = [self.thing_json(t, expand) for t in self.things]
        elif path == "Locations":
            items = [dict(t["loc"], **{"@iot.selfLink": self._link(f"Locations({t['loc']['@iot.id']})")})
                     for t in self.things]
        elif path == "Datastreams":
            items = [self.ds_json(d, expand) for d in self.datastreams]
        elif path == "Observations" or (path.startswith("Datastreams(") and path.endswith(")/Observations")):
            obs = list(self.observations)
            if path != "Observations":
                ds = int(path[len("Datastreams("):path.index(")")])
                obs = [o for o in obs if o["ds"] == ds]
            f = q.get("$filter", "")
            if f:
                assert f.startswith("phenomenonTime gt "), f
                since = f[len("phenomenonTime gt "):]
                obs = [o for o in obs if o["phenomenonTime"] > since]
            if q.get("$orderby") == "phenomenonTime asc":
                obs.sort(key=lambda o: o["phenomenonTime"])
            items = [self.obs_json(o, expand) for o in obs]
        else:
            return None
        skip = int(q.get("$skip", 0))
        top = int(q.get("$top", 10**9))
        page = items[skip: skip + min(top, PAGE)]
        out: dict[str, Any] = {"@iot.count": len(items), "value": page}
        if skip + PAGE < min(len(items), top):
            nq = dict(q, **{"$skip": str(skip + PAGE)})
            out["@iot.nextLink"] = f"{self.base}/{path}?" + "&".join(f"{k}={v}" for k, v in nq.items())
        return out


class _Handler(BaseHTTPRequestHandler):
    sta: FakeSTA

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        u = urlsplit(self.path)
        self.sta.requests.append(unquote(self.path))
        q = {k: v[0] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        path = unquote(u.path)
        if not path.startswith("/v1.1/"):
            self.send_error(404)
            return
        body = self.sta.collection(path[len("/v1.1/"):], q)
        if body is None:
            self.send_error(404, "no such collection")
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a: Any) -> None:
        pass


@pytest.fixture
def sta() -> Iterator[FakeSTA]:
    fake = FakeSTA()
    handler = type("H", (_Handler,), {"sta": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.base = f"http://127.0.0.1:{server.server_address[1]}/v1.1"
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        th.join(5)


def test_things_with_locations_follow_next_link(sta: FakeSTA) -> None:
    client = SensorThingsClient(sta.base)
    things = client.things()
    assert [t.id for t in things] == ["1", "2", "3"]
    assert things[1].location is not None and (things[1].location.lon, things[1].location.lat) == (-114.1, 51.08)
    assert things[0].properties == {"owner": "City"}
    assert len(sta.requests) == 2  # 3 things, pages of 2
    assert "$expand=Locations" in sta.requests[0] and "$skip=2" in sta.requests[1]
    locs = client.locations()
    assert [(i, loc.name, loc.lon) for i, loc in locs] == [("100", "Site 1", -114.06), ("101", "Site 2", -114.1),
                                                          ("102", "Site 3", -113.99)]


def test_datastreams_with_thing_location_and_property(sta: FakeSTA) -> None:
    streams = SensorThingsClient(sta.base).datastreams()
    assert [d.id for d in streams] == ["1", "2", "3", "4", "5"]
    d = streams[4]
    assert (d.thing_id, d.observed_property.name, d.unit.symbol) == ("3", "temp", "°C")
    assert d.location is not None and d.location.lon == -113.99
    assert "$expand=Thing/Locations,ObservedProperty" in sta.requests[0]


def test_feed_bootstraps_latest_then_polls_newer(sta: FakeSTA) -> None:
    layer = SensorLayer()
    ingest = Ingest(layer)
    feed = SensorThingsFeed(SensorThingsClient(sta.base), ingest)
    assert feed.bootstrap() == 5
    ingest.drain()
    assert len(layer) == 5 and layer.placed.all()
    # no scene frame yet: positions are lon/lat; the Thing's Location reached the datastream
    np.testing.assert_allclose(layer.positions[layer.index["5"], :2], [-113.99, 51.02], atol=1e-4)
    vals, times = layer.latest_at(np.inf)
    for ds in sta.datastreams:
        newest = max((o for o in sta.observations if o["ds"] == ds["@iot.id"]), key=lambda o: o["phenomenonTime"])
        i = layer.index[str(ds["@iot.id"])]
        assert vals[i] == newest["result"]
        assert times[i] == datetime.fromisoformat(newest["phenomenonTime"]).timestamp()
    # new observations on the server: 2 hours for every datastream, and a bad one
    for h in (4, 5):
        for ds in sta.datastreams:
            sta.add(ds["@iot.id"], T0 + 3600 * h, 100.0 + ds["@iot.id"] + h)
    sta.add(2, T0 + 3600 * 5 + 60, "n/a")
    sta.requests.clear()
    assert feed.poll_once() == 11
    assert len(sta.requests) == 6  # 11 observations in pages of 2
    assert "$filter=phenomenonTime gt 2024-06-01T03:00:00.000Z" in sta.requests[0]
    assert "$expand=Datastream($select=id)" in sta.requests[0]
    ingest.drain()
    vals, _ = layer.latest_at(np.inf)
    assert [vals[layer.index[str(i)]] for i in range(1, 6)] == [106.0, 107.0, 108.0, 109.0, 110.0]
    _, t, v = layer.values_between(T0 + 3600 * 4, T0 + 3600 * 5, datastream=layer.index["3"])
    assert v.tolist() == [107.0, 108.0]
    assert ingest.diag.rejected == {"bad_type": 1}
    assert ingest.diag.accounted(0) and ingest.diag.received == 16
    assert feed.poll_once() == 0  # nothing newer


def test_http_failures_are_one_line_errors(sta: FakeSTA) -> None:
    client = SensorThingsClient(sta.base)
    with pytest.raises(CityTwinError, match="HTTP 404") as e:
        list(client.iter_entities("Sensors"))
    assert "\n" not in str(e.value)
    dead = SensorThingsClient("http://127.0.0.1:9/v1.1", timeout=2)
    with pytest.raises(CityTwinError):
        dead.datastreams()
    feed = SensorThingsFeed(dead, Ingest(SensorLayer()), interval=0.05, max_backoff=0.1)
    feed.start()
    try:
        import time

        end = time.monotonic() + 20
        while feed.state != "reconnecting" and time.monotonic() < end:
            time.sleep(0.02)
        assert feed.state == "reconnecting"
        assert "127.0.0.1:9" in feed.ingest.diag.last_error
    finally:
        feed.stop()


def test_feed_command_on_a_sensorthings_url(sta: FakeSTA) -> None:
    from citytwin.cli import feed as feed_cli

    p = argparse.ArgumentParser()
    feed_cli.add_parser(p.add_subparsers())
    args = p.parse_args(["feed", sta.base, "--seconds", "0.5", "--interval", "0.1", "--json"])
    out = io.StringIO()
    with redirect_stdout(out):
        rc = args.handler(args)
    d = json.loads(out.getvalue())
    assert rc == 0
    assert (d["received"], d["parsed"], d["rejected"], d["datastreams"]) == (5, 5, {}, 5)
    assert d["connection"] == "connected" and d["kind"] == "sensorthings"
