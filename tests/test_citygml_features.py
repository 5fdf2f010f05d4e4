"""Synthetic CityGML edge cases: xlinks both ways, orientation, implicit geometry, GML
encodings, generic attributes, 3.0 openings, ADE features, groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citytwin.io.citygml import read_citygml
from citytwin.model.semantics import SEMANTICS

NS2 = (
    'xmlns="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0" '
    'xmlns:gen="http://www.opengis.net/citygml/generics/2.0" xmlns:gml="http://www.opengis.net/gml" '
    'xmlns:veg="http://www.opengis.net/citygml/vegetation/2.0" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:grp="http://www.opengis.net/citygml/cityobjectgroup/2.0" xmlns:ade="urn:example:ade" '
    'xmlns:dem="http://www.opengis.net/citygml/relief/2.0"'
)
NS3 = (
    'xmlns:core="http://www.opengis.net/citygml/3.0" xmlns:bldg="http://www.opengis.net/citygml/building/3.0" '
    'xmlns:con="http://www.opengis.net/citygml/construction/3.0" '
    'xmlns:gen="http://www.opengis.net/citygml/generics/3.0" xmlns:gml="http://www.opengis.net/gml/3.2" '
    'xmlns:xlink="http://www.w3.org/1999/xlink"'
)

SQUARE = "0 0 0 1 0 0 1 1 0 0 1 0 0 0 0"


def poly(gid: str | None, pos: str = SQUARE, ring_id: str | None = None) -> str:
    pid = f' gml:id="{gid}"' if gid else ""
    rid = f' gml:id="{ring_id}"' if ring_id else ""
    return (
        f"<gml:Polygon{pid}><gml:exterior><gml:LinearRing{rid}><gml:posList>{pos}</gml:posList>"
        "</gml:LinearRing></gml:exterior></gml:Polygon>"
    )


def write2(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "t2.gml"
    p.write_text(f'<?xml version="1.0" encoding="UTF-8"?><CityModel {NS2}>{body}</CityModel>', encoding="utf-8")
    return p


def write3(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "t3.gml"
    p.write_text(f'<?xml version="1.0" encoding="UTF-8"?><core:CityModel {NS3}>{body}</core:CityModel>',
                 encoding="utf-8")
    return p


def sem(name: str) -> int:
    return SEMANTICS.index(name)


def test_solid_inline_polygons_owned_by_later_surfaces(tmp_path: Path) -> None:
    """Reverse xlink direction: the solid holds the polygons, the surfaces (later) reference them."""
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod2Solid><gml:Solid><gml:exterior>'
        "<gml:CompositeSurface>"
        f"<gml:surfaceMember>{poly('w1')}</gml:surfaceMember>"
        f"<gml:surfaceMember>{poly('r1', '0 0 1 1 0 1 1 1 1 0 0 1')}</gml:surfaceMember>"
        f"<gml:surfaceMember>{poly('x1', '0 0 2 1 0 2 1 1 2 0 0 2')}</gml:surfaceMember>"
        "</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>"
        '<bldg:boundedBy><bldg:WallSurface><bldg:lod2MultiSurface><gml:MultiSurface>'
        '<gml:surfaceMember xlink:href="#w1"/></gml:MultiSurface></bldg:lod2MultiSurface></bldg:WallSurface>'
        "</bldg:boundedBy></bldg:Building></cityObjectMember>"
        # a surface in another member referencing the roof polygon
        '<cityObjectMember><bldg:Building gml:id="c"><bldg:boundedBy><bldg:RoofSurface>'
        '<bldg:lod2MultiSurface xlink:href="#r1"/></bldg:RoofSurface></bldg:boundedBy>'
        "</bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons) == 3  # nothing twice
    assert sorted(m.polygons.semantic.tolist()) == sorted([sem("WallSurface"), sem("RoofSurface"), sem("Building")])
    assert m.metadata["xlinks"] == {"resolved": 2, "unresolved": 0}


def test_solid_xlinks_to_surfaces_defined_later_are_not_drawn_twice(tmp_path: Path) -> None:
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod2Solid><gml:Solid><gml:exterior>'
        '<gml:CompositeSurface><gml:surfaceMember xlink:href="#w1"/><gml:surfaceMember xlink:href="#g1"/>'
        f"<gml:surfaceMember>{poly('extra', '0 0 5 1 0 5 1 1 5 0 0 5')}</gml:surfaceMember>"
        "</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>"
        f"<bldg:boundedBy><bldg:WallSurface><bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>"
        f"{poly('w1')}</gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:WallSurface>"
        "</bldg:boundedBy></bldg:Building></cityObjectMember>"
        # the ground surface comes in a later member (another building part, same file)
        '<cityObjectMember><bldg:Building gml:id="c"><bldg:boundedBy><bldg:GroundSurface>'
        f"<bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>{poly('g1', '0 0 -1 1 0 -1 1 1 -1 0 0 -1')}"
        "</gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:GroundSurface></bldg:boundedBy>"
        "</bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons) == 3
    assert sorted(m.polygons.semantic.tolist()) == sorted(
        [sem("WallSurface"), sem("GroundSurface"), sem("Building")]
    )
    assert m.polygons.lod.tolist() == [20, 20, 20]


def test_orientable_surface_minus_reverses(tmp_path: Path) -> None:
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod1MultiSurface><gml:MultiSurface>'
        f"<gml:surfaceMember>{poly(None)}</gml:surfaceMember>"
        '<gml:surfaceMember><gml:OrientableSurface orientation="-"><gml:baseSurface>'
        f"{poly(None, '0 0 1 1 0 1 1 1 1 0 1 1 0 0 1')}</gml:baseSurface></gml:OrientableSurface></gml:surfaceMember>"
        "</gml:MultiSurface></bldg:lod1MultiSurface></bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons) == 2
    v = m.world_vertices()
    z, nz = [], []
    for k in (0, 1):
        a, b, c = v[m.triangles[m.tri_poly == k][0]]
        z.append(a[2])
        nz.append(np.cross(b - a, c - a)[2])
    n0, n1 = nz
    assert z[0] < z[1]
    assert n0 > 0 and n1 < 0


def test_solid_interior_shell_not_drawn(tmp_path: Path) -> None:
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod1Solid><gml:Solid>'
        f"<gml:exterior><gml:CompositeSurface><gml:surfaceMember>{poly(None)}</gml:surfaceMember>"
        "</gml:CompositeSurface></gml:exterior>"
        f"<gml:interior><gml:CompositeSurface><gml:surfaceMember>{poly(None, '0 0 3 1 0 3 1 1 3 0 0 3')}"
        "</gml:surfaceMember></gml:CompositeSurface></gml:interior>"
        "</gml:Solid></bldg:lod1Solid></bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons) == 1
    assert m.world_vertices()[:, 2].max() == 0


def test_gml_encodings_pos_coordinates_2d_triangle_patch(tmp_path: Path) -> None:
    pos_ring = "".join(f"<gml:pos>{p}</gml:pos>" for p in ("0 0 0", "2 0 0", "2 2 0", "0 2 0", "0 0 0"))
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod1MultiSurface><gml:MultiSurface>'
        f"<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing>{pos_ring}</gml:LinearRing>"
        "</gml:exterior><gml:interior><gml:LinearRing><gml:posList>0.5 0.5 0 0.5 1 0 1 1 0 0.5 0.5 0"
        "</gml:posList></gml:LinearRing></gml:interior></gml:Polygon></gml:surfaceMember>"
        "<gml:surfaceMember><gml:Polygon><gml:outerBoundaryIs><gml:LinearRing>"
        "<gml:coordinates>10,0,0 11,0,0 11,1,0 10,0,0</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs>"
        "</gml:Polygon></gml:surfaceMember>"
        '<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="2">'
        "20 0 21 0 21 1 20 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>"
        "<gml:surfaceMember><gml:Surface><gml:patches><gml:PolygonPatch><gml:exterior><gml:LinearRing>"
        "<gml:posList>30 0 0 31 0 0 31 1 0 30 0 0</gml:posList></gml:LinearRing></gml:exterior>"
        "</gml:PolygonPatch></gml:patches></gml:Surface></gml:surfaceMember>"
        "</gml:MultiSurface></bldg:lod1MultiSurface></bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons) == 4
    assert np.diff(m.polygons.poly_ring_offsets).tolist() == [2, 1, 1, 1]
    areas = m.polygon_areas()
    assert areas.tolist() == pytest.approx([4 - 0.125, 0.5, 0.5, 0.5])
    assert m.triangle_areas().sum() == pytest.approx(4 - 0.125 + 1.5)


def test_tin_relief_lod_and_parents(tmp_path: Path) -> None:
    tri = "".join(
        f"<gml:Triangle><gml:exterior><gml:LinearRing><gml:posList>{x} 0 0 {x + 1} 0 0 {x} 1 0 {x} 0 0"
        "</gml:posList></gml:LinearRing></gml:exterior></gml:Triangle>"
        for x in range(3)
    )
    body = (
        '<cityObjectMember><dem:ReliefFeature gml:id="r"><dem:lod>1</dem:lod><dem:reliefComponent>'
        '<dem:TINRelief gml:id="t"><dem:lod>1</dem:lod><dem:tin><gml:TriangulatedSurface><gml:trianglePatches>'
        f"{tri}</gml:trianglePatches></gml:TriangulatedSurface></dem:tin></dem:TINRelief></dem:reliefComponent>"
        "</dem:ReliefFeature></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert m.counts_by_type() == {"ReliefFeature": 1, "TINRelief": 1}
    assert m.objects.parent(m.objects.index["t"]) == m.objects.index["r"]
    assert m.n_triangles == 3 and m.lods() == [1.0]
    assert set(m.polygons.semantic.tolist()) == {sem("Terrain")}


def test_implicit_geometry_with_library_reuse(tmp_path: Path) -> None:
    def tree(gid: str, ref: str, template: str) -> str:
        return (
            f'<cityObjectMember><veg:SolitaryVegetationObject gml:id="{gid}"><veg:lod2ImplicitRepresentation>'
            "<ImplicitGeometry><transformationMatrix>2 0 0 0 0 2 0 0 0 0 2 0 0 0 0 1</transformationMatrix>"
            f"{template}<referencePoint><gml:Point><gml:pos>{ref}</gml:pos></gml:Point></referencePoint>"
            "</ImplicitGeometry></veg:lod2ImplicitRepresentation></veg:SolitaryVegetationObject></cityObjectMember>"
        )

    inline = (
        '<relativeGMLGeometry><gml:MultiSurface gml:id="crown"><gml:surfaceMember>'
        f"{poly(None)}</gml:surfaceMember></gml:MultiSurface></relativeGMLGeometry>"
    )
    ref = '<relativeGMLGeometry xlink:href="#crown"/>'
    body = tree("t0", "100 0 0", ref) + tree("t1", "0 0 0", inline) + tree("t2", "10 10 5", ref)
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons) == 3  # template used by all three, drawn once per instance
    assert m.metadata["implicit_geometries"] == 3
    bb = m.object_bboxes()
    t2 = bb[m.objects.index["t2"]]
    assert t2[0].tolist() == pytest.approx([10, 10, 5]) and t2[1].tolist() == pytest.approx([12, 12, 5])
    t0 = bb[m.objects.index["t0"]]
    assert t0[0].tolist() == pytest.approx([100, 0, 0])
    assert set(m.polygons.semantic.tolist()) == {sem("Vegetation")}


def test_generic_attributes_20_and_sets(tmp_path: Path) -> None:
    attrs = (
        '<gen:stringAttribute name="s"><gen:value>text</gen:value></gen:stringAttribute>'
        '<gen:intAttribute name="i"><gen:value>42</gen:value></gen:intAttribute>'
        '<gen:doubleAttribute name="d"><gen:value>2.5</gen:value></gen:doubleAttribute>'
        '<gen:dateAttribute name="day"><gen:value>2020-01-02</gen:value></gen:dateAttribute>'
        '<gen:uriAttribute name="u"><gen:value>http://x.example/</gen:value></gen:uriAttribute>'
        '<gen:measureAttribute name="m"><gen:value uom="m">3.5</gen:value></gen:measureAttribute>'
        '<gen:genericAttributeSet name="set"><gen:intAttribute name="a"><gen:value>1</gen:value>'
        "</gen:intAttribute></gen:genericAttributeSet>"
        "<bldg:function>1000</bldg:function><bldg:function>2000</bldg:function>"
        "<bldg:yearOfConstruction>1999</bldg:yearOfConstruction>"
        '<bldg:measuredHeight uom="m">12.5</bldg:measuredHeight>'
        '<bldg:storeyHeightsAboveGround uom="m">3 3 2.5</bldg:storeyHeightsAboveGround>'
        "<ade:colour>blue</ade:colour><ade:details><ade:Detail><ade:year>1900</ade:year></ade:Detail></ade:details>"
    )
    body = f'<cityObjectMember><bldg:Building gml:id="b"><gml:name>B</gml:name>{attrs}</bldg:Building></cityObjectMember>'
    m = read_citygml(write2(tmp_path, body))
    a = m.objects.attributes[0]
    assert a["s"] == "text" and a["i"] == 42 and a["d"] == 2.5 and a["day"] == "2020-01-02"
    assert a["u"] == "http://x.example/" and a["m"] == 3.5 and a["m_uom"] == "m"
    assert a["set"] == {"a": 1}
    assert a["function"] == ["1000", "2000"]
    assert a["yearOfConstruction"] == 1999 and a["measuredHeight"] == 12.5
    assert a["storeyHeightsAboveGround"] == [3.0, 3.0, 2.5]
    assert a["colour"] == "blue" and a["year"] == "1900"
    assert a["name"] == "B"


def test_citygml3_generic_attributes_openings_and_parts(tmp_path: Path) -> None:
    body = (
        '<core:cityObjectMember><bldg:Building gml:id="b">'
        "<core:genericAttribute><gen:StringAttribute><gen:name>s</gen:name><gen:value>v</gen:value>"
        "</gen:StringAttribute></core:genericAttribute>"
        "<core:genericAttribute><gen:IntAttribute><gen:name>i</gen:name><gen:value>7</gen:value>"
        "</gen:IntAttribute></core:genericAttribute>"
        "<core:genericAttribute><gen:GenericAttributeSet><gen:name>set</gen:name><gen:value>"
        "<gen:DoubleAttribute><gen:name>d</gen:name><gen:value>1.5</gen:value></gen:DoubleAttribute>"
        "</gen:value></gen:GenericAttributeSet></core:genericAttribute>"
        "<core:boundary><con:WallSurface><core:lod3MultiSurface><gml:MultiSurface><gml:surfaceMember>"
        f"{poly(None)}</gml:surfaceMember></gml:MultiSurface></core:lod3MultiSurface>"
        "<con:fillingSurface><con:WindowSurface><core:lod3MultiSurface><gml:MultiSurface><gml:surfaceMember>"
        f"{poly(None, '0 0 1 1 0 1 1 1 1 0 0 1')}</gml:surfaceMember></gml:MultiSurface></core:lod3MultiSurface>"
        "</con:WindowSurface></con:fillingSurface></con:WallSurface></core:boundary>"
        "<bldg:buildingConstructiveElement><bldg:BuildingConstructiveElement gml:id='e'>"
        "<core:lod2Solid><gml:Solid><gml:exterior><gml:Shell><gml:surfaceMember>"
        f"{poly(None, '0 0 2 1 0 2 1 1 2 0 0 2')}</gml:surfaceMember></gml:Shell></gml:exterior></gml:Solid>"
        "</core:lod2Solid></bldg:BuildingConstructiveElement></bldg:buildingConstructiveElement>"
        "<bldg:buildingPart><bldg:BuildingPart gml:id='p'><con:door><con:Door gml:id='d'>"
        "<core:lod3MultiSurface><gml:MultiSurface><gml:surfaceMember>"
        f"{poly(None, '0 0 3 1 0 3 1 1 3 0 0 3')}</gml:surfaceMember></gml:MultiSurface></core:lod3MultiSurface>"
        "</con:Door></con:door></bldg:BuildingPart></bldg:buildingPart>"
        "</bldg:Building></core:cityObjectMember>"
    )
    m = read_citygml(write3(tmp_path, body))
    assert m.version == "3.0"
    assert m.counts_by_type() == {"Building": 1, "BuildingConstructiveElement": 1, "BuildingPart": 1}
    a = m.objects.attributes[0]
    assert a["s"] == "v" and a["i"] == 7 and a["set"] == {"d": 1.5}
    by_obj = dict(zip(m.polygons.object.tolist(), m.polygons.semantic.tolist(), strict=False))
    assert sorted(m.polygons.semantic.tolist()) == sorted(
        [sem("WallSurface"), sem("Window"), sem("Installation"), sem("Door")]
    )
    assert by_obj[m.objects.index["p"]] == sem("Door")
    assert set(m.polygons.lod.tolist()) == {20, 30}


def test_unknown_ade_feature_group_and_feature_member(tmp_path: Path) -> None:
    body = (
        '<cityObjectMember><ade:FloodZone gml:id="z"><ade:depth>1.5</ade:depth><ade:lod1MultiSurface>'
        f"<gml:MultiSurface><gml:surfaceMember>{poly(None)}</gml:surfaceMember></gml:MultiSurface>"
        "</ade:lod1MultiSurface></ade:FloodZone></cityObjectMember>"
        '<cityObjectMember><grp:CityObjectGroup gml:id="g"><grp:class>x</grp:class>'
        '<grp:groupMember xlink:href="#z"/></grp:CityObjectGroup></cityObjectMember>'
        '<gml:featureMember><bldg:Building gml:id="b"><bldg:lod1MultiSurface><gml:MultiSurface>'
        f"<gml:surfaceMember>{poly(None, '5 5 0 6 5 0 6 6 0 5 5 0')}</gml:surfaceMember></gml:MultiSurface>"
        "</bldg:lod1MultiSurface></bldg:Building></gml:featureMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert m.counts_by_type() == {"Building": 1, "CityObjectGroup": 1, "FloodZone": 1}
    z = m.objects.index["z"]
    assert m.objects.attributes[z] == {"depth": "1.5"}
    assert len(m.polygons) == 2 and z in m.polygons.object.tolist()
    assert m.objects.attributes[m.objects.index["g"]] == {"class": "x"}


def test_curves_ignored_silently_but_counted(tmp_path: Path) -> None:
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod2TerrainIntersection><gml:MultiCurve>'
        "<gml:curveMember><gml:LineString><gml:posList>0 0 0 1 1 1</gml:posList></gml:LineString></gml:curveMember>"
        "<gml:curveMember><gml:LineString><gml:posList>0 0 0 1 1 1</gml:posList></gml:LineString></gml:curveMember>"
        "</gml:MultiCurve></bldg:lod2TerrainIntersection>"
        f"<bldg:lod1MultiSurface><gml:MultiSurface><gml:surfaceMember>{poly(None)}</gml:surfaceMember>"
        "</gml:MultiSurface></bldg:lod1MultiSurface></bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert m.metadata["ignored_curves_points"] == 2
    assert dict(m.report.counts) == {}
    assert len(m.polygons) == 1


def test_other_thematic_modules_objects_parents_and_semantics(tmp_path: Path) -> None:
    ms = "<{p}:lod{l}MultiSurface><gml:MultiSurface><gml:surfaceMember>{poly}</gml:surfaceMember></gml:MultiSurface></{p}:lod{l}MultiSurface>"

    def geo(prefix: str, lod: int = 1) -> str:
        return ms.format(p=prefix, l=lod, poly=poly(None))

    body = (
        '<cityObjectMember><brid:Bridge gml:id="br"><brid:consistsOfBridgePart><brid:BridgePart gml:id="bp">'
        f"{geo('brid', 2)}</brid:BridgePart></brid:consistsOfBridgePart>"
        '<brid:outerBridgeConstruction><brid:BridgeConstructionElement gml:id="bce">'
        "<brid:lod2Geometry><gml:MultiSurface><gml:surfaceMember>"
        f"{poly(None)}</gml:surfaceMember></gml:MultiSurface></brid:lod2Geometry></brid:BridgeConstructionElement>"
        "</brid:outerBridgeConstruction><brid:boundedBy><brid:RoofSurface>"
        f"{geo('brid', 2)}</brid:RoofSurface></brid:boundedBy></brid:Bridge></cityObjectMember>"
        '<cityObjectMember><tun:Tunnel gml:id="tu"><tun:consistsOfTunnelPart><tun:TunnelPart gml:id="tp">'
        f"{geo('tun')}</tun:TunnelPart></tun:consistsOfTunnelPart></tun:Tunnel></cityObjectMember>"
        '<cityObjectMember><wtr:WaterBody gml:id="wb"><wtr:boundedBy><wtr:WaterSurface>'
        f"<wtr:lod3Surface>{poly(None)}</wtr:lod3Surface></wtr:WaterSurface></wtr:boundedBy>{geo('wtr')}"
        "</wtr:WaterBody></cityObjectMember>"
        f'<cityObjectMember><luse:LandUse gml:id="lu">{geo("luse")}</luse:LandUse></cityObjectMember>'
        f'<cityObjectMember><frn:CityFurniture gml:id="cf">{geo("frn", 3)}</frn:CityFurniture></cityObjectMember>'
        '<cityObjectMember><gen:GenericCityObject gml:id="go"><gen:lod1Geometry>'
        f"{poly(None)}</gen:lod1Geometry></gen:GenericCityObject></cityObjectMember>"
        '<cityObjectMember><tran:Railway gml:id="rw"><tran:trafficArea><tran:TrafficArea>'
        f"{geo('tran', 2)}</tran:TrafficArea></tran:trafficArea><tran:auxiliaryTrafficArea>"
        f"<tran:AuxiliaryTrafficArea>{geo('tran', 2)}</tran:AuxiliaryTrafficArea></tran:auxiliaryTrafficArea>"
        f"{geo('tran', 1)}</tran:Railway></cityObjectMember>"
    )
    extra_ns = (
        'xmlns:brid="http://www.opengis.net/citygml/bridge/2.0" xmlns:tun="http://www.opengis.net/citygml/tunnel/2.0" '
        'xmlns:wtr="http://www.opengis.net/citygml/waterbody/2.0" xmlns:luse="http://www.opengis.net/citygml/landuse/2.0" '
        'xmlns:frn="http://www.opengis.net/citygml/cityfurniture/2.0" '
        'xmlns:tran="http://www.opengis.net/citygml/transportation/2.0"'
    )
    p = tmp_path / "mods.gml"
    p.write_text(f'<?xml version="1.0"?><CityModel {NS2} {extra_ns}>{body}</CityModel>')
    m = read_citygml(p)
    assert m.counts_by_type() == {
        "Bridge": 1, "BridgeConstructionElement": 1, "BridgePart": 1, "CityFurniture": 1,
        "GenericCityObject": 1, "LandUse": 1, "Railway": 1, "Tunnel": 1, "TunnelPart": 1, "WaterBody": 1,
    }
    ix = m.objects.index
    assert m.objects.parent(ix["bp"]) == ix["br"] and m.objects.parent(ix["bce"]) == ix["br"]
    assert m.objects.parent(ix["tp"]) == ix["tu"]
    sem_of = {}
    for o, s in zip(m.polygons.object.tolist(), m.polygons.semantic.tolist(), strict=True):
        sem_of.setdefault(m.objects.ids[o], set()).add(SEMANTICS[s])
    assert sem_of["bp"] == {"Bridge"} and sem_of["br"] == {"RoofSurface"}
    assert sem_of["tp"] == {"Tunnel"}
    assert sem_of["wb"] == {"WaterSurface", "Water"}
    assert sem_of["lu"] == {"LandUse"} and sem_of["cf"] == {"CityFurniture"} and sem_of["go"] == {"Generic"}
    assert sem_of["rw"] == {"TrafficArea", "AuxiliaryTrafficArea", "Railway"}
    assert m.metadata["surface_counts"] == {
        "AuxiliaryTrafficArea": 1, "RoofSurface": 1, "TrafficArea": 1, "WaterSurface": 1,
    }


def test_comments_and_nested_aggregates_in_geometry(tmp_path: Path) -> None:
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod2Solid><gml:Solid><!-- shell --><gml:exterior>'
        "<gml:CompositeSurface><!-- members -->"
        f"<gml:surfaceMember>{poly(None)}</gml:surfaceMember><!-- between -->"
        "<gml:surfaceMember><gml:CompositeSurface><gml:surfaceMember>"
        f"{poly(None, '0 0 1 1 0 1 1 1 1 0 0 1')}</gml:surfaceMember><gml:surfaceMember>"
        f"{poly(None, '0 0 2 1 0 2 1 1 2 0 0 2')}</gml:surfaceMember></gml:CompositeSurface></gml:surfaceMember>"
        "</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>"
        "<bldg:lod1MultiSurface><gml:MultiSurface><gml:surfaceMember>"
        f"<!-- c -->{poly(None, '0 0 3 1 0 3 1 1 3 0 0 3')}</gml:surfaceMember></gml:MultiSurface>"
        "</bldg:lod1MultiSurface></bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons) == 4
    assert sorted(m.polygons.lod.tolist()) == [10, 20, 20, 20]


def test_srs_dimension_2_inherited_from_the_geometry(tmp_path: Path) -> None:
    # 6 corners in 2D = 12 numbers, which would also read as 4 corners in 3D
    body = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:lod0FootPrint><gml:MultiSurface srsDimension="2">'
        "<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>"
        "0 0 2 0 2 1 1 1 1 2 0 2</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
        "</gml:surfaceMember></gml:MultiSurface></bldg:lod0FootPrint>"
        "<gml:name>A &amp; B &#233;</gml:name></bldg:Building></cityObjectMember>"
    )
    m = read_citygml(write2(tmp_path, body))
    assert len(m.polygons.ring_idx) == 6
    assert m.polygon_areas().tolist() == pytest.approx([3.0])
    assert m.lods() == [0.0]
    assert m.objects.attributes[0]["name"] == "A & B é"
