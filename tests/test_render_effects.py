"""FXAA, SSAO and the horizon sky, checked on pixels of off-screen renders of a box on a ground plane,
plus their settings: 'citytwin render' flags and the viewer's View > Rendering toggles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from boxes import write_boxes
from render_fixtures import RENDER_MARKS

pytestmark = RENDER_MARKS

SIZE = (480, 360)


@pytest.fixture(scope="module")
def box_model(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from citytwin.io import read

    p = write_boxes(tmp_path_factory.mktemp("fx") / "box.city.json", [("b", 0, 0, 20, 20, 0, 20)],
                    ground=(-200, -200, 220, 220))
    return read(p)


def _view(model, effects, walk: bool = False):  # noqa: ANN001, ANN202
    from citytwin.render import SceneView

    sv = SceneView(size=SIZE, overlays=False, effects=effects)
    sv.add_model(model)
    cam = sv.renderer.GetActiveCamera()
    if walk:  # standing in front of the south-west corner, looking at its foot, the horizon in view
        cam.SetPosition(-25.0, -45.0, 12.0)
        cam.SetFocalPoint(10.0, 10.0, 6.0)
    else:  # looking down at the south-west corner: the edges slant across the pixel grid
        cam.SetPosition(-40.0, -55.0, 45.0)
        cam.SetFocalPoint(0.0, 0.0, 2.0)
    cam.SetViewUp(0.0, 0.0, 1.0)
    cam.SetViewAngle(30.0)
    return sv


def _shot(model, effects, walk: bool = False) -> np.ndarray:  # noqa: ANN001
    sv = _view(model, effects, walk)
    try:
        return sv.screenshot().astype(np.int32)
    finally:
        sv.close()


def _edge_steps(img: np.ndarray) -> tuple[int, int]:
    """(pixels with a hard step to a neighbour, pixels of an in-between shade) over the image:
    aliased edges are all hard steps, anti-aliased ones have blended pixels along them."""
    g = img.sum(axis=2)
    dx = np.abs(np.diff(g, axis=1))
    hard = int((dx > 150).sum())
    lo, hi = np.percentile(g, 5), np.percentile(g, 95)
    blend = (g > lo + 20) & (g < hi - 20)
    return hard, int(blend.sum())


def test_fxaa_softens_the_stair_steps_of_edges(box_model) -> None:  # noqa: ANN001
    from citytwin.render.effects import RenderEffects

    off = _shot(box_model, RenderEffects(fxaa=False, ssao=False, horizon=False))
    on = _shot(box_model, RenderEffects(fxaa=True, ssao=False, horizon=False))
    hard_off, _ = _edge_steps(off)
    hard_on, _ = _edge_steps(on)
    assert hard_off > 100  # the box's outline against the ground is there
    assert hard_on < 0.7 * hard_off, (hard_on, hard_off)
    # only edges change: flat areas keep their colours
    changed = np.abs(on - off).max(axis=2) > 6
    assert 0.0005 < changed.mean() < 0.05


def test_ssao_darkens_the_foot_of_a_wall(box_model) -> None:  # noqa: ANN001
    from citytwin.render.effects import RenderEffects

    sv = _view(box_model, RenderEffects(fxaa=False, ssao=False, horizon=False), walk=True)
    try:
        off = sv.screenshot().astype(np.int32)
        # where the south wall meets the ground, and a point high up on the same wall (scene
        # coordinates: the box spans -10..10 around the origin, 20 m high)
        x, y, _ = sv.world_to_display([0.0, -10.0, 0.15])
        xh, yh, _ = sv.world_to_display([0.0, -10.0, 15.0])
        sv.set_effects(RenderEffects(fxaa=False, ssao=True, horizon=False))
        on = sv.screenshot().astype(np.int32)
    finally:
        sv.close()
    h = off.shape[0]

    def lum(img: np.ndarray, px: float, py: float, r: int = 2) -> float:
        row, col = int(round(h - 1 - py)), int(round(px))
        return float(img[row - r:row + r + 1, col - r:col + r + 1].sum(axis=2).mean())

    corner_drop = lum(off, x, y) - lum(on, x, y)
    high_drop = lum(off, xh, yh) - lum(on, xh, yh)
    assert corner_drop > 20, (corner_drop, high_drop)  # the crease is darker with SSAO
    assert abs(high_drop) < corner_drop / 3  # the open wall much less so


def test_horizon_meets_ground_and_sky(box_model) -> None:  # noqa: ANN001
    from citytwin.render.effects import GROUND_HAZE, RenderEffects
    from citytwin.render.scene_view import SKY_BOTTOM, SKY_TOP

    sv = _view(box_model, RenderEffects(fxaa=False, ssao=False, horizon=True), walk=True)
    try:
        cam = sv.renderer.GetActiveCamera()
        eye = np.asarray(cam.GetPosition())
        d = np.asarray(cam.GetFocalPoint()) - eye
        far = eye + 1e6 * np.array([d[0], d[1], 0.0]) / np.hypot(d[0], d[1])  # a point on the horizon
        _, y_h, _ = sv.world_to_display(far)
        img = sv.screenshot().astype(np.int32)
        sv.set_effects(RenderEffects(fxaa=False, ssao=False, horizon=False))
        plain = sv.screenshot().astype(np.int32)
    finally:
        sv.close()
    h = img.shape[0]
    row_h = int(round(h - 1 - y_h))
    assert 10 < row_h < h - 10
    col = 5  # the left edge: background only (the box is in the middle)
    above, below = img[row_h - 6, col], img[row_h + 6, col]
    assert np.abs(above - np.array(SKY_BOTTOM) * 255).max() <= 12  # haze just above the horizon
    assert np.abs(below - np.array(GROUND_HAZE) * 255).max() <= 12  # ground just below it
    assert np.abs(img[0, col] - np.array(SKY_TOP) * 255).sum() < np.abs(above - np.array(SKY_TOP) * 255).sum()
    # rows are one colour (no roll), and the picture differs from the screen gradient
    bg = img[:, :5]
    assert (np.abs(bg - bg[:, :1]).max(axis=(1, 2)) <= 2).all()
    assert np.abs(img[:, :5] - plain[:, :5]).max() > 20


def test_render_cli_effect_flags(tmp_path: Path, box_model) -> None:  # noqa: ANN001
    from PIL import Image

    from citytwin.cli import main
    from citytwin.render.effects import DEFAULT_EFFECTS

    assert DEFAULT_EFFECTS.fxaa and DEFAULT_EFFECTS.horizon and not DEFAULT_EFFECTS.ssao
    src = write_boxes(tmp_path / "b.city.json", [("b", 0, 0, 20, 20, 0, 20)], ground=(-200, -200, 220, 220))
    imgs = {}
    for name, flags in {"default": [], "plain": ["--no-fxaa", "--no-horizon"], "ssao": ["--ssao"]}.items():
        out = tmp_path / f"{name}.png"
        assert main(["render", str(src), "--out", str(out), "--size", "320x240", *flags]) == 0
        imgs[name] = np.asarray(Image.open(out).convert("RGB")).astype(np.int32)
    assert np.abs(imgs["default"] - imgs["plain"]).max() > 20
    assert np.abs(imgs["ssao"] - imgs["default"]).max() > 10
