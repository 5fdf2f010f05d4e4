"""The sun in the window: the key light follows the scene clock, View ▸ Cast shadows.

The clock is the window's one :class:`~citytwin.model.clock.SceneClock` (the sensor
layers read it too); the direction comes from :class:`~citytwin.sim.sunlight.Sunlight`
for the scene's place (its CRS and bounds), so the light moves whether or not a sensor
layer exists. A timer looks at the clock ten times a second and moves the light (one
render) only when the sun moved visibly. Without a CRS the place is unknown: the fixed
sun of :mod:`citytwin.render.lighting` stays.

View ▸ *Sun from the clock* switches the sun on the clock on; it is off in a new window
(the fixed sun: the clock starts live, and a window opened in the evening would otherwise
show a city at night) and comes on by itself when the Time dock's sun row is used or a
scene file gives a ``time``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction

from ..model.events import LayerChanged
from ..render.effects import SHADOW_RESOLUTION
from ..render.lighting import SUN_AZIMUTH_ELEVATION, camera_direction, shadow_bias

log = logging.getLogger(__name__)

TICK_MS = 100
MIN_STEP_DEG = 0.05  # the light moves (one frame) when the sun moved this much
MIN_COS = math.cos(math.radians(MIN_STEP_DEG))


class QtSunController(QObject):
    """Moves the viewport's sun with ``win.clock``; owns the *Cast shadows* toggle."""

    def __init__(self, win: Any, menu: Any) -> None:
        super().__init__(win)
        self.win = win
        self.clock = win.clock
        self.dock = win.sensors.time_dock
        self.lighting = win.viewport.city_scene.lighting
        self.sunlight: Any = None  # citytwin.sim.sunlight.Sunlight of the scene's place
        self._key: tuple[Any, ...] = ()
        self._last_t = math.nan
        self.direction: np.ndarray | None = None
        self._night_shown = False
        self.pending_time: str | None = None  # a scene file's time, read once the place is known
        self.act_shadows = QAction("Cast &shadows", self)
        self.act_shadows.setObjectName("act_shadows")
        self.act_shadows.setCheckable(True)
        self.act_shadows.setStatusTip("The sun casts shadows of buildings, terrain and trees (saved with the scene)")
        self.act_shadows.toggled.connect(self.set_shadows)
        self.act_follow = QAction("Sun from the &clock", self)
        self.act_follow.setObjectName("act_sun_clock")
        self.act_follow.setCheckable(True)
        self.act_follow.setStatusTip("Light the scene by the sun at the Time dock's time (else a fixed sun)")
        self.act_follow.toggled.connect(self._follow_toggled)
        menu.addAction(self.act_follow)
        menu.addAction(self.act_shadows)
        self.dock.sunRequested.connect(lambda: self.act_follow.setChecked(True))
        self.dock.clockChanged.connect(self.tick)
        win.layersChanged.connect(self._scene_changed)
        # a layer's geometry, colours or visibility changed: its shadows too (the baker does
        # not look at mapper data)
        win.bus.subscribe(LayerChanged, lambda _ev: self.win.render_settings.controller.shadows_stale())
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    # ------------------------------------------------------------ shadows
    @property
    def shadows(self) -> bool:
        return self.act_shadows.isChecked()

    def set_shadows(self, on: bool) -> None:
        if self.act_shadows.isChecked() != bool(on):
            self.act_shadows.setChecked(bool(on))  # comes back here through toggled
            return
        self.win.render_settings.controller.set_shadows(bool(on))
        self._update_bias()
        self.win.viewport.request_render()

    def _update_bias(self) -> None:
        self.win.render_settings.controller.shadows_stale()
        b = self.win.scene_bounds()
        bounds = None if b is None else [float(b[0][0]), float(b[1][0]), float(b[0][1]), float(b[1][1]),
                                          float(b[0][2]), float(b[1][2])]
        self.lighting.set_shadow_bias(shadow_bias(bounds, SHADOW_RESOLUTION))

    # ------------------------------------------------------------ sun
    @property
    def follows(self) -> bool:
        return self.act_follow.isChecked()

    def _follow_toggled(self, on: bool) -> None:
        self.direction = None
        self._night_shown = False
        self._last_t = math.nan
        if not on:
            self.lighting.set_sun(camera_direction(*SUN_AZIMUTH_ELEVATION))
            self.win.viewport.request_render()
        self.tick()

    def _scene_changed(self) -> None:
        scene = self.win.scene
        crs = scene.crs
        has = any(m.n_triangles for m in scene.models)
        key = (id(crs), has) if crs is not None and has else ()
        if key != self._key:
            self._key = key
            self.sunlight = None
            if key:
                from ..sim.sunlight import Sunlight

                try:
                    self.sunlight = Sunlight.of_bbox(scene.bbox(), crs)
                    self.dock.set_zone(self.sunlight.place.timezone)
                except Exception as exc:  # noqa: BLE001 - a CRS pyproj cannot take to WGS84
                    log.warning("no sun position for this scene: %s", exc)
            if self.sunlight is None:  # the fixed sun again
                self.lighting.set_sun(camera_direction(*SUN_AZIMUTH_ELEVATION))
                self.win.viewport.request_render()
        self._update_bias()
        self._last_t = math.nan
        self.direction = None
        self._night_shown = False
        if self.pending_time is not None and (self.sunlight is not None or not self.win.loader.busy):
            self.set_time_text(self.pending_time)
        self.tick()

    def set_time_text(self, text: str) -> None:
        """Set the clock (paused) to ISO 8601 ``text``; without an offset it is the place's
        local time, so it waits for the scene's place when that is not known yet."""
        if self.sunlight is None and self.win.loader.busy:
            self.pending_time = text
            return
        self.pending_time = None
        from ..sim.place import parse_time

        tz = self.sunlight.place.timezone if self.sunlight is not None else "UTC"
        try:
            t = parse_time(text, tz).timestamp()
        except ValueError as exc:
            self.win.notify(logging.WARNING, f"scene time: {exc}")
            return
        self.act_follow.setChecked(True)
        self.win.viewer.set_time(t)  # published: TimeChanged
        self.win.viewer.pause()
        self.dock.show_time(self.clock.time())
        self.tick()

    def tick(self) -> None:
        """Move the light if the clock moved (or the scene changed)."""
        t = self.clock.time()
        if t == self._last_t:
            return
        self._last_t = t
        if self.sunlight is None:
            self.dock.show_sun("no CRS: fixed light" if self.win.layers else "")
            return
        if not self.follows:
            self.dock.show_sun("fixed light (View ▸ Sun from the clock)")
            return
        az, el = self.sunlight.position(t)
        d = self.sunlight.direction(t)
        self.dock.show_sun(f"azimuth {az:5.1f}°  elevation {el:5.1f}°" + ("" if d is not None else "  (night)"))
        if not self.win.sensors.entries:  # the sensor frame does it while it runs
            self.dock.show_time(t)
        old = self.direction
        self.direction = d
        if old is not None and d is not None and float(np.dot(old, d)) > MIN_COS:
            self.direction = old  # moved less than MIN_STEP_DEG: not worth a frame (live, the sun
            return  # moves 0.25° a minute)
        if old is None and d is None and self._night_shown:
            return
        self._night_shown = d is None
        self.lighting.set_sun(d)
        self.win.viewport.request_render()

    def close(self) -> None:
        self.timer.stop()
