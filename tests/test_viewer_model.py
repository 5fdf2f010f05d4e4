"""The Qt-free viewer model: stable layer ids, one typed event for every change, removal
that takes the model out of the scene, selection, views and the clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxes import write_boxes
from citytwin.io import read
from citytwin.model.colour_source import ColourSourceError
from citytwin.model.events import (
    CameraChanged,
    ClockChange,
    LayerAdded,
    LayerChanged,
    LayerProperty,
    LayerRemoved,
    LayersReordered,
    SelectionChanged,
    TimeChanged,
    ViewsChange,
    ViewsChanged,
)
from citytwin.model.layer import LayerKind
from citytwin.model.scenefile import Camera, Dataset, View
from citytwin.model.viewer import ViewerModel

EVENTS = (LayerAdded, LayerRemoved, LayerChanged, LayersReordered, SelectionChanged, TimeChanged,
          CameraChanged, ViewsChanged)


def _record(vm: ViewerModel) -> list[object]:
    seen: list[object] = []
    for t in EVENTS:
        vm.bus.subscribe(t, seen.append)
    return seen


@pytest.fixture(scope="module")
def boxes_with_ground(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("vm") / "boxes.city.json"
    return write_boxes(p, [("a", 0, 0, 10, 10, 0, 12), ("b", 20, 0, 30, 10, 0, 20)], ground=(-10, -10, 40, 20))


def test_a_model_with_terrain_becomes_two_layers_with_stable_ids(boxes_with_ground: Path) -> None:
    vm = ViewerModel()
    seen = _record(vm)
    model = read(boxes_with_ground)
    city, ter = vm.add_model(model, Dataset(path=boxes_with_ground, name="Boxes", opacity=0.5))
    assert (city.kind, ter.kind) == (LayerKind.CITY, LayerKind.TERRAIN)
    assert ter.owner is city and city.source is model and ter.source is model
    assert city.name == "Boxes" and ter.name == "Boxes — terrain"
    assert city.opacity == ter.opacity == 0.5
    assert seen == [LayerAdded(city.id, "city"), LayerAdded(ter.id, "terrain")]
    assert vm.scene.models == [model]
    # the ids stay when the order changes; indices do not
    seen.clear()
    assert vm.move_layer(ter.id, -1)
    assert seen == [LayersReordered((ter.id, city.id))]
    assert vm.index(ter.id) == 0 and vm.layer(city.id) is city
    assert not vm.move_layer(ter.id, -1)  # already first: nothing published
    assert len(seen) == 1


def test_every_mutation_publishes_its_typed_event(boxes_with_ground: Path) -> None:
    vm = ViewerModel()
    (city, _ter) = vm.add_model(read(boxes_with_ground), Dataset(path=boxes_with_ground))
    seen = _record(vm)
    vm.set_visible(city.id, False)
    vm.set_opacity(city.id, 0.25)
    vm.set_color_by(city.id, "sensors:idw/ground:no2")
    vm.set_lod(city.id, 2)
    vm.set_textures(city.id, False)
    vm.rename(city.id, "B")
    assert [(e.layer, e.what, e.value) for e in seen] == [  # type: ignore[attr-defined]
        (city.id, LayerProperty.VISIBLE, False), (city.id, LayerProperty.OPACITY, 0.25),
        (city.id, LayerProperty.COLOUR, "sensors:idw/ground:no2"), (city.id, LayerProperty.LOD, 2.0),
        (city.id, LayerProperty.TEXTURES, False), (city.id, LayerProperty.NAME, "B")]
    assert (city.visible, city.opacity, city.color_by, city.lod, city.textures, city.name) == (
        False, 0.25, "sensors:idw/ground:no2", 2.0, False, "B")
    seen.clear()
    vm.set_opacity(city.id, 0.25)  # no change, no event
    vm.set_visible(city.id, False)
    assert seen == []
    with pytest.raises(ColourSourceError):
        vm.set_color_by(city.id, "sensors:bogus:no2")
    with pytest.raises(ValueError):
        vm.set_lod(city.id, "highest")
    assert seen == [] and city.color_by == "sensors:idw/ground:no2"
    vm.select(city.id, 1)
    assert seen[-1] == SelectionChanged(city.id, (1,)) and vm.selection is not None
    vm.clear_selection()
    assert seen[-1] == SelectionChanged(-1, ()) and vm.selection is None
    cam = Camera((1.0, 2.0, 3.0), (0.0, 0.0, 0.0))
    vm.set_camera(cam)
    assert seen[-1] == CameraChanged(cam)
    vm.save_view(View("A", cam))
    vm.save_view(View("B", cam))
    vm.save_view(View("A", cam))  # replaces the first A
    assert seen[-1] == ViewsChanged(ViewsChange.SAVED, ("B", "A"))
    assert vm.view("a") is vm.views[1]
    vm.delete_views()
    assert seen[-1] == ViewsChanged(ViewsChange.DELETED, ())


def test_removing_a_layer_removes_its_model_and_the_selection_on_it(boxes_with_ground: Path, tmp_path: Path) -> None:
    vm = ViewerModel()
    m1 = read(boxes_with_ground)
    city, ter = vm.add_model(m1, Dataset(path=boxes_with_ground))
    other = write_boxes(tmp_path / "c.city.json", [("c", 50, 0, 60, 10, 0, 9)])
    (c2,) = vm.add_model(read(other, origin=vm.scene.origin), Dataset(path=other))
    assert len(vm.scene.models) == 2
    vm.select(ter.id, 0)  # the terrain's objects are the city layer's
    seen = _record(vm)
    vm.remove_layer(city.id)
    assert seen == [SelectionChanged(-1, ()), LayerRemoved(city.id, "city")]
    assert vm.selection is None
    assert len(vm.scene.models) == 2  # the terrain layer still draws the first model
    vm.remove_layer(ter.id)
    assert vm.scene.models == [c2.source] and [lay.id for lay in vm] == [c2.id]
    with pytest.raises(KeyError, match=f"no layer with id {ter.id}"):
        vm.layer(ter.id)
    (c3,) = vm.add_model(read(other, origin=vm.scene.origin), Dataset(path=other))
    assert c3.id > c2.id > ter.id  # ids are never reused
    vm.clear()
    assert len(vm) == 0 and vm.scene.models == []


def test_sensor_layers_and_the_clock(boxes_with_ground: Path) -> None:
    from citytwin.model.sensor_spec import SensorLayerSpec

    vm = ViewerModel()
    vm.clock.pause()
    seen = _record(vm)
    spec = SensorLayerSpec(source="/nowhere/air.json", name="Air")
    s = vm.add_layer(LayerKind.SENSORS, spec.name, spec)
    assert s.path == "/nowhere/air.json" and not s.has_model and s.attribute_names() == []
    vm.set_time(1_700_000_000.0)
    vm.play(60.0)
    vm.pause()
    vm.set_clock_bounds((1_700_000_000.0, 1_700_003_600.0), loop=True)
    whats = [e.what for e in seen if isinstance(e, TimeChanged)]
    assert whats == [ClockChange.TIME, ClockChange.PLAY, ClockChange.PAUSE, ClockChange.BOUNDS]
    assert vm.clock.loop and not vm.tick()  # paused: the time did not move
    vm.clock.set_time(1_700_000_100.0)  # moved behind the model's back: the next tick says so
    assert vm.tick() and seen[-1] == TimeChanged(1_700_000_100.0, ClockChange.TIME)
    vm.go_live()
    assert seen[-1].what == ClockChange.LIVE  # type: ignore[attr-defined]
    assert vm.datasets() == []  # sensor layers are not datasets
