"""The window on the viewer model: its layers are the model's (stable ids, removal takes the
visual off the screen and the model out of the scene, sensor layers too), and the window and
``citytwin render`` draw the same scene alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qt_fixtures import ROOT, make_window  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui

DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"
SENSORS = ROOT / "scenes" / "demo" / "demo_sensors.json"


def _scene(tmp: Path, sensors: bool) -> Path:
    text = (f'version = 1\ncrs = "EPSG:25832"\n\n[[datasets]]\nname = "District"\npath = "{DEMO.as_posix()}"\n'
            'opacity = 0.6\n\n[camera]\nposition = [476389.81, 5428119.81, 860.26]\n'
            'focal_point = [476998.0, 5428728.0, 258.0]\nup = [0.0, 0.0, 1.0]\nview_angle = 30.0\n')
    if sensors:
        text += f'\n[[sensors]]\ntype = "sensors"\nsource = "{SENSORS.as_posix()}"\nname = "Air"\n'
    p = tmp / ("with_sensors.toml" if sensors else "plain.toml")
    p.write_text(text, encoding="utf-8")
    return p


def test_layers_are_the_viewer_models_and_removal_clears_the_screen(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001, F811
    from citytwin.model.events import LayerRemoved
    from citytwin.model.layer import LayerKind

    win = make_window()
    win.open_scene(_scene(tmp_path, sensors=True))
    qtbot.waitUntil(lambda: not win.loader.busy and len(win.layers) == 2 and len(win.sensors.entries) == 1,
                    timeout=60_000)
    vm = win.viewer
    kinds = [lay.kind for lay in vm.layers]  # the sensor layer comes first: the files are read meanwhile
    assert kinds == [LayerKind.SENSORS, LayerKind.CITY, LayerKind.TERRAIN]
    city, terrain = win.layers  # the window's handles: city and terrain
    assert (city.id, terrain.id) == tuple(lay.id for lay in vm.layers[1:]) and terrain.owner is city
    assert city.opacity == terrain.opacity == pytest.approx(0.6)
    removed: list[int] = []
    vm.bus.subscribe(LayerRemoved, lambda ev: removed.append(ev.layer))
    ren = win.viewport.renderer
    actors = terrain.actors()
    assert all(ren.HasViewProp(a) for a in actors)
    # the dock's ▲ moves the terrain up: same ids, other order
    win.layers_dock.list.setCurrentRow(1)
    win.layers_dock.up_btn.click()
    assert [lay.id for lay in win.layers] == [terrain.id, city.id]
    win.layers_dock.remove_btn.click()  # the current row: the terrain
    assert removed == [terrain.id] and terrain not in win.layers
    assert not any(ren.HasViewProp(a) for a in actors)
    assert len(vm.scene.models) == 1  # the city layer still draws the file's model
    # the Time dock changes the one clock through the model: each change published
    from citytwin.model.events import ClockChange, TimeChanged

    told: list[TimeChanged] = []
    vm.bus.subscribe(TimeChanged, told.append)
    dock = win.sensors.time_dock
    playing = vm.clock.playing
    dock.play_btn.click()
    dock.set_time(vm.clock.bounds[0] + 3600.0)
    assert [ev.what for ev in told[:2]] == [ClockChange.PAUSE if playing else ClockChange.PLAY, ClockChange.TIME]
    assert told[1].time == pytest.approx(vm.clock.bounds[0] + 3600.0, abs=120.0)
    glyphs = win.sensors.entries[0].visual.actors()
    win.sensors.remove(win.sensors.entries[0])
    assert not any(ren.HasViewProp(a) for a in glyphs) and vm.of_kind(LayerKind.SENSORS) == []
    win.remove_layer(city)
    assert vm.scene.models == [] and win.layers == [] and len(removed) == 3


def test_the_window_and_citytwin_render_draw_a_scene_alike(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001, F811
    from citytwin.cli import main

    win = make_window()
    scene = _scene(tmp_path, sensors=False)
    win.open_scene(scene)
    qtbot.waitUntil(lambda: not win.loader.busy and len(win.layers) == 2, timeout=60_000)
    qtbot.wait(100)
    shown = np.asarray(Image.open(win.export_png(tmp_path / "window.png")).convert("RGB"), dtype=np.int16)
    h, w = shown.shape[:2]
    assert main(["render", str(scene), "--out", str(tmp_path / "cli.png"), "--size", f"{w}x{h}",
                 "--view", "scene"]) == 0
    drawn = np.asarray(Image.open(tmp_path / "cli.png").convert("RGB"), dtype=np.int16)
    # the same picture: a translucent district on its terrain, seen from the scene's camera
    assert np.abs(shown - drawn).mean() < 2.0
    # and not merely the same sky: the window with the district opaque differs from both
    win.layers[0].opacity = 1.0
    win.layers[1].opacity = 1.0
    opaque = np.asarray(Image.open(win.export_png(tmp_path / "opaque.png")).convert("RGB"), dtype=np.int16)
    assert np.abs(opaque - drawn).mean() > 5 * np.abs(shown - drawn).mean()
