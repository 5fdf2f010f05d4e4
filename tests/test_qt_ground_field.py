"""Ground coloured by sensors in the real viewer under Xvfb: the Layers dock offers "Sensors: IDW no2 · ground"
(and "· buildings + ground"); the terrain is then coloured per vertex by the IDW field (smooth, the colours
of the field at its vertices), its pixels near a high and a low sensor differ and follow a value change; the
IDW settings of the Sensors dock (power, neighbours, radius) change the colours and round-trip through the
scene file with the colour-by choice."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

import qt_fixtures
from citytwin.model.sensor_spec import IdwSettings
from qt_fixtures import ROOT, look_down_at, scene_pixel

make_window = qt_fixtures.make_window  # the fixture
DEMO_CITY = ROOT / "scenes" / "demo" / "demo_district.city.json"
SHOT = Path(tempfile.gettempdir()) / "citytwin_ground_field.png"  # look at it after a run
T0 = qt_fixtures.T0  # when the replays start

pytestmark = pytest.mark.gui



def test_surface_keys_name_method_target_and_property() -> None:
    from citytwin.qt.sensor_layers import parse_surface_key, surface_key

    assert surface_key("idw", "no2") == "sensors:idw:no2"  # buildings: the key scene files always had
    assert surface_key("nearest", "no2", "ground") == "sensors:nearest/ground:no2"
    assert parse_surface_key("sensors:idw:no2") == ("idw", "buildings", "no2")
    assert parse_surface_key("sensors:idw/both:pm2.5:raw") == ("idw", "both", "pm2.5:raw")
    for bad in ("semantic", "sensors:idw", "sensors:kriging:no2", "sensors:idw/roofs:no2", None, 3):
        assert parse_surface_key(bad) is None


def open_ground(city, terrain) -> np.ndarray:  # noqa: ANN001
    """World xyz of vertices of the ``terrain`` model at least 25 m from every object of the ``city`` model
    that stands on the ground (buildings, trees, water: roads lie on it), so a camera looking down sees
    the terrain there."""
    vi = np.unique(terrain.triangles)
    xyz = terrain.vertices[vi].astype(np.float64) + terrain.origin
    types = np.array(city.objects.types)
    boxes = city.object_bboxes()
    other = ~np.isin(types, ["TINRelief", "Road"]) & np.isfinite(boxes).all(axis=(1, 2))
    lo, hi = boxes[other, 0, :2], boxes[other, 1, :2]
    clear = np.full(len(xyz), np.inf)
    for a in range(0, len(xyz), 500):
        p = xyz[a: a + 500, None, :2]
        d = np.maximum(np.maximum(lo[None] - p, p - hi[None]), 0.0)
        clear[a: a + 500] = np.hypot(d[..., 0], d[..., 1]).min(axis=1)
    # well inside the terrain (a square tilted a little: within 80 % of its inscribed circle)
    centre = (xyz[:, :2].min(axis=0) + xyz[:, :2].max(axis=0)) / 2
    inside = np.hypot(*(xyz[:, :2] - centre).T) < 0.8 * float((xyz[:, :2].max(axis=0) - centre).min())
    return xyz[(clear > 25.0) & inside]


def field_rgb_matches(win, ter, entry, st: IdwSettings) -> float:  # noqa: ANN001
    """Share of the terrain layer's drawn points whose colour is the IDW field (settings ``st``) at their vertex,
    on the colour range of the legend."""
    from citytwin.model.sensor_field import idw_values
    from citytwin.model.style import NEUTRAL_RGB, colormap

    vis = ter.visual
    vertex = np.asarray(vis.polydata.point_data["vertex"])
    rgb = np.asarray(vis.polydata.point_data["rgb"])
    m = ter.model
    xy = m.vertices[:, :2].astype(np.float64) + (m.origin[:2] - np.asarray(win.scene.origin, float)[:2])
    t = win.sensors.clock.time()
    vals, _ = entry.layer.history.latest_at(t, np.arange(len(entry.layer), dtype=np.int64))
    want = idw_values(xy, entry.layer.positions[:, :2], vals, power=st.power, k=st.k, max_distance=st.max_distance)
    lo, hi = ter.owner.visual.styling.value_range
    cols = colormap((want - lo) / (hi - lo))
    cols[np.isnan(want)] = NEUTRAL_RGB
    return float((np.abs(rgb[:, :3].astype(int) - cols[vertex, :3].astype(int)).max(axis=1) <= 1).mean())


def test_ground_field_follows_sensors_settings_and_scene_file(qtbot, make_window, tmp_path) -> None:
    win = make_window()
    win.open_files([DEMO_CITY])
    qtbot.waitUntil(lambda: len(win.layers) == 2 and not win.loader.busy, timeout=60_000)
    lay = next(lay for lay in win.layers if lay.kind == "city")
    ter = next(t for t in win.layers if t.owner is lay)  # the terrain split off the model
    ground = open_ground(lay.model, ter.model)
    assert len(ground) > 10
    a = ground[0]
    b = ground[int(np.argmax(np.hypot(*(ground[:, :2] - a[:2]).T)))]  # the open spot farthest from a
    assert np.hypot(*(b[:2] - a[:2])) > 300
    entry = qt_fixtures.swapping_sensors(qtbot, win, a, b, tmp_path)  # ten minutes later they swap
    s = win.sensors

    origin = np.asarray(win.scene.origin, float)
    pa_xyz, pb_xyz = a - origin + [12.0, 0.0, 0.0], b - origin + [12.0, 0.0, 0.0]  # beside the glyphs

    def probe() -> tuple[np.ndarray, np.ndarray]:
        look_down_at(win, pa_xyz, 150.0)
        pa = scene_pixel(win, pa_xyz)
        look_down_at(win, pb_xyz, 150.0)
        return pa, scene_pixel(win, pb_xyz)

    sa, sb = probe()  # semantic colours

    # the colour-by combo offers the ground next to the building entries
    dock = win.layers_dock
    dock.list.setCurrentRow(win.layers.index(lay))
    qtbot.waitUntil(lambda: dock.color_by.findData("sensors:idw/ground:no2") >= 0, timeout=10_000)
    labels = [dock.color_by.itemText(k) for k in range(dock.color_by.count())]
    for lab in ("Sensors: IDW no2", "Sensors: IDW no2 · ground", "Sensors: IDW no2 · buildings + ground",
                "Sensors: nearest no2 · ground"):
        assert lab in labels
    pd = ter.visual.polydata
    dock.color_by.setCurrentIndex(dock.color_by.findData("sensors:idw/ground:no2"))
    assert lay.color_by == "sensors:idw/ground:no2"
    st = lay.visual.styling  # the legend is the field's; the buildings keep their semantic colours
    assert st.kind == "numeric" and "no2" in st.mode and "IDW" in st.mode
    assert "Building" in st.context_types and not st.has_value.any()
    assert win.legend._title_text == st.mode
    lo, hi = st.value_range
    assert lo < 15 and hi > 45
    assert ter.visual.polydata is pd  # colours only
    # the terrain shows the IDW field at its vertices, a smooth gradient
    assert field_rgb_matches(win, ter, entry, IdwSettings()) > 0.99
    terrain_rgb = np.asarray(ter.visual.polydata.point_data["rgb"])
    assert len(np.unique(terrain_rgb, axis=0)) > 50

    pa, pb = probe()
    assert np.abs(pa - sa).sum() > 60 and np.abs(pb - sb).sum() > 60, (sa, pa, sb, pb)
    assert pa[1] > pa[2] and pb[2] > pb[1], (pa, pb)  # viridis: high yellow-green, low blue-purple

    # the readings swap ten minutes later: so do the ground colours
    s.time_dock.set_time(T0 + 700)
    qtbot.waitUntil(lambda: field_rgb_matches(win, ter, entry, IdwSettings()) > 0.99, timeout=5_000)
    qa, qb = probe()
    assert qa[2] > qa[1] and qb[1] > qb[2], (qa, qb)
    assert ter.visual.polydata is pd

    # IDW settings in the Sensors dock: a steeper power, then a radius that leaves the middle without a value
    sd = s.sensors_dock
    sd.list.setCurrentRow(0)
    assert sd.idw_note.text() == "Used for no2."  # this layer's settings are the ones in effect
    before = np.asarray(ter.visual.polydata.point_data["rgb"]).copy()
    sd.idw_power.setValue(6.0)
    assert entry.spec.idw == IdwSettings(power=6.0, k=8)
    assert field_rgb_matches(win, ter, entry, entry.spec.idw) > 0.99
    changed = np.abs(np.asarray(ter.visual.polydata.point_data["rgb"]).astype(int) - before).max(axis=1) > 8
    assert changed.mean() > 0.2
    radius = float(np.hypot(*(b[:2] - a[:2]))) / 3
    sd.idw_radius.setValue(round(radius))
    assert entry.spec.idw.max_distance == round(radius)
    assert field_rgb_matches(win, ter, entry, entry.spec.idw) > 0.99
    from citytwin.model.style import NEUTRAL_RGB

    mid = (a + b) / 2 - origin
    look_down_at(win, mid, 150.0)
    assert np.abs(scene_pixel(win, mid) - NEUTRAL_RGB).sum() < 60  # out of reach: "no value" grey
    sd.idw_k.setValue(1)
    assert entry.spec.idw == IdwSettings(power=6.0, k=1, max_distance=round(radius))
    assert field_rgb_matches(win, ter, entry, entry.spec.idw) > 0.99

    # buildings + ground: the buildings get values as well
    dock.color_by.setCurrentIndex(dock.color_by.findData("sensors:idw/both:no2"))
    st = lay.visual.styling
    assert "Building" not in st.context_types and st.has_value.any()
    assert field_rgb_matches(win, ter, entry, entry.spec.idw) > 0.99
    win.viewport.set_view("iso", animate=False)
    win.viewport.render_sync()
    win.grab().save(str(SHOT))

    # the scene file keeps the colour-by choice and the IDW settings; a new window restores both
    path = win.save_scene(tmp_path / "scene.toml")
    text = Path(path).read_text(encoding="utf-8")
    assert 'color_by = "sensors:idw/both:no2"' in text and "idw = { power = 6.0, k = 1, max_distance = " in text
    win2 = make_window()
    win2.open_scene(path)
    qtbot.waitUntil(lambda: len(win2.layers) == 2 and len(win2.sensors.entries) == 1 and not win2.loader.busy,
                    timeout=60_000)
    e2 = win2.sensors.entries[0]
    assert e2.spec.idw == entry.spec.idw
    qtbot.waitUntil(lambda: len(e2.layer) == 2, timeout=20_000)
    assert win2.sensors.sensors_dock.idw_power.value() == 6.0 and win2.sensors.sensors_dock.idw_k.value() == 1
    lay2 = next(x for x in win2.layers if x.kind == "city")
    ter2 = next(t for t in win2.layers if t.owner is lay2)
    assert lay2.color_by == "sensors:idw/both:no2"
    win2.sensors.clock.pause()
    win2.sensors.time_dock.set_time(T0 + 700)
    qtbot.waitUntil(lambda: lay2.visual.styling.kind == "numeric"
                    and field_rgb_matches(win2, ter2, e2, e2.spec.idw) > 0.99,
                    timeout=10_000)
    win2.close()

    # back to semantic colours: the field is gone from the ground at once
    dock.color_by.setCurrentIndex(dock.color_by.findData("semantic"))
    assert lay.color_by == "semantic"
    win.viewport.render_sync()
    ra, rb = probe()
    assert np.abs(ra - sa).sum() < 30 and np.abs(rb - sb).sum() < 30, (sa, ra, sb, rb)
    # ground again, then the sensor layer goes: the ground goes back to its own colours too
    dock.color_by.setCurrentIndex(dock.color_by.findData("sensors:nearest/ground:no2"))
    assert lay.color_by == "sensors:nearest/ground:no2"
    assert np.abs(probe()[0] - sa).sum() > 60
    s.remove(entry)
    assert lay.color_by == "semantic" and lay.visual.styling.kind == "semantic"
    ra, rb = probe()
    assert np.abs(ra - sa).sum() < 30 and np.abs(rb - sb).sum() < 30, (sa, ra, sb, rb)
