"""The visuals of a :class:`~citytwin.model.viewer.ViewerModel`'s layers: a kind → visual registry.

:class:`LayerVisuals` subscribes to a viewer model's events and keeps one adapter per layer
(found by the layer's id): a new layer gets the adapter registered for its kind
(:func:`register_visual`), a removed one loses it (its actors leave the screen, its buffers are
released), a changed one is told what changed. The adapters put their actors on a
:class:`Stage`: the window's viewport or the off-screen :class:`~citytwin.render.scene_view.SceneView`
of ``citytwin render``, so both draw a scene the same way.

Kinds drawn here: city and terrain layers (:class:`CityLayerVisual`, a
:class:`~citytwin.render.visual.VtkCityVisual`) and sensor layers (:class:`SensorLayerVisual`:
a :class:`~citytwin.live.session.SensorSession` and a
:class:`~citytwin.render.sensor_visual.VtkSensorVisual`). A new kind registers a factory
``(layer, visuals) -> adapter`` for its :class:`~citytwin.model.layer.LayerKind`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..model.colour_source import SensorColour
from ..model.colour_source import parse as parse_colour_source
from ..model.events import LayerAdded, LayerChanged, LayerProperty, LayerRemoved, TimeChanged
from ..model.layer import Layer, LayerKind
from ..model.viewer import ViewerModel

log = logging.getLogger("citytwin")

__all__ = ["CityLayerVisual", "LayerVisual", "LayerVisuals", "SensorLayerVisual", "Stage", "clamp_to_ground",
           "register_visual", "sensor_state", "visual_kinds"]

MAX_CLAMP = 5000  # ground-clamp at most this many distinct sensor sites (one ray each)


class Stage(Protocol):
    """Where visuals are drawn: ``renderer`` (a vtkRenderer) and these three."""

    renderer: Any

    def add_visual(self, visual: Any, city: bool = False) -> None:
        """Show ``visual.actors()``; ``city`` ones get the city lighting. Listen to ``visual.changed``."""

    def remove_visual(self, visual: Any) -> None:
        """Take ``visual``'s actors off the screen."""

    def request_render(self) -> None:
        """A new frame is due."""


class LayerVisual(Protocol):
    """The adapter of one layer."""

    visual: Any

    def changed(self, layer: Layer, what: LayerProperty) -> None:
        """``layer``'s ``what`` changed (the value is on the layer)."""

    def set_time(self, t: float) -> bool:
        """Show the scene at clock time ``t``; True when the picture changed."""

    def release(self) -> None:
        """Free the visual's buffers (its actors are already off the screen)."""


VisualFactory = Callable[[Layer, "LayerVisuals"], LayerVisual]
_FACTORIES: dict[str, VisualFactory] = {}


def register_visual(kind: LayerKind | str, factory: VisualFactory) -> None:
    """Draw layers of ``kind`` with the adapters ``factory(layer, visuals)`` makes."""
    _FACTORIES[str(kind)] = factory


def visual_kinds() -> list[str]:
    """The layer kinds that have a visual."""
    return list(_FACTORIES)


class LayerVisuals:
    """One adapter per layer of ``viewer``, drawn on ``stage`` (see the module docstring).

    Parameters
    ----------
    viewer
        The model whose layers to draw.
    stage
        Where the actors go.
    follow_clock
        Sensor layers follow :class:`~citytwin.model.events.TimeChanged` (the headless renderer);
        the window's frame timer drives them itself.
    """

    def __init__(self, viewer: ViewerModel, stage: Stage, follow_clock: bool = True) -> None:
        self.viewer = viewer
        self.stage = stage
        self._adapters: dict[int, LayerVisual] = {}
        self.failed: dict[int, str] = {}  # layer id -> why its visual could not be made
        self._surface: Any = None  # the sensor fields on city layers (model.surface_field.SurfaceField)
        self._field_layers: dict[int, _FieldLayer] = {}
        self._texture_sets: dict[int, tuple[Any, Any]] = {}  # id(model as read) -> (model, packed images)
        self._unsubscribe = [
            viewer.bus.subscribe(LayerAdded, self._added),
            viewer.bus.subscribe(LayerRemoved, self._removed),
            viewer.bus.subscribe(LayerChanged, self._changed),
        ]
        if follow_clock:
            self._unsubscribe.append(viewer.bus.subscribe(TimeChanged, self._time_changed))
        for layer in viewer.layers:  # layers already there
            self._added(LayerAdded(layer.id, layer.kind))

    # ------------------------------------------------------------ lookup
    def adapter(self, layer_id: int) -> LayerVisual | None:
        return self._adapters.get(layer_id)

    def visual(self, layer_id: int) -> Any:
        """The VTK visual of a layer (None for a kind without one)."""
        a = self._adapters.get(layer_id)
        return None if a is None else a.visual

    def add_texture_set(self, model: Any, texture_set: Any) -> None:
        """Images of ``model`` already packed (the window's reader thread does it): used by the
        layers drawing it, dropped with the last of them."""
        self._texture_sets[id(model)] = (model, texture_set)

    def texture_set(self, model: Any) -> Any:
        entry = self._texture_sets.get(id(model))
        return entry[1] if entry is not None and entry[0] is model else None

    # ------------------------------------------------------------ events
    def _added(self, ev: LayerAdded) -> None:
        factory = _FACTORIES.get(str(ev.kind))
        if factory is None:
            log.warning("no visual for layers of kind %r", str(ev.kind))
            return
        layer = self.viewer.layer(ev.layer)
        try:
            adapter = factory(layer, self)
        except Exception as exc:  # a feed that cannot start, a broken file: the layer has no visual
            log.debug("no visual for %s", layer.name, exc_info=True)
            self.failed[ev.layer] = str(exc)
            return
        self._adapters[ev.layer] = adapter
        self.stage.add_visual(adapter.visual, city=ev.kind in (LayerKind.CITY, LayerKind.TERRAIN))

    def _removed(self, ev: LayerRemoved) -> None:
        adapter = self._adapters.pop(ev.layer, None)
        self.failed.pop(ev.layer, None)
        if adapter is not None:
            self.stage.remove_visual(adapter.visual)
            adapter.release()
        live = {id(lay.source) for lay in self.viewer.layers}
        for key in [k for k in self._texture_sets if k not in live]:
            del self._texture_sets[key]
        self.stage.request_render()

    def _changed(self, ev: LayerChanged) -> None:
        adapter = self._adapters.get(ev.layer)
        layer = self.viewer.get(ev.layer)
        if adapter is not None and layer is not None:
            adapter.changed(layer, ev.what)
            self.stage.request_render()

    def _time_changed(self, ev: TimeChanged) -> None:
        self.set_time(ev.time)

    def set_time(self, t: float) -> bool:
        """Every layer at clock time ``t`` (sensor glyphs, then the city layers coloured by
        sensors); True when something changed."""
        changed = False
        for layer in self.viewer.layers:
            a = self._adapters.get(layer.id)
            if a is not None and layer.visible:
                changed |= a.set_time(t)
        changed |= self.update_sensor_fields(t)
        if changed:
            self.stage.request_render()
        return changed

    def close(self) -> None:
        """Stop listening and release every visual (their actors leave the stage)."""
        for unsub in self._unsubscribe:
            unsub()
        for lid in list(self._adapters):
            adapter = self._adapters.pop(lid)
            self.stage.remove_visual(adapter.visual)
            adapter.release()

    def update_sensor_fields(self, t: float) -> bool:
        """Colour the city layers whose colour source is a sensor field (nearest or IDW on
        buildings and ground, :class:`~citytwin.model.surface_field.SurfaceField`) by the sensor
        layers' values at ``t``, as the window's sensor controller does; True when written."""
        from ..model.colour_source import sensor_sources
        from ..model.surface_field import SurfaceField, sensor_source

        cities = self.viewer.of_kind(LayerKind.CITY, LayerKind.TERRAIN)
        if not any(sensor_source(lay.color_by) is not None for lay in cities):
            return False
        sensors = [a for lay in self.viewer.of_kind(LayerKind.SENSORS)
                   if isinstance(a := self._adapters.get(lay.id), SensorLayerVisual)]
        props: dict[str, None] = {}
        for a in sensors:
            props.update(dict.fromkeys(a.visual.properties()))
        if self._surface is None:
            self._surface = SurfaceField()
        handles = [self._field_layer(lay) for lay in cities if lay.id in self._adapters]
        live = {lay.id for lay in cities}
        for lid in [k for k in self._field_layers if k not in live]:
            del self._field_layers[lid]
        pairs = [(a.session.layer, a.visual) for a in sensors]

        def settings(prop: str) -> Any:
            from ..model.sensor_spec import IdwSettings

            for a in sensors:
                if prop in a.visual.properties():
                    return a.session.spec.idw
            return sensors[0].session.spec.idw if sensors else IdwSettings()

        done = self._surface.update(handles, {s.key() for s in sensor_sources(props)},
                                    lambda prop: sensor_state(pairs, prop, t), settings, self.scene_origin())
        return bool(done.wrote)

    def _field_layer(self, layer: Layer) -> _FieldLayer:
        fl = self._field_layers.get(layer.id)
        if fl is None or fl.state is not layer:
            fl = self._field_layers[layer.id] = _FieldLayer(layer, self)
        return fl

    # ------------------------------------------------------------ what the screen shows
    def city_visuals(self, visible_only: bool = True) -> list[tuple[Layer, Any]]:
        """``(layer, VtkCityVisual)`` of the city and terrain layers, first to last."""
        out = []
        for lay in self.viewer.layers:
            if lay.kind in (LayerKind.CITY, LayerKind.TERRAIN) and (lay.visible or not visible_only):
                v = self.visual(lay.id)
                if v is not None:
                    out.append((lay, v))
        return out

    def legend(self, max_entries: int = 12) -> tuple[str, list[tuple[str, tuple[int, int, int]]]]:
        """Title and entries of the in-view legend: the attribute (or sensor) colouring of the
        first visible layer that has one; ``("", [])`` for none."""
        for _lay, vis in self.city_visuals():
            st = vis.styling
            if st.kind in ("numeric", "categorical") and st.legend:
                return st.mode, [(e.label, (int(e.rgba[0]), int(e.rgba[1]), int(e.rgba[2])))
                                 for e in st.legend[:max_entries]]
        return "", []

    def show_sensor_legend(self, current: int | None = None) -> None:
        """Only one sensor layer shows its colour bar: ``current`` (a layer id) when visible, else
        the first visible one."""
        sensors = [(lay, self.visual(lay.id)) for lay in self.viewer.of_kind(LayerKind.SENSORS)]
        sensors = [(lay, v) for lay, v in sensors if v is not None]
        shown = next((v for lay, v in sensors if lay.id == current and lay.visible), None) or \
            next((v for lay, v in sensors if lay.visible), None)
        for _lay, v in sensors:
            v.legend_actor.SetVisibility(v is shown)

    def pick_ray(self, p0: NDArray[np.float64], p1: NDArray[np.float64]) -> tuple[Layer, Any] | None:
        """Nearest hit of segment ``p0 -> p1`` on the visible city and terrain layers:
        ``(layer, PickResult)``."""
        best: tuple[Layer, Any] | None = None
        for lay, vis in self.city_visuals():
            hit = vis.pick_ray(p0, p1)
            if hit is not None and (best is None or hit.t < best[1].t):
                best = (lay, hit)
        return best

    def bounds(self) -> NDArray[np.float64] | None:
        """``(2, 3)`` bounds of the visible city and terrain visuals, scene-relative."""
        boxes = [vis.bounds() for _lay, vis in self.city_visuals() if vis.n_cells]
        if not boxes:
            return None
        b = np.asarray(boxes, dtype=np.float64)
        return np.array([[b[:, 0].min(), b[:, 2].min(), b[:, 4].min()], [b[:, 1].max(), b[:, 3].max(), b[:, 5].max()]])

    def scene_origin(self) -> NDArray[np.float64]:
        o = self.viewer.scene.origin
        return np.asarray(o if o is not None else np.zeros(3), dtype=np.float64)


class _FieldLayer:
    """What :class:`~citytwin.model.surface_field.SurfaceField` reads of a city or terrain layer:
    its colour key, model, visual and owner (kept per layer: the field's caches key on it)."""

    def __init__(self, state: Layer, visuals: LayerVisuals) -> None:
        self.state = state
        self._visuals = visuals

    @property
    def color_by(self) -> str:
        return self.state.color_by

    @color_by.setter
    def color_by(self, key: str) -> None:  # the field went back to semantic colours
        self._visuals.viewer.set_color_by(self.state.id, key)

    @property
    def kind(self) -> str:
        return self.state.kind

    @property
    def model(self) -> Any:
        return self.state.model

    @property
    def visual(self) -> Any:
        return self._visuals.visual(self.state.id)

    @property
    def owner(self) -> _FieldLayer | None:
        own = self.state.owner
        return None if own is None or own.id not in self._visuals._adapters else self._visuals._field_layer(own)


def sensor_state(sensors: list[tuple[Any, Any]], prop: str, t: float) -> Any:
    """The :class:`~citytwin.model.surface_field.SensorState` of property ``prop`` at ``t`` over
    ``(SensorLayer, VtkSensorVisual)`` pairs: positions ``(S, 2)``, values (NaN: none, stale or
    unplaced), the colour range (each layer's fixed one or its values') and the unit."""
    from ..model.surface_field import SensorState
    from .sensor_visual import property_range

    pos, vals = [np.zeros((0, 2))], [np.zeros(0)]
    lo, hi, unit = float("inf"), float("-inf"), ""
    for layer, visual in sensors:
        n = len(layer)
        rows = layer.property_rows(prop)  # cached by the layer
        if len(rows) == 0:
            continue
        unit = unit or visual.unit(prop)
        stale_after = visual.stale_after if visual.stale_after > 0 else None
        v, _, stale = layer.state_at(t, stale_after)
        v = np.where(stale[:n] | ~layer.placed[:n], np.nan, v[:n])
        pos.append(layer.positions[rows, :2].astype(np.float64))
        vals.append(v[rows])
        a, b = visual.fixed_range or property_range(layer, rows)
        lo, hi = min(lo, a), max(hi, b)
    if not lo < hi:
        lo, hi = (0.0, 1.0) if not np.isfinite(lo) else (lo, lo + 1.0)
    return SensorState(np.concatenate(pos), np.concatenate(vals), (lo, hi), unit)


# ---------------------------------------------------------------- city and terrain
class CityLayerVisual:
    """A city or terrain layer drawn by a :class:`~citytwin.render.visual.VtkCityVisual`.

    Colour sources of other kinds than semantic and attribute (sensor fields, simulation
    results) are written into the visual by whoever computes them; a layer coloured by an
    attribute its objects lack is drawn in semantic colours and its colour set back.
    """

    def __init__(self, layer: Layer, visuals: LayerVisuals) -> None:
        from .visual import VtkCityVisual

        model = layer.model
        offset = np.asarray(model.origin, float) - visuals.scene_origin()
        colour = layer.color_by if layer.kind == LayerKind.CITY and _drawn_here(layer.color_by) else "semantic"
        tex = {"textures": layer.textures, "texture_set": visuals.texture_set(layer.source)}
        try:
            self.visual = VtkCityVisual(model, lod=layer.lod, color_by=colour, offset=offset, **tex)
        except Exception as exc:  # an attribute the file lacks: fall back to semantic colours
            log.warning("%s: colour by %r failed (%s); using semantic colours", layer.name, colour, exc)
            self.visual = VtkCityVisual(model, lod=layer.lod, offset=offset, **tex)
        if _drawn_here(layer.color_by) and layer.color_by != self.visual.color_mode:
            layer.color_by = self.visual.color_mode  # what is drawn (set before anyone else saw the layer)
        self.visual.set_opacity(layer.opacity)
        self.visual.set_visible(layer.visible)

    def changed(self, layer: Layer, what: LayerProperty) -> None:
        v = self.visual
        if what == LayerProperty.VISIBLE:
            v.set_visible(layer.visible)
        elif what == LayerProperty.OPACITY:
            v.set_opacity(layer.opacity)
        elif what == LayerProperty.COLOUR:
            if _drawn_here(layer.color_by) and layer.color_by != v.color_mode:
                v.set_color_mode(layer.color_by)  # raises for an attribute the objects lack
        elif what == LayerProperty.LOD:
            v.set_lod(layer.lod)
        elif what == LayerProperty.TEXTURES:
            if v.has_textures:
                v.set_textures(layer.textures)

    def set_time(self, t: float) -> bool:
        return False

    def release(self) -> None:
        self.visual.release()


def _drawn_here(key: str) -> bool:
    """Semantic and attribute colours are drawn by the visual itself; the others are written into it."""
    try:
        src = parse_colour_source(key)
    except ValueError:
        return False
    return not isinstance(src, SensorColour) and not key.startswith("sim:")


# ---------------------------------------------------------------- sensors
class SensorLayerVisual:
    """A sensor layer: its session (a replay file, MQTT or SensorThings feed, started by the
    window, not here) and its glyphs, placed in the scene frame and stood on the ground."""

    def __init__(self, layer: Layer, visuals: LayerVisuals) -> None:
        from ..live.session import SensorSession
        from .sensor_visual import VtkSensorVisual

        spec = layer.data
        self.visuals = visuals
        self.session = SensorSession(spec, clock=visuals.viewer.clock)
        self.visual = VtkSensorVisual(self.session.layer, spec.styling, spec.stale_after)
        self.visual.set_visible(layer.visible)
        self.clamped = np.zeros(0, dtype=bool)
        self.frame_key: Any = None
        self.place()
        self.visual.legend_actor.attach(visuals.stage.renderer)

    def place(self) -> bool:
        """Put the datastreams into the scene frame (again when the scene's CRS, origin or city
        layers changed); True when it did."""
        viewer = self.visuals.viewer
        scene = viewer.scene
        origin = self.visuals.scene_origin()
        cities = [lay for lay in viewer.of_kind(LayerKind.CITY) if lay.owner is None]
        key = (None if scene.crs is None else scene.crs.to_wkt(), tuple(origin.tolist()),
               tuple(lay.id for lay in cities))
        if key == self.frame_key:
            return False
        self.frame_key = key
        self.session.layer.set_frame(scene.crs, origin, _building_xyz(cities) if cities else None)
        self.clamped = np.zeros(0, dtype=bool)
        return True

    def changed(self, layer: Layer, what: LayerProperty) -> None:
        if what == LayerProperty.VISIBLE:
            self.visual.set_visible(layer.visible)
            self.visuals.show_sensor_legend()

    def set_time(self, t: float) -> bool:
        """Readings up to ``t`` in, sensors on the ground, glyphs coloured for ``t``."""
        self.place()
        self.session.frame(t)
        self.clamped = clamp_to_ground(self.session.layer, self.clamped, self.visuals.bounds,
                                       lambda p0, p1: _hit_point(self.visuals.pick_ray(p0, p1)))
        self.visual.sync()
        return bool(self.visual.update(t))

    def release(self) -> None:
        try:
            self.session.stop()
        except Exception:  # a broken connection must not stop the removal
            log.debug("session stop failed", exc_info=True)
        self.visual.legend_actor.detach()
        self.visual.release()


def _hit_point(hit: tuple[Layer, Any] | None) -> NDArray[np.float64] | None:
    return None if hit is None else np.asarray(hit[1].point, dtype=np.float64)


def _building_xyz(cities: list[Layer]) -> Callable[[Any], NDArray[np.float64]]:
    """Building ids -> world anchors, from the first city layer that has each."""
    from ..model.sensors import building_anchors

    def resolve(ids: Any) -> NDArray[np.float64]:
        out = np.full((len(ids), 3), np.nan)
        for lay in cities:
            xyz = building_anchors(lay.model)(ids)
            miss = ~np.isfinite(out).all(axis=1)
            out[miss] = xyz[miss]
        return out

    return resolve


def clamp_to_ground(layer: Any, clamped: NDArray[np.bool_], bounds: Callable[[], NDArray[np.float64] | None],
                    pick: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64] | None]
                    ) -> NDArray[np.bool_]:
    """Stand the sensors of ``layer`` that lie under the ground on it (at their height above
    it), each site once: a vertical ray per site through ``pick`` (segment → scene point hit or
    None) within ``bounds()`` (``(2, 3)``, None: nothing drawn yet, nothing done; asked only when
    a site is new: it runs every frame a feed delivered). Returns the updated per-datastream
    ``clamped`` flags."""
    n = len(layer)
    if len(clamped) < n:
        clamped = np.concatenate([clamped, np.zeros(n - len(clamped), bool)])
    todo = np.flatnonzero(layer.placed[:n] & ~clamped[:n])
    if len(todo) == 0:
        return clamped
    box = bounds()
    if box is None:
        return clamped
    clamped[todo] = True
    pos = layer.positions[todo].astype(np.float64)
    sites, inverse = np.unique(np.round(pos[:, :2], 2), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    top, bottom = float(box[1][2]) + 100.0, float(box[0][2]) - 100.0
    ground = np.full(len(sites), np.nan)
    for k, (x, y) in enumerate(sites[:MAX_CLAMP]):
        p = pick(np.array([x, y, top]), np.array([x, y, bottom]))
        if p is not None:
            ground[k] = p[2]
    g = ground[inverse]
    heights = np.array([(ds.location.height if ds.location is not None else 0.0)
                        for ds in (layer.datastreams[i] for i in todo)], dtype=np.float64)
    buried = np.isfinite(g) & (pos[:, 2] < g - 0.5)
    if buried.any():
        layer.positions[todo[buried], 2] = (g[buried] + heights[buried]).astype(np.float32)
        layer.version += 1
    return clamped


register_visual(LayerKind.CITY, CityLayerVisual)
register_visual(LayerKind.TERRAIN, CityLayerVisual)
register_visual(LayerKind.SENSORS, SensorLayerVisual)
