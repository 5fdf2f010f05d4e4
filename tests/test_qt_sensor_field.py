"""Buildings coloured by sensors in the real viewer under Xvfb: the Layers dock's colour-by combo offers
"Sensors: nearest/IDW <property>", a building next to a high-valued sensor is drawn in another colour than
one next to a low-valued sensor, and the colours follow the sensor values when the clock is scrubbed."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

import qt_fixtures
from qt_fixtures import ROOT, look_down_at, scene_pixel

make_window = qt_fixtures.make_window  # the fixture
DEMO_CITY = ROOT / "scenes" / "demo" / "demo_district.city.json"
SHOT = Path(tempfile.gettempdir()) / "citytwin_sensor_field.png"  # look at it after a run
T0 = qt_fixtures.T0  # when the replays start

pytestmark = pytest.mark.gui





def test_set_object_values_colours_objects_without_rebuild() -> None:
    from citytwin.io.registry import read
    from citytwin.model.style import NEUTRAL_RGB
    from citytwin.render.visual import VtkCityVisual

    model = read(DEMO_CITY)
    vis = VtkCityVisual(model)
    pd = vis.polydata
    vals = np.full(model.n_objects, np.nan)
    vals[0], vals[1] = 0.0, 10.0
    st = vis.set_object_values(vals, 0.0, 10.0, "no2 [µg/m³] · IDW")
    assert vis.polydata is pd  # colours only
    assert st.kind == "numeric" and st.mode == "no2 [µg/m³] · IDW" and st.value_range == (0.0, 10.0)
    assert st.legend[0].label == "0" and st.legend[-2].label == "10" and st.legend[-1].label == "no value"
    assert tuple(st.rgba[2, :3]) == NEUTRAL_RGB and not st.has_value[2]
    c0 = vis.cell_rgb()[vis.cell_object == 0]
    c1 = vis.cell_rgb()[vis.cell_object == 1]
    assert len(c0) and len(c1) and np.abs(c0.mean(0) - c1.mean(0)).sum() > 100
    with pytest.raises(ValueError):
        vis.set_object_values(vals[:3], 0.0, 1.0, "x")


def test_buildings_coloured_by_idw_follow_the_sensors(qtbot, make_window, tmp_path) -> None:
    win = make_window()
    win.open_files([DEMO_CITY])
    qtbot.waitUntil(lambda: len(win.layers) >= 1 and not win.loader.busy, timeout=60_000)
    lay = next(lay for lay in win.layers if lay.kind == "city")
    model = lay.model
    boxes = model.object_bboxes()
    types = model.objects.types
    cand = [i for i in range(model.n_objects) if types[i] == "Building" and np.isfinite(boxes[i]).all()
            and model.objects.parents[i] < 0]
    assert len(cand) >= 2
    centres = (boxes[cand, 0, :2] + boxes[cand, 1, :2]) / 2  # world coordinates
    a = 0
    b = int(np.argmax(np.hypot(*(centres - centres[a]).T)))  # the building farthest from a
    ia, ib = cand[a], cand[b]
    # sensor HI on building a, LO on building b; ten minutes later their values swap
    entry = qt_fixtures.swapping_sensors(qtbot, win, centres[a], centres[b], tmp_path)
    s = win.sensors

    # the colour-by combo of the city layer offers the sensor entries
    dock = win.layers_dock
    dock.list.setCurrentRow(win.layers.index(lay))
    qtbot.waitUntil(lambda: dock.color_by.findData("sensors:idw:no2") >= 0, timeout=10_000)
    assert dock.color_by.findData("sensors:nearest:no2") >= 0
    labels = [dock.color_by.itemText(k) for k in range(dock.color_by.count())]
    assert "Sensors: IDW no2" in labels and "Sensors: nearest no2" in labels
    dock.color_by.setCurrentIndex(dock.color_by.findData("sensors:idw:no2"))
    assert lay.color_by == "sensors:idw:no2"
    st = lay.visual.styling
    assert st.kind == "numeric" and "no2" in st.mode and "µg/m³" in st.mode and "IDW" in st.mode
    assert win.legend._title_text == st.mode and win.legend._entries[-1][0] == "no value"  # the in-view legend
    lo, hi = st.value_range
    assert lo < 15 and hi > 45
    # building a sits on the HI sensor, building b on the LO one (IDW at a sensor = its value)
    assert st.has_value[ia] and st.has_value[ib]
    ra, rb = st.rgba[ia, :3].astype(int), st.rgba[ib, :3].astype(int)
    assert np.abs(ra - rb).sum() > 150

    origin = np.asarray(win.scene.origin, float)
    top = lambda i: np.r_[(boxes[i, 0, :2] + boxes[i, 1, :2]) / 2, boxes[i, 1, 2]] - origin  # noqa: E731

    def probe() -> tuple[np.ndarray, np.ndarray]:
        look_down_at(win, top(ia), 150.0)
        pa = scene_pixel(win, top(ia))
        look_down_at(win, top(ib), 150.0)
        pb = scene_pixel(win, top(ib))
        return pa, pb

    pa, pb = probe()
    assert np.abs(pa - pb).sum() > 60, (pa, pb)
    # viridis: the high value is yellow-green (more green than blue), the low one blue-purple
    assert pa[1] > pa[2] and pb[2] > pb[1], (pa, pb)

    # scrub past the second readings: the values swap, so do the colours (no geometry rebuild)
    pd = lay.visual.polydata
    s.time_dock.set_time(T0 + 700)
    qtbot.waitUntil(lambda: lay.visual.styling.rgba[ia, 2] > lay.visual.styling.rgba[ia, 1], timeout=5_000)
    assert lay.visual.polydata is pd
    qa, qb = probe()
    assert np.abs(qa - pa).sum() > 60 and np.abs(qb - pb).sum() > 60, (pa, qa, pb, qb)
    assert qa[2] > qa[1] and qb[1] > qb[2], (qa, qb)

    # nearest: the same picture for buildings on the sensors
    dock.color_by.setCurrentIndex(dock.color_by.findData("sensors:nearest:no2"))
    assert "nearest" in lay.visual.styling.mode
    assert np.isfinite(lay.visual.styling.value_range).all()
    win.viewport.set_view("iso", animate=False)
    win.viewport.render_sync()
    win.grab().save(str(SHOT))
    # the scene file keeps the choice; removing the sensor layer brings back the semantic colours
    assert any(d.color_by == "sensors:nearest:no2" for d in win.scene_file().datasets)
    s.remove(entry)
    assert lay.color_by == "semantic" and lay.visual.styling.kind == "semantic"
    assert dock.color_by.findData("sensors:idw:no2") < 0
