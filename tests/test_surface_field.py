"""The sensor fields on city layers without Qt or VTK (model/surface_field.py): buildings get the IDW/nearest
value at their centres, the ground a value per vertex (its own ground objects and the terrain layer split off
it), unchanged inputs are not rewritten, weights are kept while the sensors stay, a layer whose property went
away goes back to semantic colours, and the caches follow the identity of layers, models and visuals."""

from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from citytwin.model.builder import CityModelBuilder
from citytwin.model.colour_source import SensorColour
from citytwin.model.semantics import SEMANTICS
from citytwin.model.sensor_field import idw_values, nearest_values, object_centres
from citytwin.model.sensor_spec import IdwSettings
from citytwin.model.surface_field import ObjectKey, SensorState, SurfaceField, sensor_source

ORIGIN = np.array([1000.0, 2000.0, 0.0])
ROOF = SEMANTICS.index("RoofSurface")


def square(x: float, y: float, s: float, z: float = 0.0) -> np.ndarray:
    return np.array([[x, y, z], [x + s, y, z], [x + s, y + s, z], [x, y + s, z]], float) + ORIGIN


def district() -> Any:
    """Two houses, a road and a terrain TIN (a 3 × 3 grid of squares) in one model."""
    b = CityModelBuilder("mem", "test")
    for k, x in enumerate((0.0, 60.0)):
        o = b.add_object(f"house-{k}", "Building")
        b.add_polygon(o, [square(x, 0.0, 10.0, 8.0)], semantic=ROOF, lod=2)
    r = b.add_object("road", "Road")
    b.add_polygon(r, [square(0.0, 30.0, 70.0)], semantic=SEMANTICS.index("Road"))
    t = b.add_object("tin", "TINRelief")
    for i in range(3):
        for j in range(3):
            b.add_polygon(t, [square(-40.0 + 40 * i, -40.0 + 40 * j, 40.0, -0.5)], semantic=SEMANTICS.index("Terrain"))
    return b.build(origin=ORIGIN)


class FakeVisual:
    """The visual calls SurfaceField makes, recorded."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.styling = SimpleNamespace(mode="semantic", value_range=None)
        self.calls: list[tuple[str, Any]] = []
        self.vertex: np.ndarray | None = None
        self.objects: np.ndarray | None = None

    def set_object_values(self, values: np.ndarray, vmin: float, vmax: float, label: str,
                          context_types: Any = (), notify: bool = True) -> None:
        self.calls.append(("objects", np.array(values)))
        self.styling = SimpleNamespace(mode=label, value_range=(vmin, vmax), context=frozenset(context_types))

    def set_vertex_values(self, values: np.ndarray | None, vmin: float = 0.0, vmax: float = 1.0,
                          objects: np.ndarray | None = None, notify: bool = True) -> None:
        self.calls.append(("vertices", None if values is None else np.array(values)))
        self.vertex, self.objects = values, objects

    def set_color_mode(self, mode: str, value_range: Any = None, notify: bool = True) -> None:
        self.calls.append(("mode", mode))
        self.styling = SimpleNamespace(mode=mode, value_range=None)


@dataclass
class FakeLayer:  # a dataclass like the viewer's Layer: compared by value, not hashable
    model: Any
    visual: FakeVisual
    color_by: str = "semantic"
    owner: Any = None
    kind: str = "city"
    extra: list[Any] = field(default_factory=list)


SENSORS = np.array([[5.0, 5.0], [65.0, 5.0], [30.0, 60.0], [-30.0, -30.0]])  # relative to the scene origin
VALUES = np.array([10.0, 50.0, 30.0, 20.0])
ST = IdwSettings(power=2.0, k=3)


def state(vals: np.ndarray = VALUES) -> SensorState:
    return SensorState(SENSORS.copy(), vals.astype(float), (0.0, 60.0), "µg/m³")


def run(sf: SurfaceField, layers: list[FakeLayer], vals: np.ndarray = VALUES, revert: bool = False,
        st: IdwSettings = ST) -> Any:
    offered = {s.key() for s in (SensorColour("no2", m, t) for m in ("nearest", "idw")
                                 for t in ("buildings", "ground", "both"))}
    return sf.update(layers, offered, lambda prop: state(vals), lambda prop: st, ORIGIN, revert=revert)


def test_buildings_get_the_field_at_their_centres_the_rest_stays_semantic() -> None:
    m = district()
    lay = FakeLayer(m, FakeVisual(m), "sensors:idw:no2")
    done = run(SurfaceField(), [lay])
    assert done.wrote and done.legend and not done.reverted
    (kind, got), = lay.visual.calls
    assert kind == "objects"
    want = idw_values(object_centres(m.object_bboxes(), ORIGIN), SENSORS, VALUES, power=2.0, k=3)
    np.testing.assert_allclose(got, want)
    assert lay.visual.styling.mode == "no2 [µg/m³] · IDW" and lay.visual.styling.value_range == (0.0, 60.0)
    assert lay.visual.styling.context == {"Road", "TINRelief"}  # drawn in their semantic colours
    lay.color_by = "sensors:nearest:no2"
    run(SurfaceField(), [lay])
    np.testing.assert_allclose(lay.visual.calls[-1][1],
                               nearest_values(object_centres(m.object_bboxes(), ORIGIN), SENSORS, VALUES))


def test_ground_gets_a_value_per_vertex_of_its_ground_objects_and_its_terrain_layer() -> None:
    m = district()
    lay = FakeLayer(m, FakeVisual(m), "sensors:idw/ground:no2")
    ter_model = district()
    ter = FakeLayer(ter_model, FakeVisual(ter_model), owner=lay, kind="terrain")
    run(SurfaceField(), [lay, ter])
    kinds = [k for k, _ in lay.visual.calls]
    assert kinds == ["objects", "vertices"]
    assert np.isnan(lay.visual.calls[0][1]).all()  # ground only: buildings keep no value
    assert lay.visual.styling.context == {"Building"}
    ground = np.array([t in ("Road", "TINRelief") for t in m.objects.types])
    assert lay.visual.objects.tolist() == ground.tolist()
    used = np.unique(m.triangles[np.isin(m.tri_object, np.flatnonzero(ground))])
    xy = m.vertices[:, :2].astype(float) + (m.origin[:2] - ORIGIN[:2])
    want = idw_values(xy[used], SENSORS, VALUES, power=2.0, k=3)
    np.testing.assert_allclose(lay.visual.vertex[used], want)
    assert np.isnan(np.delete(lay.visual.vertex, used)).all()
    assert ter.visual.objects.all() and np.isfinite(ter.visual.vertex[np.unique(ter_model.triangles)]).all()


def test_both_and_unchanged_inputs_and_kept_weights() -> None:
    m = district()
    lay = FakeLayer(m, FakeVisual(m), "sensors:nearest/both:no2")
    sf = SurfaceField()
    run(sf, [lay])
    assert [k for k, _ in lay.visual.calls] == ["objects", "vertices"]
    assert lay.visual.styling.context == frozenset()  # buildings coloured, ground per vertex, nothing else
    n = len(lay.visual.calls)
    assert not run(sf, [lay]).wrote  # same sensors, same values: nothing written
    assert len(lay.visual.calls) == n
    weights = dict(sf._weights)
    new = VALUES + 5.0
    assert run(sf, [lay], vals=new).wrote
    assert all(sf._weights[k][1] is w[1] for k, w in weights.items())  # same weights, new values
    np.testing.assert_allclose(lay.visual.calls[-2][1],
                               nearest_values(object_centres(m.object_bboxes(), ORIGIN), SENSORS, new))
    sf.invalidate()
    assert run(sf, [lay], vals=new).wrote
    sf.forget(lay)
    assert run(sf, [lay], vals=new).wrote
    assert run(sf, [lay], vals=new, st=IdwSettings(power=3.0, k=2)).wrote  # settings: new weights
    assert all(sf._weights[k][1] is not w[1] for k, w in weights.items())


def test_a_property_gone_reverts_only_when_asked_and_release_clears_the_ground() -> None:
    m = district()
    lay = FakeLayer(m, FakeVisual(m), "sensors:idw/ground:no2")
    sf = SurfaceField()
    run(sf, [lay])
    lay.color_by = "sensors:idw/ground:pm10"  # no sensor layer has pm10 (yet)
    done = run(sf, [lay])
    assert not done.reverted and lay.color_by == "sensors:idw/ground:pm10"
    assert lay.visual.calls[-1][0] == "vertices" and lay.visual.vertex is not None  # keeps what it shows
    done = run(sf, [lay], revert=True)
    assert done.reverted and done.legend and lay.color_by == "semantic"
    assert ("mode", "semantic") in lay.visual.calls
    assert lay.visual.vertex is None  # its ground field went with it
    # leaving a ground source through the Layers dock
    lay.color_by = "sensors:idw/ground:no2"
    run(sf, [lay])
    assert lay.visual.vertex is not None
    lay.color_by = "function"
    assert sf.release(lay, [lay], ORIGIN)
    assert lay.visual.vertex is None and lay.visual.calls[-1] == ("vertices", None)
    assert not sf.release(lay, [lay], ORIGIN)


def test_caches_follow_object_identity_and_are_pruned() -> None:
    a, b = district(), district()
    la = FakeLayer(a, FakeVisual(a), "sensors:idw/both:no2")
    lb = FakeLayer(b, FakeVisual(b), "sensors:idw:no2")
    sf = SurfaceField()
    run(sf, [la, lb])
    assert sf.cached_models() == 2
    gone = [weakref.ref(lb), weakref.ref(b)]
    del lb, b
    gc.collect()
    assert all(r() is None for r in gone)  # the caches hold no layer or model alive
    run(sf, [la])  # lb left the scene: its model's caches go
    assert sf.cached_models() == 1
    assert all(k[0] == ObjectKey(la) for k in sf._weights)


def test_object_keys() -> None:
    class Thing:
        pass

    x, y = Thing(), Thing()
    assert ObjectKey(x) == ObjectKey(x) and hash(ObjectKey(x)) == hash(ObjectKey(x)) == id(x)
    assert ObjectKey(x) != ObjectKey(y)
    lay = FakeLayer(None, None)  # type: ignore[arg-type]
    twin = FakeLayer(None, None)  # type: ignore[arg-type]
    assert lay == twin and ObjectKey(lay) != ObjectKey(twin)  # identity, not dataclass equality
    k = ObjectKey(x)
    del x
    gc.collect()
    assert k.get() is None and k != k  # a dead object's key matches nothing, not even a reused id
    assert ObjectKey(3) == ObjectKey(3)  # not weak-referenceable: held


@pytest.mark.parametrize("key, want", [
    ("sensors:idw/ground:no2", SensorColour("no2", "idw", "ground")),
    ("sensors:kriging:no2", None), ("semantic", None), ("function", None), (None, None),
])
def test_sensor_source(key: Any, want: Any) -> None:
    assert sensor_source(key) == want
