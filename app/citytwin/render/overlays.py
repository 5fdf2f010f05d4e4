"""Screen overlays drawn in display coordinates: a north arrow, a scale bar, legends.

They are updated from the camera right before each render (a renderer
``StartEvent`` observer), which costs two point projections.

Sizes (fonts, line widths, margins, the compass, the bar's length, legend boxes) are
given for a view :data:`REFERENCE_HEIGHT` pixels high and multiplied by
:func:`overlay_scale`: the view's height over that reference (an off-screen render at
1920x1080 draws them 1.35 times as large as at 800 px, at 3840x2160 2.7 times), or a
factor fixed per renderer with :func:`set_overlay_scale` (the window: the screen's
device pixel ratio, times the magnification of an export).
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints, vtkScalarsToColors
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor2D,
    vtkCoordinate,
    vtkPolyDataMapper2D,
    vtkPropAssembly,
    vtkRenderer,
    vtkTextActor,
    vtkTextRenderer,
)

__all__ = ["ColorBar", "Legend", "MapOverlays", "REFERENCE_HEIGHT", "nice_length", "overlay_scale",
           "set_overlay_scale"]

DARK = (0.14, 0.15, 0.18)
LIGHT = (0.97, 0.97, 0.95)
WHITE = (1.0, 1.0, 1.0)
BOX_OPACITY = 0.82  # legend boxes: white, this opaque
REFERENCE_HEIGHT = 800.0  # view height (px) the overlay sizes are given for
MIN_SCALE = 0.6

_FIXED_SCALE: weakref.WeakKeyDictionary[vtkRenderer, float] = weakref.WeakKeyDictionary()


def set_overlay_scale(renderer: vtkRenderer, scale: float | None) -> None:
    """Fix the overlay size factor of ``renderer`` (None: follow the view height again)."""
    if scale is None:
        _FIXED_SCALE.pop(renderer, None)
    else:
        _FIXED_SCALE[renderer] = float(scale)


def overlay_scale(renderer: vtkRenderer) -> float:
    """The factor the overlays of ``renderer`` multiply their sizes by (see the module docstring)."""
    fixed = _FIXED_SCALE.get(renderer)
    if fixed is not None:
        return fixed
    h = renderer.GetSize()[1]
    return max(MIN_SCALE, h / REFERENCE_HEIGHT) if h > 0 else 1.0


def nice_length(max_metres: float) -> float:
    """The largest 1-2-5 length not above ``max_metres``."""
    if max_metres <= 0 or not math.isfinite(max_metres):
        return 0.0
    exp = math.floor(math.log10(max_metres))
    for m in (5.0, 2.0, 1.0):
        v = m * 10.0**exp
        if v <= max_metres:
            return v
    return 10.0**exp


def _poly_actor(color: tuple[float, float, float], opacity: float = 1.0) -> tuple[vtkActor2D, vtkPolyData]:
    pd = vtkPolyData()
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(pd)
    coord = vtkCoordinate()
    coord.SetCoordinateSystemToDisplay()
    mapper.SetTransformCoordinate(coord)
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*color)
    actor.GetProperty().SetOpacity(opacity)
    return actor, pd


def _set_polys(pd: vtkPolyData, pts: list[tuple[float, float]], polys: list[list[int]]) -> None:
    vp = vtkPoints()
    for x, y in pts:
        vp.InsertNextPoint(x, y, 0.0)
    ca = vtkCellArray()
    for poly in polys:
        ca.InsertNextCell(len(poly))
        for i in poly:
            ca.InsertCellPoint(i)
    pd.SetPoints(vp)
    pd.SetPolys(ca)
    pd.Modified()


def _text(size: int, bold: bool = True) -> vtkTextActor:
    t = vtkTextActor()
    p = t.GetTextProperty()
    p.SetFontSize(size)
    p.SetBold(bold)
    p.SetColor(0.12, 0.13, 0.15)
    p.SetJustificationToCentered()
    p.SetVerticalJustificationToCentered()
    return t


class MapOverlays:
    """North arrow (top right) and scale bar (bottom left) for one renderer."""

    def __init__(self, renderer: vtkRenderer, north: bool = True, scale_bar: bool = True) -> None:
        self.renderer = renderer
        self.north = north
        self.scale_bar = scale_bar
        # all shapes in one 2D actor with per-point RGBA (one draw call instead of five);
        # parts listed in drawing order: disc, arrow halves, bar, bar's light half
        self.shapes, self._shapes_pd = _poly_actor((1.0, 1.0, 1.0))
        mapper: Any = self.shapes.GetMapper()  # a vtkPolyDataMapper2D
        mapper.SetScalarModeToUsePointData()
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()
        self._parts: dict[str, tuple[list[tuple[float, float]], list[list[int]], tuple[int, int, int, int]]] = {}
        self._part_order = ("disc", "arrow_light", "arrow_dark", "bar_dark", "bar_light")
        self._shown: tuple[str, ...] = ()
        self.n_label = _text(15)
        self.bar_label = _text(13, bold=False)
        self.bar_label.GetTextProperty().SetJustificationToLeft()
        self._actors = [self.shapes, self.n_label, self.bar_label]
        for a in self._actors:
            renderer.AddViewProp(a)
        self._tag = renderer.AddObserver("StartEvent", lambda *_: self.update())  # type: ignore[call-overload,arg-type]
        self.last_scale_m = 0.0
        self.last_north_deg = 0.0
        self._drawn: dict[str, object] = {}  # what is on screen, to skip unchanged updates

    def _set_part(self, name: str, pts: list[tuple[float, float]], polys: list[list[int]],
                  rgb: tuple[float, float, float], opacity: float = 1.0) -> None:
        rgba = (int(round(rgb[0] * 255)), int(round(rgb[1] * 255)), int(round(rgb[2] * 255)), int(round(opacity * 255)))
        self._parts[name] = (pts, polys, rgba)
        self._dirty = True

    def _rebuild(self, shown: tuple[str, ...]) -> None:
        if not getattr(self, "_dirty", False) and shown == self._shown:
            return
        self._dirty = False
        self._shown = shown
        pts: list[tuple[float, float]] = []
        polys: list[list[int]] = []
        colors: list[tuple[int, int, int, int]] = []
        for name in self._part_order:
            if name not in shown or name not in self._parts:
                continue
            p, q, rgba = self._parts[name]
            base = len(pts)
            pts.extend(p)
            polys.extend([[base + i for i in poly] for poly in q])
            colors.extend([rgba] * len(p))
        _set_polys(self._shapes_pd, pts, polys)
        arr = numpy_to_vtk(np.array(colors, dtype=np.uint8).reshape(-1, 4), deep=True)
        arr.SetName("rgba")
        self._shapes_pd.GetPointData().SetScalars(arr)

    def _project(self, p: np.ndarray) -> np.ndarray:
        r = self.renderer
        r.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
        r.WorldToDisplay()
        return np.array(r.GetDisplayPoint()[:2])

    def update(self) -> None:
        r = self.renderer
        w, h = r.GetSize()
        if w <= 0 or h <= 0:
            return
        sc = overlay_scale(r)
        if self._drawn.get("scale") != (sc, _dpi(r)):
            self._drawn = {"scale": (sc, _dpi(r))}
            _set_font(self.n_label, 15 * sc, r)
            _set_font(self.bar_label, 13 * sc, r)
        cam = r.GetActiveCamera()
        fp = np.array(cam.GetFocalPoint())
        dist = max(cam.GetDistance(), 1e-6)
        step = dist * 0.05
        s0 = self._project(fp)
        # north: screen direction of +y (grid north) at the focal point
        ds = self._project(fp + np.array([0.0, step, 0.0])) - s0
        if np.hypot(*ds) < 1e-6:  # looking along north: use the up vector
            ds = np.array([0.0, 1.0])
        ang = math.atan2(ds[1], ds[0]) - math.pi / 2
        self.last_north_deg = math.degrees(ang)
        vis = self.north
        self.n_label.SetVisibility(vis)
        shown: list[str] = ["disc", "arrow_light", "arrow_dark"] if vis else []
        key = (w, h, round(math.degrees(ang), 1)) if vis else None
        if vis and self._drawn.get("north") != key:
            self._drawn["north"] = key
            cx, cy, rad = w - 52.0 * sc, h - 58.0 * sc, 26.0 * sc
            ca, sa = math.cos(ang), math.sin(ang)

            def rot(x: float, y: float) -> tuple[float, float]:
                return cx + x * ca - y * sa, cy + x * sa + y * ca

            if self._drawn.get("disc") != (w, h):
                self._drawn["disc"] = (w, h)
                disc = [(cx + (rad + 8 * sc) * math.cos(k * math.pi / 16),
                         cy + (rad + 8 * sc) * math.sin(k * math.pi / 16))
                        for k in range(32)]
                self._set_part("disc", disc, [list(range(32))], WHITE, 0.55)
            tip, base_l, base_r, notch = (0, rad), (-rad * 0.5, -rad), (rad * 0.5, -rad), (0, -rad * 0.45)
            self._set_part("arrow_dark", [rot(*tip), rot(*base_l), rot(*notch)], [[0, 1, 2]], DARK)
            self._set_part("arrow_light", [rot(*tip), rot(*notch), rot(*base_r)], [[0, 1, 2]], LIGHT)
            lx, ly = rot(0.0, rad + 15.0 * sc)
            if self.n_label.GetInput() != "N":
                self.n_label.SetInput("N")
            self.n_label.SetPosition(lx, ly)
        # scale bar: metres per pixel at the focal point, along the screen's horizontal
        right = np.cross(np.array(cam.GetDirectionOfProjection()), np.array(cam.GetViewUp()))
        nr = np.linalg.norm(right)
        px_per_m = 0.0
        if nr > 0:
            d1 = self._project(fp + right / nr * step) - s0
            px_per_m = float(np.hypot(*d1)) / step
        length = nice_length(min(w * 0.22, 220.0 * sc) / px_per_m) if px_per_m > 0 else 0.0
        vis = self.scale_bar and length > 0
        self.bar_label.SetVisibility(vis)
        if vis:
            shown += ["bar_dark", "bar_light"]
        self.last_scale_m = length
        bar_key = (w, h, length, round(length * px_per_m, 1)) if vis else None
        if vis and self._drawn.get("bar") != bar_key:
            self._drawn["bar"] = bar_key
            L = length * px_per_m
            x0, y0, hgt = 24.0 * sc, 22.0 * sc, 7.0 * sc
            half = L / 2.0
            # a dark bar with a 1.5 px border; its right half is filled light
            b = 1.5 * sc
            self._set_part("bar_dark",
                           [(x0 - b, y0 - b), (x0 + L + b, y0 - b), (x0 + L + b, y0 + hgt + b), (x0 - b, y0 + hgt + b)],
                           [[0, 1, 2, 3]], DARK)
            self._set_part("bar_light",
                           [(x0 + half, y0), (x0 + L, y0), (x0 + L, y0 + hgt), (x0 + half, y0 + hgt)], [[0, 1, 2, 3]],
                           LIGHT)
            label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
            if self.bar_label.GetInput() != label:
                self.bar_label.SetInput(label)
            self.bar_label.SetPosition(x0 + L + 10.0 * sc, y0 + hgt / 2.0)
        self._rebuild(tuple(shown))

    def remove(self) -> None:
        self.renderer.RemoveObserver(self._tag)
        for a in self._actors:
            self.renderer.RemoveViewProp(a)


def _dpi(renderer: vtkRenderer) -> int:
    """The DPI VTK draws text at in ``renderer``'s window (72: a font size is in pixels; a Qt
    window on a screen with device pixel ratio 2 says 144)."""
    win = renderer.GetRenderWindow()
    return int(win.GetDPI()) if win is not None and win.GetDPI() > 0 else 72


def _text_px(actor: vtkTextActor, text: str, renderer: vtkRenderer) -> tuple[float, float]:
    """Width and height in pixels of ``text`` drawn with ``actor``'s text property."""
    bb = [0, 0, 0, 0]
    if not text or not vtkTextRenderer.GetInstance().GetBoundingBox(actor.GetTextProperty(), text, bb,
                                                                    _dpi(renderer)):
        return 0.0, 0.0
    return float(bb[1] - bb[0] + 1), float(bb[3] - bb[2] + 1)


def _set_font(actor: vtkTextActor, px: float, renderer: vtkRenderer) -> None:
    """Make ``actor``'s glyphs ``px`` pixels high (the font size in points at the window's DPI)."""
    pt = max(1, int(round(px * 72.0 / _dpi(renderer))))
    if actor.GetTextProperty().GetFontSize() != pt:
        actor.GetTextProperty().SetFontSize(pt)


class Legend:
    """A legend box in the upper left: a title and one colour swatch per entry (dark text on a
    semi-opaque white box, sized to its text and scaled like the other overlays)."""

    def __init__(self, renderer: vtkRenderer) -> None:
        self.renderer = renderer
        self.box, self._box_pd = _poly_actor(WHITE, BOX_OPACITY)
        self._swatches: list[tuple[vtkActor2D, vtkPolyData]] = []
        self._texts: list[vtkTextActor] = []
        self.title = _text(15)
        self.title.GetTextProperty().SetJustificationToLeft()
        self._title_text = ""
        self._entries: list[tuple[str, tuple[int, int, int]]] = []
        self._laid_out: tuple[object, ...] = ()
        renderer.AddViewProp(self.box)
        renderer.AddViewProp(self.title)
        self._tag = renderer.AddObserver("StartEvent", lambda *_: self.update())  # type: ignore[call-overload,arg-type]

    def set_entries(self, title: str, entries: list[tuple[str, tuple[int, int, int]]]) -> None:
        """Show ``entries`` (label, RGB 0-255) under ``title``; an empty list hides the legend."""
        for a, _ in self._swatches:
            self.renderer.RemoveViewProp(a)
        for t in self._texts:
            self.renderer.RemoveViewProp(t)
        self._swatches, self._texts = [], []
        self._title_text = title
        self._entries = list(entries)
        for _label, rgb in entries:
            a, pd = _poly_actor((rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0))
            self.renderer.AddViewProp(a)
            self._swatches.append((a, pd))
            t = _text(13, bold=False)
            t.GetTextProperty().SetJustificationToLeft()
            self.renderer.AddViewProp(t)
            self._texts.append(t)
        visible = bool(entries)
        self.box.SetVisibility(visible)
        self.title.SetVisibility(visible)
        self._laid_out = ()
        self.update()

    def box_rect(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` of the box in display pixels (origin bottom-left)."""
        return self._rect

    def update(self) -> None:
        if not self._entries:
            return
        w, h = self.renderer.GetSize()
        sc = overlay_scale(self.renderer)
        key = (w, h, sc, _dpi(self.renderer), self._title_text, tuple(self._entries))
        if key == self._laid_out:
            return
        self._laid_out = key
        _set_font(self.title, 15 * sc, self.renderer)
        for t in self._texts:
            _set_font(t, 13 * sc, self.renderer)
        line, pad, sw = 20.0 * sc, 10.0 * sc, 16.0 * sc
        title_w, _ = _text_px(self.title, self._title_text, self.renderer)
        label_w = max((_text_px(t, lbl, self.renderer)[0] for t, (lbl, _) in zip(self._texts, self._entries)),
                      default=0.0)
        width = 2 * pad + max(title_w, sw + 8.0 * sc + label_w)
        n = len(self._entries)
        height = pad * 2 + line * (n + 1) + 4.0 * sc  # the title's line has a little more room below
        x0, y1 = 16.0 * sc, h - 16.0 * sc
        y0 = y1 - height
        self._rect = (x0, y0, x0 + width, y1)
        _set_polys(self._box_pd, [(x0, y0), (x0 + width, y0), (x0 + width, y1), (x0, y1)], [[0, 1, 2, 3]])
        self.title.SetInput(self._title_text)
        self.title.SetPosition(x0 + pad, y1 - pad - line / 2)
        for k, ((label, _), (_, pd), t) in enumerate(zip(self._entries, self._swatches, self._texts)):
            cy = y1 - pad - 4.0 * sc - line * (k + 1.5)
            hs = 6.0 * sc
            _set_polys(pd, [(x0 + pad, cy - hs), (x0 + pad + sw, cy - hs), (x0 + pad + sw, cy + hs),
                            (x0 + pad, cy + hs)], [[0, 1, 2, 3]])
            t.SetInput(label)
            t.SetPosition(x0 + pad + sw + 8.0 * sc, cy)

    def remove(self) -> None:
        self.set_entries("", [])
        self.renderer.RemoveObserver(self._tag)
        self.renderer.RemoveViewProp(self.box)
        self.renderer.RemoveViewProp(self.title)


def _tick_text(v: float, span: float) -> str:
    """A colour bar tick label: three significant digits, no exponent for ordinary values."""
    if not math.isfinite(v):
        return ""
    if abs(v) >= 1000 or span >= 100:
        return f"{v:,.0f}"
    return f"{v:#.3g}".rstrip(".")


class ColorBar(vtkPropAssembly):
    """A horizontal colour bar for a lookup table in the lower right corner: a semi-opaque box,
    the title above the bar, tick marks and value labels under it, none overlapping (fewer
    labels when they would). One prop: add it with :meth:`attach`, which also lays it out
    before each render of that renderer; ``SetVisibility`` shows and hides all of it.

    ``SetTitle``/``GetTitle``/``SetLookupTable`` as on VTK's ``vtkScalarBarActor``.
    """

    def __init__(self, lut: vtkScalarsToColors | None = None, title: str = "", n_labels: int = 5) -> None:
        super().__init__()
        self.lut = lut
        self.title = title
        self.n_labels = int(n_labels)
        self.box, self._box_pd = _poly_actor(WHITE, BOX_OPACITY)
        self.frame, self._frame_pd = _poly_actor(DARK)  # outline of the bar and the tick marks
        self.bar, self._bar_pd = _poly_actor(WHITE)
        m: Any = self.bar.GetMapper()  # a vtkPolyDataMapper2D
        m.SetScalarModeToUsePointData()
        m.SetColorModeToDirectScalars()
        m.ScalarVisibilityOn()
        self.title_actor = _text(14)
        self.title_actor.GetTextProperty().SetJustificationToCentered()
        self.title_actor.GetTextProperty().SetVerticalJustificationToBottom()
        self.labels: list[vtkTextActor] = []
        for part in (self.box, self.frame, self.bar, self.title_actor):
            self.AddPart(part)
        self.renderer: vtkRenderer | None = None
        self._tag = 0
        self._laid_out: tuple[object, ...] = ()
        self.rect = (0.0, 0.0, 0.0, 0.0)  # the box, display pixels (x0, y0, x1, y1)
        self.bar_rect = (0.0, 0.0, 0.0, 0.0)
        self.shown_labels: list[tuple[float, str]] = []  # (x centre, text) of the labels drawn

    # vtkScalarBarActor's names, for the callers that used one
    def SetTitle(self, title: str) -> None:  # noqa: N802
        self.title = str(title)

    def GetTitle(self) -> str:  # noqa: N802
        return self.title

    def SetLookupTable(self, lut: vtkScalarsToColors) -> None:  # noqa: N802
        self.lut = lut

    def GetLookupTable(self) -> vtkScalarsToColors | None:  # noqa: N802
        return self.lut

    def attach(self, renderer: vtkRenderer) -> None:
        """Draw in ``renderer`` (laid out before each of its renders)."""
        self.detach()
        self.renderer = renderer
        renderer.AddViewProp(self)
        self._tag = renderer.AddObserver("StartEvent", lambda *_: self.update())  # type: ignore[call-overload,arg-type]
        self._laid_out = ()

    def detach(self) -> None:
        if self.renderer is not None:
            self.renderer.RemoveObserver(self._tag)
            self.renderer.RemoveViewProp(self)
            self.renderer = None

    def _label_actor(self, k: int) -> vtkTextActor:
        while len(self.labels) <= k:
            t = _text(12, bold=False)
            t.GetTextProperty().SetVerticalJustificationToTop()
            self.labels.append(t)
            self.AddPart(t)
        return self.labels[k]

    def update(self) -> None:
        """Lay the bar out for the renderer's size (skipped when nothing changed)."""
        r, lut = self.renderer, self.lut
        if r is None or lut is None or not self.GetVisibility():
            return
        w, h = r.GetSize()
        if w <= 0 or h <= 0:
            return
        sc = overlay_scale(r)
        lo, hi = (float(v) for v in lut.GetRange())
        key = (w, h, sc, _dpi(r), self.title, lo, hi, lut.GetMTime(), self.n_labels)
        if key == self._laid_out:
            return
        self._laid_out = key
        pad, margin, bar_h, tick = 10.0 * sc, 16.0 * sc, 12.0 * sc, 4.0 * sc
        _set_font(self.title_actor, 14 * sc, r)
        length = min(300.0 * sc, 0.42 * w)
        # the labels: as many of n_labels (then 3, then 2) as fit side by side with a gap
        span = hi - lo
        chosen: list[tuple[float, str]] = []
        half_first = half_last = 0.0
        for n in dict.fromkeys((self.n_labels, 3, 2)):
            if n < 2:
                continue
            vals = [lo + span * k / (n - 1) for k in range(n)]
            texts = [_tick_text(v, abs(span)) for v in vals]
            probe = self._label_actor(0)
            _set_font(probe, 12 * sc, r)
            widths = [_text_px(probe, t, r)[0] for t in texts]
            step = length / (n - 1)
            if all((widths[k] + widths[k + 1]) / 2 + 8.0 * sc <= step for k in range(n - 1)) or n == 2:
                chosen = [(length * k / (n - 1), t) for k, t in enumerate(texts)]
                half_first, half_last = widths[0] / 2, widths[-1] / 2
                break
        if span <= 0 or not math.isfinite(span):
            chosen, half_first, half_last = [(length / 2, _tick_text(lo, 0.0))], 0.0, 0.0
        label_h = _text_px(self._label_actor(0), "0", r)[1]
        title_w, title_h = _text_px(self.title_actor, self.title, r)
        inner_w = max(length + half_first + half_last, title_w)
        x1 = w - margin
        x0 = x1 - inner_w - 2 * pad
        bx0 = x0 + pad + (inner_w - length - half_first - half_last) / 2 + half_first  # centred under the title
        y0 = margin
        label_top = y0 + pad + label_h
        by0 = label_top + tick + 2.0 * sc
        by1 = by0 + bar_h
        title_y = by1 + 6.0 * sc
        y1 = title_y + title_h + pad
        self.rect = (x0, y0, x1, y1)
        self.bar_rect = (bx0, by0, bx0 + length, by1)
        _set_polys(self._box_pd, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], [[0, 1, 2, 3]])
        # the bar: a strip of quads, colours from the table at their edges (interpolated between)
        nseg = 64
        xs = [bx0 + length * k / nseg for k in range(nseg + 1)]
        pts = [(x, by0) for x in xs] + [(x, by1) for x in xs]
        polys = [[k, k + 1, nseg + 2 + k, nseg + 1 + k] for k in range(nseg)]
        _set_polys(self._bar_pd, pts, polys)
        rgb = [0.0, 0.0, 0.0]
        cols = []
        for k in range(nseg + 1):
            lut.GetColor(lo + span * k / nseg if span > 0 else lo, rgb)
            cols.append((int(round(rgb[0] * 255)), int(round(rgb[1] * 255)), int(round(rgb[2] * 255)), 255))
        arr = numpy_to_vtk(np.array(cols + cols, dtype=np.uint8).reshape(-1, 4), deep=True)
        arr.SetName("rgba")
        self._bar_pd.GetPointData().SetScalars(arr)
        # outline (a dark rectangle behind the bar) and one tick mark per label
        b = max(1.0, 1.0 * sc)
        fpts = [(bx0 - b, by0 - b), (bx0 + length + b, by0 - b), (bx0 + length + b, by1 + b), (bx0 - b, by1 + b)]
        fpolys = [[0, 1, 2, 3]]
        for x, _ in chosen:
            base = len(fpts)
            fpts += [(bx0 + x - b / 2 - 0.5, by0 - tick), (bx0 + x + b / 2 + 0.5, by0 - tick),
                     (bx0 + x + b / 2 + 0.5, by0), (bx0 + x - b / 2 - 0.5, by0)]
            fpolys.append([base, base + 1, base + 2, base + 3])
        _set_polys(self._frame_pd, fpts, fpolys)
        self.title_actor.SetInput(self.title)
        self.title_actor.SetPosition(x0 + (x1 - x0) / 2, title_y)
        self.title_actor.SetVisibility(bool(self.title))
        for k, t in enumerate(self.labels):
            t.SetVisibility(k < len(chosen))
        self.shown_labels = []
        for k, (x, text) in enumerate(chosen):
            t = self._label_actor(k)
            _set_font(t, 12 * sc, r)
            t.SetInput(text)
            t.SetPosition(bx0 + x, label_top)
            t.SetVisibility(True)
            self.shown_labels.append((bx0 + x, text))
