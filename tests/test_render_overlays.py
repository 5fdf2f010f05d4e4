"""Screen overlays off screen: the compass, scale bar and legends grow with the image (measured
in the rendered pixels), and the sensor colour bar sits on a box with its title clear of the bar
and its tick labels apart."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("vtkmodules")
import render_fixtures  # noqa: E402
from citytwin.render.overlays import DARK, ColorBar, overlay_scale, set_overlay_scale  # noqa: E402
from citytwin.render.scene_view import SKY_BOTTOM, SceneView  # noqa: E402

pytestmark = render_fixtures.RENDER_MARKS

DARK_RGB = np.rint(np.asarray(DARK) * 255).astype(int)


def _lut(lo: float = 9.24, hi: float = 14.8):  # noqa: ANN202
    from vtkmodules.vtkCommonCore import vtkLookupTable

    lut = vtkLookupTable()
    lut.SetTableRange(lo, hi)
    lut.SetHueRange(0.7, 0.15)
    lut.Build()
    return lut


def _render(size: tuple[int, int], colorbar: bool = True, title: str = "no2 [µg/m³]"):  # noqa: ANN202
    """An empty scene (sky only) with the compass, the scale bar, a categorical legend and a
    colour bar; returns the image and the colour bar."""
    sv = SceneView(size=size)
    try:
        sv.set_view("iso")
        from citytwin.render.overlays import Legend

        sv.legend = Legend(sv.renderer)
        sv.legend.set_entries("function", [("residential", (230, 120, 40)), ("office", (40, 90, 200))])
        bar = None
        if colorbar:
            bar = ColorBar(_lut(), title)
            bar.attach(sv.renderer)
        img = sv.screenshot().astype(int)
        if bar is not None:
            bar.detach()
        return img, bar, sv.overlays.last_scale_m if sv.overlays else 0.0
    finally:
        sv.close()


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    assert len(xs), "nothing found"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def _dark(img: np.ndarray) -> np.ndarray:
    return np.abs(img - DARK_RGB).max(axis=2) <= 30


def _extents(img: np.ndarray) -> dict[str, tuple[int, int]]:
    """Width and height in pixels of the compass arrow (top right), the scale bar (bottom left)
    and the legend box (top left: much lighter than the blue sky there)."""
    h, w, _ = img.shape
    out = {}
    x0, y0, x1, y1 = _bbox(_dark(img[: h // 4, 3 * w // 4:]))
    out["compass"] = (x1 - x0 + 1, y1 - y0 + 1)
    x0, y0, x1, y1 = _bbox(_dark(img[3 * h // 4:, : w // 2]))
    out["scale_bar"] = (x1 - x0 + 1, y1 - y0 + 1)
    x0, y0, x1, y1 = _bbox(img[: h // 3, : w // 3, 0] > 215)  # the sky up there is R ~ 130
    out["legend"] = (x1 - x0 + 1, y1 - y0 + 1)
    return out


def test_overlays_grow_with_the_image_size() -> None:
    small, _, m_small = _render((1920, 1080))
    big, _, m_big = _render((3840, 2160))
    a, b = _extents(small), _extents(big)
    assert m_small == m_big  # the same ground length, drawn twice as long
    for name in a:
        for k in range(2):
            ratio = b[name][k] / a[name][k]
            assert 1.8 <= ratio <= 2.2, (name, a[name], b[name])
    # readable at 1080 rows: the compass arrow alone is more than 60 px high, the bar's label
    # and the box are not the 800-px sizes
    assert a["compass"][1] >= 60 and a["legend"][1] >= 1.25 * 20 * 4


def test_fixed_overlay_scale_overrides_the_height() -> None:
    from vtkmodules.vtkRenderingCore import vtkRenderer

    r = vtkRenderer()
    assert overlay_scale(r) == 1.0  # no window: no size
    set_overlay_scale(r, 2.0)
    assert overlay_scale(r) == 2.0
    set_overlay_scale(r, None)
    assert overlay_scale(r) == 1.0


def test_colour_bar_has_a_box_a_clear_title_and_apart_labels() -> None:
    img, bar, _ = _render((1920, 1080))
    h = img.shape[0]
    assert bar is not None
    x0, y0, x1, y1 = (int(round(v)) for v in bar.rect)  # display pixels, y up
    bx0, by0, bx1, by1 = (int(round(v)) for v in bar.bar_rect)
    assert x0 < bx0 < bx1 < x1 and y0 < by0 < by1 < y1
    rows = slice(h - y1 + 2, h - y0 - 2)  # image rows of the box, inside its edge
    box = img[rows, x0 + 2: x1 - 2]
    # the box: lighter than the sky just above it, wherever there is no text or bar
    sky = img[h - y1 - 30: h - y1 - 4, x0: x1]
    assert sky[..., 0].max() < SKY_BOTTOM[0] * 255  # the sky's gradient, not another box
    light = box.min(axis=2) >= sky[..., 0].max() + 20
    assert light.mean() > 0.6
    # the title above the bar with an empty band between them
    text = (img.max(axis=2) < 120)  # dark glyphs
    frame_top = h - by1 - 2  # the bar's dark outline is a pixel or two above it
    title_rows = np.flatnonzero(text[h - y1: frame_top, x0: x1].any(axis=1))
    assert len(title_rows) >= 8
    gap = frame_top - (h - y1 + title_rows.max()) - 1
    assert gap >= 4
    # the labels under the bar: as many separate runs of glyph columns as labels drawn
    label_band = text[h - by0 + 6: h - y0 - 2, x0: x1]
    cols = label_band.any(axis=0)
    runs, gap_len, in_run = 0, 99, False
    for c in cols:
        if c and not in_run:
            if gap_len >= 6:
                runs += 1
            in_run = True
            gap_len = 0
        elif not c:
            in_run = False
            gap_len += 1
    assert runs == len(bar.shown_labels) >= 3
    assert [t for _, t in bar.shown_labels][0] == "9.24"


def test_colour_bar_drops_labels_that_would_collide() -> None:
    sv = SceneView(size=(300, 200), overlays=False)
    try:
        bar = ColorBar(_lut(1_234_567.0, 9_876_543.0), "big")
        bar.attach(sv.renderer)
        sv.screenshot()
        xs = [x for x, _ in bar.shown_labels]
        assert 2 <= len(xs) < 5  # long numbers on a narrow bar: fewer labels
        bar.SetVisibility(False)
        img = sv.screenshot()
        assert (np.abs(img.astype(int) - img[:, :1].astype(int)).max(axis=(1, 2)) <= 2).all()  # hidden: sky only
        bar.detach()
    finally:
        sv.close()


def test_text_size_does_not_depend_on_the_window_dpi() -> None:
    """A Qt window on a screen with device pixel ratio 2 tells VTK 144 DPI, which scales fonts by
    itself: with the overlay scale fixed, the legend box and its text keep their pixel size."""
    sizes = []
    for dpi in (72, 144):
        sv = SceneView(size=(960, 540))
        try:
            sv.render_window.SetDPI(dpi)
            set_overlay_scale(sv.renderer, 2.0)
            from citytwin.render.overlays import Legend

            sv.legend = Legend(sv.renderer)
            sv.legend.set_entries("function", [("residential", (230, 120, 40)), ("office", (40, 90, 200))])
            bar = ColorBar(_lut(), "no2 [µg/m³]")
            bar.attach(sv.renderer)
            img = sv.screenshot().astype(int)
            bar.detach()
            h, w, _ = img.shape
            x0, y0, x1, y1 = _bbox(img[: h // 2, : w // 2, 0] > 215)
            text = img[y0:y1, x0:x1].max(axis=2) < 120
            sizes.append((x1 - x0, y1 - y0, int(text.sum()), bar.rect))
        finally:
            sv.close()
    (w72, h72, ink72, r72), (w144, h144, ink144, r144) = sizes
    assert abs(w72 - w144) <= 3 and abs(h72 - h144) <= 3
    assert abs(ink72 - ink144) <= 0.15 * ink72  # the same glyph area, not four times
    assert np.allclose(r72, r144, atol=3)
