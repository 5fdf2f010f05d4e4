"""Headless snapshots: render models to a PNG off-screen."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.city import CityModel
from ..model.scenefile import Camera, SceneFile, View
from ..model.viewer import ViewerModel
from .effects import DEFAULT_EFFECTS, RenderEffects
from .overlays import Legend
from .scene_view import SceneView
from .viewtools import window_image

log = logging.getLogger(__name__)

__all__ = ["MAX_RENDER_SIZE", "offscreen_available", "render_magnified", "render_to_image", "render_viewer"]

MAX_RENDER_SIZE = 16384  # pixels a side an off-screen frame may have (GL_MAX_RENDERBUFFER_SIZE of llvmpipe)


def render_to_image(
    models: CityModel | Sequence[CityModel],
    out_png: str | Path,
    size: tuple[int, int] = (1920, 1080),
    view: str | View | Camera = "iso",
    color_by: str | None = None,
    lod: float | str = "best",
    scene: SceneFile | None = None,
    multi_samples: int = 0,
    overlays: bool = True,
    legend: bool = True,
    textures: bool | Sequence[bool] = True,
    effects: RenderEffects = DEFAULT_EFFECTS,
    shadows: bool = False,
    sun: Sequence[float] | None | str = "default",
) -> Path:
    """Render models off-screen to ``out_png``.

    Parameters
    ----------
    models
        One model or several sharing a CRS (the first one's origin is the scene origin).
    out_png
        Output image path.
    size
        ``(width, height)`` in pixels.
    view
        ``"iso"`` (from the south-west, 35 degrees up), ``"top"`` (straight down,
        north up), another preset (``north``/``south``/``east``/``west``), the name
        of a view saved in ``scene``, or a camera.
    color_by
        ``"semantic"`` (default) or an attribute name.
    lod
        ``"best"``, ``"lowest"`` or a LoD number.
    scene
        A scene file whose saved views ``view`` may name.
    multi_samples
        MSAA samples (0 = off, the default: much faster with software GL).
    overlays
        Draw the north arrow and the scale bar.
    legend
        Draw the legend of a thematic colouring (``color_by`` an attribute).
    textures
        Draw the images of textured surfaces (one flag for all models, or one per model).
    effects
        FXAA, SSAO and the horizon sky (:mod:`citytwin.render.effects`).
    shadows
        The sun casts shadows.
    sun
        Unit vector towards the sun in scene axes, ``None`` for the sun below the horizon,
        or ``"default"``: a fixed sun from the south-west, high.

    Returns
    -------
    Path
        ``out_png``.
    """
    if isinstance(models, CityModel):
        models = [models]
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sv = SceneView(size=size, multi_samples=multi_samples, overlays=overlays, effects=effects, shadows=shadows,
                   sun=sun)
    try:
        flags = [textures] * len(models) if isinstance(textures, bool) else list(textures)
        for m, tex in zip(models, flags):
            sv.add_model(m, lod=lod, color_by=color_by or "semantic", textures=bool(tex))
        if isinstance(view, str) and scene is not None and scene.view(view) is not None:
            view = scene.view(view)  # type: ignore[assignment]
        sv.set_view(view)  # type: ignore[arg-type]
        if legend:
            sv.show_legend()
        sv.screenshot(str(out))
    finally:
        sv.close()
    log.info("rendered %s (%dx%d) in %.2f s", out, size[0], size[1], time.perf_counter() - t0)
    return out


def render_viewer(
    viewer: ViewerModel,
    out_png: str | Path,
    size: tuple[int, int] = (1920, 1080),
    view: str | View | Camera = "iso",
    multi_samples: int = 0,
    overlays: bool = True,
    legend: bool = True,
    effects: RenderEffects = DEFAULT_EFFECTS,
    shadows: bool = False,
    sun: Sequence[float] | None | str = "default",
) -> Path:
    """Render a viewer model off-screen to ``out_png``, as the window draws it: every layer
    through the visual registry (:mod:`citytwin.render.layer_visuals`: per-layer visibility,
    opacity, colours, LoD and textures, the terrain split off its model, sensor layers at the
    clock's time, stood on the ground), the legend of the first layer coloured by an attribute
    and the colour bar of the first visible sensor layer.

    ``view``: a preset (``iso``, ``top``, ``north``…), the name of one of the viewer's saved
    views, or a camera (world coordinates). Other parameters as :func:`render_to_image`.
    """
    from .layer_visuals import LayerVisuals

    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sv = SceneView(size=size, multi_samples=multi_samples, overlays=overlays, effects=effects, shadows=shadows,
                   sun=sun, depth_peeling=False)  # translucent layers blended as in the window
    visuals = None
    try:
        if viewer.scene.origin is not None:
            sv.origin = np.asarray(viewer.scene.origin, dtype=np.float64).copy()
        visuals = LayerVisuals(viewer, sv)
        for lid, why in visuals.failed.items():
            from ..core.errors import CityTwinError

            raise CityTwinError(f"layer {viewer.layer(lid).name!r}: {why}")
        visuals.set_time(viewer.clock.time())  # sensors placed on the drawn ground, at the clock's time
        if isinstance(view, str) and viewer.view(view) is not None:
            view = viewer.view(view)  # type: ignore[assignment]
        sv.set_view(view)  # type: ignore[arg-type]
        if legend:
            title, entries = visuals.legend()
            if entries:
                sv.legend = sv.legend or Legend(sv.renderer)
                sv.legend.set_entries(title, entries)
            visuals.show_sensor_legend()
        sv.screenshot(str(out))
    finally:
        if visuals is not None:
            visuals.close()
        sv.close()
    log.info("rendered %s (%dx%d) in %.2f s", out, size[0], size[1], time.perf_counter() - t0)
    return out


def offscreen_available() -> tuple[bool, str]:
    """Whether off-screen OpenGL rendering works here, and why not."""
    try:
        sv = SceneView(size=(64, 48), overlays=False)
        try:
            img = sv.screenshot()
        finally:
            sv.close()
        if img is None or img.shape[:2] != (48, 64):
            return False, "off-screen render returned no image"
        if not img.any():
            return False, "off-screen render returned a black image"
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any GL failure means "no"
        return False, f"off-screen OpenGL failed: {exc}"


def render_magnified(render_window: Any, scale: int) -> NDArray[np.uint8]:
    """The picture of ``render_window`` at ``scale`` times its size, ``(H, W, 3)`` top row first.

    Its renderers are moved for one frame into an off-screen window of the larger size and
    back, so the frame is drawn once, whole: VTK's tiled magnification (``vtkWindowToImageFilter``
    scale) draws each tile with the full sky gradient and the screen overlays (seams halfway
    down, a compass per tile). Graphics resources are made again in each window (a re-upload
    of the scene's buffers, once per export). Beyond :data:`MAX_RENDER_SIZE` the tiles are used.
    """
    scale = max(1, int(scale))
    w, h = render_window.GetSize()
    if scale == 1 or max(w, h) * scale > MAX_RENDER_SIZE:
        render_window.MakeCurrent()
        return window_image(render_window, scale)
    coll = render_window.GetRenderers()
    renderers = [coll.GetItemAsObject(i) for i in range(coll.GetNumberOfItems())]
    from vtkmodules.vtkRenderingCore import vtkRenderWindow

    off = vtkRenderWindow()
    off.SetOffScreenRendering(True)
    off.SetMultiSamples(render_window.GetMultiSamples())
    off.SetNumberOfLayers(render_window.GetNumberOfLayers())
    off.SetSize(w * scale, h * scale)
    render_window.MakeCurrent()
    for r in renderers:
        render_window.RemoveRenderer(r)
    try:
        for r in renderers:
            off.AddRenderer(r)
        return window_image(off)
    finally:
        off.MakeCurrent()
        for r in renderers:
            off.RemoveRenderer(r)
        off.Finalize()
        render_window.MakeCurrent()
        for r in renderers:
            render_window.AddRenderer(r)
