"""The Layers dock's grouped "Colour by" menu (every former entry reachable, fits the screen, keyboard)
and the Log dock's one-row-per-kind load reports (with details inside) in the real window under Xvfb."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import qt_fixtures
from qt_fixtures import ROOT

make_window = qt_fixtures.make_window  # the fixture
DEMO_SCENE = ROOT / "scenes" / "demo.toml"

pytestmark = pytest.mark.gui


def _leaves(menu) -> list[tuple[tuple[str, ...], object]]:  # noqa: ANN001
    """``(menu path, entry index)`` of every checkable action under ``menu``, walking sub-menus."""
    out = []
    for a in menu.actions():
        if a.menu() is not None:
            out += [((a.text(), *p), d) for p, d in _leaves(a.menu())]
        elif a.isCheckable():
            out.append(((a.text(),), a.data()))
    return out


def _menus(menu) -> list:  # noqa: ANN001
    return [menu] + [m for a in menu.actions() if a.menu() is not None for m in _menus(a.menu())]


def test_color_by_menu_groups_every_entry_fits_and_works_by_keyboard(qtbot, make_window) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    win = make_window()
    win.open_scene(DEMO_SCENE)
    qtbot.waitUntil(lambda: len(win.layers) >= 1 and len(win.sensors.entries) == 1 and not win.loader.busy,
                    timeout=60_000)
    lay = next(lay for lay in win.layers if lay.kind == "city")
    dock = win.layers_dock
    dock.list.setCurrentRow(win.layers.index(lay))
    cb = dock.color_by
    qtbot.waitUntil(lambda: cb.findData("sensors:idw/both:no2") >= 0, timeout=10_000)
    # what the flat list held, in its order: semantic, the attributes, the sensor modes
    former = [("Semantic surface", "semantic")] + [(n, n) for n in lay.attribute_names()]
    former += win.sensors.surface_modes(lay)
    assert len(former) >= 30 and sum(label.startswith("Sensors:") for label, _ in former) == 18
    assert [(cb.itemText(i), cb.itemData(i)) for i in range(cb.count())] == former  # same labels, same keys
    menu = cb.menu_tree()
    leaves = _leaves(menu)
    assert sorted(d for _, d in leaves) == list(range(len(former)))  # every entry reachable, once
    assert [a.text() for a in menu.actions()] == ["Semantic surface", "Attributes", "Sensors"]
    paths = {cb.itemData(d): p for p, d in leaves}
    assert paths["sensors:idw/ground:no2"] == ("Sensors", "no2", "IDW", "Ground")
    assert paths["sensors:nearest:temperature"] == ("Sensors", "temperature", "nearest", "Buildings")
    assert paths[former[1][1]] == ("Attributes", former[1][0])
    # no menu taller than the screen (1080 px under Xvfb), the longest far from it
    avail = win.screen().availableGeometry().height()
    tallest = max(m.sizeHint().height() for m in _menus(menu))
    assert tallest < avail * 0.9, (tallest, avail)
    assert max(len(m.actions()) for m in _menus(menu)) <= 24

    # keyboard only: focus the button, open, walk to Sensors > no2 > IDW > Ground, Enter
    assert cb.focusPolicy() == Qt.FocusPolicy.StrongFocus  # reachable with Tab
    QTest.keyClick(cb, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=2000)

    def key(k: Qt.Key) -> None:
        QTest.keyClick(QApplication.activePopupWidget(), k)
        qtbot.wait(30)

    for k in (Qt.Key.Key_Down,) * 3 + (Qt.Key.Key_Right,):  # Semantic, Attributes, Sensors >
        key(k)
    props = [a.text() for a in QApplication.activePopupWidget().actions()]
    assert props[0] == "no2"
    for k in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Return):
        key(k)  # no2 > (nearest) IDW > (Buildings) Ground, pick
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=2000)
    assert cb.currentData() == "sensors:idw/ground:no2"
    assert lay.color_by == "sensors:idw/ground:no2"  # the layer follows, under the key scene files save
    assert "Ground" in cb.text() and "IDW" in cb.text()
    # Ctrl+Down steps to the next entry without a menu
    QTest.keyClick(cb, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert cb.currentData() == "sensors:idw/both:no2" and lay.color_by == "sensors:idw/both:no2"
    assert win.scene_file().datasets[0].color_by == "sensors:idw/both:no2"
    cb.setCurrentIndex(cb.findData("semantic"))
    assert lay.color_by == "semantic"


def _missing_textures_gml(path: Path, n: int) -> Path:
    """One building with ``n`` wall polygons, each textured by its own image that does not exist,
    and one non-planar polygon."""
    polys, apps = [], []
    for k in range(n):
        x = 2.0 * k
        polys.append(f'<gml:surfaceMember><gml:Polygon gml:id="p{k}"><gml:exterior><gml:LinearRing gml:id="r{k}">'
                     f"<gml:posList>{x} 0 0 {x + 1} 0 0 {x + 1} 0 1 {x} 0 1 {x} 0 0</gml:posList>"
                     "</gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>")
        apps.append(f"<app:surfaceDataMember><app:ParameterizedTexture><app:imageURI>tex/img_{k}.jpg</app:imageURI>"
                    f'<app:target uri="#p{k}"><app:TexCoordList><app:textureCoordinates ring="#r{k}">'
                    "0 0 1 0 1 1 0 1 0 0</app:textureCoordinates></app:TexCoordList></app:target>"
                    "</app:ParameterizedTexture></app:surfaceDataMember>")
    polys.append('<gml:surfaceMember><gml:Polygon gml:id="bent"><gml:exterior><gml:LinearRing>'
                 "<gml:posList>0 5 0 10 5 0 10 15 3 0 15 0 0 5 0</gml:posList>"
                 "</gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>")
    body = ('<cityObjectMember><bldg:Building gml:id="b"><bldg:boundedBy><bldg:WallSurface>'
            f"<bldg:lod2MultiSurface><gml:MultiSurface>{''.join(polys)}</gml:MultiSurface></bldg:lod2MultiSurface>"
            "</bldg:WallSurface></bldg:boundedBy></bldg:Building></cityObjectMember>"
            f"<app:appearanceMember><app:Appearance><app:theme>day</app:theme>{''.join(apps)}"
            "</app:Appearance></app:appearanceMember>")
    path.write_text('<?xml version="1.0"?><CityModel xmlns="http://www.opengis.net/citygml/2.0" '
                    'xmlns:bldg="http://www.opengis.net/citygml/building/2.0" '
                    'xmlns:app="http://www.opengis.net/citygml/appearance/2.0" '
                    f'xmlns:gml="http://www.opengis.net/gml">{body}</CityModel>')
    return path


def test_report_wording() -> None:
    from citytwin.core.errors import LoadReport, kind_summary, plural

    assert plural(1, "object") == "1 object" and plural(42, "object") == "42 objects"
    assert plural(1_500, "vertex", "vertices") == "1,500 vertices"
    assert kind_summary("non-planar-polygon", 42) == "42 non-planar polygons"
    assert kind_summary("non-planar-polygon", 1) == "1 non-planar polygon"
    assert kind_summary("missing-texture", 148) == "148 missing texture images"
    assert kind_summary("odd-thing", 1) == "odd-thing: 1 warning"
    rep = LoadReport("x")
    for k in range(30):
        rep.warn("missing-texture", f"texture image not found: t{k}.jpg")
    rep.warn("non-planar-polygon", "1 polygon in 1 object: b", n=1)
    s = rep.summary()
    assert [(k, line) for k, line, _ in s] == [("missing-texture", "30 missing texture images"),
                                              ("non-planar-polygon", "1 non-planar polygon")]
    assert len(s[0][2]) == rep.keep == 20 and s[0][2][0] == "texture image not found: t0.jpg"


def test_log_has_one_row_per_kind_with_details(qtbot, make_window, tmp_path) -> None:
    from PySide6.QtCore import Qt

    path = _missing_textures_gml(tmp_path / "many_missing.gml", 148)
    win = make_window()
    log = win.log_dock
    before = log.tree.topLevelItemCount()
    win.open_files([path])
    qtbot.waitUntil(lambda: len(win.layers) == 1 and not win.loader.busy, timeout=60_000)
    qtbot.waitUntil(lambda: any("missing texture" in m for m in log.messages()), timeout=10_000)
    rows = log.messages()[before:]
    ours = [m for m in rows if m.startswith("many_missing.gml:")]
    assert ours == ["many_missing.gml: 148 missing texture images", "many_missing.gml: 1 non-planar polygon"], rows
    assert not any("texture image not found" in m for m in rows)  # no row per image
    assert any(m.startswith("Loaded many_missing.gml: 1 object,") for m in rows)  # "1 object", not "1 objects"
    k = before + rows.index(ours[0])
    item = log.tree.topLevelItem(k)
    assert not item.isExpanded() and item.childCount() == 21  # details on demand
    details = log.details(k)
    assert details[0].endswith("tex/img_0.jpg") and details[-1] == "… and 128 more not listed"
    assert log.details(before + rows.index(ours[1])) == ["1 polygon in 1 object: b"]
    # expanding by keyboard shows them
    log.show()
    log.tree.setCurrentItem(item)
    log.tree.setFocus()
    from PySide6.QtTest import QTest

    QTest.keyClick(log.tree, Qt.Key.Key_Right)
    assert item.isExpanded()
    assert log.counts[logging.WARNING] >= 2
