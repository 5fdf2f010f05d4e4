"""SceneView: a renderer with city visuals, camera presets, lights, background and overlays.

It works on a plain ``vtkRenderer`` + ``vtkRenderWindow``: its own off-screen
window for snapshots and tests, or those of a pyvista plotter / the Qt viewport
(pass ``plotter`` or ``renderer``/``render_window``: composition, not inheritance).
Not creating a pyvista ``Plotter`` for snapshots saves about 0.8 s of start-up
(pyvista's plotting package imports matplotlib) and a second renderer layer per frame.
It never renders by itself when something changes: visuals report changes through
their ``changed`` callbacks, :attr:`SceneView.needs_render` is set and
:attr:`SceneView.render_requested` listeners are told (the Qt viewport coalesces
them into one render with a zero-delay single-shot timer).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import vtkmodules.vtkRenderingFreeType  # noqa: F401  (text actors)
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (the OpenGL render window factories)
from numpy.typing import NDArray
from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

from ..model.city import CityModel
from ..model.scenefile import Camera as SceneCamera
from ..model.scenefile import View
from .effects import NO_EFFECTS, Effects, RenderEffects
from .lighting import (
    SKY_BOTTOM,
    SKY_TOP,
    CityLighting,
    SkyQuad,
    camera_direction,
    setup_background,
    setup_lights,
)
from .overlays import Legend, MapOverlays
from .viewtools import display_ray, window_image
from .visual import Callbacks, PickResult, VtkCityVisual

log = logging.getLogger(__name__)

__all__ = ["SKY_BOTTOM", "SKY_TOP", "CityLighting", "SceneView", "SkyQuad", "camera_direction", "setup_background", "setup_lights"]

class SceneView:
    """Visuals of a scene in one renderer.

    Parameters
    ----------
    plotter
        An existing pyvista plotter (e.g. a ``QtInteractor``) whose renderer and
        window to use.
    size
        Size of a new off-screen window.
    multi_samples
        MSAA samples of a new window (0 = off: software GL is 3-4x slower with MSAA).
    overlays
        Draw the north arrow and scale bar.
    sky
        Gradient sky background (a :class:`SkyQuad` drawn where the city is not);
        False gives a plain light background.
    effects
        FXAA, SSAO and the horizon sky (:class:`~citytwin.render.effects.RenderEffects`;
        default none of them, :data:`~citytwin.render.effects.NO_EFFECTS`: the viewer and
        ``citytwin render`` pass their settings); :meth:`set_effects` changes them.
    renderer, render_window
        VTK objects to use instead of a plotter or a new window.
    shadows
        The sun casts shadows (:class:`~citytwin.render.effects.ShadowPasses`); :meth:`set_shadows`.
    sun
        Unit vector towards the sun in scene axes (default: a fixed sun from the south-west,
        high); ``None`` for the sun below the horizon. :meth:`set_sun` moves it.
    depth_peeling
        Translucent layers by depth peeling (exact, slower); False: VTK's order-independent
        blending, as the window draws them (``citytwin render`` matches the window).
    """

    def __init__(
        self,
        plotter: Any | None = None,
        size: tuple[int, int] = (1920, 1080),
        multi_samples: int = 0,
        overlays: bool = True,
        sky: bool = True,
        renderer: vtkRenderer | None = None,
        render_window: vtkRenderWindow | None = None,
        effects: RenderEffects | None = None,
        shadows: bool = False,
        sun: Sequence[float] | None | str = "default",
        depth_peeling: bool = True,
    ) -> None:
        self.plotter = plotter
        self.depth_peeling = depth_peeling
        if plotter is not None:
            renderer, render_window = plotter.renderer, plotter.ren_win
        self._own_window = render_window is None
        if render_window is None:
            render_window = vtkRenderWindow()
            render_window.SetOffScreenRendering(True)
            render_window.SetMultiSamples(int(multi_samples))
            render_window.SetSize(int(size[0]), int(size[1]))
        if renderer is None:
            renderer = vtkRenderer()
            render_window.AddRenderer(renderer)
        self.renderer = renderer
        self.render_window = render_window
        self.closed = False
        self.visuals: list[VtkCityVisual] = []
        self.origin: NDArray[np.float64] | None = None
        self.needs_render = True
        self.render_requested = Callbacks()
        setup_background(renderer, sky=False)
        self.sky = SkyQuad(renderer) if sky else None
        setup_lights(renderer)
        self.lighting = CityLighting(renderer)
        self.overlays = MapOverlays(self.renderer) if overlays else None
        self.legend: Legend | None = None
        self._effects = Effects(renderer, self.sky, NO_EFFECTS if effects is None else effects, shadows=shadows)
        if not isinstance(sun, str):
            self.set_sun(sun)

    @property
    def shadows(self) -> bool:
        return self._effects.shadows

    def set_shadows(self, on: bool) -> None:
        """The sun casts shadows, or not."""
        self._effects.set_shadows(on)
        self._update_shadow_bias()
        self._request()

    def set_sun(self, towards: Sequence[float] | None) -> None:
        """Move the key light: a unit vector from the scene towards the sun (scene axes,
        z up), or ``None`` with the sun below the horizon (a dim moonlit fill)."""
        self.lighting.set_sun(towards)
        self._request()

    def _update_shadow_bias(self) -> None:
        from .effects import SHADOW_RESOLUTION
        from .lighting import shadow_bias

        self.lighting.set_shadow_bias(shadow_bias(self._effect_bounds(), SHADOW_RESOLUTION))

    @property
    def effects(self) -> RenderEffects:
        return self._effects.state

    def set_effects(self, effects: RenderEffects) -> None:
        """Turn FXAA, SSAO and the horizon sky on or off (the horizon needs the sky quad)."""
        self._effects.set(effects, self._effect_bounds())
        self._request()

    def _effect_bounds(self) -> list[float] | None:
        return [float(v) for v in self.bounds()] if self.visuals else None

    def _request(self, *_: object) -> None:
        self.needs_render = True
        self.render_requested.emit()

    # ------------------------------------------------------------ content
    def add_model(self, model: CityModel, lod: float | str = "best", color_by: str = "semantic",
                  visible: bool = True, opacity: float = 1.0, textures: bool = True) -> VtkCityVisual:
        """Add a model as one visual; the first model's origin becomes the scene origin.

        ``textures``: draw the model's textures where it has them (the visual's
        texture actors are added with its actor).
        """
        if self.origin is None:
            self.origin = np.asarray(model.origin, dtype=np.float64).copy()
        offset = np.asarray(model.origin, dtype=np.float64) - self.origin
        vis = VtkCityVisual(model, lod=lod, color_by=color_by, offset=offset, textures=textures)
        vis.set_visible(visible)
        if opacity < 1.0:
            vis.set_opacity(opacity)
        self.add_visual(vis, city=True)
        return vis

    def add_visual(self, vis: Any, city: bool = False) -> None:
        """Show a visual's actors (a :class:`~citytwin.render.layer_visuals.Stage`): ``city`` ones
        (a :class:`VtkCityVisual`) get the city lighting, count in the bounds and frame the views;
        others (sensor glyphs) are drawn as they are."""
        for actor in vis.actors():  # the coloured actor and one per texture group
            if city:
                self.lighting.apply(actor)
            self.renderer.AddActor(actor)
        vis.changed.connect(self._on_visual_changed)
        if city:
            self.visuals.append(vis)
            if self.sky is not None:
                self.sky.raise_to_top()
            if self.effects.ssao:  # its radius follows the scene's size
                self._effects.set(self.effects, self._effect_bounds())
            self._update_shadow_bias()
            self._update_translucency()
        self._request()

    def remove_visual(self, vis: Any, release: bool = True) -> None:
        """Take a visual's actors off the screen and release it (a visual's ``release`` may be
        called again by its owner)."""
        for actor in vis.actors():
            self.renderer.RemoveActor(actor)
        vis.changed.disconnect(self._on_visual_changed)
        if vis in self.visuals:
            self.visuals.remove(vis)
            self._update_translucency()
        if release:
            vis.release()
        self._request()

    def request_render(self) -> None:
        """A :class:`~citytwin.render.layer_visuals.Stage`: a frame is due."""
        self._request()

    def _on_visual_changed(self, what: str = "") -> None:
        if what == "opacity":
            self._update_translucency()
        self._effects.shadows_stale()
        self._request()

    def _update_translucency(self) -> None:
        translucent = any(v.opacity < 1.0 and v.visible for v in self.visuals)
        if translucent and self.depth_peeling:
            self.renderer.SetUseDepthPeeling(True)
            self.renderer.SetMaximumNumberOfPeels(4)
        else:
            self.renderer.SetUseDepthPeeling(False)

    # ------------------------------------------------------------ coordinates
    def to_scene(self, world: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
        """World (CRS) coordinates -> scene coordinates (relative to the scene origin)."""
        o = self.origin if self.origin is not None else np.zeros(3)
        return np.asarray(world, dtype=np.float64) - o

    def to_world(self, scene_xyz: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
        o = self.origin if self.origin is not None else np.zeros(3)
        return np.asarray(scene_xyz, dtype=np.float64) + o

    def world_to_display(self, scene_xyz: Sequence[float]) -> tuple[float, float, float]:
        """Display coordinates (x right, y up from the bottom, depth) of a scene-coordinate point."""
        r = self.renderer
        r.SetWorldPoint(float(scene_xyz[0]), float(scene_xyz[1]), float(scene_xyz[2]), 1.0)
        r.WorldToDisplay()
        x, y, z = r.GetDisplayPoint()
        return float(x), float(y), float(z)

    def bounds(self, visible_only: bool = True) -> NDArray[np.float64]:
        """``(xmin, xmax, ymin, ymax, zmin, zmax)`` of the visuals in scene coordinates."""
        bs = [v.bounds() for v in self.visuals if v.n_cells and (v.visible or not visible_only)]
        if not bs:
            return np.array([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0])
        a = np.stack(bs)
        return np.array([a[:, 0].min(), a[:, 1].max(), a[:, 2].min(), a[:, 3].max(), a[:, 4].min(), a[:, 5].max()])

    # ------------------------------------------------------------ camera
    def set_view(self, view: str | View | SceneCamera = "iso", bounds: NDArray[np.float64] | None = None) -> None:
        """Frame the data: ``"iso"`` (from the south-west, 35 degrees up), ``"top"``
        (straight down, north up, parallel projection), or a saved camera/view in
        world coordinates."""
        cam = self.renderer.GetActiveCamera()
        if isinstance(view, View):
            view = view.camera
        if isinstance(view, SceneCamera):
            cam.SetParallelProjection(False)
            cam.SetPosition(*self.to_scene(view.position))
            cam.SetFocalPoint(*self.to_scene(view.focal_point))
            cam.SetViewUp(*view.up)
            cam.SetViewAngle(view.view_angle)
            self._reset_clipping()
            self._request()
            return
        b = self.bounds() if bounds is None else np.asarray(bounds, dtype=np.float64)
        pts = self._frame_points(b if bounds is not None else None)
        name = view.lower()
        if name in ("top", "plan"):
            self._frame_top(b)
        elif name in ("iso", "overview", "south-west", "sw"):
            self._frame(pts, camera_direction(225.0, 35.0))
        elif name in ("north", "south", "east", "west"):
            az = {"north": 0.0, "east": 90.0, "south": 180.0, "west": 270.0}[name]
            self._frame(pts, camera_direction(az, 25.0))
        else:
            raise ValueError(f"unknown view {view!r} (iso, top, north, south, east, west or a saved view)")
        self._request()

    @property
    def size(self) -> tuple[int, int]:
        w, h = self.render_window.GetSize()
        return int(w), int(h)

    def _aspect(self) -> float:
        w, h = self.size
        return max(w, 1) / max(h, 1)

    def _frame_points(self, bounds: NDArray[np.float64] | None) -> NDArray[np.float64]:
        """Points to fit in the view: the drawn vertices (sampled), or the corners of ``bounds``."""
        if bounds is None:
            pts = [v.sample_points() for v in self.visuals if v.visible and v.n_cells]
            if pts:
                return np.concatenate(pts)
            bounds = self.bounds()
        b = bounds
        return np.array([[x, y, z] for x in b[0:2] for y in b[2:4] for z in b[4:6]], dtype=np.float64)

    def _frame(self, points: NDArray[np.float64], direction: NDArray[np.float64], margin: float = 1.04) -> None:
        """Perspective camera from ``direction`` that just fits ``points`` (scene coordinates)."""
        cam = self.renderer.GetActiveCamera()
        cam.SetParallelProjection(False)
        view_angle = 30.0
        cam.SetViewAngle(view_angle)
        d = direction / np.linalg.norm(direction)
        up0 = np.array([0.0, 0.0, 1.0])
        right = np.cross(-d, up0)
        right /= np.linalg.norm(right)
        up = np.cross(right, -d)
        lo, hi = points.min(axis=0), points.max(axis=0)
        centre = (lo + hi) / 2.0
        corners = points - centre
        tv = math.tan(math.radians(view_angle) / 2)
        th = tv * self._aspect()
        # solve the distance, then shift the focal point across the view so the
        # projected points are centred (a few fixed-point steps)
        xs, ys, zs = corners @ right, corners @ up, corners @ d
        sx, sy, dist = 0.0, 0.0, 1.0
        for _ in range(6):
            x, y = xs - sx, ys - sy
            dist = float(max((zs + np.abs(x) / th).max(), (zs + np.abs(y) / tv).max())) * margin
            depth = np.maximum(dist - zs, 1e-6)
            px, py = x / depth, y / depth
            sx += float(px.max() + px.min()) / 2 * dist * 0.9
            sy += float(py.max() + py.min()) / 2 * dist * 0.9
        centre = centre + right * sx + up * sy
        cam.SetFocalPoint(*centre)
        cam.SetPosition(*(centre + d * dist))
        cam.SetViewUp(*up)
        self._reset_clipping()

    def _frame_top(self, b: NDArray[np.float64], margin: float = 1.03) -> None:
        cam = self.renderer.GetActiveCamera()
        centre = np.array([(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2])
        half_w, half_h = (b[1] - b[0]) / 2, (b[3] - b[2]) / 2
        scale = max(half_h, half_w / self._aspect()) * margin
        height = max(b[5] - b[4], 1.0) + scale * 4.0
        cam.SetParallelProjection(True)
        cam.SetParallelScale(scale)
        cam.SetFocalPoint(*centre)
        cam.SetPosition(centre[0], centre[1], centre[2] + height)
        cam.SetViewUp(0.0, 1.0, 0.0)
        self._reset_clipping()

    def _reset_clipping(self) -> None:
        if self.plotter is not None:
            self.plotter.camera_set = True  # keep pyvista from resetting our camera on first render
        self.renderer.ResetCameraClippingRange()

    def camera(self) -> SceneCamera:
        """The current camera in world coordinates (for saving views)."""
        cam = self.renderer.GetActiveCamera()
        def r(v: Any) -> tuple[float, float, float]:
            return (round(float(v[0]), 3), round(float(v[1]), 3), round(float(v[2]), 3))

        return SceneCamera(position=r(self.to_world(cam.GetPosition())),
                           focal_point=r(self.to_world(cam.GetFocalPoint())),
                           up=r(cam.GetViewUp()), view_angle=float(cam.GetViewAngle()))

    def orbit(self, degrees: float) -> None:
        """Rotate the camera about the vertical axis through the focal point."""
        self.renderer.GetActiveCamera().Azimuth(degrees)
        self._reset_clipping()
        self._request()

    # ------------------------------------------------------------ legend
    def show_legend(self, vis: VtkCityVisual | None = None, max_entries: int = 12) -> bool:
        """Draw the legend of ``vis`` (default: the first visual) in the upper left; False if none."""
        vis = vis or (self.visuals[0] if self.visuals else None)
        if vis is None or vis.styling.kind == "semantic":
            if self.legend is not None:
                self.legend.set_entries("", [])
            return False
        if self.legend is None:
            self.legend = Legend(self.renderer)
        entries = [(e.label, (int(e.rgba[0]), int(e.rgba[1]), int(e.rgba[2])))
                   for e in vis.styling.legend[:max_entries]]
        self.legend.set_entries(vis.styling.mode, entries)
        self._request()
        return True

    # ------------------------------------------------------------ picking
    def pick(self, x: float, y: float) -> tuple[VtkCityVisual, PickResult] | None:
        """Nearest visible object under display pixel ``(x, y)`` (origin bottom-left)."""
        p0, p1 = display_ray(self.renderer, x, y)
        best: tuple[VtkCityVisual, PickResult] | None = None
        for v in self.visuals:
            hit = v.pick_ray(p0, p1)
            if hit and (best is None or hit.t < best[1].t):
                best = (v, hit)
        return best

    # ------------------------------------------------------------ output
    def render(self) -> None:
        """Draw one frame now."""
        self._reset_clipping()
        self.render_window.Render()
        self.needs_render = False

    def screenshot(self, path: str | Path | None = None) -> NDArray[np.uint8]:
        """Render and return the image ``(h, w, 3)`` (row 0 at the top); also write a PNG when ``path`` is given."""
        self.render()
        img = window_image(self.render_window, rerender=False)
        if path is not None:
            from PIL import Image

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(str(path))
        return img

    def close(self) -> None:
        """Release visuals and overlays and, when this view created it, the window."""
        if self.closed:
            return
        for v in list(self.visuals):
            self.renderer.RemoveActor(v.actor)
            v.release()
        self.visuals.clear()
        self.lighting.remove()
        self._effects.remove()
        if self.sky is not None:
            self.sky.remove()
            self.sky = None
        if self.overlays is not None:
            self.overlays.remove()
            self.overlays = None
        if self.legend is not None:
            self.legend.remove()
            self.legend = None
        self.render_requested = Callbacks()
        if self._own_window:
            self.render_window.RemoveRenderer(self.renderer)
            self.render_window.Finalize()
        self.closed = True

    def __enter__(self) -> SceneView:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def models_origin(models: Iterable[CityModel]) -> NDArray[np.float64] | None:
    """The origin of the first model (the scene origin), or None."""
    for m in models:
        return np.asarray(m.origin, dtype=np.float64)
    return None
