"""The sun in the real window under Xvfb: the Time dock's date row moves the key light (no sensor layer
needed), View > Cast shadows switches the shadow passes and is saved with the scene."""

from __future__ import annotations

import numpy as np
import pytest

import qt_fixtures
from qt_fixtures import ROOT

make_window = qt_fixtures.make_window  # the fixture
DEMO_CITY = ROOT / "scenes" / "demo" / "demo_district.city.json"

pytestmark = pytest.mark.gui


def test_solstice_button_moves_the_sun_and_shadows_toggle(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    from PySide6.QtCore import Qt

    from citytwin.render.lighting import SUN_AZIMUTH_ELEVATION, camera_direction, scene_sun
    from citytwin.sim.place import local_iso, parse_time

    win = make_window()
    win.open_files([DEMO_CITY])
    qtbot.waitUntil(lambda: len(win.layers) >= 1 and not win.loader.busy, timeout=60_000)
    assert not win.sensors.entries
    sun = win.sun
    assert sun.sunlight is not None
    tz = sun.sunlight.place.timezone
    assert tz.startswith("Europe/")
    dock = win.sensors.time_dock
    view_menu = win.menuBar().actions()[1].menu()
    panels = next(a.menu() for a in view_menu.actions() if a.menu() is not None and a.text() == "Panels")
    assert dock.toggleViewAction() in panels.actions()  # the Time dock without any sensor layer
    dock.toggleViewAction().trigger()
    assert dock.isVisible()
    lighting = win.viewport.city_scene.lighting
    fixed = camera_direction(*SUN_AZIMUTH_ELEVATION)
    dock.set_time(parse_time("2026-03-20T15:00", tz).timestamp())  # scrub: leaves live mode
    qtbot.wait(250)
    assert not sun.follows and np.allclose(lighting.sun_towards, fixed)  # a new window: the fixed sun
    sun.act_follow.trigger()  # View > Sun from the clock
    assert sun.direction is not None
    march = sun.direction.copy()
    assert np.allclose(lighting.sun_towards, march) and not np.allclose(march, fixed)
    qtbot.mouseClick(dock.key_buttons["June solstice"], Qt.MouseButton.LeftButton)
    assert local_iso(win.clock.time(), tz).startswith("2026-06-21T15:00")  # same time of day
    june = sun.direction
    assert june is not None and june[2] > march[2] + 0.2  # the sun stands much higher
    assert np.allclose(lighting.sun_towards, june)
    assert np.allclose(scene_sun(win.viewport.renderer).GetPosition(), june)
    assert "elevation" in dock.sun_label.text()
    assert dock.date_edit.date().month() == 6 and dock.day_slider.value() == 15 * 60
    # the day slider scrubs the day: 23:00 in December is night
    qtbot.mouseClick(dock.key_buttons["December solstice"], Qt.MouseButton.LeftButton)
    dock.day_slider.setValue(23 * 60)
    assert local_iso(win.clock.time(), tz).startswith("2026-12-21T23:00")
    assert sun.direction is None and lighting.night and not scene_sun(win.viewport.renderer).GetSwitch()
    dock.day_slider.setValue(12 * 60)
    assert sun.direction is not None and not lighting.night
    # View > Cast shadows
    assert sun.act_shadows in view_menu.actions() and not sun.act_shadows.isChecked()
    win.viewport.render_sync()
    from citytwin.render.viewtools import window_image

    before = window_image(win.viewport.render_window).astype(np.int32)
    sun.act_shadows.trigger()
    assert win.render_settings.controller.passes is not None
    win.viewport.render_sync()
    after = window_image(win.viewport.render_window).astype(np.int32)
    assert ((before - after).sum(axis=2) > 30).mean() > 0.01  # shadows darken part of the view
    # saved with the scene, and the clock's time with it
    p = win.save_scene(tmp_path / "sun.toml")
    text = p.read_text(encoding="utf-8")
    assert "shadows = true" in text and 'time = "2026-12-21T12:00:00+01:00"' in text
    win2 = make_window()
    win2.open_scene(p)
    qtbot.waitUntil(lambda: len(win2.layers) >= 1 and not win2.loader.busy, timeout=60_000)
    assert win2.sun.act_shadows.isChecked() and win2.render_settings.controller.passes is not None
    qtbot.waitUntil(lambda: local_iso(win2.clock.time(), tz) == "2026-12-21T12:00:00+01:00", timeout=2000)
    assert win2.sun.follows
    sun.act_shadows.trigger()
    assert win.render_settings.controller.passes is None
    sun.act_follow.trigger()  # off: the fixed sun again
    assert np.allclose(lighting.sun_towards, fixed) and not lighting.night
    # the sun row switches it on by itself
    qtbot.mouseClick(dock.key_buttons["March equinox"], Qt.MouseButton.LeftButton)
    assert sun.follows and local_iso(win.clock.time(), tz).startswith("2026-03-20T12:00")
