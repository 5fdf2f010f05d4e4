"""Live feed throughput through a real mosquitto broker on loopback.

Compares, in the same run and against the same broker:

- ``raw``: a bare paho subscriber whose ``on_message`` only counts (the baseline);
- ``citytwin thread``: :class:`~citytwin.live.mqtt.MqttFeed` → :class:`~citytwin.live.ingest.Ingest`
  in paho's network thread (parse SensorThings Observation JSON, id → index, checks, queue)
  with the GUI-side ``drain()`` called at 60 Hz in the main thread, applying one vectorised
  update per frame to a :class:`~citytwin.model.sensors.SensorLayer` of 5,000 datastreams;
- ``citytwin process`` (what the viewer uses): the same feed and checks in a child process
  (:class:`~citytwin.live.ingest_process.ProcessIngest`), batches sent every 15 ms, the same
  60 Hz ``drain()`` in the main thread. Arrivals are seen per batch here (first/last batch
  time, the readings of the first batch left out of the rate).

A separate publisher process sends ``--messages`` SensorThings Observations (QoS 0)
round-robin over ``v1.1/Datastreams(<i>)/Observations``. Rate = messages received
/ (last arrival − first arrival). Every message must be accounted for:
``received == published`` and ``applied + rejected == received``.

Run::

    .venv/bin/python benchmarks/bench_feed.py [--messages 200000] [--sensors 5000] [--rounds 2] [--protocol 4|5]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from citytwin.live import ingest_process
from citytwin.live.broker import LocalBroker
from citytwin.live.ingest import Ingest
from citytwin.live.ingest_process import ProcessIngest
from citytwin.live.mqtt import ConnectionState, MqttConfig, MqttFeed
from citytwin.model.sensors import Datastream, Location, ObservedProperty, SensorLayer


def _payloads(n: int, sensors: int) -> list[tuple[str, bytes]]:
    base = time.time() - n - 10  # strictly increasing per datastream, never in the future
    out = []
    for k in range(n):
        t = datetime.fromtimestamp(base + k, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append((f"v1.1/Datastreams({k % sensors})/Observations",
                    orjson.dumps({"phenomenonTime": t, "result": round(20 + (k % 97) * 0.5, 1)})))
    return out


def _publish(port: int, n: int, sensors: int, go: Any, done: Any, rate: float = 0.0) -> None:
    """Publish ``n`` Observations (QoS 0), at most ``rate`` per second (0: as fast as possible)."""
    msgs = _payloads(n, sensors)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{time.time_ns()}")
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    go.wait()
    t0 = time.perf_counter()
    for k, (topic, payload) in enumerate(msgs):
        c.publish(topic, payload, qos=0)
        if rate > 0 and k % 50 == 49:
            ahead = (k + 1) / rate - (time.perf_counter() - t0)
            if ahead > 0:
                time.sleep(ahead)
    # let paho flush its out-queue before disconnecting
    while c.want_write():
        time.sleep(0.01)
    time.sleep(0.2)
    c.disconnect()
    c.loop_stop()
    done.set()


class _Arrivals:
    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.first_count = 1  # per-message arrivals: the first one starts the clock
        self.all_in = threading.Event()

    def seen(self, count: int) -> None:
        """Arrivals seen in batches (process path): the first batch's readings start the clock."""
        if count == self.count:
            return
        now = time.perf_counter()
        if self.count == 0:
            self.first = now
            self.first_count = count
        self.count = count
        self.last = now
        if self.count >= self.n:
            self.all_in.set()

    def hit(self) -> None:
        now = time.perf_counter()
        if self.count == 0:
            self.first = now
        self.count += 1
        self.last = now
        if self.count >= self.n:
            self.all_in.set()


def _run_publisher(port: int, n: int, sensors: int, arrivals: _Arrivals, idle: float,
                   frame: Any = None) -> float:
    ctx = mp.get_context("spawn")
    go, done = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_publish, args=(port, n, sensors, go, done), daemon=True)
    p.start()
    time.sleep(1.0)  # publisher builds its payloads and connects
    go.set()
    last_seen, last_change = -1, time.monotonic()
    while not arrivals.all_in.is_set():
        if frame is not None:
            frame()
        time.sleep(1 / 60)
        if arrivals.count != last_seen:
            last_seen, last_change = arrivals.count, time.monotonic()
        elif done.is_set() and time.monotonic() - last_change > idle:
            break
    if frame is not None:
        frame()
    p.join(timeout=30)
    span = arrivals.last - arrivals.first
    return (arrivals.count - arrivals.first_count + 1) / span if span > 0 else float("nan")


def bench_raw(port: int, n: int, sensors: int, idle: float, protocol: int = 4) -> dict[str, Any]:
    arrivals = _Arrivals(n)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{time.time_ns()}",
                    protocol=mqtt.MQTTv5 if protocol == 5 else mqtt.MQTTv311)
    c.on_message = lambda client, userdata, msg: arrivals.hit()
    subscribed = threading.Event()
    c.on_subscribe = lambda *a: subscribed.set()
    c.on_connect = lambda client, *a: client.subscribe("v1.1/#", qos=0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    subscribed.wait(10)
    rate = _run_publisher(port, n, sensors, arrivals, idle)
    c.disconnect()
    c.loop_stop()
    return {"received": arrivals.count, "rate": rate}


def _layer(sensors: int) -> SensorLayer:
    layer = SensorLayer(capacity=64)
    rng = np.random.default_rng(0)
    lon = 6.0 + rng.random(sensors) * 0.1
    lat = 51.0 + rng.random(sensors) * 0.1
    layer.add_datastreams(Datastream(id=str(i), name=f"sensor {i}", observed_property=ObservedProperty("no2"),
                                     location=Location(lon=float(lon[i]), lat=float(lat[i])))
                          for i in range(sensors))
    return layer


class _Frames:
    """The GUI side of a citytwin path: one drain per frame, timed; then the run's figures."""

    def __init__(self, ingest: Any, after: Any = None) -> None:
        self.ingest, self.after = ingest, after
        self.n, self.max_batch, self.drain_s = 0, 0, 0.0

    def frame(self) -> None:
        t0 = time.perf_counter()
        up = self.ingest.drain()
        self.drain_s += time.perf_counter() - t0
        self.n += 1
        self.max_batch = max(self.max_batch, up.stored + up.out_of_order + up.unknown)
        if self.after is not None:
            self.after()

    def result(self, layer: SensorLayer, rate: float) -> dict[str, Any]:
        """After the feed stopped: drain the rest, and every count of the run."""
        ingest = self.ingest
        ingest.drain()
        d = ingest.diag.snapshot()
        return {"received": d["received"], "rate": rate, "parsed": d["parsed"], "applied": d["applied"],
                "rejected": d["rejected"], "accounted": ingest.diag.accounted(ingest.pending),
                "datastreams": len(layer), "frames": self.n, "max_batch": self.max_batch,
                "drain_ms_per_frame": 1000 * self.drain_s / max(self.n, 1),
                "history_mb": layer.history.nbytes / 1e6}


def bench_process(port: int, n: int, sensors: int, idle: float, protocol: int = 4) -> dict[str, Any]:
    layer = _layer(sensors)
    ingest = ProcessIngest(layer, MqttConfig(f"mqtt://127.0.0.1:{port}", topics=["v1.1/#"], qos=0,
                                             persistent=False, protocol=protocol))
    ingest.start()
    if not ingest.wait_for("connected", 20):
        raise SystemExit("citytwin process feed did not connect")
    time.sleep(0.3)
    arrivals = _Arrivals(n)
    frames = _Frames(ingest, lambda: arrivals.seen(ingest.diag.received))
    rate = _run_publisher(port, n, sensors, arrivals, idle, frames.frame)
    ingest.stop()
    return frames.result(layer, rate)


def bench_citytwin(port: int, n: int, sensors: int, idle: float, protocol: int = 4) -> dict[str, Any]:
    layer = _layer(sensors)
    ingest = Ingest(layer)
    arrivals = _Arrivals(n)
    deliver = ingest.on_message

    def on_message(topic: str, payload: bytes) -> None:
        deliver(topic, payload)
        arrivals.hit()

    feed = MqttFeed(MqttConfig(f"mqtt://127.0.0.1:{port}", topics=["v1.1/#"], qos=0, persistent=False,
                               protocol=protocol), on_message, ingest.diag)
    feed.start()
    if not feed.wait_for(ConnectionState.CONNECTED, 10):
        raise SystemExit("citytwin feed did not connect")
    time.sleep(0.3)  # SUBACK
    frames = _Frames(ingest)
    rate = _run_publisher(port, n, sensors, arrivals, idle, frames.frame)
    feed.stop()
    return frames.result(layer, rate)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--sensors", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--idle", type=float, default=3.0, help="seconds without arrivals that end a run")
    ap.add_argument("--protocol", type=int, choices=(4, 5), default=4,
                    help="MQTT protocol of both subscribers: 4 = 3.1.1 (citytwin's default), 5")
    ap.add_argument("--nice", type=int, default=None,
                    help="niceness of the process path's child (default: ingest_process.DEFAULT_NICE)")
    a = ap.parse_args(argv)
    if a.nice is not None:
        ingest_process.DEFAULT_NICE = a.nice
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores "
          "(other work on the machine slows both runs alike; compare within a round)")
    ok = True
    with LocalBroker() as broker:
        print(f"broker: mosquitto on 127.0.0.1:{broker.port}; {a.messages} messages/run, "
              f"{a.sensors} sensors, QoS 0, MQTT {'5' if a.protocol == 5 else '3.1.1'}; "
              f"process path child niceness +{ingest_process.DEFAULT_NICE}")
        raws: list[float] = []
        rates: dict[str, list[float]] = {"thread": [], "process": []}
        runs = {"thread": bench_citytwin, "process": bench_process}
        for r in range(a.rounds):
            raw = bench_raw(broker.port, a.messages, a.sensors, a.idle, a.protocol)
            raws.append(raw["rate"])
            print(f"round {r + 1} raw paho:          {raw['received']:>8} received  {raw['rate']:>9.0f} msg/s")
            for path, fn in runs.items():
                ct = fn(broker.port, a.messages, a.sensors, a.idle, a.protocol)
                rates[path].append(ct["rate"])
                print(f"round {r + 1} citytwin {path:<8} {ct['received']:>8} received  {ct['rate']:>9.0f} msg/s  "
                      f"({100 * ct['rate'] / raw['rate']:.0f} % of raw)  "
                      f"parsed {ct['parsed']}  applied {ct['applied']}  rejected {ct['rejected']}  "
                      f"accounted {ct['accounted']}  datastreams {ct['datastreams']}  frames {ct['frames']}  "
                      f"max batch {ct['max_batch']}  drain {ct['drain_ms_per_frame']:.2f} ms/frame  "
                      f"history {ct['history_mb']:.1f} MB")
                ok &= ct["received"] == a.messages and ct["accounted"] and ct["applied"] == a.messages
        for path, rs in rates.items():
            ratios = [c / r for c, r in zip(rs, raws)]
            print(f"per-round citytwin {path}/raw: {', '.join(f'{100 * x:.0f} %' for x in ratios)}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        raw_best = max(raws)
        for path, rs in rates.items():
            print(f"best raw {raw_best:.0f} msg/s, best citytwin {path} {max(rs):.0f} msg/s: "
                  f"{100 * max(rs) / raw_best:.0f} % of raw (goal >= 50 %)")
        print(f"every message accounted (received = published = applied, both paths): {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
