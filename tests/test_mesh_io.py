"""read_mesh: shared OBJ files against independent counts, synthetic OBJ edge cases,
PLY/STL/GLB through trimesh, georeferencing and errors."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from citytwin.core.crs import to_wgs84_bbox
from citytwin.core.errors import Cancelled, ReaderError
from citytwin.io.mesh import read_mesh
from citytwin.model.semantics import SEMANTICS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MESH = DATA / "mesh"
OBJS = sorted(MESH.rglob("*.obj")) if MESH.is_dir() else []
needs_data = pytest.mark.skipif(not MESH.is_dir(), reason=f"shared data folder {MESH} is missing")


def independent_counts(path: Path) -> dict:
    """Plain-Python count of objects, triangles (sum n-2) and zero-area triangles."""
    verts: list[list[float]] = []
    n_o = 0
    names: list[str] = []
    n_tri = 0
    zero = 0
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v":
            verts.append([float(x) for x in parts[1:4]])
        elif parts[0] == "o":
            n_o += 1
            names.append(line[1:].strip())
        elif parts[0] == "f":
            idx = [int(t.split("/")[0]) for t in parts[1:]]
            idx = [i - 1 if i > 0 else len(verts) + i for i in idx]
            n_tri += len(idx) - 2
            p = np.array([verts[i] for i in idx])
            for k in range(1, len(idx) - 1):
                a = 0.5 * np.linalg.norm(np.cross(p[k] - p[0], p[k + 1] - p[0]))
                zero += a < 1e-9  # numerically zero (collinear or repeated corners)
    return {"objects": n_o or 1, "names": names, "triangles": n_tri, "zero_area": zero}


def readme_bbox(path: Path) -> list[float]:
    rel = path.relative_to(DATA).as_posix()
    text = (DATA / "README.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith(f"| `{rel}`"))
    m = re.search(r"bbox \[([^\]]+)\]", row)
    assert m, row
    return [float(x) for x in m.group(1).split(",")]


@needs_data
@pytest.mark.parametrize("path", OBJS, ids=[p.name for p in OBJS])
def test_shared_obj_matches_independent_counts(path: Path) -> None:
    model = read_mesh(path)
    ref = independent_counts(path)
    assert model.format == "OBJ"
    assert model.n_objects == ref["objects"]
    if ref["names"]:
        assert model.metadata["objects_from"] == "o"
        assert model.objects.ids == ref["names"]
    else:
        assert model.metadata["objects_from"] == "file"
        assert model.objects.ids == [path.stem]
    # every f line triangulates to n-2 triangles, except zero-area ones which are reported
    degenerate = model.report.counts.get("degenerate-polygon", 0)
    assert degenerate == ref["zero_area"]
    assert model.n_triangles + degenerate == ref["triangles"]
    assert set(model.objects.types) == {"GenericCityObject"}
    np.testing.assert_allclose(model.bbox().ravel(), readme_bbox(path), atol=0.01)


@needs_data
def test_delft_obj_georeferenced_and_materials() -> None:
    path = MESH / "delft-3dfier" / "testarea.obj"
    model = read_mesh(path, crs="EPSG:28992")
    assert model.crs is not None and model.crs.to_epsg() == 28992
    lon0, lat0, lon1, lat1 = to_wgs84_bbox(model.bbox(), model.crs)
    assert 4.35 < lon0 < lon1 < 4.38
    assert 52.0 < lat0 < lat1 < 52.02
    # MTL Kd colours become materials; usemtl names give semantics
    by_name = {m["name"]: m for m in model.materials}
    assert by_name["Building"]["diffuseColor"] == pytest.approx([0.87, 0.26, 0.28])
    assert by_name["Water"]["transparency"] == pytest.approx(0.0)
    building_wall = [k for k, m in enumerate(model.materials) if m["name"] == "BuildingWall"][0]
    sem = model.polygons.semantic[model.polygons.material == building_wall]
    assert len(sem) and (sem == SEMANTICS.index("WallSurface")).all()
    # independent usemtl count per material, face by face
    counts: dict[str, int] = {}
    cur = None
    for line in path.read_text().splitlines():
        if line.startswith("usemtl "):
            cur = line.split(None, 1)[1].strip()
        elif line.startswith("f ") and cur:
            counts[cur] = counts.get(cur, 0) + 1
    got = np.bincount(model.polygons.material, minlength=len(model.materials))
    assert {m["name"]: int(got[k]) for k, m in enumerate(model.materials)} == counts


@needs_data
def test_georef_offset_shifts_exactly() -> None:
    path = MESH / "lyon" / "palais_de_justice.obj"
    local = read_mesh(path)
    off = (1843000.25, 5175000.5, 170.0)
    placed = read_mesh(path, georef=off, crs="EPSG:3946")
    np.testing.assert_allclose(placed.bbox(), local.bbox() + np.array(off), atol=1e-3)
    assert placed.crs is not None and placed.crs.to_epsg() == 3946
    lon0, lat0, lon1, lat1 = to_wgs84_bbox(placed.bbox(), placed.crs)
    assert 4.7 < lon0 < lon1 < 4.95 and 45.6 < lat0 < lat1 < 45.9  # Lyon
    assert local.crs is None


@needs_data
def test_gzipped_obj_and_progress_cancel(tmp_path: Path) -> None:
    src = MESH / "lyon" / "tour_part_dieu.obj"
    gz = tmp_path / "tour.obj.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    seen: list[float] = []
    model = read_mesh(gz, progress=seen.append)
    assert model.n_triangles == read_mesh(src).n_triangles
    assert model.objects.ids == ["tour"]
    assert seen and seen[-1] == pytest.approx(1.0)
    with pytest.raises(Cancelled):
        read_mesh(src, cancel=lambda: True)


SYNTH_OBJ = """\
# synthetic test file
mtllib synth.mtl
v 0 0 0
v 4 0 0
v 4 3 0
v 0 3 0
v 2 1.5 5
vt 0 0
vt 1 0
vt 1 1
vt 0 1
vn 0 0 1
g walls
usemtl brick
f 1/1/1 2/2/1 3/3/1 4/4/1
f -5//1 -4//1 -1//1
g roof
usemtl RoofSurface
f 2/2 3/3 5/4
f 3 4 99
f 1 2
f 1 x 3
usemtl glass
f -2 -1 -4
v 0 0 10
v 2 0 10
v 3 1 10
v 2 2 10
v 0 2 10
v -1 1 10
g walls
f 6 7 8 9 10 \\
  11
f -6 -5 -4
"""

SYNTH_MTL = """\
newmtl brick
Kd 0.7 0.3 0.2
d 1.0
map_Kd -s 1 1 1 brick.png
newmtl glass
Kd 0.5 0.7 0.9
d 0.4
map_Kd missing.jpg
"""


def test_synthetic_obj_edge_cases(tmp_path: Path) -> None:
    obj = tmp_path / "synth.obj"
    obj.write_text(SYNTH_OBJ.replace("\n", "\r\n"))
    (tmp_path / "synth.mtl").write_text(SYNTH_MTL)
    (tmp_path / "brick.png").write_bytes(b"\x89PNG fake")
    model = read_mesh(obj)
    assert model.metadata["objects_from"] == "g"
    assert model.objects.ids == ["walls", "roof"]  # 'g walls' twice -> one object
    # kept faces: quad, tri, tri, quad-with-bad-index skipped, short skipped, garbage skipped,
    # tri (glass), hexagon (continued line), tri: polygons 2 + 1 + 1 + 1 + 4 + 1 triangles
    assert len(model.polygons) == 6
    assert model.n_triangles == 2 + 1 + 1 + 1 + 4 + 1
    assert model.report.counts["bad-face-index"] == 2  # index 6 before v 6 exists; 'x'
    assert model.report.counts["short-face"] == 1
    # the quad is kept as a polygon with four corners
    sizes = np.diff(model.polygons.ring_offsets)
    assert sizes.tolist()[:2] == [4, 3]
    # materials and textures
    names = [m["name"] for m in model.materials]
    assert names == ["brick", "RoofSurface", "glass"]
    assert model.materials[2]["transparency"] == pytest.approx(0.6)
    assert model.materials[0]["diffuseColor"] == [0.7, 0.3, 0.2]
    assert [t["found"] for t in model.textures] == [True, False]
    assert model.textures[0]["path"].endswith("brick.png")
    assert model.report.counts["missing-texture"] == 1
    assert model.report.counts["missing-material"] == 1  # RoofSurface is not in the MTL
    # texture coordinates of the textured quad
    assert model.polygons.uv is not None
    np.testing.assert_allclose(model.polygons.uv[:4], [[0, 0], [1, 0], [1, 1], [0, 1]])
    # semantics from material names
    assert SEMANTICS[model.polygons.semantic[2]] == "RoofSurface"
    # negative indices: second face is v1 v2 v5
    ring = model.polygons.ring_idx[4:7]
    np.testing.assert_allclose(model.world_vertices()[ring], [[0, 0, 0], [4, 0, 0], [2, 1.5, 5]])


def test_obj_without_groups_is_one_object_and_up_axis(tmp_path: Path) -> None:
    obj = tmp_path / "plain.obj"
    obj.write_text("v 0 0 0\nv 1 0 0\nv 0 2 0\nv 0 0 3\nf 1 2 3\nf 1 2 4\n")
    z = read_mesh(obj)
    assert z.objects.ids == ["plain"] and z.n_triangles == 2
    np.testing.assert_allclose(z.bbox(), [[0, 0, 0], [1, 2, 3]])
    y = read_mesh(obj, up="y")  # (x, y, z) -> (x, -z, y)
    np.testing.assert_allclose(y.bbox(), [[0, -3, 0], [1, 0, 2]])
    with pytest.raises(ValueError):
        read_mesh(obj, up="x")


@pytest.mark.parametrize(
    "content",
    [b"", b"hello world\nthis is not a mesh\n", bytes(range(256)) * 20, b"v 0 0 0\nv 1 0 0\n",
     b"f 1 2 3\n"],
    ids=["empty", "text", "binary", "no-faces", "no-vertices"],
)
def test_garbage_obj_raises_one_line_reader_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.obj"
    bad.write_bytes(content)
    with pytest.raises(ReaderError) as info:
        read_mesh(bad)
    msg = str(info.value)
    assert "bad.obj" in msg and "\n" not in msg


def test_missing_file_and_garbage_binary_formats(tmp_path: Path) -> None:
    with pytest.raises(ReaderError):
        read_mesh(tmp_path / "nope.obj")
    for suffix in (".ply", ".stl", ".glb", ".off"):
        bad = tmp_path / f"bad{suffix}"
        bad.write_bytes(b"\x00garbage" * 10)
        with pytest.raises(ReaderError) as info:
            read_mesh(bad)
        assert bad.name in str(info.value) and "\n" not in str(info.value)


def _box(extents=(2.0, 3.0, 4.0), at=(10.0, 20.0, 30.0)):
    trimesh = pytest.importorskip("trimesh")
    box = trimesh.creation.box(extents=extents)
    box.apply_translation(at)
    return box


@pytest.mark.parametrize("suffix, fmt", [(".ply", "PLY"), (".stl", "STL"), (".off", "OFF")])
def test_trimesh_formats_round_trip(tmp_path: Path, suffix: str, fmt: str) -> None:
    box = _box()
    path = tmp_path / f"box{suffix}"
    box.export(path)
    model = read_mesh(path)
    assert model.format == fmt
    assert model.objects.ids == ["box"]
    assert model.n_triangles == len(box.faces) == 12
    assert model.total_area() == pytest.approx(box.area, rel=1e-6)
    np.testing.assert_allclose(model.bbox(), box.bounds, atol=1e-5)
    placed = read_mesh(path, georef=(1000.0, 2000.0, 0.0), crs="EPSG:28992")
    np.testing.assert_allclose(placed.bbox(), box.bounds + [1000.0, 2000.0, 0.0], atol=1e-5)


def test_glb_nodes_become_objects_and_y_up_is_converted(tmp_path: Path) -> None:
    trimesh = pytest.importorskip("trimesh")
    scene = trimesh.Scene()
    scene.add_geometry(_box(), node_name="house-1", geom_name="g1")
    scene.add_geometry(_box(at=(0.0, 0.0, 0.0)), node_name="house-2", geom_name="g2")
    path = tmp_path / "two.glb"
    path.write_bytes(scene.export(file_type="glb"))
    model = read_mesh(path)
    assert model.format == "glTF"
    assert sorted(model.objects.ids) == ["house-1", "house-2"]
    assert model.n_triangles == 24
    assert model.total_area() == pytest.approx(2 * _box().area, rel=1e-6)
    # y-up file: z-up model = (x, -z, y)
    lo, hi = model.bbox()
    assert lo.tolist() == pytest.approx([-1.0, -32.0, -1.5], abs=1e-5)
    assert hi.tolist() == pytest.approx([11.0, 2.0, 21.5], abs=1e-5)
    same = read_mesh(path, up="z")
    np.testing.assert_allclose(same.bbox(), [[-1, -1.5, -2], [11, 21.5, 32]], atol=1e-5)


def test_several_mtl_libraries_and_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "a.mtl").write_text("newmtl red\nKd 1 0 0\n")
    (tmp_path / "b.mtl").write_text("newmtl blue\nKd 0 0 1\nTr 0.25\n")
    obj = tmp_path / "m.obj"
    obj.write_text("mtllib a.mtl b.mtl\nmtllib gone.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\n"
                   "usemtl red\nf 1 2 3\nusemtl blue\nf 3 2 1\n")
    model = read_mesh(obj)
    assert [m["diffuseColor"] for m in model.materials] == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert model.materials[1]["transparency"] == pytest.approx(0.25)
    assert model.report.counts["missing-mtl"] == 1
    assert "missing-material" not in model.report.counts
