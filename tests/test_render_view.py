"""Off-screen rendering of the demo district: pixels, colour modes, visibility, highlight, picking."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")
import render_fixtures  # noqa: E402
from citytwin.model.scenefile import read_scene  # noqa: E402
from citytwin.render import SceneView, render_to_image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"
SIZE = (480, 300)

pv.global_theme.multi_samples = 0  # llvmpipe is 3-4x slower with MSAA
pytestmark = render_fixtures.RENDER_MARKS
demo = render_fixtures.demo  # the fixture


@pytest.fixture(scope="module")
def tower(demo) -> int:
    """The tallest flat-roofed tower part: its roof centre is visible from straight above."""
    best, top = -1, -np.inf
    bb = demo.object_bboxes()
    for i, a in enumerate(demo.objects.attributes):
        if a.get("partName") == "tower" and a.get("roofType") == "flat" and bb[i, 1, 2] > top:
            best, top = i, bb[i, 1, 2]
    assert best >= 0
    return best


@pytest.fixture()
def view():
    """A hidden off-screen view; closed at teardown, which must free every visual's VTK objects."""
    sv = SceneView(size=SIZE, overlays=False)
    yield sv
    refs = [weakref.ref(o) for v in sv.visuals for o in (v.actor, v.mapper, v.polydata)]
    sv.close()
    assert sv.closed and not sv.visuals
    gc.collect()
    leaked = [r().GetClassName() for r in refs if r() is not None]
    assert not leaked, f"VTK objects still alive after close: {leaked}"


@pytest.fixture(scope="module")
def background() -> np.ndarray:
    sv = SceneView(size=SIZE, overlays=False)
    try:
        return sv.screenshot()
    finally:
        sv.close()


def _roof_pixel(sv: SceneView, model, obj: int) -> tuple[float, float]:
    bb = model.object_bboxes()[obj]
    centre = np.array([(bb[0, 0] + bb[1, 0]) / 2, (bb[0, 1] + bb[1, 1]) / 2, bb[1, 2]])
    x, y, _ = sv.world_to_display(sv.to_scene(centre))
    return x, y


def _probe(img: np.ndarray, x: float, y: float, r: int = 1) -> np.ndarray:
    row = img.shape[0] - 1 - int(round(y))
    col = int(round(x))
    patch = img[row - r : row + r + 1, col - r : col + r + 1, :3].reshape(-1, 3).astype(float)
    return np.median(patch, axis=0)


def _diff_fraction(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(a[..., :3].astype(int) - b[..., :3].astype(int)).sum(axis=2) > 12).mean())


def test_demo_renders_more_than_background(view: SceneView, demo, background) -> None:
    view.add_model(demo)
    view.set_view("iso")
    img = view.screenshot()
    assert img.shape == (SIZE[1], SIZE[0], 3)
    assert _diff_fraction(img, background) > 0.2
    # many distinct colours: roofs, walls, terrain, roads, water, trees
    colours = {tuple(c) for c in (img.reshape(-1, 3) // 16).tolist()}
    assert len(colours) > 40


def test_color_by_changes_the_building(view: SceneView, demo, tower) -> None:
    vis = view.add_model(demo)
    view.set_view("top")
    view.render()
    x, y = _roof_pixel(view, demo, tower)
    assert 0 < x < SIZE[0] and 0 < y < SIZE[1]
    before = _probe(view.screenshot(), x, y)
    styling = vis.set_color_mode("measuredHeight")
    assert styling.kind == "numeric" and vis.color_mode == "measuredHeight"
    after = _probe(view.screenshot(), x, y)
    assert np.abs(after - before).sum() > 60, (before, after)
    assert after[1] > after[2]  # the tallest building is at the yellow end of viridis
    vis.set_color_mode("function")
    assert view.show_legend() and view.legend is not None
    cat = _probe(view.screenshot(), x, y)
    assert np.abs(cat - after).sum() > 30
    vis.set_color_mode("semantic")
    assert not view.show_legend()
    assert np.abs(_probe(view.screenshot(), x, y) - before).sum() < 6


def test_hiding_the_layer_removes_its_pixels(view: SceneView, demo, background) -> None:
    vis = view.add_model(demo)
    view.set_view("iso")
    assert _diff_fraction(view.screenshot(), background) > 0.2
    vis.set_visible(False)
    assert _diff_fraction(view.screenshot(), background) < 0.001
    vis.set_visible(True)
    vis.set_opacity(0.4)
    faded = view.screenshot()
    assert 0.05 < _diff_fraction(faded, background)


def test_highlight_recolours_only_that_building(view: SceneView, demo, tower) -> None:
    vis = view.add_model(demo)
    view.set_view("top")
    view.render()
    x, y = _roof_pixel(view, demo, tower)
    img0 = view.screenshot()
    actor = vis.actor
    vis.highlight([tower])
    assert list(vis.highlighted) == [tower] and vis.actor is actor  # no new actor
    img1 = view.screenshot()
    hi = _probe(img1, x, y)
    assert hi[0] > 180 and hi[0] > hi[2] + 80, hi  # towards the amber highlight
    changed = _diff_fraction(img0, img1)
    assert 0 < changed < 0.05  # only the building's pixels
    vis.highlight(None)
    assert _diff_fraction(img0, view.screenshot()) == 0.0


def test_pick_returns_the_building_under_the_pixel(view: SceneView, demo, tower, background) -> None:
    vis = view.add_model(demo)
    view.set_view("top")
    view.render()
    x, y = _roof_pixel(view, demo, tower)
    hit = view.pick(x, y)
    assert hit is not None and hit[0] is vis and hit[1].object == tower
    assert vis.pick(x, y, view.renderer) == tower
    assert demo.objects.types[int(demo.objects.parents[tower])] == "Building"
    # world point of the hit is on the roof
    bb = demo.object_bboxes()[tower]
    assert view.to_world(hit[1].point)[2] == pytest.approx(bb[1, 2], abs=0.01)
    # a pixel that shows only sky hits nothing
    img = view.screenshot()
    sky = np.argwhere(np.abs(img.astype(int) - background.astype(int)).sum(axis=2) == 0)
    row, col = sky[len(sky) // 2]
    assert view.pick(col, SIZE[1] - 1 - row) is None
    # hidden layers are not picked
    vis.set_visible(False)
    assert view.pick(x, y) is None


def test_lod_switch_and_change_notifications(view: SceneView, demo, tower) -> None:
    events: list[str] = []
    vis = view.add_model(demo)
    vis.changed.connect(events.append)
    requests: list[int] = []
    view.render_requested.connect(lambda: requests.append(1))
    n2 = vis.n_cells
    vis.set_lod(1)
    assert vis.n_cells < n2 and vis.lod == 1
    view.set_view("top")
    view.render()
    assert not view.needs_render
    x, y = _roof_pixel(view, demo, tower)
    assert view.pick(x, y)[1].object == tower  # the locator follows the new cells
    vis.set_color_mode("yearOfConstruction")
    vis.set_opacity(0.8)
    vis.set_visible(True)
    vis.highlight([tower])
    assert events == ["lod", "color_by", "opacity", "visible", "highlight"]
    assert view.needs_render and len(requests) >= len(events)


def test_models_with_different_origins_line_up(view: SceneView, demo) -> None:
    cj = pytest.importorskip("citytwin.io.cityjson")
    shifted = cj.read_cityjson(DEMO, origin=demo.origin + np.array([120.0, -80.0, 5.0]))
    a = view.add_model(demo)
    b = view.add_model(shifted)
    assert np.allclose(b.actor.GetPosition(), [120.0, -80.0, 5.0])
    assert np.allclose(a.bounds(), b.bounds(), atol=2e-3)


def test_overlays_follow_the_camera(demo, background) -> None:
    sv = SceneView(size=SIZE, overlays=True)
    try:
        sv.add_model(demo)
        sv.set_view("top")
        img = sv.screenshot()
        assert sv.overlays is not None
        assert abs(sv.overlays.last_north_deg) < 0.5  # north up
        assert sv.overlays.last_scale_m in (50.0, 100.0, 200.0)
        corner = (slice(0, 90), slice(SIZE[0] - 90, SIZE[0]))
        assert _diff_fraction(img[corner], background[corner]) > 0.05  # the arrow is drawn
        sv.set_view("iso")
        sv.render()
        assert 20 < sv.overlays.last_north_deg < 70  # from the south-west north points up-left
    finally:
        sv.close()


def test_render_to_image(tmp_path: Path, demo) -> None:
    from PIL import Image

    scene = read_scene(ROOT / "scenes" / "demo.toml")
    for view, color_by in (("iso", None), ("top", "yearOfConstruction"), ("Stadtpark", "function")):
        out = render_to_image(demo, tmp_path / f"{view}.png", size=(320, 200), view=view, color_by=color_by,
                              scene=scene)
        with Image.open(out) as im:
            assert im.size == (320, 200)
            arr = np.asarray(im.convert("RGB"))
        assert len({tuple(c) for c in (arr.reshape(-1, 3) // 16).tolist()}) > 20
    with pytest.raises(ValueError, match="unknown view"):
        render_to_image(demo, tmp_path / "x.png", size=(64, 48), view="nowhere")


def test_real_city_renders_and_picks(background) -> None:
    data = ROOT.parent / "shared" / "data" / "cityjson" / "denhaag" / "DenHaag_01_v1.0.city.json"
    if not data.exists():
        pytest.skip(f"shared data missing: {data}")
    cj = pytest.importorskip("citytwin.io.cityjson")
    m = cj.read_cityjson(data)
    sv = SceneView(size=SIZE, overlays=False)
    try:
        vis = sv.add_model(m, color_by="semantic")
        sv.set_view("iso")
        img = sv.screenshot()
        assert _diff_fraction(img, background) > 0.2
        # the data fills the frame: content reaches near every border (framing on drawn vertices)
        fg = np.abs(img.astype(int) - background.astype(int)).sum(axis=2) > 12
        rows, cols = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
        assert cols[0] < SIZE[0] * 0.1 and cols[-1] > SIZE[0] * 0.9
        assert rows[0] < SIZE[1] * 0.35 and rows[-1] > SIZE[1] * 0.65
        # the centre pixel hits something, and what it hits is drawn there
        hit = sv.pick(SIZE[0] / 2, SIZE[1] / 2)
        assert hit is not None and hit[0] is vis and 0 <= hit[1].object < m.n_objects
    finally:
        sv.close()


def test_render_package_does_not_import_qt() -> None:
    import subprocess
    import sys

    code = ("import sys, citytwin.render; "
            "print([m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyvistaqt')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
