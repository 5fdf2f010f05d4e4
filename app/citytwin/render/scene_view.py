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
from vtkmodules.vtkRenderingCore import vtkLight, vtkRenderer, vtkRenderWindow

from ..model.city import CityModel
from ..model.scenefile import Camera as SceneCamera
from ..model.scenefile import View
from .effects import NO_EFFECTS, Effects, RenderEffects
from .overlays import Legend, MapOverlays
from .textures import check_gl
from .viewtools import window_image
from .visual import Callbacks, PickResult, VtkCityVisual, display_ray

log = logging.getLogger(__name__)

__all__ = ["SKY_BOTTOM", "SKY_TOP", "CityLighting", "SceneView", "SkyQuad", "camera_direction", "setup_background", "setup_lights"]

SKY_TOP = (0.50, 0.66, 0.84)
SKY_BOTTOM = (0.90, 0.93, 0.96)


def camera_direction(azimuth_deg: float, elevation_deg: float) -> NDArray[np.float64]:
    """Unit vector from the focal point towards the camera; azimuth is the compass
    bearing the camera stands at (225 = south-west), elevation above the horizon."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return np.array([math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el)])


SUN_AZIMUTH_ELEVATION = (215.0, 50.0)
SUN_INTENSITY = 0.8
HEAD_INTENSITY = 0.38

# The city actors' lighting, replacing VTK's generic per-light loop: the same sun and
# headlight, diffuse only. VTK's loop computes a specular term with pow() per light
# per fragment; with software OpenGL (llvmpipe) the two lights cost about a quarter
# of the frame. The sun's direction in view coordinates is a custom uniform updated
# before each render, so the shader does not depend on the renderer's lights.
_CITY_LIGHT_IMPL = """
  float dfSun = max(0.0, dot(normalVCVSOutput, -citySunVC));
  float dfHead = max(0.0, normalVCVSOutput.z);
  fragOutput0 = vec4(ambientColor + (dfSun * citySunIntensity + dfHead * cityHeadIntensity) * diffuseColor,
                     opacity);
  //VTK::SSAO::Impl
"""  # this replaces //VTK::Light::Impl before vtkSSAOPass adds its tag after it: the tag is kept by hand


def setup_lights(renderer: vtkRenderer) -> None:
    """A sun from the south-west, high, fixed in the scene, and a headlight as fill.

    Two lights only: with software OpenGL every light costs per pixel, and the
    headlight lights whatever faces the camera, as a fixed fill light would. The Qt
    viewport should call this too, so that the window and snapshots look alike.
    City actors added through :class:`SceneView` use a cheaper shader with the same
    two lights (see :class:`CityLighting`); other actors use these VTK lights.
    """
    renderer.AutomaticLightCreationOff()
    renderer.RemoveAllLights()
    sun = vtkLight()
    sun.SetLightTypeToSceneLight()
    sun.PositionalOff()
    sun.SetPosition(*camera_direction(*SUN_AZIMUTH_ELEVATION))
    sun.SetFocalPoint(0.0, 0.0, 0.0)
    sun.SetIntensity(SUN_INTENSITY)
    head = vtkLight()
    head.SetLightTypeToHeadlight()
    head.SetIntensity(HEAD_INTENSITY)
    renderer.AddLight(sun)
    renderer.AddLight(head)
    renderer.SetTwoSidedLighting(True)


class CityLighting:
    """One shader property shared by a renderer's city actors: sun + headlight, diffuse only.

    Looks like :func:`setup_lights` with the visual's material (ambient 0.3, diffuse
    0.78) minus its faint specular highlight (0.04), at about the cost of one VTK light.
    The sun direction in view coordinates is updated from the camera at each
    renderer ``StartEvent``.
    """

    def __init__(self, renderer: vtkRenderer, sun_direction: Sequence[float] | None = None,
                 sun_intensity: float = SUN_INTENSITY, head_intensity: float = HEAD_INTENSITY) -> None:
        from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLShaderProperty

        self.renderer = renderer
        d = np.asarray(sun_direction if sun_direction is not None else camera_direction(*SUN_AZIMUTH_ELEVATION),
                       dtype=np.float64)
        self.sun_towards = d / np.linalg.norm(d)  # world direction towards the sun
        self.shader_property = vtkOpenGLShaderProperty()
        self.shader_property.AddFragmentShaderReplacement("//VTK::Light::Impl", True, _CITY_LIGHT_IMPL, False)
        # VTK's fragment shader discards fragments with alpha <= 0; a shader that may
        # discard gets no early depth write in llvmpipe, so hidden surfaces are shaded.
        # The city's colours are RGB (alpha 1): alpha is the actor's opacity, and a
        # visual with opacity 0 hides its actor instead (VtkCityVisual.set_opacity).
        self.shader_property.AddFragmentShaderReplacement("discard;", True, "", True)
        self.uniforms = self.shader_property.GetFragmentCustomUniforms()
        self.uniforms.SetUniformf("citySunIntensity", float(sun_intensity))
        self.uniforms.SetUniformf("cityHeadIntensity", float(head_intensity))
        self.update()
        self._gl_checked = False
        self._tag = renderer.AddObserver("StartEvent", lambda *_: self._on_start())  # type: ignore[call-overload,arg-type]

    def _on_start(self) -> None:
        if not self._gl_checked:  # the first frame, context current: texture filtering for this GL
            self._gl_checked = True
            win = self.renderer.GetRenderWindow()
            if win is not None:
                check_gl(win)
        self.update()

    def apply(self, actor: Any) -> None:
        """Light ``actor`` with this shader (no specular). A city layer's texture actors get
        it too (:meth:`VtkCityVisual.actors`), so textured and untextured walls are lit alike
        (the texture multiplies the lit white surface)."""
        actor.SetShaderProperty(self.shader_property)
        actor.GetProperty().SetSpecular(0.0)

    def update(self) -> None:
        """Sun direction (light travelling towards the scene) in view coordinates."""
        m = self.renderer.GetActiveCamera().GetViewTransformMatrix()
        rot = np.array([[m.GetElement(i, j) for j in range(3)] for i in range(3)])
        vc = rot @ (-self.sun_towards)
        self.uniforms.SetUniform3f("citySunVC", [float(v) for v in vc])

    def remove(self) -> None:
        self.renderer.RemoveObserver(self._tag)


def setup_background(renderer: vtkRenderer, sky: bool = True) -> None:
    """Gradient sky (light haze at the horizon, blue above) or a plain light background.

    This is VTK's gradient background: a full-screen pass before the scene. :class:`SceneView`
    draws the same gradient with :class:`SkyQuad` instead, only where nothing else is drawn.
    """
    renderer.SetBackground(*SKY_BOTTOM)
    renderer.SetBackground2(*SKY_TOP)
    renderer.SetGradientBackground(bool(sky))


_SKY_VS_POSITION = """
  gl_Position = vec4(vertexMC.xy, 1.0, 1.0);
"""


class SkyQuad:
    """The sky gradient as an opaque full-screen quad on the far plane (depth 1.0).

    It looks like VTK's gradient background (:func:`setup_background`: ``bottom`` at the
    bottom edge, ``top`` at the top edge, linear in between) but passes the depth test
    only where nothing nearer was drawn. Drawn after the city (the renderer's last
    opaque prop, see :meth:`raise_to_top`), the pixels the city covers are rejected by
    the early depth test instead of shaded first and overdrawn: with software OpenGL
    VTK's gradient pass costs ~13 % of a frame at 1280x800. The renderer itself clears
    to ``bottom``. The quad has no bounds (camera framing and clipping ignore it) and
    is not pickable.
    """

    def __init__(self, renderer: vtkRenderer, bottom: Sequence[float] = SKY_BOTTOM,
                 top: Sequence[float] = SKY_TOP) -> None:
        from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
        from vtkmodules.vtkCommonCore import vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper
        from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLShaderProperty

        self.renderer = renderer
        pts = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], dtype=np.float32)
        rgb = np.rint(np.array([bottom, bottom, top, top], dtype=np.float64) * 255).astype(np.uint8)
        pd = vtkPolyData()
        vp = vtkPoints()
        vp.SetData(numpy_to_vtk(pts, deep=True))
        pd.SetPoints(vp)
        ca = vtkCellArray()
        ca.SetData(numpy_to_vtkIdTypeArray(np.array([0, 3, 6], np.int64), deep=True),
                   numpy_to_vtkIdTypeArray(np.array([0, 1, 2, 0, 2, 3], np.int64), deep=True))
        pd.SetPolys(ca)
        colors = numpy_to_vtk(rgb, deep=True)
        colors.SetName("sky")
        pd.GetPointData().SetScalars(colors)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(pd)
        mapper.SetColorModeToDirectScalars()
        mapper.SetScalarModeToUsePointData()
        mapper.ScalarVisibilityOn()
        sp = vtkOpenGLShaderProperty()
        sp.AddVertexShaderReplacement("//VTK::PositionVC::Impl", True, _SKY_VS_POSITION, False)
        sp.AddFragmentShaderReplacement("discard;", True, "", True)  # opaque: keep early depth writes
        self.actor = vtkActor()
        self.actor.SetMapper(mapper)
        self.actor.SetShaderProperty(sp)
        self.actor.SetUseBounds(False)
        self.actor.PickableOff()
        prop = self.actor.GetProperty()
        prop.LightingOff()
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        prop.SetSpecular(0.0)
        self._polydata = pd
        renderer.SetGradientBackground(False)
        renderer.SetBackground(*bottom)
        renderer.AddActor(self.actor)

    def raise_to_top(self) -> None:
        """Make the quad the last actor drawn (call after adding actors)."""
        self.renderer.RemoveActor(self.actor)
        self.renderer.AddActor(self.actor)

    def remove(self) -> None:
        self.renderer.RemoveActor(self.actor)


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
    ) -> None:
        self.plotter = plotter
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
        self._effects = Effects(renderer, self.sky, NO_EFFECTS if effects is None else effects)

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
        for actor in vis.actors():  # the coloured actor and one per texture group
            self.lighting.apply(actor)
            self.renderer.AddActor(actor)
        vis.set_visible(visible)
        if opacity < 1.0:
            vis.set_opacity(opacity)
        vis.changed.connect(self._on_visual_changed)
        self.visuals.append(vis)
        if self.sky is not None:
            self.sky.raise_to_top()
        if self.effects.ssao:  # its radius follows the scene's size
            self._effects.set(self.effects, self._effect_bounds())
        self._request()
        return vis

    def remove_visual(self, vis: VtkCityVisual) -> None:
        self.renderer.RemoveActor(vis.actor)
        self.visuals.remove(vis)
        vis.release()
        self._request()

    def _on_visual_changed(self, what: str = "") -> None:
        if what == "opacity":
            self._update_translucency()
        self._request()

    def _update_translucency(self) -> None:
        translucent = any(v.opacity < 1.0 and v.visible for v in self.visuals)
        if translucent:
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
