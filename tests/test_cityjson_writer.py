"""CityJSON 2.0 writer: output checked by a validator written here from the CityJSON 2.0
specification (cjio's ``validate`` needs ``cjvalpy``, which has no Linux wheel for
Python 3.11 on PyPI), then read back and compared with the source model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from citytwin.core.crs import parse_crs
from citytwin.io.cityjson import read_cityjson, read_cityjsonseq, write_cityjson
from citytwin.io.cityjson.writer import reference_system
from citytwin.model import CityModelBuilder, semantic_code

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

TYPES_2_0 = set(
    """Bridge BridgePart BridgeInstallation BridgeConstructiveElement BridgeRoom BridgeFurniture
    Building BuildingPart BuildingInstallation BuildingConstructiveElement BuildingFurniture
    BuildingStorey BuildingRoom BuildingUnit CityFurniture CityObjectGroup GenericCityObject
    LandUse OtherConstruction PlantCover SolitaryVegetationObject TINRelief TransportSquare
    Railway Road Tunnel TunnelPart TunnelInstallation TunnelConstructiveElement TunnelHollowSpace
    TunnelFurniture WaterBody Waterway""".split()
)
SECOND_LEVEL = {t for t in TYPES_2_0 if t.startswith(("Building", "Bridge", "Tunnel"))} - {
    "Building", "Bridge", "Tunnel"}
BUILDING_SURFACES = set(
    """RoofSurface WallSurface GroundSurface ClosureSurface OuterCeilingSurface OuterFloorSurface
    Window Door InteriorWallSurface CeilingSurface FloorSurface""".split()
)
ALLOWED_SURFACES = {
    "WaterBody": {"WaterSurface", "WaterGroundSurface", "WaterClosureSurface"},
    "Road": {"TrafficArea", "AuxiliaryTrafficArea", "TransportationMarking", "TransportationHole"},
}
DEPTH = {"MultiSurface": 1, "CompositeSurface": 1, "Solid": 2, "MultiSolid": 3, "CompositeSolid": 3}


def _allowed(t: str) -> set[str]:
    if t.startswith(("Building", "Bridge", "Tunnel")):
        return BUILDING_SURFACES
    return ALLOWED_SURFACES.get(t, set())


def validate_cityjson_2(doc: dict) -> list[str]:
    """Errors of ``doc`` against the CityJSON 2.0 rules our writer must follow."""
    err: list[str] = []
    if doc.get("type") != "CityJSON" or doc.get("version") != "2.0":
        err.append("type/version")
    tr = doc.get("transform", {})
    if len(tr.get("scale", [])) != 3 or len(tr.get("translate", [])) != 3:
        err.append("transform")
    rs = doc.get("metadata", {}).get("referenceSystem")
    if rs is not None and not re.fullmatch(r"https://www\.opengis\.net/def/crs/EPSG/0/\d+", rs):
        err.append(f"referenceSystem {rs}")
    verts = doc["vertices"]
    if not all(len(v) == 3 and all(isinstance(c, int) for c in v) for v in verts):
        err.append("vertices must be 3 integers")
    if len({tuple(v) for v in verts}) != len(verts):
        err.append("duplicate vertices")
    used = np.zeros(len(verts), bool)
    n_mat = len(doc.get("appearance", {}).get("materials", []))
    for m in doc.get("appearance", {}).get("materials", []):
        if not isinstance(m.get("name"), str):
            err.append("material without name")
    cos = doc["CityObjects"]
    for oid, o in cos.items():
        t = o["type"]
        if t not in TYPES_2_0 and not (t.startswith("+") and doc.get("extensions")):
            err.append(f"{oid}: type {t}")
        if "geometry" not in o and t not in ("CityObjectGroup",):
            err.append(f"{oid}: no geometry member")
        if t in SECOND_LEVEL and not o.get("parents"):
            err.append(f"{oid}: {t} without parents")
        for p in o.get("parents", []):
            if p not in cos or oid not in cos[p].get("children", []):
                err.append(f"{oid}: parent {p} missing or does not list it")
        for c in o.get("children", []):
            if c not in cos or oid not in cos[c].get("parents", []):
                err.append(f"{oid}: child {c} missing or does not list it")
        for g in o.get("geometry", []):
            depth = DEPTH.get(g["type"])
            if depth is None:
                err.append(f"{oid}: geometry {g['type']}")
                continue
            if not isinstance(g.get("lod"), str) or not re.fullmatch(r"\d(\.\d)?", g["lod"]):
                err.append(f"{oid}: lod {g.get('lod')!r}")
            surfaces = g["boundaries"]
            for _ in range(depth - 1):
                surfaces = [s for x in surfaces for s in x]
            for s in surfaces:
                for ring in s:
                    if not all(isinstance(i, int) and 0 <= i < len(verts) for i in ring):
                        err.append(f"{oid}: bad index")
                        continue
                    used[ring] = True
                    if len(set(ring)) < 3:
                        err.append(f"{oid}: ring with < 3 vertices")
                    if any(ring[k] == ring[(k + 1) % len(ring)] for k in range(len(ring))):
                        err.append(f"{oid}: repeated consecutive vertex")
            sem = g.get("semantics")
            if sem:
                vals = sem["values"]
                if depth == 1 and len(vals) != len(surfaces):
                    err.append(f"{oid}: semantics values length")
                for s in sem["surfaces"]:
                    if s["type"] not in _allowed(t) and not s["type"].startswith("+"):
                        err.append(f"{oid}: semantic {s['type']} not allowed in {t}")
                if any(v is not None and not 0 <= v < len(sem["surfaces"]) for v in vals):
                    err.append(f"{oid}: semantics value out of range")
            for th in g.get("material", {}).values():
                vals = th.get("values", [])
                if len(vals) != len(surfaces) or any(v is not None and not 0 <= v < n_mat for v in vals):
                    err.append(f"{oid}: material values")
    if not used.all():
        err.append(f"{int((~used).sum())} unused vertices")
    return err


def _read(path: Path):
    return read_cityjsonseq(path) if path.name.endswith(".jsonl") else read_cityjson(path)


def _compare(src, back) -> None:
    assert back.counts_by_type() == src.counts_by_type()
    assert back.objects.ids == src.objects.ids
    for i, oid in enumerate(src.objects.ids):
        assert back.objects.attributes[back.objects.index[oid]] == src.objects.attributes[i], oid
    assert np.array_equal(back.objects.parents, src.objects.parents)
    assert back.lods() == src.lods()
    for lod in src.lods():
        assert back.total_area(lod) == pytest.approx(src.total_area(lod), rel=1e-3)


ROUND_TRIP = [
    "cityjson/delft/delft_v1.1.city.json",
    "cityjson/3dbag/3dbag_b2.city.json",
    "cityjson/3dbag/tile_901_trimmed.city.jsonl",
    "cityjson/zurich/zurich_subset_lod2_v1.1.city.json",
    "cityjson/denhaag/DenHaag_01_v1.0.city.json",
    "cityjson/rotterdam-textured/rotterdam_one_v1.1.city.json",
]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_round_trip_valid_same_content(tmp_path, name):
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    src = _read(DATA / name)
    out = write_cityjson(src, tmp_path / "out.city.json")
    doc = json.loads(out.read_text())
    assert validate_cityjson_2(doc) == []
    assert doc["metadata"]["referenceSystem"].endswith(f"/{src.crs.to_epsg()}")
    assert doc["transform"]["scale"] == [0.001] * 3
    back = read_cityjson(out)
    assert back.crs.to_epsg() == src.crs.to_epsg()
    _compare(src, back)
    # extent written from the vertices
    ext = np.asarray(doc["metadata"]["geographicalExtent"]).reshape(2, 3)
    assert np.allclose(ext, src.bbox(), atol=2e-3)


def test_denhaag_materials_and_tin(tmp_path):
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    src = read_cityjson(DATA / "cityjson/denhaag/DenHaag_01_v1.0.city.json")
    doc = json.loads(write_cityjson(src, tmp_path / "dh.city.json").read_text())
    assert len(doc["appearance"]["materials"]) == 5970
    tin = [o for o in doc["CityObjects"].values() if o["type"] == "TINRelief"]
    assert len(tin) == 1 and tin[0]["geometry"][0]["type"] == "CompositeSurface"
    back = read_cityjson(tmp_path / "dh.city.json")
    assert np.array_equal(back.polygons.material >= 0, src.polygons.material >= 0)
    assert np.array_equal(back.polygons.semantic, src.polygons.semantic)


def test_lod_selection(tmp_path):
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    src = read_cityjsonseq(DATA / "cityjson/3dbag/tile_901_trimmed.city.jsonl")
    doc = json.loads(write_cityjson(src, tmp_path / "l.city.json", lod=1.2).read_text())
    assert validate_cityjson_2(doc) == []
    lods = {g["lod"] for o in doc["CityObjects"].values() for g in o["geometry"]}
    assert lods == {"1.2"}
    back = read_cityjson(tmp_path / "l.city.json")
    assert back.total_area(1.2) == pytest.approx(src.total_area(1.2), rel=1e-3)
    doc = json.loads(write_cityjson(src, tmp_path / "b.city.json", lod="best").read_text())
    assert {g["lod"] for o in doc["CityObjects"].values() for g in o["geometry"]} == {"0", "2.2"}


def _synthetic_model():
    b = CityModelBuilder("mem", "citygml", "2.0", parse_crs("EPSG:25832"))
    sq = np.array([[500000.0, 5400000.0, 10.0], [500010, 5400000, 10], [500010, 5400010, 10],
                   [500000, 5400010, 10]])
    hole = np.array([[500002.0, 5400002.0, 10.0], [500002, 5400004, 10], [500004, 5400004, 10],
                     [500004, 5400002, 10]])
    relief = b.add_object("relief", "ReliefFeature", {"name": "terrain"})
    tin = b.add_object("tin", "TINRelief", {}, parent=relief)
    road = b.add_object("road", "Road", {"function": "street"})
    sec = b.add_object("sec", "Section", {}, parent=road)
    ta = b.add_object("ta", "TrafficArea", {}, parent=sec)
    bldg = b.add_object("bldg", "Building", {"year": 1990, "tags": ["a", "b"]})
    b.add_polygon(tin, [sq[:3]], semantic=semantic_code("TINRelief"), lod=1)
    b.add_polygon(tin, [sq[[0, 2, 3]]], semantic=semantic_code("TINRelief"), lod=1)
    b.add_polygon(ta, [sq + [0, 0, 1]], semantic=semantic_code("TrafficArea"), lod=2)
    b.add_polygon(road, [sq + [0, 0, 2]], semantic=semantic_code("TrafficArea"), lod=2)
    b.add_polygon(road, [sq + [0, 0, 3]], semantic=semantic_code("RoofSurface"), lod=2)  # not valid here
    m0 = b.add_material({"name": "red", "diffuseColor": [1, 0, 0], "extra": 1})
    b.add_polygon(bldg, [sq + [0, 0, 4], hole + [0, 0, 4]], semantic=semantic_code("RoofSurface"),
                  lod=2.2, material=m0)
    b.add_polygon(bldg, [sq + [0, 0, 5]], semantic=semantic_code("TrafficArea"), lod=2.2)
    return b.build()


def test_types_cityjson_lacks_are_mapped_and_restored(tmp_path):
    src = _synthetic_model()
    out = write_cityjson(src, tmp_path / "s.city.json")
    doc = json.loads(out.read_text())
    assert validate_cityjson_2(doc) == []
    cos = doc["CityObjects"]
    assert cos["relief"]["type"] == "GenericCityObject"
    assert cos["relief"]["attributes"] == {"name": "terrain", "citygml:type": "ReliefFeature"}
    assert cos["relief"]["children"] == ["tin"]
    assert cos["tin"]["type"] == "TINRelief" and cos["tin"]["geometry"][0]["type"] == "CompositeSurface"
    assert cos["sec"]["type"] == "GenericCityObject" and cos["ta"]["type"] == "GenericCityObject"
    assert cos["ta"]["attributes"]["citygml:type"] == "TrafficArea"
    assert "semantics" not in cos["ta"]["geometry"][0]
    # Road: only transportation surfaces; the roof polygon is written without semantics
    sem = cos["road"]["geometry"][0]["semantics"]
    assert sem["surfaces"] == [{"type": "TrafficArea"}] and sem["values"] == [0, None]
    # Building: hole kept, semantic TrafficArea dropped, material theme "default"
    g = cos["bldg"]["geometry"][0]
    assert g["lod"] == "2.2" and len(g["boundaries"][0]) == 2
    assert g["semantics"]["values"] == [0, None]
    assert g["material"] == {"default": {"values": [0, None]}}
    assert doc["appearance"]["materials"] == [{"name": "red", "diffuseColor": [1.0, 0.0, 0.0]}]
    assert doc["metadata"]["referenceSystem"] == "https://www.opengis.net/def/crs/EPSG/0/25832"
    back = read_cityjson(out)
    _compare(src, back)
    assert back.objects.types == src.objects.types
    assert back.total_area(2.2) == pytest.approx(100 - 4 + 100)


def test_reference_system_compound_codes():
    assert reference_system(parse_crs("EPSG:7415")).endswith("/7415")
    # RD New + NAP given as two codes: the EPSG compound code is found
    two = parse_crs("urn:ogc:def:crs,crs:EPSG::28992,crs:EPSG::5709")
    assert reference_system(two).endswith("/7415")
    # no compound code for this pair: the horizontal code
    odd = parse_crs("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5709")
    assert reference_system(odd).endswith("/25832")
    assert reference_system(None) is None


def test_citygml_twin_writes_valid_cityjson(tmp_path):
    citygml = pytest.importorskip("citytwin.io.citygml")
    if not DATA.is_dir() or not hasattr(citygml, "read_citygml"):
        pytest.skip("CityGML reader or shared data not available")
    src = citygml.read_citygml(DATA / "citygml/denhaag/DenHaag_01.gml.gz")
    out = write_cityjson(src, tmp_path / "gml.city.json")
    doc = json.loads(out.read_text())
    assert validate_cityjson_2(doc) == []
    back = read_cityjson(out)
    _compare(src, back)
