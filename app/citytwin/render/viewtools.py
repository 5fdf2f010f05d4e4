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

__all__ = [
    "make_renderer", "CityScene", "trackball_style", "display_ray", "camera_state", "apply_camera_state",
    "view_preset", "interpolate_camera", "window_image", "MeasureOverlay",
]

def make_renderer() -> vtkRenderer:
    """A renderer lit and cleared like the off-screen :class:`~citytwin.render.scene_view.SceneView`
    (sun + headlight, light haze background); add :class:`CityScene` for the sky and the
    cheap city lighting, so the window and snapshots look alike."""
    from .scene_view import setup_background, setup_lights

    ren = vtkRenderer()
    setup_background(ren, sky=False)
    setup_lights(ren)
    ren.SetUseFXAA(False)
    ren.GetActiveCamera().SetViewUp(0, 0, 1)
    return ren


class CityScene:
    """The sky quad and the city lighting of one renderer (see ``scene_view``)."""

    def __init__(self, renderer: vtkRenderer, sky: bool = True) -> None:
        from .scene_view import CityLighting, SkyQuad

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
                aspect: float = 1.0, margin: float = 1.05) -> dict[str, Any]:
    """Camera state framing the box ``bounds`` ``(2, 3)`` from ``name``: ``iso``/``reset``
    (from the south-west, 35 degrees up), ``top`` (straight down, north up) or
    ``north``/``south``/``east``/``west``. ``aspect`` is the window's width / height: the
    distance is the smallest at which all eight box corners are inside the view."""
    from .scene_view import camera_direction

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
    tv = math.tan(math.radians(view_angle) / 2.0)
    th = tv * max(aspect, 1e-3)
    xs, ys, zs = corners @ right, corners @ up, corners @ d
    dist = float(max((zs + np.abs(xs) / th).max(), (zs + np.abs(ys) / tv).max(), 1.0)) * margin
    return {
        "position": (centre + d * dist).tolist(),
        "focal_point": centre.tolist(),
        "view_up": up.tolist(),
        "view_angle": view_angle,
    }


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

