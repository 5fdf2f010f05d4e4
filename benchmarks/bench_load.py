"""Loading benchmark: citytwin readers against raw parsing and cjio, one fresh process per run.

For every CityGML / CityJSON / CityJSONSeq / OBJ file in the shared data folder and for
the scale-up files (``scaleup.py``), each measurement runs in a new Python process, so
the peak RSS (``ru_maxrss`` inside the child) belongs to that one load. The time is the
operation alone (modules are imported before the clock starts), best of ``--repeat``
runs, with the file read once beforehand so that it sits in the page cache.

Baselines, same file, same way:

* CityJSON: ``orjson.loads(file bytes)``; cjio 0.10 ``cityjson.reader`` + ``export2obj``
  (``sloppy=True``: mapbox-earcut; ``export2obj`` triangulates every face itself);
* CityJSONSeq: ``orjson.loads`` of every line;
* CityGML: ``lxml.etree.iterparse`` over the whole file, ``events=("end",)``, every
  element cleared and dropped from its parent (gzip files through ``gzip.open``);
* OBJ: ``trimesh.load(path, force="mesh")`` (no target; for scale only).

Usage::

    python benchmarks/bench_load.py [--quick] [--scale N] [--medium M] [--repeat K] [--json OUT]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = REPO.parent / "shared" / "data"
KINDS = {
    "citygml": ["load", "iterparse"],
    "cityjson": ["load", "orjson", "cjio"],
    "cityjsonseq": ["load", "orjson-lines"],
    "mesh": ["load", "trimesh"],
}
READER_MODULE = {
    "citygml": "citytwin.io.citygml",
    "cityjson": "citytwin.io.cityjson",
    "cityjsonseq": "citytwin.io.cityjson",
    "mesh": "citytwin.io.mesh",
}
TARGETS = {
    "cityjson_raw": 5.0,  # load <= 5x orjson.loads
    "cityjson_cjio": 10.0,  # load >= 10x faster than cjio
    "citygml_raw": 3.0,  # load <= 3x iterparse
    "seq100k_s": 15.0,  # 100k-building CityJSONSeq in <= 15 s
    "seq100k_rss_mb": 3000.0,  # ... and <= 3 GB peak RSS
    "gml_rss_tree": 0.5,  # CityGML scale-up: RSS growth <= half of what holding the lxml tree costs
}
SLOW_S = 60.0  # a run slower than this is not repeated
JUDGE_MB = 1.0  # ratio targets are judged on files of at least this size (fixed costs dominate below)

log = logging.getLogger("bench_load")


# ---------------------------------------------------------------------------------------- child side
def _maxrss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0 / 1024.0


def _children_maxrss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0 / 1024.0


class TreeRSS:
    """Samples the summed RSS of this process and its descendants (Linux /proc) in a thread.

    ``ru_maxrss`` covers one process only; a reader that fans out to worker processes
    holds memory in several at once, and this is the figure a user's machine sees.
    """

    def __init__(self, interval: float = 0.02) -> None:
        import threading

        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = Path("/proc/self/status").exists()

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        out: list[int] = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
        return out

    def sample(self) -> None:
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            total += self._rss_kb(pid)
            todo.extend(self._children(pid))
        self.peak_kb = max(self.peak_kb, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeRSS:
        if self.available:
            self.sample()
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.available:
            self._stop.set()
            self._thread.join()
            self.sample()

    @property
    def peak_mb(self) -> float | None:
        return self.peak_kb / 1024.0 if self.available else None


def _open_bytes(path: Path) -> Any:
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _model_mb(model: Any) -> float:
    """Bytes held in the model's numpy arrays (vertices, polygons, triangles, ...)."""
    import numpy as np

    total = 0
    for holder in (model, getattr(model, "polygons", None), getattr(model, "objects", None)):
        if holder is None:
            continue
        for v in vars(holder).values():
            if isinstance(v, np.ndarray):
                total += v.nbytes
    return total / 1e6


def child(kind: str, path: Path, fmt: str) -> dict[str, Any]:
    """Run one measurement in this (fresh) process; returns seconds, RSS and counts."""
    with TreeRSS() as tree:
        out = _child_op(kind, path, fmt)
    out["tree_rss_mb"] = round(tree.peak_mb, 1) if tree.peak_mb is not None else None
    out["children_rss_mb"] = round(_children_maxrss_mb(), 1)
    return out


def _child_op(kind: str, path: Path, fmt: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kind == "load":
        import importlib

        from citytwin.io import read

        importlib.import_module(READER_MODULE[fmt])
        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        model = read(path)
        out["seconds"] = time.perf_counter() - t0
        out.update(
            objects=model.n_objects,
            triangles=model.n_triangles,
            counts=model.objects.counts_by_type(),
            model_mb=round(_model_mb(model), 1),
            warnings=sum(model.report.counts.values()) if hasattr(model.report, "counts") else None,
        )
    elif kind == "orjson":
        import orjson

        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            doc = orjson.loads(f.read())
        out["seconds"] = time.perf_counter() - t0
        out["objects"] = len(doc.get("CityObjects", {}))
    elif kind == "orjson-lines":
        import orjson

        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        n = 0
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    n += len(orjson.loads(line).get("CityObjects", {}))
        out["seconds"] = time.perf_counter() - t0
        out["objects"] = n
    elif kind == "lxml-tree":  # the whole document as one lxml tree: what not streaming would cost
        from lxml import etree

        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        with _open_bytes(path) as f:
            tree = etree.parse(f)
        out["seconds"] = time.perf_counter() - t0
        out["elements"] = sum(1 for _ in tree.iter())
    elif kind == "iterparse":
        from lxml import etree

        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        n = 0
        with _open_bytes(path) as f:
            for _ev, el in etree.iterparse(f, events=("end",)):
                n += 1
                el.clear(keep_tail=True)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
        out["seconds"] = time.perf_counter() - t0
        out["elements"] = n
    elif kind == "cjio":
        from cjio import cityjson

        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        with open(path, encoding="utf-8-sig") as f:
            cm = cityjson.reader(file=f)
        res = cm.export2obj(True)
        obj = res[0] if isinstance(res, tuple) else res
        with open(os.devnull, "w") as dn:
            dn.write(obj.getvalue())
        out["seconds"] = time.perf_counter() - t0
        out["objects"] = len(cm.j["CityObjects"])
        out["triangles"] = obj.getvalue().count("\nf ")
    elif kind == "trimesh":
        import trimesh

        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        mesh = trimesh.load(str(path), force="mesh")
        out["seconds"] = time.perf_counter() - t0
        out["triangles"] = len(mesh.faces)
    else:
        raise ValueError(kind)
    out["rss_mb"] = round(_maxrss_mb(), 1)
    out["rss_before_mb"] = round(rss0, 1)
    return out


# --------------------------------------------------------------------------------------- parent side
@dataclass
class Entry:
    """One file to measure."""

    path: Path
    fmt: str
    label: str
    scale: str | None = None  # "seq100k", "json", "gml" for the scale-up files
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @cached_property
    def size(self) -> int:
        """Bytes parsed (uncompressed size for gzip files)."""
        with open(self.path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return self.path.stat().st_size
        n = 0
        with gzip.open(self.path, "rb") as g:
            while chunk := g.read(1 << 22):
                n += len(chunk)
        return n


def format_of(path: Path) -> str | None:
    """Benchmark format of a shared-data file by its name, or None to leave it out."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith((".gml", ".xml")):
        return "citygml"
    if name.endswith(".jsonl"):
        return "cityjsonseq"
    if name.endswith(".city.json"):
        return "cityjson"
    if name.endswith(".json"):
        with open(path, "rb") as f:
            return "cityjson" if b'"CityJSON"' in f.read(1 << 16) else None
    if name.endswith(".obj"):
        return "mesh"
    return None


def shared_files(data: Path) -> list[Entry]:
    """The CityGML/CityJSON/CityJSONSeq/OBJ files of the shared data folder."""
    out = []
    for p in sorted(data.rglob("*")):
        fmt = format_of(p) if p.is_file() else None
        if fmt:
            out.append(Entry(p, fmt, str(p.relative_to(data))))
    return out


def scale_files(n_seq: int, n_medium: int) -> list[Entry]:
    """Generate (or find cached) the scale-up files."""
    sys.path.insert(0, str(HERE))
    import scaleup

    out = []
    for fmt, n, bfmt, tag in (
        ("json", n_medium, "cityjson", "json"),
        ("gml", n_medium, "citygml", "gml"),
        ("jsonl", n_seq, "cityjsonseq", "seq"),
    ):
        if n <= 0:
            continue
        res = scaleup.generate(fmt, n)
        state = "cached" if res["cached"] else f"generated in {res['result']['seconds']:.1f} s"
        log.info("scale-up %s: %s (%s)", fmt, res["path"], state)
        out.append(Entry(res["path"], bfmt, f"scaleup/{res['path'].name}", tag))
    return out


def run_child(kind: str, entry: Entry, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(entry.path), entry.fmt]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return {"error": err[:160]}
    return json.loads(lines[-1])


def measure(entry: Entry, kind: str, repeat: int, timeout: float) -> dict[str, Any]:
    """Best of ``repeat`` fresh-process runs (time: minimum; RSS: maximum)."""
    runs: list[dict[str, Any]] = []
    for _ in range(repeat):
        r = run_child(kind, entry, timeout)
        if "error" in r:
            return r
        runs.append(r)
        if r["seconds"] > SLOW_S:
            break
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["runs"] = len(runs)
    best["all_seconds"] = [round(r["seconds"], 4) for r in runs]
    best["rss_mb"] = max(r["rss_mb"] for r in runs)
    trees = [r["tree_rss_mb"] for r in runs if r.get("tree_rss_mb") is not None]
    best["tree_rss_mb"] = max(trees) if trees else None
    return best


def warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def machine_info(argv: list[str]) -> dict[str, Any]:
    import importlib.metadata as md

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for pkg in ("citytwin", "numpy", "orjson", "lxml", "cjio", "mapbox_earcut", "trimesh", "pyproj"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip()
    except OSError:
        commit = ""
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = None
    return {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *argv]),
        "cwd": str(Path.cwd()),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "mem_gb": round(mem_gb, 1) if mem_gb else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "git": commit,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def print_header(info: dict[str, Any], *lines: str) -> None:
    """The command, commit, machine and load lines every benchmark starts with, then ``lines``."""
    w = sys.stdout.write
    w(f"# command: {info['command']}\n# git: {info['git']}   date: {info['date_utc']} UTC\n")
    w(f"# machine: {info['cpu']}, {info['cores']} cores ({info['affinity']} usable), {info['mem_gb']} GB RAM; "
      f"python {info['python']}\n")
    w(f"# load average at start: {info['loadavg_start']}\n")
    for line in lines:
        w(f"# {line}\n")
    w("\n")


# ------------------------------------------------------------------------------------------ printing
def _f(v: Any, spec: str, width: int) -> str:
    if v is None:
        return "-".rjust(width)
    return format(v, spec).rjust(width)


def row_values(e: Entry) -> dict[str, Any]:
    """Derived figures of one file (None where not measured)."""
    load = e.results.get("load", {})
    mb = e.size / 1e6
    v: dict[str, Any] = {"file": e.label, "fmt": e.fmt, "mb": mb, "error": load.get("error")}
    s = load.get("seconds")
    v.update(
        objects=load.get("objects"),
        triangles=load.get("triangles"),
        seconds=s,
        mb_s=mb / s if s else None,
        obj_s=load.get("objects", 0) / s if s else None,
        rss=load.get("rss_mb"),
        tree=load.get("tree_rss_mb"),
        rss_growth=(load["rss_mb"] - load["rss_before_mb"]) if "rss_mb" in load else None,
        model_mb=load.get("model_mb"),
        runs=load.get("runs"),
    )
    raw_kind = next((k for k in KINDS[e.fmt][1:] if k != "cjio"), None)
    raw = e.results.get(raw_kind, {}) if raw_kind else {}
    v["raw_kind"] = raw_kind
    v["raw_s"] = raw.get("seconds")
    v["raw_error"] = raw.get("error")
    v["raw_rss"] = raw.get("rss_mb")
    v["load_raw"] = s / raw["seconds"] if s and raw.get("seconds") else None
    cj = e.results.get("cjio", {})
    v["cjio_s"] = cj.get("seconds")
    v["cjio_load"] = cj["seconds"] / s if s and cj.get("seconds") else None
    v["cjio_error"] = cj.get("error")
    v["raw_target"] = {"cityjson": TARGETS["cityjson_raw"], "citygml": TARGETS["citygml_raw"]}.get(e.fmt)
    return v


def print_table(entries: list[Entry], info: dict[str, Any]) -> list[dict[str, Any]]:
    w = sys.stdout.write
    w(f"# command: {info['command']}\n")
    w(f"# cwd: {info['cwd']}   git: {info['git']}   date: {info['date_utc']} UTC\n")
    w(
        f"# machine: {info['cpu']}, {info['cores']} cores ({info['affinity']} usable), {info['mem_gb']} GB RAM; "
        f"python {info['python']} on {info['platform']}\n"
    )
    w("# versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + "\n")
    w(f"# load average: start {info['loadavg_start']}, end {info.get('loadavg_end')}\n")
    w(
        "# times: best of the runs, each in a fresh process, file in page cache; RSS: peak of the child "
        "(ru_maxrss, incl. interpreter and imports), growth = peak - RSS after imports; tree MB = peak of the "
        "summed RSS of the child and its worker processes (sampled every 20 ms)\n\n"
    )
    hdr = (
        f"{'file':<58} {'fmt':<11} {'MB':>7} {'objects':>8} {'triangles':>10} {'load s':>8} {'MB/s':>6} "
        f"{'obj/s':>8} {'RSS MB':>7} {'grow MB':>7} {'tree MB':>7} | {'raw':<12} {'raw s':>7} {'load/raw':>8} {'target':>6} "
        f"| {'cjio s':>7} {'cjio/load':>9} {'target':>6}\n"
    )
    w(hdr)
    w("-" * (len(hdr) - 1) + "\n")
    rows = []
    for e in entries:
        v = row_values(e)
        rows.append(v)
        lab = v["file"] if len(v["file"]) <= 58 else "..." + v["file"][-55:]
        if v["error"]:
            w(f"{lab:<58} {v['fmt']:<11} {v['mb']:7.2f}  ERROR: {v['error']}\n")
            continue
        raw_t = f"<={v['raw_target']:g}x" if v["raw_target"] else ""
        cj_t = ">=10x" if e.fmt == "cityjson" else ""
        cj_s = _f(v["cjio_s"], ".3f", 7) if not v["cjio_error"] else "    n/a"
        w(
            f"{lab:<58} {v['fmt']:<11} {v['mb']:7.2f} {_f(v['objects'], 'd', 8)} {_f(v['triangles'], 'd', 10)} "
            f"{_f(v['seconds'], '.3f', 8)} {_f(v['mb_s'], '.1f', 6)} {_f(v['obj_s'], ',.0f', 8)} "
            f"{_f(v['rss'], '.0f', 7)} {_f(v['rss_growth'], '.0f', 7)} {_f(v['tree'], '.0f', 7)} | "
            f"{v['raw_kind'] or '':<12} "
            f"{'    n/a' if v['raw_error'] else _f(v['raw_s'], '.3f', 7)} {_f(v['load_raw'], '.2f', 8)} {raw_t:>6} "
            f"| {cj_s} {_f(v['cjio_load'], '.1f', 9)} {cj_t:>6}\n"
        )
    return rows


def check_targets(entries: list[Entry]) -> list[str]:
    """One line per target: PASS/FAIL with the figure."""
    lines = []

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    for e in entries:
        v = row_values(e)
        if v["error"] or v["seconds"] is None or v["mb"] < JUDGE_MB:
            continue
        if e.fmt == "cityjson" and v["load_raw"] is not None:
            lines.append(
                f"{verdict(v['load_raw'] <= TARGETS['cityjson_raw'])}  {e.label}: load/orjson "
                f"{v['load_raw']:.2f}x (target <= {TARGETS['cityjson_raw']:g}x)"
            )
        if e.fmt == "cityjson" and v["cjio_load"] is not None:
            lines.append(
                f"{verdict(v['cjio_load'] >= TARGETS['cityjson_cjio'])}  {e.label}: cjio/load "
                f"{v['cjio_load']:.1f}x (target >= {TARGETS['cityjson_cjio']:g}x)"
            )
        if e.fmt == "citygml" and v["load_raw"] is not None:
            lines.append(
                f"{verdict(v['load_raw'] <= TARGETS['citygml_raw'])}  {e.label}: load/iterparse "
                f"{v['load_raw']:.2f}x (target <= {TARGETS['citygml_raw']:g}x)"
            )
        if (
            e.scale == "seq"
            and (v["objects"] or 0)
            and e.results["load"].get("counts", {}).get("Building", 0) >= 100_000
        ):
            peak = max(v["rss"], v["tree"] or 0.0)
            ok = v["seconds"] <= TARGETS["seq100k_s"] and peak <= TARGETS["seq100k_rss_mb"]
            lines.append(
                f"{verdict(ok)}  {e.label}: {v['seconds']:.2f} s, peak RSS {peak:.0f} MB "
                f"(main process {v['rss']:.0f} MB) "
                f"(target <= {TARGETS['seq100k_s']:g} s and <= {TARGETS['seq100k_rss_mb']:g} MB)"
            )
        tree = e.results.get("lxml-tree", {})
        if e.scale == "gml" and v["rss_growth"] is not None and "rss_mb" in tree:
            tree_growth = tree["rss_mb"] - tree["rss_before_mb"]
            ratio = v["rss_growth"] / tree_growth
            lines.append(
                f"{verdict(ratio <= TARGETS['gml_rss_tree'])}  {e.label}: RSS growth {v['rss_growth']:.0f} MB = "
                f"{ratio:.2f}x that of holding the whole lxml tree ({tree_growth:.0f} MB); file {v['mb']:.0f} MB, "
                f"model arrays {v['model_mb']:.0f} MB (target <= {TARGETS['gml_rss_tree']:g}x the tree)"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        kind, path, fmt = argv[1], Path(argv[2]), argv[3]
        logging.disable(logging.CRITICAL)
        sys.stdout.write(json.dumps(child(kind, path, fmt)) + "\n")
        return 0
    ap = argparse.ArgumentParser(description="citytwin loading benchmark")
    ap.add_argument("--quick", action="store_true", help="shared data files only (no scale-up files)")
    ap.add_argument("--scale", type=int, default=100_000, help="Buildings in the CityJSONSeq scale-up file")
    ap.add_argument(
        "--medium", type=int, default=10_000, help="Buildings in the CityJSON and CityGML scale-up files"
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    ap.add_argument("--data", type=Path, default=DATA, help="shared data folder")
    ap.add_argument("--only", default="", help="only files whose path contains this text")
    ap.add_argument("--no-cjio", action="store_true", help="skip the cjio baseline")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="# %(message)s", stream=sys.stderr)
    info = machine_info([os.path.relpath(Path(__file__).resolve())] + argv)
    entries = shared_files(args.data) if args.data.exists() else []
    if not args.quick:
        entries += scale_files(args.scale, args.medium)
    if args.only:
        entries = [e for e in entries if args.only in e.label]
    for e in entries:
        warm(e.path)
        for kind in KINDS[e.fmt] + (["lxml-tree"] if e.scale == "gml" else []):
            if kind == "cjio" and args.no_cjio:
                continue
            t0 = time.perf_counter()
            e.results[kind] = measure(e, kind, args.repeat, args.timeout)
            log.info("%-60s %-12s %6.1f s", e.label, kind, time.perf_counter() - t0)
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    rows = print_table(entries, info)
    verdicts = check_targets(entries)
    sys.stdout.write(
        f"\n# targets (ratios judged on files >= {JUDGE_MB:g} MB; n/a = baseline failed, e.g. cjio needs a transform)\n"
        + "".join(line + "\n" for line in verdicts)
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": info,
            "targets": TARGETS,
            "rows": rows,
            "raw": {e.label: e.results for e in entries},
            "verdicts": verdicts,
        }
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
