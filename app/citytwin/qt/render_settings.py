"""View ▸ Rendering: FXAA, SSAO and the horizon sky of the viewport, each a toggle kept in QSettings.

The defaults are :data:`~citytwin.render.effects.DEFAULT_EFFECTS`, chosen from the frame
costs ``benchmarks/bench_render.py --effects`` measures with Mesa llvmpipe. FXAA is drawn
on still frames only: while the camera moves (orbit, pan, zoom, walk, fly-to) frames are
drawn without it, and :data:`STILL_MS` after the last move one more frame is drawn with it,
so navigation keeps its frame rate and the picture at rest has smooth edges. SSAO, when
switched on, is drawn on every frame (it is off by default: it triples the frame time).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from ..render.effects import DEFAULT_EFFECTS, EFFECT_NAMES, Effects, RenderEffects

STILL_MS = 150  # ms without camera motion before the anti-aliased frame is drawn
SETTINGS_KEY = "render/{}"  # QSettings key of each effect: render/fxaa, render/ssao, render/horizon


class QtRenderSettings(QObject):
    """The effects of the window's viewport and their View-menu toggles (see the module notes)."""

    def __init__(self, win: Any, menu: QMenu) -> None:
        super().__init__(win)
        self.win = win
        self.viewport = win.viewport
        self.settings = win.settings
        self.controller = Effects(self.viewport.renderer, self.viewport.city_scene.sky)
        self.menu = menu.addMenu("Rendering")
        self.actions: dict[str, QAction] = {}
        for key, label in EFFECT_NAMES.items():
            act = QAction(label, self)
            act.setCheckable(True)
            act.setObjectName(f"act_render_{key}")
            on = self.settings.value(SETTINGS_KEY.format(key), getattr(DEFAULT_EFFECTS, key), type=bool)
            act.setChecked(bool(on))
            act.toggled.connect(lambda checked, k=key: self._toggled(k, checked))
            self.menu.addAction(act)
            self.actions[key] = act
        self.actions["fxaa"].setStatusTip("Smooth the stair steps of edges on still frames (FXAA)")
        self.actions["ssao"].setStatusTip("Darken creases and wall feet (SSAO); slow with software OpenGL")
        self.actions["horizon"].setStatusTip("Sky and ground meeting at the horizon behind the city")
        self.still = False
        self._camera: tuple[float, ...] = ()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(STILL_MS)
        self.timer.timeout.connect(self._became_still)
        self._tag = self.viewport.renderer.AddObserver("StartEvent", lambda *_: self._on_start())
        win.layersChanged.connect(self._layers_changed)
        self.apply()

    def effects(self) -> RenderEffects:
        """The effects the toggles ask for."""
        return RenderEffects(**{k: a.isChecked() for k, a in self.actions.items()})

    def _bounds(self) -> list[float] | None:
        b = self.win.scene_bounds()
        if b is None:
            return None
        return [float(b[0][0]), float(b[1][0]), float(b[0][1]), float(b[1][1]), float(b[0][2]), float(b[1][2])]

    def apply(self) -> None:
        """Hand the toggles to the renderer (FXAA as the still-frame logic decides) and redraw."""
        eff = self.effects()
        self.controller.set(eff, self._bounds())
        self.controller.use_fxaa(eff.fxaa and self.still)
        self.viewport.request_render()

    def _toggled(self, key: str, on: bool) -> None:
        self.settings.setValue(SETTINGS_KEY.format(key), bool(on))
        self.apply()

    def _layers_changed(self) -> None:
        if self.actions["ssao"].isChecked():  # the SSAO radius follows the scene's size
            self.apply()

    def _on_start(self) -> None:
        """Before each frame: FXAA only if the camera has not moved since the last one."""
        cam = self.viewport.renderer.GetActiveCamera()
        state = (*cam.GetPosition(), *cam.GetFocalPoint(), *cam.GetViewUp(), cam.GetViewAngle(),
                 cam.GetParallelScale(), float(cam.GetParallelProjection()))
        if state != self._camera:
            self._camera = state
            self.still = False
            if self.actions["fxaa"].isChecked():
                self.timer.start()
        self.controller.use_fxaa(self.actions["fxaa"].isChecked() and self.still)

    def _became_still(self) -> None:
        self.still = True
        self.viewport.request_render()

    def remove(self) -> None:
        self.timer.stop()
        self.viewport.renderer.RemoveObserver(self._tag)
        self.controller.remove()
