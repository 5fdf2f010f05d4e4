"""VtkSensorVisual: the actors drawing every sensor of a :class:`~citytwin.model.sensors.SensorLayer`.

Every sensor is a shaded sphere *impostor*: one camera-facing splat per datastream
drawn by a ``vtkPointGaussianMapper`` (float32 centres relative to the scene origin,
as the layer keeps its positions), whose fragment shader cuts a disc and shades it
like a sphere lit from the viewer. Up to 256 red rings, placed around sensors beyond
their threshold, are one merged mesh in a second actor.
(Measured on llvmpipe with 5,000 sensors: a merged mesh of even coarse spheres, 24
triangles each, cost about 35 ms of CPU per frame, more than the demo district
itself; splats cost a triangle each. A ``vtkGlyph3DMapper`` was measured first: ~17
ms per 1,000 instances per frame whatever their size.) Each frame
:meth:`VtkSensorVisual.update` computes colours and scales for all sensors with
numpy and writes them into the existing VTK arrays (views of numpy buffers, one
``Modified()``): no actor or mapper is rebuilt and there is no Python loop over
sensors. A hidden glyph (another property, or no ring) has scale 0.

Only the datastreams of one observed property are drawn at a time (a station
carrying NO2, temperature and noise stands at one place). Colours: the viridis map
of :mod:`citytwin.model.style` over the property's range (styling ``range``, else the
fixed range of :meth:`~citytwin.model.sensors.SensorLayer.value_range`), grey for stale sensors (no reading
within ``stale_after`` seconds of the clock time) and, smaller, for sensors without
a reading yet; sensors beyond their threshold at the clock time are drawn 1.7×
larger inside a red ring. A :class:`~citytwin.render.overlays.ColorBar` is the legend, titled with the
property and its unit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonComputationalGeometry import vtkParametricTorus
from vtkmodules.vtkCommonCore import vtkLookupTable, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkFiltersCore import vtkPolyDataNormals, vtkTriangleFilter
from vtkmodules.vtkFiltersSources import vtkParametricFunctionSource
from vtkmodules.vtkRenderingCore import vtkActor, vtkPointGaussianMapper, vtkPolyDataMapper

from ..model.sensors import SensorLayer
from ..model.style import colormap
from .overlays import ColorBar
from .visual import Callbacks

log = logging.getLogger(__name__)

__all__ = ["ALERT_RGB", "VtkSensorVisual", "property_range"]

ALERT_RGB = (230, 30, 30)
ALERT_SCALE = 1.7
MAX_RINGS = 256  # ring slots: the first MAX_RINGS alerting sensors get one (all are drawn larger)

# The splat's fragment shader: a disc of the glyph's radius, shaded like a sphere lit
# from the viewer (the colour itself at the centre, darker towards the rim). VTK draws
# each splat as a triangle around a circle of 3 units (room for a gaussian's 3 sigma):
# the mapper's scale is a third of the radius, so that the disc fills that circle and
# llvmpipe shades 1.65x the disc's pixels, not 15x.
_SPLAT_UNITS = 3.0
_SPHERE_SPLAT = (
    "//VTK::Color::Impl\n"
    f"  float cityDist2 = dot(offsetVCVSOutput.xy, offsetVCVSOutput.xy) / {_SPLAT_UNITS ** 2:.1f};\n"
    "  if (cityDist2 > 1.0) { discard; }\n"
    "  float cityShade = 0.45 + 0.55 * sqrt(1.0 - cityDist2);\n"
    "  ambientColor *= cityShade;\n"
    "  diffuseColor *= cityShade;\n"
)


def _template(source: Any) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """``(points, normals, triangles)`` of a unit glyph source."""
    tri = vtkTriangleFilter()
    tri.SetInputConnection(source.GetOutputPort())
    nrm = vtkPolyDataNormals()
    nrm.SetInputConnection(tri.GetOutputPort())
    nrm.SplittingOff()
    nrm.ConsistencyOn()
    nrm.Update()
    pd = nrm.GetOutput()
    pts = vtk_to_numpy(pd.GetPoints().GetData()).astype(np.float32)
    normals = vtk_to_numpy(pd.GetPointData().GetNormals()).astype(np.float32)
    conn = vtk_to_numpy(pd.GetPolys().GetConnectivityArray()).astype(np.int64).reshape(-1, 3)
    return pts, normals, conn


def property_range(layer: SensorLayer, rows: NDArray[np.int64]) -> tuple[float, float]:
    """Fixed colour range of ``rows`` (:meth:`SensorLayer.value_range`: declared in the metadata,
    else thresholds and every value seen or expected; it never shrinks); ``(0, 1)`` if unknown."""
    if len(rows) == 0:
        return (0.0, 1.0)
    return layer.value_range(rows)


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
        self._visible = True
        self._rings_drawn = -1
        self._rows = np.zeros(0, dtype=np.int64)  # datastreams of the shown property
        self._limits = (np.inf, -np.inf)
        self._view_mult: NDArray[np.float32] | None = None  # per-glyph size factor fitting a screen size
        # state at the last update (for hover, tests)
        self.values = np.zeros(0)
        self.times = np.zeros(0)
        self.stale = np.zeros(0, dtype=bool)
        self.over = np.zeros(0, dtype=bool)

        self.polydata = vtkPolyData()  # one point per datastream: the splats
        self.ring_polydata = vtkPolyData()
        torus = vtkParametricTorus()
        torus.SetRingRadius(0.6)
        torus.SetCrossSectionRadius(0.09)
        ring = vtkParametricFunctionSource()
        ring.SetParametricFunction(torus)
        ring.SetUResolution(16)
        ring.SetVResolution(4)
        self._ring = _template(ring)
        self.mapper = vtkPointGaussianMapper()
        self.mapper.SetInputData(self.polydata)
        self.mapper.SetScaleArray("scale")
        self.mapper.SetScaleFactor(0.5 * self.size / _SPLAT_UNITS)  # radius = scale × size / 2
        self.mapper.EmissiveOff()  # opaque, depth-tested discs (not additive gaussian blobs)
        self.mapper.SetSplatShaderCode(_SPHERE_SPLAT)
        self.ring_mapper = vtkPolyDataMapper()
        self.ring_mapper.SetInputData(self.ring_polydata)
        for m in (self.mapper, self.ring_mapper):
            m.SetScalarModeToUsePointFieldData()
            m.SelectColorArray("rgba")
            m.SetColorModeToDirectScalars()
            m.ScalarVisibilityOn()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        self.actor.GetProperty().SetAmbient(1.0)  # the splat shader does the shading
        self.actor.GetProperty().SetDiffuse(0.0)
        self.ring_actor = vtkActor()
        self.ring_actor.SetMapper(self.ring_mapper)
        self.ring_actor.GetProperty().SetAmbient(0.35)
        self.ring_actor.GetProperty().SetDiffuse(0.75)
        self.lut = vtkLookupTable()
        self.lut.SetNumberOfTableValues(64)
        rgb = colormap(np.linspace(0.0, 1.0, 64))
        for k in range(64):
            r, g, b = (float(c) / 255.0 for c in rgb[k])
            self.lut.SetTableValue(k, r, g, b, 1.0)
        self.lut.Build()
        self.legend_actor = ColorBar(self.lut)  # lower right; drawn once attached to a renderer
        self.sync()
        props = self.properties()
        if props:
            self.set_property(props[0])

    # ---------------------------------------------------------------- structure
    def actors(self) -> list[Any]:
        """The 3D actors: the sensor splats and the alert rings."""
        return [self.actor, self.ring_actor]

    def properties(self) -> list[str]:
        """Observed property names of the layer, in datastream order (first seen first)."""
        return self.layer.properties()

    def unit(self, prop: str | None = None) -> str:
        """Unit symbol (or name) of ``prop`` (default: the shown property)."""
        rows = self.layer.property_rows(self.property if prop is None else prop)
        if not len(rows):
            return ""
        u = self.layer.datastreams[int(rows[0])].unit
        return u.symbol or u.name

    def set_property(self, prop: str) -> None:
        """Show the datastreams of observed property ``prop``."""
        self.property = prop
        self._select_rows()
        self.changed.emit("property")

    def _select_rows(self) -> None:
        self._rows = self.layer.property_rows(self.property)
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
        """Re-read the colour range (unless the styling fixes it; it only widens, for a live feed
        whose readings leave it); True if it moved."""
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
            self._build(n)
        self._pos = pos
        self._drawn_scale[:] = -1.0  # every glyph's vertices are rewritten by the next update
        self._ring_owner[:] = -2
        self._layer_version = self.layer.version
        return True

    def _build(self, n: int) -> None:
        """Buffers and cells for ``n`` sensors (once per growth of the layer)."""
        rp, rn, rt = self._ring
        vr = len(rp)
        nr = min(n, MAX_RINGS)
        # the splats: one point per datastream, its colour and scale
        self._centres = np.zeros((n, 3), dtype=np.float32)
        self._gcolor = np.zeros((n, 4), dtype=np.uint8)
        self._gcolor[:, 3] = 255
        self._gscale = np.zeros(n, dtype=np.float32)
        pts = vtkPoints()
        vtk_pts = numpy_to_vtk(self._centres, deep=False)
        pts.SetData(vtk_pts)
        self.polydata.SetPoints(pts)
        pd = self.polydata.GetPointData()
        vtk_rgba = numpy_to_vtk(self._gcolor, deep=False)
        vtk_rgba.SetName("rgba")
        vtk_scale = numpy_to_vtk(self._gscale, deep=False)
        vtk_scale.SetName("scale")
        pd.RemoveArray("rgba")
        pd.RemoveArray("scale")
        pd.AddArray(vtk_rgba)
        pd.AddArray(vtk_scale)
        # the rings: one merged mesh of nr slots
        self._verts = np.zeros((nr * vr, 3), dtype=np.float32)
        self._vcolor = np.zeros((nr * vr, 4), dtype=np.uint8)
        self._vcolor[:, 3] = 255
        self._vcolor[:, :3] = ALERT_RGB
        normals = np.tile(rn, (nr, 1)).astype(np.float32)
        tris = (rt[None, :, :] + (np.arange(nr) * vr)[:, None, None]).reshape(-1, 3).astype(np.int64)
        offsets = np.arange(0, 3 * len(tris) + 1, 3, dtype=np.int64)
        self._cell_buffers = (offsets, tris.ravel())
        rpts = vtkPoints()
        vtk_rpts = numpy_to_vtk(self._verts, deep=False)
        rpts.SetData(vtk_rpts)
        self.ring_polydata.SetPoints(rpts)
        self._rings_drawn = -1
        self._show_rings(0)
        rpd = self.ring_polydata.GetPointData()
        vtk_rrgba = numpy_to_vtk(self._vcolor, deep=False)
        vtk_rrgba.SetName("rgba")
        vtk_nrm = numpy_to_vtk(normals, deep=False)
        vtk_nrm.SetName("Normals")
        self._normals = normals  # keep the buffer alive
        rpd.RemoveArray("rgba")
        rpd.AddArray(vtk_rrgba)
        rpd.SetNormals(vtk_nrm)
        self._vtk_arrays = (vtk_pts, vtk_rgba, vtk_scale, vtk_rpts)
        # per-glyph state: rows 0..n-1 spheres, n..2n-1 rings
        self._rgba = np.zeros((2 * n, 4), dtype=np.uint8)
        self._rgba[:, 3] = 255
        self._rgba[n:, :3] = ALERT_RGB
        self._scale = np.zeros(2 * n, dtype=np.float32)
        self._drawn_scale = np.full(2 * n, -1.0, dtype=np.float32)
        self._drawn_rgb = np.full((n, 3), -1, dtype=np.int16)
        self._ring_owner = np.full(nr, -2, dtype=np.int64)  # sensor shown in each ring slot (-1: none)
        self._view_mult = None
        self._n = n
        props = self.properties()
        if self.property not in props and props:
            self.property = props[0]
        self._select_rows()

    # ---------------------------------------------------------------- per frame
    def update(self, t: float) -> bool:
        """Colour and scale every sensor for scene time ``t`` (one vectorised write).

        Returns True when the picture changed (a glyph moved, grew or changed colour).
        """
        synced = self.sync()
        n = self._n
        if n <= 0:
            return synced
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
        touched = self._write(n)
        if touched:
            self.changed.emit("values")
        return touched or synced

    def _write(self, n: int) -> bool:
        """Write the glyphs whose scale or colour changed into the VTK buffers (vectorised)."""
        rp = self._ring[0]
        vr = len(rp)
        touched = False
        size = np.float32(self.size)
        mult = self._view_mult
        eff = self._scale[:n] if mult is None else self._scale[:n] * mult
        moved = np.flatnonzero(eff != self._drawn_scale[:n])
        if len(moved):
            self._gscale[moved] = eff[moved]
            self._centres[moved] = self._pos[moved]
            if mult is not None:  # still standing on the point: lifted by the fitted radius
                self._centres[moved, 2] += (mult[moved] - 1.0) * size * 0.5
            self._drawn_scale[moved] = eff[moved]
            self._vtk_arrays[0].Modified()
            self._vtk_arrays[2].Modified()
            self.polydata.GetPoints().Modified()
            touched = True
        nr = len(self._ring_owner)
        owners = np.full(nr, -1, dtype=np.int64)
        alerting = np.flatnonzero(self._scale[n:] > 0)[:nr]
        owners[: len(alerting)] = alerting
        if nr and (mult is not None or not np.array_equal(owners, self._ring_owner)):
            rv = self._verts.reshape(nr, vr, 3)
            has = owners >= 0
            own = np.maximum(owners, 0)
            centre = np.where(has[:, None], self._centres[own], 0.0)
            ring = np.where(has, ALERT_SCALE, 0.0) * (1.0 if mult is None else mult[own])
            rv[:] = centre[:, None, :] + (ring[:, None, None] * size) * rp[None]
            self._ring_owner = owners
            self._show_rings(int(has.sum()))
            self._vtk_arrays[3].Modified()
            self.ring_polydata.GetPoints().Modified()
            self.ring_polydata.Modified()
            touched = True
        recolor = np.flatnonzero((self._rgba[:n, :3] != self._drawn_rgb).any(axis=1))
        if len(recolor):
            touched = True
            self._gcolor[recolor, :3] = self._rgba[recolor, :3]
            self._drawn_rgb[recolor] = self._rgba[recolor, :3]
            self._vtk_arrays[1].Modified()
        if touched:
            self.polydata.Modified()
        return touched

    def fit_to_camera(self, camera: Any, height_px: int, px: float) -> bool:
        """With ``px > 0`` draw every glyph ``px`` pixels across whatever its distance from
        ``camera`` (a perspective camera over a view ``height_px`` high), as in walk mode,
        where glyphs metres wide would fill the view; ``px <= 0``: the styling size in metres.
        Call before each render; True if glyphs were rewritten."""
        n = self._n
        if n <= 0 or (px <= 0 and self._view_mult is None):
            return False
        if px <= 0:
            self._view_mult = None
            self._ring_owner[:] = -2  # the rings back to their size in metres
        else:
            eye = np.asarray(camera.GetPosition(), dtype=np.float64)
            dop = np.asarray(camera.GetDirectionOfProjection(), dtype=np.float64)
            depth = np.maximum((self._pos[:n] - eye) @ dop, 0.05)
            m_per_px = 2.0 * math.tan(math.radians(camera.GetViewAngle()) / 2.0) / max(int(height_px), 1)
            self._view_mult = (px * m_per_px * depth / self.size).astype(np.float32)
        return self._write(n)

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
        mult = self._view_mult
        c = (self._pos if mult is None else self._centres)[rows].astype(np.float64)
        t = np.clip((c - a) @ d / dd, 0.0, 1.0)
        dist = np.linalg.norm(a + t[:, None] * d - c, axis=1)
        radius = 0.5 * self.size * self._scale[rows] * slack * (1.0 if mult is None else mult[rows])
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
    def _show_rings(self, k: int) -> None:
        """Draw the first ``k`` ring slots only (the alerting sensors fill the slots from the
        first): 256 idle rings would still cost their vertices every frame."""
        if k != self._rings_drawn:
            offsets, conn = self._cell_buffers
            per = len(self._ring[2])
            cells = vtkCellArray()
            cells.SetData(numpy_to_vtkIdTypeArray(offsets[: k * per + 1], deep=True),
                          numpy_to_vtkIdTypeArray(conn[: 3 * k * per], deep=True))
            self.ring_polydata.SetPolys(cells)
            self._rings_drawn = k
        self.ring_actor.SetVisibility(self._visible and k > 0)

    def set_visible(self, visible: bool) -> None:
        self._visible = bool(visible)
        self.actor.SetVisibility(self._visible)
        self.ring_actor.SetVisibility(self._visible and self._rings_drawn > 0)
        self.legend_actor.SetVisibility(self._visible)
        self.changed.emit("visible")

    @property
    def visible(self) -> bool:
        return self._visible

    def release(self) -> None:
        """Drop references (the caller removed the actors from the renderer)."""
        self.changed = Callbacks()
        self.polydata.Initialize()
        self.ring_polydata.Initialize()
