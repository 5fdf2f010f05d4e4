"""OBJ and GLB writers: round trips through read_mesh and trimesh, file structure,
LoD selection, semantics and georeferencing kept."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from citytwin.io.geojson import read_geojson
from citytwin.io.mesh import read_mesh
from citytwin.io.writers import write_glb, write_obj
from citytwin.model.semantics import SEMANTICS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DELFT_OBJ = DATA / "mesh" / "delft-3dfier" / "testarea.obj"
needs_data = pytest.mark.skipif(not DELFT_OBJ.exists(), reason=f"shared data file {DELFT_OBJ} is missing")
X0, Y0 = 85000.0, 447000.0


@pytest.fixture(scope="module")
def delft():
    if not DELFT_OBJ.exists():
        pytest.skip(f"shared data file {DELFT_OBJ} is missing")
    return read_mesh(DELFT_OBJ, crs="EPSG:28992")


@pytest.fixture()
def blocks(tmp_path: Path):
    """Two LoD1 blocks and one LoD0 footprint from GeoJSON (RD New)."""

    def sq(x: float, s: float) -> list:
        return [[X0 + x, Y0], [X0 + x + s, Y0], [X0 + x + s, Y0 + s], [X0 + x, Y0 + s], [X0 + x, Y0]]

    feats = [
        {"type": "Feature", "id": "house 1", "properties": {"height": 6},
         "geometry": {"type": "Polygon", "coordinates": [sq(0, 10), [[X0 + 2, Y0 + 2], [X0 + 2, Y0 + 4], [X0 + 4, Y0 + 4],
                                                         [X0 + 4, Y0 + 2], [X0 + 2, Y0 + 2]]]}},
        {"type": "Feature", "id": "house-2", "properties": {"storeys": 2},
         "geometry": {"type": "Polygon", "coordinates": [sq(20, 5)]}},
        {"type": "Feature", "id": "plot", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [sq(40, 8)]}},
    ]
    doc = {"type": "FeatureCollection", "features": feats,
           "crs": {"type": "name", "properties": {"name": "EPSG:28992"}}}
    path = tmp_path / "blocks.geojson"
    path.write_text(json.dumps(doc))
    return read_geojson(path)


def exported(model, lod="best"):
    """Object ids, triangle count and area of what a writer should export."""
    mask = model.lod_triangle_mask(lod)
    objs = np.unique(model.tri_object[mask])
    return [model.objects.ids[o] for o in objs], int(mask.sum()), model.total_area(lod)


# ------------------------------------------------------------------------ OBJ
@needs_data
def test_obj_round_trip_delft(delft, tmp_path: Path) -> None:
    out = write_obj(delft, tmp_path / "delft.obj")
    text = out.read_text()
    # independent counts of the written file
    lines = text.splitlines()
    assert sum(1 for ln in lines if ln.startswith("o ")) == delft.n_objects
    assert sum(1 for ln in lines if ln.startswith("f ")) == delft.n_triangles
    assert "# origin 84879.0000 447587.0000 -1.0000 crs EPSG:28992" in lines
    back = read_mesh(out)
    assert back.objects.ids == delft.objects.ids
    assert back.n_triangles == delft.n_triangles
    assert back.total_area() == pytest.approx(delft.total_area(), rel=1e-6)
    np.testing.assert_allclose(back.bbox(), delft.bbox(), atol=1e-3)
    assert back.crs is not None and back.crs.to_epsg() == 28992  # from the header comment
    # semantics survive as material names
    np.testing.assert_array_equal(
        np.bincount(back.tri_semantic, minlength=len(SEMANTICS)),
        np.bincount(delft.tri_semantic, minlength=len(SEMANTICS)),
    )


@needs_data
def test_obj_absolute_and_mtl(delft, tmp_path: Path) -> None:
    out = write_obj(delft, tmp_path / "abs.obj", absolute=True)
    first_v = next(ln for ln in out.read_text().splitlines() if ln.startswith("v "))
    x, y, _ = (float(t) for t in first_v.split()[1:])
    assert 84000 < x < 86000 and 447000 < y < 448000
    back = read_mesh(out)
    np.testing.assert_allclose(back.bbox(), delft.bbox(), atol=1e-3)
    mtl = (tmp_path / "abs.mtl").read_text()
    names = [ln.split(None, 1)[1] for ln in mtl.splitlines() if ln.startswith("newmtl ")]
    present = sorted({SEMANTICS[c] for c in np.unique(delft.tri_semantic[delft.tri_semantic > 0])})
    # one material per semantic class (unknown surfaces take their object type's class)
    assert set(present) <= set(names)
    assert len(names) == len(set(names))


def test_obj_semantics_lod_and_ids_with_spaces(blocks, tmp_path: Path) -> None:
    out = write_obj(blocks, tmp_path / "blocks.obj")
    mtl = (tmp_path / "blocks.mtl").read_text()
    assert "newmtl RoofSurface\nKa 0.8000 0.2500 0.2000\nKd 0.8000 0.2500 0.2000" in mtl
    assert "newmtl WallSurface" in mtl and "newmtl GroundSurface" in mtl
    back = read_mesh(out)
    ids, n_tri, area = exported(blocks)
    assert back.objects.ids == ids == ["house 1", "house-2", "plot"]
    assert back.n_triangles == n_tri
    assert back.total_area() == pytest.approx(area, rel=1e-6)
    for name in ("RoofSurface", "WallSurface", "GroundSurface"):
        code = SEMANTICS.index(name)
        assert (back.tri_semantic == code).sum() == (blocks.tri_semantic == code).sum()
    # LoD 0 only: the footprint
    out0 = write_obj(blocks, tmp_path / "lod0.obj", lod=0)
    back0 = read_mesh(out0)
    assert back0.objects.ids == ["plot"]
    assert back0.total_area() == pytest.approx(64.0)


# ------------------------------------------------------------------------ GLB
def glb_json(path: Path) -> dict:
    data = path.read_bytes()
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert magic == b"glTF" and version == 2 and length == len(data)
    n, kind = struct.unpack("<II", data[12:20])
    assert kind == 0x4E4F534A and n % 4 == 0
    nb, kind_b = struct.unpack("<II", data[20 + n : 28 + n])
    assert kind_b == 0x004E4942 and nb % 4 == 0 and 28 + n + nb == len(data)
    return json.loads(data[20 : 20 + n])


@needs_data
@pytest.mark.parametrize("per_object", [False, True])
def test_glb_round_trip_delft(delft, tmp_path: Path, per_object: bool) -> None:
    trimesh = pytest.importorskip("trimesh")
    out = write_glb(delft, tmp_path / "delft.glb", per_object=per_object)
    gltf = glb_json(out)
    assert gltf["asset"]["version"] == "2.0"
    assert gltf["scenes"][0]["extras"]["citytwin"]["crs"] == "EPSG:28992"
    classes = {SEMANTICS[c] for c in np.unique(delft.tri_semantic)} | {"Building"}
    assert {m["name"] for m in gltf["materials"]} <= classes | {SEMANTICS[0]}
    if per_object:
        assert [n["name"] for n in gltf["nodes"]] == sorted(delft.objects.ids, key=delft.objects.ids.index)
        assert gltf["nodes"][0]["extras"]["id"] == delft.objects.ids[0]
    else:
        assert len(gltf["nodes"]) == 1
        assert gltf["nodes"][0]["extras"]["object_ids"] == delft.objects.ids
        n_classes = len({p["material"] for p in gltf["meshes"][0]["primitives"]})
        assert n_classes == len(gltf["meshes"][0]["primitives"])  # one primitive per class
    # trimesh reads it: same triangles, same area, y-up
    scene = trimesh.load(out, force="scene")
    meshes = scene.dump()
    assert sum(len(m.faces) for m in meshes) == delft.n_triangles
    assert sum(m.area for m in meshes) == pytest.approx(delft.total_area(), rel=1e-3)
    lo, hi = scene.bounds
    rel = delft.bbox() - delft.origin  # z-up model, relative to the origin
    np.testing.assert_allclose([lo[0], lo[1], lo[2]], [rel[0, 0], rel[0, 2], -rel[1, 1]], atol=1e-3)
    np.testing.assert_allclose([hi[0], hi[1], hi[2]], [rel[1, 0], rel[1, 2], -rel[0, 1]], atol=1e-3)
    # our reader restores objects, z-up and the georeference
    back = read_mesh(out)
    assert sorted(back.objects.ids) == sorted(delft.objects.ids)
    assert back.n_triangles == delft.n_triangles
    assert back.crs is not None and back.crs.to_epsg() == 28992
    np.testing.assert_allclose(back.bbox(), delft.bbox(), atol=1e-3)
    assert back.total_area() == pytest.approx(delft.total_area(), rel=1e-3)


def test_glb_blocks_semantics_and_lod(blocks, tmp_path: Path) -> None:
    pytest.importorskip("trimesh")
    out = write_glb(blocks, tmp_path / "b.glb")
    back = read_mesh(out)
    ids, n_tri, area = exported(blocks)
    assert sorted(back.objects.ids) == sorted(ids)
    assert back.n_triangles == n_tri
    assert back.total_area() == pytest.approx(area, rel=1e-3)
    for name in ("RoofSurface", "WallSurface", "GroundSurface"):
        code = SEMANTICS.index(name)
        assert (back.tri_semantic == code).sum() == (blocks.tri_semantic == code).sum()
    gltf = glb_json(out)
    roof = next(m for m in gltf["materials"] if m["name"] == "RoofSurface")
    assert roof["pbrMetallicRoughness"]["baseColorFactor"] == pytest.approx([0.8, 0.25, 0.2, 1.0])
    out1 = write_glb(blocks, tmp_path / "lod1.glb", lod=1, per_object=True)
    assert [n["name"] for n in glb_json(out1)["nodes"]] == ["house 1", "house-2"]


# ------------------------------------------------- models from the other readers
SHARED = [
    DATA / "cityjson" / "delft" / "delft_v2.0.city.json",
    DATA / "citygml" / "fzk-haus" / "FZK-House-LoD2-KIT-IAI-KHH-V2.gml",
]


@pytest.mark.parametrize("path", SHARED, ids=[p.name for p in SHARED])
def test_writers_on_shared_city_models(path: Path, tmp_path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared data file {path} is missing")
    try:
        from citytwin.io import read

        model = read(path)
    except ImportError as exc:  # the CityJSON / CityGML readers are written in parallel
        pytest.skip(f"reader not available yet: {exc}")
    ids, n_tri, area = exported(model)
    assert n_tri > 0
    back = read_mesh(write_obj(model, tmp_path / "m.obj"))
    assert back.objects.ids == ids
    assert back.n_triangles + back.report.counts.get("degenerate-polygon", 0) == n_tri
    assert back.total_area() == pytest.approx(area, rel=1e-4)
    trimesh = pytest.importorskip("trimesh")
    scene = trimesh.load(write_glb(model, tmp_path / "m.glb"), force="scene")
    meshes = scene.dump()
    assert sum(len(m.faces) for m in meshes) == n_tri
    assert sum(m.area for m in meshes) == pytest.approx(area, rel=1e-3)


def test_header_origin_applies_unless_georef_given(blocks, tmp_path: Path) -> None:
    out = write_obj(blocks, tmp_path / "h.obj")
    with_crs = read_mesh(out, crs="EPSG:7415")  # the caller's CRS, the file's origin
    assert with_crs.crs.to_epsg() == 7415
    np.testing.assert_allclose(with_crs.bbox(), blocks.bbox(), atol=1e-3)
    local = read_mesh(out, georef=(0.0, 0.0, 0.0))  # the caller's offset: raw file coordinates
    assert local.crs is None
    np.testing.assert_allclose(local.bbox(), blocks.bbox() - blocks.origin, atol=1e-3)


TEXTURED = [
    DATA / "citygml" / "ingolstadt-lod3" / "4018106" / "4018106.xml",
    DATA / "cityjson" / "rotterdam-textured" / "rotterdam_one_v1.1.city.json",
]


@pytest.mark.parametrize("path", TEXTURED, ids=[p.name for p in TEXTURED])
def test_obj_keeps_textures(path: Path, tmp_path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared data file {path} is missing")
    try:
        from citytwin.io import read

        model = read(path)
    except ImportError as exc:
        pytest.skip(f"reader not available yet: {exc}")
    mask = model.lod_triangle_mask("best")
    tri_tex = model.polygons.texture[model.tri_poly][mask]
    uv_ok = np.isfinite(model.tri_uv[mask]).all(axis=(1, 2))
    n_textured = int(((tri_tex >= 0) & uv_ok).sum())
    assert n_textured > 0
    out = write_obj(model, tmp_path / "t.obj")
    assert "map_Kd " in (tmp_path / "t.mtl").read_text()
    back = read_mesh(out)
    degenerate = back.report.counts.get("degenerate-polygon", 0)
    assert back.n_triangles + degenerate == int(mask.sum())
    # every textured triangle comes back textured (a degenerate one may be dropped)
    assert n_textured - degenerate <= int((back.polygons.texture >= 0).sum()) <= n_textured
    used = {str(Path(model.textures[t]["path"]).resolve()) for t in np.unique(tri_tex[tri_tex >= 0])}
    # compare resolved paths: the data folder may be reached through a symlink
    assert {str(Path(t["path"]).resolve()) for t in back.textures} == used
    assert [t["found"] for t in back.textures] == [Path(t["path"]).is_file() for t in back.textures]
    # texture coordinates survive: every re-read uv is one of the original ones (to 1e-5)
    orig_uv = np.unique(model.tri_uv[mask][(tri_tex >= 0) & uv_ok].reshape(-1, 2), axis=0)
    assert back.polygons.uv is not None
    back_uv = back.polygons.uv[np.isfinite(back.polygons.uv).all(axis=1)]
    back_uv = np.unique(back_uv, axis=0)
    dist = np.abs(back_uv[:, None, :] - orig_uv[None, :, :]).max(axis=2).min(axis=1)
    assert len(back_uv) and dist.max() < 1e-5
    # semantics too ('RoofSurface-tex0' materials)
    kept = np.bincount(back.tri_semantic, minlength=len(SEMANTICS))
    orig = np.bincount(model.tri_semantic[mask], minlength=len(SEMANTICS))
    assert np.abs(kept - orig).sum() == degenerate
