"""Height, footprint and surface area per object type: buildings (and trees, bridges…)
keep height and footprint, ground-like objects (terrain, roads, water, land use, plant
cover) have neither, and a TIN's surface area is its real 3D area."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from citytwin.model import CityModelBuilder
from citytwin.model.query import evaluate
from citytwin.model.semantics import SEMANTICS, is_ground_type

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"
G, R, W = (SEMANTICS.index(n) for n in ("GroundSurface", "RoofSurface", "WallSurface"))


def _box(b: CityModelBuilder, o: int, x0: float, y0: float, z0: float, dx: float, dy: float, dz: float) -> None:
    x1, y1, z1 = x0 + dx, y0 + dy, z0 + dz
    c = np.array([[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0],
                  [x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]], float)
    faces = [([0, 3, 2, 1], G), ([4, 5, 6, 7], R), ([0, 1, 5, 4], W), ([1, 2, 6, 5], W),
             ([2, 3, 7, 6], W), ([3, 0, 4, 7], W)]
    for idx, sem in faces:
        b.add_polygon(o, [c[idx]], semantic=sem, lod=2)


def _model():
    b = CityModelBuilder("mem", "test")
    bld = b.add_object("bld", "Building", {"function": "office"})
    _box(b, bld, 0, 0, 30, 10, 20, 25)  # standing on a hill at z = 30: 25 m tall, 200 m² footprint
    # a TIN: a 100 m x 100 m square rising 40 m to the east, two triangles
    tin = b.add_object("tin", "TINRelief")
    p = np.array([[0, 0, 0], [100, 0, 40], [100, 100, 40], [0, 100, 0]], float) + [-50, -50, 0]
    b.add_polygon(tin, [p[[0, 1, 2]]], lod=2)
    b.add_polygon(tin, [p[[0, 2, 3]]], lod=2)
    road = b.add_object("road", "Road")  # a 6 m x 200 m street climbing 24 m
    b.add_polygon(road, [np.array([[0, -100, 0], [6, -100, 0], [6, 100, 24], [0, 100, 24]], float)], lod=1)
    lake = b.add_object("lake", "WaterBody")  # a flat 20 m x 10 m pond with a 2 m x 2 m island
    b.add_polygon(lake, [np.array([[0, 0, 5], [20, 0, 5], [20, 10, 5], [0, 10, 5]], float),
                         np.array([[4, 4, 5], [4, 6, 5], [6, 6, 5], [6, 4, 5]], float)], lod=1)
    b.add_object("park", "PlantCover")
    bridge = b.add_object("bridge", "Bridge")
    _box(b, bridge, 200, 0, 0, 5, 40, 22)
    return b.build()


def test_ground_types() -> None:
    for t in ("TINRelief", "ReliefFeature", "Road", "Railway", "TrafficArea", "AuxiliaryTrafficArea",
              "WaterBody", "LandUse", "PlantCover", "TransportSquare", "Waterway", "tran:Road"):
        assert is_ground_type(t), t
    for t in ("Building", "BuildingPart", "Bridge", "Tunnel", "SolitaryVegetationObject", "CityFurniture",
              "GenericCityObject", "+NoiseBarrier", "", None):
        assert not is_ground_type(t), t


def test_measures_per_type_on_a_synthetic_model() -> None:
    m = _model()
    ix = {oid: i for i, oid in enumerate(m.objects.ids)}
    assert m.height(ix["bld"]) == pytest.approx(25.0)
    assert m.footprint_area(ix["bld"]) == pytest.approx(200.0)
    assert m.surface_area(ix["bld"]) == pytest.approx(2 * 200 + 2 * 10 * 25 + 2 * 20 * 25)
    assert m.height(ix["bridge"]) == pytest.approx(22.0)
    for oid in ("tin", "road", "lake", "park"):
        assert math.isnan(m.height(ix[oid])) and math.isnan(m.footprint_area(ix[oid])), oid
    # a TIN's area is its sloped 3D area, its plan area the square on the map
    assert m.surface_area(ix["tin"]) == pytest.approx(100 * math.hypot(100, 40))
    assert m.plan_area(ix["tin"]) == pytest.approx(100 * 100)
    assert m.surface_area(ix["road"]) == pytest.approx(6 * math.hypot(200, 24))
    assert m.plan_area(ix["lake"]) == pytest.approx(200 - 4)
    assert m.surface_area(ix["lake"]) == pytest.approx(200 - 4)
    assert m.surface_area(ix["park"]) == 0.0 and math.isnan(m.height(ix["park"]))  # no geometry
    # the filter agrees: terrain (40 m rise) and the road (24 m) are not "taller than 20 m"
    got = {m.objects.ids[i] for i in np.flatnonzero(evaluate(m, "height > 20"))}
    assert got == {"bld", "bridge"}
    assert not evaluate(m, 'type == "TINRelief" and height >= 0').any()


def test_surface_area_does_not_depend_on_the_triangles_a_layer_draws() -> None:
    """The viewer splits the terrain into its own layer; the object table's layer keeps the
    other triangles. The TIN's area must not become 0 there."""
    m = _model()
    tin = m.objects.ids.index("tin")
    city_only = m.tri_object != tin
    sub = replace(m, corners=m.corners[city_only], tri_poly=m.tri_poly[city_only], _cache={})
    assert m.surface_area(tin) > 0
    assert sub.surface_area(tin) == pytest.approx(m.surface_area(tin))
    assert sub.plan_area(tin) == pytest.approx(10_000)


def test_demo_district_terrain_and_roads_have_no_height() -> None:
    from citytwin.io import read

    m = read(DEMO)
    types = np.asarray(m.objects.types)
    tin = int(np.flatnonzero(types == "TINRelief")[0])
    assert math.isnan(m.height(tin)) and math.isnan(m.footprint_area(tin))
    assert m.surface_area(tin) > m.plan_area(tin) > 100_000  # a sloped terrain of ~43 ha
    for r in np.flatnonzero(types == "Road"):
        assert math.isnan(m.height(int(r))) and m.surface_area(int(r)) > 0
    tall = set(types[evaluate(m, "height > 20")])
    assert tall and tall <= {"Building", "BuildingPart", "SolitaryVegetationObject"}
    b = int(np.flatnonzero(types == "Building")[0])
    assert 0 < m.height(b) < 100 and 0 < m.footprint_area(b) < m.surface_area(b)
