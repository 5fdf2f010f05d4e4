"""Sensor layers in the viewer: sessions, their visuals, the shared scene clock and the frame timer.

:class:`QtSensorController` is created by the main window. It owns the
:class:`~citytwin.model.clock.SceneClock`, the Time, Alerts and Sensors docks and one
:class:`SensorEntry` (spec + :class:`~citytwin.live.session.SensorSession` +
:class:`~citytwin.render.sensor_visual.VtkSensorVisual`) per sensor layer. A
``QTimer`` (30 Hz, running only while a sensor layer exists) calls
:meth:`QtSensorController.frame`: every session's ``frame()`` (one drained batch
each), then one vectorised visual update per layer and ONE coalesced render request.
Hover shows name, value, unit and age in the status bar and a tooltip; a click on
a sensor shows its datastreams with history charts in the Attributes dock.

Surface colouring: the controller registers the sensor colour sources
(:class:`~citytwin.model.colour_source.SensorColour`: nearest or IDW of each property, on
buildings, ground or both; keys ``sensors:<method>[/ground|/both]:<property>``) with the
window's colour-source registry, so the Layers dock offers them for city layers. The frame
timer then gathers the sensors of each property shown (all sensor layers; stale sensors
ignored) and hands them to a :class:`~citytwin.model.surface_field.SurfaceField` (Qt-free),
at most :data:`SURFACE_INTERVAL` apart; it recomputes only when the sensor values at the
clock time, their range or the interpolation settings changed: buildings get a value per
object, the ground (terrain, roads, land use; the terrain layer split off the model) a value
per vertex, colours only, no geometry rebuild. The interpolation settings (IDW power,
neighbours, max radius) are the :class:`~citytwin.model.sensor_spec.IdwSettings` of the
first sensor layer showing the property, edited in the Sensors dock and saved with the layer.

The Feed diagnostics dock (:mod:`~citytwin.qt.diagnostics_dock`) is refreshed from the
frame timer every :data:`DIAGNOSTICS_INTERVAL` seconds (also while hidden, so that its
message rates are right when it is opened; a refresh costs a few hundredths of a ms).
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QToolTip,
    QTreeWidgetItem,
    QWidget,
)

from ..live.session import SensorSession
from ..live.topics import TopicFilterError, check_topic_filters, topic_filter_problem
from ..model.clock import SceneClock
from ..model.colour_source import SensorColour, sensor_sources
from ..model.colour_source import parse_sensor_key as parse_surface_key
from ..model.colour_source import sensor_key as surface_key
from ..model.events import LayerChanged, LayerProperty
from ..model.layer import LayerKind
from ..model.sensor_spec import IdwSettings, SensorLayerSpec
from ..model.surface_field import SensorState, SurfaceField, sensor_source
from ..render import viewtools
from ..render.layer_visuals import clamp_to_ground, sensor_state
from ..render.sensor_visual import VtkSensorVisual
from .alerts_dock import QtAlertsDock
from .chart import QtSeriesChart
from .diagnostics_dock import QtDiagnosticsDock
from .sensors_dock import QtSensorsDock
from .time_dock import QtTimeDock, format_time

log = logging.getLogger("citytwin")

FRAME_MS = 33  # ~30 Hz
CLICK_TOLERANCE = 4
SURFACE_INTERVAL = 0.25  # s: buildings coloured by sensors are recomputed at most 4 times a second
DIAGNOSTICS_INTERVAL = 1.0  # s between refreshes of the Feed diagnostics dock
# the sensor colour-by keys (surface_key, parse_surface_key) are those of model/colour_source.py
__all__ = ["QtSensorController", "SensorEntry", "age_text", "parse_surface_key", "surface_key"]


def age_text(seconds: float) -> str:
    """``"12 s"``, ``"5 min"``, ``"3.2 h"``, ``"2.0 d"`` (``"—"`` for NaN)."""
    if not math.isfinite(seconds):
        return "—"
    s = abs(seconds)
    if s < 120:
        text = f"{s:.0f} s"
    elif s < 7200:
        text = f"{s / 60:.0f} min"
    elif s < 172800:
        text = f"{s / 3600:.1f} h"
    else:
        text = f"{s / 86400:.1f} d"
    return text if seconds >= 0 else f"in {text}"


@dataclass
class SensorEntry:
    """One sensor layer of the viewer."""

    spec: SensorLayerSpec
    session: SensorSession
    visual: VtkSensorVisual
    visible: bool = True
    layer_id: int = 0  # the sensor layer's id in the window's viewer model
    frame_key: Any = None
    clamped: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    seen_version: int = -1

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def layer(self) -> Any:
        return self.session.layer

    def status_text(self) -> str:
        d = self.session.diagnostics
        n = len(self.layer)
        text = (f"{self.session.state} · {n:,} datastreams · {d.received:,} received, {d.applied:,} applied"
                f" · {self.layer.alerts_total:,} alerts")
        rejected = d.rejected_total
        if rejected:
            text += f" · {rejected:,} rejected"
        if d.last_error:
            text += f"\nlast error: {d.last_error}"
        return text


class QtSensorController(QObject):
    """Sensor layers of a :class:`~citytwin.qt.main_window.QtMainWindow` (see the module docstring)."""

    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.win = win
        self.viewport = win.viewport
        self.clock: SceneClock = getattr(win, "clock", None) or SceneClock()  # the window's one clock
        self.entries: list[SensorEntry] = []
        self.time_dock = QtTimeDock(self.clock, win, viewer=getattr(win, "viewer", None))
        self.alerts_dock = QtAlertsDock(win)
        self.sensors_dock = QtSensorsDock(lambda: self.entries, win)
        self.diagnostics_dock = QtDiagnosticsDock(lambda: self.entries, win)
        self._last_diag_wall = -math.inf
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.frame)
        self.frame_ms: deque[float] = deque(maxlen=600)  # time spent in frame() (ms)
        self.frames = 0
        self.updates = 0  # frames that changed the picture
        self._last_t = math.nan
        self._last_update_wall = 0.0
        self._last_status_wall = 0.0
        self._last_range_wall = 0.0
        self._press: QPoint | None = None
        self._pending_click: tuple[SensorEntry, int] | None = None
        self._hover_pos: QPoint | None = None
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(0)
        self._hover_timer.timeout.connect(self._do_hover)
        self.selected: tuple[SensorEntry, int] | None = None
        self._surface_wall = -math.inf
        self.surface = SurfaceField()  # the fields on buildings and ground, with their caches (Qt-free)
        self._modes_seen: list[tuple[str, str]] = []
        self._modes_props: tuple[str, ...] | None = None
        self._modes: list[tuple[str, str]] = []
        win.colour_sources.register("sensors", self.sensor_sources)
        self._charts: list[tuple[QtSeriesChart, int]] = []
        self.act_add_feed = QAction("Add sensor &feed…", win)
        self.act_add_feed.setStatusTip("Show live or recorded sensor readings: MQTT, SensorThings or a replay file")
        self.act_add_feed.triggered.connect(self.add_feed_dialog)
        self.time_dock.clockChanged.connect(self._clock_changed)
        self.alerts_dock.sensorRequested.connect(self._alert_requested)
        self.sensors_dock.visibilityChanged.connect(self.set_visible)
        self.sensors_dock.propertyChanged.connect(self.set_property)
        self.sensors_dock.removeRequested.connect(lambda row: self.remove(self.entries[row]))
        self.sensors_dock.addRequested.connect(self.add_feed_dialog)
        self.sensors_dock.idwChanged.connect(self.set_idw)
        self.sensors_dock.idw_note_for = self.idw_note
        self.sensors_dock.diagnosticsRequested.connect(self.show_diagnostics)
        self.viewport.rwi.installEventFilter(self)  # installed after the viewport's: runs first
        win.layersChanged.connect(self._scene_changed)
        win.bus.subscribe(LayerChanged, self._layer_changed)
        self._place_docks()

    # ------------------------------------------------------------------ docks
    def _place_docks(self) -> None:
        """Sensors tabbed with Layers, Alerts with Attributes (the window's side column), the
        Feed diagnostics with Objects and Log (bottom), Time on top; all closed until a sensor
        layer is added (:meth:`show_docks`)."""
        w = self.win
        w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.sensors_dock)
        w.tabifyDockWidget(w.layers_dock, self.sensors_dock)
        w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.alerts_dock)
        w.tabifyDockWidget(w.attributes_dock, self.alerts_dock)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.diagnostics_dock)
        w.tabifyDockWidget(w.objects_dock, self.diagnostics_dock)
        w.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, self.time_dock)
        w.layers_dock.raise_()
        w.attributes_dock.raise_()
        for d in (self.time_dock, self.alerts_dock, self.sensors_dock, self.diagnostics_dock):
            d.hide()

    def show_docks(self, on: bool) -> None:
        """Open the Time, Sensors and Alerts docks (a sensor layer was added) or close them with
        the Feed diagnostics (the last one went, or a remembered layout opened them without any)."""
        for d in (self.sensors_dock, self.time_dock, self.alerts_dock):
            d.setVisible(on)
        if not on:
            self.diagnostics_dock.hide()

    def docks(self) -> list[Any]:
        """The docks of the sensor layers (the window lists them in View ▸ Panels)."""
        return [self.sensors_dock, self.time_dock, self.alerts_dock, self.diagnostics_dock]

    def show_diagnostics(self, row: int = -1) -> None:
        """Show the Feed diagnostics dock, refreshed now, on the rows of sensor layer ``row``."""
        d = self.diagnostics_dock
        d.show()
        d.raise_()
        d.refresh()
        self._last_diag_wall = time.monotonic()
        if 0 <= row < len(self.entries):
            d.focus(self.entries[row].name)

    # ------------------------------------------------------------------ layers
    def add_spec(self, spec: SensorLayerSpec) -> SensorEntry | None:
        """Add a sensor layer to the viewer model (its session and glyphs are made by the visual
        registry, :class:`~citytwin.render.layer_visuals.SensorLayerVisual`); errors go to the log
        (never an exception)."""
        names = {e.name for e in self.entries}
        if spec.name in names:
            k = 2
            while f"{spec.name} {k}" in names:
                k += 1
            spec.name = f"{spec.name} {k}"
        viewer, visuals = self.win.viewer, self.win.visuals
        lay = viewer.add_layer(LayerKind.SENSORS, spec.name, spec, visible=spec.visible)
        adapter = visuals.adapter(lay.id)
        if adapter is None:
            viewer.remove_layer(lay.id)
            self.win.notify(logging.ERROR, f"Sensor layer {spec.name!r} ({spec.source}): "
                                           f"{visuals.failed.pop(lay.id, 'no visual')}")
            return None
        session, visual = adapter.session, adapter.visual  # type: ignore[attr-defined]
        entry = SensorEntry(spec, session, visual, visible=spec.visible, layer_id=lay.id)
        self._frame_layer(entry)
        self.entries.append(entry)
        if session.replay is not None and not any(e.session.replay is None for e in self.entries):
            t0, t1 = session.replay.bounds
            loop = any(e.session.replay.loop for e in self.entries)
            if math.isfinite(t0):
                if self.clock.live or self.clock.bounds is None:
                    viewer.set_clock_bounds((t0, t1), loop=loop)
                    viewer.set_time(t0)
                    viewer.play(float(spec.replay.get("speed") or 60.0))
                else:
                    b = self.clock.bounds
                    viewer.set_clock_bounds((min(b[0], t0), max(b[1], t1)), loop=loop)
            else:
                viewer.set_clock_bounds(self.clock.bounds, loop=loop)
        elif session.replay is None:
            viewer.set_clock_bounds(None, loop=False)
        try:
            session.start()
        except Exception as exc:
            self.win.notify(logging.ERROR, f"Sensor layer {spec.name!r}: could not start: {exc}")
        self._legends()
        self.sensors_dock.refresh(current=len(self.entries) - 1)
        self.show_docks(True)
        if self.diagnostics_dock.isVisible():
            self.diagnostics_dock.refresh()
        if not self.timer.isActive():
            self.timer.start()
        self.win.notify(logging.INFO, f"Sensor layer {spec.name}: {spec.kind} {spec.source}")
        self._last_t = math.nan
        return entry

    def remove(self, entry: SensorEntry) -> None:
        """Stop and remove a sensor layer."""
        if entry not in self.entries:
            return
        self.entries.remove(entry)
        self.win.viewer.remove_layer(entry.layer_id)  # the registry stops the session, drops the glyphs
        self._surface_wall = -math.inf
        self._update_surfaces(self.clock.time(), time.monotonic(), forced=True, revert=True)
        if self.selected is not None and self.selected[0] is entry:
            self.selected = None
            self.win.attributes_dock.show_object(None, -1)
        if not self.entries:
            self.timer.stop()
            self.show_docks(False)
        self._legends()
        self.sensors_dock.refresh()
        self.diagnostics_dock.refresh()
        self.viewport.request_render()

    def close(self) -> None:
        """Stop every feed and the timer (window closing)."""
        self.timer.stop()
        for e in list(self.entries):
            self.entries.remove(e)
            self.win.viewer.remove_layer(e.layer_id)

    def entry(self, name: str) -> SensorEntry | None:
        return next((e for e in self.entries if e.name == name), None)

    def set_visible(self, row: int, visible: bool) -> None:
        e = self.entries[row]
        e.visible = e.spec.visible = bool(visible)
        self.win.viewer.set_visible(e.layer_id, e.visible)  # the glyphs follow
        self._legends()
        self.viewport.request_render()

    def set_property(self, row: int, prop: str) -> None:
        e = self.entries[row]
        e.visual.set_property(prop)
        e.visual.update(self.clock.time())
        self._legends()
        self.viewport.request_render()

    def _legends(self) -> None:
        """Only the current (or first visible) sensor layer shows its colour bar."""
        row = self.sensors_dock.current()
        shown = self.entries[row] if 0 <= row < len(self.entries) and self.entries[row].visible else \
            next((e for e in self.entries if e.visible), None)
        for e in self.entries:
            e.visual.legend_actor.SetVisibility(e is shown)

    def spec_dicts(self) -> list[dict[str, Any]]:
        """The layers as scene-file tables (``SensorLayerSpec.to_dict()``)."""
        return [e.spec.to_dict() for e in self.entries]

    def load_specs(self, specs: list[dict[str, Any]]) -> None:
        """Add the sensor layers a scene file declares (bad ones are logged and skipped)."""
        scene = getattr(self.win, "scene_path", None) or "scene file"
        for k, d in enumerate(specs):
            try:
                spec = SensorLayerSpec.from_dict(d)
            except ValueError as exc:
                self.win.notify(logging.ERROR, f"Sensor layer {d.get('name', '?')!r}: {exc}")
                continue
            if spec.kind == "mqtt":
                try:  # named by file and table here, before a session would refuse it
                    check_topic_filters(spec.topics, f"{scene}: [[sensors]] #{k + 1} ({spec.name!r})")
                except TopicFilterError as exc:
                    self.win.notify(logging.ERROR, str(exc))
                    continue
            self.add_spec(spec)

    # ------------------------------------------------------------------ placement
    def _frame_layer(self, e: SensorEntry) -> None:
        scene = self.win.scene
        origin = np.asarray(scene.origin if scene.origin is not None else np.zeros(3), dtype=np.float64)
        key = (None if scene.crs is None else scene.crs.to_wkt(), tuple(origin.tolist()),
               len(self.win.layers))
        if key == e.frame_key:
            return
        e.frame_key = key
        e.layer.set_frame(scene.crs, origin, self._building_xyz if self.win.layers else None)
        e.clamped = np.zeros(0, dtype=bool)

    def _building_xyz(self, ids: Any) -> NDArray[np.float64]:
        from ..model.sensors import building_anchors

        out = np.full((len(ids), 3), np.nan)
        for lay in self.win.layers:
            if lay.kind != "city" or lay.owner is not None:
                continue
            xyz = building_anchors(lay.model)(ids)
            miss = ~np.isfinite(out).all(axis=1)
            out[miss] = xyz[miss]
        return out

    def _clamp(self, e: SensorEntry) -> None:
        """Stand sensors that lie under the ground on it (their height above it); once per site."""
        if not self.win.layers:
            return

        def ground(p0: NDArray[np.float64], p1: NDArray[np.float64]) -> NDArray[np.float64] | None:
            hit = self.viewport.pick_ray(p0, p1)
            return None if hit is None else np.asarray(hit.point, dtype=np.float64)

        e.clamped = clamp_to_ground(e.layer, e.clamped, self.win.scene_bounds, ground)

    def _scene_changed(self) -> None:
        for e in self.entries:
            self._frame_layer(e)
        self._last_t = math.nan

    # ------------------------------------------------------------------ per frame
    def frame(self) -> bool:
        """One GUI frame: drain every feed, update the visuals, request one render; True if redrawn."""
        t_start = time.perf_counter()
        self.win.viewer.tick()  # TimeChanged when the clock moved
        t = self.clock.time()
        wall = time.monotonic()
        dirty = False
        for e in self.entries:
            try:
                up = e.session.frame(t)
            except Exception as exc:  # a feed error must not kill the timer
                log.debug("sensor frame failed", exc_info=True)
                self.win.notify(logging.ERROR, f"Sensor layer {e.name}: {exc}")
                continue
            if up.alerts:
                units = {a.datastream: e.visual.unit(a.observed_property) for a in up.alerts}
                self.alerts_dock.add_alerts(e.name, up.alerts, units)
            if len(up.changed) or up.alerts:
                dirty = True
            if e.layer.version != e.seen_version:
                self._clamp(e)
                if e.visual.sync():
                    self.sensors_dock.show_status() if self.sensors_dock.current() >= 0 else None
                    if self.sensors_dock.prop.count() != len(e.visual.properties()):
                        self.sensors_dock.refresh()
                e.seen_version = e.layer.version
                dirty = True
        if wall - self._last_range_wall >= 2.0 or math.isnan(self._last_t):
            self._last_range_wall = wall
            for e in self.entries:
                dirty |= e.visual.refresh_range()
        moved = not (t == self._last_t)
        forced = math.isnan(self._last_t)  # clock changed by the user, layer added, scene changed
        if dirty or forced or (moved and not self.clock.live) or wall - self._last_update_wall >= 1.0:
            redraw = False
            for e in self.entries:
                if e.visible:
                    redraw |= e.visual.update(t)
            self._last_update_wall = wall
            self._last_t = t
            if redraw or forced:
                self.updates += 1
                self.viewport.request_render()
        else:
            redraw = False
        if self._update_surfaces(t, wall):
            redraw = True
            self.viewport.request_render()
        if redraw or (moved and not self.clock.live) or wall - self._last_status_wall >= 0.5:
            if wall - self._last_status_wall >= 0.5:
                self._last_status_wall = wall
                self._update_span()
                self.sensors_dock.show_status()
                self._refresh_charts(t)
            self.time_dock.show_time(t)
        if wall - self._last_diag_wall >= DIAGNOSTICS_INTERVAL:  # hidden too (~0.02 ms): rates ready when shown
            self._last_diag_wall = wall
            self.diagnostics_dock.refresh(wall)
        self.frames += 1
        self.frame_ms.append((time.perf_counter() - t_start) * 1000.0)
        return redraw

    def _update_span(self) -> None:
        t0, t1 = math.inf, -math.inf
        for e in self.entries:
            if e.session.replay is not None:
                a, b = e.session.replay.bounds
            else:
                h = e.layer.history
                if h.rows == 0 or not np.isfinite(h.times).any():
                    continue
                a, b = float(np.nanmin(h.times)), max(float(np.nanmax(h.times)), time.time())
            if math.isfinite(a):
                t0, t1 = min(t0, a), max(t1, b)
        if math.isfinite(t0):
            self.time_dock.set_span(t0, t1)

    def _clock_changed(self) -> None:
        self._last_t = math.nan
        self.frame()

    # ------------------------------------------------------------------ surface colouring
    def properties(self) -> list[str]:
        """Observed properties of every sensor layer (first seen first)."""
        out: dict[str, None] = {}
        for e in self.entries:
            out.update(dict.fromkeys(e.visual.properties()))
        return list(out)

    def sensor_sources(self, layer: Any = None) -> list[SensorColour]:
        """The sensor colour sources on offer for a city layer (the provider registered as ``"sensors"``)."""
        if layer is not None and getattr(layer, "kind", "city") != "city":
            return []
        return sensor_sources(self.properties())

    def surface_modes(self, layer: Any = None) -> list[tuple[str, str]]:
        """Colour-by entries ``(label, key)`` the Layers dock adds for a city layer."""
        if layer is not None and getattr(layer, "kind", "city") != "city":
            return []
        props = tuple(self.properties())
        if props != self._modes_props:  # built again only when the properties change (checked 4 times a second)
            self._modes_props = props
            self._modes = [(s.label, s.key()) for s in sensor_sources(props)]
        return list(self._modes)

    @staticmethod
    def is_surface_mode(key: Any) -> bool:
        """True for a colour-by key this controller handles (``sensors:<method>[/<target>]:<property>``)."""
        return sensor_source(key) is not None

    def apply_surface(self, layer: Any) -> None:
        """Colour ``layer`` by its sensor colour-by key now (the Layers dock chose it)."""
        self.surface.forget(layer)
        self._update_surfaces(self.clock.time(), time.monotonic(), forced=True)
        self.viewport.request_render()

    def field_settings(self, prop: str) -> IdwSettings:
        """Interpolation settings of ``prop``'s field: those of the first sensor layer showing it."""
        for e in self.entries:
            if prop in e.visual.properties():
                return e.spec.idw
        return self.entries[0].spec.idw if self.entries else IdwSettings()

    def idw_note(self, row: int) -> str:
        """One line for the Sensors dock: which properties' surface fields use layer ``row``'s settings."""
        if not 0 <= row < len(self.entries):
            return ""
        e = self.entries[row]
        mine: list[str] = []
        other: list[tuple[str, str]] = []
        for prop in e.visual.properties():
            first = next((x for x in self.entries if prop in x.visual.properties()), e)
            if first is e:
                mine.append(prop)
            else:
                other.append((prop, first.name))
        parts = []
        if mine:
            parts.append("Used for " + ", ".join(mine) + ".")
        parts += [f"{p}: the settings of {n!r} apply." for p, n in other]
        return " ".join(parts)

    def set_idw(self, row: int, settings: IdwSettings) -> None:
        """New interpolation settings for sensor layer ``row``: new weights, surfaces recoloured now."""
        if not 0 <= row < len(self.entries):
            return
        e = self.entries[row]
        if e.spec.idw == settings:
            return
        e.spec.idw = settings
        self.surface.invalidate()  # the settings are part of the weights' key: they are rebuilt
        if self._update_surfaces(self.clock.time(), time.monotonic(), forced=True):
            self.viewport.request_render()

    def _scene_origin(self) -> NDArray[np.float64]:
        o = self.win.scene.origin
        return np.asarray(o if o is not None else np.zeros(3), dtype=np.float64)

    def _sensor_state(self, prop: str, t: float) -> SensorState:
        """Positions ``(S, 2)``, values (NaN: none or stale), colour range and unit of ``prop``."""
        return sensor_state([(e.layer, e.visual) for e in self.entries], prop, t)  # type: ignore[no-any-return]

    def _layer_changed(self, ev: Any) -> None:
        """A Layers dock change: a layer leaving a sensor mode loses its ground field at once."""
        if ev.what != LayerProperty.COLOUR:
            return
        lay = self.win.layer_handle(ev.layer)
        if lay is None:
            return
        if sensor_source(ev.value) is None:
            if self.surface.release(lay, self.win.layers, self._scene_origin()):
                self.viewport.request_render()

    def _update_surfaces(self, t: float, wall: float, forced: bool = False, revert: bool = False) -> bool:
        """Recolour city layers coloured by sensors (:meth:`SurfaceField.update`): at most every
        :data:`SURFACE_INTERVAL` seconds (unless ``forced``) and only where the sensor values at
        ``t``, their range or the interpolation settings changed. With ``revert`` (a sensor layer
        was removed), layers whose property no sensor layer has any more go back to semantic
        colours; otherwise they wait (a scene file may name a property before its feed delivered it).
        """
        if not forced and wall - self._surface_wall < SURFACE_INTERVAL:
            return False
        self._surface_wall = wall
        modes = self.surface_modes()
        if modes != self._modes_seen:  # new properties (or layers): offer them in the Layers dock
            self._modes_seen = modes
            self.win.layers_dock.refresh()
        done = self.surface.update(self.win.layers, {k for _, k in modes}, lambda prop: self._sensor_state(prop, t),
                                   self.field_settings, self._scene_origin(), revert=revert)
        if done.reverted:
            self.win.layers_dock.refresh()
        if done.legend:  # the legend only changes with the styling (a new text overlay costs ~1 ms)
            self.win._update_legend()
        return done.wrote

    # ------------------------------------------------------------------ picking
    def pick(self, pos: QPoint) -> tuple[SensorEntry, int] | None:
        """The sensor under widget position ``pos`` (nearest along the view ray)."""
        if not self.entries:
            return None
        x, y = self.viewport.display_point(pos)
        p0, p1 = viewtools.display_ray(self.viewport.renderer, x, y)
        best: tuple[SensorEntry, int] | None = None
        best_t = math.inf
        for e in self.entries:
            i, t = e.visual.pick_ray(p0, p1, slack=1.25)
            if i >= 0 and t < best_t:
                best, best_t = (e, i), t
        return best

    def describe(self, e: SensorEntry, i: int) -> str:
        """One line: datastream, value with unit, age at the clock time."""
        ds = e.layer.datastreams[i]
        t = self.clock.time()
        vals, times = e.layer.history.latest_at(t, np.array([i], dtype=np.int64))
        unit = ds.unit.symbol or ds.unit.name
        name = ds.name or ds.id
        if not math.isfinite(vals[0]):
            return f"{name}: no reading yet"
        over = " ⚠ over threshold" if e.visual.over[i] else ""
        stale = " (stale)" if e.visual.stale[i] else ""
        return f"{name}: {vals[0]:.4g} {unit} · {age_text(t - times[0])} ago{stale}{over}".replace("  ", " ")

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        if obj is not self.viewport.rwi or not self.entries:
            return False
        t = ev.type()
        if t == QEvent.Type.MouseButtonPress:
            me: QMouseEvent = ev  # type: ignore[assignment]
            self._press = me.position().toPoint() if me.button() == Qt.MouseButton.LeftButton else None
            self._pending_click = None
        elif t == QEvent.Type.MouseButtonRelease:
            me = ev  # type: ignore[assignment]
            pos = me.position().toPoint()
            if self._press is not None and (pos - self._press).manhattanLength() <= CLICK_TOLERANCE:
                self._pending_click = self.pick(pos)
            self._press = None
        elif t == QEvent.Type.MouseMove:
            me = ev  # type: ignore[assignment]
            if me.buttons() == Qt.MouseButton.NoButton:
                self._hover_pos = me.position().toPoint()
                if not self._hover_timer.isActive():
                    self._hover_timer.start()
        return False

    def _do_hover(self) -> None:
        pos, self._hover_pos = self._hover_pos, None
        if pos is None:
            return
        hit = self.pick(pos)
        if hit is None:
            QToolTip.hideText()
            return
        text = self.describe(*hit)
        self.win.statusBar().showMessage(text, 4000)
        QToolTip.showText(self.viewport.rwi.mapToGlobal(pos), text, self.viewport.rwi)

    def consume_click(self) -> bool:
        """Called by the window for a click: True (and the sensor shown) if it hit a sensor."""
        hit, self._pending_click = self._pending_click, None
        if hit is None:
            return False
        self.win.clear_selection()
        self.show_sensor(*hit)
        return True

    def _alert_requested(self, layer: str, i: int) -> None:
        e = self.entry(layer)
        if e is not None and 0 <= i < len(e.layer):
            self.show_sensor(e, i)

    # ------------------------------------------------------------------ attributes
    def siblings(self, e: SensorEntry, i: int) -> list[int]:
        """Datastreams of the same Thing (or at the same place) as datastream ``i``."""
        dss = e.layer.datastreams
        thing = dss[i].thing_id
        if thing:
            return [k for k, ds in enumerate(dss) if ds.thing_id == thing]
        pos = e.layer.positions[: len(dss)]
        same = np.flatnonzero(np.all(np.abs(pos - pos[i]) < 0.01, axis=1))
        return same.tolist() if len(same) else [i]

    def show_sensor(self, e: SensorEntry, i: int) -> None:
        """Fill the Attributes dock with the sensor's datastreams and a history chart for each."""
        dock = self.win.attributes_dock
        dock.layer, dock.obj = None, -1
        tree = dock.tree
        tree.clear()
        tree.setUniformRowHeights(False)
        self.selected = (e, i)
        self._charts = []
        ds = e.layer.datastreams[i]
        head = dock._section("Sensor")
        dock._add(head, "id", ds.thing_id or ds.id)
        dock._add(head, "layer", e.name)
        dock._add(head, "feed", f"{e.spec.kind}: {e.spec.source}")
        loc = ds.location
        if loc is not None and loc.building_id:
            dock._add(head, "building", loc.building_id)
        if loc is not None and loc.has_point:
            dock._add(head, "location", f"{loc.lat:.6f}°N {loc.lon:.6f}°E, {loc.height:g} m")
        if e.layer.placed[i]:
            w = self.win.world_point(e.layer.positions[i])
            dock._add(head, "position", f"X {w[0]:,.2f}  Y {w[1]:,.2f}  H {w[2]:.2f} m")
        t = self.clock.time()
        for k in self.siblings(e, i):
            d = e.layer.datastreams[k]
            unit = d.unit.symbol or d.unit.name
            prop = d.observed_property.name or "value"
            sec = dock._section(f"{prop} [{unit}]" if unit else prop)
            dock._add(sec, "datastream", d.id)
            vals, times = e.layer.history.latest_at(t, np.array([k], dtype=np.int64))
            dock._add(sec, "value", f"{vals[0]:.4g} {unit}".strip() if math.isfinite(vals[0]) else "—")
            dock._add(sec, "time", format_time(times[0]))
            dock._add(sec, "age", age_text(t - times[0]))
            lim = self._limit(e, prop)
            if lim is not None:
                dock._add(sec, "threshold", f"> {lim:g} {unit}".strip())
            it = QTreeWidgetItem(sec, ["history", ""])
            chart = QtSeriesChart()
            tree.setItemWidget(it, 1, chart)
            self._charts.append((chart, k))
        self._refresh_charts(t)
        dock.show()
        dock.raise_()
        self.win.statusBar().showMessage(self.describe(e, i), 6000)

    @staticmethod
    def _limit(e: SensorEntry, prop: str) -> float | None:
        for th in e.layer.thresholds:
            if th.observed_property.lower() == prop.lower() and th.above is not None:
                return float(th.above)
        return None

    def _refresh_charts(self, t: float) -> None:
        if self.selected is None or not self._charts:
            return
        e, _ = self.selected
        if e not in self.entries:
            return
        for chart, k in self._charts:
            try:
                times, values = e.layer.history.series(k)
            except RuntimeError:  # the dock was cleared (another selection): its charts are gone
                self._charts = []
                return
            d = e.layer.datastreams[k]
            try:
                chart.set_series(times, values, d.unit.symbol or d.unit.name,
                                 self._limit(e, d.observed_property.name), cursor=t)
            except RuntimeError:
                self._charts = []
                return

    # ------------------------------------------------------------------ dialog
    def add_feed_dialog(self) -> None:
        """Ask for an MQTT/SensorThings URL or a replay file and add it as a sensor layer."""
        dlg, chosen = self.feed_dialog()
        if dlg.exec() == QDialog.DialogCode.Accepted and chosen:
            self.add_spec(chosen[0])

    def feed_dialog(self) -> tuple[QDialog, list[SensorLayerSpec]]:
        """The Add sensor feed dialog, not yet shown. OK is refused, with the reason shown
        in the dialog, while the entry is not usable (e.g. an MQTT topic filter the broker
        would reject); once accepted the list holds the layer's spec."""
        dlg = QDialog(self.win)
        dlg.setWindowTitle("Add sensor feed")
        form = QFormLayout(dlg)
        src = QLineEdit(dlg)
        src.setObjectName("feedSource")
        src.setPlaceholderText("mqtt://host:1883, https://…/v1.1 or a CSV/JSON replay file")
        browse = QToolButton(dlg, text="…")
        row = QWidget(dlg)
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(src, 1)
        h.addWidget(browse)
        name = QLineEdit("sensors", dlg)
        topics = QLineEdit(dlg)
        topics.setObjectName("feedTopics")
        topics.setPlaceholderText("MQTT only, space-separated, e.g. v1.1/+/Observations (default v1.1/#)")
        error = QLabel(dlg)
        error.setObjectName("feedError")
        error.setWordWrap(True)
        error.setStyleSheet("color: #c0392b;")
        error.hide()
        form.addRow("URL or file", row)
        form.addRow("Layer name", name)
        form.addRow("Topic filters", topics)
        form.addRow(error)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dlg)
        form.addRow(bb)
        chosen: list[SensorLayerSpec] = []

        def refuse(message: str, field: QLineEdit) -> None:
            error.setText(message)
            error.show()
            field.setFocus()

        def try_accept() -> None:
            source = src.text().strip()
            if not source:
                refuse("Enter a broker URL (mqtt://host:port), a SensorThings URL or a replay file.", src)
                return
            if "://" not in source:
                source = str(Path(source).expanduser().resolve())
            filters = topics.text().split()
            spec = SensorLayerSpec(source=source, name=name.text().strip() or "sensors", topics=filters)
            if filters and spec.kind != "mqtt":
                refuse("Topic filters only apply to an MQTT broker (mqtt://host:port).", topics)
                return
            for f in filters:
                problem = topic_filter_problem(f)
                if problem is not None:
                    refuse(problem[:1].upper() + problem[1:] + ".", topics)
                    return
            error.hide()
            chosen[:] = [spec]
            dlg.accept()

        bb.accepted.connect(try_accept)
        bb.rejected.connect(dlg.reject)

        def pick_file() -> None:
            path, _ = QFileDialog.getOpenFileName(dlg, "Replay file", self.win._last_dir(),
                                                  "Sensor recordings (*.csv *.json *.jsonl);;All files (*)")
            if path:
                src.setText(path)

        browse.clicked.connect(pick_file)
        return dlg, chosen
