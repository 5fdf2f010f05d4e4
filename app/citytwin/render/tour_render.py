"""Rendering a tour off-screen, frame by frame, into video and frame writers.

:class:`TourRenderer` draws a :class:`~citytwin.model.viewer.ViewerModel` the way
:func:`~citytwin.render.snapshot.render_viewer` does (an off-screen
:class:`~citytwin.render.scene_view.SceneView` with every layer through the visual registry:
terrain split, sensor layers at the clock's time) plus a
:class:`~citytwin.render.tour_overlay.TourOverlay`. For each
:class:`~citytwin.model.tour_path.TourSample` it sets the camera, the viewer's clock (sensors
move with the tour) and the sun at the tour's time, the layers' visibility, the caption and the
point of interest, and reads the frame back. :func:`export_tour` drives it over a
:class:`~citytwin.model.tour_path.TourPath` at a frame rate into writers
(:mod:`citytwin.render.video`), which encode in another process or thread while the next frame
renders; a cancelled or failed export removes what was written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.errors import CityTwinError
from ..model.tour_path import TourPath, TourSample
from ..model.viewer import ViewerModel
from .effects import DEFAULT_EFFECTS, RenderEffects
from .overlays import Legend
from .scene_view import SceneView
from .tour_overlay import TourOverlay
from .video import FrameWriter

log = logging.getLogger(__name__)

__all__ = ["ExportCancelled", "TourRenderer", "export_tour"]

SunAt = Callable[[float], Any]  # Unix seconds -> unit vector towards the sun (scene axes) or None


class ExportCancelled(CityTwinError):
    """The export was cancelled; nothing was written."""


class TourRenderer:
    """An off-screen view of a viewer model that draws tour samples.

    Parameters
    ----------
    viewer
        The scene's layers, clock and origin (``io.viewer_loader.load_viewer``).
    size
        Frame width and height in pixels.
    effects
        FXAA, SSAO, horizon (default: the viewer's).
    shadows
        The sun casts shadows.
    sun
        The sun when the tour sets no time: a unit vector, None (night) or ``"default"``.
    sun_at
        The sun's direction at a clock time (Unix seconds); None: the clock moves no sun.
    overlays, legend
        North arrow and scale bar; the legend of a thematic colouring and the sensors' colour bar.
    """

    def __init__(self, viewer: ViewerModel, size: tuple[int, int] = (1920, 1080),
                 effects: RenderEffects = DEFAULT_EFFECTS, shadows: bool = False,
                 sun: Sequence[float] | None | str = "default", sun_at: SunAt | None = None,
                 overlays: bool = True, legend: bool = True) -> None:
        from .layer_visuals import LayerVisuals

        self.viewer = viewer
        self.view = SceneView(size=size, overlays=overlays, effects=effects, shadows=shadows, sun=sun)
        self.size = (int(size[0]), int(size[1]))
        self.visuals: Any = None
        try:
            if viewer.scene.origin is not None:
                self.view.origin = np.asarray(viewer.scene.origin, dtype=np.float64).copy()
            self.visuals = LayerVisuals(viewer, self.view)
            self.visuals.set_time(viewer.clock.time())
            if legend:
                title, entries = self.visuals.legend()
                if entries:
                    self.view.legend = self.view.legend or Legend(self.view.renderer)
                    self.view.legend.set_entries(title, entries)
                self.visuals.show_sensor_legend()
            self.overlay = TourOverlay(self.view.renderer)
        except BaseException:
            if self.visuals is not None:
                self.visuals.close()
            self.view.close()
            raise
        self._sun_at = sun_at
        self._clock: float | None = None
        self._layers: dict[str, bool] = {}
        self.unknown_layers: set[str] = set()  # layer names stops set that the scene does not have

    def _set_layers(self, layers: dict[str, bool]) -> None:
        for name, on in layers.items():
            key = name.lower()
            hit = [lay for lay in self.viewer.layers
                   if lay.name.lower() == key or (lay.dataset is not None and lay.dataset.name.lower() == key)]
            if not hit:
                self.unknown_layers.add(name)
            for lay in hit:
                self.viewer.set_visible(lay.id, on)

    def apply(self, s: TourSample) -> None:
        """Set the camera, clock, layers and overlays of ``s`` (nothing is drawn yet)."""
        cam = self.view.renderer.GetActiveCamera()
        cam.SetParallelProjection(False)
        cam.SetPosition(*self.view.to_scene(s.position))
        cam.SetFocalPoint(*self.view.to_scene(s.focal_point))
        cam.SetViewUp(*(float(c) for c in s.up))
        cam.SetViewAngle(s.view_angle)
        if s.layers != self._layers:
            self._layers = s.layers
            self._set_layers(s.layers)
        if s.time is not None and s.time != self._clock:
            self._clock = s.time
            self.viewer.set_time(s.time)  # sensor layers follow (TimeChanged)
            if self._sun_at is not None:
                self.view.set_sun(self._sun_at(s.time))
        self.overlay.set_caption(s.caption, s.caption_alpha)
        poi = s.poi
        self.overlay.set_poi(self.view.to_scene(poi.position) if poi else None, poi.label if poi else "",
                             s.caption_alpha if poi else 0.0)

    def frame(self, s: TourSample) -> NDArray[np.uint8]:
        """The picture of ``s``: ``(H, W, 3)`` uint8, top row first."""
        self.apply(s)
        return self.view.screenshot()

    def close(self) -> None:
        self.overlay.remove()
        if self.visuals is not None:
            self.visuals.close()
        self.view.close()

    def __enter__(self) -> TourRenderer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def export_tour(renderer: TourRenderer, path: TourPath, writers: Sequence[FrameWriter], fps: float,
                progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> list[Path]:
    """Render every frame of ``path`` at ``fps`` into ``writers``; returns the paths written.

    ``progress(done, total)`` is called after each frame; when ``cancelled()`` turns true the
    export stops with :class:`ExportCancelled`. On any failure every writer is aborted (its
    temporary output removed) and the error raised again.
    """
    times = path.frame_times(fps)
    total = len(times)
    try:
        for i, t in enumerate(times):
            if cancelled is not None and cancelled():
                raise ExportCancelled("export cancelled: nothing was written")
            img = renderer.frame(path.sample(float(t)))
            for w in writers:
                w.write(img)
            if progress is not None:
                progress(i + 1, total)
        out = []
        for k, w in enumerate(writers):
            try:
                out.append(w.finish())
            except BaseException:
                for done in out:  # all or nothing
                    _remove(done)
                for rest in writers[k + 1:]:
                    rest.abort()
                raise
        return out
    except BaseException:
        for w in writers:
            w.abort()
        raise


def _remove(p: Path) -> None:
    import shutil

    if p.is_dir():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)
