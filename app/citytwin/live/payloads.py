"""Pure payload parsers: bytes from a feed → one :class:`Reading`, or :class:`Rejected` with a reason.

Two shapes are understood:

- SensorThings Observation JSON (``{"phenomenonTime": "...", "result": 21.5}``) on
  ``v1.1/Datastreams(<id>)/Observations`` topics (the standard's MQTT extension), or
  carrying ``"Datastream": {"@iot.id": ...}`` itself;
- plain JSON described by a :class:`PlainMapping`: a topic pattern naming the sensor
  (``city/{id}/no2``) and JSON paths to the value, time and optional lat/lon.

Nothing here touches the network, threads or the layer; it runs in the network thread.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

# reasons a message or reading is refused (keys of the diagnostics counter)
MALFORMED_JSON = "malformed_json"
BAD_TYPE = "bad_type"
NON_FINITE = "non_finite"
MISSING_FIELD = "missing_field"
BAD_TIME = "bad_time"
FUTURE_TIME = "future_time"
OVERSIZE = "oversize"
UNKNOWN_TOPIC = "unknown_topic"
UNKNOWN_DATASTREAM = "unknown_datastream"
TOO_MANY_DATASTREAMS = "too_many_datastreams"
OUT_OF_ORDER = "out_of_order"
QUEUE_FULL = "queue_full"
BAD_LOCATION = "bad_location"

STA_TOPIC = re.compile(r"^(?:v1\.[01]/)?Datastreams\((?:'((?:[^']|'')*)'|([^)]*))\)/Observations$")


class Rejected(Exception):
    """A message that cannot become a reading; ``reason`` is one of the module's reason keys."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Reading(NamedTuple):
    """One observation: datastream id, phenomenonTime (epoch seconds) and numeric result.

    A NamedTuple, not a frozen dataclass: it is made once per message and tuples are
    several times cheaper to build.
    """

    datastream: str
    time: float
    value: float
    lon: float | None = None
    lat: float | None = None


# --------------------------------------------------------------------------- fields
def parse_time(x: Any) -> float:
    """Seconds since the epoch from ISO 8601 (``Z``/offset; naive = UTC), an interval
    ``start/end`` (its end), or a number (seconds; milliseconds if > 1e11)."""
    if isinstance(x, bool):
        raise Rejected(BAD_TIME, "boolean time")
    if isinstance(x, int | float):
        t = float(x)
        if not math.isfinite(t):
            raise Rejected(BAD_TIME, "non-finite time")
        return t / 1000.0 if abs(t) > 1e11 else t
    if not isinstance(x, str):
        raise Rejected(BAD_TIME, f"time of type {type(x).__name__}")
    s = x.strip()
    if "/" in s:
        s = s.rsplit("/", 1)[1]
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        raise Rejected(BAD_TIME, f"not ISO 8601: {x[:40]!r}") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def parse_number(x: Any) -> float:
    """A finite float from a JSON number; bool, str, null, list… are ``bad_type``."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise Rejected(BAD_TYPE, f"result of type {type(x).__name__}")
    v = float(x)
    if not math.isfinite(v):
        raise Rejected(NON_FINITE, str(v))
    return v


def loads(payload: bytes | str, max_bytes: int) -> Any:
    """Decode JSON, refusing payloads over ``max_bytes`` before parsing them."""
    if len(payload) > max_bytes:
        raise Rejected(OVERSIZE, f"{len(payload)} bytes > {max_bytes}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        # NaN/Infinity literals and overflowing numbers are not JSON, but common enough to
        # be told apart: the stdlib decoder reads them as floats, refused later as non-finite
        try:
            return json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Rejected(MALFORMED_JSON, str(exc)[:80]) from None


def compile_path(path: str) -> tuple[str | int, ...]:
    """``"a.b[0].c"`` or ``"a.b.0.c"`` → ``("a", "b", 0, "c")``."""
    keys: list[str | int] = []
    for part in path.replace("[", ".").replace("]", "").split("."):
        if part == "":
            continue
        keys.append(int(part) if part.lstrip("-").isdigit() else part)
    return tuple(keys)


_MISSING = object()


def get_path(obj: Any, keys: tuple[str | int, ...]) -> Any:
    """Follow ``keys`` into nested dicts/lists; a private sentinel when absent."""
    for k in keys:
        if isinstance(k, int):
            if not isinstance(obj, list) or not -len(obj) <= k < len(obj):
                return _MISSING
            obj = obj[k]
        else:
            if not isinstance(obj, dict) or k not in obj:
                return _MISSING
            obj = obj[k]
    return obj


# --------------------------------------------------------------------------- SensorThings
def sta_topic_id(topic: str) -> str | None:
    """Datastream id of a ``v1.1/Datastreams(<id>)/Observations`` topic (quotes removed)."""
    m = STA_TOPIC.match(topic)
    if m is None:
        return None
    return m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)


def observation_reading(obs: Any, datastream: str | None = None) -> Reading:
    """A :class:`Reading` from a decoded SensorThings Observation entity."""
    if not isinstance(obs, dict):
        raise Rejected(BAD_TYPE, f"observation is a {type(obs).__name__}")
    if datastream is None:
        ds = obs.get("Datastream")
        if isinstance(ds, dict) and "@iot.id" in ds:
            datastream = str(ds["@iot.id"])
        else:
            raise Rejected(MISSING_FIELD, "no datastream in topic or payload")
    if "result" not in obs:
        raise Rejected(MISSING_FIELD, "result")
    value = parse_number(obs["result"])
    t = obs.get("phenomenonTime", obs.get("resultTime"))
    if t is None:
        raise Rejected(MISSING_FIELD, "phenomenonTime")
    return Reading(datastream, parse_time(t), value)


# --------------------------------------------------------------------------- plain JSON
@dataclass
class PlainMapping:
    """How to read plain JSON messages.

    Parameters
    ----------
    topic
        MQTT topic pattern; ``{name}`` captures one level, ``+``/``#`` as in MQTT,
        e.g. ``"city/{id}/air"``.
    sensor
        Datastream id template filled from the captures (``"{id}"``), used when
        ``id_path`` is empty.
    value, time, id_path, lat, lon
        Dotted JSON paths (``"data.no2"``, ``"readings[0].v"``). ``time`` empty: the
        time the message arrived.
    observed_property, unit
        Given to datastreams this mapping creates.
    """

    topic: str
    value: str
    sensor: str = "{id}"
    time: str = ""
    id_path: str = ""
    lat: str = ""
    lon: str = ""
    observed_property: str = ""
    unit: str = ""
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _paths: dict[str, tuple[str | int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = []
        levels = self.topic.split("/")
        for i, lv in enumerate(levels):
            m = re.fullmatch(r"\{(\w+)\}", lv)
            if m:
                parts.append(f"(?P<{m.group(1)}>[^/]*)")
            elif lv == "+":
                parts.append("[^/]*")
            elif lv == "#" and i == len(levels) - 1:
                parts.append(".*")
            else:
                parts.append(re.escape(lv))
        self._regex = re.compile("^" + "/".join(parts) + "$")
        self._paths = {k: compile_path(getattr(self, k)) for k in ("value", "time", "id_path", "lat", "lon")}

    @property
    def subscription(self) -> str:
        """The MQTT topic filter to subscribe to."""
        return re.sub(r"\{\w+\}", "+", self.topic)

    def match(self, topic: str) -> dict[str, str] | None:
        m = self._regex.match(topic)
        return None if m is None else m.groupdict()

    def reading(self, caps: dict[str, str], doc: Any, arrived: float) -> Reading:
        """A :class:`Reading` from a decoded document whose topic gave ``caps``."""
        p = self._paths
        if p["id_path"]:
            sid = get_path(doc, p["id_path"])
            if sid is _MISSING or isinstance(sid, dict | list) or sid is None:
                raise Rejected(MISSING_FIELD, self.id_path)
            sid = str(sid)
        else:
            try:
                sid = self.sensor.format(**caps)
            except (KeyError, IndexError, ValueError):
                raise Rejected(MISSING_FIELD, f"sensor template {self.sensor!r}") from None
        if not sid:
            raise Rejected(MISSING_FIELD, "empty sensor id")
        v = get_path(doc, p["value"])
        if v is _MISSING:
            raise Rejected(MISSING_FIELD, self.value)
        value = parse_number(v)
        if p["time"]:
            tv = get_path(doc, p["time"])
            if tv is _MISSING:
                raise Rejected(MISSING_FIELD, self.time)
            t = parse_time(tv)
        else:
            t = arrived
        lon = lat = None
        if p["lat"] and p["lon"]:
            la, lo = get_path(doc, p["lat"]), get_path(doc, p["lon"])
            if la is not _MISSING and lo is not _MISSING:
                try:
                    lat, lon = parse_number(la), parse_number(lo)
                except Rejected:
                    raise Rejected(BAD_LOCATION, "lat/lon not numbers") from None
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise Rejected(BAD_LOCATION, f"{lat}, {lon}")
        return Reading(sid, t, value, lon, lat)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_") and v != ""}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlainMapping:
        keys = ("topic", "value", "sensor", "time", "id_path", "lat", "lon", "observed_property", "unit")
        return cls(**{k: str(d[k]) for k in keys if k in d and d[k] is not None})


# --------------------------------------------------------------------------- dispatcher
class PayloadParser:
    """Topic + bytes → :class:`Reading`: SensorThings topics first, then the plain mappings in order.

    Parameters
    ----------
    mappings
        Plain JSON mappings tried for topics that are not SensorThings topics.
    max_bytes
        Larger payloads are refused as ``oversize`` without being decoded.
    """

    def __init__(self, mappings: list[PlainMapping] | None = None, max_bytes: int = 65_536,
                 topic_cache: int = 200_000) -> None:
        self.mappings = list(mappings or [])
        self.max_bytes = int(max_bytes)
        # topic → how to read it; topics repeat (one per sensor), regexes need not
        self._routes: dict[str, tuple[str | None, PlainMapping | None, dict[str, str] | None]] = {}
        self._cache_size = int(topic_cache)

    def _route(self, topic: str) -> tuple[str | None, PlainMapping | None, dict[str, str] | None]:
        r = self._routes.get(topic)
        if r is not None:
            return r
        ds = sta_topic_id(topic) if topic.endswith("/Observations") else None
        route: tuple[str | None, PlainMapping | None, dict[str, str] | None] = (ds, None, None)
        if ds is None:
            for m in self.mappings:
                caps = m.match(topic)
                if caps is not None:
                    route = (None, m, caps)
                    break
        if len(self._routes) >= self._cache_size:  # a flood of distinct topics: start over
            self._routes.clear()
        self._routes[topic] = route
        return route

    def parse(self, topic: str, payload: bytes | str, arrived: float) -> Reading:
        """Parse one message; raises :class:`Rejected` with the reason.

        An empty topic means "SensorThings Observation carrying its Datastream".
        """
        if not topic:
            return observation_reading(loads(payload, self.max_bytes), None)
        ds, m, caps = self._route(topic)
        if ds is not None:
            return observation_reading(loads(payload, self.max_bytes), ds)
        if m is not None and caps is not None:
            return m.reading(caps, loads(payload, self.max_bytes), arrived)
        raise Rejected(UNKNOWN_TOPIC, topic[:80])

    def mapping_for(self, datastream: str, topic: str) -> PlainMapping | None:
        """The mapping that read ``topic`` (to name a new datastream's property and unit)."""
        return self._route(topic)[1] if topic else None
