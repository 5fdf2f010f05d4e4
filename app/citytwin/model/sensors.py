"""Sensor layer model shaped like OGC SensorThings API 1.1 (pure: no Qt, no VTK, no network).

Entities (a subset of the standard's, with its names): a :class:`Thing` has
:class:`Location` s; a :class:`Datastream` belongs to a Thing and has an
:class:`ObservedProperty` and a :class:`UnitOfMeasurement`; Observations
(``phenomenonTime``, ``result``) are not objects here but rows of numpy arrays in a
:class:`~citytwin.model.history.RingHistory`.

:class:`SensorLayer` is what the viewer draws: datastreams indexed ``0..n-1``,
float32 positions in the scene CRS (origin subtracted), the bounded history,
thresholds and the alert list. Everything that changes per frame is applied with
one vectorised :meth:`SensorLayer.apply` call on arrays of (datastream index,
time, value).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from ..core.crs import transform_xy
from .history import RingHistory
from .sensor_spec import SensorLayerSpec, Threshold, default_styling

WGS84 = CRS.from_epsg(4326)


# --------------------------------------------------------------------------- entities
@dataclass
class UnitOfMeasurement:
    """SensorThings ``unitOfMeasurement`` (``name``, ``symbol``, ``definition``)."""

    name: str = ""
    symbol: str = ""
    definition: str = ""


@dataclass
class ObservedProperty:
    """SensorThings ObservedProperty; ``name`` is the key thresholds use (e.g. ``no2``)."""

    name: str
    definition: str = ""
    description: str = ""


@dataclass
class Location:
    """A GeoJSON point in WGS84 (``lon``, ``lat``, optional height) or a building id.

    When ``building_id`` is set and the scene has that building, the sensor is put
    on its roof centre; the point (if any) is the fallback.
    """

    lon: float = math.nan
    lat: float = math.nan
    height: float = 0.0
    building_id: str | None = None
    name: str = ""

    @classmethod
    def from_geojson(cls, geom: dict[str, Any], name: str = "") -> Location:
        """From a GeoJSON ``Point`` (or a Feature holding one); raises ValueError otherwise."""
        if geom.get("type") == "Feature":
            geom = geom.get("geometry") or {}
        if geom.get("type") != "Point":
            raise ValueError(f"location is not a GeoJSON Point: {geom.get('type')!r}")
        c = geom.get("coordinates")
        if not isinstance(c, list | tuple) or len(c) < 2:
            raise ValueError("Point without coordinates")
        lon, lat = float(c[0]), float(c[1])
        h = float(c[2]) if len(c) > 2 and c[2] is not None else 0.0
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"coordinates out of range: {lon}, {lat}")
        return cls(lon=lon, lat=lat, height=h, name=name)

    @property
    def has_point(self) -> bool:
        return math.isfinite(self.lon) and math.isfinite(self.lat)


@dataclass
class Thing:
    """SensorThings Thing: the station or device carrying datastreams."""

    id: str
    name: str = ""
    description: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None


@dataclass
class Datastream:
    """SensorThings Datastream: one time series of one property at one place."""

    id: str
    name: str = ""
    observed_property: ObservedProperty = field(default_factory=lambda: ObservedProperty(""))
    unit: UnitOfMeasurement = field(default_factory=UnitOfMeasurement)
    thing_id: str | None = None
    location: Location | None = None
    value_range: tuple[float, float] | None = None  # declared by the source's metadata (colour range)


_RANGE_KEYS = ("range", "valueRange", "value_range", "displayRange", "display_range")


def declared_range(*metadata: Any) -> tuple[float, float] | None:
    """A value range stated in SensorThings metadata, or None.

    Looks, in order, through the given dicts (a Datastream's or ObservedProperty's
    ``properties``, its ``unitOfMeasurement``, the entity itself) for ``range`` /
    ``valueRange`` / ``displayRange`` as ``[min, max]`` or ``{"min", "max"}``, or for
    ``min``/``max`` (``minimum``/``maximum``) side by side. The standard has no such
    field: these are the forms servers put into ``properties``.
    """
    def pair(a: Any, b: Any) -> tuple[float, float] | None:
        try:
            lo, hi = float(a), float(b)
        except (TypeError, ValueError):
            return None
        return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) and hi > lo else None

    for d in metadata:
        if not isinstance(d, dict):
            continue
        for k in _RANGE_KEYS:
            r = d.get(k)
            if isinstance(r, list | tuple) and len(r) == 2:
                got = pair(*r)
            elif isinstance(r, dict):
                got = pair(r.get("min", r.get("minimum")), r.get("max", r.get("maximum")))
            else:
                continue
            if got:
                return got
        got = pair(d.get("min", d.get("minimum")), d.get("max", d.get("maximum")))
        if got:
            return got
    return None


# --------------------------------------------------------------------------- thresholds / alerts
@dataclass(frozen=True)
class Alert:
    """A datastream entered the alert state: first reading beyond its threshold."""

    datastream: int  # index in the layer
    datastream_id: str
    observed_property: str
    time: float  # phenomenonTime, seconds since the epoch
    value: float
    limit: float
    kind: str  # "above", "below" or "stale" (then ``limit`` is the silence period, ``time`` the check time)


@dataclass
class Update:
    """What one :meth:`SensorLayer.apply` changed (for the render adapter and docks)."""

    changed: NDArray[np.int64]  # datastream indices with at least one new reading
    stored: int
    out_of_order: int
    unknown: int
    alerts: list[Alert]


# --------------------------------------------------------------------------- layer
class SensorLayer:
    """Datastreams, their scene positions, bounded history, thresholds and alerts.

    Parameters
    ----------
    capacity
        History slots per datastream.
    max_alerts
        Length of the alert list (oldest dropped).
    name
        Layer name shown in the viewer.
    """

    def __init__(self, capacity: int = 256, max_alerts: int = 10_000, name: str = "sensors") -> None:
        self.name = name
        self.datastreams: list[Datastream] = []
        self.index: dict[str, int] = {}
        self.history = RingHistory(0, capacity)
        self.positions: NDArray[np.float32] = np.zeros((0, 3), dtype=np.float32)
        self.placed: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self.thresholds: list[Threshold] = []
        self._hi = np.zeros(0)
        self._lo = np.zeros(0)
        self._alerting = np.zeros(0, dtype=bool)
        self._stale_state = np.zeros(0, dtype=bool)
        self.alerts: deque[Alert] = deque(maxlen=max_alerts)
        self.alerts_total = 0
        self.version = 0  # bumped by every change a view must redraw
        self.streams_version = 0  # bumped when datastreams are added or their metadata change
        self._by_property: tuple[int, dict[str, NDArray[np.int64]]] = (-1, {})
        self._crs: CRS | None = None
        self._origin = np.zeros(3)
        self._building_xyz: Callable[[Sequence[str]], NDArray[np.float64]] | None = None
        # per datastream, the smallest and largest value seen or expected (NaN: none); they only
        # grow, so a colour range made from them never shrinks or moves back and forth
        self._seen_lo = np.zeros(0)
        self._seen_hi = np.zeros(0)

    # ---------------------------------------------------------------- datastreams
    def _property_index(self) -> dict[str, NDArray[np.int64]]:
        """Observed property name (``"value"`` when unnamed) -> its datastream indices, in the
        order properties are first seen; rebuilt only when datastreams change (views ask
        every frame)."""
        if self._by_property[0] != self.streams_version:
            rows: dict[str, list[int]] = {}
            for i, ds in enumerate(self.datastreams):
                rows.setdefault(ds.observed_property.name or "value", []).append(i)
            self._by_property = (self.streams_version,
                                 {k: np.asarray(v, dtype=np.int64) for k, v in rows.items()})
        return self._by_property[1]

    def properties(self) -> list[str]:
        """Observed property names, first seen first."""
        return list(self._property_index())

    def property_rows(self, prop: str) -> NDArray[np.int64]:
        """Indices of the datastreams observing ``prop`` (empty if none)."""
        return self._property_index().get(prop, np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.datastreams)

    def add_datastreams(self, streams: Iterable[Datastream]) -> NDArray[np.int64]:
        """Register datastreams (an id seen before updates its metadata); returns their indices."""
        out = []
        new: list[int] = []
        for ds in streams:
            i = self.index.get(ds.id)
            if i is None:
                i = len(self.datastreams)
                self.index[ds.id] = i
                self.datastreams.append(ds)
                new.append(i)
            else:
                self.datastreams[i] = ds
                new.append(i)
            out.append(i)
        n = len(self.datastreams)
        self.history.ensure_rows(n)
        if len(self.positions) < n:
            pad = n - len(self.positions)
            self.positions = np.concatenate([self.positions, np.full((pad, 3), np.nan, np.float32)])
            self.placed = np.concatenate([self.placed, np.zeros(pad, bool)])
            self._alerting = np.concatenate([self._alerting, np.zeros(pad, bool)])
        if len(self._seen_lo) < n:
            pad = n - len(self._seen_lo)
            self._seen_lo = np.concatenate([self._seen_lo, np.full(pad, np.nan)])
            self._seen_hi = np.concatenate([self._seen_hi, np.full(pad, np.nan)])
        if new:
            self._place(np.asarray(new, dtype=np.int64))
            self._rebuild_limits()
            self.version += 1
            self.streams_version += 1
        return np.asarray(out, dtype=np.int64)

    def ensure(self, ids: Sequence[str]) -> NDArray[np.int64]:
        """Indices of ``ids``, registering bare datastreams for ids not seen yet."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.index]
        if missing:
            self.add_datastreams(Datastream(id=i, name=i) for i in missing)
        return np.fromiter((self.index[i] for i in ids), dtype=np.int64, count=len(ids))

    # ---------------------------------------------------------------- positions
    def set_frame(self, crs: CRS | None, origin: Sequence[float] | NDArray[np.float64],
                  building_xyz: Callable[[Sequence[str]], NDArray[np.float64]] | None = None) -> None:
        """Put every datastream into the scene CRS with ``origin`` subtracted.

        Parameters
        ----------
        crs
            Scene CRS (``None``: keep lon/lat degrees, for scenes without a CRS).
        origin
            float64 scene origin subtracted from the projected positions.
        building_xyz
            Optional resolver: building ids → ``(N, 3)`` world coordinates (NaN if
            unknown), e.g. :func:`building_anchors` bound to a city model.
        """
        self._crs = crs
        self._origin = np.asarray(origin, dtype=np.float64).reshape(3)
        self._building_xyz = building_xyz
        self._place(np.arange(len(self.datastreams), dtype=np.int64))
        self.version += 1

    def _place(self, idx: NDArray[np.int64]) -> None:
        if len(idx) == 0:
            return
        locs = [self.datastreams[i].location for i in idx]
        world = np.full((len(idx), 3), np.nan)
        pts = np.array([(loc.lon, loc.lat, loc.height) if loc is not None and loc.has_point
                        else (np.nan, np.nan, np.nan) for loc in locs], dtype=np.float64).reshape(-1, 3)
        ok = np.isfinite(pts[:, 0])
        if ok.any():
            if self._crs is not None:
                world[ok] = transform_xy(pts[ok], WGS84, self._crs)
            else:
                world[ok] = pts[ok]
        if self._building_xyz is not None:
            bi = [k for k, loc in enumerate(locs) if loc is not None and loc.building_id]
            if bi:
                xyz = np.asarray(self._building_xyz([locs[k].building_id for k in bi]), dtype=np.float64)
                found = np.isfinite(xyz).all(axis=1)
                world[np.asarray(bi)[found]] = xyz[found]
        good = np.isfinite(world).all(axis=1)
        self.positions[idx] = (world - self._origin).astype(np.float32)
        self.placed[idx] = good

    # ---------------------------------------------------------------- thresholds
    def set_thresholds(self, thresholds: Iterable[Threshold]) -> None:
        """Replace the thresholds (keyed by observed property name, case-insensitive)."""
        self.thresholds = list(thresholds)
        self._rebuild_limits()
        self._alerting[:] = False

    def _rebuild_limits(self) -> None:
        n = len(self.datastreams)
        self._hi = np.full(n, np.inf)
        self._lo = np.full(n, -np.inf)
        by_prop: dict[str, Threshold] = {t.observed_property.lower(): t for t in self.thresholds}
        for i, ds in enumerate(self.datastreams):
            th = by_prop.get(ds.observed_property.name.lower())
            if th is not None:
                if th.above is not None:
                    self._hi[i] = th.above
                if th.below is not None:
                    self._lo[i] = th.below

    # ---------------------------------------------------------------- updates
    def apply(self, idx: NDArray[np.int64], times: NDArray[np.float64],
              values: NDArray[np.float64]) -> Update:
        """Write one batch of readings (one vectorised update per frame).

        Readings for unknown indices or older than a datastream's newest stored
        reading are refused and counted in the returned :class:`Update`.
        """
        idx = np.asarray(idx, dtype=np.int64)
        times = np.asarray(times, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        n_ds = len(self.datastreams)
        known = (idx >= 0) & (idx < n_ds)
        unknown = int((~known).sum())
        if unknown:
            idx, times, values = idx[known], times[known], values[known]
        ok = self.history.append(idx, times, values)
        idx, times, values = idx[ok], times[ok], values[ok]
        self.expect_values(idx, values)
        alerts = self._check_alerts(idx, times, values)
        changed = np.unique(idx)
        if len(changed):
            self.version += 1
        return Update(changed=changed, stored=int(ok.sum()), out_of_order=int((~ok).sum()),
                      unknown=unknown, alerts=alerts)

    def expect_values(self, idx: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        """Widen the value span of datastreams ``idx`` by ``values`` (non-finite ones ignored).

        :meth:`apply` calls it with every stored reading; a replay calls it once with the
        whole file, so that its colour range is known before the clock reaches the values.
        """
        idx = np.asarray(idx, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        fin = np.isfinite(values) & (idx >= 0) & (idx < len(self._seen_lo))
        if fin.any():
            np.fmin.at(self._seen_lo, idx[fin], values[fin])
            np.fmax.at(self._seen_hi, idx[fin], values[fin])

    def value_range(self, rows: NDArray[np.int64]) -> tuple[float, float]:
        """Fixed colour range of datastreams ``rows`` (one observed property).

        The range their metadata declares (:attr:`Datastream.value_range`) if any does; else
        the span of their thresholds and of every value seen so far (or expected, see
        :meth:`expect_values`). It never shrinks: a replay's is fixed from the start, a live
        feed's only widens when a reading falls outside it. ``(0, 1)`` when nothing is known.
        """
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < len(self.datastreams))]
        declared = [self.datastreams[int(i)].value_range for i in rows]
        spans = [r for r in declared if r is not None and math.isfinite(r[0]) and math.isfinite(r[1])]
        if spans:
            lo, hi = min(r[0] for r in spans), max(r[1] for r in spans)
        else:
            # thresholds: +-inf where a datastream has none
            cand = np.concatenate([self._seen_lo[rows], self._seen_hi[rows], self._hi[rows], self._lo[rows]])
            cand = cand[np.isfinite(cand)]
            if len(cand) == 0:
                return (0.0, 1.0)
            lo, hi = float(cand.min()), float(cand.max())
        if not hi > lo:
            hi = lo + 1.0
        return float(lo), float(hi)

    def clear_history(self, rows: NDArray[np.int64] | None = None) -> None:
        """Forget the stored readings (and alert states) of ``rows`` (default: all), as a looping
        replay does when its clock wraps; the value spans behind :meth:`value_range` stay."""
        rr = np.arange(len(self.datastreams), dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
        self.history.clear(rr)
        self._alerting[rr] = False
        self._stale_state[rr[rr < len(self._stale_state)]] = False
        self.version += 1

    def _check_alerts(self, idx: NDArray[np.int64], t: NDArray[np.float64],
                      v: NDArray[np.float64]) -> list[Alert]:
        if len(idx) == 0 or not self.thresholds:
            return []
        order = np.lexsort((t, idx))
        idx, t, v = idx[order], t[order], v[order]
        above = v > self._hi[idx]
        below = v < self._lo[idx]
        beyond = above | below
        first = np.r_[True, idx[1:] != idx[:-1]]
        prev = np.empty_like(beyond)
        prev[1:] = beyond[:-1]
        prev[first] = self._alerting[idx[first]]
        enter = beyond & ~prev
        # the state after the batch is the state of each datastream's last reading
        last = np.r_[idx[1:] != idx[:-1], True]
        self._alerting[idx[last]] = beyond[last]
        out = []
        for k in np.flatnonzero(enter):
            i = int(idx[k])
            ds = self.datastreams[i]
            kind = "above" if above[k] else "below"
            out.append(Alert(datastream=i, datastream_id=ds.id, observed_property=ds.observed_property.name,
                             time=float(t[k]), value=float(v[k]),
                             limit=float(self._hi[i] if above[k] else self._lo[i]), kind=kind))
        self.alerts.extend(out)
        self.alerts_total += len(out)
        return out

    # ---------------------------------------------------------------- queries
    def latest_at(self, t: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(values, times)`` of every datastream's newest reading at or before ``t`` (NaN: none)."""
        return self.history.latest_at(t, np.arange(len(self.datastreams), dtype=np.int64))

    def values_between(self, t0: float, t1: float, datastream: int | None = None
                       ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """``(datastream, times, values)`` of every reading with ``t0 <= time <= t1``."""
        rows = (np.arange(len(self.datastreams), dtype=np.int64) if datastream is None
                else np.array([datastream], dtype=np.int64))
        return self.history.between(t0, t1, rows)

    def stale(self, now: float, period: float) -> NDArray[np.bool_]:
        """True for datastreams with no reading in ``(now - period, now]`` (or none at all)."""
        last = self.history.last_time()[: len(self.datastreams)]
        with np.errstate(invalid="ignore"):
            return ~(last > now - period)

    def check_stale(self, now: float, period: float) -> list[Alert]:
        """Alerts (kind ``"stale"``) for datastreams that went silent for ``period`` seconds since the
        last check; a datastream alerts again only after it sent a reading in between.

        Datastreams that never sent anything are not reported (they are :meth:`stale`).
        """
        n = len(self.datastreams)
        if len(self._stale_state) < n:
            self._stale_state = np.concatenate([self._stale_state, np.zeros(n - len(self._stale_state), bool)])
        last = self.history.last_time(np.arange(n, dtype=np.int64))
        with np.errstate(invalid="ignore"):
            now_stale = last <= now - period  # NaN (never seen) is not stale here
        new = np.flatnonzero(now_stale & ~self._stale_state[:n])
        self._stale_state[:n] = now_stale
        vals, _ = self.history.latest_at(np.inf, new)
        out = [Alert(datastream=int(i), datastream_id=self.datastreams[i].id,
                     observed_property=self.datastreams[i].observed_property.name, time=float(now),
                     value=float(vals[k]), limit=float(period), kind="stale") for k, i in enumerate(new)]
        self.alerts.extend(out)
        self.alerts_total += len(out)
        return out

    def state_at(self, t: float, stale_after: float | None = None
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """What a view draws at scene time ``t``: ``(values, times, stale)``.

        ``stale`` is True where the newest reading at ``t`` is older than
        ``stale_after`` seconds (or there is none); all False if ``stale_after`` is None.
        """
        vals, times = self.latest_at(t)
        if stale_after is None:
            return vals, times, np.zeros(len(vals), dtype=bool)
        with np.errstate(invalid="ignore"):
            return vals, times, ~(times > t - stale_after)

    def alerting(self) -> NDArray[np.bool_]:
        """True for datastreams whose last reading is beyond a threshold."""
        return self._alerting[: len(self.datastreams)].copy()


def building_anchors(model: Any) -> Callable[[Sequence[str]], NDArray[np.float64]]:
    """A resolver for :meth:`SensorLayer.set_frame`: building id → roof centre (world coordinates).

    ``model`` is a :class:`~citytwin.model.city.CityModel`; unknown ids give NaN.
    """

    def resolve(ids: Sequence[str]) -> NDArray[np.float64]:
        boxes = model.object_bboxes()  # (O, 2, 3) world coordinates
        out = np.full((len(ids), 3), np.nan)
        for k, bid in enumerate(ids):
            i = model.objects.index.get(bid)
            if i is not None:
                lo, hi = boxes[i]
                out[k] = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2])
        return out

    return resolve


__all__ = [
    "Alert", "Datastream", "Location", "ObservedProperty", "SensorLayer", "SensorLayerSpec", "Thing",
    "Threshold", "UnitOfMeasurement", "Update", "building_anchors", "default_styling",
]
