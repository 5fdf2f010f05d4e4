"""Scenarios on the demo district and real files: edits applied as a new model (the base
untouched), roofs as closed shells, undo/redo, the file form, autosave and recovery."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
import trimesh

from citytwin.io import read
from citytwin.scenario import (
    Autosaver,
    BaseInfo,
    Edit,
    EditError,
    Scenario,
    ScenarioEditor,
    apply_edits,
    parse_edit,
    read_scenario,
    recovery_for,
    save_scenario,
)
from citytwin.scenario.files import recovery_path, scenario_toml
from citytwin.scenario.indicators import building_table
from citytwin.scenario.roofs import ROOFS, shell

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"
L_SHAPE = [[0.0, 0.0], [30.0, 0.0], [30.0, 10.0], [10.0, 10.0], [10.0, 25.0], [0.0, 25.0]]


@pytest.fixture(scope="module")
def demo():
    return read(DEMO)


def _snapshot(m):
    return (m.vertices.copy(), m.polygons.ring_idx.copy(), m.polygons.object.copy(), m.corners.copy(),
            list(m.objects.ids), copy.deepcopy(m.objects.attributes), m.objects.parents.copy())


def _same(m, snap) -> bool:
    v, ri, obj, corners, ids, attrs, par = snap
    return (np.array_equal(v, m.vertices) and np.array_equal(ri, m.polygons.ring_idx)
            and np.array_equal(obj, m.polygons.object) and np.array_equal(corners, m.corners)
            and ids == m.objects.ids and attrs == m.objects.attributes and np.array_equal(par, m.objects.parents))


def _free_spot(demo, size=20.0):
    """A square footprint (world CRS) on open ground near the demo's centre: no building there."""
    t = building_table(demo)
    c = demo.bbox().mean(0)[:2]
    foot = [demo.footprint(i) for i in t.index]
    for r in range(0, 300, 7):
        for a in range(0, 360, 30):
            x, y = c[0] + r * math.cos(math.radians(a)), c[1] + r * math.sin(math.radians(a))
            sq = shapely.box(x, y, x + size, y + size)
            if not any(sq.buffer(3).intersects(f) for f in foot):
                return [[x, y], [x + size, y], [x + size, y + size], [x, y + size]]
    raise AssertionError("no free spot")


def _mesh_of(model, obj_id, lod):
    i = model.objects.index[obj_id]
    tri_mask = (model.tri_object == i) & (model.tri_lod == int(round(lod * 10)))
    v = model.world_vertices()
    return trimesh.Trimesh(v[model.triangles[tri_mask]].reshape(-1, 3),
                           np.arange(int(tri_mask.sum()) * 3).reshape(-1, 3), process=True)


# ------------------------------------------------------------------ roofs
@pytest.mark.parametrize("roof", ROOFS)
@pytest.mark.parametrize("footprint", [L_SHAPE, [[0, 0], [20, 3], [17, 15], [-2, 11]]], ids=["L", "quad"])
def test_roof_shells_are_closed_and_outward(roof, footprint) -> None:
    surfaces = shell(np.asarray(footprint, float), 100.0, 115.0, roof)
    from citytwin.model.builder import CityModelBuilder

    b = CityModelBuilder("t", "test")
    o = b.add_object("b", "Building")
    for _, rings in surfaces:
        b.add_polygon(o, rings)
    m = b.build()
    assert not m.report.counts, m.report.messages
    mesh = trimesh.Trimesh(m.world_vertices()[m.triangles].reshape(-1, 3), np.arange(m.n_triangles * 3).reshape(-1, 3))
    mesh.merge_vertices(digits_vertex=6)
    assert mesh.is_watertight and mesh.is_winding_consistent
    area = shapely.Polygon(footprint).area
    assert mesh.volume > 0  # outward
    zmax = m.world_vertices()[:, 2].max()
    assert zmax == pytest.approx(115.0)
    if roof == "flat":
        assert mesh.volume == pytest.approx(area * 15.0)
    else:
        assert area * 7.5 < mesh.volume < area * 15.0
    assert building_table(m).footprint_m2[0] == pytest.approx(area)


# ------------------------------------------------------------------ edits
@pytest.mark.parametrize(("table", "reason"), [
    ({"op": "add", "id": "x", "footprint": [[0, 0], [10, 10], [10, 0], [0, 10]], "height": 9}, "intersects itself"),
    ({"op": "add", "id": "x", "footprint": [[0, 0], [10, 0], [20, 0]], "height": 9}, "no area"),
    ({"op": "add", "id": "x", "footprint": [[0, 0], [10, 0]], "height": 9}, "at least 3"),
    ({"op": "add", "id": "x", "footprint": [[0, 0], [10, 0], [10, 10]]}, "height or a number of storeys"),
    ({"op": "add", "id": "x", "footprint": [[0, 0], [10, 0], [10, 10]], "height": 9, "roof": "dome"}, "roof 'dome'"),
    ({"op": "demolish", "ids": ["B1"]}, "unknown op 'demolish'"),
    ({"op": "remove", "ids": []}, "'ids'"),
    ({"op": "set-height", "ids": ["B1"], "height": -3}, "more than 0"),
    ({"op": "move", "ids": ["B1"], "offset": [1]}, "offset"),
    ({"op": "remove", "ids": ["B1"], "colour": "red"}, "unknown key colour"),
])
def test_bad_edits_say_why_and_which(table, reason) -> None:
    with pytest.raises(EditError) as err:
        parse_edit(table, 4)
    assert reason in str(err.value) and str(err.value).startswith("edit 4: ")


def test_apply_leaves_the_base_untouched_and_makes_each_change(demo) -> None:
    snap = _snapshot(demo)
    spot = _free_spot(demo)
    gabled = next(i for i, a, p in zip(demo.objects.ids, demo.objects.attributes, demo.objects.parents.tolist())
                  if a.get("roofType") == "gabled" and p < 0 and i not in ("BLD_0001", "BLD_0002", "BLD_0004"))
    edits = [parse_edit(t, k + 1) for k, t in enumerate([
        {"op": "remove", "ids": ["BLD_0002"]},
        {"op": "add", "id": "new-1", "footprint": spot, "storeys": 10, "roof": "flat",
         "attributes": {"function": "residential"}},
        {"op": "set-height", "ids": [gabled], "height": 21.0, "storeys": 7},
        {"op": "move", "ids": ["BLD_0001"], "offset": [5.0, -2.0]},
        {"op": "rotate", "ids": ["BLD_0004"], "angle": 90.0},
        {"op": "set-attributes", "ids": ["BLD_0005"], "attributes": {"function": "office"}, "unset": ["street"]},
    ])]
    out = apply_edits(demo, edits, name="t")
    assert _same(demo, snap)  # the base is as it was
    m = out.model
    assert out.added == ["new-1"] and out.removed == ["BLD_0002"]
    assert set(out.changed) == {gabled, "BLD_0001", "BLD_0004", "BLD_0005"}
    assert "BLD_0002" not in m.objects.index and "BLD_0002-1" not in m.objects.index
    assert m.n_objects == demo.n_objects - 1 - len(demo.objects.children(demo.objects.index["BLD_0002"])) + 1
    # the new building: 10 storeys x 3 m on the ground, its footprint exactly, a closed LoD2 shell
    t = building_table(m)
    k = t.ids.index("new-1")
    assert t.footprint_m2[k] == pytest.approx(400.0, abs=1e-3)
    assert t.height_m[k] == pytest.approx(30.0) and t.storeys[k] == 10
    assert t.volume_m3[k] == pytest.approx(400.0 * 30.0, rel=1e-4)
    assert m.objects.attributes[m.objects.index["new-1"]]["function"] == "residential"
    assert _mesh_of(m, "new-1", 2).is_watertight
    bb = m.object_bboxes()[m.objects.index["new-1"]]
    from citytwin.scenario.apply import ground_height

    assert bb[0, 2] == pytest.approx(ground_height(demo, np.asarray(spot)), abs=1e-3)
    # set-height keeps the footprint and scales the shape
    i0, i1 = demo.objects.index[gabled], m.objects.index[gabled]
    assert m.object_bboxes()[i1][1, 2] - m.object_bboxes()[i1][0, 2] == pytest.approx(21.0, abs=2e-3)
    assert np.allclose(m.object_bboxes()[i1][:, :2], demo.object_bboxes()[i0][:, :2], atol=1e-3)
    assert m.footprint(i1).symmetric_difference(demo.footprint(i0)).area < 0.01
    assert m.objects.attributes[i1]["storeysAboveGround"] == 7
    # move: every vertex shifted; neighbours sharing nothing stay
    b0, b1 = demo.object_bboxes()[demo.objects.index["BLD_0001"]], m.object_bboxes()[m.objects.index["BLD_0001"]]
    assert np.allclose(b1 - b0, [[5, -2, 0], [5, -2, 0]], atol=1e-3)
    # rotate by 90 degrees: same area, the box's sides swap
    r0, r1 = demo.footprint(demo.objects.index["BLD_0004"]), m.footprint(m.objects.index["BLD_0004"])
    assert r1.area == pytest.approx(r0.area, rel=1e-5)
    assert r1.centroid.distance(r0.centroid) < 1e-2 + 0.5 * max(r0.bounds[2] - r0.bounds[0], 1)
    a5 = m.objects.attributes[m.objects.index["BLD_0005"]]
    assert a5["function"] == "office" and "street" not in a5
    assert "street" in demo.objects.attributes[demo.objects.index["BLD_0005"]]


def test_pitched_roof_and_storeys_only(demo) -> None:
    spot = _free_spot(demo, 16.0)
    out = apply_edits(demo, [parse_edit({"op": "add", "id": "g", "footprint": spot, "storeys": 3, "roof": "gable"})],
                      storey_height=3.2)
    t = building_table(out.model)
    k = t.ids.index("g")
    assert t.height_m[k] == pytest.approx(9.6) and t.storeys[k] == 3
    mesh = _mesh_of(out.model, "g", 2)
    assert mesh.is_watertight and 256 * 9.6 / 2 < mesh.volume < 256 * 9.6


@pytest.mark.parametrize(("table", "reason"), [
    ({"op": "remove", "ids": ["NOPE"]}, "no object with id 'NOPE'"),
    ({"op": "set-height", "ids": ["BLD_0001", "NOPE"], "height": 9}, "no object with id 'NOPE'"),
    ({"op": "add", "id": "BLD_0003", "footprint": [[0, 0], [10, 0], [10, 10]], "height": 9}, "exists already"),
])
def test_an_edit_that_cannot_apply_applies_nothing(demo, table, reason) -> None:
    snap = _snapshot(demo)
    edits = [parse_edit({"op": "remove", "ids": ["BLD_0002"]}, 1), parse_edit(table, 2)]
    with pytest.raises(EditError) as err:
        apply_edits(demo, edits)
    assert str(err.value).startswith("edit 2: ") and reason in str(err.value)
    assert _same(demo, snap)


def test_removed_then_referenced(demo) -> None:
    edits = [parse_edit({"op": "remove", "ids": ["BLD_0002"]}, 1),
             parse_edit({"op": "move", "ids": ["BLD_0002"], "offset": [1, 1]}, 2)]
    with pytest.raises(EditError, match="edit 2: object 'BLD_0002' was removed by an earlier edit"):
        apply_edits(demo, edits)


def test_place_a_real_design_mesh(demo, data_dir) -> None:
    spot = np.asarray(_free_spot(demo, 60.0)).mean(0)
    obj = data_dir / "mesh" / "lyon" / "tour_part_dieu.obj"
    e = parse_edit({"op": "place-mesh", "id": "tower", "path": str(obj), "at": spot.tolist(), "rotation": 30.0,
                    "attributes": {"function": "office"}}, 1)
    out = apply_edits(demo, [e])
    m = out.model
    i = m.objects.index["tower"]
    bb = m.object_bboxes()[i]
    from citytwin.scenario.apply import ground_height

    assert bb[1, 2] - bb[0, 2] == pytest.approx(157.78 + 11.26, abs=0.05)  # the file's height
    assert (bb[0, :2] + bb[1, :2]) / 2 == pytest.approx(spot, abs=40.0)
    assert bb[0, 2] == pytest.approx(ground_height(demo, np.array([bb[0, :2], bb[1, :2]])), abs=1e-3)
    assert m.objects.types[i] == "Building" and m.objects.attributes[i]["function"] == "office"
    t = building_table(m)
    assert t.height_m[t.ids.index("tower")] == pytest.approx(169.04, abs=0.05)
    bad = parse_edit({"op": "place-mesh", "id": "t2", "path": str(obj) + ".missing", "at": [0, 0]}, 3)
    with pytest.raises(EditError, match="edit 1: the mesh cannot be read"):
        apply_edits(demo, [bad])


def test_real_city_with_parts(data_dir) -> None:
    """Den Haag: buildings made of parts, LoD2, no measuredHeight: edits on a building move its parts."""
    m = read(data_dir / "cityjson" / "denhaag" / "DenHaag_01_v1.0.city.json")
    with_parts = next(i for i in range(m.n_objects) if m.objects.parents[i] < 0 and m.objects.children(i)
                      and m.objects.types[i] == "Building")
    bid = m.objects.ids[with_parts]
    t0 = building_table(m)
    k = t0.ids.index(bid)
    out = apply_edits(m, [parse_edit({"op": "set-height", "ids": [bid], "height": 2 * float(t0.height_m[k])}, 1)])
    t1 = building_table(out.model)
    assert t1.height_m[t1.ids.index(bid)] == pytest.approx(2 * t0.height_m[k], rel=1e-4)
    assert t1.footprint_m2[t1.ids.index(bid)] == pytest.approx(t0.footprint_m2[k], rel=1e-4)
    assert t1.volume_m3[t1.ids.index(bid)] == pytest.approx(2 * t0.volume_m3[k], rel=1e-3)


# ------------------------------------------------------------------ editor
def test_undo_redo_and_a_failed_edit(demo) -> None:
    ed = ScenarioEditor(demo)
    n0 = ed.model.n_objects
    ed.do(parse_edit({"op": "remove", "ids": ["BLD_0002"]}))
    n1 = ed.model.n_objects
    assert n1 < n0
    ed.do(parse_edit({"op": "set-height", "ids": ["BLD_0003"], "height": 30.0}))
    assert "BLD_0003" in ed.applied().changed and ed.applied().removed == ["BLD_0002"]
    before = ed.scenario
    with pytest.raises(EditError, match="edit 3: no object with id 'BLD_0002'"):
        ed.do(parse_edit({"op": "move", "ids": ["BLD_0002"], "offset": [1, 0]}))
    assert ed.scenario is before and len(ed.scenario.edits) == 2  # as before the faulty edit
    ed.undo()
    assert len(ed.scenario.edits) == 1 and ed.model.n_objects == n1
    assert "BLD_0003" not in ed.applied().changed
    ed.undo()
    assert ed.model.n_objects == n0 and not ed.can_undo()
    ed.redo()
    ed.redo()
    assert not ed.can_redo() and len(ed.scenario.edits) == 2
    # the state from the editor equals the scenario applied in one go
    one_go = ed.scenario.apply(demo).model
    assert np.allclose(building_table(one_go).height_m, building_table(ed.model).height_m, equal_nan=True)


# ------------------------------------------------------------------ files
def test_file_round_trip_autosave_and_recovery(tmp_path, demo) -> None:
    s = Scenario(name="Tower \"A\"", storey_height=3.2, base=BaseInfo.of(demo, "demo_district.city.json"),
                 edits=(parse_edit({"op": "add", "id": "n", "footprint": [[0, 0], [10, 0], [10, 10], [0, 10]],
                                    "height": 12.5, "roof": "hip", "attributes": {"function": "residential",
                                                                                  "floors": {"a": 1}}}),
                        parse_edit({"op": "remove", "ids": ["BLD_0002"]})))
    p = tmp_path / "a.scenario.toml"
    save_scenario(s, p)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.scenario.toml"]  # no temporary file left
    back = read_scenario(p)
    assert back.edits == s.edits and back.name == s.name and back.base == s.base and back.storey_height == 3.2
    # autosave: a recovery file beside it, newer than the file; saving drops it
    ticks = iter([0.0, 1.0, 10.0])
    auto = Autosaver(p, interval=5.0, clock=lambda: next(ticks))
    s2 = s.with_edit(parse_edit({"op": "remove", "ids": ["BLD_0003"]}))
    assert auto.tick(s2) is True  # the first change is written at once
    s3 = s2.with_edit(parse_edit({"op": "remove", "ids": ["BLD_0004"]}))
    assert auto.tick(s3) is False  # too soon
    assert recovery_for(p).edits == s2.edits  # what a crash now would leave
    assert auto.tick(s3) is True
    rec = recovery_for(p)
    assert rec is not None and rec.edits == s3.edits and rec.source == str(p)
    save_scenario(rec, p)
    assert not recovery_path(p).exists() and recovery_for(p) is None
    # a truncated recovery file is ignored, not fatal
    recovery_path(p).write_text(scenario_toml(s3)[:40])
    assert recovery_for(p) is None


@pytest.mark.parametrize("damage", ["truncated", "binary", "no-version", "bad-edit"])
def test_bad_files_name_the_file(tmp_path, damage) -> None:
    good = scenario_toml(Scenario(name="x", edits=(Edit("remove", {"ids": ["B1"]}),
                                                   Edit("remove", {"ids": ["B2"]}))))
    p = tmp_path / "bad.scenario.toml"
    if damage == "truncated":
        p.write_text(good[: good.index('ids = ["B2"]') + 8])
        want = "not valid TOML"
    elif damage == "binary":
        p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
        want = "not UTF-8"
    elif damage == "no-version":
        p.write_text(good.replace("version = 1\n", ""))
        want = "no 'version'"
    else:
        p.write_text(good.replace('ids = ["B2"]', 'ids = "B2"\nheight = 3'))
        want = "edit 2: unknown key height"
    with pytest.raises(EditError) as err:
        read_scenario(p)
    assert str(err.value).startswith(str(p)) and want in str(err.value)
    assert "\n" not in str(err.value)


def test_another_base_is_refused(tmp_path, demo, data_dir) -> None:
    s = Scenario(name="x", base=BaseInfo.of(demo), edits=(parse_edit({"op": "remove", "ids": ["BLD_0002"]}),))
    p = save_scenario(s, tmp_path / "x.scenario.toml")
    other = read(data_dir / "cityjson" / "3dbag" / "3dbag_b2.city.json")
    with pytest.raises(EditError, match=r"x\.scenario\.toml: made for another base \(demo_district\.city\.json\)"):
        read_scenario(p).apply(other)
    assert read_scenario(p).apply(demo).removed == ["BLD_0002"]


def test_scenarios_in_a_scene_file(tmp_path, demo) -> None:
    from citytwin.model.scenefile import read_scene, write_scene
    from citytwin.scenario.files import scenarios_from_tables

    save_scenario(Scenario(name="From a file", edits=(parse_edit({"op": "remove", "ids": ["BLD_0002"]}),)),
                  tmp_path / "a.scenario.toml")
    scene = tmp_path / "s.toml"
    scene.write_text(f'version = 1\n[[datasets]]\npath = "{DEMO.as_posix()}"\n\n'
                     '[[scenarios]]\npath = "a.scenario.toml"\n\n'
                     '[[scenarios]]\nname = "Inline"\nedits = [{ op = "set-height", ids = ["BLD_0003"], height = 20.0 }]\n')
    sf = read_scene(scene)
    assert len(sf.scenarios) == 2
    write_scene(sf, tmp_path / "again.toml")  # written back as tables, read the same
    sf2 = read_scene(tmp_path / "again.toml")
    assert sf2.scenarios == sf.scenarios
    got = scenarios_from_tables(sf2.scenarios, tmp_path, str(scene))
    assert [s.name for s in got] == ["From a file", "Inline"]
    assert got[0].apply(demo).removed == ["BLD_0002"] and got[1].apply(demo).changed == ["BLD_0003"]
    bad = [{"name": "x", "edits": [{"op": "nope"}]}]
    with pytest.raises(EditError, match=r"s\.toml: scenarios\[0\]: edit 1: unknown op 'nope'"):
        scenarios_from_tables(bad, tmp_path, str(scene))


def test_flood_and_solar_indicators_follow_the_edits(demo) -> None:
    from datetime import date

    from citytwin.scenario.sim_indicators import flood_indicators, solar_indicators
    from citytwin.sim.flood import Flood
    from citytwin.sim.terrain import grid_from_model

    t = building_table(demo)
    level = float(np.percentile(t.ground_m, 10))
    base = flood_indicators(demo, t, level)
    direct = Flood(grid_from_model(demo, 2.0), demo).at(level)
    assert base["flooded_buildings"] == len(direct.objects) > 0
    gone = demo.objects.ids[int(direct.objects[0])]
    out = apply_edits(demo, [parse_edit({"op": "remove", "ids": [gone]})]).model
    assert flood_indicators(out, building_table(out), level)["flooded_buildings"] == base["flooded_buildings"] - 1
    # roofs: removing a building takes its roof area off the total
    day = date(2026, 6, 21)
    s0 = solar_indicators(demo, t, day, step_minutes=60, spacing=4.0)
    s1 = solar_indicators(out, building_table(out), day, step_minutes=60, spacing=4.0)
    i = demo.objects.index[gone]
    objs = demo.objects.descendants(i)
    roof = np.isin(demo.polygons.object, objs) & (demo.polygons.semantic == 1) & demo.lod_polygon_mask("best")
    assert s0["roof_area_m2"] - s1["roof_area_m2"] == pytest.approx(float(demo.polygon_areas()[roof].sum()), abs=0.2)
    assert s1["roof_irradiation_kwh"] < s0["roof_irradiation_kwh"] and 0 < s0["roof_sun_hours"] < 17
