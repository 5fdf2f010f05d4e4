"""VtkSensorVisual off screen: one actor, colours by value at the clock time, stale grey,
threshold highlight, in-place array updates and ray picking."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("vtkmodules")
import render_fixtures  # noqa: E402
from citytwin.model.sensors import (  # noqa: E402
    Datastream,
    ObservedProperty,
    SensorLayer,
    Threshold,
    UnitOfMeasurement,
)
from citytwin.render.sensor_visual import ALERT_RGB, VtkSensorVisual  # noqa: E402

pytestmark = render_fixtures.RENDER_MARKS

T0 = 1_717_200_000.0


def make_layer(n: int = 3) -> SensorLayer:
    layer = SensorLayer(capacity=16)
    streams = []
    for k in range(n):
        for prop, sym in (("no2", "µg/m³"), ("temperature", "°C")):
            streams.append(Datastream(id=f"S{k}/{prop}", observed_property=ObservedProperty(prop),
                                      unit=UnitOfMeasurement(symbol=sym)))
    layer.add_datastreams(streams)
    layer.set_thresholds([Threshold("no2", above=40.0)])
    # place them by hand: sensors 60 m apart on the x axis
    for k in range(n):
        for j in range(2):
            layer.positions[2 * k + j] = (60.0 * k, 0.0, 0.0)
    layer.placed[:] = True
    layer.version += 1
    return layer


def render(vis: VtkSensorVisual, size: tuple[int, int] = (400, 300)):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow, vtkWindowToImageFilter

    rw = vtkRenderWindow()
    rw.SetOffScreenRendering(True)
    rw.SetSize(*size)
    ren = vtkRenderer()
    ren.SetBackground(1, 1, 1)
    rw.AddRenderer(ren)
    for a in vis.actors():
        ren.AddActor(a)
    cam = ren.GetActiveCamera()
    cam.SetFocalPoint(60, 0, 5)
    cam.SetPosition(60, 0, 400)
    cam.SetViewUp(0, 1, 0)
    ren.ResetCameraClippingRange()
    rw.Render()
    f = vtkWindowToImageFilter()
    f.SetInput(rw)
    f.ReadFrontBufferOff()
    f.Update()
    img = f.GetOutput()
    w, h, _ = img.GetDimensions()
    arr = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)[::-1, :, :3]

    def at(x: float, y: float, z: float = 0.0) -> np.ndarray:
        ren.SetWorldPoint(x, y, z + vis.size / 2 + 0.5, 1.0)
        ren.WorldToDisplay()
        dx, dy, _ = ren.GetDisplayPoint()
        return arr[int(round(h - 1 - dy)), int(round(dx))].astype(int)

    return arr, at, (rw, ren)


def test_one_actor_for_all_sensors_colours_follow_the_clock_time() -> None:
    layer = make_layer()
    layer.apply(np.array([0, 2, 4]), np.full(3, T0), np.array([10.0, 20.0, 30.0]))
    layer.apply(np.array([0]), np.array([T0 + 600]), np.array([30.0]))
    vis = VtkSensorVisual(layer, {"size": 10.0, "range": [10.0, 30.0]}, stale_after=3600)
    # one actor draws every sensor, one every alert ring, whatever the number of sensors
    assert vis.property == "no2" and vis.actors() == [vis.actor, vis.ring_actor]
    assert "µg/m³" in vis.legend_actor.GetTitle()
    vis.update(T0 + 60)
    _, at, keep = render(vis)
    c_low, c_high = at(0, 0), at(120, 0)
    assert not np.array_equal(c_low, c_high)
    # sensor 0 is low at T0+60 and high at T0+600: same actor, same arrays, new colour
    arrays = vis._vtk_arrays
    vis.update(T0 + 700)
    assert vis._vtk_arrays is arrays
    # release the first window before drawing the same actor in a second one: with EGL the
    # actor's GPU buffers stay bound to the first context otherwise
    keep[1].RemoveAllViewProps()
    keep[0].Finalize()
    _, at2, keep2 = render(vis)
    assert np.abs(at2(0, 0) - c_high).sum() < 40
    assert np.abs(at2(0, 0) - c_low).sum() > 60


def test_stale_and_missing_sensors_are_grey_and_over_threshold_gets_a_ring() -> None:
    layer = make_layer()
    layer.apply(np.array([0, 2, 4]), np.array([T0, T0 + 5000, T0 + 5000]), np.array([20.0, 45.0, 12.0]))
    vis = VtkSensorVisual(layer, {"size": 10.0, "range": [10.0, 50.0]}, stale_after=900)
    vis.update(T0 + 5100)
    assert vis.stale.tolist()[:5:2] == [True, False, False]
    assert vis.over[2] and not vis.over[0] and not vis.over[4]
    n = len(layer)
    assert vis._scale[n + 2] > 0 and vis._scale[n] == 0  # ring glyph only for the alerting sensor
    assert tuple(vis._rgba[0, :3]) == vis.stale_rgb
    arr, at, keep = render(vis)
    assert np.abs(at(0, 0) - np.array(vis.stale_rgb)).max() < 90  # grey (shaded)
    # the ring around sensor 1 is red somewhere near its glyph
    red = (arr[..., 0] > 180) & (arr[..., 1] < 90) & (arr[..., 2] < 90)
    assert red.sum() > 10
    assert ALERT_RGB[0] > 200


def test_pick_ray_and_property_switch() -> None:
    layer = make_layer()
    layer.apply(np.arange(6), np.full(6, T0), np.arange(6, dtype=float))
    vis = VtkSensorVisual(layer, {"size": 10.0})
    vis.update(T0)
    i, t = vis.pick_ray((60, 0, 100), (60, 0, -100))
    assert i == 2 and 0 < t < 1
    assert vis.pick_ray((30, 0, 100), (30, 0, -100))[0] == -1
    vis.set_property("temperature")
    vis.update(T0)
    assert vis.pick_ray((60, 0, 100), (60, 0, -100))[0] == 3
    assert vis.legend_actor.GetTitle().startswith("temperature")
    vis.set_visible(False)
    assert vis.pick_ray((60, 0, 100), (60, 0, -100))[0] == -1


def test_new_datastreams_grow_the_arrays() -> None:
    layer = make_layer(1)
    vis = VtkSensorVisual(layer)
    vis.update(T0)
    layer.add_datastreams([Datastream(id="S9/no2", observed_property=ObservedProperty("no2"))])
    layer.apply(np.array([2]), np.array([T0]), np.array([5.0]))
    vis.update(T0)
    assert len(layer) == 3 and vis.polydata.GetNumberOfPoints() == 3  # one splat per datastream
    assert vis.ring_polydata.GetNumberOfPoints() == 3 * len(vis._ring[0])  # a ring slot each
    # no sensor over its threshold: no ring drawn (idle ring slots would cost vertices every frame)
    assert vis.ring_polydata.GetNumberOfCells() == 0 and not vis.ring_actor.GetVisibility()
    layer.apply(np.array([0]), np.array([T0 + 1]), np.array([55.0]))  # S0 no2 over 40: one ring
    vis.update(T0 + 1)
    assert vis.ring_polydata.GetNumberOfCells() == len(vis._ring[2]) and vis.ring_actor.GetVisibility()
    vis.set_visible(False)
    assert not vis.ring_actor.GetVisibility() and not vis.actor.GetVisibility()
