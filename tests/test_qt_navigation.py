"""Navigating the viewer (issue 8): turntable orbit with z up (trackball as a setting), the north
arrow following mouse orbits, view shortcuts kept out of text fields, Enter/Esc in the area tool,
where walk mode starts and how it draws, and view presets that fill the window. Real windows
under Xvfb, real mouse drags and key presses through QTest."""

from __future__ import annotations

import math

import numpy as np
import pytest

import qt_fixtures
from qt_fixtures import FZK2, load, need

make_window = qt_fixtures.make_window  # the fixture

pytestmark = pytest.mark.gui

PySide6 = pytest.importorskip("PySide6")
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

DEMO_CITY = qt_fixtures.ROOT / "scenes" / "demo" / "demo_district.city.json"


def drag(vp, dx: int, dy: int, button=Qt.MouseButton.LeftButton, steps: int = 8,  # noqa: ANN001
         start: QPoint | None = None) -> None:
    """A real mouse drag on the 3D view: press, ``steps`` moves, release."""
    c = start or QPoint(vp.rwi.width() // 2, vp.rwi.height() // 2)
    QTest.mousePress(vp.rwi, button, Qt.KeyboardModifier.NoModifier, c)
    for k in range(1, steps + 1):
        QTest.mouseMove(vp.rwi, c + QPoint(dx * k // steps, dy * k // steps))
    QTest.mouseRelease(vp.rwi, button, Qt.KeyboardModifier.NoModifier, c + QPoint(dx, dy))


def azimuth_elevation(vp) -> tuple[float, float]:  # noqa: ANN001
    st = vp.camera_state()
    v = np.subtract(st["position"], st["focal_point"])
    return math.degrees(math.atan2(v[1], v[0])), math.degrees(math.atan2(v[2], math.hypot(v[0], v[1])))


def demo_window(qtbot, make_window):  # noqa: ANN001, ANN201
    if not DEMO_CITY.exists():
        pytest.skip("scenes/demo/demo_district.city.json not in the tree")
    win = make_window()
    load(qtbot, win, DEMO_CITY)
    return win


def test_turntable_orbit_keeps_z_up_and_clamps_elevation(qtbot, make_window) -> None:  # noqa: ANN001
    from citytwin.qt.viewport import ORBIT_DEG_PER_WINDOW

    win = make_window()
    load(qtbot, win, need(FZK2))
    vp = win.viewport
    assert vp.navigation == "turntable" and not win.act_trackball.isChecked()
    vp.set_view("iso", animate=False)
    st0 = vp.camera_state()
    r0 = np.linalg.norm(np.subtract(st0["position"], st0["focal_point"]))
    az0, el0 = azimuth_elevation(vp)
    drag(vp, 200, 0)  # horizontal: azimuth about the vertical through the focal point
    az1, el1 = azimuth_elevation(vp)
    st1 = vp.camera_state()
    assert np.allclose(st1["view_up"], [0, 0, 1])
    assert np.allclose(st1["focal_point"], st0["focal_point"])
    assert el1 == pytest.approx(el0, abs=1e-6)
    expect = -200 * ORBIT_DEG_PER_WINDOW / vp.rwi.width()
    assert (az1 - az0 + 180) % 360 - 180 == pytest.approx(expect, abs=0.5)
    # vertical drags tilt, and stop short of the poles: the view never flips over
    for dy, limit in ((3000, 89.5), (-6000, 0.0)):
        drag(vp, 0, dy, steps=30)
        up = np.asarray(vp.camera_state()["view_up"])
        assert up[0] == 0 and up[1] == 0 and up[2] > 0
        assert azimuth_elevation(vp)[1] == pytest.approx(limit, abs=1e-6)
        assert azimuth_elevation(vp)[0] == pytest.approx(az1, abs=1e-6)
    st2 = vp.camera_state()
    assert np.linalg.norm(np.subtract(st2["position"], st2["focal_point"])) == pytest.approx(r0, rel=1e-9)
    # right-drag pans (camera and focal point move together), the wheel zooms towards the cursor
    drag(vp, 60, 30, button=Qt.MouseButton.RightButton)
    st3 = vp.camera_state()
    shift = np.subtract(st3["focal_point"], st2["focal_point"])
    assert np.linalg.norm(shift) > 1 and np.allclose(np.subtract(st3["position"], st2["position"]), shift)
    vp.set_view("top", animate=False)
    vp.render_sync()
    corner = QPoint(vp.rwi.width() // 4, vp.rwi.height() // 4)
    hit = vp.pick(corner)
    assert hit is not None
    d0 = np.linalg.norm(np.subtract(vp.camera_state()["position"], hit.point))
    wheel = PySide6.QtGui.QWheelEvent(
        PySide6.QtCore.QPointF(corner), PySide6.QtCore.QPointF(vp.rwi.mapToGlobal(corner)), QPoint(0, 0),
        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False)
    PySide6.QtWidgets.QApplication.sendEvent(vp.rwi, wheel)
    d1 = np.linalg.norm(np.subtract(vp.camera_state()["position"], hit.point))
    assert d1 == pytest.approx(d0 / 1.2**2, rel=1e-6)
    p = vp.widget_point(hit.point)  # the point stays under the cursor
    assert abs(p.x() - corner.x()) <= 1 and abs(p.y() - corner.y()) <= 1


def test_trackball_is_a_remembered_setting(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(FZK2))
    vp = win.viewport
    win.act_trackball.trigger()
    assert vp.navigation == "trackball"
    assert win.settings.value("view/trackball", type=bool) is True
    vp.set_view("iso", animate=False)
    drag(vp, 150, 80)  # VTK's trackball tumbles: the view-up leaves the vertical plane
    up = np.asarray(vp.camera_state()["view_up"])
    assert np.hypot(up[0], up[1]) > 0.05 and abs(up[0] - up[1]) > 1e-3
    win2 = make_window()
    assert win2.act_trackball.isChecked() and win2.viewport.navigation == "trackball"
    win2.act_trackball.trigger()
    assert win2.viewport.navigation == "turntable"
    assert win2.settings.value("view/trackball", type=bool) is False


def test_north_arrow_follows_a_mouse_orbit(qtbot, make_window) -> None:  # noqa: ANN001
    from citytwin.render import viewtools

    win = make_window()
    load(qtbot, win, need(FZK2))
    vp = win.viewport
    vp.set_view("top", animate=False)
    qtbot.waitUntil(lambda: abs(win.map_overlays.last_north_deg) < 0.5, timeout=2000)  # north up
    n0 = vp.render_count
    drag(vp, 150, 0)  # turns the map under a top view: north must turn on screen
    qtbot.waitUntil(lambda: vp.render_count > n0, timeout=2000)  # the app's own frame, no render_sync
    qtbot.wait(30)
    fp = np.asarray(vp.camera_state()["focal_point"])
    a = viewtools.world_to_display(vp.renderer, fp)
    b = viewtools.world_to_display(vp.renderer, fp + [0.0, 10.0, 0.0])
    north = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0])) - 90.0
    assert abs(north) > 20
    assert win.map_overlays.last_north_deg == pytest.approx(north, abs=0.5)


def test_view_shortcuts_stay_out_of_text_fields(qtbot, make_window) -> None:  # noqa: ANN001
    win = make_window()
    load(qtbot, win, need(FZK2))
    vp = win.viewport
    vp.set_view("top", animate=False)
    win.save_view("one")
    vp.set_view("iso", animate=False)
    win.save_view("two")
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    fired: list[str] = []
    for a in (win.act_reset, win.act_top, win.act_iso, win.act_fly):
        a.triggered.connect(lambda *_, a=a: fired.append(a.text()))
    win.objects_dock.show()  # the Objects panel's filter box
    win.objects_dock.raise_()
    box = win.objects_dock.filter_edit
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    before = vp.camera_state()
    for key in (Qt.Key.Key_R, Qt.Key.Key_T, Qt.Key.Key_I, Qt.Key.Key_F, Qt.Key.Key_W):
        QTest.keyClick(box, key)
    QTest.keyClick(box, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    vp.finish_animation()
    assert fired == []
    assert box.text() == "rtifw1"
    assert vp.camera_state() == before
    # with the 3D view focused the same keys act
    vp.rwi.setFocus()
    qtbot.waitUntil(vp.rwi.hasFocus, timeout=2000)
    QTest.keyClick(vp.rwi, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # saved view 1: from above
    vp.finish_animation()
    st = vp.camera_state()
    d = np.subtract(st["position"], st["focal_point"])
    assert d[2] / np.linalg.norm(d) > 0.99
    QTest.keyClick(vp.rwi, Qt.Key.Key_I)
    assert fired == ["&Iso view"]


def test_area_tool_enter_closes_and_escape_cancels(qtbot, make_window) -> None:  # noqa: ANN001
    from citytwin.model import measure

    win = make_window()
    load(qtbot, win, need(FZK2))
    vp = win.viewport
    vp.set_view("top", animate=False)
    vp.render_sync()
    w, h = vp.rwi.width(), vp.rwi.height()
    pts = [QPoint(w // 2 - 40, h // 2 - 20), QPoint(w // 2 + 40, h // 2 + 20), QPoint(w // 2 + 40, h // 2 - 20)]
    hits = [vp.pick(p) for p in pts]
    assert all(hits)
    tool = win.measure_tool
    win.measure_actions["area"].trigger()
    vp.rwi.setFocus()
    for p in pts:
        QTest.mouseClick(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    assert tool.results == [] and len(tool.points) == 3
    QTest.keyClick(vp.rwi, Qt.Key.Key_Return)  # in the view, where the user clicked
    assert len(tool.results) == 1 and tool.results[0].kind == "area"
    assert tool.results[0].values["area"] == pytest.approx(measure.polygon_area([x.point for x in hits]).area3d)
    assert tool.mode == "area" and tool.points == []
    for p in pts[:2]:
        QTest.mouseClick(vp.rwi, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    QTest.keyClick(vp.rwi, Qt.Key.Key_Escape)  # the polygon in progress is dropped
    assert tool.points == [] and tool.preview is None and tool.mode == "area"
    assert len(tool.results) == 1
    QTest.keyClick(vp.rwi, Qt.Key.Key_Enter)  # nothing to close
    assert len(tool.results) == 1
    QTest.keyClick(vp.rwi, Qt.Key.Key_Escape)  # and then the tool stops
    assert not tool.active and not win.measure_actions["area"].isChecked()


def test_walk_mode_starts_in_an_open_street(qtbot, make_window) -> None:  # noqa: ANN001
    from citytwin.qt.viewport import EYE_HEIGHT, STREET

    win = demo_window(qtbot, make_window)
    vp = win.viewport
    vp.set_view("iso", animate=False)
    vp.render_sync()
    assert win.map_overlays.scale_bar and win.map_overlays.bar_label.GetVisibility()
    win.act_walk.trigger()
    assert vp.walk_mode
    cam = vp.renderer.GetActiveCamera()
    eye = np.asarray(cam.GetPosition())
    look = np.asarray(cam.GetFocalPoint()) - eye
    look /= np.linalg.norm(look)
    assert abs(look[2]) < 1e-6  # looking straight ahead
    lo, hi = win.scene_bounds()
    assert np.all(eye[:2] > lo[:2]) and np.all(eye[:2] < hi[:2])
    # on a street, under the open sky, at eye height
    above = vp.pick_ray(np.array([eye[0], eye[1], hi[2] + 10]), np.array([eye[0], eye[1], lo[2] - 10]))
    assert above is not None and vp._walkable(above)
    assert vp._layer_semantic(above) in STREET
    assert eye[2] - above.point[2] == pytest.approx(EYE_HEIGHT, abs=0.01)
    # a long view ahead, no wall in the face, nothing within two metres around
    ahead = vp.pick_ray(eye, eye + look * 300.0)
    assert ahead is None or np.linalg.norm(ahead.point - eye) > 60.0
    for a in np.radians(np.arange(0, 360, 45)):
        near = vp.pick_ray(eye, eye + np.array([math.cos(a), math.sin(a), 0.0]) * 2.0)
        assert near is None
    # the scale bar's ground distance means nothing at street level: hidden, and back after
    vp.render_sync()
    assert not win.map_overlays.bar_label.GetVisibility()
    QTest.keyClick(vp.rwi, Qt.Key.Key_Escape)
    assert not vp.walk_mode
    qtbot.waitUntil(lambda: bool(win.map_overlays.bar_label.GetVisibility()), timeout=2000)


def test_sensor_glyphs_keep_their_screen_size_in_walk_mode(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    from citytwin.qt.main_window import WALK_SENSOR_PX

    win = demo_window(qtbot, make_window)
    vp = win.viewport
    lo, hi = win.scene_bounds()
    origin = np.asarray(win.scene.origin)
    c = (lo + hi) / 2 + origin
    entry = qt_fixtures.swapping_sensors(qtbot, win, c[:2] + [-150.0, 0.0], c[:2] + [150.0, 0.0], tmp_path)
    vis = entry.visual
    vp.render_sync()
    rows = vis.shown
    assert len(rows) == 2
    assert np.allclose(vis._gscale[rows], 1.0)  # the styling size in metres

    def screen_diameters() -> np.ndarray:
        """Pixels across of the glyphs in front of the camera, in the frame just drawn."""
        cam = vp.renderer.GetActiveCamera()
        eye, dop = np.asarray(cam.GetPosition()), np.asarray(cam.GetDirectionOfProjection())
        depth = (vis._centres[rows] - eye) @ dop
        m_per_px = 2 * math.tan(math.radians(cam.GetViewAngle()) / 2) * depth / vp.renderer.GetSize()[1]
        return (vis.size * vis._gscale[rows] / m_per_px)[depth > 1.0]

    def fixed_size() -> bool:
        d = screen_diameters()
        return len(d) > 0 and bool(np.allclose(d, WALK_SENSOR_PX, rtol=0.03))

    win.act_walk.trigger()
    eye = np.asarray(vp.camera_state()["position"])
    towards = vis.position(int(rows[0])) - eye  # face the first sensor
    towards[2] = 0.0
    vp.set_camera_state({"position": eye.tolist(), "focal_point": (eye + towards).tolist(), "view_up": [0, 0, 1],
                         "view_angle": 30.0})
    assert vp.walk_mode
    qtbot.waitUntil(fixed_size, timeout=2000)
    far = float(np.max(np.linalg.norm(vis._centres[rows] - vp.camera_state()["position"], axis=1)))
    vp.collide = False
    vp.walk_step(forward=20.0)  # walking on: another distance, still the same size on screen
    qtbot.waitUntil(lambda: fixed_size() and abs(
        float(np.max(np.linalg.norm(vis._centres[rows] - vp.camera_state()["position"], axis=1))) - far) > 1.0,
        timeout=2000)
    win.act_walk.trigger()  # back to metres
    qtbot.waitUntil(lambda: bool(np.allclose(vis._gscale[rows], 1.0)), timeout=2000)


@pytest.mark.parametrize("view", ["reset", "top"])
def test_views_fill_the_window(qtbot, make_window, view: str) -> None:  # noqa: ANN001
    from citytwin.render import viewtools

    win = demo_window(qtbot, make_window)
    vp = win.viewport
    vp.set_view(view, animate=False)
    vp.render_sync()
    pts = win.scene_points()
    xy = np.array([viewtools.world_to_display(vp.renderer, p)[:2] for p in pts[:: max(len(pts) // 4000, 1)]])
    w, h = vp.renderer.GetSize()
    assert xy[:, 0].min() >= 0 and xy[:, 0].max() <= w and xy[:, 1].min() >= 0 and xy[:, 1].max() <= h
    fill = max(np.ptp(xy[:, 0]) / w, np.ptp(xy[:, 1]) / h)
    assert fill > 0.9
    # centred: the margins on the filled axis are alike
    axis, size = (0, w) if np.ptp(xy[:, 0]) / w >= np.ptp(xy[:, 1]) / h else (1, h)
    assert abs(xy[:, axis].min() - (size - xy[:, axis].max())) < 0.03 * size
