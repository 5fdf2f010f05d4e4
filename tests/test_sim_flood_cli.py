"""``citytwin analyze flood`` and ``citytwin info`` on a LAZ, as users run them: a subprocess,
its output file, stderr and exit code; every bad input one line, a non-zero exit, no file."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boxes import DEN_HAAG
from flood_scenes import plane, profile_tin, quad_tin, write_city

LAZ = "terrain/delft-ahn3/ahn3_cropped_1.laz"
X0, Y0 = DEN_HAAG


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citytwin", *args], capture_output=True, text=True, timeout=300)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def basins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two basins (bottoms 0 and 1 m) split by a 5 m ridge at x = 50, a building in each."""
    _, tin = profile_tin([0, 25, 50, 75, 100], [5, 0, 5, 1, 5], 0, 40)
    boxes = [("in-a", 20, 10, 30, 20, 0.0, 8.0), ("in-b", 70, 10, 80, 20, 1.0, 9.0)]
    return write_city(tmp_path_factory.mktemp("flood") / "basins.city.json", tin, boxes)


def test_bathtub_and_connected(basins: Path, tmp_path: Path) -> None:
    out = tmp_path / "bath.csv"
    r = run("analyze", "flood", str(basins), "--level", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr
    got = {row["id"]: row for row in rows(out)}
    assert set(got) == {"in-a", "in-b"}
    assert float(got["in-a"]["ground_m"]) == pytest.approx(1.0, abs=1e-3)
    assert float(got["in-a"]["depth_m"]) == pytest.approx(3.0, abs=1e-3)
    assert float(got["in-b"]["depth_m"]) == pytest.approx(4 - 1.8, abs=1e-3)
    assert got["in-a"]["type"] == "Building" and got["in-a"]["ground_from"] == "terrain"
    assert list(got) == ["in-a", "in-b"]  # deepest first
    assert "2 flooded of 2 objects" in r.stderr
    conn = tmp_path / "conn.csv"
    r = run("analyze", "flood", str(basins), "--rise", "4", "--mode", "connected",
            "--source", f"{X0 + 25},{Y0 + 30}", "--out", str(conn))
    assert r.returncode == 0, r.stderr
    assert [row["id"] for row in rows(conn)] == ["in-a"]  # the ridge keeps basin B dry
    # a rise counts from the lowest cell centre (x = 24.5: 5 * 0.5 / 25 = 0.1 m), so the level is 4.1
    assert float(rows(conn)[0]["depth_m"]) == pytest.approx(3.1, abs=1e-3)
    r = run("analyze", "flood", str(basins), "--rise", "2", "--reference", "1.5", "--out", str(conn))
    assert r.returncode == 0 and "level 3.50 m" in r.stderr
    assert {row["id"] for row in rows(conn)} == {"in-a", "in-b"}


def test_den_haag_tin(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "dh.csv"
    r = run("analyze", "flood", str(data_dir / "citygml/denhaag/DenHaag_01.gml.gz"), "--rise", "2",
            "--resolution", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    got = rows(out)
    assert 0 < len(got) < 844
    assert all(r["id"] and 0 < float(r["depth_m"]) <= 2.01 for r in got)
    assert all(r["type"] == "Building" and r["ground_from"] == "terrain" for r in got)


def test_city_with_lidar_terrain(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "delft.csv"
    r = run("analyze", "flood", str(data_dir / "cityjson/delft/delft_v2.0.city.json"), "--terrain",
            str(data_dir / LAZ), "--crs", "EPSG:28992", "--level", "0.3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    got = rows(out)
    assert got and {row["type"] for row in got} == {"Building"}
    on = [row for row in got if row["ground_from"] == "terrain"]
    assert on  # buildings over the lidar tile stand on its ground grid
    for row in on:
        assert 84808 <= float(row["x"]) <= 85001 and 447412 <= float(row["y"]) <= 447642
        assert -0.6 < float(row["ground_m"]) < 0.3


def test_info_describes_a_laz(data_dir: Path) -> None:
    r = run("info", "--json", str(data_dir / LAZ))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["format"] == "LAZ" and d["version"] == "1.2" and d["points"] == 640510
    assert d["crs"] == "none" and d["bbox_wgs84"] is None and d["triangles"] == 0
    assert d["classes"] == {"1": 196137, "2": 195988, "6": 246753, "9": 267, "26": 1365}
    assert d["class_names"]["2"] == "ground"
    assert d["bbox"] == [[84808.3, 447412.8, -0.568], [84999.999, 447641.299, 19.398]]
    for key in ("objects", "lods", "warnings"):
        assert key in d
    r = run("info", "--json", "--crs", "EPSG:28992", str(data_dir / LAZ))
    lon0, lat0, lon1, lat1 = json.loads(r.stdout)["bbox_wgs84"]
    assert 4.36 < lon0 < lon1 < 4.37 and 52.01 < lat0 < lat1 < 52.02  # Delft
    text = run("info", str(data_dir / LAZ))
    assert text.returncode == 0 and "unknown file format" not in text.stderr
    assert "points      640510" in text.stdout and "ground" in text.stdout and "LAZ 1.2" in text.stdout


def test_info_on_a_broken_laz_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.laz"
    bad.write_bytes(b"LASF" + b"\x00" * 50)
    r = run("info", str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "broken.laz" in lines[0]


def _bad(args: list[str], out: Path, *needles: str) -> None:
    r = run("analyze", "flood", *args, "--out", str(out))
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}*"))  # no temporary file left behind


def test_bad_inputs(basins: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.csv"
    src = f"{X0 + 25},{Y0 + 30}"
    zurich = data_dir / "cityjson/zurich/zurich_subset_lod2_v1.1.city.json"
    # a model without terrain asked to flood
    _bad([str(zurich), "--level", "400"], out, str(zurich), "no terrain", "--terrain")
    # a level below all terrain (and a rise of nothing)
    _bad([str(basins), "--level", "-1"], out, str(basins), "below all terrain")
    _bad([str(basins), "--rise", "0"], out, str(basins), "below all terrain")
    # a source outside the grid, or dry (on the ridge, above the level)
    _bad([str(basins), "--level", "3", "--source", f"{X0 + 500},{Y0}"], out, str(basins), "outside")
    _bad([str(basins), "--level", "3", "--source", f"{X0 + 50.2},{Y0 + 10}"], out, str(basins), "dry")
    _bad([str(basins), "--level", "3", "--mode", "connected"], out, str(basins), "--source")
    _bad([str(basins), "--level", "3", "--source", "east"], out, "--source")
    _bad([str(basins), "--level", "3", "--source", src, "--mode", "bathtub"], out, str(basins), "--source")
    # a LAZ without CRS
    _bad([str(data_dir / "cityjson/delft/delft_v2.0.city.json"), "--terrain", str(data_dir / LAZ),
          "--level", "1"], out, LAZ, "no CRS", "--crs")
    # resolution <= 0
    for res in ("0", "-2"):
        _bad([str(basins), "--level", "3", "--resolution", res], out, str(basins), "--resolution")
    # and a resolution so fine the grid would not fit
    _bad([str(basins), "--level", "3", "--resolution", "0.0001"], out, str(basins), "coarser")
    # a missing terrain file, an output in a missing folder
    _bad([str(basins), "--terrain", str(tmp_path / "nope.laz"), "--level", "3"], out, "nope.laz")
    r = run("analyze", "flood", str(basins), "--level", "3", "--out", str(tmp_path / "no" / "x.csv"))
    assert r.returncode == 1 and "no such folder" in r.stderr


def test_an_old_output_survives_a_bad_run(basins: Path, tmp_path: Path) -> None:
    out = tmp_path / "keep.csv"
    out.write_text("old\n")
    r = run("analyze", "flood", str(basins), "--level", "-5", "--out", str(out))
    assert r.returncode == 1 and out.read_text() == "old\n"


def test_sloped_terrain_from_another_model(tmp_path: Path) -> None:
    """--terrain MODEL: the TIN of one file under the buildings of another."""
    f = plane(0.1, 0.0, 0.0)
    terrain = write_city(tmp_path / "terrain.city.json", quad_tin(f, 0, 0, 100, 50), [])
    city = write_city(tmp_path / "city.city.json", [], [("b", 40, 10, 50, 20, 4.0, 12.0)])
    out = tmp_path / "t.csv"
    r = run("analyze", "flood", str(city), "--level", "6", "--out", str(out))
    assert r.returncode == 1 and "no terrain" in r.stderr and not out.exists()
    r = run("analyze", "flood", str(city), "--terrain", str(terrain), "--level", "6", "--out", str(out))
    assert r.returncode == 0, r.stderr
    (row,) = rows(out)
    assert row["id"] == "b" and float(row["ground_m"]) == pytest.approx(4.0, abs=1e-3)
    assert float(row["depth_m"]) == pytest.approx(2.0, abs=1e-3)
    assert float(row["flooded_share"]) == pytest.approx(1.0)  # 0.1 x < 6 for x < 60


def test_las_with_its_own_crs_in_another_projection(tmp_path: Path) -> None:
    """An unclassified LAS in ETRS89 / UTM 31N with its CRS in a WKT record, under buildings in RD
    New: read without --crs, brought into the model's CRS, the lowest point per cell (the points
    1-3 m above the plane, 'vegetation', are ignored)."""
    laspy = pytest.importorskip("laspy")
    from pyproj import CRS, Transformer

    g = np.arange(0.25, 100, 0.5)
    x, y = (a.ravel() for a in np.meshgrid(g, g[g < 50]))
    z = 0.1 * x
    veg = np.random.default_rng(5).uniform(1, 3, len(x))
    x, y, z = np.concatenate([x, x]), np.concatenate([y, y]), np.concatenate([z, z + veg])
    e, n = Transformer.from_crs(28992, 25831, always_xy=True).transform(X0 + x, Y0 + y)
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.add_crs(CRS.from_epsg(25831))
    header.offsets = [float(np.floor(e.min())), float(np.floor(n.min())), 0.0]
    header.scales = [0.001, 0.001, 0.001]
    las = laspy.LasData(header)
    las.x, las.y, las.z = e, n, z
    las.classification = np.ones(len(x), np.uint8)
    path = tmp_path / "utm.las"
    las.write(str(path))
    d = json.loads(run("info", "--json", str(path)).stdout)
    assert d["format"] == "LAS" and d["crs"] == "EPSG:25831" and d["crs_in_file"] and d["points"] == len(x)
    city = write_city(tmp_path / "city.city.json", [], [("b", 40, 10, 50, 20, 4.0, 12.0)])
    out = tmp_path / "las.csv"
    r = run("analyze", "flood", str(city), "--terrain", str(path), "--level", "6", "--out", str(out))
    assert r.returncode == 0, r.stderr
    (row,) = rows(out)
    assert row["ground_from"] == "terrain"
    # the lowest point of the cell at the corner (x = 40.25) and its neighbours: 4.0 within a few cm
    assert float(row["ground_m"]) == pytest.approx(4.0, abs=0.06)
