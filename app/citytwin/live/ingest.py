"""The hand-over between feed threads and the GUI: a queue of readings and a once-per-frame batch drain.

Feed threads (MQTT's network loop, the SensorThings poller) call
:meth:`Ingest.on_message` (bytes) or :meth:`Ingest.put_reading`; each does the
parsing, the datastream id → index lookup and the checks there, and appends three
scalars to the pending lists under a lock. The GUI thread calls :meth:`Ingest.drain`
once per frame: it swaps the lists out in O(1), turns them into numpy arrays and
applies ONE vectorised :meth:`SensorLayer.apply`. No per-message work happens on the
GUI side.

Every message ends in exactly one place: ``received == applied + sum(rejected) +
pending`` (see :meth:`Diagnostics.accounted`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.sensors import Datastream, Location, ObservedProperty, SensorLayer, UnitOfMeasurement, Update
from . import payloads as P
from .payloads import PayloadParser, Reading, Rejected

log = logging.getLogger(__name__)


class WatchedState:
    """A feed's connection state that other threads can wait for (a value under a condition)."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self._cond = threading.Condition()

    def set(self, value: Any) -> None:
        with self._cond:
            self.value = value
            self._cond.notify_all()

    def wait_for(self, value: Any, timeout: float) -> bool:
        """Block until the state equals ``value``; False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while self.value != value:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


class Diagnostics:
    """Counters of a feed, safe to bump from the feed thread and read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received = 0
        self.parsed = 0
        self.applied = 0
        self.bytes = 0
        self.rejected: Counter[str] = Counter()
        self.connects = 0
        self.disconnects = 0
        self.last_error = ""
        self.errors: deque[str] = deque(maxlen=20)  # the last few connection errors
        self.started = time.monotonic()

    def reject(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self.rejected[reason] += n

    def event(self, name: str, detail: str = "") -> None:
        with self._lock:
            if name == "connect":
                self.connects += 1
            elif name == "disconnect":
                self.disconnects += 1
            if detail:
                self.last_error = detail
                self.errors.append(f"{name}: {detail}")

    def add(self, received: int = 0, parsed: int = 0, nbytes: int = 0,
            rejected: dict[str, int] | None = None) -> None:
        """Add counts made elsewhere (the child of a process ingest sends them with each batch)."""
        with self._lock:
            self.received += received
            self.parsed += parsed
            self.bytes += nbytes
            if rejected:
                self.rejected.update(rejected)

    @property
    def rejected_total(self) -> int:
        with self._lock:
            return int(sum(self.rejected.values()))

    def accounted(self, pending: int = 0) -> bool:
        """True when every received message is applied, rejected or still pending."""
        return self.received == self.applied + self.rejected_total + pending

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"received": self.received, "parsed": self.parsed, "applied": self.applied,
                    "bytes": self.bytes, "rejected": dict(sorted(self.rejected.items())),
                    "rejected_total": int(sum(self.rejected.values())),
                    "connects": self.connects, "disconnects": self.disconnects,
                    "last_error": self.last_error}


class Ingest:
    """Queue of readings between feed threads and a :class:`SensorLayer`.

    Parameters
    ----------
    layer
        The layer :meth:`drain` writes into (GUI thread only); None for a feed-side-only
        ingest whose queue is emptied with :meth:`take` (the child of a process ingest).
    parser
        Payload parser used by :meth:`on_message`.
    auto_register
        Create a datastream for an id seen for the first time (else ``unknown_datastream``).
    max_datastreams
        Bound on datastreams (beyond: ``too_many_datastreams``); with the layer's
        history capacity it bounds memory: 20,000 × 256 slots × 16 bytes ≈ 82 MB.
    max_pending
        Bound on queued readings between drains (beyond: ``queue_full``, a flood).
    max_future
        Readings more than this many seconds after ``now()`` are ``future_time``.
    now
        Wall clock, seconds since the epoch (injectable for tests).
    known
        Initial datastream id → feed index map when there is no layer.
    """

    def __init__(self, layer: SensorLayer | None, parser: PayloadParser | None = None, *,
                 auto_register: bool = True, max_datastreams: int = 20_000,
                 max_pending: int = 1_000_000, max_future: float = 300.0,
                 now: Callable[[], float] = time.time, diagnostics: Diagnostics | None = None,
                 known: dict[str, int] | None = None) -> None:
        self.layer = layer
        self.parser = parser or PayloadParser()
        self.diag = diagnostics or Diagnostics()
        self.auto_register = auto_register
        self.max_datastreams = int(max_datastreams)
        self.max_pending = int(max_pending)
        self.max_future = float(max_future)
        self.now = now
        self._lock = threading.Lock()
        # feed-side index space (no layer: the feed half of a process ingest, see ingest_process)
        self._ids: dict[str, int] = dict(layer.index) if layer is not None else dict(known or {})
        self._to_layer = np.arange(len(self._ids), dtype=np.int64)
        self._new: list[Datastream] = []  # metadata to hand to the layer at the next drain
        self._qi: list[int] = []
        self._qt: list[float] = []
        self._qv: list[float] = []
        self._chunks: list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]] = []
        self._n_chunks = 0

    # ------------------------------------------------------------ feed side
    @property
    def pending(self) -> int:
        return len(self._qi) + self._n_chunks

    @property
    def n_datastreams(self) -> int:
        return len(self._ids)

    def register(self, streams: Iterable[Datastream]) -> list[int]:
        """Declare datastreams (with metadata) from a feed thread; returns feed-side indices."""
        out = []
        with self._lock:
            for ds in streams:
                i = self._ids.get(ds.id)
                if i is None:
                    i = len(self._ids)
                    self._ids[ds.id] = i
                self._new.append(ds)
                out.append(i)
        return out

    def _index(self, reading: Reading, topic: str) -> int:
        i = self._ids.get(reading.datastream)
        if i is not None:
            return i
        if not self.auto_register:
            raise Rejected(P.UNKNOWN_DATASTREAM, reading.datastream[:80])
        if len(self._ids) >= self.max_datastreams:
            raise Rejected(P.TOO_MANY_DATASTREAMS, reading.datastream[:80])
        loc = None
        if reading.lon is not None and reading.lat is not None:
            loc = Location(lon=reading.lon, lat=reading.lat)
        m = self.parser.mapping_for(reading.datastream, topic) if topic else None
        ds = Datastream(id=reading.datastream, name=reading.datastream, location=loc,
                        observed_property=ObservedProperty(m.observed_property if m else ""),
                        unit=UnitOfMeasurement(symbol=m.unit if m else ""))
        return self.register([ds])[0]

    def on_message(self, topic: str, payload: bytes) -> None:
        """Feed-thread entry: parse one message and queue its reading (never raises)."""
        parsed = False
        reason = None
        try:
            now = self.now()
            r = self.parser.parse(topic, payload, now)
            parsed = True
            self._queue(r, topic, now)
        except Rejected as exc:
            reason = exc.reason
        except Exception as exc:  # a parser bug must not kill the network thread
            log.debug("unexpected error parsing %s: %s", topic, exc)
            reason = "internal_error"
        d = self.diag
        with d._lock:  # one lock per message, and counts stay exact with several feed threads
            d.received += 1
            d.bytes += len(payload)
            if parsed:
                d.parsed += 1
            if reason is not None:
                d.rejected[reason] += 1

    def put_reading(self, reading: Reading) -> None:
        """Feed-thread entry for readings parsed elsewhere (SensorThings HTTP)."""
        reason = None
        try:
            self._queue(reading, "", self.now())
        except Rejected as exc:
            reason = exc.reason
        d = self.diag
        with d._lock:
            d.received += 1
            d.parsed += 1
            if reason is not None:
                d.rejected[reason] += 1

    def reject(self, reason: str) -> None:
        """Count a message a feed could not turn into a reading."""
        with self.diag._lock:
            self.diag.received += 1
            self.diag.rejected[reason] += 1

    def _count_in(self, n: int) -> None:
        with self.diag._lock:
            self.diag.received += n
            self.diag.parsed += n

    def _queue(self, r: Reading, topic: str, now: float) -> None:
        if r.time > now + self.max_future:
            raise Rejected(P.FUTURE_TIME, str(r.time))
        i = self._ids.get(r.datastream)
        if i is None and not self.auto_register:
            raise Rejected(P.UNKNOWN_DATASTREAM, r.datastream[:80])
        if self.pending >= self.max_pending:
            raise Rejected(P.QUEUE_FULL)
        if i is None:
            i = self._index(r, topic)
        with self._lock:
            self._qi.append(i)
            self._qt.append(r.time)
            self._qv.append(r.value)

    def put_arrays(self, ids: Sequence[str] | NDArray[Any], times: NDArray[np.float64],
                   values: NDArray[np.float64]) -> None:
        """Queue many readings at once (replay); ids must be registered or auto-registrable."""
        times = np.asarray(times, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        self._count_in(len(times))
        uniq, inv = np.unique(np.asarray(ids, dtype=object).astype(str), return_inverse=True)
        idx_u = np.empty(len(uniq), dtype=np.int64)
        for k, u in enumerate(uniq):  # once per distinct datastream, not per reading
            try:
                idx_u[k] = self._index(Reading(str(u), math.nan, math.nan), "")
            except Rejected as exc:
                idx_u[k] = -1
                self.diag.reject(exc.reason, int((inv == k).sum()))
        self._put_chunk(idx_u[inv], times, values)

    def put_indexed(self, idx: NDArray[np.int64], times: NDArray[np.float64],
                    values: NDArray[np.float64]) -> None:
        """Queue many readings of datastreams already :meth:`register` ed (their returned indices)."""
        times = np.asarray(times, dtype=np.float64)
        self._count_in(len(times))
        self._put_chunk(np.asarray(idx, dtype=np.int64), times, np.asarray(values, dtype=np.float64))

    def _put_chunk(self, idx: NDArray[np.int64], times: NDArray[np.float64],
                   values: NDArray[np.float64]) -> None:
        keep = (idx >= 0) & (idx < len(self._ids))
        if (~keep).any():
            self.diag.reject(P.UNKNOWN_DATASTREAM, int((~keep & (idx >= 0)).sum()))
        finite = np.isfinite(values) & np.isfinite(times)
        bad = keep & ~finite
        if bad.any():
            self.diag.reject(P.NON_FINITE, int(bad.sum()))
        keep &= finite
        room = max(self.max_pending - self.pending, 0)
        n_keep = int(keep.sum())
        if n_keep > room:  # a flood: keep what fits, count the rest
            over = np.flatnonzero(keep)[room:]
            keep[over] = False
            self.diag.reject(P.QUEUE_FULL, len(over))
        with self._lock:
            self._chunks.append((idx[keep], times[keep], values[keep]))
            self._n_chunks += int(keep.sum())

    def put_batch(self, new: Sequence[Datastream], idx: NDArray[np.int64], times: NDArray[np.float64],
                  values: NDArray[np.float64]) -> None:
        """Queue a batch another ingest already parsed, checked and counted (see :meth:`take`).

        ``new`` is that ingest's new datastream metadata, in its order: registering it
        here in the same order keeps both feed-side index spaces equal. Nothing is
        counted as received; only a flood beyond ``max_pending`` is (``queue_full``).
        """
        if len(new):
            self.register(new)
        if len(idx):
            self._put_chunk(np.asarray(idx, dtype=np.int64), np.asarray(times, dtype=np.float64),
                            np.asarray(values, dtype=np.float64))

    def take(self) -> tuple[list[Datastream], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Swap out everything queued: new datastream metadata and feed-side index/time/value arrays."""
        with self._lock:
            qi, qt, qv = self._qi, self._qt, self._qv
            self._qi, self._qt, self._qv = [], [], []
            chunks, self._chunks, self._n_chunks = self._chunks, [], 0
            new, self._new = self._new, []
        parts_i = [np.asarray(qi, dtype=np.int64)] + [c[0] for c in chunks]
        parts_t = [np.asarray(qt, dtype=np.float64)] + [c[1] for c in chunks]
        parts_v = [np.asarray(qv, dtype=np.float64)] + [c[2] for c in chunks]
        fi = np.concatenate(parts_i) if len(parts_i) > 1 else parts_i[0]
        t = np.concatenate(parts_t) if len(parts_t) > 1 else parts_t[0]
        v = np.concatenate(parts_v) if len(parts_v) > 1 else parts_v[0]
        return new, fi, t, v

    # ------------------------------------------------------------ GUI side
    def drain(self) -> Update:
        """Apply everything queued since the last call to the layer in one vectorised update."""
        if self.layer is None:
            raise TypeError("an Ingest without a layer is emptied with take(), not drain()")
        new, fi, t, v = self.take()
        n_ids = len(self._ids)
        if new:
            layer_idx = self.layer.add_datastreams(new)
            feed_idx = np.fromiter((self._ids[d.id] for d in new), dtype=np.int64, count=len(new))
            if len(self._to_layer) < n_ids:
                grown = np.full(max(n_ids, 2 * len(self._to_layer)), -1, dtype=np.int64)
                grown[: len(self._to_layer)] = self._to_layer
                self._to_layer = grown
            self._to_layer[feed_idx] = layer_idx
        li = self._to_layer[fi] if len(fi) else fi
        up = self.layer.apply(li, t, v)
        d = self.diag
        with d._lock:
            d.applied += up.stored
            if up.out_of_order:
                d.rejected[P.OUT_OF_ORDER] += up.out_of_order
            if up.unknown:
                d.rejected[P.UNKNOWN_DATASTREAM] += up.unknown
        return up
