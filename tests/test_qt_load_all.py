"""Every city model file of the shared data (CityGML, CityJSON, OBJ) goes through the GUI
loading path (background reader, visual built on the GUI thread) and is drawn without error."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import qt_fixtures
from qt_fixtures import DATA, load

pytestmark = [pytest.mark.gui, pytest.mark.slow]
PySide6 = pytest.importorskip("PySide6")

make_window = qt_fixtures.make_window  # the fixture

SUFFIXES = (".gml", ".xml", ".gz", ".json", ".jsonl", ".obj")


def model_files() -> list:
    if not DATA.is_dir():
        return []
    out = []
    for p in sorted(DATA.rglob("*")):
        rel = p.relative_to(DATA)
        if p.is_file() and p.name.lower().endswith(SUFFIXES) and rel.parts[0] in ("citygml", "citygml3", "cityjson", "mesh"):
            out.append(p)
    return out


FILES = model_files()


def test_the_shared_data_has_files() -> None:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    kinds = {p.relative_to(DATA).parts[0] for p in FILES}
    assert kinds == {"citygml", "citygml3", "cityjson", "mesh"}
    assert len(FILES) >= 25


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(DATA)) for p in FILES])
def test_file_loads_and_renders_in_the_window(qtbot, make_window, path) -> None:  # noqa: ANN001
    win = make_window((900, 640))
    crs = "EPSG:3946" if "lyon" in path.name.lower() and path.suffix == ".gml" else None
    load(qtbot, win, path, crs=crs)
    errors = [m for m in win.log_dock.messages() if m.startswith(str(path))]
    assert win.log_dock.counts[logging.ERROR] == 0, errors
    assert win.layers, "no layer was added"
    assert sum(lay.model.n_objects for lay in win.layers if lay.owner is None) > 0
    assert sum(lay.visual.n_cells for lay in win.layers) > 0
    # the whole scene: something besides the sky gradient is drawn
    assert drawn_fraction(win) > 0
    # framing the object with the most triangles fills a good part of the view
    lay = max((lay for lay in win.layers), key=lambda lay: lay.visual.n_cells)
    counts = np.bincount(lay.visual.cell_object, minlength=lay.model.n_objects)
    obj = int(np.argmax(counts))
    win.select(lay, obj)
    win.clear_selection()
    bb = lay.model.object_bboxes()[obj] - win.scene.origin
    win.viewport.fly_to(bb, animate=False)
    assert drawn_fraction(win) > 0.01


def drawn_fraction(win) -> float:  # noqa: ANN001
    img = win.viewport.grab_frame().convertToFormat(PySide6.QtGui.QImage.Format.Format_RGB888)
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    rows = buf.reshape(img.height(), img.bytesPerLine())[:, : 3 * img.width()].reshape(img.height(), img.width(), 3)
    differs = np.abs(rows.astype(int) - rows[:, :1].astype(int)).max(axis=2) > 12
    return float(differs.mean())
