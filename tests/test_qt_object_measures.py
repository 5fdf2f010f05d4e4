"""The Attributes dock, the Objects table and its filter agree on height and areas in the
demo district: the terrain and the roads have no height or footprint (blank), and the
terrain's surface area is its real 3D area even when picked from the table (whose layer
does not draw the split-off terrain's triangles)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import qt_fixtures
from qt_fixtures import ROOT, load

make_window = qt_fixtures.make_window  # the fixture
DEMO_CITY = ROOT / "scenes" / "demo" / "demo_district.city.json"

pytestmark = pytest.mark.gui


def _m2(text: str | None) -> float:
    assert text and text.endswith(" m²"), text
    return float(text[:-3].replace(",", ""))


def test_demo_terrain_and_roads_blank_height_and_footprint(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, DEMO_CITY)
    city = next(lay for lay in win.layers if lay.owner is None)
    assert any(lay.owner is city and lay.kind == "terrain" for lay in win.layers)  # the TIN is split off
    m = city.model
    types = np.asarray(m.objects.types)
    tin = int(np.flatnonzero(types == "TINRelief")[0])
    road = int(np.flatnonzero(types == "Road")[0])
    bld = int(np.flatnonzero(types == "Building")[0])
    dock = win.attributes_dock

    win.select(city, tin)  # as the Objects table does: the owner layer, not the terrain layer
    assert dock.value_of("height") == "" and dock.value_of("footprint area") == ""
    area, plan = _m2(dock.value_of("surface area")), _m2(dock.value_of("plan area"))
    assert area > plan > 100_000  # a sloped terrain: 3D area above its map area, never 0
    assert area == pytest.approx(m.surface_area(tin), rel=1e-4)

    win.select(city, road)
    assert dock.value_of("height") == "" and dock.value_of("footprint area") == ""
    assert _m2(dock.value_of("surface area")) > 0

    win.select(city, bld)
    h = dock.value_of("height")
    assert h and float(h[:-2]) == pytest.approx(m.height(bld), abs=0.01)
    assert 0 < _m2(dock.value_of("footprint area")) < _m2(dock.value_of("surface area"))

    # the Objects table: blank height for terrain and roads, and the filter agrees
    table = win.objects_dock.model
    hcol, idcol = table.columns.index("Height"), table.columns.index("ID")
    cells = {table.data(table.index(r, idcol)): table.data(table.index(r, hcol)) for r in range(table.rowCount())}
    assert cells[m.objects.ids[tin]] == "" and cells[m.objects.ids[road]] == ""
    assert cells[m.objects.ids[bld]] == f"{m.height(bld):.2f}"
    win.objects_dock.filter_edit.setText("height > 20")
    QTest.keyClick(win.objects_dock.filter_edit, Qt.Key.Key_Return)
    shown = {table.data(table.index(r, idcol)) for r in range(table.rowCount())}
    assert shown and m.objects.ids[tin] not in shown and m.objects.ids[road] not in shown
    assert all(not math.isnan(m.height(m.objects.ids.index(i))) and m.height(m.objects.ids.index(i)) > 20
               for i in shown)
