"""The viewer showing the demo scene while ingesting through a real mosquitto broker: frame times and ingest rate.

The real window (``build_window``) opens ``scenes/demo.toml`` (the district and its replayed
air-quality layer, playing at 600×), then adds an MQTT sensor layer on a throw-away local
broker with ``--sensors`` datastreams standing on the district's streets. A publisher
process (the one of ``bench_feed.py``) sends ``--messages`` SensorThings Observations
(QoS 0) round-robin over them as fast as it can, while the Qt event loop runs as it does
for a user: the 30 Hz sensor frame timer drains both layers (one batch each), updates
the glyph arrays and requests one coalesced render.

Measured over the ingest period:

- frames drawn per second and the interval between them (median, 95th percentile,
  max), from the render window's ``EndEvent`` (every frame actually drawn);
- render time (``StartEvent`` → ``EndEvent``) and the sensor ``frame()`` time (drain,
  apply, colour);
- ingest rate: readings applied to the layer per second (first → last arrival), and
  that every published message is accounted for.

``--orbit`` turns the camera a little every tick (a user dragging while data
arrives: a render every timer tick whatever the feed does).

``--ingest process`` (the default, what the viewer does) receives and parses MQTT in a
child process; ``--ingest thread`` in paho's thread inside the viewer's process (the
path before the process ingest), for comparison. CPU seconds during the ingest period
are reported per process (viewer, ingest child, mosquitto, publisher) and, inside the
viewer, per thread kind (main thread, llvmpipe rasteriser threads, others); ``--profile``
adds a cProfile of the viewer's main thread over the ingest period.

Run (the viewer needs a display; Xvfb is fine)::

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python benchmarks/bench_feed_viewer.py \\
        [--messages 100000] [--sensors 2000] [--rate 0] [--orbit] [--size 1280x800] \\
        [--ingest process|thread] [--profile]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_feed import _publish  # noqa: E402  (the publisher of the feed benchmark)


def _cpu_s(pid: int | None, task: int | None = None) -> float | None:
    """User + system CPU seconds of a process (all its threads) or of one of its threads."""
    if pid is None:
        return None
    path = f"/proc/{pid}/task/{task}/stat" if task is not None else f"/proc/{pid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_cpu() -> dict[str, float]:
    """This process's CPU seconds by thread kind: main, llvmpipe (Mesa's rasteriser), other."""
    out = {"main": 0.0, "llvmpipe": 0.0, "other": 0.0}
    me = os.getpid()
    for task in Path(f"/proc/{me}/task").iterdir():
        tid = int(task.name)
        cpu = _cpu_s(me, tid) or 0.0
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        kind = "main" if tid == me else "llvmpipe" if name.startswith("llvmpipe") else "other"
        out[kind] += cpu
    return out


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(messages: int, sensors: int, orbit: bool, size: tuple[int, int], rate: float = 0.0,
        idle: float = 3.0, ingest: str = "process", profile: bool = False,
        harness_nice: int = 0) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from citytwin.app import build_window, qt_application
    from citytwin.demo.sensors import sensor_sites
    from citytwin.live.broker import LocalBroker
    from citytwin.model.sensor_spec import SensorLayerSpec
    from citytwin.model.sensors import Datastream, Location, ObservedProperty, UnitOfMeasurement

    app = qt_application()
    tmp = tempfile.TemporaryDirectory(prefix="bench-feed-viewer-")
    win = build_window(settings=QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat),
                       multi_samples=0)
    win.resize(*size)
    win.show()

    def pump(cond: Any, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            app.processEvents()
            if cond():
                return True
            time.sleep(0.005)
        return False

    t_open = time.perf_counter()
    win.open_scene(ROOT / "scenes" / "demo.toml")
    if not pump(lambda: len(win.layers) >= 1 and len(win.sensors.entries) == 1, 120):
        raise SystemExit("demo scene did not load")
    load_s = time.perf_counter() - t_open
    broker = LocalBroker().start()
    try:
        spec = SensorLayerSpec(source=broker.url, name="bench", topics=["v1.1/#"], qos=0, stale_after=1e9,
                               styling={"size": 6.0, "range": [20.0, 70.0]}, max_datastreams=max(sensors, 20_000),
                               ingest=ingest)
        entry = win.sensors.add_spec(spec)
        if entry is None or not pump(lambda: entry.session.state == "connected", 20):
            raise SystemExit("the viewer's MQTT feed did not connect")
        sites = sensor_sites(sensors, seed=11)
        entry.session.ingest.register(
            Datastream(id=str(i), name=f"bench {i}", observed_property=ObservedProperty("no2"),
                       unit=UnitOfMeasurement(symbol="µg/m³"), location=Location(lon=lon, lat=lat, height=2.0))
            for i, (_sid, lon, lat) in enumerate(sites))
        t_place = time.perf_counter()
        if not pump(lambda: entry.visual.shown.size == sensors, 120):
            raise SystemExit("bench sensors were not placed")
        place_s = time.perf_counter() - t_place
        win.go_to_view("Overview", animate=False)
        pump(lambda: False, 1.0)  # settle

        rw = win.viewport.render_window
        starts: list[float] = []
        ends: list[float] = []
        rw.AddObserver("StartEvent", lambda *_: starts.append(time.perf_counter()))
        rw.AddObserver("EndEvent", lambda *_: ends.append(time.perf_counter()))
        ctl = win.sensors
        ctl.frame_ms.clear()
        frames0 = ctl.frames
        if orbit:
            cam = win.viewport.renderer.GetActiveCamera()
            spin = QTimer()
            spin.setInterval(33)
            spin.timeout.connect(lambda: (cam.Azimuth(0.3), win.viewport.request_render()))
            spin.start()
        diag = entry.session.diagnostics
        applied0 = diag.applied
        first_arrival = [0.0]
        last_arrival = [0.0]
        seen = [diag.received]

        ctx = mp.get_context("spawn")
        go, done = ctx.Event(), ctx.Event()
        proc = ctx.Process(target=_publish, args=(broker.port, messages, sensors, go, done, rate),
                           daemon=True)
        proc.start()
        if harness_nice:
            # the publisher and the broker stand for other machines: they yield the CPU to the viewer
            for pid in (proc.pid, broker.proc.pid if broker.proc else None):
                if pid is not None:
                    os.setpriority(os.PRIO_PROCESS, pid, harness_nice)
        pump(lambda: False, 1.5)  # the publisher builds its payloads and connects (GUI keeps running)
        # baseline: the same window and timers for 3 s before any message is sent
        ends.clear()
        idle_loop = QEventLoop()
        QTimer.singleShot(3000, idle_loop.quit)
        t_idle = time.perf_counter()
        cpu_idle0 = _cpu_s(os.getpid())
        idle_loop.exec()
        idle_fps = len(ends) / (time.perf_counter() - t_idle)
        cpu_idle1 = _cpu_s(os.getpid())
        idle_cpu_ms = (1000 * (cpu_idle1 - cpu_idle0) / max(len(ends), 1)
                       if cpu_idle0 is not None and cpu_idle1 is not None else float("nan"))
        starts.clear()
        ends.clear()
        ctl.frame_ms.clear()
        pids = {"viewer": os.getpid(), "ingest child": getattr(entry.session.ingest, "pid", None),
                "mosquitto": broker.proc.pid if broker.proc else None, "publisher": proc.pid}
        cpu0 = {k: _cpu_s(pid) for k, pid in pids.items()}
        cpu1 = dict(cpu0)
        threads0 = _thread_cpu()
        load0 = os.getloadavg()
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t_start = time.perf_counter()
        go.set()
        loop = QEventLoop()
        last_change = [time.monotonic()]

        def check() -> None:
            for k, pid in pids.items():  # the publisher exits at the end: keep its last reading
                c = _cpu_s(pid)
                if c is not None:
                    cpu1[k] = c
            now = time.perf_counter()
            r = diag.received
            if r != seen[0]:
                if first_arrival[0] == 0.0:
                    first_arrival[0] = now
                last_arrival[0] = now
                seen[0] = r
                last_change[0] = time.monotonic()
            if (r >= messages and entry.session.ingest.pending == 0) or \
                    (done.is_set() and time.monotonic() - last_change[0] > idle):
                loop.quit()

        poll = QTimer()
        poll.setInterval(20)
        poll.timeout.connect(check)
        poll.start()
        loop.exec()
        poll.stop()
        t_end = time.perf_counter()
        if prof is not None:
            import io
            import pstats

            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(14)
            print("\n".join(line for line in buf.getvalue().splitlines() if line.strip())[:6000])
        threads1 = _thread_cpu()
        load1 = os.getloadavg()
        wall = t_end - t_start
        cpu_pct = {k: round(100 * (cpu1[k] - cpu0[k]) / wall) if cpu0[k] is not None and cpu1[k] is not None
                   else None for k in pids}
        thread_pct = {k: round(100 * (threads1[k] - threads0[k]) / wall) for k in threads0}
        if orbit:
            spin.stop()
        proc.join(timeout=30)
        pump(lambda: entry.session.ingest.pending == 0, 5)
        renders = [e for e in ends if t_start <= e <= t_end]
        intervals = [1000 * (b - a) for a, b in zip(renders, renders[1:])]
        render_ms = [1000 * (e - s) for s, e in zip(starts, ends)]
        span = last_arrival[0] - first_arrival[0]
        applied = diag.applied - applied0
        d = diag.snapshot()
        out = {
            "ingest": ingest, "size": f"{size[0]}x{size[1]}", "orbit": orbit, "messages": messages,
            "sensors": sensors,
            "publish_rate": rate or "max",
            "demo_load_s": round(load_s, 2), "place_s": round(place_s, 2),
            "seconds": round(t_end - t_start, 2), "frames_drawn": len(renders),
            "fps": round(len(renders) / (t_end - t_start), 1),
            "fps_before_ingest": round(idle_fps, 1),
            "interval_ms_median": round(_pct(intervals, 50), 1), "interval_ms_p95": round(_pct(intervals, 95), 1),
            "interval_ms_max": round(max(intervals), 1) if intervals else float("nan"),
            "render_ms_median": round(_pct(render_ms, 50), 1), "render_ms_p95": round(_pct(render_ms, 95), 1),
            "sensor_frames": ctl.frames - frames0,
            "sensor_frame_ms_median": round(_pct(list(ctl.frame_ms), 50), 2),
            "sensor_frame_ms_p95": round(_pct(list(ctl.frame_ms), 95), 2),
            "sensor_frame_ms_max": round(max(ctl.frame_ms), 2) if ctl.frame_ms else float("nan"),
            "received": d["received"], "applied": applied, "rejected": d["rejected"],
            "accounted": diag.accounted(entry.session.ingest.pending),
            "ingest_rate_per_s": round(d["received"] / span) if span > 0 else float("nan"),
            "alerts_total": ctl.alerts_dock.total,
            "cpu_percent_of_one_core": cpu_pct,
            # CPU the viewer spends per frame drawn (all its threads: sensors, render, llvmpipe; and
            # on the thread path paho + parsing): fairly independent of how loaded the machine is
            "viewer_cpu_ms_per_frame": round(1000 * (cpu1["viewer"] - cpu0["viewer"]) / max(len(renders), 1), 1)
            if cpu0["viewer"] is not None and cpu1["viewer"] is not None else None,
            "viewer_cpu_ms_per_frame_before_ingest": round(idle_cpu_ms, 1),
            "viewer_threads_cpu_percent": thread_pct,
            "load_average_start_end": [round(load0[0], 2), round(load1[0], 2)],
            "renderer": win.viewport.render_window.ReportCapabilities().splitlines()[1:3],
        }
    finally:
        win.close()
        broker.close()
        tmp.cleanup()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--sensors", type=int, default=2000)
    p.add_argument("--rate", type=float, default=0.0, help="messages per second to publish (0: as fast as possible)")
    p.add_argument("--orbit", action="store_true", help="turn the camera every tick (a render per tick)")
    p.add_argument("--size", default="1280x800", help="window size WxH")
    p.add_argument("--ingest", choices=("process", "thread"), default="process",
                   help="MQTT ingest in a child process (default, as the viewer) or in paho's thread")
    p.add_argument("--profile", action="store_true", help="cProfile the viewer's main thread while ingesting")
    p.add_argument("--nice", type=int, default=None,
                   help="niceness of the ingest child (default: citytwin.live.ingest_process.DEFAULT_NICE)")
    p.add_argument("--harness-nice", type=int, default=0,
                   help="niceness of the publisher and mosquitto, which in use run on other machines "
                        "(0: they compete with the viewer for this machine's cores)")
    a = p.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("needs a display: run under xvfb-run -a -s '-screen 0 1920x1080x24'", file=sys.stderr)
        return 2
    w, h = (int(v) for v in a.size.lower().split("x"))
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    from citytwin.live import ingest_process

    if a.nice is not None:
        ingest_process.DEFAULT_NICE = a.nice
    print(f"ingest child niceness: {ingest_process.DEFAULT_NICE if a.ingest == 'process' else '-'}")
    print(f"publisher and broker niceness: {a.harness_nice}")
    res = run(a.messages, a.sensors, a.orbit, (w, h), a.rate, ingest=a.ingest, profile=a.profile,
              harness_nice=a.harness_nice)
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{width}}  {v}")
    ok = res["fps"] >= 25 or not res["orbit"]
    print(f"\nframes: {res['fps']} fps drawn while ingesting, {res['fps_before_ingest']} fps before "
          f"(≥ 25 wanted while orbiting), "
          f"median interval {res['interval_ms_median']} ms; ingest {res['ingest_rate_per_s']:,} msg/s; "
          f"sensor frame() median {res['sensor_frame_ms_median']} ms")
    return 0 if res["accounted"] and ok else 1


if __name__ == "__main__":
    sys.exit(main())
