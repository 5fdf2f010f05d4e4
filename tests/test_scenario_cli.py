"""``citytwin kpi``, ``scenario apply`` and ``report`` as users run them (a subprocess), the
indicators against independent computations, bad scenarios, and the report in a real
headless browser."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from citytwin.io import read
from citytwin.scenario.indicators import building_table, indicators

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"
BROWSER = shutil.which("chromium-headless-shell")

TOWER = """version = 1
name = "Tower on the corner"

[[edits]]
op = "remove"
ids = ["BLD_0002"]

[[edits]]
op = "add"
id = "new-1"
footprint = [[476742.0, 5428392.0], [476768.0, 5428397.0], [476763.0, 5428421.0], [476737.0, 5428416.0]]
height = 40.0
storeys = 12
roof = "hip"
attributes = { function = "residential" }

[[edits]]
op = "set-height"
ids = ["BLD_0003"]
height = 21.0
storeys = 7
"""
STOREYS = """version = 1
name = "Two storeys more"

[[edits]]
op = "set-height"
ids = ["BLD_0010", "BLD_0011", "BLD_0012"]
storeys = 6
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citytwin", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


@pytest.fixture(scope="module")
def demo():
    return read(DEMO)


@pytest.fixture()
def tower(tmp_path) -> Path:
    p = tmp_path / "tower.scenario.toml"
    p.write_text(TOWER)
    return p


def _site(tmp_path: Path, demo) -> tuple[Path, shapely.Polygon]:
    lo, hi = demo.bbox()[0], demo.bbox()[1]
    mid = (lo[0] + hi[0]) / 2
    poly = shapely.Polygon([(lo[0], lo[1]), (mid, lo[1]), (mid, hi[1]), (lo[0], hi[1])])
    p = tmp_path / "site.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(poly)}]}))
    return p, poly


# ------------------------------------------------------------- indicators
def test_indicators_against_shapely_footprints(demo) -> None:
    t = building_table(demo)
    assert len(t) == sum(1 for ty, p in zip(demo.objects.types, demo.objects.parents.tolist())
                         if ty == "Building" and p < 0)
    exact = np.array([demo.footprint(i).area for i in t.index])
    assert np.allclose(t.footprint_m2, exact, rtol=1e-6, atol=5e-3)  # shapely snaps to 0.1 mm
    cen = np.array([[demo.footprint(i).centroid.x, demo.footprint(i).centroid.y] for i in t.index])
    assert np.allclose(t.centroid, cen, atol=1e-3)
    attrs = [demo.objects.attributes[i] for i in t.index]
    assert np.array_equal(t.height_m, [a["measuredHeight"] for a in attrs])
    assert np.array_equal(t.storeys, [a["storeysAboveGround"] for a in attrs])


def test_height_and_storeys_without_attributes(data_dir) -> None:
    """Den Haag has no measuredHeight nor storeys: top minus the footprint's lowest point, height / 3 m."""
    m = read(data_dir / "cityjson" / "denhaag" / "DenHaag_01_v1.0.city.json")
    t = building_table(m, storey_height=3.0)
    assert len(t) == 844
    for k in range(0, 844, 97):
        i = int(t.index[k])
        fp = m.footprint(i)
        assert t.footprint_m2[k] == pytest.approx(fp.area, rel=1e-3, abs=0.05)
        bb = m.object_bboxes()[i]
        assert t.height_m[k] == pytest.approx(bb[1, 2] - t.ground_m[k], abs=1e-3)
        assert t.ground_m[k] >= bb[0, 2] - 1e-3
        assert t.storeys[k] == max(1, round(t.height_m[k] / 3.0))


def test_site_rule_and_ratios(tmp_path, demo) -> None:
    _, site = _site(tmp_path, demo)
    t = building_table(demo)
    inside = shapely.contains_xy(site, t.centroid[:, 0], t.centroid[:, 1])
    v = indicators(demo, site).values
    assert v["buildings"] == int(inside.sum()) and 0 < v["buildings"] < len(t)
    assert v["far"] == pytest.approx(float(t.gfa_m2[inside].sum()) / site.area, abs=1e-4)
    assert v["coverage"] == pytest.approx(float(t.footprint_m2[inside].sum()) / site.area, abs=1e-4)
    assert v["open_space_ratio"] == pytest.approx(1 - v["coverage"], abs=1e-4)
    # a building straddling the edge counts by its centroid: some footprints cross the line
    straddle = [i for k, i in enumerate(t.index) if demo.footprint(i).intersects(site.boundary)]
    assert straddle


# ------------------------------------------------------------- commands
def test_kpi_json_and_scenario_apply_agree(tmp_path, tower, demo) -> None:
    site_path, _ = _site(tmp_path, demo)
    r = run("kpi", str(DEMO), "--json")
    assert r.returncode == 0, r.stderr
    base = json.loads(r.stdout)
    for k in ("buildings", "footprint_m2", "gfa_m2", "max_height_m", "mean_height_m", "volume_m3"):
        assert k in base
    assert base["buildings"] == 362 and "far" not in base
    r = run("kpi", str(DEMO), "--scenario", str(tower), "--site", str(site_path), "--json")
    assert r.returncode == 0, r.stderr
    with_s = json.loads(r.stdout)
    assert {"far", "coverage", "open_space_ratio", "site_area_m2"} <= set(with_s)
    r = run("kpi", str(DEMO), "--scenario", str(tower), "--json")
    scen = json.loads(r.stdout)
    assert scen["max_height_m"] == base["max_height_m"] or scen["max_height_m"] >= 40.0
    assert scen["gfa_m2"] > base["gfa_m2"] and scen["buildings"] == base["buildings"]  # one out, one in
    out = tmp_path / "out.city.json"
    r = run("scenario", "apply", str(DEMO), str(tower), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    doc = json.loads(out.read_text())
    assert doc["version"] == "2.0"
    new = doc["CityObjects"]["new-1"]
    assert new["type"] == "Building" and new["attributes"]["function"] == "residential"
    assert {g["type"] for g in new["geometry"]} == {"Solid"} and {g["lod"] for g in new["geometry"]} == {"1", "2"}
    assert "BLD_0002" not in doc["CityObjects"]
    r = run("kpi", str(out), "--json")
    written = json.loads(r.stdout)
    for k in ("buildings", "footprint_m2", "gfa_m2", "max_height_m", "mean_height_m", "volume_m3"):
        assert written[k] == pytest.approx(scen[k], rel=1e-5), k  # millimetre quantisation only
    # the written solid is closed: read back, its LoD2 triangles make a watertight mesh
    import trimesh

    m = read(out)
    i = m.objects.index["new-1"]
    sel = (m.tri_object == i) & (m.tri_lod == 20)
    mesh = trimesh.Trimesh(m.world_vertices()[m.triangles[sel]].reshape(-1, 3),
                           np.arange(int(sel.sum()) * 3).reshape(-1, 3))
    mesh.merge_vertices(digits_vertex=3)
    assert mesh.is_watertight and mesh.volume > 0


BAD = {
    "self-intersecting": (TOWER.replace("[476763.0, 5428421.0], [476737.0, 5428416.0]",
                                        "[476737.0, 5428416.0], [476763.0, 5428421.0]"),
                          "edit 2: the footprint intersects itself"),
    "zero-area": (TOWER.replace("[476763.0, 5428421.0], [476737.0, 5428416.0]",
                                "[476794.0, 5428402.0]"), "edit 2: the footprint has no area"),
    "unknown-id": (TOWER.replace('ids = ["BLD_0003"]', 'ids = ["BLD_9999"]'),
                   "edit 3: no object with id 'BLD_9999'"),
    "unknown-op": (TOWER.replace('op = "set-height"', 'op = "raise"'), "edit 3: unknown op 'raise'"),
    "other-base": (TOWER.replace('name = "Tower on the corner"\n',
                                 'name = "T"\n[base]\nfile = "rotterdam.city.json"\nobjects = 12\n'
                                 'fingerprint = "0123456789abcdef"\n'), "made for another base (rotterdam.city.json)"),
    "truncated": (TOWER[: TOWER.index("height = 40.0") + 9], "not valid TOML"),
    "corrupt": (None, "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenarios_one_line_no_output(tmp_path, case) -> None:
    text, want = BAD[case]
    s = tmp_path / "bad.scenario.toml"
    if text is None:
        s.write_bytes(TOWER.encode()[:200] + b"\xff\xfe\x00garbage\x00" + TOWER.encode()[200:])
    else:
        s.write_text(text)
    out = tmp_path / "out.city.json"
    before = DEMO.stat().st_mtime_ns
    r = run("scenario", "apply", str(DEMO), str(s), "--out", str(out))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(s) in lines[0] and want in lines[0], lines[0]
    assert "Traceback" not in r.stderr and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.scenario.toml"]  # no temporary file either
    assert DEMO.stat().st_mtime_ns == before
    r = run("kpi", str(DEMO), "--scenario", str(s), "--json")
    assert r.returncode != 0 and r.stdout == "" and want in r.stderr


def test_report_bad_scenario_writes_nothing(tmp_path, tower) -> None:
    bad = tmp_path / "b.scenario.toml"
    bad.write_text(STOREYS.replace("BLD_0012", "NOPE"))
    out = tmp_path / "r.html"
    r = run("report", str(DEMO), "--scenario", str(tower), "--scenario", str(bad), "--out", str(out))
    assert r.returncode != 0 and "b.scenario.toml: edit 1: no object with id 'NOPE'" in r.stderr
    assert not out.exists()


@pytest.mark.gui
def test_report_in_a_headless_browser(tmp_path, tower, demo) -> None:
    from citytwin.render.snapshot import offscreen_available

    ok, why = offscreen_available()
    if not ok:
        pytest.skip(why)
    two = tmp_path / "two.scenario.toml"
    two.write_text(STOREYS)
    site_path, _ = _site(tmp_path, demo)
    out = tmp_path / "report.html"
    r = run("report", str(DEMO), "--scenario", str(tower), "--scenario", str(two), "--site", str(site_path),
            "--flood-level", "252", "--size", "480x300", "--out", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert html.count("data:image/png;base64,") == 9  # base + 2 scenarios, 3 cameras each
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert "<script" not in html
    for needle in ("Tower on the corner", "Two storeys more", "Floor area ratio", "EC: I: UP: 2A", "<svg"):
        assert needle in html
    # the tower's pictures differ from the base's in the close-up, the storeys' in the plan too
    import base64
    import io
    import re

    from PIL import Image

    imgs = [np.asarray(Image.open(io.BytesIO(base64.b64decode(b)))) for b in
            re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)]
    assert all(i.shape[:2] == (300, 480) for i in imgs)
    base_close, tower_close = imgs[2], imgs[5]
    assert np.abs(base_close.astype(int) - tower_close.astype(int)).sum(2).astype(bool).mean() > 0.01
    if BROWSER is None:
        pytest.skip("chromium-headless-shell is not installed (apt install chromium-headless-shell)")
    shot = tmp_path / "shot.png"
    args = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    r = subprocess.run([*args, f"--screenshot={shot}", "--window-size=1200,2000", out.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert shot.exists(), r.stderr
    page = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert page.shape[:2] == (2000, 1200)
    # the browser drew the pictures: the sky-grey of the renders covers part of the first screen
    assert (np.abs(page - page[5, 5]).sum(2) > 30).mean() > 0.2
    r = subprocess.run([*args, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120)
    dom = r.stdout
    assert dom.count("<img") == 9 and "Gross floor area" in dom and dom.count("<tr>") >= 8


def test_a_part_standing_on_another_counts_once() -> None:
    """Two parts: a 20 x 10 m block and a 10 x 10 m storey on top of half of it; and a
    neighbour of two parts side by side at different ground levels (a slope): plan areas."""
    from citytwin.model.builder import CityModelBuilder
    from citytwin.scenario.roofs import shell

    b = CityModelBuilder("t", "test")
    a = b.add_object("A", "Building")
    for box, z0, z1 in ((((0, 0), (20, 0), (20, 10), (0, 10)), 0.0, 3.0), (((0, 0), (10, 0), (10, 10), (0, 10)), 3.0, 6.0)):
        part = b.add_object(f"A-{z0:g}", "BuildingPart", parent=a)
        for sem, rings in shell(np.asarray(box, float), z0, z1):
            b.add_polygon(part, rings, semantic=3 if sem == "GroundSurface" else 1 if sem == "RoofSurface" else 2, lod=2)
    n = b.add_object("N", "Building")
    for box, z0 in ((((40, 0), (50, 0), (50, 10), (40, 10)), 0.0), (((50, 0), (60, 0), (60, 10), (50, 10)), 2.0)):
        part = b.add_object(f"N-{z0:g}", "BuildingPart", parent=n)
        for sem, rings in shell(np.asarray(box, float), z0, z0 + 6.0):
            b.add_polygon(part, rings, semantic=3 if sem == "GroundSurface" else 1 if sem == "RoofSurface" else 2, lod=2)
    m = b.build()
    t = building_table(m)
    assert t.ids == ["A", "N"]
    assert t.footprint_m2 == pytest.approx([200.0, 200.0])
    assert t.centroid[0] == pytest.approx([10.0, 5.0]) and t.centroid[1] == pytest.approx([50.0, 5.0])
    assert t.height_m == pytest.approx([6.0, 8.0])
    assert t.volume_m3 == pytest.approx([200 * 3 + 100 * 3, 100 * 6 * 2])
