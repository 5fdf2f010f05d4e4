"""Every shared CityGML file loads; counts, bboxes and areas match independent lxml parses."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from citytwin.core.crs import crs_label, horizontal, to_wgs84_bbox
from citytwin.io.citygml import read_citygml
from citytwin.model.semantics import SEMANTICS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data folder {DATA} is missing")

FILES = sorted(
    p
    for sub in ("citygml", "citygml3")
    for p in (DATA / sub).rglob("*")
    if p.name.endswith((".gml", ".xml", ".gml.gz"))
) if DATA.is_dir() else []

# city object element names (local names) the reader turns into object rows
OBJECT_NAMES = {
    "Building", "BuildingPart", "BuildingInstallation", "IntBuildingInstallation", "Room",
    "BuildingFurniture", "BuildingRoom", "BuildingUnit", "Storey", "BuildingConstructiveElement",
    "ReliefFeature", "TINRelief", "MassPointRelief", "BreaklineRelief", "RasterRelief", "Road",
    "Railway", "Track", "Square", "Waterway", "TransportationComplex", "Section", "Intersection",
    "SolitaryVegetationObject", "PlantCover", "WaterBody", "CityFurniture", "Bridge", "BridgePart",
    "BridgeInstallation", "BridgeConstructiveElement", "Tunnel", "TunnelPart", "LandUse",
    "GenericCityObject", "GenericOccupiedSpace", "CityObjectGroup", "OtherConstruction",
}
GML = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")


def _tree(path: Path) -> etree._Element:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return etree.fromstring(data, etree.XMLParser(huge_tree=True, resolve_entities=False))


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


@pytest.fixture(scope="module")
def models() -> dict[Path, object]:
    return {}


def _load(models: dict, path: Path, **kw):  # type: ignore[no-untyped-def]
    key = (path, tuple(sorted(kw.items())))
    if key not in models:
        models[key] = read_citygml(path, **kw)
    return models[key]


def test_shared_files_found() -> None:
    assert len(FILES) >= 19


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_loads_with_independent_counts(path: Path, models: dict) -> None:
    m = _load(models, path)
    root = _tree(path)
    expected: dict[str, int] = {}
    for el in root.iter():
        name = _local(el)
        if name in OBJECT_NAMES:
            expected[name] = expected.get(name, 0) + 1
    assert m.counts_by_type() == dict(sorted(expected.items()))
    assert m.n_triangles > 0
    assert m.format == "CityGML"
    ns = etree.QName(root).namespace
    assert m.version == ns.rsplit("/", 1)[-1]
    assert m.metadata["citygml_version"] == m.version
    # every polygon of the file is drawn once, except xlinked and broken ones
    n_poly = sum(1 for el in root.iter() if _local(el) in ("Polygon", "Triangle", "PolygonPatch"))
    assert len(m.polygons) <= n_poly
    assert len(m.polygons) >= n_poly - 2
    # the report of known thematic surfaces matches an element count
    for name, n in m.metadata["surface_counts"].items():
        assert n == sum(1 for el in root.iter() if _local(el) == name), name
    # objects are linked to existing parents
    par = m.objects.parents
    assert ((par >= -1) & (par < m.n_objects)).all()


def _root_envelope(root: etree._Element) -> np.ndarray | None:
    for c in root:
        if _local(c) == "boundedBy":
            env = c[0]
            lo = hi = None
            for corner in env:
                if _local(corner) == "lowerCorner":
                    lo = [float(v) for v in corner.text.split()]
                elif _local(corner) == "upperCorner":
                    hi = [float(v) for v in corner.text.split()]
            if lo and hi:
                return np.array([lo[:2], hi[:2]])
    return None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_bbox_inside_the_declared_envelope(path: Path, models: dict) -> None:
    m = _load(models, path)
    env = _root_envelope(_tree(path))
    if env is None:
        pytest.skip("file declares no root envelope")
    if m.source_crs is not None and horizontal(m.source_crs).is_geographic:
        # lat, lon envelope (EPSG:6697); the model was projected to UTM
        lon_lat = to_wgs84_bbox(m.bbox(), m.crs)
        lat0, lon0 = env[0]
        lat1, lon1 = env[1]
        tol = 1e-3
        assert lon0 - tol <= lon_lat[0] <= lon_lat[2] <= lon1 + tol
        assert lat0 - tol <= lon_lat[1] <= lon_lat[3] <= lat1 + tol
        assert crs_label(horizontal(m.crs)) == "EPSG:6691"  # JGD2011 / UTM 54N for all PLATEAU tiles
    else:
        bb = m.bbox()
        assert (bb[0, :2] >= env[0] - 1.0).all() and (bb[1, :2] <= env[1] + 1.0).all()


def test_denhaag_bbox_crs_and_counts(models: dict) -> None:
    path = DATA / "citygml/denhaag/DenHaag_01.gml.gz"
    m = _load(models, path)
    assert crs_label(m.crs) == "EPSG:28992"
    bb = m.bbox()
    assert 78000 < bb[0, 0] < bb[1, 0] < 82000
    assert 454000 < bb[0, 1] < bb[1, 1] < 458500
    assert m.counts_by_type() == {"Building": 844, "BuildingPart": 1653, "ReliefFeature": 1, "TINRelief": 1}
    # BuildingParts hang under Buildings, the TIN under the ReliefFeature
    types = np.array(m.objects.types)
    par = m.objects.parents
    assert (types[par[types == "BuildingPart"]] == "Building").all()
    assert (types[par[types == "TINRelief"]] == "ReliefFeature").all()
    assert m.metadata["ignored_curves_points"] == 10250  # TerrainIntersection lines
    assert m.report.counts.get("unresolved-xlink", 0) == 0
    assert len(m.materials) > 0 and (m.polygons.material >= 0).sum() == 16209


def test_denhaag_no_duplicated_geometry(models: dict) -> None:
    """Solids xlink the boundary surfaces' polygons: each must be drawn once, with its semantics."""
    path = DATA / "citygml/denhaag/DenHaag_01.gml.gz"
    m = _load(models, path)
    root = _tree(path)
    areas = []
    n_surf_polys = 0
    for surf in root.iter("{*}WallSurface", "{*}RoofSurface", "{*}GroundSurface"):
        for poly in surf.iter(f"{{{GML[0]}}}Polygon"):
            n_surf_polys += 1
            for k, lr in enumerate(poly.iter(f"{{{GML[0]}}}LinearRing")):
                pts = np.array([[float(v) for v in p.text.split()] for p in lr], float)
                if len(lr) == 1:
                    pts = np.fromstring(lr[0].text, sep=" ").reshape(-1, 3)
                pts = pts - pts.mean(axis=0)
                q = np.roll(pts, -1, axis=0)
                normal = 0.5 * np.cross(pts, q).sum(axis=0)
                areas.append(np.linalg.norm(normal) * (1 if k == 0 else -1))
    independent = float(np.sum(areas))
    codes = [SEMANTICS.index(n) for n in ("WallSurface", "RoofSurface", "GroundSurface")]
    poly_mask = np.isin(m.polygons.semantic, codes)
    assert int(poly_mask.sum()) == n_surf_polys == 16209
    n_tin = sum(1 for _ in root.iter(f"{{{GML[0]}}}Triangle"))
    assert len(m.polygons) == n_surf_polys + n_tin  # nothing emitted twice
    tri_mask = np.isin(m.tri_semantic, codes) & m.lod_triangle_mask(2)
    drawn = float(m.triangle_areas()[tri_mask].sum())
    assert drawn == pytest.approx(independent, rel=1e-3)


def test_plateau_tokyo_projected_near_tokyo(models: dict) -> None:
    m = _load(models, DATA / "citygml/plateau-tokyo/53395404_bldg_6697_op.gml")
    assert crs_label(m.source_crs).startswith("EPSG:6697")
    assert crs_label(horizontal(m.crs)) == "EPSG:6691"  # JGD2011 / UTM zone 54N
    lon0, lat0, lon1, lat1 = to_wgs84_bbox(m.bbox(), m.crs)
    assert 139 < lon0 < lon1 < 140 and 35 < lat0 < lat1 < 36
    assert set(m.lods()) == {0.0, 1.0}
    a = m.objects.attributes[0]
    assert isinstance(a["measuredHeight"], float) and a["measuredHeight_uom"] == "m"


def test_plateau_citygml2_and_3_pair_agree(models: dict) -> None:
    d = DATA / "citygml3/plateau-53394517"
    m2 = _load(models, d / "53394517_bldg_6697_2_op_CityGML2.gml")
    m3 = _load(models, d / "53394517_bldg_6697_2_op_CityGML3.gml")
    assert (m2.version, m3.version) == ("2.0", "3.0")
    assert len(m2.polygons) == len(m3.polygons) == 785
    assert m2.n_triangles == m3.n_triangles
    assert np.array_equal(np.sort(m2.polygons.semantic), np.sort(m3.polygons.semantic))
    assert m2.total_area(2) == pytest.approx(m3.total_area(2), rel=1e-9)
    for m in (m2, m3):
        assert m.metadata["surface_counts"] == {"GroundSurface": 1, "RoofSurface": 279, "WallSurface": 370}
        assert (m.polygons.texture >= 0).sum() == 649
        assert m.textures[0]["found"]
        # generic attributes (2.0 stringAttribute / 3.0 StringAttribute) and uro ADE leaves
        a = m.objects.attributes[0]
        assert a["建物ID"] == "13104-bldg-53"
        assert a["prefecture"] == "13"
        assert a["address"].startswith("日本")
    assert m3.objects.attributes[0]["height"] == pytest.approx(31.7)
    assert m2.objects.attributes[0]["measuredHeight"] == pytest.approx(31.7)


def test_melbourne_citygml3_transportation(models: dict) -> None:
    m = _load(models, DATA / "citygml3/melbourne/citygml3_roads_4wayintersection.gml")
    assert m.counts_by_type() == {"Intersection": 1, "Road": 2, "Section": 4}
    types = np.array(m.objects.types)
    assert (types[m.objects.parents[types != "Road"]] == "Road").all()
    sem = m.polygons.semantic
    assert (sem == SEMANTICS.index("TrafficArea")).sum() == 91
    assert (sem == SEMANTICS.index("AuxiliaryTrafficArea")).sum() == 158


def test_lyon_without_crs_loads_local_and_takes_a_stated_crs(models: dict) -> None:
    path = DATA / "citygml/lyon/LYON_1ER_BATI_2015_small_house.gml"
    m = _load(models, path)
    assert m.crs is None
    bb = m.bbox()
    assert 1841000 < bb[0, 0] < 1842000 and 5175000 < bb[0, 1] < 5176000
    m2 = read_citygml(path, crs="EPSG:3946")
    assert crs_label(m2.crs) == "EPSG:3946"
    assert np.allclose(m2.bbox(), bb)
    assert m.counts_by_type() == {"Building": 1, "BuildingPart": 1}


def test_attributes_typed(models: dict) -> None:
    m = _load(models, DATA / "citygml/fzk-haus/FZK-House-LoD2-KIT-IAI-KHH-V2.gml")
    a = m.objects.attributes[0]
    assert a["name"] == "AC14-FZK-Haus"
    assert a["yearOfConstruction"] == 2020 and isinstance(a["yearOfConstruction"], int)
    assert a["measuredHeight"] == pytest.approx(6.52) and a["measuredHeight_uom"] == "m"
    assert a["storeysAboveGround"] == 2
    munich = _load(models, DATA / "citygml/munich/LOD2_4424_5482_solid.gml")
    root = _tree(DATA / "citygml/munich/LOD2_4424_5482_solid.gml")
    n_gen = sum(1 for el in root.iter("{*}stringAttribute") if _local(el.getparent()) == "Building")
    assert sum(len([k for k in a if k not in _STD]) for a in munich.objects.attributes) == n_gen
    assert all(isinstance(a.get("address"), str) for a in munich.objects.attributes)


_STD = {
    "name", "creationDate", "function", "roofType", "measuredHeight", "measuredHeight_uom", "address",
    "storeysAboveGround",
}


def test_lod_per_polygon_from_its_property(models: dict) -> None:
    m = _load(models, DATA / "citygml/plateau-yokosuka/52397519_bldg_6697_op.gml")
    assert set(m.lods()) == {0.0, 1.0, 2.0}
    root = _tree(DATA / "citygml/plateau-yokosuka/52397519_bldg_6697_op.gml")
    n_lod1 = sum(
        1 for prop in root.iter("{*}lod1Solid") for _ in prop.iter(f"{{{GML[0]}}}Polygon")
    )
    assert int((m.polygons.lod == 10).sum()) == n_lod1


def test_registry_dispatches_to_the_citygml_reader() -> None:
    from citytwin.io import detect_format, read

    path = DATA / "citygml/denhaag/DenHaag_01.gml.gz"
    assert detect_format(path) == "citygml"
    m = read(DATA / "citygml/fzk-haus/FZK-House-LoD1-KIT-IAI-KHH-V2.gml")
    assert m.format == "CityGML" and m.counts_by_type() == {"Building": 1}
