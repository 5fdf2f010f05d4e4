"""Shared fixtures of the GUI tests (tests/test_qt_*.py): a real main window under Xvfb,
closed at teardown, failing the test when a top-level widget leaks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FZK2 = DATA / "citygml" / "fzk-haus" / "FZK-House-LoD2-KIT-IAI-KHH-V2.gml"
DENHAAG_JSON = DATA / "cityjson" / "denhaag" / "DenHaag_01_v1.0.city.json"
DENHAAG_GML = DATA / "citygml" / "denhaag" / "DenHaag_01.gml.gz"


def need_display() -> None:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        pytest.skip("needs a display: run under xvfb-run -a -s '-screen 0 1920x1080x24'")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data file missing: {path}")
    return path


@pytest.fixture
def make_window(qtbot, tmp_path) -> Iterator[Callable[..., object]]:  # noqa: ANN001
    """Factory of shown main windows of a fixed size; all are closed at teardown and
    no top-level widget may survive them."""
    need_display()
    import pyvista
    from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt
    from PySide6.QtWidgets import QApplication

    pyvista.global_theme.multi_samples = 0
    from citytwin.app import build_window, qt_application

    qt_application()
    before = {id(w) for w in QApplication.topLevelWidgets()}
    made = []

    def make(size: tuple[int, int] = (1280, 860)):  # noqa: ANN202
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        win = build_window(settings=settings, multi_samples=0)
        win.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        return win

    yield make
    for win in made:
        try:
            win.close()
        except RuntimeError:  # already deleted
            pass
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if id(w) not in before and w.isVisible()]
    leaked += [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "QtMainWindow"]
    assert not leaked, f"leaked top-level widgets: {[type(w).__name__ for w in leaked]}"


def load(qtbot, win, *paths: Path, crs: str | None = None, timeout: int = 120_000) -> None:  # noqa: ANN001
    """Open files through the GUI loading path and wait until they are shown."""
    win.open_files([str(p) for p in paths], crs=crs)
    qtbot.waitUntil(lambda: not win.loader.busy, timeout=timeout)
    qtbot.wait(10)


def scene_pixel(win, xyz) -> np.ndarray:  # noqa: ANN001
    """RGB of the window's frame at the projected scene point ``xyz`` (3×3 median, avoids edge pixels)."""
    img = win.viewport.grab_frame().convertToFormat(win.viewport.grab_frame().Format.Format_RGB888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(h, img.bytesPerLine())[:, : 3 * w]
    arr = arr.reshape(h, w, 3)
    p = win.viewport.widget_point(xyz)
    dpr = win.viewport.rwi.devicePixelRatioF()
    x, y = int(p.x() * dpr), int(p.y() * dpr)
    patch = arr[max(y - 1, 0): y + 2, max(x - 1, 0): x + 2].reshape(-1, 3).astype(int)
    return np.median(patch, axis=0)


def look_down_at(win, xyz, distance: float = 120.0) -> None:  # noqa: ANN001
    """Put the camera ``distance`` above ``xyz``, looking straight down, north up, and render."""
    win.viewport.set_camera_state({"position": [xyz[0], xyz[1] - 1.0, xyz[2] + distance],
                                   "focal_point": list(map(float, xyz)), "view_up": [0, 1, 0],
                                   "view_angle": 30.0}, animate=False)
    win.viewport.render_sync()


T0 = 1_717_200_000.0  # 2024-06-01T00:00:00Z: the start of the replays written below


def swapping_sensors(qtbot, win, xy_hi, xy_lo, tmp_path: Path):  # noqa: ANN001, ANN201
    """A replayed layer of two NO2 sensors at scene-CRS ``xy_hi`` (50 µg/m³) and ``xy_lo`` (10) whose
    values swap ten minutes later; the clock is paused at ``T0 + 60``. Returns the sensor entry."""
    import datetime as dt

    from citytwin.core.crs import transform_xy
    from citytwin.model.sensor_spec import SensorLayerSpec
    from citytwin.model.sensors import WGS84

    lonlat = transform_xy(np.c_[np.asarray([xy_hi, xy_lo], float)[:, :2], np.zeros(2)], win.scene.crs, WGS84)
    rows = ["time,sensor,value,parameter,unit,lat,lon"]
    for t, (va, vb) in ((T0, (50.0, 10.0)), (T0 + 600, (10.0, 50.0))):
        iso = dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{iso},HI,{va},no2,µg/m³,{lonlat[0, 1]:.8f},{lonlat[0, 0]:.8f}")
        rows.append(f"{iso},LO,{vb},no2,µg/m³,{lonlat[1, 1]:.8f},{lonlat[1, 0]:.8f}")
    rec = tmp_path / "rec.csv"
    rec.write_text("\n".join(rows) + "\n", encoding="utf-8")
    entry = win.sensors.add_spec(SensorLayerSpec(source=str(rec), name="air", stale_after=3600.0))
    assert entry is not None
    qtbot.waitUntil(lambda: len(entry.layer) == 2, timeout=20_000)
    win.sensors.clock.pause()
    win.sensors.time_dock.set_time(T0 + 60)
    return entry
