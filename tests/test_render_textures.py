"""Textures in the 3D view: real off-screen rendering of the textured shared files and of
small synthetic CityJSON boxes (uniform, quadrant and tiling images written to tmp_path)."""

from __future__ import annotations

import gc
import json
import weakref
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyvista")
from PIL import Image  # noqa: E402

import qt_fixtures  # noqa: E402
import render_fixtures  # noqa: E402
from citytwin.model.semantics import SEMANTICS  # noqa: E402
from citytwin.model.style import SEMANTIC_RGBA  # noqa: E402
from citytwin.render import SceneView  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"
LYON = DATA / "citygml" / "lyon" / "LYON_1ER_BATI_2015_small_house.gml"
P53 = DATA / "citygml3" / "plateau-53394517" / "53394517_bldg_6697_2_op_CityGML2.gml"
P53_V3 = DATA / "citygml3" / "plateau-53394517" / "53394517_bldg_6697_2_op_CityGML3.gml"
YOKOSUKA = DATA / "citygml" / "plateau-yokosuka" / "52397519_bldg_6697_op.gml"
INGOLSTADT = DATA / "citygml" / "ingolstadt-lod3" / "4018106" / "4018106.xml"
ROTTERDAM = DATA / "cityjson" / "rotterdam-textured" / "rotterdam_one_v1.1.city.json"
SIZE = (480, 320)
WALL = SEMANTICS.index("WallSurface")

make_window = qt_fixtures.make_window  # the fixture of the window test

pytestmark = render_fixtures.RENDER_MARKS


def read(path: Path):  # noqa: ANN201
    """A shared data file (skips when the shared folder is missing)."""
    if not path.exists():
        pytest.skip(f"shared data file missing: {path}")
    from citytwin.io import read as read_any

    return read_any(path)


def bare(model):  # noqa: ANN001, ANN201
    """The same model without textures (what an untextured file looks like)."""
    return replace(model, textures=[], _cache={})


def shot(model, view="iso", textures=True, lod="best", color_by="semantic", size=SIZE, setup=None):  # noqa: ANN001, ANN201
    """Render ``model`` once; returns the image and (for probing) nothing else alive."""
    with SceneView(size=size, overlays=False) as sv:
        vis = sv.add_model(model, lod=lod, color_by=color_by, textures=textures)
        sv.set_view(view)
        if setup is not None:
            setup(sv, vis)
        return sv.screenshot().astype(int)


def cell_map(sv: SceneView, vis, step: int = 4):  # noqa: ANN001, ANN201
    """``{(row, col): PickResult}`` on a pixel grid (row 0 at the top) for the hits of ``vis``."""
    w, h = sv.size
    out = {}
    for y in range(step // 2, h, step):
        for x in range(step // 2, w, step):
            hit = sv.pick(x + 0.5, y + 0.5)
            if hit is not None and hit[0] is vis:
                out[(h - 1 - y, x)] = hit[1]
    return out


def texel(model, img: np.ndarray, tri: int, point) -> np.ndarray:  # noqa: ANN001
    """Colour of the model's image at the UV of ``point`` (scene = model coordinates) on triangle ``tri``."""
    v = model.vertices[model.triangles[tri]].astype(np.float64)
    uv = model.tri_uv[tri].astype(np.float64)
    # barycentric coordinates of the point in the triangle
    e1, e2, p = v[1] - v[0], v[2] - v[0], np.asarray(point) - v[0]
    m = np.array([[e1 @ e1, e1 @ e2], [e1 @ e2, e2 @ e2]])
    b1, b2 = np.linalg.solve(m, [p @ e1, p @ e2])
    u, vv = (1 - b1 - b2) * uv[0] + b1 * uv[1] + b2 * uv[2]
    h, w = img.shape[:2]
    col = int(np.clip(u % 1.0 if not 0 <= u <= 1 else u, 0, 1) * (w - 1))
    row = int(np.clip(1.0 - (vv % 1.0 if not 0 <= vv <= 1 else vv), 0, 1) * (h - 1))  # image row 0 = top = v 1
    return img[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2].reshape(-1, 3).mean(axis=0)


# ---------------------------------------------------------------- synthetic boxes
BOX_V = [(0, 0, 0), (10, 0, 0), (10, 10, 0), (0, 10, 0), (0, 0, 10), (10, 0, 10), (10, 10, 10), (0, 10, 10)]
BOX_FACES = {  # outward, counter-clockwise seen from outside
    "ground": [0, 3, 2, 1], "roof": [4, 5, 6, 7],
    "south": [0, 1, 5, 4], "east": [1, 2, 6, 5], "north": [2, 3, 7, 6], "west": [3, 0, 4, 7],
}
FACE_TYPE = {"ground": "GroundSurface", "roof": "RoofSurface"}


def box_city(folder: Path, images: dict[str, np.ndarray], faces: dict[str, tuple[str, float]],
             lod1: bool = False, attributes: dict | None = None, name: str = "box.city.json") -> Path:
    """A CityJSON 1.1 box building (10 m cube, EPSG:28992) whose ``faces`` carry images.

    ``images``: file name -> RGB array (row 0 at the top, as in the file); ``faces``:
    face name -> (image file, uv extent: 1 = the image once, 4 = tiled 4 x 4).
    With ``lod1`` the building also has an untextured LoD1 block.
    """
    names = list(images)
    for n, arr in images.items():
        Image.fromarray(np.asarray(arr, np.uint8)).save(folder / n)
    uvs: list[list[float]] = []
    surfaces, semantics, tex_values = [], [], []
    for k, (face, ring) in enumerate(BOX_FACES.items()):
        surfaces.append([ring])
        semantics.append(k)
        if face in faces:
            img, s = faces[face]
            base = len(uvs)
            uvs += [[0.0, 0.0], [s, 0.0], [s, s], [0.0, s]]
            tex_values.append([[names.index(img), base, base + 1, base + 2, base + 3]])
        else:
            tex_values.append([[None]])
    geom = {
        "type": "MultiSurface", "lod": "2", "boundaries": surfaces,
        "semantics": {"surfaces": [{"type": FACE_TYPE.get(f, "WallSurface")} for f in BOX_FACES], "values": semantics},
        "texture": {"default": {"values": tex_values}},
    }
    geoms = [geom]
    if lod1:
        geoms.insert(0, {"type": "MultiSurface", "lod": "1", "boundaries": [[r] for r in BOX_FACES.values()]})
    doc = {
        "type": "CityJSON", "version": "1.1",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": [85000.0, 447000.0, 0.0]},
        "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/28992"},
        "CityObjects": {"box": {"type": "Building", "attributes": attributes or {}, "geometry": geoms}},
        "vertices": [[x * 1000, y * 1000, z * 1000] for x, y, z in BOX_V],
        "appearance": {"textures": [{"type": "PNG", "image": n} for n in names], "vertices-texture": uvs},
    }
    p = folder / name
    p.write_text(json.dumps(doc))
    return p


def quadrants(n: int = 64) -> np.ndarray:
    """Image with four colours: top-left blue, top-right yellow, bottom-left red, bottom-right green."""
    img = np.zeros((n, n, 3), np.uint8)
    h = n // 2
    img[:h, :h] = (40, 60, 220)
    img[:h, h:] = (230, 210, 30)
    img[h:, :h] = (220, 40, 40)
    img[h:, h:] = (40, 180, 60)
    return img


def read_box(path: Path):  # noqa: ANN201
    from citytwin.io import read as read_any

    return read_any(path)


def face_centre_pixel(sv: SceneView, model, face: str, fx: float = 0.5, fz: float = 0.5) -> tuple[float, float]:  # noqa: ANN001
    """Display position of a point on a box face (fractions along the face's first edge and up)."""
    ring = BOX_FACES[face]
    a, b = np.array(BOX_V[ring[0]], float), np.array(BOX_V[ring[1]], float)
    p = a + (b - a) * fx + np.array([0, 0, 10.0 * fz])
    world = p + np.array([85000.0, 447000.0, 0.0])
    x, y, _ = sv.world_to_display(sv.to_scene(world))
    return x, y


def probe(img: np.ndarray, x: float, y: float, r: int = 2) -> np.ndarray:
    row, col = img.shape[0] - 1 - int(round(y)), int(round(x))
    return np.median(img[row - r : row + r + 1, col - r : col + r + 1].reshape(-1, 3), axis=0)


# ---------------------------------------------------------------- no textures: no cost
def test_model_without_textures_gets_no_extra_actor(monkeypatch) -> None:  # noqa: ANN001
    from citytwin.io.cityjson import read_cityjson
    from citytwin.render import visual

    calls = []
    monkeypatch.setattr(visual, "build_texture_set", lambda *a, **k: calls.append(1))
    demo = read_cityjson(DEMO)
    with SceneView(size=(64, 48), overlays=False) as sv:
        vis = sv.add_model(demo)
        assert not vis.has_textures and not vis.textures_shown and vis.texture_set is None
        assert vis.actors() == [vis.actor] and vis.n_textured_cells == 0
        assert not getattr(vis.actor, "_citytwin_companions", ())
    assert calls == []  # no image work at all


# ---------------------------------------------------------------- synthetic: lighting, orientation, tiling
def test_textured_wall_is_lit_like_an_untextured_one(tmp_path) -> None:  # noqa: ANN001
    """A texture of one colour equal to the wall's semantic colour draws exactly the coloured wall."""
    wall_rgb = tuple(int(c) for c in SEMANTIC_RGBA[WALL][:3])
    path = box_city(tmp_path, {"flat.png": np.full((16, 16, 3), wall_rgb, np.uint8)},
                    {f: ("flat.png", 1.0) for f in ("south", "east", "north", "west")})
    model = read_box(path)
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model)
        assert vis.textures_shown and vis.n_textured_cells == 8  # 4 quads, 2 triangles each
        sv.set_view("iso")
        on = sv.screenshot().astype(int)
        vis.set_textures(False)
        off = sv.screenshot().astype(int)
    d = np.abs(on - off).max(axis=2)
    assert (d > 3).mean() < 0.002 and d.max() <= 8
    # and the walls are there and lit differently (two faces seen from the south-west)
    assert len({tuple(c) for c in (off.reshape(-1, 3) // 8).tolist()}) > 3


def test_texture_orientation_not_mirrored(tmp_path) -> None:  # noqa: ANN001
    """uv (0,0) is the image's lower-left corner: seen from the south, the south wall shows red at
    its lower left, green lower right, blue upper left, yellow upper right."""
    path = box_city(tmp_path, {"quad.png": quadrants()}, {"south": ("quad.png", 1.0)})
    model = read_box(path)
    expect = {(0.25, 0.25): (220, 40, 40), (0.75, 0.25): (40, 180, 60),
              (0.25, 0.75): (40, 60, 220), (0.75, 0.75): (230, 210, 30)}
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model)
        sv.set_view("south")
        img = sv.screenshot().astype(int)
        vis.set_textures(False)
        off = sv.screenshot().astype(int)
        for (fx, fz), rgb in expect.items():
            x, y = face_centre_pixel(sv, model, "south", fx, fz)
            got, lit = probe(img, x, y), probe(off, x, y)
            light = lit / np.asarray(SEMANTIC_RGBA[WALL][:3], float)  # this face's lighting factor
            want = np.minimum(np.asarray(rgb) * light, 255)
            assert np.abs(got - want).max() < 24, ((fx, fz), got, want)


def test_tiling_uvs_come_out_tiled(tmp_path) -> None:  # noqa: ANN001
    """UVs 0..4 on a wall with a half red / half blue image: 4 red and 4 blue bands across it."""
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, :32] = (220, 30, 30)
    img[:, 32:] = (30, 30, 220)
    path = box_city(tmp_path, {"stripes.png": img}, {"south": ("stripes.png", 4.0)})
    model = read_box(path)
    with SceneView(size=(640, 480), overlays=False) as sv:
        vis = sv.add_model(model)
        ts = vis.texture_set
        assert ts is not None and ts.n_pages == 0 and len(ts.groups) == 1 and ts.groups[0].repeat
        sv.set_view("south")
        shot_ = sv.screenshot().astype(int)
        xs = [face_centre_pixel(sv, model, "south", f, 0.5) for f in np.linspace(0.01, 0.99, 400)]
    reds = [probe(shot_, x, y, r=0) for x, y in xs]
    red = np.array([c[0] > c[2] for c in reds])
    bands = 1 + int(np.count_nonzero(red[1:] != red[:-1]))
    assert bands == 8, bands
    assert red[0] and not red[-1]  # starts with the image's left half (u = 0) on the left


def test_mirror_wrap_mode_makes_a_mirrored_tile(tmp_path) -> None:  # noqa: ANN001
    from citytwin.render.textures import build_texture_set

    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4] = 200
    path = box_city(tmp_path, {"m.png": img}, {"south": ("m.png", 3.0)})
    model = read_box(path)
    model.textures[0]["wrapMode"] = "mirror"
    ts = build_texture_set(model)
    assert ts is not None and ts.groups[0].mirror and ts.groups[0].image.shape[:2] == (16, 16)
    tile = ts.groups[0].image
    assert (tile[:, :8] == tile[:, 8:][:, ::-1]).all() and (tile[:8] == tile[8:][::-1]).all()


def test_unreadable_image_falls_back_to_colours(tmp_path) -> None:  # noqa: ANN001
    path = box_city(tmp_path, {"ok.png": quadrants(), "bad.png": quadrants()},
                    {"south": ("ok.png", 1.0), "north": ("bad.png", 1.0)})
    (tmp_path / "bad.png").write_bytes(b"not a png")
    model = read_box(path)
    with SceneView(size=(64, 48), overlays=False) as sv:
        vis = sv.add_model(model)
        assert vis.n_textured_cells == 2  # the south wall only; the north wall is coloured
        tri = vis.cell_triangle[vis.n_cells - vis.n_textured_cells:]
        assert set(model.polygons.texture[model.tri_poly[tri]].tolist()) == {0}
    assert model.report.counts["unreadable-texture"] == 1


# ---------------------------------------------------------------- real files
@pytest.mark.parametrize("path", [P53, LYON], ids=["plateau-53394517", "lyon"])
def test_textured_pixels_show_the_image(path: Path) -> None:
    """Pixels of textured surfaces carry the image's colour at their UV (times the face's
    lighting, read from the untextured render), and differ from the untextured render."""
    model = read(path)
    image = np.asarray(Image.open(model.textures[0]["path"]).convert("RGB")).astype(float)
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model)
        assert vis.textures_shown and len(vis.actors()) == 2
        sv.set_view("iso")
        sv.renderer.GetActiveCamera().Dolly(1.6)
        on = sv.screenshot().astype(int)
        vis.set_textures(False)
        off = sv.screenshot().astype(int)
        hits = cell_map(sv, vis, step=6)
    first_textured = vis.n_cells - vis.n_textured_cells
    want, got = [], []
    pos = np.array(vis.actor.GetPosition())
    for (row, col), hit in hits.items():
        if hit.cell < first_textured:
            continue
        base = vis.cell_rgb()[hit.cell].astype(float)
        light = off[row, col] / np.maximum(base, 1)
        if abs(light[0] - light[2]) > 0.08:  # an edge pixel of another face
            continue
        tri = int(vis.cell_triangle[hit.cell])
        want.append(np.minimum(texel(model, image, tri, np.asarray(hit.point) - pos) * light.mean(), 255))
        got.append(on[row, col])
    want_a, got_a = np.array(want), np.array(got, float)
    assert len(want_a) > 150
    err = np.abs(want_a - got_a).mean(axis=1)
    assert np.median(err) < 20, np.median(err)
    # the pattern follows the image (a mirrored or shifted texture decorrelates it)
    lum_w, lum_g = want_a.mean(axis=1), got_a.mean(axis=1)
    assert np.corrcoef(lum_w, lum_g)[0, 1] > 0.8
    assert (np.abs(on - off).max(axis=2) > 20).mean() > 0.05


def test_citygml3_version_renders_like_citygml2() -> None:
    a, b = shot(read(P53)), shot(read(P53_V3))
    assert (np.abs(a - b).max(axis=2) > 8).mean() < 0.01


def test_partial_textures_rotterdam() -> None:
    """1 of 6 images exists: its surfaces are textured, the others keep semantic colours."""
    model = read(ROTTERDAM)
    doc = json.loads(ROTTERDAM.read_text())
    images = [t["image"] for t in doc["appearance"]["textures"]]
    exists = [(ROTTERDAM.parent / i).is_file() for i in images]
    assert sum(exists) == 1
    # surfaces of the file that reference the existing image (first theme, first ring)
    want_surfaces = 0
    for obj in doc["CityObjects"].values():
        for g in obj.get("geometry", []):
            theme = next(iter(g.get("texture", {}).values()), None)
            for shell in theme["values"] if theme else []:
                for surf in (shell if g["type"] == "Solid" else [shell]):
                    if surf and surf[0] and surf[0][0] is not None and exists[surf[0][0]]:
                        want_surfaces += 1
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model)
        textured = vis.cell_triangle[vis.n_cells - vis.n_textured_cells:]
        assert len(np.unique(model.tri_poly[textured])) == want_surfaces
        sv.set_view("iso")
        on = sv.screenshot().astype(int)
        hits = cell_map(sv, vis, step=4)
        vis.set_textures(False)
        off = sv.screenshot().astype(int)
    first = vis.n_cells - vis.n_textured_cells
    tex_px = [rc for rc, h in hits.items() if h.cell >= first]
    col_px = [rc for rc, h in hits.items() if h.cell < first]
    assert tex_px and col_px
    d_tex = np.array([np.abs(on[rc] - off[rc]).max() for rc in tex_px])
    d_col = np.array([np.abs(on[rc] - off[rc]).max() for rc in col_px])
    assert np.median(d_tex) > 15  # the photo, not the roof colour
    assert (d_col <= 3).mean() > 0.97  # unchanged where the image is missing


def test_ingolstadt_tiling_textures_are_repeat_groups() -> None:
    model = read(INGOLSTADT)
    uv = model.tri_uv
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model)
        ts = vis.texture_set
        assert ts is not None
        first = vis.n_cells - vis.n_textured_cells
        tri = vis.cell_triangle[first:]
        assert np.abs(uv[tri]).max() > 2  # the data tiles
        assert all(g.repeat for g in ts.groups) and len(ts.groups) == 2
        sv.set_view("iso")
        on = sv.screenshot().astype(int)
        vis.set_textures(False)
        off = sv.screenshot().astype(int)
    assert (np.abs(on - off).max(axis=2) > 20).mean() > 0.03


# ---------------------------------------------------------------- layer behaviour
def test_textures_off_restores_the_coloured_look() -> None:
    model = read(P53)
    on = shot(model)
    toggled = shot(model, setup=lambda sv, vis: vis.set_textures(False))
    fresh_off = shot(model, textures=False)
    plain = shot(bare(model))
    for img in (toggled, fresh_off):
        d = np.abs(img - plain).max(axis=2)
        assert (d > 3).mean() < 0.002, (d > 3).mean()
    assert (np.abs(on - plain).max(axis=2) > 20).mean() > 0.1


def test_textures_off_at_start_reads_no_image_until_switched_on(monkeypatch) -> None:  # noqa: ANN001
    from citytwin.render import textures, visual

    model = read(P53)
    want = shot(model)
    calls = []
    real = textures.build_texture_set
    monkeypatch.setattr(visual, "build_texture_set", lambda *a, **k: calls.append(1) or real(*a, **k))
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model, textures=False)
        assert calls == [] and vis.has_textures and not vis.textures_shown
        assert vis.actors() == [vis.actor] and vis.n_textured_cells == 0
        sv.set_view("iso")
        off = sv.screenshot().astype(int)
        vis.set_textures(True)  # images read now; the new actors join the renderer, lit alike
        assert calls == [1] and vis.textures_shown and len(vis.actors()) == 2
        assert all(sv.renderer.HasViewProp(a) for a in vis.actors())
        assert vis.actors()[1].GetShaderProperty() is sv.lighting.shader_property
        on = sv.screenshot().astype(int)
    assert (np.abs(on - want).max(axis=2) > 3).mean() < 0.002
    assert (np.abs(off - shot(bare(model))).max(axis=2) > 3).mean() < 0.002


def test_picking_a_textured_wall_returns_its_building() -> None:
    model = read(YOKOSUKA)
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model)
        vis.build_locator()
        sv.set_view("top")
        sv.render()
        first = vis.n_cells - vis.n_textured_cells
        areas = model.triangle_areas()[vis.cell_triangle[first:]]
        checked = 0
        for k in np.argsort(-areas)[:10]:
            cell = first + int(k)
            tri = model.triangles[vis.cell_triangle[cell]]
            c = model.vertices[tri].astype(float).mean(axis=0) + np.array(vis.actor.GetPosition())
            x, y, _ = sv.world_to_display(c)
            hit = sv.pick(x, y)
            assert hit is not None and hit[0] is vis
            if hit[1].cell >= first:  # not hidden under another roof
                assert hit[1].object == int(vis.cell_object[cell])
                checked += 1
        assert checked >= 5
        # highlight shows on the textured object as a tint
        obj = int(vis.cell_object[first + int(np.argmax(areas))])
        tri = model.triangles[vis.cell_triangle[first + int(np.argmax(areas))]]
        x, y, _ = sv.world_to_display(model.vertices[tri].astype(float).mean(axis=0) + vis.actor.GetPosition())
        before = probe(sv.screenshot().astype(int), x, y)
        vis.highlight([obj])
        after = probe(sv.screenshot().astype(int), x, y)
        assert vis.textures_shown
        assert after[2] < before[2] * 0.5 and after[0] >= before[0] - 5  # tinted towards amber
        vis.highlight(None)
        assert np.abs(probe(sv.screenshot().astype(int), x, y) - before).max() <= 2


def test_lod_switch_and_colour_by_keep_working() -> None:
    model = read(P53)
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(model)
        sv.set_view("iso")
        textured = sv.screenshot().astype(int)
        n_tex = vis.n_textured_cells
        vis.set_lod(1)  # LoD1 has no textures: all coloured, texture actors empty and hidden
        assert vis.n_textured_cells == 0
        assert not any(a.GetVisibility() for a in vis.actors()[1:])
        lod1 = sv.screenshot().astype(int)
        vis.set_lod("best")
        assert vis.n_textured_cells == n_tex
        assert np.abs(sv.screenshot().astype(int) - textured).max() <= 2
        # a thematic colouring turns the textures off, semantic colours bring them back
        key = next(k for a in model.objects.attributes for k in a)
        vis.set_color_mode(key)
        assert not vis.textures_shown and vis.textures_enabled
        themed = sv.screenshot().astype(int)
        vis.set_color_mode("semantic")
        assert vis.textures_shown
        assert np.abs(sv.screenshot().astype(int) - textured).max() <= 2
    # LoD1 looks like the untextured model's LoD1 (the camera: framed on the best LoD in both)
    plain_lod1 = shot(bare(model), setup=lambda sv, vis: (vis.set_lod(1), sv.render()))
    assert (np.abs(lod1 - plain_lod1).max(axis=2) > 3).mean() < 0.002
    assert (np.abs(lod1 - textured).max(axis=2) > 20).mean() > 0.05
    plain_themed = shot(bare(model), color_by=key)
    assert (np.abs(themed - plain_themed).max(axis=2) > 3).mean() < 0.002


def test_visibility_opacity_and_removal_follow_the_layer() -> None:
    model = read(LYON)
    sv = SceneView(size=(160, 120), overlays=False)
    vis = sv.add_model(model)
    actors = vis.actors()
    assert len(actors) == 2 and all(sv.renderer.HasViewProp(a) for a in actors)
    assert actors[1].GetShaderProperty() is sv.lighting.shader_property  # lit like the walls
    vis.set_visible(False)
    assert not any(a.GetVisibility() for a in actors)
    vis.set_visible(True)
    vis.set_opacity(0.5)
    assert all(abs(a.GetProperty().GetOpacity() - 0.5) < 1e-9 and a.GetVisibility() for a in actors)
    vis.set_opacity(0.0)
    assert not any(a.GetVisibility() for a in actors)
    vis.set_opacity(1.0)
    refs = [weakref.ref(o) for o in (*actors, *(a.GetMapper() for a in actors))]
    sv.remove_visual(vis)
    assert not any(sv.renderer.HasViewProp(a) for a in actors)
    del actors, vis
    sv.close()
    gc.collect()
    assert not [r() for r in refs if r() is not None]


def test_atlas_downscales_to_fit_its_pages() -> None:
    from citytwin.render.textures import build_texture_set

    model = read(YOKOSUKA)
    full = build_texture_set(model)
    small = build_texture_set(model, max_size=512, max_pages=1)
    assert full is not None and small is not None
    assert full.scale == 1.0 and full.n_pages == 1 and small.n_pages == 1 and small.scale < 0.5
    for ts in (full, small):
        h, w = ts.groups[0].image.shape[:2]
        assert w <= (4096 if ts is full else 512) and h <= w
        used = np.flatnonzero(ts.group_of >= 0)
        assert len(used) == 3
        r = ts.rect[used]
        assert (r[:, :2] >= 0).all() and (r[:, :2] + r[:, 2:] <= 1 + 1e-9).all()
        # no two images overlap
        for i in range(len(r)):
            for j in range(i + 1, len(r)):
                a, b = r[i], r[j]
                assert (a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1])
    # the full-size atlas holds each image pixel for pixel (row 0 of the atlas = bottom of the image)
    k = int(np.argmax([np.prod(Image.open(t["path"]).size) for t in model.textures]))
    src = np.asarray(Image.open(model.textures[k]["path"]).convert("RGB"))[::-1]
    page = full.groups[int(full.group_of[k])].image
    H, W = page.shape[:2]
    x0, y0 = int(round(full.rect[k, 0] * W)), int(round(full.rect[k, 1] * H))
    assert (page[y0 : y0 + src.shape[0], x0 : x0 + src.shape[1]] == src).all()


# ---------------------------------------------------------------- scene file key
def test_scene_file_textures_key(tmp_path) -> None:  # noqa: ANN001
    from citytwin.model.scenefile import Dataset, SceneFile, read_scene, write_scene

    (tmp_path / "a.city.json").write_text("{}")
    old = tmp_path / "old.toml"
    old.write_text('version = 1\n[[datasets]]\npath = "a.city.json"\n')
    assert read_scene(old).datasets[0].textures is True  # old files: textures shown
    sf = SceneFile(datasets=[Dataset(path=tmp_path / "a.city.json", textures=False),
                             Dataset(path=tmp_path / "a.city.json")])
    p = write_scene(sf, tmp_path / "s.toml")
    text = p.read_text()
    assert text.count("textures = false") == 1 and "textures = true" not in text
    assert [d.textures for d in read_scene(p).datasets] == [False, True]


# ---------------------------------------------------------------- the window
def test_layers_dock_textures_switch(qtbot, make_window) -> None:  # noqa: ANN001
    if not P53.exists():
        pytest.skip(f"shared data file missing: {P53}")
    win = make_window()
    qt_fixtures.load(qtbot, win, P53)
    lay = win.layers[0]
    vis = lay.visual
    ren = win.viewport.renderer
    assert vis.has_textures and all(ren.HasViewProp(a) for a in vis.actors())
    assert vis.actors()[1].GetShaderProperty() is win.viewport.city_scene.lighting.shader_property
    dock = win.layers_dock
    dock.list.setCurrentRow(0)
    assert dock.textures.isEnabled() and dock.textures.isChecked()
    before = win.viewport.snapshot().astype(int)
    dock.textures.setChecked(False)
    assert not vis.textures_enabled and lay.dataset["textures"] is False
    after = win.viewport.snapshot().astype(int)
    assert (np.abs(before - after).max(axis=2) > 20).mean() > 0.02
    dock.textures.setChecked(True)
    assert vis.textures_shown
    actors = vis.actors()
    win.remove_layer(lay)
    assert not any(ren.HasViewProp(a) for a in actors)


def test_several_atlas_pages_draw_like_one(monkeypatch) -> None:  # noqa: ANN001
    """Pages of 1100 texels: Yokosuka's three images need two pages (two texture actors),
    at full resolution; the picture is the one of the single 2048 page."""
    import functools

    from citytwin.render import textures, visual

    model = read(YOKOSUKA)
    one = shot(model, view="top", size=(640, 480))
    monkeypatch.setattr(visual, "build_texture_set",
                        functools.partial(textures.build_texture_set, max_size=1100, max_pages=3))
    with SceneView(size=(640, 480), overlays=False) as sv:
        vis = sv.add_model(model)
        ts = vis.texture_set
        assert ts is not None and ts.n_pages == 2 and ts.scale == 1.0 and len(vis.actors()) == 3
        assert all(g.image.shape[1] <= 1100 and g.image.shape[0] <= 1100 for g in ts.groups)
        sv.set_view("top")
        two = sv.screenshot().astype(int)
    assert (np.abs(one - two).max(axis=2) > 12).mean() < 0.002
    plain = shot(bare(model), view="top", size=(640, 480))
    assert (np.abs(one - plain).max(axis=2) > 20).mean() > 0.005  # the textures are in the picture


def test_prebuilt_texture_set_is_used_as_is(monkeypatch) -> None:  # noqa: ANN001
    """A loader thread may read and pack the images; the visual then reads none."""
    from citytwin.render import textures, visual

    model = read(LYON)
    ts = textures.build_texture_set(model)
    monkeypatch.setattr(visual, "build_texture_set", lambda *a, **k: pytest.fail("images read again"))
    vis = visual.VtkCityVisual(model, texture_set=ts)
    assert vis.texture_set is ts and vis.textures_shown and vis.n_textured_cells == 20
    vis.release()


def test_render_command_no_textures_and_scene_key(tmp_path) -> None:  # noqa: ANN001
    """`citytwin render --no-textures`, and `textures = false` in a scene file, draw the colours."""
    from citytwin.cli import main
    from citytwin.model.scenefile import Dataset, SceneFile, write_scene

    read(LYON)  # skips when the shared data is missing
    src = str(LYON)
    on, off, scene_off = tmp_path / "on.png", tmp_path / "off.png", tmp_path / "scene_off.png"
    assert main(["render", src, "--out", str(on), "--size", "320x240"]) == 0
    assert main(["render", src, "--out", str(off), "--size", "320x240", "--no-textures"]) == 0
    sc = write_scene(SceneFile(datasets=[Dataset(path=LYON, textures=False)]), tmp_path / "s.toml")
    assert main(["render", str(sc), "--out", str(scene_off), "--size", "320x240"]) == 0
    a, b, c = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (on, off, scene_off))
    assert (np.abs(a - b).max(axis=2) > 20).mean() > 0.01  # the photo vs the semantic colours
    assert np.abs(b - c).max() <= 2


def test_window_applies_the_scene_key_and_uses_the_loader_texture_set(qtbot, make_window, tmp_path,  # noqa: ANN001
                                                                       monkeypatch) -> None:  # noqa: ANN001
    from citytwin.model.scenefile import Dataset, SceneFile, read_scene, write_scene
    from citytwin.render import textures as T

    read(P53)
    threads: list[str] = []
    real = T.build_texture_set

    def spy(*a, **k):  # noqa: ANN002, ANN003, ANN202
        import threading

        threads.append(threading.current_thread().name)
        return real(*a, **k)

    monkeypatch.setattr(T, "build_texture_set", spy)
    win = make_window()
    qt_fixtures.load(qtbot, win, P53)
    assert win.layers[0].visual.has_textures
    assert threads and all(t != "MainThread" for t in threads)  # decoded in the reader thread
    sc = write_scene(SceneFile(datasets=[Dataset(path=P53, textures=False)]), tmp_path / "s.toml")
    win2 = make_window()
    win2.open_scene(str(sc))
    qtbot.waitUntil(lambda: not win2.loader.busy and len(win2.layers) >= 1, timeout=60_000)
    vis = win2.layers[0].visual
    assert not vis.textures_enabled
    out = win2.save_scene(tmp_path / "again.toml")
    assert [d.textures for d in read_scene(out).datasets] == [False]
