"""read_geojson: extrusion of footprints (holes, storeys, no height, invalid and
non-polygon features, legacy crs member, WGS84 default) checked against shapely."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from citytwin.core.crs import to_wgs84_bbox
from citytwin.core.errors import ReaderError
from citytwin.io.geojson import parse_height_value, read_geojson
from citytwin.model.semantics import SEMANTICS

RD = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}
X0, Y0 = 85000.0, 447000.0


def square(x: float, y: float, s: float) -> list[list[float]]:
    return [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]


def feature(geom: dict, props: dict | None = None, fid: str | None = None) -> dict:
    f = {"type": "Feature", "geometry": geom, "properties": props or {}}
    if fid is not None:
        f["id"] = fid
    return f


FEATURES = [
    # a: 10x10 with a 2x2 hole (clockwise exterior on purpose), height as a string with unit
    feature(
        {"type": "Polygon", "coordinates": [square(X0, Y0, 10)[::-1], square(X0 + 2, Y0 + 2, 2)]},
        {"height": "12.5 m", "name": "with hole"},
        fid="a",
    ),
    # b: MultiPolygon of two parts, 3 storeys, id from 'identificatie'
    feature(
        {"type": "MultiPolygon",
         "coordinates": [[square(X0 + 20, Y0, 5)], [square(X0 + 30, Y0, 4)]]},
        {"identificatie": "b", "storeys": 3},
    ),
    # c: no usable height -> LoD0 footprint
    feature({"type": "Polygon", "coordinates": [square(X0 + 40, Y0, 6)]}, {"height": "tall"}),
    # d: self-intersecting bow tie -> make_valid, warned
    feature(
        {"type": "Polygon",
         "coordinates": [[[X0 + 60, Y0], [X0 + 62, Y0 + 2], [X0 + 62, Y0], [X0 + 60, Y0 + 2], [X0 + 60, Y0]]]},
        {"hoogte": 5, "type": "BuildingPart"},
    ),
    # e: a point: skipped and counted
    feature({"type": "Point", "coordinates": [X0, Y0]}, {"id": "pt"}),
    # f: base + measuredHeight and a type that is not a city object type
    feature({"type": "Polygon", "coordinates": [square(X0 + 80, Y0, 3)]},
            {"measuredHeight": 4.0, "base": 2.0, "type": "shed", "@id": "way/1"}),
    # g: OSM building part: min_height 10, height 15 -> spans 10..15
    feature({"type": "Polygon", "coordinates": [square(X0 + 90, Y0, 2)]},
            {"min_height": "10", "height": 15, "building:levels": 9}),
    # h: null geometry: skipped
    feature(None, {"height": 3}),
]


def write(tmp_path: Path, features: list, crs: dict | None = RD, name: str = "fc.geojson") -> Path:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        doc["crs"] = crs
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def signed_volume(model, obj: int) -> float:
    v = model.vertices.astype(np.float64)
    t = model.triangles[model.tri_object == obj]
    return float(np.einsum("ij,ij->i", v[t[:, 0]], np.cross(v[t[:, 1]], v[t[:, 2]])).sum() / 6.0)


def test_extrusion_against_shapely(tmp_path: Path) -> None:
    model = read_geojson(write(tmp_path, FEATURES))
    assert model.format == "GeoJSON"
    assert model.crs is not None and model.crs.to_epsg() == 28992
    assert model.objects.ids == ["a", "b", "feature-2", "feature-3", "way/1", "feature-6"]
    assert model.objects.types == ["Building", "Building", "Building", "BuildingPart", "Building", "Building"]
    # non-polygon and empty features are skipped and counted, independently of the reader
    non_poly = sum(1 for f in FEATURES if not f["geometry"] or "Polygon" not in f["geometry"]["type"])
    assert model.report.skipped_objects == non_poly == 2
    assert model.metadata["skipped_features"] == 2
    assert model.report.counts["no-height"] == 1
    assert model.report.counts["invalid-geometry"] == 1
    # attributes are all the properties
    assert model.objects.attributes[0] == {"height": "12.5 m", "name": "with hole"}
    assert model.objects.attributes[1]["storeys"] == 3

    expected = {  # object index -> (feature, height of the block)
        0: (FEATURES[0], 12.5),
        1: (FEATURES[1], 3 * 3.0),
        3: (FEATURES[3], 5.0),
        4: (FEATURES[5], 4.0),
        5: (FEATURES[6], 5.0),
    }
    areas = model.triangle_areas()
    roof, wall, ground = (SEMANTICS.index(s) for s in ("RoofSurface", "WallSurface", "GroundSurface"))
    for i, (feat, h) in expected.items():
        geom = shapely.make_valid(shape(feat["geometry"]))
        sel = model.tri_object == i
        # closed, outward-oriented block: divergence theorem gives +area*height
        assert signed_volume(model, i) == pytest.approx(geom.area * h, rel=1e-6)
        assert areas[sel & (model.tri_semantic == roof)].sum() == pytest.approx(geom.area, rel=1e-6)
        assert areas[sel & (model.tri_semantic == ground)].sum() == pytest.approx(geom.area, rel=1e-6)
        assert areas[sel & (model.tri_semantic == wall)].sum() == pytest.approx(geom.length * h, rel=1e-6)
        assert set(model.tri_lod[sel].tolist()) == {10}
    # roof normals point up, ground normals down
    v = model.vertices.astype(np.float64)
    t = model.triangles
    nz = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])[:, 2]
    assert (nz[model.tri_semantic == roof] > 0).all()
    assert (nz[model.tri_semantic == ground] < 0).all()
    # heights of the blocks (world z)
    bb = model.object_bboxes()
    assert bb[0, :, 2].tolist() == pytest.approx([0.0, 12.5])
    assert bb[4, :, 2].tolist() == pytest.approx([2.0, 6.0])  # base 2 + height 4
    assert bb[5, :, 2].tolist() == pytest.approx([10.0, 15.0])  # OSM min_height..height
    # the footprint without height: one LoD0 polygon of the shapely area
    sel = model.tri_object == 2
    assert set(model.tri_lod[sel].tolist()) == {0}
    assert areas[sel].sum() == pytest.approx(36.0)
    assert model.footprint(2).area == pytest.approx(36.0)


def test_storey_height_is_configurable(tmp_path: Path) -> None:
    model = read_geojson(write(tmp_path, FEATURES[1:2]), storey_height=2.5)
    assert model.object_bboxes()[0, :, 2].tolist() == pytest.approx([0.0, 7.5])
    assert model.metadata["storey_height"] == 2.5


def test_wgs84_default_is_projected_to_utm(tmp_path: Path) -> None:
    lon, lat = 4.3571, 52.0116  # Delft
    d = 1e-4
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    path = write(tmp_path, [feature({"type": "Polygon", "coordinates": [ring]}, {"height": 10})], crs=None)
    model = read_geojson(path)
    assert model.crs is not None and model.crs.to_epsg() == 32631  # UTM 31N
    lon0, lat0, lon1, lat1 = to_wgs84_bbox(model.bbox(), model.crs)
    assert lon0 == pytest.approx(lon, abs=2e-5) and lon1 == pytest.approx(lon + d, abs=2e-5)
    assert lat0 == pytest.approx(lat, abs=2e-5) and lat1 == pytest.approx(lat + d, abs=2e-5)
    # roof area equals the geodesic area of the footprint (UTM scale error < 0.1 %)
    from pyproj import Geod

    geod_area = abs(Geod(ellps="WGS84").polygon_area_perimeter(*zip(*ring))[0])
    roof = model.tri_semantic == SEMANTICS.index("RoofSurface")
    assert model.triangle_areas()[roof].sum() == pytest.approx(geod_area, rel=1e-3)


def test_legacy_crs84_and_user_crs(tmp_path: Path) -> None:
    ring = [[4.3571, 52.0116], [4.3572, 52.0116], [4.3572, 52.0117], [4.3571, 52.0116]]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    m = read_geojson(write(tmp_path, [feature({"type": "Polygon", "coordinates": [ring]}, {"h": 3})], crs=crs))
    assert m.crs.to_epsg() == 32631
    # a user-stated CRS overrides the file's
    path = write(tmp_path, [feature({"type": "Polygon", "coordinates": [square(X0, Y0, 1)]}, {"h": 1})],
                 crs=None, name="rd.geojson")
    m2 = read_geojson(path, crs="EPSG:28992")
    assert m2.crs.to_epsg() == 28992
    np.testing.assert_allclose(m2.bbox(), [[X0, Y0, 0], [X0 + 1, Y0 + 1, 1]], atol=1e-3)


def test_3d_coordinates_set_the_ground(tmp_path: Path) -> None:
    ring = [[X0, Y0, 2.0], [X0 + 4, Y0, 2.5], [X0 + 4, Y0 + 4, 2.5], [X0, Y0 + 4, 2.0], [X0, Y0, 2.0]]
    m = read_geojson(write(tmp_path, [feature({"type": "Polygon", "coordinates": [ring]}, {"height": 6})]))
    assert m.bbox()[:, 2].tolist() == pytest.approx([2.0, 8.0])


def test_single_feature_and_gzip(tmp_path: Path) -> None:
    doc = feature({"type": "Polygon", "coordinates": [square(X0, Y0, 2)]}, {"id": 7, "height": 1}, None)
    doc["crs"] = RD
    path = tmp_path / "one.geojson.gz"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    m = read_geojson(path)
    assert m.objects.ids == ["7"] and m.n_objects == 1


@pytest.mark.parametrize(
    "text, why",
    [
        ("{not json", "not valid JSON"),
        ('{"type": "Topology"}', "Topology"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
         '{"type": "Point", "coordinates": [1, 2]}, "properties": {}}]}', "no Polygon"),
        ("[1, 2, 3]", "not a GeoJSON object"),
    ],
)
def test_unreadable_geojson_raises(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(ReaderError) as info:
        read_geojson(path)
    assert why in str(info.value) and "bad.geojson" in str(info.value)
    assert "\n" not in str(info.value)


def test_registry_dispatches_geojson(tmp_path: Path) -> None:
    from citytwin.io import read

    path = write(tmp_path, FEATURES[:1])
    assert read(path).objects.ids == ["a"]


@pytest.mark.parametrize(
    "value, expected",
    [(12, 12.0), (12.5, 12.5), ("12.5", 12.5), ("12,5 m", 12.5), (" 3 metres", 3.0), ("7m", 7.0),
     ("tall", None), (None, None), (True, None), (float("nan"), None), ("", None), ([1], None)],
)
def test_parse_height_value(value, expected) -> None:
    assert parse_height_value(value) == expected


def test_collections_unreadable_rings_and_lat_first_legacy_crs(tmp_path: Path) -> None:
    lon, lat, d = 4.3571, 52.0116, 1e-4
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    feats = [
        feature({"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [lon, lat]},
            {"type": "Polygon", "coordinates": [ring]}]}, {"height": 3}, fid="gc"),
        feature({"type": "Polygon", "coordinates": [ring[:3]]}, {"height": 3}, fid="open-ring"),
    ]
    # ETRS89 is latitude-first by authority, but GeoJSON coordinates are lon/lat
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4258"}}
    m = read_geojson(write(tmp_path, feats, crs=crs))
    assert m.objects.ids == ["gc"]
    assert m.report.skipped_objects == 1
    assert any("open-ring" in msg for msg in m.report.messages)
    lon0, lat0, lon1, lat1 = to_wgs84_bbox(m.bbox(), m.crs)
    assert lon0 == pytest.approx(lon, abs=2e-5) and lat1 == pytest.approx(lat + d, abs=2e-5)
    assert m.n_triangles == 2 + 2 + 4 * 2  # roof, ground, four walls
