"""The desktop viewer, for real: a shown main window under Xvfb, real VTK rendering,
mouse clicks and key presses through QTest, pixels read back from the frame."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from lxml import etree

import qt_fixtures
from qt_fixtures import DENHAAG_GML, DENHAAG_JSON, FZK2, load, need

make_window = qt_fixtures.make_window  # the fixture

pytestmark = pytest.mark.gui

PySide6 = pytest.importorskip("PySide6")
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402


# ------------------------------------------------------------------ helpers
def top_view(qtbot, win) -> None:  # noqa: ANN001
    win.viewport.set_view("top", animate=False)
    win.viewport.render_sync()
    qtbot.wait(20)


def roof_target(win, layer_index: int = 0):  # noqa: ANN001, ANN201
    """(object, scene point): the centroid of the largest roof triangle of the building with
    the largest roof, seen from above it is that building."""
    from citytwin.model.semantics import SEMANTICS

    lay = win.layers[layer_index]
    m = lay.model
    roof = np.flatnonzero(m.tri_semantic == SEMANTICS.index("RoofSurface"))
    if len(roof) == 0:
        roof = np.arange(m.n_triangles)
    areas = m.triangle_areas()[roof]
    t = roof[int(np.argmax(areas))]
    centroid = m.vertices[m.triangles[t]].astype(np.float64).mean(axis=0)
    offset = np.asarray(m.origin) - np.asarray(win.scene.origin)
    return int(m.tri_object[t]), centroid + offset


def pixel(win, pos: QPoint) -> tuple[int, int, int]:  # noqa: ANN001
    img = win.viewport.grab_frame()
    dpr = img.devicePixelRatio()
    c = img.pixelColor(int(pos.x() * dpr), int(pos.y() * dpr))
    return c.red(), c.green(), c.blue()


def frame_array(win) -> np.ndarray:  # noqa: ANN001
    img = win.viewport.grab_frame().convertToFormat(PySide6.QtGui.QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def gml_ids(path, tag: str) -> set[str]:  # noqa: ANN001
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        tree = etree.parse(fh)
    gid = "{http://www.opengis.net/gml}id"
    return {e.get(gid) for e in tree.iter() if isinstance(e.tag, str) and etree.QName(e).localname == tag}


# ------------------------------------------------------------------ tests
def test_click_selects_fzk_house_and_shows_its_id(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(FZK2))
    assert len(win.layers) == 1
    building_ids = gml_ids(FZK2, "Building")
    assert len(building_ids) == 1
    top_view(qtbot, win)
    obj, point = roof_target(win)
    pos = win.viewport.widget_point(point)
    QTest.mouseClick(win.viewport.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(lambda: win.selection is not None, timeout=5000)
    lay, sel = win.selection
    assert lay.model.objects.ids[sel] in building_ids
    assert win.attributes_dock.value_of("id") == lay.model.objects.ids[sel]
    assert win.attributes_dock.value_of("type") == "Building"
    # highlighted: the roof pixel turned the highlight colour, Esc clears it
    from citytwin.model.style import HIGHLIGHT_RGB

    px = pixel(win, pos)
    assert np.abs(np.subtract(px, HIGHLIGHT_RGB)).max() < 90, px
    QTest.keyClick(win.viewport.rwi, Qt.Key.Key_Escape)
    assert win.selection is None
    assert win.attributes_dock.value_of("id") is None
    # clicking the sky clears too
    QTest.mouseClick(win.viewport.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(lambda: win.selection is not None, timeout=5000)
    QTest.mouseClick(win.viewport.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(3, 3))
    qtbot.waitUntil(lambda: win.selection is None, timeout=5000)


def test_denhaag_pick_colour_by_hide_and_status(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(DENHAAG_JSON))
    with open(DENHAAG_JSON, "rb") as fh:
        doc = json.load(fh)
    city_objects = doc["CityObjects"]
    kinds = sorted(lay.kind for lay in win.layers)
    assert kinds == ["city", "terrain"]  # the TIN gets its own layer
    city = next(i for i, lay in enumerate(win.layers) if lay.kind == "city")
    top_view(qtbot, win)
    obj, point = roof_target(win, city)
    target_id = win.layers[city].model.objects.ids[obj]
    assert target_id in city_objects
    pos = win.viewport.widget_point(point)

    # hover: coordinates of the scene CRS and WGS84 in the status bar
    QTest.mouseMove(win.viewport.rwi, pos)
    qtbot.waitUntil(lambda: "°N" in win.coord_label.text(), timeout=5000)
    world = point + win.scene.origin
    assert f"X {world[0]:,.0f}"[:-2] in win.coord_label.text()
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True).transform(world[0], world[1])
    assert f"{lat:.4f}" in win.coord_label.text() and f"{lon:.4f}" in win.coord_label.text()
    assert 52.0 < lat < 52.2 and 4.2 < lon < 4.4  # The Hague

    # click -> selection -> Attributes dock shows the id from the file
    QTest.mouseClick(win.viewport.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(lambda: win.selection is not None, timeout=5000)
    assert win.attributes_dock.value_of("id") == target_id
    assert win.attributes_dock.value_of("type") == city_objects[target_id]["type"]
    assert win.viewport.last_pick_ms < 1000
    win.clear_selection()

    # colour by an attribute of that object changes its pixels; semantic brings them back
    semantic_px = pixel(win, pos)
    attrs = city_objects[target_id].get("attributes", {})
    numeric = [k for k, v in attrs.items() if isinstance(v, (int, float))]
    assert numeric, f"{target_id} has no numeric attribute"
    dock = win.layers_dock
    dock.list.setCurrentRow(city)
    i = dock.color_by.findData(numeric[0])
    assert i >= 0
    dock.color_by.setCurrentIndex(i)
    assert win.layers[city].color_by == numeric[0]
    themed_px = pixel(win, pos)
    assert np.abs(np.subtract(themed_px, semantic_px)).max() > 30, (semantic_px, themed_px)
    dock.color_by.setCurrentIndex(dock.color_by.findData("semantic"))
    assert np.abs(np.subtract(pixel(win, pos), semantic_px)).max() < 8

    # hiding the layer removes its pixels (and it can no longer be picked)
    shown = frame_array(win).astype(int)
    dock.set_checked(city, False)
    assert not win.layers[city].visible
    hidden = frame_array(win).astype(int)
    hidden_px = pixel(win, pos)
    assert np.abs(np.subtract(hidden_px, semantic_px)).max() > 15
    changed = np.abs(shown - hidden).max(axis=2) > 10
    assert changed.mean() > 0.05  # every building drawn before is gone
    hit = win.viewport.pick(pos)
    assert hit is None or win.layers[hit.layer].kind == "terrain"
    for row in range(len(win.layers)):
        dock.set_checked(row, False)
    arr = frame_array(win).astype(int)
    h, w = arr.shape[:2]
    arr = arr[h // 5 : -h // 5, w // 5 : -w // 5]  # away from the north arrow and scale bar
    # only the sky gradient is left: every row is one colour
    assert (np.abs(arr - arr[:, :1]).max(axis=(1, 2)) <= 2).all()
    dock.set_checked(city, True)
    assert np.abs(np.subtract(pixel(win, pos), semantic_px)).max() < 8


def test_screenshot_export_1x_2x_not_blank(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    from PIL import Image

    win = make_window((1000, 700))
    load(qtbot, win, need(DENHAAG_JSON))
    p1 = win.export_png(tmp_path / "v1.png", 1)
    p2 = win.export_png(tmp_path / "v2.png", 2)
    a1 = np.asarray(Image.open(p1).convert("RGB"))
    a2 = np.asarray(Image.open(p2).convert("RGB"))
    h, w = a1.shape[:2]
    assert (w, h) == (win.viewport.rwi.width(), win.viewport.rwi.height())
    assert a2.shape[:2] == (2 * h, 2 * w)
    for a in (a1, a2):
        # more than background: many colours, and a good share of pixels differ from their row's edge
        assert len(np.unique(a.reshape(-1, 3), axis=0)) > 100
        differs = np.abs(a.astype(int) - a[:, :1].astype(int)).max(axis=2) > 12
        assert differs.mean() > 0.05
    win.grab().save(str(tmp_path / "window.png"))


def test_walk_mode_moves_camera_at_eye_height(qtbot, make_window) -> None:  # noqa: ANN001
    from citytwin.qt.viewport import EYE_HEIGHT

    win = make_window()
    load(qtbot, win, need(DENHAAG_JSON))
    vp = win.viewport
    win.act_walk.trigger()
    assert vp.walk_mode
    cam = vp.renderer.GetActiveCamera()
    vp.collide = False  # measure the steps in the open; collisions are tested below
    p0 = np.array(cam.GetPosition())
    g0 = vp.ground_height(*p0)
    assert p0[2] - g0 == pytest.approx(EYE_HEIGHT, abs=0.05)
    for _ in range(5):
        QTest.keyClick(vp.rwi, Qt.Key.Key_W)
    p1 = np.array(cam.GetPosition())
    assert np.linalg.norm((p1 - p0)[:2]) == pytest.approx(5 * vp.walk_speed, rel=0.05)
    assert p1[2] - vp.ground_height(*p1) == pytest.approx(EYE_HEIGHT, abs=0.05)
    QTest.keyClick(vp.rwi, Qt.Key.Key_D)
    p2 = np.array(cam.GetPosition())
    assert np.linalg.norm((p2 - p1)[:2]) == pytest.approx(vp.walk_speed, rel=0.05)
    # looking around by dragging turns the view direction, not the position
    d0 = np.array(cam.GetFocalPoint()) - p2
    c = QPoint(vp.rwi.width() // 2, vp.rwi.height() // 2)
    QTest.mousePress(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
    QTest.mouseMove(vp.rwi, c + QPoint(60, 0))
    QTest.mouseRelease(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c + QPoint(60, 0))
    d1 = np.array(cam.GetFocalPoint()) - np.array(cam.GetPosition())
    assert np.allclose(cam.GetPosition(), p2)
    assert np.degrees(np.arccos(np.dot(d0, d1) / np.linalg.norm(d0) / np.linalg.norm(d1))) > 5
    QTest.keyClick(vp.rwi, Qt.Key.Key_Escape)
    assert not vp.walk_mode and not win.act_walk.isChecked()


def test_objects_filter_sort_and_row_selection(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(DENHAAG_JSON))
    with open(DENHAAG_JSON, "rb") as fh:
        cos = json.load(fh)["CityObjects"]
    dock = win.objects_dock
    model = dock.model
    assert model.rowCount() == len(cos)  # the terrain layer does not list its objects twice
    dock.filter_edit.setText('type == "Building"')
    QTest.keyClick(dock.filter_edit, Qt.Key.Key_Return)
    n_buildings = sum(1 for o in cos.values() if o["type"] == "Building")
    assert model.rowCount() == n_buildings
    id_col = model.columns.index("ID")
    shown = {model.data(model.index(r, id_col)) for r in range(model.rowCount())}
    assert shown == {k for k, o in cos.items() if o["type"] == "Building"}
    assert dock.count_label.text() == f"{n_buildings:,} of {len(cos):,}"

    # an attribute filter, checked against the file
    key = "RelativeRidgeHeight"
    if key:
        dock.filter_edit.setText(f"{key} > 10")
        QTest.keyClick(dock.filter_edit, Qt.Key.Key_Return)
        expected = {k for k, o in cos.items() if isinstance(o.get("attributes", {}).get(key), (int, float))
                    and o["attributes"][key] > 10}
        got = {model.data(model.index(r, id_col)) for r in range(model.rowCount())}
        assert got == expected and expected
    # a bad expression keeps the rows and says so
    before = model.rowCount()
    dock.filter_edit.setText("height >>> 3")
    QTest.keyClick(dock.filter_edit, Qt.Key.Key_Return)
    assert model.rowCount() == before and dock.count_label.text() == "invalid filter"
    dock.filter_edit.clear()
    assert model.rowCount() == len(cos)

    # sort by ID descending
    dock.view.sortByColumn(id_col, Qt.SortOrder.DescendingOrder)
    ids = [model.data(model.index(r, id_col)) for r in range(model.rowCount())]
    assert ids == sorted(cos, reverse=True)

    # selecting a row selects the object and flies to it
    cam0 = win.viewport.camera_state()["focal_point"]
    dock.view.selectRow(3)
    qtbot.waitUntil(lambda: win.selection is not None, timeout=5000)
    lay, obj = win.selection
    assert lay.model.objects.ids[obj] == ids[3]
    assert win.attributes_dock.value_of("id") == ids[3]
    win.viewport.finish_animation()
    assert not np.allclose(win.viewport.camera_state()["focal_point"], cam0)


def test_loading_can_be_cancelled(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    with qtbot.waitSignal(win.loader.cancelled, timeout=120_000):
        win.open_files([str(need(DENHAAG_GML))])
        assert win.progress.isVisible() or win.loader.busy
        qtbot.wait(30)
        QTest.mouseClick(win.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.loader.busy, timeout=60_000)
    assert win.layers == []
    assert not win.progress.isVisible()
    assert any("cancelled" in m.lower() for m in win.log_dock.messages())
    # and the window still loads afterwards
    load(qtbot, win, need(FZK2))
    assert len(win.layers) == 1


def test_bad_files_go_to_the_log_not_a_crash(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "broken.gml"
    bad.write_text("<CityModel><notclosed>")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02 not a city model")
    win = make_window()
    load(qtbot, win, bad, junk, tmp_path / "missing.city.json")
    assert win.layers == []
    errors = [m for m in win.log_dock.messages() if "broken.gml" in m or "junk.bin" in m or "missing" in m]
    assert len(errors) >= 3
    assert win.log_dock.counts[logging.ERROR] >= 3


def test_measure_distance_height_and_area(qtbot, make_window) -> None:  # noqa: ANN001
    from citytwin.model import measure

    win = make_window()
    load(qtbot, win, need(FZK2))
    top_view(qtbot, win)
    vp = win.viewport
    w, h = vp.rwi.width(), vp.rwi.height()
    pts = [QPoint(w // 2 - 40, h // 2 - 20), QPoint(w // 2 + 40, h // 2 + 20), QPoint(w // 2 + 40, h // 2 - 20)]
    hits = [vp.pick(p) for p in pts]
    assert all(hits)
    win.measure_actions["distance"].trigger()
    for p in pts[:2]:
        QTest.mouseClick(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    res = win.measure_tool.results
    assert len(res) == 1 and res[0].kind == "distance"
    expect = measure.distance(hits[0].point, hits[1].point)
    assert res[0].values["distance"] == pytest.approx(expect.d3, rel=1e-6)
    assert win.measure_dock.list.topLevelItemCount() == 1
    assert win.selection is None  # measuring clicks do not select
    win.measure_actions["height"].trigger()
    for p in pts[:2]:
        QTest.mouseClick(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    assert win.measure_tool.results[-1].values["dz"] == pytest.approx(hits[1].point[2] - hits[0].point[2], abs=1e-6)
    win.measure_actions["area"].trigger()
    for p in pts:
        QTest.mouseClick(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    QTest.keyClick(win, Qt.Key.Key_Return)
    a = win.measure_tool.results[-1]
    assert a.kind == "area"
    assert a.values["area"] == pytest.approx(measure.polygon_area([x.point for x in hits]).area3d, rel=1e-6)
    assert win.measure_dock.list.topLevelItemCount() == 3
    img = frame_array(win)
    assert img.size
    QTest.keyClick(vp.rwi, Qt.Key.Key_Escape)
    assert not win.measure_tool.active


def test_saved_views_and_scene_file_round_trip(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    from citytwin.model.scenefile import read_scene

    win = make_window()
    load(qtbot, win, need(FZK2))
    win.viewport.set_view("top", animate=False)
    top = win.viewport.camera_state()
    win.save_view("From above")
    win.viewport.set_view("iso", animate=False)
    win.layers[0].opacity = 0.5
    win.layers[0].visual.set_opacity(0.5)
    path = win.save_scene(tmp_path / "s.toml")
    sf = read_scene(path)
    assert [d.path for d in sf.datasets] == [FZK2.resolve()]
    assert sf.datasets[0].opacity == pytest.approx(0.5)
    assert [v.name for v in sf.views] == ["From above"]
    # camera saved in world coordinates of the scene CRS (EPSG:25832: eastings ~457 km)
    assert 400_000 < sf.views[0].camera.position[0] < 500_000
    assert str(path.resolve()) in win.recent_files()

    win2 = make_window()
    win2.open_scene(path)
    qtbot.waitUntil(lambda: not win2.loader.busy and len(win2.layers) == 1, timeout=60_000)
    assert win2.layers[0].opacity == pytest.approx(0.5)
    assert win2.go_to_view("From above", animate=False)
    assert np.allclose(win2.viewport.camera_state()["position"], top["position"], atol=0.01)


def test_drop_files_opens_them(qtbot, make_window) -> None:  # noqa: ANN001
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    win = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(need(FZK2)))])
    ev = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    win.dropEvent(ev)
    qtbot.waitUntil(lambda: not win.loader.busy and len(win.layers) == 1, timeout=60_000)
    assert win.layers[0].model.n_objects == 1


def test_views_fly_to_and_render_on_demand(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(DENHAAG_JSON))
    vp = win.viewport
    # the camera moved while loading: the one anti-aliased still frame comes STILL_MS later
    qtbot.waitUntil(lambda: not win.render_settings.timer.isActive(), timeout=2000)
    qtbot.wait(100)
    n0 = vp.render_count
    for _ in range(20):  # many requests, one render
        vp.request_render()
    qtbot.waitUntil(lambda: vp.render_count > n0, timeout=2000)
    qtbot.wait(50)
    assert vp.render_count == n0 + 1
    qtbot.wait(200)
    assert vp.render_count == n0 + 1  # nothing polls
    win.act_top.trigger()
    vp.finish_animation()
    cam = vp.camera_state()
    d = np.subtract(cam["position"], cam["focal_point"])
    assert d[2] / np.linalg.norm(d) > 0.99
    lay = next(lay for lay in win.layers if lay.kind == "city")
    obj = lay.model.objects.types.index("Building")
    win.select(lay, obj)
    assert win.act_fly.isEnabled()
    assert win.act_fly.shortcut().toString() == "F"
    # a real key press in the 3D view, as a user does it (the shortcut needs the active window)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    vp.rwi.setFocus()
    before = vp.camera_state()["focal_point"]
    flown: list[bool] = []
    win.act_fly.triggered.connect(lambda: flown.append(True))
    QTest.keyClick(vp.rwi, Qt.Key.Key_F)
    assert flown == [True]
    vp.finish_animation()
    bb = win.selection_bounds()
    assert not np.allclose(before, bb.mean(axis=0), atol=0.01)
    assert np.allclose(vp.camera_state()["focal_point"], bb.mean(axis=0), atol=0.01)


def test_demo_scene_opens_with_its_views(qtbot, make_window) -> None:  # noqa: ANN001
    from citytwin.model.scenefile import read_scene

    scene = qt_fixtures.ROOT / "scenes" / "demo.toml"
    if not scene.exists():
        pytest.skip("scenes/demo.toml not in the tree")
    sf = read_scene(scene)
    win = make_window()
    win.open_scene(scene)
    qtbot.waitUntil(lambda: not win.loader.busy, timeout=120_000)
    assert {lay.dataset["path"] for lay in win.layers} == {str(d.path) for d in sf.datasets}
    assert [v.name for v in win.views] == [v.name for v in sf.views]
    # the scene's camera was applied once everything was loaded (world -> scene-relative)
    cam = win.viewport.camera_state()
    assert np.allclose(np.add(cam["focal_point"], win.scene.origin), sf.camera.focal_point, atol=0.01)
    model = win.objects_dock.model
    assert model.data(model.index(0, model.columns.index("ID"))) == win.layers[0].model.objects.ids[0]


def test_touch_gestures_zoom_and_pan(qtbot, make_window) -> None:  # noqa: ANN001
    """Pinch dollies (and twists about the view axis), a two-finger pan moves the camera sideways."""
    win = make_window()
    load(qtbot, win, need(FZK2))
    vp = win.viewport

    class Pinch:
        def scaleFactor(self) -> float:  # noqa: N802
            return 1.25

        def rotationAngle(self) -> float:  # noqa: N802
            return 10.0

        def lastRotationAngle(self) -> float:  # noqa: N802
            return 0.0

    class Pan:
        def delta(self):  # noqa: ANN202
            return PySide6.QtCore.QPointF(40.0, 0.0)

    class Event:
        def __init__(self, g: dict) -> None:
            self.g, self.accepted = g, []

        def gesture(self, kind):  # noqa: ANN001, ANN202
            return self.g.get(kind)

        def accept(self, g) -> None:  # noqa: ANN001
            self.accepted.append(g)

    c0 = vp.camera_state()
    d0 = np.linalg.norm(np.subtract(c0["position"], c0["focal_point"]))
    ev = Event({Qt.GestureType.PinchGesture: Pinch()})
    assert vp._gesture(ev) and len(ev.accepted) == 1
    c1 = vp.camera_state()
    assert np.linalg.norm(np.subtract(c1["position"], c1["focal_point"])) == pytest.approx(d0 / 1.25, rel=1e-3)
    vp._gesture(Event({Qt.GestureType.PanGesture: Pan()}))
    c2 = vp.camera_state()
    shift = np.subtract(c2["focal_point"], c1["focal_point"])
    assert np.linalg.norm(shift) > 0
    assert np.allclose(np.subtract(c2["position"], c1["position"]), shift)  # a pan, not a turn


def test_layer_order_lod_and_remove(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(DENHAAG_JSON))
    dock = win.layers_dock
    names = [lay.name for lay in win.layers]
    dock.list.setCurrentRow(0)
    dock.down_btn.click()
    assert [lay.name for lay in win.layers] == names[::-1]
    assert dock.current() == 1
    # LoD choices: best, lowest and each LoD of the file
    labels = [dock.lod.itemText(i) for i in range(dock.lod.count())]
    assert labels[:2] == ["Best per object", "Lowest per object"] and "LoD 2" in labels
    dock.lod.setCurrentIndex(1)
    assert win.layers[1].lod == "lowest"
    n_objects = win.objects_dock.model.rowCount()
    terrain = next(lay for lay in win.layers if lay.kind == "terrain")
    dock.list.setCurrentRow(win.layers.index(terrain))
    dock.remove_btn.click()
    assert terrain not in win.layers and len(win.layers) == 1
    assert dock.list.count() == 1
    assert win.objects_dock.model.rowCount() == n_objects


def test_walking_stops_at_walls(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(FZK2))
    vp = win.viewport
    lo, hi = win.scene_bounds()
    centre = (lo + hi) / 2
    # stand 15 m south of the house, looking north at it
    vp.set_camera_state({"position": [centre[0], lo[1] - 15.0, lo[2] + 1.7],
                         "focal_point": [centre[0], centre[1], lo[2] + 1.7], "view_up": [0, 0, 1],
                         "view_angle": 30.0})
    vp.set_walk_mode(True)
    vp.set_camera_state({"position": [centre[0], lo[1] - 15.0, lo[2] + 1.7],
                         "focal_point": [centre[0], centre[1], lo[2] + 1.7], "view_up": [0, 0, 1],
                         "view_angle": 30.0})
    for _ in range(15):
        vp.walk_step(forward=2.0)
    y = vp.camera_state()["position"][1]
    assert lo[1] - 15.0 + 10.0 < y < lo[1] - 0.3  # moved, but stopped in front of the wall
