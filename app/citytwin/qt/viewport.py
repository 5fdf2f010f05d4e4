"""The 3D viewport: a QWidget that holds a VTK render window widget (composition, not a Plotter).

Rendering happens on demand only: every change calls :meth:`QtViewport.request_render`,
which coalesces requests with a zero-delay single-shot timer into one repaint. There is
no polling timer. Camera coordinates are relative to the scene origin (the vertices are).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, QVariantAnimation, Signal
from PySide6.QtGui import QImage, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pyvistaqt.rwi import QVTKRenderWindowInteractor

from ..model.semantics import SEMANTICS
from ..render import viewtools
from .layers import Hit, Layer

log = logging.getLogger(__name__)

EYE_HEIGHT = 1.7  # metres above the ground in walk mode
CLICK_TOLERANCE = 4  # pixels a press may move and still count as a click
WALKABLE = frozenset(
    SEMANTICS.index(n) for n in ("Terrain", "Road", "TrafficArea", "AuxiliaryTrafficArea", "Marking",
                                 "LandUse", "Railway", "Bridge", "WaterSurface", "Water")
)


def pick_layer(layer: Layer, index: int, p0: NDArray[np.float64], p1: NDArray[np.float64]) -> Hit | None:
    """First hit of the segment ``p0 -> p1`` on ``layer`` (scene-relative coordinates)."""
    res = layer.visual.pick_ray(p0, p1)
    if res is None:
        return None
    return Hit(index, int(res.object), np.asarray(res.point, dtype=np.float64), float(res.t), int(res.cell))


class QtViewport(QWidget):
    """The scene view. Emits ``clicked(hit_or_None)`` for a click that did not drag,
    ``hovered(hit_or_None)`` as the cursor moves, ``walkChanged(bool)``."""

    clicked = Signal(object)
    hovered = Signal(object)
    walkChanged = Signal(bool)
    cameraMoved = Signal()
    escapePressed = Signal()

    def __init__(self, parent: QWidget | None = None, multi_samples: int = 0) -> None:
        super().__init__(parent)
        self.setObjectName("viewport")
        self.rwi = QVTKRenderWindowInteractor(self)
        self.rwi.setObjectName("vtkWidget")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.rwi)
        self.render_window = self.rwi.GetRenderWindow()
        self.render_window.SetMultiSamples(int(multi_samples))
        self.renderer = viewtools.make_renderer()
        self.render_window.AddRenderer(self.renderer)
        self.city_scene = viewtools.CityScene(self.renderer)
        # measurements and other annotations: drawn over the city, with the same camera
        self.overlay_renderer = viewtools.make_overlay_renderer(self.renderer)
        self.render_window.SetNumberOfLayers(2)
        self.render_window.AddRenderer(self.overlay_renderer)
        self.interactor = self.render_window.GetInteractor()
        self.interactor.SetInteractorStyle(viewtools.trackball_style())
        self.interactor.Initialize()
        self.layers: Callable[[], list[Layer]] = lambda: []
        self.scene_bounds: Callable[[], NDArray[np.float64] | None] = lambda: None
        self._render_timer = QTimer(self)  # zero-delay single shot: coalesces render requests
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._render_timer.timeout.connect(self._render_now)
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(0)
        self._hover_timer.timeout.connect(self._do_hover)
        self._closed = False
        self.render_count = 0
        self._press: QPoint | None = None
        self._hover_pos: QPoint | None = None
        self._walk = False
        self._look_from: QPoint | None = None
        self.walk_speed = 2.0
        self.collide = True  # walls stop the walker
        self._eye_offset = 0.0  # metres above eye height (Q/E in walk mode)
        self._anim: QVariantAnimation | None = None
        self.last_pick_ms: float = float("nan")
        self.rwi.setMouseTracking(True)
        self.rwi.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.rwi.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.rwi.grabGesture(Qt.GestureType.PinchGesture)
        self.rwi.grabGesture(Qt.GestureType.PanGesture)
        self.rwi.installEventFilter(self)
        self.interactor.AddObserver("EndInteractionEvent", lambda *_: self.cameraMoved.emit())
        self.interactor.AddObserver("MouseWheelForwardEvent", lambda *_: self.cameraMoved.emit(), -1.0)
        self.interactor.AddObserver("MouseWheelBackwardEvent", lambda *_: self.cameraMoved.emit(), -1.0)

    # ------------------------------------------------------------- rendering
    def request_render(self) -> None:
        """Ask for one repaint; any number of requests before it runs give one render."""
        if not self._closed and not self._render_timer.isActive():
            self._render_timer.start()

    def _render_now(self) -> None:
        if self._closed:
            return
        self.render_count += 1
        self.renderer.ResetCameraClippingRange()
        self.rwi.update()

    def render_sync(self) -> None:
        """Render now (for snapshots and tests)."""
        self._render_timer.stop()
        self.renderer.ResetCameraClippingRange()
        self.rwi.repaint()

    def add_actors(self, actors: list[Any], city: bool = False) -> None:
        """Add actors; ``city`` ones get the city lighting shader and stay in front of the sky."""
        for a in actors:
            if city:
                self.city_scene.add_city_actor(a)
            else:
                self.renderer.AddActor(a)
        self.request_render()

    def remove_actors(self, actors: list[Any]) -> None:
        for a in actors:
            self.renderer.RemoveActor(a)
        self.request_render()

    def grab_frame(self) -> QImage:
        """The widget's current frame as a QImage (what the user sees)."""
        self.render_sync()
        return self.rwi.grabFramebuffer()

    def snapshot(self, scale: int = 1) -> NDArray[np.uint8]:
        """The view as an ``(H, W, 3)`` array at ``scale`` times the window size."""
        self.render_sync()
        self.render_window.MakeCurrent()
        return viewtools.window_image(self.render_window, scale)

    # ---------------------------------------------------------------- camera
    def camera_state(self) -> dict[str, Any]:
        return viewtools.camera_state(self.renderer)

    def set_camera_state(self, state: dict[str, Any], animate: bool = False) -> None:
        if animate:
            self._animate_to(state)
            return
        viewtools.apply_camera_state(self.renderer, state)
        self.request_render()
        self.cameraMoved.emit()

    def set_view(self, name: str, animate: bool = True) -> None:
        """``reset``/``iso``, ``top``, ``north``, ... on the whole scene."""
        bounds = self.scene_bounds()
        if bounds is None:
            return
        self.set_walk_mode(False)
        aspect = max(self.rwi.width(), 1) / max(self.rwi.height(), 1)
        self.set_camera_state(viewtools.view_preset(bounds, name, aspect=aspect), animate=animate)

    def fly_to(self, bounds: NDArray[np.float64], animate: bool = True) -> None:
        """Frame the box ``bounds`` ``(2, 3)`` keeping the current viewing direction."""
        lo, hi = np.asarray(bounds, dtype=np.float64)
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            return
        state = self.camera_state()
        d = np.asarray(state["position"]) - np.asarray(state["focal_point"])
        n = np.linalg.norm(d)
        d = d / n if n > 0 else np.array([-0.55, -0.65, 0.55]) / 1.0
        if d[2] < 0.25:  # keep looking down a little so the object is not hidden by neighbours
            d[2] = 0.25
            d /= np.linalg.norm(d)
        centre = (lo + hi) / 2
        radius = max(float(np.linalg.norm(hi - lo)) / 2.0, 3.0)
        dist = radius / math.sin(math.radians(state["view_angle"]) / 2.0) * 1.3
        target = {
            "position": (centre + d * dist).tolist(),
            "focal_point": centre.tolist(),
            "view_up": [0.0, 0.0, 1.0],
            "view_angle": state["view_angle"],
        }
        self.set_walk_mode(False)
        self.set_camera_state(target, animate=animate)

    def _animate_to(self, target: dict[str, Any], ms: int = 450) -> None:
        if self._anim is not None:
            self._anim.stop()
        start = self.camera_state()
        anim = QVariantAnimation(self)
        anim.setStartValue(0.0)
        anim.setEndValue(1.0)
        anim.setDuration(ms)

        def step(v: Any) -> None:
            viewtools.apply_camera_state(self.renderer, viewtools.interpolate_camera(start, target, float(v)))
            self.request_render()

        def done() -> None:
            viewtools.apply_camera_state(self.renderer, target)
            self.request_render()
            self.cameraMoved.emit()

        anim.valueChanged.connect(step)
        anim.finished.connect(done)
        self._anim = anim
        anim.start(QVariantAnimation.DeletionPolicy.KeepWhenStopped)

    def finish_animation(self) -> None:
        """Jump to the end of a running camera flight (tests, scripted use)."""
        if self._anim is not None and self._anim.state() == QVariantAnimation.State.Running:
            self._anim.setCurrentTime(self._anim.duration())
            self._anim.stop()
            viewtools.apply_camera_state(
                self.renderer, viewtools.interpolate_camera(self.camera_state(), self.camera_state(), 1.0)
            )

    # --------------------------------------------------------------- picking
    def display_point(self, pos: QPoint) -> tuple[float, float]:
        """VTK display coordinates of a widget position (physical pixels, y up)."""
        dpr = self.rwi.devicePixelRatioF()
        return pos.x() * dpr, (self.rwi.height() - pos.y() - 1) * dpr

    def widget_point(self, world: NDArray[np.float64]) -> QPoint:
        """Widget position of a scene-relative world point (inverse of :meth:`display_point`)."""
        x, y, _ = viewtools.world_to_display(self.renderer, world)
        dpr = self.rwi.devicePixelRatioF()
        return QPoint(int(round(x / dpr)), int(round(self.rwi.height() - 1 - y / dpr)))

    def pick_ray(self, p0: NDArray[np.float64], p1: NDArray[np.float64], kinds: tuple[str, ...] | None = None) -> Hit | None:
        """Nearest hit of segment ``p0 -> p1`` over the visible layers (optionally of some kinds)."""
        best: Hit | None = None
        for i, layer in enumerate(self.layers()):
            if not layer.visible or (kinds is not None and layer.kind not in kinds):
                continue
            hit = pick_layer(layer, i, p0, p1)
            if hit is not None and (best is None or hit.t < best.t):
                best = hit
        return best

    def pick(self, pos: QPoint) -> Hit | None:
        """What lies under widget position ``pos``."""
        t0 = time.perf_counter()
        x, y = self.display_point(pos)
        p0, p1 = viewtools.display_ray(self.renderer, x, y)
        hit = self.pick_ray(p0, p1)
        self.last_pick_ms = (time.perf_counter() - t0) * 1000.0
        return hit

    def _walkable(self, hit: Hit) -> bool:
        layer = self.layers()[hit.layer]
        if layer.kind == "terrain":
            return True
        sem = int(layer.visual.cell_semantic[hit.cell]) if hit.cell >= 0 else 0
        return sem in WALKABLE

    def ground_hit(self, x: float, y: float, z_from: float) -> Hit | None:
        """First walkable surface (terrain, road, pavement, land use) straight below
        ``(x, y, z_from)``; roofs, trees and other objects in between are passed through."""
        top = z_from
        for _ in range(16):
            hit = self.pick_ray(np.array([x, y, top]), np.array([x, y, top - 10000.0]))
            if hit is None:
                return None
            if self._walkable(hit):
                return hit
            top = float(hit.point[2]) - 0.01
        return None

    def ground_height(self, x: float, y: float, z: float) -> float:
        """Height of the ground below ``(x, y)`` seen from ``z`` (or, with nothing below,
        the scene's lowest point)."""
        hit = self.ground_hit(x, y, z)
        if hit is not None:
            return float(hit.point[2])
        bounds = self.scene_bounds()
        return float(bounds[0][2]) if bounds is not None else 0.0

    # ------------------------------------------------------------- walk mode
    @property
    def walk_mode(self) -> bool:
        return self._walk

    def set_walk_mode(self, on: bool) -> None:
        """First-person navigation: WASD to move (Shift faster), Q/E down/up, drag to look."""
        if on == self._walk:
            return
        self._walk = on
        if on:
            self._eye_offset = 0.0
            st = self.camera_state()
            fp = np.asarray(st["focal_point"])
            pos = np.asarray(st["position"])
            d = fp - pos
            d[2] = 0.0
            if np.linalg.norm(d) < 1e-6:
                d = np.array([0.0, 1.0, 0.0])
            d /= np.linalg.norm(d)
            eye = self._open_ground(fp, pos)
            eye[2] = self.ground_height(eye[0], eye[1], eye[2] + 1.0) + EYE_HEIGHT
            look = fp - eye  # keep looking at what was in the centre of the view
            pitch = math.degrees(math.atan2(look[2], float(np.hypot(look[0], look[1])) or 1.0))
            self._set_eye(eye, look if np.hypot(look[0], look[1]) > 1e-6 else d, max(-10.0, min(30.0, pitch)))
            self.rwi.setFocus()
        self.walkChanged.emit(on)
        self.request_render()

    def _open_ground(self, fp: NDArray[np.float64], cam: NDArray[np.float64]) -> NDArray[np.float64]:
        """Where to stand when walking starts: a walkable point (nothing but ground straight
        below) between the focal point and the camera, seen from above, preferring one from
        which the focal point can be seen at eye height; the focal point when there is none."""
        fallback = None
        for t in np.linspace(0.1, 1.0, 37):
            p = fp + (cam - fp) * t
            hit = self.pick_ray(np.array([p[0], p[1], p[2] + 5000.0]), np.array([p[0], p[1], p[2] - 5000.0]))
            if hit is None or not self._walkable(hit):
                continue
            ground = np.array([p[0], p[1], hit.point[2]])
            eye = ground + [0.0, 0.0, EYE_HEIGHT]
            sight = self.pick_ray(eye, fp + (fp - eye) * 0.01)
            if sight is None or np.linalg.norm(sight.point - fp) < 3.0:
                return ground
            if fallback is None:
                fallback = ground
        return fallback if fallback is not None else fp.copy()

    def _set_eye(self, eye: NDArray[np.float64], heading: NDArray[np.float64], pitch_deg: float) -> None:
        p = math.radians(max(-85.0, min(85.0, pitch_deg)))
        h = heading / (np.linalg.norm(heading[:2]) or 1.0)
        look = np.array([h[0] * math.cos(p), h[1] * math.cos(p), math.sin(p)])
        cam = self.renderer.GetActiveCamera()
        cam.SetPosition(*eye)
        cam.SetFocalPoint(*(eye + look * 10.0))
        cam.SetViewUp(0, 0, 1)
        self.renderer.ResetCameraClippingRange()
        self.request_render()

    def _walk_vectors(self) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        cam = self.renderer.GetActiveCamera()
        eye = np.asarray(cam.GetPosition(), dtype=np.float64)
        look = np.asarray(cam.GetFocalPoint(), dtype=np.float64) - eye
        look /= np.linalg.norm(look) or 1.0
        heading = np.array([look[0], look[1], 0.0])
        if np.linalg.norm(heading) < 1e-6:
            heading = np.array([0.0, 1.0, 0.0])
        pitch = math.degrees(math.asin(max(-1.0, min(1.0, look[2]))))
        return eye, heading / np.linalg.norm(heading), pitch

    def walk_step(self, forward: float = 0.0, right: float = 0.0, up: float = 0.0) -> None:
        """Move the walking eye by metres along the heading, sideways and up; the eye
        follows the ground at :data:`EYE_HEIGHT` unless moved up explicitly."""
        eye, heading, pitch = self._walk_vectors()
        side = np.array([heading[1], -heading[0], 0.0])
        move = heading * forward + side * right
        dist = float(np.linalg.norm(move))
        if dist > 0 and self.collide:
            # walls stop the walker half a metre before them (a ray at chest height)
            chest = eye - [0.0, 0.0, 0.5]
            hit = self.pick_ray(chest, chest + move / dist * (dist + 0.5))
            if hit is not None and not self._walkable(hit):
                free = max(0.0, float(np.linalg.norm(hit.point - chest)) - 0.5)
                move = move / dist * min(free, dist)
        eye = eye + move
        ground = self.ground_height(eye[0], eye[1], eye[2] - self._eye_offset)
        self._eye_offset = max(0.0, self._eye_offset + up)
        eye[2] = ground + EYE_HEIGHT + self._eye_offset
        self._set_eye(eye, heading, pitch)
        self.cameraMoved.emit()

    def walk_look(self, yaw_deg: float, pitch_deg: float) -> None:
        eye, heading, pitch = self._walk_vectors()
        a = math.radians(-yaw_deg)
        h = np.array([heading[0] * math.cos(a) - heading[1] * math.sin(a),
                      heading[0] * math.sin(a) + heading[1] * math.cos(a), 0.0])
        self._set_eye(eye, h, pitch + pitch_deg)

    # ---------------------------------------------------------------- events
    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        if obj is not self.rwi:
            return False
        t = ev.type()
        if t == QEvent.Type.MouseButtonPress:
            me: QMouseEvent = ev  # type: ignore[assignment]
            self._press = me.position().toPoint() if me.button() == Qt.MouseButton.LeftButton else None
            if self._walk:
                self._look_from = me.position().toPoint()
                return True
        elif t == QEvent.Type.MouseButtonRelease:
            me = ev  # type: ignore[assignment]
            pos = me.position().toPoint()
            if self._walk:
                self._look_from = None
            if (
                self._press is not None
                and me.button() == Qt.MouseButton.LeftButton
                and (pos - self._press).manhattanLength() <= CLICK_TOLERANCE
            ):
                self._press = None
                self.clicked.emit(self.pick(pos))
            self._press = None
            if self._walk:
                return True
        elif t == QEvent.Type.MouseMove:
            me = ev  # type: ignore[assignment]
            pos = me.position().toPoint()
            if self._walk:
                if self._look_from is not None:
                    d = pos - self._look_from
                    self._look_from = pos
                    self.walk_look(d.x() * 0.25, -d.y() * 0.25)
                return True
            if me.buttons() == Qt.MouseButton.NoButton:
                self._queue_hover(pos)
        elif t == QEvent.Type.KeyPress:
            return self._key(ev)  # type: ignore[arg-type]
        elif t == QEvent.Type.Gesture:
            return self._gesture(ev)
        elif t == QEvent.Type.Leave:
            self.hovered.emit(None)
        return False

    def _queue_hover(self, pos: QPoint) -> None:
        self._hover_pos = pos
        if not self._hover_timer.isActive():
            self._hover_timer.start()

    def _do_hover(self) -> None:
        pos, self._hover_pos = self._hover_pos, None
        if pos is not None and not self._closed and self.layers():
            self.hovered.emit(self.pick(pos))

    def _key(self, ev: QKeyEvent) -> bool:
        key = ev.key()
        if key == Qt.Key.Key_Escape:
            if self._walk:
                self.set_walk_mode(False)
            self.escapePressed.emit()
            return True
        if not self._walk:
            # keep VTK's own key bindings (w/s wireframe, q/e exit, ...) away from the user
            return key not in (Qt.Key.Key_Shift, Qt.Key.Key_Control)
        step = self.walk_speed * (5.0 if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1.0)
        moves = {
            Qt.Key.Key_W: (step, 0, 0), Qt.Key.Key_Up: (step, 0, 0),
            Qt.Key.Key_S: (-step, 0, 0), Qt.Key.Key_Down: (-step, 0, 0),
            Qt.Key.Key_A: (0, -step, 0), Qt.Key.Key_D: (0, step, 0),
            Qt.Key.Key_E: (0, 0, step), Qt.Key.Key_Q: (0, 0, -step),
        }
        if key in moves:
            self.walk_step(*moves[key])
            return True
        if key == Qt.Key.Key_Left:
            self.walk_look(-5, 0)
            return True
        if key == Qt.Key.Key_Right:
            self.walk_look(5, 0)
            return True
        return True

    def _gesture(self, ev: Any) -> bool:
        """Touch: pinch zooms (and rotates about the view axis), two-finger pan pans."""
        cam = self.renderer.GetActiveCamera()
        pinch = ev.gesture(Qt.GestureType.PinchGesture)
        if pinch is not None:
            f = pinch.scaleFactor()
            if f > 0:
                cam.Dolly(f)
            ang = pinch.rotationAngle() - pinch.lastRotationAngle()
            if ang:
                cam.Azimuth(-ang)
            ev.accept(pinch)
        pan = ev.gesture(Qt.GestureType.PanGesture)
        if pan is not None:
            d = pan.delta()
            self._pan_pixels(d.x(), d.y())
            ev.accept(pan)
        self.request_render()
        self.cameraMoved.emit()
        return True

    def _pan_pixels(self, dx: float, dy: float) -> None:
        cam = self.renderer.GetActiveCamera()
        fp = np.asarray(cam.GetFocalPoint())
        pos = np.asarray(cam.GetPosition())
        dist = np.linalg.norm(pos - fp)
        h = max(self.rwi.height(), 1)
        scale = 2.0 * dist * math.tan(math.radians(cam.GetViewAngle()) / 2.0) / h
        view = (fp - pos) / (dist or 1.0)
        up = np.asarray(cam.GetViewUp())
        right = np.cross(view, up)
        right /= np.linalg.norm(right) or 1.0
        true_up = np.cross(right, view)
        shift = (-dx * right + dy * true_up) * scale
        cam.SetFocalPoint(*(fp + shift))
        cam.SetPosition(*(pos + shift))

    def closeEvent(self, ev: Any) -> None:  # noqa: N802
        self._closed = True
        self._render_timer.stop()
        self._hover_timer.stop()
        if self._anim is not None:
            self._anim.stop()
        self.city_scene.remove()
        self.rwi.close()
        super().closeEvent(ev)
