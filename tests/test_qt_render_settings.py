"""View > Rendering in the real window under Xvfb: FXAA, SSAO and horizon toggles, kept in QSettings, FXAA
on still frames only."""

from __future__ import annotations

import pytest

import qt_fixtures
from qt_fixtures import ROOT

make_window = qt_fixtures.make_window  # the fixture
DEMO_CITY = ROOT / "scenes" / "demo" / "demo_district.city.json"

pytestmark = pytest.mark.gui


def test_rendering_toggles_are_saved_and_fxaa_waits_for_a_still_camera(qtbot, make_window) -> None:
    from PySide6.QtCore import QSettings

    from citytwin.qt.render_settings import STILL_MS

    win = make_window()
    rs = win.render_settings
    ren = win.viewport.renderer
    assert [a.text() for a in rs.menu.actions()] == ["Anti-aliasing (FXAA)", "Ambient occlusion (SSAO)",
                                                     "Horizon sky"]
    assert rs.menu.menuAction() in win.menuBar().actions()[1].menu().actions()  # under View
    assert rs.actions["fxaa"].isChecked() and rs.actions["horizon"].isChecked()
    assert not rs.actions["ssao"].isChecked()
    assert rs.controller.horizon is not None and not ren.GetUseSSAO()
    win.open_files([DEMO_CITY])
    qtbot.waitUntil(lambda: len(win.layers) >= 1 and not win.loader.busy, timeout=60_000)
    # moving: no FXAA; still for STILL_MS: one more frame, with FXAA
    win.viewport.render_sync()
    qtbot.wait(STILL_MS + 200)
    win.viewport.render_sync()
    assert ren.GetUseFXAA()
    cam = ren.GetActiveCamera()
    cam.Azimuth(10.0)
    n_moved = win.viewport.render_count
    win.viewport.request_render()  # a real frame of the viewport (render_sync may draw none right after a load)
    qtbot.waitUntil(lambda: win.viewport.render_count > n_moved, timeout=2000)
    assert not ren.GetUseFXAA() and not rs.still
    n = win.viewport.render_count
    qtbot.waitUntil(lambda: rs.still and win.viewport.render_count > n, timeout=2000)  # the still frame came
    win.viewport.render_sync()
    assert ren.GetUseFXAA()
    # toggles act at once and are remembered
    rs.actions["ssao"].setChecked(True)
    rs.actions["horizon"].setChecked(False)
    assert ren.GetUseSSAO() and rs.controller.horizon is None
    assert ren.GetSSAORadius() > 0.5  # scaled to the district, not VTK's 0.5
    rs.actions["fxaa"].setChecked(False)
    win.viewport.render_sync()
    assert not ren.GetUseFXAA()
    st: QSettings = win.settings
    st.sync()
    assert st.value("render/ssao", type=bool) and not st.value("render/horizon", type=bool)
    assert not st.value("render/fxaa", type=bool)
    win2 = make_window()
    rs2 = win2.render_settings
    assert rs2.effects().ssao and not rs2.effects().horizon and not rs2.effects().fxaa
    assert win2.viewport.renderer.GetUseSSAO()
