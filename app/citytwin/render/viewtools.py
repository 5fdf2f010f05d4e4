"""VTK helpers for the interactive viewport: renderer set-up, camera presets, rays
through the screen, window snapshots at a magnification, measurement overlays.

Part of ``render/`` (the only package that imports VTK) so that ``qt/`` needs no
VTK beyond the widget that hosts the render window.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import vtkmodules.vtkInteractionStyle  # noqa: F401  (registers the interactor styles)
import vtkmodules.vtkRenderingFreeType  # noqa: F401  (text actors)
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (the OpenGL backend)
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkBillboardTextActor3D,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkWindowToImageFilter,
)

from .lighting import CityLighting, SkyQuad, camera_direction, setup_background, setup_lights

__all__ = [
    "make_renderer", "CityScene", "trackball_style", "display_ray", "camera_state", "apply_camera_state",
    "view_preset", "turntable_orbit", "zoom_about", "interpolate_camera", "window_image", "MeasureOverlay",
]

def make_renderer() -> vtkRenderer:
    """A renderer lit and cleared like the off-screen :class:`~citytwin.render.scene_view.SceneView`
    (sun + headlight, light haze background); add :class:`CityScene` for the sky and the
    cheap city lighting, so the window and snapshots look alike."""
    ren = vtkRenderer()
    setup_background(ren, sky=False)
    setup_lights(ren)
    ren.SetUseFXAA(False)
    ren.GetActiveCamera().SetViewUp(0, 0, 1)
    return ren


class CityScene:
    """The sky quad and the city lighting of one renderer (see ``scene_view``)."""

    def __init__(self, renderer: vtkRenderer, sky: bool = True) -> None:
        self.renderer = renderer
        self.sky = SkyQuad(renderer) if sky else None
        self.lighting = CityLighting(renderer)

    def add_city_actor(self, actor: Any) -> None:
        """Light ``actor`` with the city shader and keep the sky drawn after it."""
        self.lighting.apply(actor)
        self.renderer.AddActor(actor)
        if self.sky is not None:
            self.sky.raise_to_top()

    def remove(self) -> None:
        self.lighting.remove()
        if self.sky is not None:
            self.sky.remove()


def make_overlay_renderer(main: vtkRenderer) -> vtkRenderer:
    """A renderer in layer 1 that shares ``main``'s camera: what it draws is never hidden
    by the city (measurement lines, labels)."""
    ren = vtkRenderer()
    ren.SetLayer(1)
    ren.SetActiveCamera(main.GetActiveCamera())
    ren.InteractiveOff()
    ren.SetPreserveColorBuffer(True)
    ren.SetPreserveDepthBuffer(False)
    return ren


def trackball_style() -> vtkInteractorStyleTrackballCamera:
    """Orbit (left), pan (middle / shift-left), zoom (right / wheel)."""
    style = vtkInteractorStyleTrackballCamera()
    style.SetMotionFactor(8.0)
    return style


def display_ray(renderer: vtkRenderer, x: float, y: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """World points on the near and far clipping planes under display pixel ``(x, y)``
    (VTK display coordinates: origin bottom-left, physical pixels)."""
    out = []
    for z in (0.0, 1.0):
        renderer.SetDisplayPoint(float(x), float(y), z)
        renderer.DisplayToWorld()
        w = renderer.GetWorldPoint()
        out.append(np.array(w[:3], dtype=np.float64) / (w[3] if w[3] else 1.0))
    return out[0], out[1]


def world_to_display(renderer: vtkRenderer, p: NDArray[np.float64]) -> tuple[float, float, float]:
    """Display coordinates (x, y from bottom-left, depth) of world point ``p``."""
    renderer.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
    renderer.WorldToDisplay()
    return tuple(renderer.GetDisplayPoint())  # type: ignore[return-value]


def camera_state(renderer: vtkRenderer) -> dict[str, Any]:
    """Position, focal point, view-up and view angle of the active camera (scene-relative)."""
    cam = renderer.GetActiveCamera()
    return {
        "position": list(cam.GetPosition()),
        "focal_point": list(cam.GetFocalPoint()),
        "view_up": list(cam.GetViewUp()),
        "view_angle": float(cam.GetViewAngle()),
    }


def apply_camera_state(renderer: vtkRenderer, state: dict[str, Any], reset_clipping: bool = True) -> None:
    cam = renderer.GetActiveCamera()
    cam.SetPosition(*state["position"])
    cam.SetFocalPoint(*state["focal_point"])
    cam.SetViewUp(*state["view_up"])
    if "view_angle" in state:
        cam.SetViewAngle(float(state["view_angle"]))
    if reset_clipping:
        renderer.ResetCameraClippingRange()


def view_preset(bounds: NDArray[np.float64], name: str, view_angle: float = 30.0,
                aspect: float = 1.0, fill: float = 0.94,
                points: NDArray[np.float64] | None = None) -> dict[str, Any]:
    """Camera state framing the box ``bounds`` ``(2, 3)`` from ``name``: ``iso``/``reset``
    (from the south-west, 35 degrees up), ``top`` (straight down, north up) or
    ``north``/``south``/``east``/``west``. ``aspect`` is the window's width / height.

    The box's *projection* is fitted, not a sphere around it: the camera stands as close as
    the eight corners allow, and is shifted sideways so that the projected box is centred
    (perspective makes the near corners larger), filling ``fill`` of the tighter window
    axis. With ``points`` (the drawn vertices, sampled) those are fitted instead of the
    corners: a city's box is emptier than the city. The focal point is on the view axis,
    at the height of the box centre (at its depth for views near the horizontal)."""
    lo, hi = np.asarray(bounds, dtype=np.float64)
    presets = {"iso": (225.0, 35.0), "reset": (225.0, 35.0), "top": (180.0, 89.9),
               "south": (180.0, 25.0), "north": (0.0, 25.0), "east": (90.0, 25.0), "west": (270.0, 25.0)}
    if name not in presets:
        raise ValueError(f"unknown view {name!r}: one of {', '.join(sorted(presets))}")
    d = camera_direction(*presets[name])
    d /= np.linalg.norm(d)
    up0 = np.array([0.0, 1.0, 0.0]) if name == "top" else np.array([0.0, 0.0, 1.0])
    right = np.cross(-d, up0)
    right /= np.linalg.norm(right)
    up = np.cross(right, -d)
    centre = (lo + hi) / 2.0
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]) - centre
    if points is not None and len(points):
        corners = np.asarray(points, dtype=np.float64).reshape(-1, 3) - centre
    tv = math.tan(math.radians(view_angle) / 2.0) * fill
    th = math.tan(math.radians(view_angle) / 2.0) * max(aspect, 1e-3) * fill
    # corners in the camera's frame: x right, y up, z depth along the viewing direction
    xs, ys, zs = corners @ right, corners @ up, corners @ -d
    # camera at a*right + b*up + c*(-d): a corner is inside while |x - a| <= t (z - c);
    # the camera's depth c is tight on both sides of an axis when a = (B - A) t / 2
    a_h, b_h = (zs - xs / th).min(), (zs + xs / th).min()
    a_v, b_v = (zs - ys / tv).min(), (zs + ys / tv).min()
    c = float(min((a_h + b_h) / 2.0, (a_v + b_v) / 2.0))
    x = float((b_h - a_h) * th / 2.0)
    y = float((b_v - a_v) * tv / 2.0)
    # (on the looser axis the same shift leaves equal room on both sides)
    c = min(c, -1.0)  # at least a metre before the centre
    position = centre + right * x + up * y - (-d) * -c
    focal = position + (-d) * (-c)
    if d[2] > 0.2:  # looking down: turn about where the view axis meets the centre's height, not below it
        focal = position + (-d) * ((position[2] - centre[2]) / d[2])
    return {
        "position": position.tolist(),
        "focal_point": focal.tolist(),
        "view_up": up.tolist(),
        "view_angle": view_angle,
    }


def turntable_orbit(camera: Any, d_azimuth: float, d_elevation: float,
                    min_elevation: float = 0.0, max_elevation: float = 89.5) -> None:
    """Turn ``camera`` about the vertical axis through its focal point by ``d_azimuth``
    degrees (counter-clockwise seen from above) and raise it by ``d_elevation`` degrees,
    the elevation clamped to ``[min_elevation, max_elevation]`` so that the view never
    flips over a pole. The view-up becomes the world's +z: the horizon stays level."""
    fp = np.asarray(camera.GetFocalPoint(), dtype=np.float64)
    v = np.asarray(camera.GetPosition(), dtype=np.float64) - fp
    r = float(np.linalg.norm(v))
    if r <= 0:
        return
    horiz = float(np.hypot(v[0], v[1]))
    if horiz < 1e-6 * r:  # straight above: the camera stands opposite to where the screen's up points
        vu = np.asarray(camera.GetViewUp(), dtype=np.float64)
        az = math.atan2(-vu[1], -vu[0]) if np.hypot(vu[0], vu[1]) > 1e-9 else -math.pi / 2
    else:
        az = math.atan2(v[1], v[0])
    el = math.atan2(v[2], horiz)
    az += math.radians(d_azimuth)
    el = min(max(el + math.radians(d_elevation), math.radians(min_elevation)), math.radians(max_elevation))
    nv = r * np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    camera.SetPosition(*(fp + nv))
    camera.SetViewUp(0.0, 0.0, 1.0)


def zoom_about(camera: Any, point: NDArray[np.float64], factor: float, min_distance: float = 1.0) -> None:
    """Zoom by ``factor`` (> 1: closer) towards ``point``: camera and focal point are scaled
    about it, so ``point`` stays under the same pixel; the camera stops ``min_distance``
    before it."""
    p = np.asarray(point, dtype=np.float64)
    pos = np.asarray(camera.GetPosition(), dtype=np.float64)
    fp = np.asarray(camera.GetFocalPoint(), dtype=np.float64)
    dist = float(np.linalg.norm(pos - p))
    if dist <= 0 or factor <= 0:
        return
    factor = min(factor, max(dist / min_distance, 1.0)) if factor > 1 else factor
    camera.SetPosition(*(p + (pos - p) / factor))
    camera.SetFocalPoint(*(p + (fp - p) / factor))


def interpolate_camera(a: dict[str, Any], b: dict[str, Any], t: float) -> dict[str, Any]:
    """Camera between states ``a`` and ``b`` at ``t`` in [0, 1] (smooth-step eased)."""
    s = t * t * (3.0 - 2.0 * t)
    out: dict[str, Any] = {}
    for key in ("position", "focal_point", "view_up"):
        va, vb = np.asarray(a[key], float), np.asarray(b[key], float)
        out[key] = (va + (vb - va) * s).tolist()
    up = np.asarray(out["view_up"])
    if np.linalg.norm(up) < 1e-9:
        out["view_up"] = b["view_up"]
    out["view_angle"] = a.get("view_angle", 30.0) + (b.get("view_angle", 30.0) - a.get("view_angle", 30.0)) * s
    return out


def window_image(render_window: Any, scale: int = 1, rerender: bool = True) -> NDArray[np.uint8]:
    """The frame as an ``(H, W, 3)`` uint8 array (top row first); with ``scale > 1`` the
    scene is re-rendered in tiles at ``scale`` times the window size. ``rerender=False``
    reads the frame just rendered as it is."""
    w2i = vtkWindowToImageFilter()
    w2i.SetInput(render_window)
    w2i.SetScale(int(scale), int(scale))
    w2i.SetInputBufferTypeToRGB()
    w2i.ReadFrontBufferOff()
    w2i.SetShouldRerender(bool(rerender or scale > 1))
    w2i.Update()
    img = w2i.GetOutput()
    nx, ny, _ = img.GetDimensions()
    arr = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(ny, nx, -1)
    return np.ascontiguousarray(arr[::-1, :, :3])


class MeasureOverlay:
    """One measurement drawn in the scene: a polyline through the points, the points
    as large dots and a label at the end. Scene-relative coordinates."""

    def __init__(self, renderer: vtkRenderer, color: tuple[float, float, float] = (0.95, 0.25, 0.1)) -> None:
        self.renderer = renderer
        self.poly = vtkPolyData()
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetInputData(self.poly)
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        prop = self.actor.GetProperty()
        prop.SetColor(*color)
        prop.SetLineWidth(3.0)
        prop.SetPointSize(9.0)
        prop.RenderPointsAsSpheresOn()
        prop.SetRenderLinesAsTubes(True)
        prop.LightingOff()
        self.label = vtkBillboardTextActor3D()
        tp = self.label.GetTextProperty()
        tp.SetFontSize(16)
        tp.SetColor(1, 1, 1)
        tp.SetBackgroundColor(0.1, 0.1, 0.12)
        tp.SetBackgroundOpacity(0.8)
        tp.SetFrame(True)
        tp.SetFrameColor(*color)
        tp.BoldOn()
        self.label.SetVisibility(False)
        # a translucent fill for areas
        self.fill_poly = vtkPolyData()
        fill_mapper = vtkPolyDataMapper()
        fill_mapper.SetInputData(self.fill_poly)
        self.fill = vtkActor()
        self.fill.SetMapper(fill_mapper)
        self.fill.GetProperty().SetColor(*color)
        self.fill.GetProperty().SetOpacity(0.3)
        self.fill.GetProperty().LightingOff()
        renderer.AddActor(self.fill)
        # keep overlays visible through buildings they measure
        self.mapper.SetResolveCoincidentTopologyToPolygonOffset()
        renderer.AddActor(self.actor)
        renderer.AddActor(self.label)

    def set_points(self, points: NDArray[np.float64], closed: bool = False, label: str = "") -> None:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        vp = vtkPoints()
        vp.SetNumberOfPoints(len(pts))
        for i, p in enumerate(pts):
            vp.SetPoint(i, *p)
        verts = vtkCellArray()
        for i in range(len(pts)):
            verts.InsertNextCell(1)
            verts.InsertCellPoint(i)
        lines = vtkCellArray()
        if len(pts) >= 2:
            ids = list(range(len(pts))) + ([0] if closed and len(pts) > 2 else [])
            lines.InsertNextCell(len(ids))
            for i in ids:
                lines.InsertCellPoint(i)
        self.poly.SetPoints(vp)
        self.poly.SetVerts(verts)
        self.poly.SetLines(lines)
        self.poly.Modified()
        polys = vtkCellArray()
        if closed and len(pts) >= 3:
            polys.InsertNextCell(len(pts))
            for i in range(len(pts)):
                polys.InsertCellPoint(i)
        self.fill_poly.SetPoints(vp)
        self.fill_poly.SetPolys(polys)
        self.fill_poly.Modified()
        if label and len(pts):
            anchor = pts.mean(axis=0) if closed else pts[-1]
            self.label.SetPosition(*anchor)
            self.label.SetInput(label)
            self.label.SetVisibility(True)
        else:
            self.label.SetVisibility(False)

    def remove(self) -> None:
        self.renderer.RemoveActor(self.actor)
        self.renderer.RemoveActor(self.label)
        self.renderer.RemoveActor(self.fill)

