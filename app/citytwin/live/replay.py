"""Replay of recorded observations (CSV, JSON, JSON lines) on a :class:`~citytwin.model.clock.SceneClock`.

Files
-----
CSV
    One row per observation. Columns are found by name (override any of them):
    time ``phenomenonTime|date.utc|time|timestamp|datetime|date``, sensor
    ``datastream|location|sensor|station|id``, value ``result|value``, optional
    property ``parameter|observed_property|property``, unit ``unit``, and
    ``lat``/``lon`` columns. With a property column the datastream id is
    ``"<sensor>/<property>"`` (the sensor is the Thing). A ``building`` column
    attaches the sensor to that building (by object id). Station coordinates may
    come from a second CSV joined on the sensor column (OpenAQ's
    ``air_quality_stations.csv`` is found next to the file by itself).
JSON
    ``{"datastreams": [...], "observations": [...]}`` or a list of observations;
    JSON lines: one observation per line. An observation is SensorThings-shaped:
    ``{"datastream": id | {"@iot.id": id}, "phenomenonTime": ..., "result": ...}``.
    A datastream: ``{"id", "name", "observedProperty", "unit", "location":
    GeoJSON point | {"building": id}}``.

Bad rows are counted in the :class:`~citytwin.core.errors.LoadReport` and skipped.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from ..core.errors import LoadReport, ReaderError
from ..model.clock import SceneClock
from ..model.sensors import (
    Datastream,
    Location,
    ObservedProperty,
    Threshold,
    UnitOfMeasurement,
    declared_range,
)
from .ingest import Ingest
from .payloads import Rejected, parse_number, parse_time

log = logging.getLogger(__name__)

TIME_COLS = ("phenomenonTime", "phenomenon_time", "date.utc", "time", "timestamp", "datetime", "date")
ID_COLS = ("datastream", "location", "sensor", "station", "sensor_id", "id")
VALUE_COLS = ("result", "value")
PROP_COLS = ("parameter", "observed_property", "observedProperty", "property")
UNIT_COLS = ("unit", "units")
LAT_COLS = ("lat", "latitude", "coordinates.latitude", "y")
LON_COLS = ("lon", "lng", "longitude", "coordinates.longitude", "x")
BUILDING_COLS = ("building", "building_id", "buildingId")


@dataclass
class ReplayData:
    """Observations sorted by time: ``stream`` indexes ``datastreams``."""

    datastreams: list[Datastream]
    stream: NDArray[np.int64]
    times: NDArray[np.float64]
    values: NDArray[np.float64]
    report: LoadReport = field(default_factory=LoadReport)
    thresholds: list[Threshold] = field(default_factory=list)

    @property
    def ids(self) -> NDArray[Any]:
        """Datastream id of every observation."""
        return np.asarray([d.id for d in self.datastreams], dtype=object)[self.stream]

    @property
    def span(self) -> tuple[float, float]:
        if len(self.times) == 0:
            return (math.nan, math.nan)
        return float(self.times[0]), float(self.times[-1])


def _pick(header: Sequence[str], wanted: str | None, choices: Sequence[str], path: Path,
          what: str, required: bool = True) -> str | None:
    if wanted:
        if wanted not in header:
            raise ReaderError(path, f"no column {wanted!r} (columns: {', '.join(header)})")
        return wanted
    low = {h.lower(): h for h in header}
    for c in choices:
        if c.lower() in low:
            return low[c.lower()]
    if required:
        raise ReaderError(path, f"no {what} column (looked for {', '.join(choices)})")
    return None


def load_stations(path: str | Path, id_col: str | None = None) -> dict[str, Location]:
    """Station id → WGS84 :class:`Location` from a CSV; the first row of a repeated id wins."""
    p = Path(path)
    out: dict[str, Location] = {}
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            rd = csv.DictReader(f)
            header = rd.fieldnames or []
            ic = _pick(header, id_col, ID_COLS, p, "station id")
            la = _pick(header, None, LAT_COLS, p, "latitude")
            lo = _pick(header, None, LON_COLS, p, "longitude")
            for row in rd:
                sid = row.get(ic or "")
                if not sid or sid in out:
                    continue
                try:
                    out[sid] = Location.from_geojson(
                        {"type": "Point", "coordinates": [float(row[lo or ""]), float(row[la or ""])]},
                        name=sid)
                except (TypeError, ValueError):
                    continue
    except OSError as exc:
        raise ReaderError(p, f"cannot read stations file: {exc.strerror or exc}") from exc
    return out


def _finish(path: Path, streams: dict[str, Datastream], rows: list[tuple[str, float, float]],
            report: LoadReport) -> ReplayData:
    if not rows and not streams:
        raise ReaderError(path, "no observations")
    ds_list = list(streams.values())
    index = {d.id: i for i, d in enumerate(ds_list)}
    stream = np.fromiter((index[r[0]] for r in rows), dtype=np.int64, count=len(rows))
    times = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    values = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    order = np.lexsort((stream, times))
    stream, times, values = stream[order], times[order], values[order]
    # the same datastream twice at the same time: keep the first row of the file
    dup = np.zeros(len(times), dtype=bool)
    if len(times) > 1:
        key_same = (stream[1:] == stream[:-1]) & (times[1:] == times[:-1])
        dup[1:] = key_same
    if dup.any():
        report.warn("duplicate-observation", f"{int(dup.sum())} repeated datastream/time pairs", int(dup.sum()))
        stream, times, values = stream[~dup], times[~dup], values[~dup]
    return ReplayData(ds_list, stream, times, values, report)


def load_csv(path: str | Path, *, stations: str | Path | None = None, time_col: str | None = None,
             id_col: str | None = None, value_col: str | None = None, property_col: str | None = None,
             ) -> ReplayData:
    """Read a CSV of observations (see the module notes for the columns)."""
    p = Path(path)
    report = LoadReport(str(p))
    if stations is None:
        sib = sorted(p.parent.glob("*stations*.csv"))
        stations = sib[0] if sib else None
    places = load_stations(stations) if stations else {}
    streams: dict[str, Datastream] = {}
    rows: list[tuple[str, float, float]] = []
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            rd = csv.DictReader(f)
            header = rd.fieldnames or []
            tc = _pick(header, time_col, TIME_COLS, p, "time")
            ic = _pick(header, id_col, ID_COLS, p, "sensor id")
            vc = _pick(header, value_col, VALUE_COLS, p, "value")
            pc = _pick(header, property_col, PROP_COLS, p, "property", required=False)
            uc = _pick(header, None, UNIT_COLS, p, "unit", required=False)
            la = _pick(header, None, LAT_COLS, p, "latitude", required=False)
            lo = _pick(header, None, LON_COLS, p, "longitude", required=False)
            bc = _pick(header, None, BUILDING_COLS, p, "building", required=False)
            for n, row in enumerate(rd, start=2):
                sensor = row.get(ic or "") or ""
                if not sensor:
                    report.warn("missing-sensor", f"line {n}")
                    continue
                prop = (row.get(pc) or "") if pc else ""
                ds_id = f"{sensor}/{prop}" if prop else sensor
                try:
                    t = parse_time(row.get(tc or "") or "")
                    v = parse_number(float(row.get(vc or "") or "nan"))
                except (Rejected, ValueError) as exc:
                    reason = exc.reason if isinstance(exc, Rejected) else "bad_type"
                    report.warn(reason, f"line {n}")
                    continue
                if ds_id not in streams:
                    loc = places.get(sensor)
                    if loc is None and la and lo:
                        try:
                            loc = Location.from_geojson({"type": "Point", "coordinates": [
                                float(row[lo]), float(row[la])]}, name=sensor)
                        except (TypeError, ValueError):
                            loc = None
                    building = (row.get(bc) or "").strip() if bc else ""
                    if building:  # on that building's roof; the point (if any) stays the fallback
                        loc = loc or Location(name=sensor)
                        loc.building_id = building
                    if loc is None:
                        report.warn("no-location", sensor)
                    unit = (row.get(uc) or "") if uc else ""
                    streams[ds_id] = Datastream(
                        id=ds_id, name=f"{sensor} {prop}".strip(), thing_id=sensor, location=loc,
                        observed_property=ObservedProperty(prop), unit=UnitOfMeasurement(unit, unit))
                rows.append((ds_id, t, v))
    except OSError as exc:
        raise ReaderError(p, exc.strerror or str(exc)) from exc
    except csv.Error as exc:
        raise ReaderError(p, f"bad CSV: {exc}") from exc
    return _finish(p, streams, rows, report)


def _datastream_from_json(d: dict[str, Any]) -> Datastream:
    ds_id = str(d.get("id", d.get("@iot.id", "")))
    if not ds_id:
        raise ValueError("datastream without id")
    loc = None
    geo = d.get("location")
    if isinstance(geo, dict):
        if "building" in geo:
            loc = Location(building_id=str(geo["building"]))
            if "coordinates" in geo:
                pt = Location.from_geojson({"type": "Point", "coordinates": geo["coordinates"]})
                loc.lon, loc.lat, loc.height = pt.lon, pt.lat, pt.height
        else:
            loc = Location.from_geojson(geo)
    op = d.get("observedProperty") or d.get("ObservedProperty") or ""
    op_meta = op.get("properties") if isinstance(op, dict) else None
    op = ObservedProperty(str(op.get("name", "")) if isinstance(op, dict) else str(op))
    u = d.get("unit") or d.get("unitOfMeasurement") or ""
    unit = (UnitOfMeasurement(str(u.get("name", "")), str(u.get("symbol", "")), str(u.get("definition", "")))
            if isinstance(u, dict) else UnitOfMeasurement(str(u), str(u)))
    return Datastream(id=ds_id, name=str(d.get("name", ds_id)), observed_property=op, unit=unit,
                      thing_id=d.get("thing"), location=loc,
                      value_range=declared_range(d.get("properties"), op_meta, d, u))


def load_json(path: str | Path) -> ReplayData:
    """Read a JSON or JSON-lines file of observations (see the module notes)."""
    p = Path(path)
    report = LoadReport(str(p))
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ReaderError(p, exc.strerror or str(exc)) from exc
    decl: list[Any] = []
    thresholds: list[Threshold] = []
    try:
        doc = orjson.loads(raw)
        if isinstance(doc, dict):
            decl = doc.get("datastreams") or []
            for th in doc.get("thresholds") or []:
                try:
                    thresholds.append(Threshold.from_dict(th))
                except (TypeError, ValueError, AttributeError):
                    report.warn("bad-threshold", str(th)[:60])
            obs = doc.get("observations") or doc.get("value") or []
        elif isinstance(doc, list):
            obs = doc
        else:
            raise ReaderError(p, "JSON is neither an object nor a list")
    except orjson.JSONDecodeError:
        obs = []
        for n, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obs.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                report.warn("malformed_json", f"line {n}")
        if not obs:
            raise ReaderError(p, "not JSON and no JSON lines") from None
    streams: dict[str, Datastream] = {}
    for d in decl:
        try:
            ds = _datastream_from_json(d)
            streams[ds.id] = ds
        except (ValueError, TypeError, AttributeError) as exc:
            report.warn("bad-datastream", str(exc))
    rows: list[tuple[str, float, float]] = []
    for o in obs:
        if not isinstance(o, dict):
            report.warn("bad_type", "observation is not an object")
            continue
        ref = o.get("datastream", o.get("Datastream"))
        if isinstance(ref, dict):
            ref = ref.get("@iot.id", ref.get("id"))
        if ref is None:
            report.warn("missing_field", "observation without datastream")
            continue
        ds_id = str(ref)
        try:
            t = parse_time(o.get("phenomenonTime", o.get("time")))
            v = parse_number(o.get("result", o.get("value")))
        except Rejected as exc:
            report.warn(exc.reason, ds_id)
            continue
        if ds_id not in streams:
            streams[ds_id] = Datastream(id=ds_id, name=ds_id)
        rows.append((ds_id, t, v))
    data = _finish(p, streams, rows, report)
    data.thresholds = thresholds
    return data


def load_replay(path: str | Path, **kw: Any) -> ReplayData:
    """CSV by suffix (``.csv``/``.txt``), JSON/JSON lines otherwise."""
    p = Path(path)
    if not p.exists():
        raise ReaderError(p, "no such file")
    if p.suffix.lower() in (".csv", ".txt", ".tsv"):
        return load_csv(p, **kw)
    return load_json(p)


class ReplayFeed:
    """Pushes recorded observations into an :class:`Ingest` as a :class:`SceneClock` passes them.

    Call :meth:`poll` once per frame (before ``ingest.drain()``). Scrubbing back
    pushes nothing: the readings are already in the layer's history, which answers
    any time. Scrubbing forward pushes everything in between at once.

    With ``loop`` the clock wraps from the end of the recording back to its start
    (:attr:`SceneClock.loop`, over :attr:`loop_bounds`); at each wrap the feed's
    datastreams are emptied and the recording is pushed again from the start, so
    values, alerts and charts come back as they were the first time round.

    The whole recording's values are handed to the layer up front
    (:meth:`SensorLayer.expect_values`): its colour range is fixed from the first frame.
    """

    def __init__(self, data: ReplayData, ingest: Ingest, clock: SceneClock | None = None,
                 loop: bool = False) -> None:
        self.data = data
        self.ingest = ingest
        self.loop = bool(loop)
        t0, t1 = self.bounds
        self.clock = clock or SceneClock(start=t0 if math.isfinite(t0) else None,
                                         bounds=(t0, t1) if math.isfinite(t0) else None)
        if self.loop and clock is None:
            self.clock.loop = True
        self._pos = 0  # observations [0, _pos) have been pushed
        self._wraps = self.clock.wraps
        self._feed_idx = np.asarray(ingest.register(data.datastreams), dtype=np.int64)
        layer = ingest.layer
        if layer is not None and len(data.times):
            ingest.drain()  # hands the datastreams to the layer now (no readings yet)
            rows = np.asarray([layer.index[d.id] for d in data.datastreams], dtype=np.int64)
            layer.expect_values(rows[data.stream], data.values)

    @property
    def loop_bounds(self) -> tuple[float, float]:
        """Clock bounds of one lap: the recording plus one typical step after its last reading
        (so that the last values are shown as long as the others before the wrap)."""
        t0, t1 = self.data.span
        if not math.isfinite(t0):
            return (t0, t1)
        u = np.unique(self.data.times)
        step = float(np.median(np.diff(u))) if len(u) > 1 else 1.0
        return (t0, t1 + step)

    @property
    def bounds(self) -> tuple[float, float]:
        """The clock bounds this replay needs: :attr:`loop_bounds` when looping, else its span."""
        return self.loop_bounds if self.loop else self.data.span

    @property
    def done(self) -> bool:
        return not self.loop and self._pos >= len(self.data.times)

    def poll(self, t: float | None = None) -> int:
        """Push every observation with time <= ``t`` (default: the clock) not pushed yet."""
        now = self.clock.time() if t is None else float(t)
        if self.loop and self.clock.wraps != self._wraps:
            self._wraps = self.clock.wraps
            self._restart()
        end = int(np.searchsorted(self.data.times, now, side="right"))
        if end <= self._pos:
            return 0
        sl = slice(self._pos, end)
        self.ingest.put_indexed(self._feed_idx[self.data.stream[sl]], self.data.times[sl], self.data.values[sl])
        n = end - self._pos
        self._pos = end
        return n

    def _restart(self) -> None:
        """A new lap: drop what is queued and stored of this recording, push again from its start."""
        self.ingest.drain()  # readings of the last lap still queued go in before the history is emptied
        layer = self.ingest.layer
        if layer is not None:
            layer.clear_history(np.asarray([layer.index[d.id] for d in self.data.datastreams], dtype=np.int64))
        self._pos = 0
