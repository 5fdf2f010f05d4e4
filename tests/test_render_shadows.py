"""Cast shadows and the sun on the scene clock, checked on pixels of off-screen renders of a box on a
ground plane: shadows fall away from the sun, nothing else on the ground darkens (no black areas outside
the shadow map's frustum), the key light follows the clock; the scene-file keys and 'citytwin render
--sun/--shadows'."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from boxes import DEN_HAAG, write_boxes
from render_fixtures import RENDER_MARKS

pytestmark = RENDER_MARKS

SIZE = (480, 360)  # not square: the shadow map's lookup must undo the baker's aspect ratio
H = 20.0  # box height
EL = 35.0  # sun elevation in the pixel tests: shadow length H / tan(EL) = 28.6 m


@pytest.fixture(scope="module")
def box_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_boxes(tmp_path_factory.mktemp("sh") / "box.city.json", [("b", 0, 0, 20, 20, 0, H)],
                       ground=(-150, -150, 170, 170))


@pytest.fixture(scope="module")
def box_model(box_path: Path):  # noqa: ANN201
    from citytwin.io import read

    return read(box_path)


def _towards(azimuth: float, elevation: float) -> np.ndarray:
    from citytwin.render.lighting import camera_direction

    return camera_direction(azimuth, elevation)


def _top_view(model, shadows: bool, sun):  # noqa: ANN001, ANN202
    """Straight down on the box, north up, the whole ground plane in the picture."""
    from citytwin.render import SceneView

    sv = SceneView(size=SIZE, overlays=False, shadows=shadows, sun=sun)
    sv.add_model(model)
    sv.set_view("top", bounds=np.array([-80.0, 100.0, -80.0, 100.0, 0.0, H]) + 0.0)
    return sv


def _shot(model, shadows: bool, sun) -> tuple[np.ndarray, object]:  # noqa: ANN001
    sv = _top_view(model, shadows, sun)
    try:
        img = sv.screenshot().astype(np.int32)
        # the top view is parallel: display coordinates are affine in x, y
        pts = [sv.world_to_display(sv.to_scene([DEN_HAAG[0] + x, DEN_HAAG[1] + y, 0.0]))
               for x, y in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))]
    finally:
        sv.close()
    (x0, y0, _), (x1, y1, _), (x2, y2, _) = pts

    def px(x: float, y: float) -> tuple[int, int]:  # metres from the box's corner -> (row, col)
        dx = x0 + (x1 - x0) * x + (x2 - x0) * y
        dy = y0 + (y1 - y0) * x + (y2 - y0) * y
        return SIZE[1] - 1 - int(round(dy)), int(round(dx))

    return img, px


def _patch(img: np.ndarray, rc: tuple[int, int], r: int = 3) -> float:
    y, x = rc
    return float(img[y - r:y + r + 1, x - r:x + r + 1].sum(axis=2).mean())


@pytest.mark.parametrize(("azimuth", "shadow_side", "lit_side", "beyond"), [
    (180.0, (10.0, 35.0), (10.0, -15.0), (10.0, 60.0)),   # sun in the south: the shadow lies north of the box
    (90.0, (-15.0, 10.0), (35.0, 10.0), (-40.0, 10.0)),   # sun in the east: the shadow lies west of it
])
def test_shadow_falls_away_from_the_sun(box_model, azimuth, shadow_side, lit_side, beyond) -> None:  # noqa: ANN001
    sun = _towards(azimuth, EL)
    off, px = _shot(box_model, False, sun)
    on, _ = _shot(box_model, True, sun)
    sh, lit = px(*shadow_side), px(*lit_side)
    # without shadows the ground is one colour on both sides
    assert abs(_patch(off, sh) - _patch(off, lit)) < 6
    # with them the side away from the sun is much darker, the sunny side unchanged
    assert _patch(on, sh) < 0.7 * _patch(off, sh), (_patch(on, sh), _patch(off, sh))
    assert abs(_patch(on, lit) - _patch(off, lit)) < 6
    # the shadow ends about H / tan(EL) = 28.6 m from the wall: 40 m out the ground is lit again
    assert abs(_patch(on, px(*beyond)) - _patch(off, px(*beyond))) < 6


def test_no_dark_ground_outside_the_shadow(box_model) -> None:  # noqa: ANN001
    """Only the box's shadow darkens the ground: no black band or corner where the ground leaves
    the shadow map's frustum, none at any of several sun positions, low sun included."""
    for az, el in ((215.0, 50.0), (120.0, 12.0), (300.0, 25.0)):
        sun = _towards(az, el)
        off, px = _shot(box_model, False, sun)
        on, _ = _shot(box_model, True, sun)
        darker = (off - on).sum(axis=2) > 30
        ys, xs = np.nonzero(darker)
        assert len(ys) > 50, (az, el)  # there is a shadow
        # every darkened pixel is within the swept footprint of the box (plus a margin)
        length = H / math.tan(math.radians(el))
        dx, dy = -math.sin(math.radians(az)) * length, -math.cos(math.radians(az)) * length
        corners = [px(x + sx, y + sy) for x in (-3.0, 23.0) for y in (-3.0, 23.0) for sx, sy in ((0, 0), (dx, dy))]
        r0, r1 = min(c[0] for c in corners), max(c[0] for c in corners)
        c0, c1 = min(c[1] for c in corners), max(c[1] for c in corners)
        inside = (ys >= r0 - 4) & (ys <= r1 + 4) & (xs >= c0 - 4) & (xs <= c1 + 4)
        assert inside.all(), (az, el, int((~inside).sum()))
        assert (on.sum(axis=2) > 120).all()  # nothing near black anywhere


def test_key_light_follows_the_clock(box_model, box_path) -> None:  # noqa: ANN001
    from citytwin.model.clock import SceneClock
    from citytwin.render import SceneView
    from citytwin.render.lighting import scene_sun
    from citytwin.sim.place import parse_time
    from citytwin.sim.sun import sun_position
    from citytwin.sim.sunlight import Sunlight

    sunlight = Sunlight.of_bbox(box_model.bbox(), box_model.crs)  # Den Haag, RD New
    assert sunlight.place.timezone == "Europe/Amsterdam"
    clock = SceneClock(start=parse_time("2026-06-21T08:00", "Europe/Amsterdam").timestamp())
    morning = sunlight.direction(clock.time())
    clock.set_time(parse_time("2026-06-21T13:40", "Europe/Amsterdam").timestamp())
    noon = sunlight.direction(clock.time())
    assert morning is not None and noon is not None
    assert morning[0] > 0.5 and noon[1] < -0.4 and abs(noon[0]) < 0.1 and noon[2] > morning[2]  # E, then S
    az, el = sunlight.position(clock.time())
    pos = sun_position(np.array([clock.time()]), sunlight.place.lon, sunlight.place.lat)
    assert az == pytest.approx(float(pos.azimuth[0])) and el == pytest.approx(float(pos.elevation[0]))
    assert abs(math.degrees(math.asin(noon[2])) - el) < 1e-6
    # RD New's grid north is within a degree or two of true north here
    assert abs(math.degrees(math.atan2(noon[0], noon[1])) % 360.0 - az) < 2.0
    clock.set_time(parse_time("2026-12-21T23:00", "Europe/Amsterdam").timestamp())
    assert sunlight.direction(clock.time()) is None  # night
    # the renderer's sun and the city shader follow
    sv = SceneView(size=(160, 120), overlays=False, shadows=True)
    try:
        sv.add_model(box_model)
        sv.set_sun(noon)
        light = scene_sun(sv.renderer)
        assert light is not None and light.GetSwitch()
        assert np.allclose(light.GetPosition(), noon)
        day = sv.screenshot().astype(np.int32)
        sv.set_sun(None)
        assert not light.GetSwitch()
        night = sv.screenshot().astype(np.int32)
        assert night.mean() < day.mean() - 10  # the city is dimmer (the sky stays)
        assert night[..., 2].mean() > night[..., 0].mean()  # bluish
    finally:
        sv.close()


def test_key_dates_keep_the_time_of_day() -> None:
    from citytwin.sim.place import local_iso
    from citytwin.sim.sunlight import key_dates

    t = key_dates(2026, "Europe/Amsterdam", None)
    assert local_iso(t["June solstice"], "Europe/Amsterdam") == "2026-06-21T12:00:00+02:00"
    assert local_iso(t["December solstice"], "Europe/Amsterdam") == "2026-12-21T12:00:00+01:00"
    at = key_dates(2027, "Europe/Amsterdam", t["June solstice"] + 3 * 3600)
    assert local_iso(at["March equinox"], "Europe/Amsterdam") == "2027-03-20T15:00:00+01:00"


def test_shadows_compose_with_effects(box_model) -> None:  # noqa: ANN001
    """FXAA, SSAO and the horizon still work with the shadow passes, and switching shadows
    off gives back the picture without them."""
    from citytwin.render import SceneView
    from citytwin.render.effects import NO_EFFECTS, RenderEffects

    sun = _towards(120.0, 30.0)  # the shadow falls west-north-west, in view from the south-west
    sv = SceneView(size=SIZE, overlays=True, effects=NO_EFFECTS, sun=sun)
    try:
        sv.add_model(box_model)
        sv.set_view("iso")
        plain = sv.screenshot().astype(np.int32)
        sv.set_shadows(True)
        shadowed = sv.screenshot().astype(np.int32)
        mask = (plain - shadowed).sum(axis=2) > 30
        assert mask.mean() > 0.002
        for eff in (RenderEffects(fxaa=True, ssao=False, horizon=True), RenderEffects(fxaa=False, ssao=True,
                                                                                    horizon=False)):
            sv.set_effects(eff)
            img = sv.screenshot().astype(np.int32)
            assert ((plain - img).sum(axis=2) > 30)[mask].mean() > 0.6  # still shadowed (FXAA blurs its edges)
            assert np.abs(img - shadowed).max() > 20  # and the effect shows
        sv.set_effects(NO_EFFECTS)
        sv.set_shadows(False)
        back = sv.screenshot().astype(np.int32)
        assert np.abs(back - plain).max() <= 2
    finally:
        sv.close()


def test_shadow_map_is_drawn_again_only_when_it_changes(box_model) -> None:  # noqa: ANN001
    """Orbiting (the north arrow and scale bar change every frame) reuses the map; moving the
    sun, hiding a layer or resizing the window draws it again, and the shadow follows the sun."""
    from citytwin.render import SceneView
    from citytwin.render.effects import NO_EFFECTS

    sv = SceneView(size=SIZE, overlays=True, effects=NO_EFFECTS, shadows=True, sun=_towards(180.0, EL))
    try:
        vis = sv.add_model(box_model)
        sv.set_view("top")
        first = sv.screenshot().astype(np.int32)
        passes = sv._effects.passes
        assert passes is not None
        n = passes.bakes
        for _ in range(3):
            sv.orbit(10.0)
            sv.render()
        assert passes.bakes == n
        sv.orbit(-30.0)
        assert np.abs(sv.screenshot().astype(np.int32) - first).max() <= 2  # the same picture
        sv.set_sun(_towards(90.0, EL))
        moved = sv.screenshot().astype(np.int32)
        assert passes.bakes == n + 1 and ((first - moved).sum(axis=2) > 30).mean() > 0.002
        vis.set_visible(False)
        sv.render()
        assert passes.bakes == n + 2
        vis.set_visible(True)
        sv.render_window.SetSize(SIZE[1], SIZE[1])
        sv.render()
        assert passes.bakes == n + 3  # shown again and resized: one frame, one map
    finally:
        sv.close()


# ------------------------------------------------------------------ scene file
def test_scene_file_shadows_and_time_round_trip(tmp_path: Path) -> None:
    from citytwin.core.errors import ReaderError
    from citytwin.model.scenefile import SceneFile, read_scene, scene_toml, write_scene

    old = tmp_path / "old.toml"
    old.write_text('version = 1\ntitle = "Old"\n', encoding="utf-8")
    sf = read_scene(old)
    assert sf.shadows is False and sf.time is None
    assert "shadows" not in scene_toml(sf, old) and "time" not in scene_toml(sf, old)  # old files stay as they were
    p = write_scene(SceneFile(title="Sun", shadows=True, time="2026-12-21T10:00:00+01:00"), tmp_path / "s.toml")
    text = p.read_text(encoding="utf-8")
    assert "shadows = true" in text and 'time = "2026-12-21T10:00:00+01:00"' in text
    back = read_scene(p)
    assert back.shadows is True and back.time == "2026-12-21T10:00:00+01:00"
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\nshadows = "yes"\n', encoding="utf-8")
    with pytest.raises(ReaderError, match="shadows"):
        read_scene(bad)


# ------------------------------------------------------------------ CLI
def _png(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).astype(np.int32)


def test_cli_render_sun_and_shadows(box_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from citytwin.cli import main

    common = ["render", str(box_path), "--size", "320x240", "--view", "top", "--no-fxaa"]
    a, b, c = tmp_path / "on.png", tmp_path / "off.png", tmp_path / "night.png"
    # Den Haag, 21 June 13:40 local (CEST, read in the place's zone): the sun in the south
    assert main([*common, "--sun", "2026-06-21T13:40", "--shadows", "--out", str(a)]) == 0
    assert main([*common, "--sun", "2026-06-21T11:40:00Z", "--no-shadows", "--out", str(b)]) == 0
    assert main([*common, "--sun", "2026-06-21T23:30+02:00", "--out", str(c)]) == 0
    on, off, night = _png(a), _png(b), _png(c)
    diff = (off - on).sum(axis=2) > 30
    ys, xs = np.nonzero(diff)
    assert len(ys) > 20
    # top view, north up: the shadow lies above (north of) the box's centre row
    assert ys.mean() < on.shape[0] / 2 - 10
    assert night.mean() < off.mean() - 5
    capsys.readouterr()
    # a scene file asks for shadows and a time; the flags override it
    scene = tmp_path / "s.toml"
    scene.write_text(f'version = 1\nshadows = true\ntime = "2026-06-21T13:40"\n\n[[datasets]]\npath = "{box_path}"\n',
                     encoding="utf-8")
    d = tmp_path / "scene.png"
    assert main(["render", str(scene), "--size", "320x240", "--view", "top", "--no-fxaa", "--out", str(d)]) == 0
    assert np.abs(_png(d) - on).max() <= 2


def test_cli_render_sun_errors_are_one_line(box_path: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from citytwin.cli import main

    out = str(tmp_path / "x.png")
    capsys.readouterr()
    assert main(["render", str(box_path), "--out", out, "--sun", "midsummer noon"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--sun" in err and "midsummer noon" in err
    no_crs = write_boxes(tmp_path / "nocrs.city.json", [("b", 0, 0, 10, 10, 0, 10)], crs=None)  # type: ignore[arg-type]
    assert main(["render", str(no_crs), "--out", out, "--sun", "2026-06-21T12:00"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "CRS" in err
    assert not Path(out).exists()


def test_other_actors_draw_with_shadows_on(box_model) -> None:  # noqa: ANN001
    """A point-gaussian actor (the sensor glyphs' mapper) has no view coordinates for VTK's shadow
    lookup: with shadows on it still compiles and draws (red splat over the box's roof)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkPolyData
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPointGaussianMapper

    from citytwin.render import SceneView

    sv = SceneView(size=SIZE, overlays=False, shadows=True, sun=_towards(180.0, EL))
    try:
        sv.add_model(box_model)
        sv.set_view("top", bounds=np.array([-80.0, 100.0, -80.0, 100.0, 0.0, H]))
        centre = sv.to_scene([DEN_HAAG[0] + 10.0, DEN_HAAG[1] + 10.0, H + 5.0])
        pd = vtkPolyData()
        pts = vtkPoints()
        pts.SetData(numpy_to_vtk(np.array([centre], dtype=np.float32), deep=True))
        pd.SetPoints(pts)
        mapper = vtkPointGaussianMapper()
        mapper.SetInputData(pd)
        mapper.SetScaleFactor(4.0)
        mapper.EmissiveOff()
        mapper.SetSplatShaderCode("")
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(1.0, 0.0, 0.0)
        sv.renderer.AddActor(actor)
        img = sv.screenshot().astype(np.int32)
        x, y, _ = sv.world_to_display(centre)
        r, c = SIZE[1] - 1 - int(round(y)), int(round(x))
        px = img[r, c]
        assert px[0] > 150 and px[1] < 80 and px[2] < 80, px
    finally:
        sv.close()
