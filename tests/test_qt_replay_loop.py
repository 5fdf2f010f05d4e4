"""The demo scene in the real window under Xvfb: its replay loops on the scene clock (values come back from
the start after the end) and the sensor colour range stays put whatever the clock does."""

from __future__ import annotations

import numpy as np
import pytest

import qt_fixtures
from qt_fixtures import ROOT

make_window = qt_fixtures.make_window  # the fixture
DEMO_SCENE = ROOT / "scenes" / "demo.toml"

pytestmark = pytest.mark.gui


def wait_for(qtbot, cond, timeout: float = 30.0) -> None:  # noqa: ANN001
    qtbot.waitUntil(cond, timeout=int(timeout * 1000))


def test_demo_replay_loops_and_keeps_its_colour_range(qtbot, make_window) -> None:
    win = make_window()
    win.open_scene(DEMO_SCENE)
    wait_for(qtbot, lambda: len(win.sensors.entries) == 1)
    s = win.sensors
    entry = s.entries[0]
    wait_for(qtbot, lambda: len(entry.layer) == 72 and entry.visual.shown.size == 24)
    replay = entry.session.replay
    assert replay.loop and s.clock.loop
    t0, t1 = replay.data.span
    assert s.clock.bounds == replay.loop_bounds and s.clock.bounds[1] > t1
    ranges = set()
    s.clock.pause()
    for t in (t0 + 60, t0 + 8.5 * 3600, t1 - 60, t0 + 3 * 3600):
        s.time_dock.set_time(t)
        qtbot.wait(60)
        ranges.add(entry.visual.value_range)
    assert len(ranges) == 1  # the legend does not rescale as the clock moves
    s.time_dock.set_time(t0 + 1800)
    qtbot.wait(60)
    start_vals = entry.visual.values[entry.visual.shown].copy()
    # play fast from just before the end: the clock wraps and the layer shows the start again
    s.clock.set_time(s.clock.bounds[1] - 30)
    s.clock.play(3600.0)  # 30 scene seconds to the end, then half an hour into the next lap in ~0.5 s
    wait_for(qtbot, lambda: s.clock.wraps >= 1, 10)
    s.clock.pause()
    s.time_dock.set_time(t0 + 1800)
    qtbot.wait(100)
    assert not entry.session.done and entry.session.state != "done"
    got = entry.visual.values[entry.visual.shown]
    np.testing.assert_allclose(got, start_vals)
    assert entry.visual.value_range in ranges
