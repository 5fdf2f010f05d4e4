"""What a tour draws over the city: the caption and the point of interest.

In the style of :mod:`citytwin.render.overlays` (dark text on a semi-opaque white box, sizes
given for an 800 px high view and scaled with :func:`~citytwin.render.overlays.overlay_scale`):

- the **caption** in a box at the bottom centre: its first line bold, further lines
  (``\\n``) smaller; box and text fade together with the tour's caption opacity;
- the **point of interest**: a marker (a dark-rimmed orange disc) where the point is on the
  screen and its label in a box just above it, both drawn in display coordinates, so the
  label always faces the camera and stays the same readable size however far the point is;
  hidden while the point is behind the camera or off the screen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from vtkmodules.vtkRenderingCore import vtkActor2D, vtkRenderer, vtkTextActor

from .overlays import (
    BOX_OPACITY,
    DARK,
    WHITE,
    _poly_actor,
    _set_font,
    _set_polys,
    _text,
    _text_px,
    overlay_scale,
)

__all__ = ["TourOverlay"]

POI_COLOUR = (0.96, 0.49, 0.13)
CAPTION_TITLE_PX = 24.0  # at an 800 px high view
CAPTION_BODY_PX = 17.0
LABEL_PX = 15.0


class TourOverlay:
    """The caption and point-of-interest actors of one renderer; :meth:`set` before each frame."""

    def __init__(self, renderer: vtkRenderer) -> None:
        self.renderer = renderer
        self.box, self._box_pd = _poly_actor(WHITE, BOX_OPACITY)
        self.title = _text(int(CAPTION_TITLE_PX))
        self.body = _text(int(CAPTION_BODY_PX), bold=False)
        self.marker, self._marker_pd = _poly_actor(POI_COLOUR)
        self.rim, self._rim_pd = _poly_actor(DARK)
        self.label_box, self._label_pd = _poly_actor(WHITE, BOX_OPACITY)
        self.label = _text(int(LABEL_PX))
        self._actors: list[vtkActor2D | vtkTextActor] = [self.box, self.title, self.body, self.rim, self.marker,
                                                          self.label_box, self.label]
        for a in self._actors:
            renderer.AddViewProp(a)
            a.SetVisibility(False)
        self.caption_rect: tuple[float, float, float, float] | None = None  # display pixels, for tests
        self.poi_xy: tuple[float, float] | None = None

    # ------------------------------------------------------------ caption
    def set_caption(self, text: str, alpha: float) -> None:
        """Show ``text`` at opacity ``alpha`` (0 hides it)."""
        r = self.renderer
        w, h = r.GetSize()
        lines = [ln for ln in text.split("\n")]
        show = bool(text.strip()) and alpha > 0.0 and w > 0 and h > 0
        for a in (self.box, self.title, self.body):
            a.SetVisibility(show)
        self.caption_rect = None
        if not show:
            return
        sc = overlay_scale(r)
        title, body = lines[0], "\n".join(lines[1:]).strip()
        _set_font(self.title, CAPTION_TITLE_PX * sc, r)
        _set_font(self.body, CAPTION_BODY_PX * sc, r)
        self.title.SetInput(title)
        self.body.SetInput(body)
        self.body.SetVisibility(bool(body))
        tw, th = _text_px(self.title, title, r)
        bw, bh = _text_px(self.body, body, r) if body else (0.0, 0.0)
        pad, gap = 14.0 * sc, 6.0 * sc if body else 0.0
        width = min(max(tw, bw) + 2 * pad, w - 20.0 * sc)
        height = th + bh + gap + 2 * pad
        cx = w / 2.0
        y0 = 48.0 * sc  # above the scale bar's line
        x0, x1, y1 = cx - width / 2, cx + width / 2, y0 + height
        _set_polys(self._box_pd, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], [[0, 1, 2, 3]])
        self.box.GetProperty().SetOpacity(BOX_OPACITY * alpha)
        self.title.SetPosition(cx, y1 - pad - th / 2)
        self.body.SetPosition(cx, y0 + pad + bh / 2)
        for t in (self.title, self.body):
            t.GetTextProperty().SetOpacity(alpha)
        self.caption_rect = (x0, y0, x1, y1)

    # ------------------------------------------------------------ point of interest
    def set_poi(self, scene_xyz: Sequence[float] | np.ndarray | None, label: str, alpha: float) -> None:
        """Mark the scene-coordinate point ``scene_xyz`` with ``label`` (None or alpha 0 hides it)."""
        r = self.renderer
        self.poi_xy = None
        xy = self._on_screen(scene_xyz) if scene_xyz is not None and alpha > 0.0 else None
        for a in (self.rim, self.marker):
            a.SetVisibility(xy is not None)
        for a in (self.label_box, self.label):
            a.SetVisibility(xy is not None and bool(label))
        if xy is None:
            return
        self.poi_xy = xy
        sc = overlay_scale(r)
        x, y = xy
        rad = 7.0 * sc
        ring = [(x + (rad + 2.0 * sc) * math.cos(k * math.pi / 12), y + (rad + 2.0 * sc) * math.sin(k * math.pi / 12))
                for k in range(24)]
        disc = [(x + rad * math.cos(k * math.pi / 12), y + rad * math.sin(k * math.pi / 12)) for k in range(24)]
        _set_polys(self._rim_pd, ring, [list(range(24))])
        _set_polys(self._marker_pd, disc, [list(range(24))])
        self.rim.GetProperty().SetOpacity(alpha)
        self.marker.GetProperty().SetOpacity(alpha)
        if not label:
            return
        _set_font(self.label, LABEL_PX * sc, r)
        self.label.SetInput(label)
        lw, lh = _text_px(self.label, label, r)
        pad = 6.0 * sc
        bx0, by0 = x - lw / 2 - pad, y + rad + 8.0 * sc
        bx1, by1 = x + lw / 2 + pad, by0 + lh + 2 * pad
        _set_polys(self._label_pd, [(bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1)], [[0, 1, 2, 3]])
        self.label_box.GetProperty().SetOpacity(BOX_OPACITY * alpha)
        self.label.SetPosition(x, (by0 + by1) / 2)
        self.label.GetTextProperty().SetOpacity(alpha)

    def _on_screen(self, p: Sequence[float] | np.ndarray) -> tuple[float, float] | None:
        r = self.renderer
        cam = r.GetActiveCamera()
        ahead = np.asarray(p, dtype=np.float64) - np.asarray(cam.GetPosition())
        if float(ahead @ np.asarray(cam.GetDirectionOfProjection())) <= 0.0:
            return None
        r.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
        r.WorldToDisplay()
        x, y, _ = r.GetDisplayPoint()
        w, h = r.GetSize()
        if not (0.0 <= x <= w and 0.0 <= y <= h):
            return None
        return float(x), float(y)

    def remove(self) -> None:
        for a in self._actors:
            self.renderer.RemoveViewProp(a)
