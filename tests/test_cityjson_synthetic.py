"""CityJSON / CityJSONSeq edge cases on small files written to tmp_path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from citytwin.core.errors import Cancelled, ReaderError
from citytwin.io.cityjson import read_cityjson, read_cityjsonseq
from citytwin.model.semantics import SEMANTICS, semantic_code

CUBE_V = [[0, 0, 0], [1000, 0, 0], [1000, 1000, 0], [0, 1000, 0],
          [0, 0, 1000], [1000, 0, 1000], [1000, 1000, 1000], [0, 1000, 1000]]
CUBE_SHELL = [[[0, 3, 2, 1]], [[4, 5, 6, 7]], [[0, 1, 5, 4]],
              [[1, 2, 6, 5]], [[2, 3, 7, 6]], [[3, 0, 4, 7]]]


def _doc(objects: dict, vertices: list, **extra) -> dict:
    d = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": [100000.0, 400000.0, 0.0]},
        "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/28992"},
        "CityObjects": objects,
        "vertices": vertices,
    }
    d.update(extra)
    return d


def _write(tmp_path: Path, doc, name: str = "t.city.json") -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def _solid(lod="2", **extra):
    return {"type": "Solid", "lod": lod, "boundaries": [CUBE_SHELL], **extra}


def test_solid_semantics_nulls_and_extension_types(tmp_path):
    sem = {
        "surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface", "slope": 0},
                     {"type": "+ThermalSurface"}],
        "values": [[0, 1, None, 2, None, None]],
    }
    doc = _doc({"b": {"type": "Building", "attributes": {"h": 1}, "geometry": [_solid(semantics=sem)]}}, CUBE_V)
    m = read_cityjson(_write(tmp_path, doc))
    names = [SEMANTICS[s] for s in m.polygons.semantic.tolist()]
    # null -> object default; unknown extension surface -> object default as well
    default = SEMANTICS[semantic_code("Building")]
    assert names == ["GroundSurface", "RoofSurface", default, default, default, default]
    assert m.objects.attributes[0] == {"h": 1}
    assert m.total_area(2) == pytest.approx(6.0)
    assert m.crs.to_epsg() == 28992
    assert np.allclose(m.bbox(), [[100000, 400000, 0], [100001, 400001, 1]])


def test_all_geometry_types_and_ignored_ones(tmp_path):
    v = CUBE_V + [[v[0] + 5000, v[1], v[2]] for v in CUBE_V]
    shell2 = [[[i + 8 for i in ring] for ring in face] for face in CUBE_SHELL]
    objs = {
        "ms": {"type": "GenericCityObject", "geometry": [
            {"type": "MultiSurface", "lod": 1, "boundaries": CUBE_SHELL[:2]}]},
        "cs": {"type": "GenericCityObject", "geometry": [
            {"type": "CompositeSurface", "lod": "1", "boundaries": CUBE_SHELL[2:]}]},
        "mso": {"type": "GenericCityObject", "geometry": [
            {"type": "MultiSolid", "lod": "2", "boundaries": [[CUBE_SHELL], [shell2]],
             "semantics": {"surfaces": [{"type": "WallSurface"}],
                           "values": [[[0, 0, 0, 0, 0, 0]], [None]]}}]},
        "cso": {"type": "GenericCityObject", "geometry": [
            {"type": "CompositeSolid", "lod": "2", "boundaries": [[CUBE_SHELL]]}]},
        "pts": {"type": "GenericCityObject", "geometry": [
            {"type": "MultiPoint", "lod": "1", "boundaries": [0, 1]},
            {"type": "MultiLineString", "lod": "1", "boundaries": [[0, 1]]}]},
    }
    m = read_cityjson(_write(tmp_path, _doc(objs, v)))
    count = {oid: int((m.polygons.object == m.objects.index[oid]).sum()) for oid in objs}
    assert count == {"ms": 2, "cs": 4, "mso": 12, "cso": 6, "pts": 0}
    assert m.metadata["ignored_geometries"] == {"MultiPoint": 1, "MultiLineString": 1}
    mso = m.polygons.object == m.objects.index["mso"]
    sem = [SEMANTICS[s] for s in m.polygons.semantic[mso].tolist()]
    assert sem[:6] == ["WallSurface"] * 6 and "WallSurface" not in sem[6:]
    assert m.report.skipped_objects == 0


def test_several_lods_per_object(tmp_path):
    foot = {"type": "MultiSurface", "lod": "0", "boundaries": [[[0, 1, 2, 3]]]}
    doc = _doc({"b": {"type": "Building", "geometry": [foot, _solid("1.2"), _solid("2.2")]}}, CUBE_V)
    m = read_cityjson(_write(tmp_path, doc))
    assert m.lods() == [0.0, 1.2, 2.2]
    assert int(m.lod_polygon_mask(1.2).sum()) == 6
    assert int(m.lod_polygon_mask(0).sum()) == 1
    assert int(m.lod_polygon_mask("best").sum()) == 6


def test_geometry_templates(tmp_path):
    # unit square template (float vertices, not quantised) placed twice
    templates = {
        "templates": [{"type": "MultiSurface", "lod": "2",
                       "boundaries": [[[0, 1, 2, 3]]],
                       "semantics": {"surfaces": [{"type": "RoofSurface"}], "values": [0]}}],
        "vertices-templates": [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
    }
    scale2 = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]
    shift = [1, 0, 0, 10, 0, 1, 0, 20, 0, 0, 1, 5, 0, 0, 0, 1]
    objs = {
        "tree1": {"type": "SolitaryVegetationObject", "geometry": [
            {"type": "GeometryInstance", "template": 0, "boundaries": [0], "transformationMatrix": scale2}]},
        "tree2": {"type": "SolitaryVegetationObject", "geometry": [
            {"type": "GeometryInstance", "template": 0, "boundaries": [1], "transformationMatrix": shift}]},
        "bad": {"type": "SolitaryVegetationObject", "geometry": [
            {"type": "GeometryInstance", "template": 7, "boundaries": [0],
             "transformationMatrix": shift}]},
    }
    vertices = [[0, 0, 0], [3000, 4000, 1000]]
    doc = _doc(objs, vertices, **{"geometry-templates": templates})
    m = read_cityjson(_write(tmp_path, doc))
    assert "bad" not in m.objects.index
    assert m.report.skipped_objects == 1
    world = m.world_vertices()
    for oid, lo, hi in (("tree1", [100000, 400000, 0], [100002, 400002, 0]),
                        ("tree2", [100013, 400024, 6], [100014, 400025, 6])):
        sel = m.polygons.object == m.objects.index[oid]
        assert sel.sum() == 1
        p = int(np.nonzero(sel)[0][0])
        r0 = m.polygons.ring_offsets[m.polygons.poly_ring_offsets[p]]
        corners = m.polygons.ring_idx[r0 : r0 + 4]
        w = world[corners]
        assert np.allclose(w.min(0), lo, atol=1e-3) and np.allclose(w.max(0), hi, atol=1e-3)
        assert SEMANTICS[m.polygons.semantic[p]] == "RoofSurface"
        assert m.polygons.lod[p] == 20
    areas = m.triangle_areas()
    assert areas[m.tri_object == m.objects.index["tree1"]].sum() == pytest.approx(4.0, rel=1e-4)
    assert areas[m.tri_object == m.objects.index["tree2"]].sum() == pytest.approx(1.0, rel=1e-4)


def test_materials_value_and_values_first_theme(tmp_path):
    app = {"materials": [{"name": "red", "diffuseColor": [1, 0, 0]}, {"name": "grey"}]}
    objs = {
        "a": {"type": "Building", "geometry": [_solid(material={
            "winter": {"values": [[0, 0, None, 1, 1, 1]]}, "summer": {"value": 1}})]},
        "b": {"type": "Building", "geometry": [_solid(material={"x": {"value": 1}})]},
    }
    m = read_cityjson(_write(tmp_path, _doc(objs, CUBE_V, appearance=app)))
    assert [mt["name"] for mt in m.materials] == ["red", "grey"]
    a = m.polygons.material[m.polygons.object == m.objects.index["a"]].tolist()
    b = m.polygons.material[m.polygons.object == m.objects.index["b"]].tolist()
    assert a == [0, 0, -1, 1, 1, 1]
    assert b == [1] * 6


def test_textures_found_missing_and_uv(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"\x89PNG\r\n")
    app = {
        "textures": [{"type": "PNG", "image": "img/a.png"}, {"type": "PNG", "image": "img/missing.png"}],
        "vertices-texture": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
    }
    geom = {"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[0, 1, 5, 4]]],
            "texture": {"t": {"values": [[[0, 0, 1, 2, 3]], [[1, 3, 2, 1, 0]], [[None]]]}}}
    m = read_cityjson(_write(tmp_path, _doc({"b": {"type": "Building", "geometry": [geom]}}, CUBE_V,
                                            appearance=app)))
    assert [t["found"] for t in m.textures] == [True, False]
    assert Path(m.textures[0]["path"]) == tmp_path / "img" / "a.png"
    assert m.report.counts["missing-texture"] == 1
    assert m.polygons.texture.tolist() == [0, 1, -1]
    uv = m.polygons.uv
    assert np.allclose(uv[:4], [[0, 0], [1, 0], [1, 1], [0, 1]])
    assert np.allclose(uv[4:8], [[0, 1], [1, 1], [1, 0], [0, 0]])
    assert np.isnan(uv[8:]).all()


def test_parents_children_child_first_and_citygml_type(tmp_path):
    objs = {
        "part": {"type": "BuildingPart", "parents": ["bldg"], "geometry": [_solid()]},
        "tin": {"type": "TINRelief", "parents": ["relief"], "geometry": [
            {"type": "CompositeSurface", "lod": "1", "boundaries": [[[0, 1, 2]], [[0, 2, 3]]]}]},
        "relief": {"type": "GenericCityObject", "attributes": {"citygml:type": "ReliefFeature", "k": "v"},
                   "children": ["tin"], "geometry": []},
        "bldg": {"type": "Building", "children": ["part", "orphan-child"]},
        "legacy": {"type": "BuildingPart", "parent": "bldg"},
    }
    m = read_cityjson(_write(tmp_path, _doc(objs, CUBE_V)))
    t = m.objects
    assert t.parent(t.index["part"]) == t.index["bldg"]
    assert t.parent(t.index["legacy"]) == t.index["bldg"]
    assert t.parent(t.index["tin"]) == t.index["relief"]
    assert t.types[t.index["relief"]] == "ReliefFeature"
    assert t.attributes[t.index["relief"]] == {"k": "v"}
    assert m.report.counts["missing-child"] == 1
    assert sorted(t.ids[c] for c in t.children(t.index["bldg"])) == ["legacy", "part"]


def test_broken_objects_are_skipped(tmp_path):
    objs = {
        "ok": {"type": "Building", "geometry": [_solid()]},
        "bad-index": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 99]]]}]},
        "negative": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, -2]]]}]},
        "bad-nesting": {"type": "Building", "geometry": [
            {"type": "Solid", "lod": "1", "boundaries": [[0, 1, 2]]}]},
        "too-deep": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[[0, 1, 2]]]]}]},
        "no-type": {"geometry": []},
        "bad-geom-type": {"type": "Building", "geometry": [{"type": "Blob", "boundaries": []}]},
        "ok2": {"type": "Road", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2, 3]]]}]},
    }
    m = read_cityjson(_write(tmp_path, _doc(objs, CUBE_V)))
    assert sorted(m.objects.ids) == ["ok", "ok2"]
    assert m.report.skipped_objects == 6
    text = " ".join(m.report.messages)
    assert "bad-index" in text and "vertex index out of range" in text
    assert m.n_triangles == 12 + 2


def test_bad_semantics_keep_geometry(tmp_path):
    sem = {"surfaces": [{"type": "RoofSurface"}], "values": [[0, 0, 5]]}  # wrong length / index
    doc = _doc({"b": {"type": "Building", "geometry": [_solid(semantics=sem)]}}, CUBE_V)
    m = read_cityjson(_write(tmp_path, doc))
    assert len(m.polygons) == 6
    assert m.report.counts["bad-semantics"] == 1


def test_malformed_json(tmp_path):
    p = _write(tmp_path, '{\n  "type": "CityJSON",\n  "version": "2.0",,\n}')
    with pytest.raises(ReaderError) as e:
        read_cityjson(p)
    msg = str(e.value)
    assert "not valid JSON: line 3 column" in msg and str(p) in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"type": "FeatureCollection", "features": []}, "type is 'FeatureCollection'"),
        ({"CityObjects": {}, "vertices": []}, "type is missing"),
        ([1, 2, 3], "type is missing"),
    ],
)
def test_not_cityjson(tmp_path, doc, expected):
    with pytest.raises(ReaderError) as e:
        read_cityjson(_write(tmp_path, doc))
    assert "not a CityJSON file" in str(e.value) and expected in str(e.value)


def test_crs_unknown_and_override(tmp_path):
    doc = _doc({"b": {"type": "Building", "geometry": [_solid()]}}, CUBE_V)
    doc["metadata"]["referenceSystem"] = "urn:ogc:def:crs:FOO::123"
    m = read_cityjson(_write(tmp_path, doc))
    assert m.crs is None
    assert m.report.counts["unknown-crs"] == 1
    m2 = read_cityjson(_write(tmp_path, doc), crs="EPSG:7415")
    assert m2.crs.to_epsg() == 7415
    with pytest.raises(ReaderError):
        read_cityjson(_write(tmp_path, doc), crs="not a crs at all")


def test_v10_plain_vertices_numeric_lod_gzip(tmp_path):
    doc = {
        "type": "CityJSON", "version": "1.0",
        "metadata": {"referenceSystem": "urn:ogc:def:crs:EPSG::7415"},
        "CityObjects": {"g": {"type": "GenericCityObject", "geometry": [
            {"type": "MultiSurface", "lod": 1, "boundaries": [[[0, 1, 2]]]}]}},
        "vertices": [[85000.5, 447000.25, 1.0], [85001.5, 447000.25, 1.0], [85001.5, 447001.25, 1.0]],
    }
    p = tmp_path / "v10.city.json"
    p.write_bytes(gzip.compress(json.dumps(doc).encode()))
    m = read_cityjson(p)
    assert m.version == "1.0" and m.lods() == [1.0]
    assert np.allclose(m.bbox(), [[85000.5, 447000.25, 1.0], [85001.5, 447001.25, 1.0]], atol=1e-3)
    assert m.total_area(1) == pytest.approx(0.5)


def test_cancel(tmp_path):
    p = _write(tmp_path, _doc({"b": {"type": "Building", "geometry": [_solid()]}}, CUBE_V))
    with pytest.raises(Cancelled):
        read_cityjson(p, cancel=lambda: True)


# ----------------------------------------------------------------- CityJSONSeq
def _seq(tmp_path: Path, lines: list) -> Path:
    p = tmp_path / "t.city.jsonl"
    p.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return p


def _feature(fid: str, objs: dict, vertices: list) -> dict:
    return {"type": "CityJSONFeature", "id": fid, "CityObjects": objs, "vertices": vertices}


def test_seq_streams_features_with_own_vertices(tmp_path):
    header = _doc({}, [])
    shifted = [[x + 10000, y, z] for x, y, z in CUBE_V]
    lines = [
        header,
        # the part comes in a feature before its parent building
        _feature("p", {"p": {"type": "BuildingPart", "parents": ["b"], "geometry": [_solid()]}}, CUBE_V),
        "{this is not json",
        _feature("b", {"b": {"type": "Building", "children": ["p"], "geometry": [_solid("1")]}}, shifted),
        {"type": "Something"},
        "",
        _feature("bad", {"bad": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 8]]]}]}}, CUBE_V[:3]),
    ]
    m = read_cityjsonseq(_seq(tmp_path, lines))
    assert m.format == "CityJSONSeq"
    assert sorted(m.objects.ids) == ["b", "p"]
    assert m.objects.parent(m.objects.index["p"]) == m.objects.index["b"]
    assert m.report.counts["json-error"] == 1
    assert any(msg.startswith("json-error: line 3") for msg in m.report.messages)
    assert m.report.counts["not-a-feature"] == 1
    assert m.report.skipped_objects == 1
    bb = m.bbox()
    assert np.allclose(bb, [[100000, 400000, 0], [100011, 400001, 1]])
    assert m.total_area(2) == pytest.approx(6.0) and m.total_area(1) == pytest.approx(6.0)


def test_seq_batches_give_same_model(tmp_path, monkeypatch):
    from citytwin.io.cityjson import lines as lines_mod

    lines = [_doc({}, [])]
    for i in range(25):
        v = [[x + 2000 * i, y, z] for x, y, z in CUBE_V]
        lines.append(_feature(f"f{i}", {f"b{i}": {"type": "Building", "geometry": [_solid()]}}, v))
    p = _seq(tmp_path, lines)
    one = read_cityjsonseq(p)
    monkeypatch.setattr(lines_mod, "BATCH_FEATURES", 4)
    many = read_cityjsonseq(p)
    assert one.objects.ids == many.objects.ids == [f"b{i}" for i in range(25)]
    assert np.allclose(one.world_vertices(), many.world_vertices())
    assert np.array_equal(one.triangles, many.triangles)


def test_seq_header_errors(tmp_path):
    with pytest.raises(ReaderError, match="not valid JSON: line 1"):
        read_cityjsonseq(_seq(tmp_path, ["{oops"]))
    with pytest.raises(ReaderError, match="not a CityJSON file"):
        read_cityjsonseq(_seq(tmp_path, [_feature("a", {}, [])]))
    empty = tmp_path / "e.city.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(ReaderError, match="empty"):
        read_cityjsonseq(empty)


def test_seq_worker_processes_give_same_model(tmp_path, monkeypatch):
    from citytwin.io.cityjson import lines as lines_mod
    from citytwin.io.cityjson import seq

    app = {"materials": [{"name": "m0"}]}
    lines = [_doc({}, [], appearance=app)]
    for i in range(30):
        v = [[x + 2000 * i, y, z] for x, y, z in CUBE_V]
        objs = {f"b{i}": {"type": "Building", "children": [f"p{i}"]},
                f"p{i}": {"type": "BuildingPart", "parents": [f"b{i}"],
                          "geometry": [_solid(material={"t": {"value": 0}})]}}
        if i == 7:
            objs[f"p{i}"]["geometry"][0]["boundaries"] = [[[[0, 1, 42]]]]  # broken: skipped
        feat = _feature(f"f{i}", objs, v)
        if i == 11:  # a feature with its own materials, indexed from 0 within the feature
            feat["appearance"] = {"materials": [{"name": "own"}]}
            objs[f"p{i}"]["geometry"][0]["material"] = {"t": {"value": 0}}
        lines.append(feat)
        if i == 20:
            lines.append("{broken")
    p = _seq(tmp_path, lines)
    serial = read_cityjsonseq(p)
    monkeypatch.setattr(seq, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(seq, "CHUNK_LINES", 4)
    monkeypatch.setattr(lines_mod, "BATCH_FEATURES", 3)
    par = read_cityjsonseq(p)
    assert par.objects.ids == serial.objects.ids and len(par.objects) == 59
    assert np.array_equal(par.objects.parents, serial.objects.parents)
    assert np.allclose(par.world_vertices(), serial.world_vertices())
    assert np.array_equal(par.triangles, serial.triangles)
    assert [m["name"] for m in par.materials] == [m["name"] for m in serial.materials] == ["m0", "own"]
    assert np.array_equal(par.polygons.material, serial.polygons.material)
    assert set(par.polygons.material.tolist()) == {0, 1}
    assert par.report.skipped_objects == serial.report.skipped_objects == 1
    assert par.report.counts["json-error"] == serial.report.counts["json-error"] == 1


def test_seq_feature_with_malformed_vertices_is_skipped(tmp_path):
    lines = [
        _doc({}, []),
        _feature("a", {"a": {"type": "Building", "geometry": [_solid()]}}, CUBE_V),
        _feature("b", {"b": {"type": "Building", "geometry": [_solid()]}}, CUBE_V[:7] + [[1, 2]]),
        _feature("c", {"c": {"type": "Building", "geometry": [_solid()]}}, CUBE_V[:7] + [["x", 1, 2]]),
    ]
    m = read_cityjsonseq(_seq(tmp_path, lines))
    assert m.objects.ids == ["a"]
    assert m.report.skipped_objects == 2
    assert m.total_area(2) == pytest.approx(6.0)


def test_progress_reported_while_reading(tmp_path):
    lines = [_doc({}, [])] + [
        _feature(f"f{i}", {f"b{i}": {"type": "Building", "geometry": [_solid()]}}, CUBE_V) for i in range(50)
    ]
    seen: list[float] = []
    m = read_cityjsonseq(_seq(tmp_path, lines), progress=seen.append)
    assert len(m.objects) == 50
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    seen.clear()
    read_cityjson(_write(tmp_path, _doc({"b": {"type": "Building", "geometry": [_solid()]}}, CUBE_V)),
                  progress=seen.append)
    assert seen and seen[-1] == pytest.approx(1.0)


_ROOF_SEM = {"surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
             "values": [[0, 1, 2, 2, 2, 2]]}


def _plain_multisurface(lod="2"):
    return {"type": "MultiSurface", "lod": lod, "boundaries": CUBE_SHELL}


@pytest.mark.parametrize("semantic_first", [True, False])
def test_same_lod_geometry_with_semantics_wins(tmp_path, semantic_first):
    """LoD2 Solid with semantic surfaces + LoD2 MultiSurface without (a common export):
    the roofs must come from the one with semantics, whatever the order in the file;
    an explicit LoD (here 1) still gives that LoD."""
    with_sem = _solid("2", semantics=_ROOF_SEM)
    plain = _plain_multisurface("2")
    pair = [with_sem, plain] if semantic_first else [plain, with_sem]
    lod1 = {"type": "Solid", "lod": "1", "boundaries": [CUBE_SHELL]}
    doc = _doc({"b": {"type": "Building", "geometry": [lod1, *pair]}}, CUBE_V)
    m = read_cityjson(_write(tmp_path, doc))
    best = m.lod_polygon_mask("best")
    names = [SEMANTICS[s] for s in m.polygons.semantic[best].tolist()]
    assert names == ["GroundSurface", "RoofSurface"] + ["WallSurface"] * 4
    assert m.total_area(2) == pytest.approx(6.0)  # one cube at LoD2, not two on top of each other
    tri_names = {SEMANTICS[s] for s in m.tri_semantic[m.lod_triangle_mask(2.0)].tolist()}
    assert "RoofSurface" in tri_names and SEMANTICS[semantic_code("Building")] not in tri_names
    lod1_mask = m.lod_polygon_mask(1.0)
    assert int(lod1_mask.sum()) == 6  # the explicit LoD1 is still there
    assert m.report.counts["same-lod-geometry"] == 1
    assert any("b: LoD 2 drawn from the Solid with semantic surfaces" in msg for msg in m.report.messages)


@pytest.mark.parametrize("multisurface_first", [True, False])
def test_same_lod_semantics_beat_volume_and_volume_beats_surface_count(tmp_path, multisurface_first):
    ms_sem = {"type": "MultiSurface", "lod": 2, "boundaries": CUBE_SHELL[:2],
              "semantics": {"surfaces": [{"type": "RoofSurface"}], "values": [None, 0]}}
    solid = _solid(2)  # more surfaces, a volume, but no semantics
    geoms = [ms_sem, solid] if multisurface_first else [solid, ms_sem]
    # a second object: neither has semantics -> the Solid wins over a bigger MultiSurface
    big_ms = {"type": "MultiSurface", "lod": "2", "boundaries": CUBE_SHELL + CUBE_SHELL[:1]}
    other = [big_ms, _solid("2")] if multisurface_first else [_solid("2"), big_ms]
    doc = _doc({"a": {"type": "Building", "geometry": geoms},
                "c": {"type": "Building", "geometry": other}}, CUBE_V)
    m = read_cityjson(_write(tmp_path, doc))
    obj = m.polygons.object
    a_sem = [SEMANTICS[s] for s in m.polygons.semantic[obj == 0].tolist()]
    assert len(a_sem) == 2 and "RoofSurface" in a_sem
    assert int((obj == 1).sum()) == 6


def test_same_lod_geometry_in_cityjsonseq(tmp_path):
    header = {"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [],
              "transform": {"scale": [0.001, 0.001, 0.001], "translate": [0, 0, 0]}}
    feat = {"type": "CityJSONFeature", "id": "b", "vertices": CUBE_V,
            "CityObjects": {"b": {"type": "Building",
                                  "geometry": [_plain_multisurface("2.2"), _solid("2.2", semantics=_ROOF_SEM)]}}}
    p = tmp_path / "t.city.jsonl"
    p.write_text(json.dumps(header) + "\n" + json.dumps(feat) + "\n")
    m = read_cityjsonseq(p)
    names = [SEMANTICS[s] for s in m.polygons.semantic[m.lod_polygon_mask("best")].tolist()]
    assert names == ["GroundSurface", "RoofSurface"] + ["WallSurface"] * 4
