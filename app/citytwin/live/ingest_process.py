"""MQTT ingest in a child process: the network loop and the parsing run outside the viewer's GIL.

:class:`ProcessIngest` starts one child process (multiprocessing, the ``spawn``
context: the viewer has Qt and OpenGL threads and must never be forked). The child
runs an :class:`~citytwin.live.mqtt.MqttFeed` (paho, reconnect with backoff,
persistent session) whose messages go into a layer-less
:class:`~citytwin.live.ingest.Ingest`: the same parsing, datastream id → index lookup
and checks as the in-thread path. Every ``interval`` seconds (or sooner when
``batch_max`` readings are waiting) the child swaps its queue out and sends ONE
batch through a pipe: new datastream metadata, numpy arrays of feed index / time /
value, the counters it made since the last batch (received, parsed, bytes, rejected
by reason), connection events and the connection state.

In the parent a reader thread receives the batches (a few dozen per second, a few
microseconds each) into a local :class:`Ingest`, so the GUI side is unchanged:
:meth:`ProcessIngest.drain` applies everything in one vectorised
:meth:`~citytwin.model.sensors.SensorLayer.apply`, :attr:`ProcessIngest.diag` holds
the same counters as the thread path, and ``received == applied + rejected +
pending`` holds for every batch that reached the parent.

Nothing delivered is lost: a sending child that finds the pipe full keeps queueing
(its memory bounded by ``max_pending``, beyond which readings are counted as
``queue_full``), paho acknowledges a QoS 1 message only once it is queued in the
child, and :meth:`ProcessIngest.stop` makes the child disconnect, send its last batch
and exit before returning. The child also exits when the parent dies (the command
pipe reaches end of file, or its parent pid changes), and a parent object that is
garbage-collected stops its child.

Datastream indices: the child owns the feed-side index space. Datastreams the parent
declares (:meth:`ProcessIngest.register`) are sent to the child, which registers them
and hands the metadata back with its next batch; the parent registers the same
metadata in the same order, so both index spaces stay equal without a round trip per
message.

As with any ``spawn`` child, the child imports the parent's main script again: a script
that starts a process ingest must keep its work under ``if __name__ == "__main__":``
(the ``citytwin`` command, the benchmarks and pytest do), or use ``ingest="thread"``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import weakref
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any

from ..model.sensors import Datastream, SensorLayer, Update
from .ingest import Diagnostics, Ingest, WatchedState
from .payloads import PayloadParser

log = logging.getLogger(__name__)

STATES = ("stopped", "connecting", "connected", "reconnecting")

#: Niceness added to the child (POSIX ``nice``): when the CPU is short, the viewer's rendering
#: threads come first and the child catches up in between (the broker and the child's queue hold
#: the readings meanwhile). 0 gives the child the viewer's priority. Measured on 2 cores with
#: 5,000 sensors at the full publishing rate: +5 -> 22-23 fps, +10 -> 23-28 fps while orbiting;
#: alone the child keeps 66-68 % of raw paho's throughput at either (``benchmarks/bench_feed.py``).
DEFAULT_NICE = 10


class ProcessIngest:
    """An MQTT feed received and parsed in a child process, drained once per frame in the parent.

    Offers what :class:`~citytwin.live.session.SensorSession` needs from both an
    :class:`~citytwin.live.ingest.Ingest` (:meth:`drain`, :attr:`diag`,
    :attr:`pending`, :meth:`register`) and an :class:`~citytwin.live.mqtt.MqttFeed`
    (:meth:`start`, :meth:`stop`, :attr:`state`, :meth:`wait_for`).

    Parameters
    ----------
    layer
        The layer :meth:`drain` writes into (GUI thread).
    config
        The feed's :class:`~citytwin.live.mqtt.MqttConfig`; the broker URL is checked
        here, so a bad one raises :class:`~citytwin.core.errors.CityTwinError` at once.
    parser
        Payload parser (sent to the child).
    auto_register, max_datastreams, max_pending, max_future
        As for :class:`~citytwin.live.ingest.Ingest`; ``max_pending`` bounds the
        readings queued in the child and, separately, in the parent.
    interval
        Seconds between the child's batches (10–30 ms keeps a frame's worth).
    batch_max
        A batch is sent early once this many readings wait in the child.
    nice
        Niceness added to the child (default :data:`DEFAULT_NICE`; where the OS has it).
    diagnostics
        Counters to keep in sync (a new :class:`Diagnostics` by default).
    """

    def __init__(self, layer: SensorLayer, config: Any, parser: PayloadParser | None = None, *,
                 auto_register: bool = True, max_datastreams: int = 20_000, max_pending: int = 1_000_000,
                 max_future: float = 300.0, interval: float = 0.015, batch_max: int = 20_000,
                 nice: int | None = None, diagnostics: Diagnostics | None = None) -> None:
        from .mqtt import parse_broker_url

        parse_broker_url(config.url)  # a bad URL fails here, in the caller's thread
        self.layer = layer
        self.config = config
        self.diag = diagnostics or Diagnostics()
        # parent-side queue between the reader thread and drain(); it neither parses nor counts
        self._local = Ingest(layer, PayloadParser(), max_pending=max_pending, diagnostics=self.diag)
        self._options = {"parser": parser or PayloadParser(), "auto_register": bool(auto_register),
                         "max_datastreams": int(max_datastreams), "max_pending": int(max_pending),
                         "max_future": float(max_future), "interval": float(interval),
                         "batch_max": int(batch_max),
                         "nice": DEFAULT_NICE if nice is None else int(nice)}
        self._early: list[Datastream] = []
        self._control = threading.RLock()
        self._link: _Link | None = None
        self._finalizer: weakref.finalize | None = None
        self._state = WatchedState("stopped")

    # ------------------------------------------------------------ like Ingest
    @property
    def pending(self) -> int:
        """Readings in the parent's queue (received from the child, not yet drained)."""
        return self._local.pending

    @property
    def n_datastreams(self) -> int:
        return self._local.n_datastreams

    def register(self, streams: Iterable[Datastream]) -> None:
        """Declare datastreams (with metadata); they reach the layer at a :meth:`drain` soon after.

        Unlike :meth:`Ingest.register` this returns no indices: the child assigns them.
        """
        streams = list(streams)
        with self._control:  # not while stop() waits for the child's last batch
            link = self._link
            if link is None:
                self._early.extend(streams)  # handed to the child when it starts
            elif link.stopping or not link.send(("register", streams)):
                self._local.register(streams)  # no child any more: nothing can disagree

    def drain(self) -> Update:
        """Apply everything received from the child since the last call in one vectorised update."""
        return self._local.drain()

    # ------------------------------------------------------------ like MqttFeed
    @property
    def state(self) -> str:
        """``stopped``, ``connecting``, ``connected`` (subscriptions acknowledged) or ``reconnecting``."""
        return self._state.value

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        link = self._link
        return link.proc.pid if link is not None and link.proc.is_alive() else None

    def wait_for(self, state: Any, timeout: float) -> bool:
        """Block until the feed reaches ``state`` (a name or a ``ConnectionState``); False on timeout."""
        return self._state.wait_for(str(getattr(state, "value", state)), timeout)

    def start(self) -> None:
        """Start the child process; it connects in the background, retrying with backoff.

        A no-op while one runs; after :meth:`stop` a new child continues in the same index space.
        """
        with self._control:
            if self._link is not None and not self._link.stopping:
                return
            self._start()

    def _start(self) -> None:
        self._state.set("connecting")
        early, self._early = self._early, []
        link = _Link(self._local, self.diag, self._state)
        try:
            link.start(self.config, dict(self._options, known=dict(self._local._ids), early=early))
        except Exception:
            self._state.set("stopped")
            raise
        self._link = link
        # a parent object dropped without stop() still stops its child (and at interpreter exit)
        self._finalizer = weakref.finalize(self, self._link.shutdown, 5.0)

    def stop(self, timeout: float = 10.0) -> None:
        """Make the child disconnect, hand over everything it received, and exit; joins it."""
        with self._control:
            if self._link is None:
                self._state.set("stopped")
                return
            self._link.shutdown(timeout)
            if self._finalizer is not None:
                self._finalizer.detach()

    close = stop


class _Link:
    """The parent's side of one child: the process, both pipe ends and the reader thread.

    Holds no reference to its :class:`ProcessIngest`, so that object can be collected
    (its finalizer calls :meth:`shutdown`).
    """

    def __init__(self, local: Ingest, diag: Diagnostics, state: WatchedState) -> None:
        self.local = local
        self.diag = diag
        self.state = state
        self._send_lock = threading.Lock()
        self._done = threading.Lock()
        self.stopping = False
        self._reap = False
        self.proc: Any = None
        self.cmd: Connection | None = None
        self.data: Connection | None = None
        self.reader: threading.Thread | None = None

    def start(self, config: Any, options: dict[str, Any]) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that has Qt/GL threads
        cmd_r, cmd_w = ctx.Pipe(duplex=False)
        data_r, data_w = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=child_main, name="citytwin-mqtt-ingest", daemon=True,
                                args=(cmd_r, data_w, config, options, os.getpid()))
        self.proc.start()
        cmd_r.close()  # only the child holds these now: its exit shows here as end of file
        data_w.close()
        self.cmd, self.data = cmd_w, data_r
        self.reader = threading.Thread(target=self._read, name="citytwin-mqtt-ingest-reader", daemon=True)
        self.reader.start()

    def send(self, msg: tuple[Any, ...]) -> bool:
        with self._send_lock:
            if self.cmd is None:
                return False
            try:
                self.cmd.send(msg)
                return True
            except (OSError, ValueError):
                return False

    def _read(self) -> None:
        assert self.data is not None
        said_bye = False
        batches = 0
        while True:
            try:
                msg = self.data.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # a batch that cannot be unpickled: say so, keep reading
                self.diag.event("error", f"ingest process: bad batch: {exc}")
                continue
            kind = msg[0]
            if kind == "batch":
                _, new, idx, t, v, counts, events, state = msg
                batches += 1
                self.local.put_batch(new, idx, t, v)  # first queued, then counted (see drain's order)
                self.diag.add(**counts)
                for name, detail in events:
                    self.diag.event(name, detail)
                if not self.stopping or state == "stopped":
                    self.state.set(state)
            elif kind == "error":
                self.diag.event("error", msg[1])
                log.warning("MQTT ingest process: %s", msg[1])
            elif kind == "bye":
                said_bye = True
                break
        if not said_bye and not self.stopping:
            self.proc.join(2.0)
            detail = f"ingest process ended unexpectedly (exit code {self.proc.exitcode})"
            if not batches:  # the classic spawn pitfall: a script re-run by the child at import
                detail += ("; at start: a script that starts it needs the if __name__ == '__main__': "
                           "guard (or ingest='thread')")
            self.diag.event("error", detail)
            log.warning("MQTT %s", detail)
        if self._reap:
            self.proc.join(5.0)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(2.0)
            self.data.close()
            with self._send_lock:
                if self.cmd is not None:
                    self.cmd.close()
                    self.cmd = None
        self.state.set("stopped")

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the child and wait for its last batch; kill it if it does not exit in time."""
        if not self._done.acquire(blocking=False):
            return  # already shut down (stop() then the finalizer, or two threads)
        end = time.monotonic() + timeout
        self.stopping = True
        self.send(("stop",))
        if self.reader is threading.current_thread():  # a finalizer run by a GC in the reader itself:
            self._reap = True  # it cannot wait for itself; it reaps the child after the last batch
            return
        if self.reader is not None:
            self.reader.join(max(end - time.monotonic(), 0.1))
        self.proc.join(max(end - time.monotonic(), 0.1))
        if self.proc.is_alive():
            log.warning("MQTT ingest process %s did not stop in %.0f s: terminating it", self.proc.pid, timeout)
            self.proc.terminate()
            self.proc.join(2.0)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(2.0)
        with self._send_lock:
            if self.cmd is not None:
                self.cmd.close()
                self.cmd = None
        if self.reader is not None:
            self.reader.join(1.0)
        if self.data is not None and (self.reader is None or not self.reader.is_alive()):
            self.data.close()
        self.state.set("stopped")


# ================================================================ the child process
class _ChildDiagnostics(Diagnostics):
    """The child's counters; connection events are also kept for the next batch."""

    def __init__(self) -> None:
        super().__init__()
        self.outbox: list[tuple[str, str]] = []

    def event(self, name: str, detail: str = "") -> None:
        super().event(name, detail)
        with self._lock:
            self.outbox.append((name, detail))

    def take_events(self) -> list[tuple[str, str]]:
        with self._lock:
            out, self.outbox = self.outbox, []
        return out


def child_main(cmd: Connection, data: Connection, config: Any, options: dict[str, Any], parent_pid: int) -> None:
    """Entry point of the child process (module level: the spawn context imports it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us cleanly
    try:
        _Child(cmd, data, config, options, parent_pid).run()
    except Exception as exc:  # never a traceback in the viewer's terminal: one line to the parent
        try:
            data.send(("error", f"{type(exc).__name__}: {exc}"))
            data.send(("bye",))
        except (OSError, ValueError):
            pass
        raise SystemExit(1) from None


class _Child:
    def __init__(self, cmd: Connection, data: Connection, config: Any, options: dict[str, Any],
                 parent_pid: int) -> None:
        self.cmd = cmd
        self.data = data
        self.parent_pid = parent_pid
        self.interval = float(options["interval"])
        self.batch_max = int(options["batch_max"])
        self.nice = int(options.get("nice", 0))
        self.diag = _ChildDiagnostics()
        self.ingest = Ingest(None, options["parser"], auto_register=options["auto_register"],
                             max_datastreams=options["max_datastreams"], max_pending=options["max_pending"],
                             max_future=options["max_future"], diagnostics=self.diag, known=options["known"])
        if options["early"]:
            self.ingest.register(options["early"])
        self.lock = threading.Lock()  # a message is queued AND counted before a batch can take it
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.sent = {"received": 0, "parsed": 0, "bytes": 0}
        self.sent_rejected: dict[str, int] = {}
        self.sent_state = ""
        self.config = config

    def deliver(self, topic: str, payload: bytes) -> None:
        """paho's network thread: parse, check and queue one message (never blocks on the pipe)."""
        ing = self.ingest
        with self.lock:
            ing.on_message(topic, payload)
        if ing.pending >= self.batch_max:
            self.wake.set()

    def commands(self) -> None:
        """Commands from the parent; end of file means the parent is gone."""
        while not self.stop.is_set():
            try:
                msg = self.cmd.recv()
            except (EOFError, OSError):
                break
            if msg[0] == "register":
                with self.lock:
                    self.ingest.register(msg[1])
                self.wake.set()
            elif msg[0] == "stop":
                break
        self.stop.set()
        self.wake.set()

    def flush(self, state: str) -> None:
        """Send what arrived since the last batch (nothing when nothing changed)."""
        with self.lock:
            new, idx, t, v = self.ingest.take()
            snap = self.diag.snapshot()
        events = self.diag.take_events()
        rej = {k: n - self.sent_rejected.get(k, 0) for k, n in snap["rejected"].items()
               if n != self.sent_rejected.get(k, 0)}
        counts = {"received": snap["received"] - self.sent["received"],
                  "parsed": snap["parsed"] - self.sent["parsed"], "nbytes": snap["bytes"] - self.sent["bytes"],
                  "rejected": rej}
        if not (new or len(idx) or events or rej or counts["received"] or state != self.sent_state):
            return
        self.data.send(("batch", new, idx, t, v, counts, events, state))
        self.sent = {"received": snap["received"], "parsed": snap["parsed"], "bytes": snap["bytes"]}
        self.sent_rejected = dict(snap["rejected"])
        self.sent_state = state

    def run(self) -> None:
        from .mqtt import MqttFeed  # paho is imported here, in the child

        if self.nice > 0 and hasattr(os, "nice"):
            try:
                os.nice(self.nice)
            except OSError:  # not allowed here: run at the parent's priority
                pass

        feed = MqttFeed(self.config, self.deliver, self.diag)
        threading.Thread(target=self.commands, name="commands", daemon=True).start()
        feed.start()
        tick = min(self.interval, 0.05)  # a state change goes out within 50 ms whatever the interval
        next_flush = time.monotonic() + self.interval
        try:
            while not self.stop.is_set():
                woken = self.wake.wait(tick)
                self.wake.clear()
                if os.getppid() != self.parent_pid:  # orphaned: the parent died without closing
                    self.stop.set()
                    break
                now = time.monotonic()
                state = feed.state.value
                if woken or now >= next_flush or state != self.sent_state:
                    self.flush(state)
                    next_flush = now + self.interval
        except (OSError, ValueError):  # the pipe is gone: the parent died
            self.stop.set()
        finally:
            feed.stop()  # after this no message is delivered any more
        try:
            self.flush("stopped")  # everything received before the stop
            self.data.send(("bye",))
        except (OSError, ValueError):
            pass
