"""VtkSensorVisual: ONE actor drawing every sensor of a :class:`~citytwin.model.sensors.SensorLayer`.

Sensors are sphere glyphs of a ``vtkGlyph3DMapper`` over one point set (float32
positions relative to the scene origin, as the layer keeps them). Each frame
:meth:`VtkSensorVisual.update` writes colours and scales for all sensors into the
existing VTK arrays (numpy views, one ``Modified()``): no actor is rebuilt and
there is no Python loop over sensors. Only the datastreams of one observed
property are drawn at a time (a sensor carrying NO2, temperature and noise stands
at one place); the others get scale 0.

Colours: the viridis map of :mod:`citytwin.model.style` over the property's
range (styling ``range`` or the range of its stored history), grey for stale
sensors (no reading within ``stale_after`` seconds of the clock time) and for
sensors without a reading yet; sensors beyond their threshold at the clock time
are drawn 1.7× larger with a red ring. The point set holds every sensor twice:
rows ``0..n-1`` are spheres, rows ``n..2n-1`` red rings (glyph 1 of the same
mapper, scale 0 unless the sensor is over its threshold), so it stays one actor. A
``vtkScalarBarActor`` is the legend, titled with the property and its unit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkLookupTable, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersSources import vtkParametricFunctionSource, vtkSphereSource
from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor
from vtkmodules.vtkRenderingCore import vtkActor, vtkGlyph3DMapper

from ..model.sensors import SensorLayer
from ..model.style import colormap
from .visual import Callbacks

log = logging.getLogger(__name__)

__all__ = ["ALERT_RGB", "VtkSensorVisual", "property_range"]

ALERT_RGB = (230, 30, 30)
ALERT_SCALE = 1.7


def property_range(layer: SensorLayer, rows: NDArray[np.int64]) -> tuple[float, float]:
    """Robust value range (2nd..98th percentile) of the stored history of ``rows``; ``(0, 1)`` if empty."""
    if len(rows) == 0:
        return (0.0, 1.0)
    vals = layer.history.values[rows].ravel()
    if len(vals) > 200_000:  # a sample is enough for percentiles
        vals = vals[:: len(vals) // 200_000 + 1]
    vals = vals[np.isfinite(vals)]
    if len(vals) == 0:
        return (0.0, 1.0)
    lo, hi = (float(v) for v in np.percentile(vals, [2.0, 98.0]))
    if not hi > lo:
        hi = lo + 1.0
    return lo, hi


class VtkSensorVisual:
    """The VTK adapter of one sensor layer.

    Parameters
    ----------
    layer
        The sensor layer (positions already in the scene frame, origin subtracted).
    styling
        ``SensorLayerSpec.styling``: ``size`` (glyph diameter in metres), ``range``,
        ``stale_color`` (RGB 0..1).
    stale_after
        Seconds without a reading after which a sensor is drawn grey (``<= 0``: never).
    """

    def __init__(self, layer: SensorLayer, styling: dict[str, Any] | None = None,
                 stale_after: float = 900.0) -> None:
        st = dict(styling or {})
        self.layer = layer
        self.size = float(st.get("size") or 8.0)
        rng = st.get("range")
        self.fixed_range: tuple[float, float] | None = (float(rng[0]), float(rng[1])) if rng else None
        sc = st.get("stale_color") or [0.6, 0.6, 0.6]
        self.stale_rgb = tuple(int(round(float(c) * 255)) for c in sc[:3])
        self.stale_after = float(stale_after)
        self.changed = Callbacks()
        self.property: str = ""
        self.value_range: tuple[float, float] = (0.0, 1.0)
        self._n = -1
        self._layer_version = -1
        self._rows = np.zeros(0, dtype=np.int64)  # datastreams of the shown property
        self._limits = (np.inf, -np.inf)
        # state at the last update (for hover, tests)
        self.values = np.zeros(0)
        self.times = np.zeros(0)
        self.stale = np.zeros(0, dtype=bool)
        self.over = np.zeros(0, dtype=bool)

        self.polydata = vtkPolyData()
        sphere = vtkSphereSource()
        sphere.SetRadius(0.5)
        sphere.SetThetaResolution(16)
        sphere.SetPhiResolution(12)
        sphere.Update()
        from vtkmodules.vtkCommonComputationalGeometry import vtkParametricTorus

        torus = vtkParametricTorus()
        torus.SetRingRadius(0.6)
        torus.SetCrossSectionRadius(0.09)
        ring = vtkParametricFunctionSource()
        ring.SetParametricFunction(torus)
        ring.SetUResolution(24)
        ring.SetVResolution(8)
        ring.Update()
        self.mapper = vtkGlyph3DMapper()
        self.mapper.SetInputData(self.polydata)
        self.mapper.SetSourceData(0, sphere.GetOutput())
        self.mapper.SetSourceData(1, ring.GetOutput())
        self.mapper.SetSourceIndexing(True)
        self.mapper.SetSourceIndexArray("glyph")
        self.mapper.SetScaleArray("scale")
        self.mapper.SetScaleModeToScaleByMagnitude()
        self.mapper.SetScaleFactor(self.size)
        self.mapper.ScalingOn()
        self.mapper.OrientOff()
        self.mapper.SetScalarModeToUsePointFieldData()
        self.mapper.SelectColorArray("rgba")
        self.mapper.SetColorModeToDirectScalars()
        self.mapper.ScalarVisibilityOn()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        self.actor.GetProperty().SetAmbient(0.35)
        self.actor.GetProperty().SetDiffuse(0.75)
        self.lut = vtkLookupTable()
        self.lut.SetNumberOfTableValues(64)
        rgb = colormap(np.linspace(0.0, 1.0, 64))
        for k in range(64):
            self.lut.SetTableValue(k, *(rgb[k] / 255.0), 1.0)
        self.lut.Build()
        self.legend_actor = vtkScalarBarActor()
        self.legend_actor.SetLookupTable(self.lut)
        self.legend_actor.SetNumberOfLabels(5)
        self.legend_actor.SetOrientationToHorizontal()
        self.legend_actor.SetWidth(0.28)
        self.legend_actor.SetHeight(0.08)
        self.legend_actor.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self.legend_actor.GetPositionCoordinate().SetValue(0.68, 0.02)
        for tp in (self.legend_actor.GetTitleTextProperty(), self.legend_actor.GetLabelTextProperty()):
            tp.SetColor(0.1, 0.1, 0.1)
            tp.ShadowOff()
            tp.ItalicOff()
        self.legend_actor.GetLabelTextProperty().BoldOff()
        self.legend_actor.SetLabelFormat("%-#6.3g")
        self.sync()
        props = self.properties()
        if props:
            self.set_property(props[0])

    # ---------------------------------------------------------------- structure
    def actors(self) -> list[Any]:
        """The 3D actors (one: spheres and alert rings are glyphs of one mapper)."""
        return [self.actor]

    def properties(self) -> list[str]:
        """Observed property names of the layer, in datastream order (first seen first)."""
        return list(dict.fromkeys(ds.observed_property.name or "value" for ds in self.layer.datastreams))

    def unit(self, prop: str | None = None) -> str:
        """Unit symbol (or name) of ``prop`` (default: the shown property)."""
        prop = self.property if prop is None else prop
        for ds in self.layer.datastreams:
            if (ds.observed_property.name or "value") == prop:
                return ds.unit.symbol or ds.unit.name
        return ""

    def set_property(self, prop: str) -> None:
        """Show the datastreams of observed property ``prop``."""
        self.property = prop
        self._select_rows()
        self.changed.emit("property")

    def _select_rows(self) -> None:
        names = np.array([ds.observed_property.name or "value" for ds in self.layer.datastreams], dtype=object)
        self._rows = np.flatnonzero(names == self.property).astype(np.int64) if len(names) else \
            np.zeros(0, dtype=np.int64)
        above, below = np.inf, -np.inf
        for th in self.layer.thresholds:
            if th.observed_property.lower() == self.property.lower():
                above = th.above if th.above is not None else np.inf
                below = th.below if th.below is not None else -np.inf
        self._limits = (float(above), float(below))
        self.value_range = self.fixed_range or property_range(self.layer, self._rows)
        self.lut.SetTableRange(*self.value_range)
        unit = self.unit()
        self.legend_actor.SetTitle(f"{self.property} [{unit}]" if unit else self.property)

    def refresh_range(self) -> bool:
        """Re-read the colour range from the history (unless the styling fixes it); True if it moved."""
        if self.fixed_range is not None:
            return False
        rng = property_range(self.layer, self._rows)
        if np.allclose(rng, self.value_range):
            return False
        self.value_range = rng
        self.lut.SetTableRange(*rng)
        return True

    def sync(self) -> bool:
        """Re-read positions when datastreams were added or placed (new VTK arrays only when grown)."""
        n = len(self.layer)
        if n == self._n and self.layer.version == self._layer_version:
            return False
        pos = np.ascontiguousarray(np.nan_to_num(self.layer.positions[:n], nan=0.0), dtype=np.float32)
        pos[:, 2] += self.size * 0.5 + 0.5  # stand on the point, not half-buried
        if n != self._n:
            self._pos = np.concatenate([pos, pos])
            self._rgba = np.zeros((2 * n, 4), dtype=np.uint8)
            self._rgba[:, 3] = 255
            self._rgba[n:, :3] = ALERT_RGB
            self._scale = np.zeros(2 * n, dtype=np.float32)
            glyph = np.r_[np.zeros(n), np.ones(n)].astype(np.float32)
            pts = vtkPoints()
            self._vtk_pos = numpy_to_vtk(self._pos, deep=False)
            pts.SetData(self._vtk_pos)
            self.polydata.SetPoints(pts)
            arrays = []
            pd = self.polydata.GetPointData()
            for name, arr in (("rgba", self._rgba), ("scale", self._scale), ("glyph", glyph)):
                va = numpy_to_vtk(arr, deep=False)
                va.SetName(name)
                pd.RemoveArray(name)
                pd.AddArray(va)
                arrays.append(va)
            self._glyph = glyph  # keep the buffer alive
            self._vtk_arrays = arrays[:2]
            self._n = n
            props = self.properties()
            if self.property not in props and props:
                self.property = props[0]
            self._select_rows()
        else:
            self._pos[:n] = pos
            self._pos[n:] = pos
            self._vtk_pos.Modified()
            self.polydata.GetPoints().Modified()
        self._layer_version = self.layer.version
        return True

    # ---------------------------------------------------------------- per frame
    def update(self, t: float) -> None:
        """Colour and scale every sensor for scene time ``t`` (one vectorised write)."""
        self.sync()
        n = self._n
        if n <= 0:
            return
        stale_after = self.stale_after if self.stale_after > 0 else None
        vals, times, stale = self.layer.state_at(t, stale_after)
        self.values, self.times, self.stale = vals, times, stale
        lo, hi = self.value_range
        norm = (vals - lo) / (hi - lo) if hi > lo else np.zeros(n)
        rgb = colormap(norm)
        no_value = ~np.isfinite(vals)
        grey = stale | no_value
        rgb[grey] = self.stale_rgb
        above, below = self._limits
        with np.errstate(invalid="ignore"):
            over = ((vals > above) | (vals < below)) & ~grey
        self.over = over
        shown = np.zeros(n, dtype=bool)
        shown[self._rows[self._rows < n]] = True
        shown &= self.layer.placed[:n]
        scale = np.where(shown, np.where(no_value, 0.6, 1.0), 0.0).astype(np.float32)
        scale[over & shown] = ALERT_SCALE
        self._rgba[:n, :3] = rgb
        self._scale[:n] = scale
        self._scale[n:] = np.where(over & shown, ALERT_SCALE, 0.0)
        for a in self._vtk_arrays:
            a.Modified()
        self.polydata.Modified()
        self.changed.emit("values")

    @property
    def shown(self) -> NDArray[np.int64]:
        """Datastream indices drawn now (the shown property's, placed ones)."""
        if self._n <= 0:
            return np.zeros(0, dtype=np.int64)
        r = self._rows[self._rows < self._n]
        return r[self.layer.placed[r]]

    def position(self, i: int) -> NDArray[np.float64]:
        """Centre of the glyph of datastream ``i`` (scene-relative)."""
        return np.asarray(self._pos[i], dtype=np.float64)

    # ---------------------------------------------------------------- picking
    def pick_ray(self, p0: Iterable[float], p1: Iterable[float], slack: float = 1.0) -> tuple[int, float]:
        """The shown sensor nearest along the segment ``p0 -> p1`` whose glyph the ray passes
        within ``slack`` × its radius; ``(datastream index, ray parameter 0..1)`` or ``(-1, nan)``."""
        if not self.visible or self._n <= 0:
            return -1, math.nan
        a = np.asarray(list(p0), dtype=np.float64)
        d = np.asarray(list(p1), dtype=np.float64) - a
        dd = float(d @ d)
        rows = self.shown
        if dd == 0 or len(rows) == 0:
            return -1, math.nan
        c = self._pos[rows].astype(np.float64)
        t = np.clip((c - a) @ d / dd, 0.0, 1.0)
        dist = np.linalg.norm(a + t[:, None] * d - c, axis=1)
        radius = 0.5 * self.size * self._scale[rows] * slack
        hit = dist <= radius
        if not hit.any():
            return -1, math.nan
        k = np.flatnonzero(hit)[np.argmin(t[hit])]
        return int(rows[k]), float(t[k])

    def nearest_on_screen(self, display_xy: NDArray[np.float64], x: float, y: float,
                          max_px: float) -> int:
        """Shown sensor whose projected centre (``display_xy``, rows of :attr:`shown`) is within
        ``max_px`` of ``(x, y)``; -1 if none."""
        rows = self.shown
        if len(rows) == 0:
            return -1
        d = np.hypot(display_xy[:, 0] - x, display_xy[:, 1] - y)
        k = int(np.argmin(d))
        return int(rows[k]) if d[k] <= max_px else -1

    # ---------------------------------------------------------------- visibility
    def set_visible(self, visible: bool) -> None:
        self.actor.SetVisibility(bool(visible))
        self.legend_actor.SetVisibility(bool(visible))
        self.changed.emit("visible")

    @property
    def visible(self) -> bool:
        return bool(self.actor.GetVisibility())

    def release(self) -> None:
        """Drop references (the caller removed the actors from the renderer)."""
        self.changed = Callbacks()
        self.polydata.Initialize()
