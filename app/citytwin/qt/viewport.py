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
from ..render.snapshot import render_magnified
from .layers import Hit, Layer

log = logging.getLogger(__name__)

EYE_HEIGHT = 1.7  # metres above the ground in walk mode
CLICK_TOLERANCE = 4  # pixels a press may move and still count as a click
ORBIT_DEG_PER_WINDOW = 160.0  # a drag across the whole view turns this far (as VTK's trackball)
WHEEL_ZOOM = 1.2  # zoom factor per wheel notch
NAVIGATION = ("turntable", "trackball")
WALKABLE = frozenset(
    SEMANTICS.index(n) for n in ("Terrain", "Road", "TrafficArea", "AuxiliaryTrafficArea", "Marking",
                                 "LandUse", "Railway", "Bridge", "WaterSurface", "Water")
)
STREET = frozenset(SEMANTICS.index(n) for n in ("Road", "TrafficArea", "AuxiliaryTrafficArea", "Marking"))


def pick_layer(layer: Layer, index: int, p0: NDArray[np.float64], p1: NDArray[np.float64]) -> Hit | None:
    """First hit of the segment ``p0 -> p1`` on ``layer`` (scene-relative coordinates)."""
    res = layer.visual.pick_ray(p0, p1)
    if res is None:
        return None
    return Hit(index, int(res.object), np.asarray(res.point, dtype=np.float64), float(res.t), int(res.cell))


class QtViewport(QWidget):
    """The scene view. Emits ``clicked(hit_or_None)`` for a click that did not drag,
    ``hovered(hit_or_None)`` as the cursor moves, ``walkChanged(bool)``.

    Navigation is a *turntable* by default (left-drag turns about the vertical axis through
    the focal point and tilts, the horizon stays level; right/middle/shift-left drag pans;
    the wheel zooms towards the point under the cursor) or VTK's *trackball*
    (:meth:`set_navigation`)."""

    clicked = Signal(object)
    hovered = Signal(object)
    walkChanged = Signal(bool)
    cameraMoved = Signal()
    escapePressed = Signal()
    enterPressed = Signal()

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
        self.scene_points: Callable[[], NDArray[np.float64] | None] = lambda: None  # drawn vertices, sampled
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
        self.navigation = "turntable"
        self._drag: tuple[Qt.MouseButton, QPoint, bool] | None = None  # button, last position, panning
        self._dragged = False
        # any change of the camera (a drag, a gesture, a script) draws a frame, so that what is
        # computed from the camera before each render (north arrow, scale bar) follows it
        self._drawn_camera: tuple[Any, ...] | None = None
        self._camera_check = QTimer(self)
        self._camera_check.setSingleShot(True)
        self._camera_check.setInterval(0)
        self._camera_check.timeout.connect(self._check_camera)
        self.renderer.AddObserver("StartEvent", lambda *_: self._note_drawn_camera())
        self.renderer.GetActiveCamera().AddObserver("ModifiedEvent", lambda *_: self._camera_modified())

    # ------------------------------------------------------------ navigation
    def set_navigation(self, mode: str) -> None:
        """``turntable`` (z stays up) or ``trackball`` (VTK's free tumbling)."""
        if mode not in NAVIGATION:
            raise ValueError(f"navigation {mode!r}: one of {', '.join(NAVIGATION)}")
        self.navigation = mode
        self._drag = None

    def _camera_key(self) -> tuple[Any, ...]:
        cam = self.renderer.GetActiveCamera()
        return (cam.GetPosition(), cam.GetFocalPoint(), cam.GetViewUp(), cam.GetViewAngle())

    def _note_drawn_camera(self) -> None:
        self._drawn_camera = self._camera_key()

    def _camera_modified(self) -> None:
        if not self._closed and not self._camera_check.isActive():
            self._camera_check.start()

    def _check_camera(self) -> None:
        if self._camera_key() != self._drawn_camera:  # moved, and no frame drew it yet
            self.request_render()

    def orbit_pixels(self, dx: float, dy: float) -> None:
        """Turntable orbit for a drag of ``(dx, dy)`` widget pixels (right, down)."""
        w, h = max(self.rwi.width(), 1), max(self.rwi.height(), 1)
        viewtools.turntable_orbit(self.renderer.GetActiveCamera(), -dx * ORBIT_DEG_PER_WINDOW / w,
                                  dy * ORBIT_DEG_PER_WINDOW / h)
        self.request_render()

    def zoom_at(self, pos: QPoint, factor: float) -> None:
        """Zoom by ``factor`` (> 1 closer) towards what lies under widget position ``pos``
        (the point on the focal plane when nothing does)."""
        hit = self.pick(pos) if self.layers() else None
        cam = self.renderer.GetActiveCamera()
        if hit is not None:
            target = hit.point
        else:
            x, y = self.display_point(pos)
            p0, p1 = viewtools.display_ray(self.renderer, x, y)
            eye = np.asarray(cam.GetPosition())
            d = p1 - p0
            d /= np.linalg.norm(d) or 1.0
            dist = float(np.linalg.norm(np.asarray(cam.GetFocalPoint()) - eye))
            view = np.asarray(cam.GetDirectionOfProjection())
            target = eye + d * dist / max(float(d @ view), 1e-3)
        viewtools.zoom_about(cam, target, factor)
        self.request_render()

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

    def add_visual(self, visual: Any, city: bool = False) -> None:
        """The viewport as a :class:`~citytwin.render.layer_visuals.Stage`: show a visual's actors
        and draw again when it changes."""
        self.add_actors(visual.actors(), city=city)
        visual.changed.connect(self._visual_changed)

    def remove_visual(self, visual: Any) -> None:
        visual.changed.disconnect(self._visual_changed)
        self.remove_actors(visual.actors())

    def _visual_changed(self, *_: object) -> None:
        self.request_render()

    def grab_frame(self) -> QImage:
        """The widget's current frame as a QImage (what the user sees)."""
        self.render_sync()
        return self.rwi.grabFramebuffer()

    def snapshot(self, scale: int = 1) -> NDArray[np.uint8]:
        """The view as an ``(H, W, 3)`` array at ``scale`` times the window size (drawn whole
        off screen at that size, not in tiles: see :func:`~citytwin.render.snapshot.render_magnified`)."""
        self.render_sync()
        self.render_window.MakeCurrent()
        if scale <= 1:
            return viewtools.window_image(self.render_window, 1)
        img = render_magnified(self.render_window, scale)
        self.request_render()  # the window's own buffers are made again on its next frame
        return img

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
        state = viewtools.view_preset(bounds, name, aspect=aspect, points=self.scene_points())
        self.set_camera_state(state, animate=animate)

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
            d = fp - np.asarray(st["position"])
            d[2] = 0.0
            if np.linalg.norm(d) < 1e-6:
                d = np.array([0.0, 1.0, 0.0])
            d /= np.linalg.norm(d)
            eye, heading = self.street_point(fp, d)
            self._set_eye(eye, heading, 0.0)
            self.rwi.setFocus()
        self.walkChanged.emit(on)
        self.request_render()

    def street_point(self, centre: NDArray[np.float64], heading: NDArray[np.float64],
                     reach: float = 250.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Where to stand when walking starts, and which way to look: an open walkable point
        (a street preferred; nothing but sky above it, no wall within two metres) nearest to
        ``centre`` (x, y), its eye :data:`EYE_HEIGHT` over the ground, looking along the
        longest free horizontal view (every 10 degrees, the best refined to 2 degrees; a view
        is as long as the shortest of three rays 3 degrees apart, of up to ``reach`` metres, so
        that a gap between two houses is no view; among nearly as long ones, the nearest to
        ``heading``). Without any open ground: the ground below ``centre``."""
        bounds = self.scene_bounds()
        top = float(bounds[1][2]) + 10.0 if bounds is not None else float(centre[2]) + 1000.0
        bottom = float(bounds[0][2]) - 10.0 if bounds is not None else float(centre[2]) - 1000.0
        span = float(np.max(bounds[1][:2] - bounds[0][:2])) if bounds is not None else 200.0
        def rays(angles: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)

        def sight(eye: NDArray[np.float64], angles: NDArray[np.float64]) -> NDArray[np.float64]:
            free = np.full(len(angles), reach)
            for spread in (0.0, -3.0, 3.0):
                for i, dv in enumerate(rays(angles + math.radians(spread))):
                    if free[i] < 2.0:
                        continue
                    seen = self.pick_ray(eye, eye + dv * reach)
                    if seen is not None:
                        free[i] = min(free[i], float(np.linalg.norm(seen.point - eye)))
            return free

        angles = np.radians(np.arange(0.0, 360.0, 10.0))
        h0 = np.array([heading[0], heading[1], 0.0])
        h0 /= np.linalg.norm(h0) or 1.0
        best: tuple[float, NDArray[np.float64], NDArray[np.float64], bool] | None = None
        tried = 0
        for r in np.arange(0.0, max(span / 2.0, 10.0), 6.0):
            n = max(1, int(2 * math.pi * r / 8.0))
            for k in range(n):
                a = 2 * math.pi * k / n
                x, y = centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)
                hit = self.pick_ray(np.array([x, y, top]), np.array([x, y, bottom]))
                if hit is None or not self._walkable(hit):
                    continue  # under a roof, a tree or nothing
                tried += 1
                eye = np.array([x, y, float(hit.point[2]) + EYE_HEIGHT])
                free = sight(eye, angles)
                if free.min() < 2.0:
                    continue  # against a wall
                # the longest view, refined (a street seen slightly askew ends at its first house)
                i = int(np.argmax(free))
                fine_angles = angles[i] + np.radians(np.arange(-10.0, 10.5, 2.0))
                fine = sight(eye, fine_angles)
                all_dirs = rays(np.concatenate([angles, fine_angles]))
                all_free = np.concatenate([free, fine])
                # among views nearly as long, the one nearest the old heading
                long = all_free >= 0.9 * all_free.max()
                j = int(np.flatnonzero(long)[np.argmax(all_dirs[long] @ h0)])
                street = self._layer_semantic(hit) in STREET
                # a street, a long view, room around (not along a house front), near the centre
                score = (min(float(all_free.max()), 150.0) + (100.0 if street else 0.0)
                         + 4.0 * min(float(free.min()), 8.0) - 0.5 * r)
                if best is None or score > best[0]:
                    best = (score, eye, all_dirs[j], street)
                if best is not None and best[3] and tried >= 12:
                    return best[1], best[2]
            if best is not None and tried >= 40:
                break
        if best is not None:
            return best[1], best[2]
        ground = self.ground_height(float(centre[0]), float(centre[1]), top)
        return np.array([centre[0], centre[1], ground + EYE_HEIGHT]), h0

    def _layer_semantic(self, hit: Hit) -> int:
        layer = self.layers()[hit.layer]
        return int(layer.visual.cell_semantic[hit.cell]) if hit.cell >= 0 and layer.kind != "terrain" else -1

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
        turntable = self.navigation == "turntable" and not self._walk
        if t in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            me: QMouseEvent = ev  # type: ignore[assignment]
            self._press = me.position().toPoint() if me.button() == Qt.MouseButton.LeftButton else None
            if self._walk:
                self._look_from = me.position().toPoint()
                return True
            if turntable:
                shift = bool(me.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                pan = me.button() != Qt.MouseButton.LeftButton or shift
                self._drag = (me.button(), me.position().toPoint(), pan)
                self._dragged = False
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
            if turntable:
                if self._drag is not None and self._drag[0] == me.button():
                    self._drag = None
                    if self._dragged:
                        self.cameraMoved.emit()
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
            if turntable and self._drag is not None:
                button, last, pan = self._drag
                d = pos - last
                if self._press is not None and (pos - self._press).manhattanLength() <= CLICK_TOLERANCE:
                    return True  # still a click
                self._drag = (button, pos, pan)
                self._dragged = True
                if pan:
                    self._pan_pixels(d.x(), d.y())
                    self.request_render()
                else:
                    self.orbit_pixels(d.x(), d.y())
                return True
            if me.buttons() == Qt.MouseButton.NoButton:
                self._queue_hover(pos)
        elif t == QEvent.Type.Wheel and turntable:
            we: Any = ev
            steps = we.angleDelta().y() / 120.0
            if steps:
                self.zoom_at(we.position().toPoint(), WHEEL_ZOOM**steps)
                self.cameraMoved.emit()
            return True
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
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enterPressed.emit()
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
            if ang and self.navigation == "turntable" and not self._walk:
                viewtools.turntable_orbit(cam, -ang, 0.0)  # about the vertical, horizon level
            elif ang:
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
