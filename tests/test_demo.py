"""The demo district generator (deterministic, valid CityJSON 2.0) and scene files."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import orjson
import pytest

from citytwin.core.errors import ReaderError
from citytwin.demo import DEMO_FILENAME, demo_counts, generate_demo, write_demo_scene
from citytwin.model.scenefile import Camera, Dataset, SceneFile, View, read_scene, scene_toml, write_scene

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "scenes" / "demo" / DEMO_FILENAME
COMMITTED_SCENE = ROOT / "scenes" / "demo.toml"

BUILDING_SURFACES = {"RoofSurface", "WallSurface", "GroundSurface"}
ALLOWED = {
    "Building": BUILDING_SURFACES,
    "BuildingPart": BUILDING_SURFACES,
    "Road": {"TrafficArea", "AuxiliaryTrafficArea"},
    "WaterBody": {"WaterSurface"},
    "TINRelief": set(),
    "SolitaryVegetationObject": set(),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    path = generate_demo(out / "demo")
    write_demo_scene(out / "demo.toml", path)
    return path


@pytest.fixture(scope="module")
def doc(generated: Path) -> dict:
    return orjson.loads(generated.read_bytes())


def test_generator_reproduces_committed_files(generated: Path) -> None:
    assert COMMITTED.is_file(), "run `python -m citytwin.demo` to create scenes/demo"
    assert generated.read_bytes() == COMMITTED.read_bytes(), "demo output changed: regenerate and commit it"
    assert (generated.parent.parent / "demo.toml").read_bytes() == COMMITTED_SCENE.read_bytes()
    assert COMMITTED.stat().st_size < 3 * 1024 * 1024


def test_seed_changes_output(tmp_path: Path, generated: Path) -> None:
    other = generate_demo(tmp_path, seed=8)
    assert other.read_bytes() != generated.read_bytes()
    assert generate_demo(tmp_path / "again", seed=8).read_bytes() == other.read_bytes()


def _surfaces(g: dict) -> list:
    b = g["boundaries"]
    return [s for shell in b for s in shell] if g["type"] == "Solid" else b


def test_valid_cityjson_2(doc: dict) -> None:
    assert doc["type"] == "CityJSON" and doc["version"] == "2.0"
    assert doc["metadata"]["referenceSystem"] == "https://www.opengis.net/def/crs/EPSG/0/25832"
    assert doc["transform"]["scale"] == [0.001, 0.001, 0.001] and len(doc["transform"]["translate"]) == 3
    verts = doc["vertices"]
    assert all(len(v) == 3 and all(type(c) is int for c in v) for v in verts)
    assert len({tuple(v) for v in verts}) == len(verts), "duplicate vertices"
    used = [False] * len(verts)
    cos = doc["CityObjects"]
    for oid, o in cos.items():
        assert o["type"] in ALLOWED, oid
        assert isinstance(o.get("geometry"), list), oid
        for p in o.get("parents", []):
            assert oid in cos[p]["children"]
        for c in o.get("children", []):
            assert cos[c]["parents"] == [oid]
        if o["type"] == "BuildingPart":
            assert o["parents"]
        for g in o["geometry"]:
            assert g["type"] in ("Solid", "MultiSurface", "CompositeSurface"), oid
            assert isinstance(g["lod"], str) and re.fullmatch(r"\d(\.\d)?", g["lod"])
            surfaces = _surfaces(g)
            for s in surfaces:
                for ring in s:
                    assert len(set(ring)) >= 3 and len(set(ring)) == len(ring), oid
                    for i in ring:
                        assert 0 <= i < len(verts)
                        used[i] = True
            sem = g.get("semantics")
            if sem:
                types = [x["type"] for x in sem["surfaces"]]
                assert set(types) <= ALLOWED[o["type"]], (oid, types)
                vals = [v for shell in sem["values"] for v in shell] if g["type"] == "Solid" else sem["values"]
                assert len(vals) == len(surfaces)
                assert all(0 <= v < len(types) for v in vals)
    assert all(used), "unused vertices"
    # the extent in the metadata is that of the vertices
    s, t = doc["transform"]["scale"], doc["transform"]["translate"]
    lo = [min(v[k] for v in verts) * s[k] + t[k] for k in range(3)]
    assert doc["metadata"]["geographicalExtent"][:3] == pytest.approx(lo, abs=1e-3)


def test_counts_and_content(doc: dict) -> None:
    intended = demo_counts()
    cos = doc["CityObjects"]
    types = Counter(o["type"] for o in cos.values())
    assert dict(types) == intended["types"]
    lods = Counter(g["lod"] for o in cos.values() for g in o["geometry"])
    assert dict(lods) == intended["lods"]
    assert len(doc["vertices"]) == intended["vertices"]
    assert 300 <= types["Building"] <= 400
    assert types["BuildingPart"] >= 20 and types["TINRelief"] == 1 and types["WaterBody"] == 1
    assert types["Road"] >= 10 and types["SolitaryVegetationObject"] >= 50
    buildings = [o for o in cos.values() if o["type"] in ("Building", "BuildingPart")]
    roof_types = Counter(o["attributes"].get("roofType") for o in buildings if o["geometry"])
    assert {"flat", "gabled", "hipped", "shed"} <= set(roof_types)
    for o in buildings:  # geometry-bearing buildings have LoD1 and LoD2
        if o["geometry"]:
            assert sorted(g["lod"] for g in o["geometry"]) == ["1", "2"]
    functions = {o["attributes"].get("function") for o in cos.values() if o["type"] == "Building"}
    assert {"residential", "commercial", "office", "school"} <= functions
    assert sum(1 for o in cos.values() if "name" in o.get("attributes", {}) and o["type"] == "Building") >= 4
    for key in ("yearOfConstruction", "storeysAboveGround", "measuredHeight"):
        assert all(key in o["attributes"] for o in cos.values() if o["type"] == "Building")
    # courtyards (polygons with holes) and L-shaped footprints exist
    lod2 = [g for o in buildings for g in o["geometry"] if g["lod"] == "2"]
    assert any(len(s) > 1 for g in lod2 for s in _surfaces(g))
    ground_sizes = Counter(
        len(s[0]) for g in lod2 for s, v in zip(_surfaces(g), g["semantics"]["values"][0])
        if g["semantics"]["surfaces"][v]["type"] == "GroundSurface"
    )
    assert ground_sizes[6] > 5 and ground_sizes[4] > 100
    roads = [o for o in cos.values() if o["type"] == "Road"]
    assert all({s["type"] for s in r["geometry"][0]["semantics"]["surfaces"]} >= {"TrafficArea"} for r in roads)


def test_loads_with_cityjson_reader(generated: Path, doc: dict) -> None:
    try:
        from citytwin.io.cityjson import read_cityjson
    except ImportError:
        pytest.skip("citytwin.io.cityjson.read_cityjson not available yet")
    m = read_cityjson(generated)
    assert m.counts_by_type() == demo_counts()["types"]
    assert m.lods() == [1.0, 2.0]
    assert m.crs is not None and m.crs.to_epsg() == 25832
    assert not m.report.counts, m.report.messages[:5]
    ext = doc["metadata"]["geographicalExtent"]
    assert m.bbox().ravel() == pytest.approx([*ext[:3], *ext[3:]], abs=2e-3)
    assert abs(m.vertices).max() < 1000  # relative to the origin, float32-safe
    # every building with geometry has LoD2 roofs
    roof = 1
    has_roof = set(m.polygons.object[(m.polygons.semantic == roof) & (m.polygons.lod == 20)].tolist())
    with_geom = set(m.polygons.object.tolist())
    bld = {i for i, t in enumerate(m.objects.types) if t in ("Building", "BuildingPart")}
    assert bld & with_geom <= has_roof


# ---------------------------------------------------------------- scene files
def test_committed_scene_file() -> None:
    sf = read_scene(COMMITTED_SCENE)
    assert sf.version == 1 and sf.crs == "EPSG:25832" and sf.color_by == "semantic"
    assert len(sf.datasets) == 1
    d = sf.datasets[0]
    assert d.path == COMMITTED.resolve() and d.path.is_file()
    assert d.crs == "EPSG:25832" and d.visible and d.opacity == 1.0 and d.lod == "best"
    assert sf.camera is not None
    assert {"Overview", "Top", "Rathaus", "Stadtpark"} <= {v.name for v in sf.views}
    assert sf.view("stadtpark") is not None and sf.view("nowhere") is None
    # the cameras look at the district
    doc = orjson.loads(COMMITTED.read_bytes())
    ext = doc["metadata"]["geographicalExtent"]
    for v in sf.views:
        fx, fy, _ = v.camera.focal_point
        assert ext[0] <= fx <= ext[3] and ext[1] <= fy <= ext[4], v.name


def test_scene_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data" / "a b.city.json"
    data.parent.mkdir()
    data.write_text("{}")
    cam = Camera((1.5, 2.0, 3.0), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 40.0)
    sf = SceneFile(
        version=1, title='My "quoted" scene\\', crs="EPSG:7415", color_by="yearOfConstruction",
        datasets=[Dataset(path=data, crs=None, name="Städtchen", visible=False, opacity=0.5,
                          color_by="function", lod=2.0)],
        camera=cam, views=[View("A", cam), View("B\tC", Camera((123456.789, 5e6, 10.0), (1.0, 2.0, 3.0)))],
    )
    p = write_scene(sf, tmp_path / "scenes" / "s.toml")
    text = p.read_text()
    assert 'path = "../data/a b.city.json"' in text and str(tmp_path) not in text
    back = read_scene(p)
    assert back.datasets[0].path == data.resolve()
    assert back.title == sf.title and back.views[1].name == "B\tC"
    assert back.datasets[0].lod == 2.0 and back.datasets[0].opacity == 0.5 and not back.datasets[0].visible
    assert back.views[1].camera.position == (123456.789, 5e6, 10.0)
    assert back.camera == cam and back.color_by == "yearOfConstruction" and back.crs == "EPSG:7415"
    assert scene_toml(back, p) == text


@pytest.mark.parametrize(
    "text, message",
    [
        ("version = 2\n", "version 2 is not supported"),
        ("title = 'x'\n", "no integer 'version'"),
        ("version = 1\n[[datasets]]\nname = 'x'\n", "needs a 'path'"),
        ("version = 1\n[camera]\nposition = [1, 2]\nfocal_point = [0, 0, 0]\n", "three numbers"),
        ("version = 1\n[[views]]\nname = 'v'\n", "needs position and focal_point"),
        ("version = = 1\n", "not a valid TOML"),
    ],
)
def test_bad_scene_files(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ReaderError) as ei:
        read_scene(p)
    assert message in str(ei.value) and "bad.toml" in str(ei.value) and "\n" not in str(ei.value)


def test_missing_scene_file(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such file"):
        read_scene(tmp_path / "nope.toml")


def test_local_to_world_matches_the_written_vertices(doc: dict) -> None:
    from citytwin.demo.district import EXTENT, GRID, local_to_world, terrain_height

    # the terrain's corner vertices are the local extent's corners, quantised to mm
    s, t = doc["transform"]["scale"], doc["transform"]["translate"]
    verts = {tuple(round(v[k] * s[k] + t[k], 3) for k in range(3)) for v in doc["vertices"]}
    for x, y in ((0.0, 0.0), (EXTENT[0], 0.0), (0.0, EXTENT[1]), (EXTENT[0], EXTENT[1]), (GRID, 2 * GRID)):
        w = local_to_world(x, y, terrain_height(x, y))
        assert tuple(round(c, 3) for c in w) in verts


def test_demo_sensor_feed_reproduces_committed_file(tmp_path: Path) -> None:
    from citytwin.demo.generate import DEMO_SENSORS_FILENAME, generate_demo_sensors

    committed = ROOT / "scenes" / "demo" / DEMO_SENSORS_FILENAME
    assert committed.is_file(), "run `python -m citytwin.demo` to create scenes/demo"
    assert generate_demo_sensors(tmp_path).read_bytes() == committed.read_bytes()
    doc = orjson.loads(committed.read_bytes())
    assert len(doc["datastreams"]) == 72 and committed.stat().st_size < 1024 * 1024
    sf = read_scene(COMMITTED_SCENE)
    assert len(sf.sensors) == 1 and Path(sf.sensors[0]["source"]) == committed.resolve()


def test_scene_file_sensor_layers_round_trip(tmp_path: Path) -> None:
    from citytwin.model.sensor_spec import SensorLayerSpec, Threshold

    spec = SensorLayerSpec(source="mqtt://127.0.0.1:1883", name='Kiosks "east"', topics=["city/+/air"],
                           mappings=[{"topic": "city/{id}/air", "value": "data.no2", "unit": "µg/m³"}],
                           thresholds=[Threshold("no2", above=40.0, label="EU")], username="viewer",
                           password_env="CT_PW", replay={"speed": 60.0})
    replay = tmp_path / "data" / "rec.csv"
    sf = SceneFile(sensors=[spec.to_dict(), SensorLayerSpec(source=str(replay)).to_dict()])
    p = write_scene(sf, tmp_path / "scenes" / "s.toml")
    text = p.read_text(encoding="utf-8")
    assert "[[sensors]]" in text and "../data/rec.csv" in text and "password =" not in text
    back = read_scene(p)
    assert len(back.sensors) == 2
    assert SensorLayerSpec.from_dict(back.sensors[0]) == spec
    assert Path(back.sensors[1]["source"]) == replay.resolve()
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[[sensors]]\nname = "no source"\n')
    with pytest.raises(ReaderError, match="sensors"):
        read_scene(bad)
