"""VtkCityVisual: one actor for one CityModel; styling, visibility, LoD, highlight and picking.

Colours are computed per cell (triangle) and written as per-point colours: the
vertices are split where the colour group (object, semantic surface, flat roof)
changes, so every point belongs to one group and per-point colours look exactly
like per-cell ones. Per-cell scalars would make the OpenGL mapper fetch a colour
from a texture buffer for every fragment, about a third of the frame time with
software OpenGL. Restyling writes into the existing colour arrays (a scalar change,
no new actor, no geometry rebuild); only :meth:`VtkCityVisual.set_lod` swaps the cells.

Textured triangles (see :mod:`citytwin.render.textures`) are drawn by one extra
actor per atlas page (and per tiling image), never also by the coloured actor (no
z-fighting). They belong to the layer: visibility, opacity, LoD, highlight (a tint
of the texture) and picking cover them; with textures off or a thematic colouring
they show the same colours as the coloured actor. A model without textures gets no
extra actor and no extra work.
Every change calls :attr:`VtkCityVisual.changed` listeners so a viewport can
schedule one render (render on demand, no polling).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

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
from .polydata import city_polydata, lod_triangle_mask
from .textures import TextureSet, build_texture_set, textured_polydata, textured_triangle_mask, vtk_texture
from .viewtools import display_ray

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


class _Part:
    """One drawn PolyData of a visual: the coloured actor's or a texture group's.

    Its cells are ``offset .. offset + n_cells`` of the visual's cell arrays.
    """

    def __init__(self, mapper: vtkPolyDataMapper, actor: vtkActor, texture: Any = None) -> None:
        self.mapper = mapper
        self.actor = actor
        self.texture = texture  # vtkTexture of a texture group, None for the coloured part
        self.polydata: Any = None
        self.offset = 0
        self.n_cells = 0
        self.point_cell: NDArray[np.int64] = np.zeros(0, np.int64)
        self.point_rgb: NDArray[np.uint8] = np.zeros((0, 3), np.uint8)
        self.rgb_vtk: Any = None
        self.locator: vtkStaticCellLocator | None = None
        self.full_points: NDArray[np.float32] | None = None  # the points before hiding objects

    def set_polydata(self, pd: Any, offset: int) -> None:
        self.polydata = pd
        self.full_points = None
        self.offset = offset
        self.n_cells = int(pd.n_cells)
        self.point_cell = pd._citytwin_point_cell
        self.point_rgb = np.zeros((pd.n_points, 3), dtype=np.uint8)
        self.rgb_vtk = numpy_to_vtk(self.point_rgb, deep=False)
        self.rgb_vtk.SetName("rgb")
        pd.GetPointData().AddArray(self.rgb_vtk)
        self.mapper.SetInputData(pd)
        self.locator = None

    def get_locator(self) -> vtkStaticCellLocator:
        if self.locator is None:
            loc = vtkStaticCellLocator()
            # the mapper's own input: a locator on a copy would be silently ignored
            loc.SetDataSet(self.mapper.GetInput())
            loc.BuildLocator()
            self.locator = loc
        return self.locator


def _colour_mapper() -> vtkPolyDataMapper:
    mapper = vtkPolyDataMapper()
    mapper.SetScalarModeToUsePointFieldData()
    mapper.SetColorModeToDirectScalars()
    mapper.SelectColorArray("rgb")
    mapper.SetInterpolateScalarsBeforeMapping(False)
    mapper.ScalarVisibilityOn()
    return mapper


def _city_actor(mapper: vtkPolyDataMapper, offset: Iterable[float]) -> vtkActor:
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.SetPosition(*[float(v) for v in offset])
    prop = actor.GetProperty()
    prop.SetInterpolationToFlat()
    prop.SetAmbient(0.3)
    prop.SetDiffuse(0.78)
    prop.SetSpecular(0.04)
    prop.SetSpecularPower(12.0)
    return actor


#: Texture tint of highlighted objects (the texture times this colour).
HIGHLIGHT_TINT = highlight_colors(np.full((1, 3), 255, np.uint8), np.ones(1, bool), HIGHLIGHT_RGB)[0]
#: Tint of the objects matching a filter (:meth:`VtkCityVisual.set_matches`): blue, apart from
#: the selection's amber (which wins on a selected match)
MATCH_RGB = (30, 144, 255)
MATCH_STRENGTH = 0.6
MATCH_TINT = highlight_colors(np.full((1, 3), 255, np.uint8), np.ones(1, bool), MATCH_RGB, MATCH_STRENGTH)[0]


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
    textures
        Draw the model's textures where it has them (see :meth:`set_textures`). With
        False no image is read until they are switched on.
    texture_set
        The model's images already read and packed
        (:func:`~citytwin.render.textures.build_texture_set`, e.g. in a loader thread,
        so the GUI thread does not decode images); None: read them here.

    Notes
    -----
    :meth:`actors` lists every actor of the layer: :attr:`actor` (the coloured
    one) first, then one per texture group; whoever shows the layer adds them all.
    Texture actors made later (:meth:`set_textures` on a visual made without) join
    the renderers holding :attr:`actor`; :meth:`release` removes them from every
    renderer.
    """

    def __init__(
        self,
        model: CityModel,
        lod: float | str = "best",
        color_by: str = "semantic",
        offset: Iterable[float] = (0.0, 0.0, 0.0),
        textures: bool = True,
        texture_set: TextureSet | None = None,
    ) -> None:
        self.model = model
        self._given_texture_set = texture_set
        self.changed = Callbacks()
        self._lod: float | str = lod
        self._highlight: NDArray[np.int64] = np.zeros(0, np.int64)
        self._match: NDArray[np.bool_] | None = None  # per object: matches the filter (None: no filter)
        self._hide_others = False
        self._base: NDArray[np.uint8] | None = None
        self._visible = True
        # (values per model vertex, vmin, vmax, objects) and the points/cells it colours
        self._vertex_field: tuple[NDArray[np.float64], float, float, NDArray[np.bool_]] | None = None
        self._field_targets: tuple[Any, list[tuple[int, NDArray[np.int64], NDArray[np.int64],
                                                   NDArray[np.int64], NDArray[np.int64]]],
                                   NDArray[np.int64]] | None = None
        self._textures_on = bool(textures)
        self.mapper = _colour_mapper()
        self.actor = _city_actor(self.mapper, offset)
        self._parts: list[_Part] = [_Part(self.mapper, self.actor)]
        self.texture_set: TextureSet | None = None
        self._tri_group: NDArray[np.int32] | None = None  # per model triangle: texture group or -1
        self._textures_loaded = False
        if self._textures_on:
            self._setup_textures()
        self.styling: Styling = semantic_styling(model.n_objects)
        self._build_geometry()
        self.set_color_mode(color_by, notify=False)

    # ------------------------------------------------------------ textures
    def _setup_textures(self) -> None:
        """Read and pack the images once; one actor per texture group (nothing without textures).

        Runs at construction, or on the first :meth:`set_textures` ``(True)`` of a visual
        made with ``textures=False`` (which reads no image until then).
        """
        self._textures_loaded = True
        m = self.model
        if not self._may_have_textures():
            return
        tmask = textured_triangle_mask(m)
        if not tmask.any():
            return
        ts = self._given_texture_set or build_texture_set(m, tri_mask=tmask)
        self._given_texture_set = None
        if ts is None:
            return
        self.texture_set = ts
        tex = m.polygons.texture[m.tri_poly]
        grp = np.full(m.n_triangles, -1, dtype=np.int32)
        grp[tmask] = ts.group_of[tex[tmask]]  # -1 for unreadable images: drawn coloured
        self._tri_group = grp
        offset = self.actor.GetPosition()
        for g in ts.groups:
            mapper = _colour_mapper()
            actor = _city_actor(mapper, offset)
            actor.PickableOff()  # picking goes through the visual's locators
            self._parts.append(_Part(mapper, actor, vtk_texture(g)))
        log.info("%s: %d texture image(s) in %d atlas page(s) + %d repeat image(s), %.1f Mtexels, %.3f s",
                 m.source, int((ts.group_of >= 0).sum()), ts.n_pages, len(ts.groups) - ts.n_pages,
                 ts.texels() / 1e6, ts.seconds)

    def _may_have_textures(self) -> bool:
        m = self.model
        return m.polygons.uv is not None and any(t.get("found", True) for t in m.textures)

    @property
    def has_textures(self) -> bool:
        """Whether the model has textures this visual can draw (before they are read: whether
        it references existing images)."""
        return self.texture_set is not None if self._textures_loaded else self._may_have_textures()

    def _attach_new_texture_actors(self) -> None:
        """Texture actors made after the layer was added: into the renderers that hold
        :attr:`actor`, with its shader, opacity and visibility."""
        sp = self.actor.GetShaderProperty()
        renderers = [self.actor.GetConsumer(k) for k in range(self.actor.GetNumberOfConsumers())]
        for part in self._parts[1:]:
            part.actor.SetShaderProperty(sp)
            part.actor.GetProperty().SetSpecular(self.actor.GetProperty().GetSpecular())
            part.actor.GetProperty().SetOpacity(self.opacity)
            for ren in renderers:
                if ren is not None and ren.IsA("vtkRenderer") and not ren.HasViewProp(part.actor):
                    ren.AddActor(part.actor)
        self._sync_visibility()

    @property
    def textures_enabled(self) -> bool:
        """The layer's "Textures" switch (see :meth:`set_textures`)."""
        return self._textures_on

    @property
    def textures_shown(self) -> bool:
        """Textures are drawn now: switched on, present, and the colouring is semantic."""
        return (self._textures_on and self.texture_set is not None and self.styling.kind == "semantic"
                and self._vertex_field is None)

    def set_textures(self, on: bool) -> None:
        """Switch the layer's textures on or off (off: the textured surfaces take their
        semantic / thematic colours). A thematic colouring hides them while it is on."""
        on = bool(on)
        if on == self._textures_on:
            return
        self._textures_on = on
        if on and not self._textures_loaded:  # made with textures=False: read the images now
            self._setup_textures()
            if self.texture_set is not None:
                self._build_geometry()
                self._attach_new_texture_actors()
                self._write_colors()
                self.changed.emit("textures")
                return
        self._write_colors(restyle=False)
        self.changed.emit("textures")

    def actors(self) -> list[vtkActor]:
        """Every actor of the layer: the coloured one, then one per texture group."""
        return [p.actor for p in self._parts]

    # ------------------------------------------------------------ geometry
    def _build_geometry(self) -> None:
        """Cells of the current LoD: the coloured part, then each texture group's part.

        The cell arrays (``cell_object``, ``cell_semantic``, ...) cover all parts in
        that order, so a cell index means one triangle of the layer wherever it is drawn.
        """
        self._field_targets = None  # the vertex field's points and cells are found again
        m = self.model
        grp = self._tri_group
        if grp is None:
            pd = city_polydata(m, self._lod, split_groups=True)
            self._parts[0].set_polydata(pd, 0)
        else:
            # the coloured actor draws the untextured triangles only (no z-fighting)
            keep = np.flatnonzero(grp < 0)
            sub = replace(m, corners=m.corners[keep], tri_poly=m.tri_poly[keep], _cache={})
            pd = city_polydata(sub, self._lod, split_groups=True)
            pd.cell_data["triangle"] = keep[np.asarray(pd.cell_data["triangle"])].astype(np.int32)
            self._parts[0].set_polydata(pd, 0)
            lod_mask = lod_triangle_mask(m, self._lod)
            assert self.texture_set is not None
            offset = self._parts[0].n_cells
            for g, part in enumerate(self._parts[1:]):
                tri = np.flatnonzero(lod_mask & (grp == g))
                part.set_polydata(textured_polydata(m, tri, self.texture_set), offset)
                offset += part.n_cells
        self.polydata = self._parts[0].polydata
        parts = self._parts

        def cells(name: str) -> NDArray[Any]:
            arrays = [np.asarray(p.polydata.cell_data[name]) for p in parts]
            return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)  # no copy without textures

        self.cell_object: NDArray[np.int32] = cells("object")
        self.cell_semantic: NDArray[np.uint8] = cells("semantic")
        self.cell_flat = cells("flat").astype(bool)
        self._cell_triangle: NDArray[np.int32] = cells("triangle")
        self._point_cell: NDArray[np.int64] = parts[0].point_cell  # of the coloured part
        self._point_rgb = parts[0].point_rgb
        self._rgb_vtk = parts[0].rgb_vtk
        self._rgb = np.zeros((len(self.cell_object), 3), dtype=np.uint8)  # per cell (what the styling gives)
        self._shown_textures: bool | None = None
        self._bounds: NDArray[np.float64] | None = None
        self._apply_hidden()

    def cell_rgb(self) -> NDArray[np.uint8]:
        """The drawn colour of every cell, ``(n_cells, 3)`` uint8 (highlight included).

        Textured cells while their textures are shown: the colour they take without them."""
        return self._rgb

    @property
    def n_cells(self) -> int:
        """Cells (triangles) drawn, textured ones included."""
        return len(self.cell_object)

    @property
    def cell_triangle(self) -> NDArray[np.int32]:
        """Per drawn cell, its triangle in ``model.triangles`` (textured cells included)."""
        return self._cell_triangle

    @property
    def n_textured_cells(self) -> int:
        """Cells drawn by the texture actors."""
        return self.n_cells - self._parts[0].n_cells

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
        self._sync_visibility()  # a texture actor with no cells at this LoD is hidden
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
            had = self._vertex_field is not None
            self._vertex_field = None
            self._field_targets = None
            if had:
                self._write_colors(restyle=False)
        else:
            v = np.asarray(values, dtype=np.float64).reshape(-1)
            if len(v) != len(self.model.vertices):
                raise ValueError(f"{len(v)} values for {len(self.model.vertices)} vertices")
            sel = (np.ones(self.model.n_objects, dtype=bool) if objects is None
                   else np.asarray(objects, dtype=bool).reshape(-1))
            if len(sel) != self.model.n_objects:
                raise ValueError(f"{len(sel)} object flags for {self.model.n_objects} objects")
            first = self._vertex_field is None
            self._vertex_field = (v, float(vmin), float(vmax), sel)
            if first:  # textures go, the styling's colours are rewritten once
                self._write_colors(restyle=False)
            else:  # a new value set: only the field's own points and cells are rewritten
                self._apply_field()
        if notify:
            self.changed.emit("color_by")

    def _field_points(self) -> tuple[list[tuple[int, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64],
                                                NDArray[np.int64]]], NDArray[np.int64]]:
        """Per part the points and cells the vertex field colours (the highlight excepted) and
        where their vertex is in the list of vertices used; cached until the objects, the
        highlight or the geometry change."""
        assert self._vertex_field is not None
        sel = self._vertex_field[3]
        key = (sel.tobytes(), self._highlight.tobytes(), tuple(id(p.polydata) for p in self._parts))
        if self._field_targets is not None and self._field_targets[0] == key:
            return self._field_targets[1], self._field_targets[2]
        hl = np.zeros(self.model.n_objects, dtype=bool)
        if len(self._highlight):
            hl[self._highlight] = True
        parts = []
        vids = []
        for k, part in enumerate(self._parts):
            if not part.n_cells:
                continue
            a, b = part.offset, part.offset + part.n_cells
            obj = self.cell_object[a:b]
            cell_sel = sel[obj] & ~hl[obj]
            pts = np.flatnonzero(cell_sel[part.point_cell])
            cells = np.flatnonzero(cell_sel)
            if not len(pts) and not len(cells):
                continue
            vertex = np.asarray(part.polydata.point_data["vertex"])
            pv = vertex[pts].astype(np.int64)
            cv = self.model.triangles[self._cell_triangle[a:b][cells], 0].astype(np.int64)
            parts.append((k, pts, cells + a, pv, cv))
            vids.extend([pv, cv])
        uniq, inv = np.unique(np.concatenate(vids) if vids else np.zeros(0, np.int64), return_inverse=True)
        out = []
        at = 0
        for k, pts, cells, pv, cv in parts:
            ip = inv[at: at + len(pv)]
            at += len(pv)
            ic = inv[at: at + len(cv)]
            at += len(cv)
            out.append((k, pts, cells, ip, ic))
        self._field_targets = (key, out, uniq)
        return out, uniq

    def _apply_field(self) -> None:
        """Write the vertex field's colours into its points and cells (nothing else is touched)."""
        if self._vertex_field is None:
            return
        values, lo, hi, _ = self._vertex_field
        targets, uniq = self._field_points()
        span = hi - lo if hi > lo else 1.0
        vals = values[uniq]
        rgb = colormap(np.where(np.isfinite(vals), (vals - lo) / span, np.nan))
        for k, pts, cells, ip, ic in targets:
            part = self._parts[k]
            part.point_rgb[pts] = rgb[ip]
            self._rgb[cells] = rgb[ic]
            part.rgb_vtk.Modified()

    @property
    def color_mode(self) -> str:
        return self.styling.mode

    def _write_colors(self, restyle: bool = True) -> None:
        """Write the colour array: base colours (recomputed when ``restyle``) plus the highlight."""
        if restyle or self._base is None or len(self._base) != self.n_cells:
            self._base = cell_colors(self.styling, self.cell_object, self.cell_semantic, self.model.objects.types,
                                     cell_flat=self.cell_flat)
        self._rgb[:] = self._base
        match_cells: NDArray[np.bool_] | None = None
        if self._match is not None:
            match_cells = self._match[self.cell_object]
            self._rgb[match_cells] = highlight_colors(self._base[match_cells], np.ones(int(match_cells.sum()), bool),
                                                      MATCH_RGB, MATCH_STRENGTH)
        hl_cells: NDArray[np.bool_] | None = None
        if len(self._highlight):
            sel = np.zeros(self.model.n_objects, dtype=bool)
            sel[self._highlight] = True
            hl_cells = sel[self.cell_object]  # O(cells), no sort
            self._rgb[hl_cells] = highlight_colors(self._base[hl_cells], np.ones(int(hl_cells.sum()), bool),
                                                   HIGHLIGHT_RGB)
        shown = self.textures_shown
        for k, part in enumerate(self._parts):
            a, b = part.offset, part.offset + part.n_cells
            if k and shown:
                # the texture shows through white; a highlighted object's texture is tinted
                part.point_rgb[:] = 255
                if match_cells is not None:
                    part.point_rgb[match_cells[a:b][part.point_cell]] = MATCH_TINT
                if hl_cells is not None:
                    part.point_rgb[hl_cells[a:b][part.point_cell]] = HIGHLIGHT_TINT
            else:
                np.take(self._rgb[a:b], part.point_cell, axis=0, out=part.point_rgb)
            part.rgb_vtk.Modified()
        self._apply_field()
        if len(self._parts) > 1 and shown != self._shown_textures:
            for part in self._parts[1:]:
                part.actor.SetTexture(part.texture if shown else None)  # type: ignore[arg-type]
                # VTK does not notice a removed texture by itself: its shader would keep sampling
                part.actor.Modified()
                part.mapper.Modified()
            self._shown_textures = shown

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

    def set_matches(self, objects: Iterable[int] | NDArray[np.bool_] | None, hide_others: bool = False) -> None:
        """Tint the objects a filter matched (indices or a per-object mask; their parts too) in
        :data:`MATCH_RGB`; with ``hide_others`` draw only them. None: no filter (all drawn as
        styled). The selection highlight still shows over the tint."""
        if objects is None:
            match = None
        else:
            arr = np.asarray(objects if isinstance(objects, np.ndarray) else list(objects))
            if arr.dtype == bool and arr.shape == (self.model.n_objects,):
                match = arr.copy()
            else:
                match = np.zeros(self.model.n_objects, dtype=bool)
                match[arr.astype(np.int64).reshape(-1)] = True
            # the parts of a matching object match too (one step down the hierarchy per pass)
            parents = np.asarray(self.model.objects.parents, dtype=np.int64)
            has_parent = parents >= 0
            up = np.where(has_parent, parents, 0)
            while True:
                grown = match | (has_parent & match[up])
                if np.array_equal(grown, match):
                    break
                match = grown
        same = (match is None and self._match is None) or (
            match is not None and self._match is not None and np.array_equal(match, self._match))
        hide = bool(hide_others) and match is not None
        if same and hide == self._hide_others:
            return
        self._match = match
        self._hide_others = hide
        self._apply_hidden()
        self._write_colors(restyle=False)
        self.changed.emit("matches")

    @property
    def matches(self) -> NDArray[np.bool_] | None:
        """Per object whether it matches the filter (None: no filter)."""
        return self._match

    @property
    def hidden_objects(self) -> NDArray[np.bool_]:
        """Per object whether it is hidden (``hide_others`` and not a match)."""
        if self._match is None or not self._hide_others:
            return np.zeros(self.model.n_objects, dtype=bool)
        return ~self._match

    def _apply_hidden(self) -> None:
        """Collapse the points of hidden objects onto one drawn point (degenerate triangles draw
        nothing and are not picked; the cell arrays keep their meaning), or restore them."""
        hidden = self.hidden_objects if self._match is not None and self._hide_others else None
        changed = False
        for part in self._parts:
            pd = part.polydata
            if pd is None or not pd.n_points:
                continue
            if hidden is None:
                if part.full_points is None:
                    continue
                pts = part.full_points
                part.full_points = None
            else:
                if part.full_points is None:
                    part.full_points = np.array(pd.points, copy=True)
                pts = part.full_points.copy()
                cell_obj = np.asarray(self.cell_object[part.offset:part.offset + part.n_cells])
                gone = hidden[cell_obj[part.point_cell]]
                if gone.any():
                    keep = np.flatnonzero(~gone)
                    pts[gone] = pts[keep[0]] if len(keep) else pts[0]
            pd.points = pts
            part.locator = None
            changed = True
        if changed:
            self._bounds = None

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
        vis = self._visible and self.opacity > 0.0
        for part in self._parts:
            part.actor.SetVisibility(vis and (part is self._parts[0] or part.n_cells > 0))

    def set_opacity(self, opacity: float) -> None:
        for part in self._parts:
            part.actor.GetProperty().SetOpacity(float(np.clip(opacity, 0.0, 1.0)))
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
            # (every part: the textured triangles' points too)
            parts = [np.asarray(p.polydata.points) for p in self._parts if p.polydata.n_points]
            if parts:
                lo = np.min([q.min(axis=0) for q in parts], axis=0).astype(np.float64)
                hi = np.max([q.max(axis=0) for q in parts], axis=0).astype(np.float64)
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
        if len(self._parts) > 1:
            pts = np.concatenate([np.asarray(p.polydata.points) for p in self._parts if p.polydata.n_points]
                                 or [pts])
        if len(pts) > max_points:
            pts = pts[:: int(np.ceil(len(pts) / max_points))]
        return pts.astype(np.float64) + np.array(self.actor.GetPosition())

    # ------------------------------------------------------------ picking
    def _get_locator(self) -> vtkStaticCellLocator:
        """The coloured part's locator (see :meth:`build_locator` for all parts)."""
        return self._parts[0].get_locator()

    def build_locator(self) -> None:
        """Build the picking locators now, textured parts included (otherwise built on the first pick)."""
        for part in self._parts:
            if part.n_cells:
                part.get_locator()

    def pick_ray(self, p0: Iterable[float], p1: Iterable[float]) -> PickResult | None:
        """First hit of the segment ``p0 -> p1`` (scene coordinates), or None."""
        if not self.visible or self.n_cells == 0:
            return None
        pos = np.array(self.actor.GetPosition())
        a = np.asarray(list(p0), dtype=np.float64) - pos
        b = np.asarray(list(p1), dtype=np.float64) - pos
        best: tuple[float, int, list[float]] | None = None
        for part in self._parts:
            if not part.n_cells:
                continue
            t = mutable(0.0)
            x = [0.0, 0.0, 0.0]
            pc = [0.0, 0.0, 0.0]
            sub = mutable(0)
            cell = mutable(0)
            hit = part.get_locator().IntersectWithLine(  # type: ignore[call-overload]
                a.tolist(), b.tolist(), 1e-6, t, x, pc, sub, cell
            )
            if hit and (best is None or float(t) < best[0]):  # type: ignore[arg-type]
                best = (float(t), part.offset + int(cell), list(x))  # type: ignore[arg-type,call-overload]
        if best is None:
            return None
        c = best[1]
        w = np.add(best[2], pos)
        return PickResult(int(self.cell_object[c]), c, (float(w[0]), float(w[1]), float(w[2])), best[0])

    def pick(self, x: float, y: float, renderer: vtkRenderer) -> int:
        """Object index under display pixel ``(x, y)`` (VTK display coordinates, origin bottom-left), or -1."""
        p0, p1 = display_ray(renderer, x, y)
        hit = self.pick_ray(p0, p1)
        return hit.object if hit else -1

    def cells_along(self, p0: Iterable[float], p1: Iterable[float]) -> list[int]:
        """All cells a segment crosses (for measuring / debugging)."""
        out: list[int] = []
        for part in self._parts:
            if not part.n_cells:
                continue
            ids = vtkIdList()
            part.get_locator().FindCellsAlongLine(list(p0), list(p1), 1e-6, ids)
            out += [part.offset + ids.GetId(k) for k in range(ids.GetNumberOfIds())]
        return out

    def release(self) -> None:
        """Drop VTK references. The owner removes :attr:`actor` from its renderer; the
        texture actors are removed here from every renderer they were added to."""
        for part in self._parts:
            part.locator = None
            part.mapper.RemoveAllInputs()
            if part is not self._parts[0]:
                for k in reversed(range(part.actor.GetNumberOfConsumers())):
                    consumer = part.actor.GetConsumer(k)
                    if consumer is not None and consumer.IsA("vtkViewport"):
                        consumer.RemoveViewProp(part.actor)
                part.actor.SetTexture(None)  # type: ignore[arg-type]
                part.texture = None
        self.changed = Callbacks()
