"""VtkCityVisual: one actor for one CityModel; styling, visibility, LoD, highlight and picking.

Colours are computed per cell (triangle) and written as per-point colours: the
vertices are split where the colour group (object, semantic surface, flat roof)
changes, so every point belongs to one group and per-point colours look exactly
like per-cell ones. Per-cell scalars would make the OpenGL mapper fetch a colour
from a texture buffer for every fragment, about a third of the frame time with
software OpenGL. Restyling writes into the existing colour arrays (a scalar change,
no new actor, no geometry rebuild); only :meth:`VtkCityVisual.set_lod` swaps the cells.
Every change calls :attr:`VtkCityVisual.changed` listeners so a viewport can
schedule one render (render on demand, no polling).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import mutable, vtkIdList
from vtkmodules.vtkCommonDataModel import vtkStaticCellLocator
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer

from ..model.city import CityModel
from ..model.style import (
    HIGHLIGHT_RGB,
    NEUTRAL_RGB,
    LegendEntry,
    Styling,
    cell_colors,
    color_by_attribute,
    colormap,
    highlight_colors,
    semantic_styling,
)
from .polydata import city_polydata

log = logging.getLogger(__name__)

__all__ = ["Callbacks", "PickResult", "VtkCityVisual"]


class Callbacks:
    """A minimal signal: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)``."""

    def __init__(self) -> None:
        self._fns: list[Callable[..., None]] = []

    def connect(self, fn: Callable[..., None]) -> None:
        if fn not in self._fns:
            self._fns.append(fn)

    def disconnect(self, fn: Callable[..., None]) -> None:
        if fn in self._fns:
            self._fns.remove(fn)

    def emit(self, *args: object) -> None:
        for fn in list(self._fns):
            fn(*args)

    def __len__(self) -> int:
        return len(self._fns)


@dataclass
class PickResult:
    """What a ray hit: object index in the model, cell, world point (scene coordinates), ray parameter."""

    object: int
    cell: int
    point: tuple[float, float, float]
    t: float


class VtkCityVisual:
    """The VTK side of one city layer: one PolyData, one mapper, one actor.

    Parameters
    ----------
    model
        The city model.
    lod
        Initial LoD choice (``"best"``, ``"lowest"`` or a number).
    color_by
        ``"semantic"`` or an attribute name.
    offset
        Actor position: ``model.origin - scene_origin`` (small, float64) so that
        models with different origins line up in one scene.
    """

    def __init__(
        self,
        model: CityModel,
        lod: float | str = "best",
        color_by: str = "semantic",
        offset: Iterable[float] = (0.0, 0.0, 0.0),
    ) -> None:
        self.model = model
        self.changed = Callbacks()
        self._lod: float | str = lod
        self._highlight: NDArray[np.int64] = np.zeros(0, np.int64)
        self._base: NDArray[np.uint8] | None = None
        self._locator: vtkStaticCellLocator | None = None
        self._visible = True
        self._vertex_field: tuple[NDArray[np.uint8], NDArray[np.bool_]] | None = None
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetScalarModeToUsePointFieldData()
        self.mapper.SetColorModeToDirectScalars()
        self.mapper.SelectColorArray("rgb")
        self.mapper.SetInterpolateScalarsBeforeMapping(False)
        self.mapper.ScalarVisibilityOn()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        self.actor.SetPosition(*[float(v) for v in offset])
        prop = self.actor.GetProperty()
        prop.SetInterpolationToFlat()
        prop.SetAmbient(0.3)
        prop.SetDiffuse(0.78)
        prop.SetSpecular(0.04)
        prop.SetSpecularPower(12.0)
        self.styling: Styling = semantic_styling(model.n_objects)
        self._build_geometry()
        self.set_color_mode(color_by, notify=False)

    # ------------------------------------------------------------ geometry
    def _build_geometry(self) -> None:
        pd = city_polydata(self.model, self._lod, split_groups=True)
        self.polydata = pd
        self.cell_object: NDArray[np.int32] = np.asarray(pd.cell_data["object"])
        self.cell_semantic: NDArray[np.uint8] = np.asarray(pd.cell_data["semantic"])
        self.cell_flat = np.asarray(pd.cell_data["flat"]).astype(bool)
        self._point_cell: NDArray[np.int64] = pd._citytwin_point_cell
        self._cell_triangle: NDArray[np.int32] = np.asarray(pd.cell_data["triangle"])
        self._rgb = np.zeros((pd.n_cells, 3), dtype=np.uint8)  # per cell (what the styling gives)
        self._point_rgb = np.zeros((pd.n_points, 3), dtype=np.uint8)  # what is drawn
        self._rgb_vtk = numpy_to_vtk(self._point_rgb, deep=False)
        self._rgb_vtk.SetName("rgb")
        pd.GetPointData().AddArray(self._rgb_vtk)
        self.mapper.SetInputData(pd)
        self._locator = None
        self._bounds: NDArray[np.float64] | None = None

    def cell_rgb(self) -> NDArray[np.uint8]:
        """The drawn colour of every cell, ``(n_cells, 3)`` uint8 (highlight included)."""
        return self._rgb

    @property
    def n_cells(self) -> int:
        return int(self.polydata.n_cells)

    @property
    def lod(self) -> float | str:
        return self._lod

    def set_lod(self, lod: float | str) -> None:
        """Show another LoD: rebuilds the cells (the actor and mapper stay)."""
        if lod == self._lod:
            return
        self._lod = lod
        self._build_geometry()
        self._write_colors()
        self.changed.emit("lod")

    # ------------------------------------------------------------ colours
    def set_color_mode(self, mode: str, value_range: tuple[float, float] | None = None,
                       notify: bool = True) -> Styling:
        """Colour by ``"semantic"`` or by an attribute; returns the styling (legend)."""
        if mode == "semantic":
            self.styling = semantic_styling(self.model.n_objects)
        else:
            self.styling = color_by_attribute(self.model.objects, mode, value_range=value_range)
        self._write_colors()
        if notify:
            self.changed.emit("color_by")
        return self.styling

    def set_object_values(self, values: NDArray[np.floating], vmin: float, vmax: float, label: str,
                          context_types: Iterable[str] = (), notify: bool = True) -> Styling:
        """Colour objects by given numbers (e.g. interpolated sensor values) on a fixed range.

        Writes into the existing colour arrays like :meth:`set_color_mode` (no geometry
        rebuild). Objects with NaN are neutral grey; objects of ``context_types`` keep
        their semantic colours.

        Parameters
        ----------
        values
            ``(n_objects,)`` value per object of the model.
        vmin, vmax
            Value range of the viridis map (values outside are clamped).
        label
            Legend title (``styling.mode``), e.g. ``"no2 [µg/m³] · IDW"``.
        context_types
            Object types drawn in their semantic colours (terrain, roads, ...).
        """
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(v) != self.model.n_objects:
            raise ValueError(f"{len(v)} values for {self.model.n_objects} objects")
        lo, hi = float(vmin), float(vmax)
        span = hi - lo if hi > lo else 1.0
        good = np.isfinite(v)
        rgba = np.empty((len(v), 4), np.uint8)
        rgba[:, :3] = colormap(np.where(good, (v - lo) / span, np.nan))
        rgba[:, 3] = 255
        legend = []
        for k in range(5):
            c = colormap(np.array([k / 4]))[0]
            val = lo + span * k / 4
            legend.append(LegendEntry(f"{val:.3g}" if abs(val) < 1000 else f"{val:.0f}",
                                      (int(c[0]), int(c[1]), int(c[2]), 255), val))
        legend.append(LegendEntry("no value", (*NEUTRAL_RGB, 255)))
        self.styling = Styling(label, "numeric", rgba, good, legend, (lo, hi), frozenset(context_types))
        self._write_colors()
        if notify:
            self.changed.emit("color_by")
        return self.styling

    def set_vertex_values(self, values: NDArray[np.floating] | None, vmin: float = 0.0, vmax: float = 1.0,
                          objects: NDArray[np.bool_] | None = None, notify: bool = True) -> None:
        """Colour the surfaces of some objects by a value per model vertex (e.g. a sensor field on terrain).

        Colours are interpolated across each triangle (per-point colours), so a field
        sampled at the vertices of a TIN shows as a smooth gradient. The other objects
        keep the styling of :meth:`set_color_mode` / :meth:`set_object_values`; the
        highlight still wins. ``None`` removes the field. No geometry is rebuilt.

        Parameters
        ----------
        values
            ``(n_vertices,)`` one value per vertex of ``model.vertices`` (NaN: neutral grey).
        vmin, vmax
            Value range of the viridis map (outside: clamped).
        objects
            ``(n_objects,)`` bool, the objects coloured by the field (default: all).
        """
        if values is None:
            self._vertex_field = None
        else:
            v = np.asarray(values, dtype=np.float64).reshape(-1)
            if len(v) != len(self.model.vertices):
                raise ValueError(f"{len(v)} values for {len(self.model.vertices)} vertices")
            span = float(vmax) - float(vmin)
            rgb = colormap(np.where(np.isfinite(v), (v - float(vmin)) / (span if span > 0 else 1.0), np.nan))
            sel = (np.ones(self.model.n_objects, dtype=bool) if objects is None
                   else np.asarray(objects, dtype=bool).reshape(-1))
            if len(sel) != self.model.n_objects:
                raise ValueError(f"{len(sel)} object flags for {self.model.n_objects} objects")
            self._vertex_field = (np.ascontiguousarray(rgb[:, :3], dtype=np.uint8), sel)
        self._write_colors(restyle=False)
        if notify:
            self.changed.emit("color_by")

    @property
    def color_mode(self) -> str:
        return self.styling.mode

    def _write_colors(self, restyle: bool = True) -> None:
        """Write the colour array: base colours (recomputed when ``restyle``) plus the highlight."""
        if restyle or self._base is None or len(self._base) != self.n_cells:
            self._base = cell_colors(self.styling, self.cell_object, self.cell_semantic, self.model.objects.types,
                                     cell_flat=self.cell_flat)
        self._rgb[:] = self._base
        if len(self._highlight):
            sel = np.zeros(self.model.n_objects, dtype=bool)
            sel[self._highlight] = True
            mask = sel[self.cell_object]  # O(cells), no sort
            self._rgb[mask] = highlight_colors(self._base[mask], np.ones(int(mask.sum()), bool), HIGHLIGHT_RGB)
        np.take(self._rgb, self._point_cell, axis=0, out=self._point_rgb)
        if self._vertex_field is not None:
            field_rgb, sel = self._vertex_field
            cell_sel = sel[self.cell_object]
            if len(self._highlight):
                hl = np.zeros(self.model.n_objects, dtype=bool)
                hl[self._highlight] = True
                cell_sel &= ~hl[self.cell_object]
            pts = np.flatnonzero(cell_sel[self._point_cell])
            vertex = np.asarray(self.polydata.point_data["vertex"])
            self._point_rgb[pts] = field_rgb[vertex[pts]]
            self._rgb[cell_sel] = field_rgb[self.model.triangles[self._cell_triangle[cell_sel], 0]]
        self._rgb_vtk.Modified()

    def highlight(self, objects: Iterable[int] | None, descendants: bool = True) -> None:
        """Highlight objects (and, by default, their parts) by recolouring their cells; None clears."""
        idx = np.asarray(list(objects) if objects is not None else [], dtype=np.int64).reshape(-1)
        if descendants and len(idx):
            idx = np.unique(np.concatenate([np.asarray(self.model.objects.descendants(int(i))) for i in idx]))
        self._highlight = idx
        self._write_colors(restyle=False)
        self.changed.emit("highlight")

    @property
    def highlighted(self) -> NDArray[np.int64]:
        return self._highlight

    # ------------------------------------------------------------ display
    def set_visible(self, visible: bool) -> None:
        self._visible = bool(visible)
        self._sync_visibility()
        self.changed.emit("visible")

    @property
    def visible(self) -> bool:
        return self._visible

    def _sync_visibility(self) -> None:
        # opacity 0 hides the actor: the city shader (SceneView's CityLighting) does
        # not discard fully transparent fragments
        self.actor.SetVisibility(self._visible and self.opacity > 0.0)

    def set_opacity(self, opacity: float) -> None:
        self.actor.GetProperty().SetOpacity(float(np.clip(opacity, 0.0, 1.0)))
        self._sync_visibility()
        self.changed.emit("opacity")

    @property
    def opacity(self) -> float:
        return float(self.actor.GetProperty().GetOpacity())

    def bounds(self) -> NDArray[np.float64]:
        """``(xmin, xmax, ymin, ymax, zmin, zmax)`` in scene coordinates."""
        if self._bounds is None:
            # from the points the cells use (after the split, exactly the vertices of the
            # drawn triangles): files carry vertices no drawn triangle needs (other LoDs,
            # terrain intersection curves) that would spoil camera framing
            pts = np.asarray(self.polydata.points)
            if len(pts):
                lo, hi = pts.min(axis=0).astype(np.float64), pts.max(axis=0).astype(np.float64)
                self._bounds = np.array([lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]])
            else:
                self._bounds = np.zeros(6)
        b = self._bounds
        pos = np.array(self.actor.GetPosition())
        return b + np.repeat(pos, 2)

    def sample_points(self, max_points: int = 20_000) -> NDArray[np.float64]:
        """Up to ``max_points`` of the drawn vertices in scene coordinates (for camera framing).

        A stride over the drawn points (no sort: framing needs coverage, not uniqueness).
        """
        pts = np.asarray(self.polydata.points)
        if len(pts) > max_points:
            pts = pts[:: int(np.ceil(len(pts) / max_points))]
        return pts.astype(np.float64) + np.array(self.actor.GetPosition())

    # ------------------------------------------------------------ picking
    def _get_locator(self) -> vtkStaticCellLocator:
        if self._locator is None:
            loc = vtkStaticCellLocator()
            # the mapper's own input: a locator on a copy would be silently ignored
            loc.SetDataSet(self.mapper.GetInput())
            loc.BuildLocator()
            self._locator = loc
        return self._locator

    def build_locator(self) -> None:
        """Build the picking locator now (otherwise it is built on the first pick)."""
        self._get_locator()

    def pick_ray(self, p0: Iterable[float], p1: Iterable[float]) -> PickResult | None:
        """First hit of the segment ``p0 -> p1`` (scene coordinates), or None."""
        if not self.visible or self.n_cells == 0:
            return None
        pos = np.array(self.actor.GetPosition())
        a = np.asarray(list(p0), dtype=np.float64) - pos
        b = np.asarray(list(p1), dtype=np.float64) - pos
        t = mutable(0.0)
        x = [0.0, 0.0, 0.0]
        pc = [0.0, 0.0, 0.0]
        sub = mutable(0)
        cell = mutable(0)
        hit = self._get_locator().IntersectWithLine(  # type: ignore[call-overload]
            a.tolist(), b.tolist(), 1e-6, t, x, pc, sub, cell
        )
        if not hit:
            return None
        c = int(cell)  # type: ignore[call-overload]
        w = np.add(x, pos)
        return PickResult(int(self.cell_object[c]), c, (float(w[0]), float(w[1]), float(w[2])),
                          float(t))  # type: ignore[arg-type]

    def pick(self, x: float, y: float, renderer: vtkRenderer) -> int:
        """Object index under display pixel ``(x, y)`` (VTK display coordinates, origin bottom-left), or -1."""
        p0, p1 = display_ray(renderer, x, y)
        hit = self.pick_ray(p0, p1)
        return hit.object if hit else -1

    def cells_along(self, p0: Iterable[float], p1: Iterable[float]) -> list[int]:
        """All cells a segment crosses (for measuring / debugging)."""
        ids = vtkIdList()
        self._get_locator().FindCellsAlongLine(list(p0), list(p1), 1e-6, ids)
        return [ids.GetId(k) for k in range(ids.GetNumberOfIds())]

    def release(self) -> None:
        """Drop VTK references (the owner removes the actor from its renderer)."""
        self._locator = None
        self.mapper.RemoveAllInputs()
        self.changed = Callbacks()


def display_ray(renderer: vtkRenderer, x: float, y: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """World-space points on the near and far clipping planes under display pixel ``(x, y)``."""
    out = []
    for z in (0.0, 1.0):
        renderer.SetDisplayPoint(float(x), float(y), z)
        renderer.DisplayToWorld()
        w = renderer.GetWorldPoint()
        out.append(np.array(w[:3]) / (w[3] if w[3] else 1.0))
    return out[0], out[1]
