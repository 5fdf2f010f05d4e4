"""Desktop viewer figures: time to first frame, pick latency, click-to-attributes, GUI
responsiveness while loading, peak RSS. One fresh process per file (needs a display).

Run::

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python benchmarks/bench_viewer.py [FILE ...]

Default file: the Den Haag CityGML tile of the shared data. Measured in a shown
1600x1000 main window with MSAA off (software GL under Xvfb):

* ``open -> first frame``: ``open_files`` called until the layer is drawn (background
  read, visual built on the GUI thread, one synchronous render);
* pick: the first pick with no locator (it is built then; the app normally builds it
  right after the first frame) and then 500 picks at random pixels;
* ``click -> selection shown``: a QTest click at the centre through picking, selection,
  highlight, Attributes and Objects docks;
* GUI gaps: intervals of a 16 ms QTimer during the load (the window keeps repainting);
* peak RSS of the process (``ru_maxrss``).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "citygml" / "denhaag" / "DenHaag_01.gml.gz"


def measure(path: str) -> dict:
    import numpy as np
    from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest

    from citytwin.app import build_window, qt_application

    app = qt_application()
    win = build_window(settings=QSettings("/tmp/citytwin-bench-viewer.ini", QSettings.Format.IniFormat),
                       multi_samples=0)
    win.resize(1600, 1000)
    win.show()
    QTest.qWaitForWindowExposed(win)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(tick)
    timer.start()
    win.open_files([path])
    while "first_frame" not in win.timings or win.loader.busy:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    vp = win.viewport
    for lay in win.layers:
        lay.visual._locator = None  # measure the build too
    w, h = vp.rwi.width(), vp.rwi.height()
    rng = np.random.default_rng(0)
    pts = [QPoint(int(x), int(y)) for x, y in zip(rng.integers(0, w, 501), rng.integers(0, h, 501))]
    t = time.perf_counter()
    vp.pick(pts[0])
    first = (time.perf_counter() - t) * 1000
    lat = []
    for p in pts[1:]:
        t = time.perf_counter()
        vp.pick(p)
        lat.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    QTest.mouseClick(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(w // 2, h // 2))
    click = (time.perf_counter() - t) * 1000
    g = np.array(gaps) * 1000
    out = {
        "file": path,
        "triangles": int(sum(lay.visual.n_cells for lay in win.layers)),
        "layers": len(win.layers),
        "open_to_first_frame_s": round(win.timings["first_frame"], 3),
        "pick_first_ms": round(first, 2),
        "pick_median_ms": round(float(np.median(lat)), 4),
        "pick_p99_ms": round(float(np.percentile(lat, 99)), 4),
        "click_to_selection_ms": round(click, 1),
        "gui_gap_max_ms": round(float(g.max()), 1) if len(g) else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    win.close()
    return out


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--one":
        print(json.dumps(measure(argv[1])))
        return 0
    files = argv or [str(DEFAULT)]
    for f in files:
        r = subprocess.run([sys.executable, __file__, "--one", f], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{f}: failed: {r.stderr.strip().splitlines()[-1:]}")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"{Path(f).name}: {res['triangles']:,} triangles in {res['layers']} layers")
        print(f"  open -> first frame   {res['open_to_first_frame_s']:.2f} s")
        print(f"  pick first / median / p99   {res['pick_first_ms']:.1f} / {res['pick_median_ms']:.3f} / "
              f"{res['pick_p99_ms']:.3f} ms")
        print(f"  click -> selection shown   {res['click_to_selection_ms']:.0f} ms")
        print(f"  longest GUI gap while loading   {res['gui_gap_max_ms']} ms")
        print(f"  peak RSS   {res['peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
