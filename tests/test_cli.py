"""The ``citytwin`` command as users run it: a subprocess, its stdout/stderr and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citytwin", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_info_json_keys_for_every_format(data_dir) -> None:
    pytest.importorskip("citytwin.io.citygml")
    pytest.importorskip("citytwin.io.cityjson")
    files = [
        data_dir / "citygml/fzk-haus/FZK-House-LoD2-KIT-IAI-KHH-V2.gml",
        data_dir / "cityjson/3dbag/tile_901_trimmed.city.jsonl",
        data_dir / "cityjson/delft/delft_v1.1.city.json",
    ]
    out = run("info", "--json", *map(str, files))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 3
    for r in rows:
        for key in ("format", "version", "crs", "objects", "lods", "triangles", "bbox_wgs84", "warnings"):
            assert key in r
        assert r["triangles"] > 0
    fzk, bag, delft = rows
    assert fzk["format"] == "CityGML" and fzk["crs"] == "EPSG:25832" and fzk["objects"] == {"Building": 1}
    lon0, lat0, lon1, lat1 = fzk["bbox_wgs84"]
    assert 8.3 < lon0 < lon1 < 8.5 and 49.0 < lat0 < lat1 < 49.2  # KIT campus north, Karlsruhe
    assert bag["objects"] == {"Building": 52, "BuildingPart": 52}
    assert bag["lods"] == [0.0, 1.2, 1.3, 2.2]
    assert delft["objects"]["+GenericCityObject"] == 54


def test_info_text_and_crs_option(data_dir) -> None:
    pytest.importorskip("citytwin.io.citygml")
    lyon = data_dir / "citygml/lyon/LYON_1ER_BATI_2015_small_house.gml"
    plain = run("info", "--json", str(lyon))
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["bbox_wgs84"] is None  # no CRS in the file: local coordinates
    stated = run("info", "--json", "--crs", "EPSG:3946", str(lyon))
    b = json.loads(stated.stdout)["bbox_wgs84"]
    assert 4.8 < b[0] < 4.86 and 45.75 < b[1] < 45.78  # Lyon 1er arrondissement
    text = run("info", str(lyon))
    assert "objects" in text.stdout and "Building" in text.stdout


@pytest.mark.parametrize(
    "content, name, needle",
    [
        (b"<CityModel><cityObjectMember><bldg:Building", "trunc.gml", "trunc.gml"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {', "trunc.city.json", "trunc.city.json"),
        (b"<html><body>not a city</body></html>", "page.gml", "page.gml"),
        (b"\x00\x01\x02garbage", "noise.obj", "noise.obj"),
    ],
)
def test_bad_input_is_one_line_no_traceback(tmp_path: Path, content: bytes, name: str, needle: str) -> None:
    pytest.importorskip("citytwin.io.citygml")
    pytest.importorskip("citytwin.io.cityjson")
    pytest.importorskip("citytwin.io.mesh")
    f = tmp_path / name
    f.write_bytes(content)
    out = run("info", str(f))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], out.stderr


def test_missing_file_and_unknown_crs(tmp_path: Path) -> None:
    out = run("info", str(tmp_path / "nope.gml"))
    assert out.returncode == 1 and "nope.gml" in out.stderr and "Traceback" not in out.stderr
    out = run("info", "--crs", "EPSG:99999999", str(tmp_path / "nope.gml"))
    assert out.returncode == 1 and "Traceback" not in out.stderr and "99999999" in out.stderr


def test_convert_to_cityjson_keeps_counts(tmp_path: Path, data_dir) -> None:
    pytest.importorskip("citytwin.io.citygml")
    cj = pytest.importorskip("citytwin.io.cityjson")
    if not hasattr(cj, "write_cityjson"):
        pytest.skip("CityJSON writer not there yet")
    src = data_dir / "citygml/munich/LOD2_4424_5482_solid.gml"
    dst = tmp_path / "munich.city.json"
    out = run("convert", str(src), str(dst))
    assert out.returncode == 0, out.stderr
    doc = json.loads(dst.read_text())
    assert doc["type"] == "CityJSON" and doc["version"] == "2.0"
    assert sum(1 for o in doc["CityObjects"].values() if o["type"] == "Building") == 111
    back = json.loads(run("info", "--json", str(dst)).stdout)
    orig = json.loads(run("info", "--json", str(src)).stdout)
    assert back["objects"] == orig["objects"]


def test_info_geographic_bbox_in_degrees_and_scene_metres(data_dir) -> None:
    """PLATEAU (EPSG:6697, lat/lon degrees): the file bbox keeps 7 decimals so min != max,
    and the reprojected scene bbox (metres) is printed as well."""
    pytest.importorskip("citytwin.io.citygml")
    f = data_dir / "citygml/plateau-features/533925_tran_6697_op.gml"
    out = run("info", "--json", str(f))
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["crs"] == "EPSG:6697" and d["bbox_units"] == "degrees"
    (lon0, lat0, _), (lon1, lat1, _) = d["bbox"]
    assert 139.70 < lon0 < lon1 < 139.72 and 35.53 < lat0 < lat1 < 35.55  # Kawasaki / Tokyo bay
    assert lon1 - lon0 > 0.002 and lat1 - lat0 > 0.0002  # a 280 m x 40 m road strip
    assert all(round(v, 7) == v for v in (lon0, lat0, lon1, lat1))
    (x0, y0, z0), (x1, y1, z1) = d["bbox_scene"]
    assert d["scene_crs"].startswith("EPSG:669")  # JGD2011 UTM zone
    assert 250 < x1 - x0 < 310 and 30 < y1 - y0 < 50 and z0 < z1
    # the scene box taken back to degrees agrees with the file box (to about a metre)
    wlon0, wlat0, wlon1, wlat1 = d["bbox_wgs84"]
    assert abs(wlon0 - lon0) < 1e-4 and abs(wlat1 - lat1) < 1e-4
    text = run("info", str(f)).stdout
    bbox_line = next(line for line in text.splitlines() if line.strip().startswith("bbox"))
    assert f"lon {lon0:.7f} .. {lon1:.7f}" in bbox_line and f"lat {lat0:.7f} .. {lat1:.7f}" in bbox_line
    scene_line = next(line for line in text.splitlines() if line.strip().startswith("scene bbox"))
    assert f"{x0:.2f}" in scene_line and d["scene_crs"] in scene_line and " m " in scene_line


def test_info_projected_file_bbox_in_metres(data_dir) -> None:
    pytest.importorskip("citytwin.io.citygml")
    f = data_dir / "citygml/fzk-haus/FZK-House-LoD2-KIT-IAI-KHH-V2.gml"
    d = json.loads(run("info", "--json", str(f)).stdout)
    assert d["bbox_units"] == "metres" and d["bbox"] == d["bbox_scene"]
    (x0, y0, _), (x1, y1, _) = d["bbox"]
    assert 458800 < x0 < x1 < 458900 and 5438300 < y0 < y1 < 5438400
    text = run("info", str(f)).stdout
    assert "scene bbox" not in text  # same CRS: one box is enough
