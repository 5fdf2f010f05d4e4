"""``citytwin feed SOURCE [--topic T] [--count N] [--seconds S] [--json]``: ingest a live or recorded feed.

SOURCE is ``mqtt://host:port`` (``mqtts://`` for TLS), a SensorThings service URL
(``http(s)://…/v1.1``) or a replay file (CSV / JSON / JSON lines). Readings go
through the same ingest → sensor layer path the viewer uses; figures are printed
every second and at the end (``--json``: one JSON object at the end).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import CityTwinError
from ..model.sensors import SensorLayer, SensorLayerSpec, Threshold

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("feed", help="ingest an MQTT, SensorThings or replay feed and print figures",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="SOURCE", help="mqtt://host:port, http(s)://…/v1.1 or a replay file")
    p.add_argument("--topic", action="append", default=[], metavar="T",
                   help="MQTT topic filter (repeatable; default: the mappings' topics and 'v1.1/#')")
    p.add_argument("--qos", type=int, choices=(0, 1, 2), default=1, help="MQTT subscription QoS (1)")
    p.add_argument("--username", help="MQTT / HTTP user")
    p.add_argument("--password-env", metavar="VAR", help="environment variable holding the password")
    p.add_argument("--mapping", action="append", default=[], metavar="JSON",
                   help="plain-JSON mapping: a JSON object (or a file holding one or a list), e.g. "
                        '\'{"topic": "city/{id}/air", "value": "no2", "time": "ts"}\'')
    p.add_argument("--threshold", action="append", default=[], metavar="PROP>V",
                   help="alert threshold, e.g. 'no2>40' or 'temperature<-5' (repeatable)")
    p.add_argument("--count", type=int, help="stop after N messages received")
    p.add_argument("--seconds", type=float, help="stop after S seconds")
    p.add_argument("--speed", type=float, default=0.0,
                   help="replay speed in scene seconds per second (1, 60, 3600…; 0 = as fast as possible)")
    p.add_argument("--loop", action="store_true",
                   help="a replay starts again from its beginning after its end (needs --speed; stop with "
                        "--seconds, --count or Ctrl+C)")
    p.add_argument("--interval", type=float, default=5.0, help="SensorThings poll interval in seconds (5)")
    p.add_argument("--history", type=int, default=256, help="readings kept per datastream (256)")
    p.add_argument("--ingest", choices=("process", "thread"), default="process",
                   help="MQTT: receive and parse in a child process (default, as the viewer does) "
                        "or in paho's thread in this process")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(handler=run)


def _mappings(items: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for it in items:
        text = it
        if not it.lstrip().startswith(("{", "[")):
            try:
                text = Path(it).read_text(encoding="utf-8")
            except OSError as exc:
                raise CityTwinError(f"mapping file {it}: {exc.strerror or exc}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CityTwinError(f"mapping {it[:60]!r} is not JSON: {exc}") from None
        docs = doc if isinstance(doc, list) else [doc]
        for d in docs:
            if not isinstance(d, dict) or "topic" not in d or "value" not in d:
                raise CityTwinError("a mapping needs at least 'topic' and 'value'")
            out.append(d)
    return out


def _thresholds(items: list[str]) -> list[Threshold]:
    out = []
    for it in items:
        m = re.fullmatch(r"\s*([^<>]+?)\s*([<>])\s*(-?[\d.eE+-]+)\s*", it)
        if not m:
            raise CityTwinError(f"threshold {it!r} is not PROPERTY>VALUE or PROPERTY<VALUE")
        v = float(m.group(3))
        out.append(Threshold(m.group(1), above=v if m.group(2) == ">" else None,
                             below=v if m.group(2) == "<" else None))
    return out


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _last_values(layer: SensorLayer, limit: int = 10) -> dict[str, dict[str, Any]]:
    vals, times = layer.latest_at(np.inf)
    order = np.argsort(-np.nan_to_num(times, nan=-np.inf), kind="stable")[:limit]
    out = {}
    for i in order:
        if np.isfinite(times[i]):
            ds = layer.datastreams[i]
            out[ds.id] = {"value": float(vals[i]), "unit": ds.unit.symbol or ds.unit.name,
                          "time": _iso(float(times[i]))}
    return out


def run(args: argparse.Namespace) -> int:
    from ..live.session import SensorSession
    from ..live.topics import check_topic_filters

    check_topic_filters(args.topic, "--topic")  # before connecting: paho only fails in its thread
    if args.loop and args.speed <= 0:
        print("citytwin: error: --loop needs --speed (a replay pushed at once has nothing to loop over)",
              file=sys.stderr)
        return 2
    spec = SensorLayerSpec(source=args.source, topics=list(args.topic), qos=args.qos,
                           username=args.username, password_env=args.password_env,
                           mappings=_mappings(args.mapping), thresholds=_thresholds(args.threshold),
                           history=args.history, replay={"speed": args.speed} if args.speed > 0 else {},
                           loop=args.loop)
    session = SensorSession(spec, poll_interval=args.interval, ingest=args.ingest)
    figures = _loop(args, session)
    figures.update({"source": spec.source, "kind": session.kind})
    if session.kind == "mqtt":
        figures["ingest"] = session.ingest_mode
    if session.replay is not None and session.replay.data.report.counts:
        figures["load_warnings"] = session.replay.data.report.as_dict()
    if args.json:
        sys.stdout.write(json.dumps(figures, ensure_ascii=False) + "\n")
    else:
        _print_summary(figures)
    diag = session.diagnostics
    if session.kind == "mqtt" and diag.connects == 0:
        print(f"citytwin: error: never connected to {spec.source}: {diag.last_error}", file=sys.stderr)
        return 1
    if session.kind == "sensorthings" and figures.get("connection") != "connected":
        print(f"citytwin: error: {diag.last_error or 'no answer from ' + spec.source}", file=sys.stderr)
        return 1
    return 0


def _loop(args: argparse.Namespace, session: Any) -> dict[str, Any]:
    d = session.diagnostics
    layer: SensorLayer = session.layer
    start = time.monotonic()
    next_report = start + 1.0
    last_received = 0
    frame = 1 / 30
    push_all = session.replay is not None and args.speed <= 0
    session.start()
    try:
        while True:
            now = time.monotonic()
            session.frame(np.inf if push_all else None)
            if now >= next_report and not args.json:
                rate = d.received - last_received
                last_received = d.received
                snap = d.snapshot()  # under the counters' lock: the feed thread is writing
                top = sorted(snap["rejected"].items(), key=lambda kv: -kv[1])[:3]
                reasons = ", ".join(f"{k} {n}" for k, n in top)
                sys.stdout.write(f"{now - start:6.0f}s  received {d.received:>9} ({rate:>7}/s)  "
                                 f"parsed {d.parsed:>9}  rejected {d.rejected_total:>7}"
                                 f"{f' ({reasons})' if reasons else ''}  "
                                 f"datastreams {len(layer):>6}  {session.state}\n")
                sys.stdout.flush()
                next_report += 1.0
            if args.count is not None and d.received >= args.count:
                break
            if args.seconds is not None and now - start >= args.seconds:
                break
            if session.done:
                break
            time.sleep(frame)
    except KeyboardInterrupt:
        pass
    finally:
        end = time.monotonic()
        state = session.state
        session.stop()
    session.frame(np.inf if push_all else None)
    secs = end - start
    snap = d.snapshot()
    out = {
        "received": snap["received"], "parsed": snap["parsed"], "applied": snap["applied"],
        "rejected": snap["rejected"], "rejected_total": snap["rejected_total"],
        "datastreams": len(layer), "seconds": round(secs, 3),
        "rate": round(snap["received"] / secs, 1) if secs > 0 else None,
        "alerts": layer.alerts_total,
        "alerts_by_kind": dict(sorted(Counter(a.kind for a in layer.alerts).items())),
        "connects": snap["connects"], "disconnects": snap["disconnects"],
        "last_values": _last_values(layer),
    }
    if session.replay is None:
        out["connection"] = state
    return out


def _print_summary(f: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"{f['source']} ({f['kind']})\n")
    out.write(f"  received     {f['received']} in {f['seconds']:.1f} s ({f['rate'] or 0:.0f}/s)\n")
    out.write(f"  parsed       {f['parsed']}\n  applied      {f['applied']}\n")
    out.write(f"  rejected     {f['rejected_total']}\n")
    for k, n in f["rejected"].items():
        out.write(f"    {k:<24}{n:>9}\n")
    kinds = ", ".join(f"{k} {n}" for k, n in f["alerts_by_kind"].items())
    out.write(f"  datastreams  {f['datastreams']}\n  alerts       {f['alerts']}{f' ({kinds})' if kinds else ''}\n")
    if "connection" in f:
        out.write(f"  connection   {f['connection']} ({f['connects']} connects, {f['disconnects']} drops)\n")
    if "ingest" in f:
        out.write(f"  ingest       {f['ingest']}\n")
    if f["last_values"]:
        out.write("  last values\n")
        for k, v in f["last_values"].items():
            out.write(f"    {k:<32}{v['value']:>12g} {v['unit']:<8} {v['time']}\n")
