"""Screen overlays drawn in display coordinates: a north arrow and a scale bar.

Both are updated from the camera right before each render (a renderer
``StartEvent`` observer), which costs two point projections.
"""

from __future__ import annotations

import math

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor2D,
    vtkCoordinate,
    vtkPolyDataMapper2D,
    vtkRenderer,
    vtkTextActor,
)

__all__ = ["Legend", "MapOverlays", "nice_length"]

DARK = (0.14, 0.15, 0.18)
LIGHT = (0.97, 0.97, 0.95)
WHITE = (1.0, 1.0, 1.0)


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
        mapper = self.shapes.GetMapper()
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
            cx, cy, rad = w - 52.0, h - 58.0, 26.0
            ca, sa = math.cos(ang), math.sin(ang)

            def rot(x: float, y: float) -> tuple[float, float]:
                return cx + x * ca - y * sa, cy + x * sa + y * ca

            if self._drawn.get("disc") != (w, h):
                self._drawn["disc"] = (w, h)
                disc = [(cx + (rad + 8) * math.cos(k * math.pi / 16), cy + (rad + 8) * math.sin(k * math.pi / 16))
                        for k in range(32)]
                self._set_part("disc", disc, [list(range(32))], WHITE, 0.55)
            tip, base_l, base_r, notch = (0, rad), (-rad * 0.5, -rad), (rad * 0.5, -rad), (0, -rad * 0.45)
            self._set_part("arrow_dark", [rot(*tip), rot(*base_l), rot(*notch)], [[0, 1, 2]], DARK)
            self._set_part("arrow_light", [rot(*tip), rot(*notch), rot(*base_r)], [[0, 1, 2]], LIGHT)
            lx, ly = rot(0.0, rad + 15.0)
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
        length = nice_length(min(w * 0.22, 220.0) / px_per_m) if px_per_m > 0 else 0.0
        vis = self.scale_bar and length > 0
        self.bar_label.SetVisibility(vis)
        if vis:
            shown += ["bar_dark", "bar_light"]
        self.last_scale_m = length
        bar_key = (w, h, length, round(length * px_per_m, 1)) if vis else None
        if vis and self._drawn.get("bar") != bar_key:
            self._drawn["bar"] = bar_key
            L = length * px_per_m
            x0, y0, hgt = 24.0, 22.0, 7.0
            half = L / 2.0
            # a dark bar with a 1.5 px border; its right half is filled light
            b = 1.5
            self._set_part("bar_dark",
                           [(x0 - b, y0 - b), (x0 + L + b, y0 - b), (x0 + L + b, y0 + hgt + b), (x0 - b, y0 + hgt + b)],
                           [[0, 1, 2, 3]], DARK)
            self._set_part("bar_light",
                           [(x0 + half, y0), (x0 + L, y0), (x0 + L, y0 + hgt), (x0 + half, y0 + hgt)], [[0, 1, 2, 3]],
                           LIGHT)
            label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
            if self.bar_label.GetInput() != label:
                self.bar_label.SetInput(label)
            self.bar_label.SetPosition(x0 + L + 10.0, y0 + hgt / 2.0)
        self._rebuild(tuple(shown))

    def remove(self) -> None:
        self.renderer.RemoveObserver(self._tag)
        for a in self._actors:
            self.renderer.RemoveViewProp(a)


class Legend:
    """A legend box in the upper left: a title and one colour swatch per entry (dark text on light)."""

    def __init__(self, renderer: vtkRenderer) -> None:
        self.renderer = renderer
        self.box, self._box_pd = _poly_actor((1.0, 1.0, 1.0), 0.82)
        self._swatches: list[tuple[vtkActor2D, vtkPolyData]] = []
        self._texts: list[vtkTextActor] = []
        self.title = _text(15)
        self.title.GetTextProperty().SetJustificationToLeft()
        renderer.AddViewProp(self.box)
        renderer.AddViewProp(self.title)

    def set_entries(self, title: str, entries: list[tuple[str, tuple[int, int, int]]]) -> None:
        """Show ``entries`` (label, RGB 0-255) under ``title``; an empty list hides the legend."""
        for a, _ in self._swatches:
            self.renderer.RemoveViewProp(a)
        for t in self._texts:
            self.renderer.RemoveViewProp(t)
        self._swatches, self._texts = [], []
        self._title_text = title
        self._entries = entries
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
        self.update()

    def update(self) -> None:
        if not getattr(self, "_entries", None):
            return
        w, h = self.renderer.GetSize()
        line, pad = 20.0, 10.0
        n = len(self._entries)
        width = 40.0 + 7.5 * max(len(self._title_text), *(len(lbl) for lbl, _ in self._entries))
        height = pad * 2 + line * (n + 1)
        x0, y1 = 16.0, h - 16.0
        y0 = y1 - height
        _set_polys(self._box_pd, [(x0, y0), (x0 + width, y0), (x0 + width, y1), (x0, y1)], [[0, 1, 2, 3]])
        self.title.SetInput(self._title_text)
        self.title.SetPosition(x0 + pad, y1 - pad - line / 2)
        for k, ((label, _), (_, pd), t) in enumerate(zip(self._entries, self._swatches, self._texts)):
            cy = y1 - pad - line * (k + 1.5)
            _set_polys(pd, [(x0 + pad, cy - 6), (x0 + pad + 16, cy - 6), (x0 + pad + 16, cy + 6), (x0 + pad, cy + 6)],
                       [[0, 1, 2, 3]])
            t.SetInput(label)
            t.SetPosition(x0 + pad + 24, cy)

    def remove(self) -> None:
        self.set_entries("", [])
        self.renderer.RemoveViewProp(self.box)
        self.renderer.RemoveViewProp(self.title)
