"""CityGML appearances: X3DMaterial colours, textures found / missing, uv per corner."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from citytwin.io.citygml import read_citygml

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data folder {DATA} is missing")


def _ids_and_targets(path: Path) -> tuple[set[str], list[str]]:
    root = etree.parse(str(path)).getroot()
    ids = {el.get("{http://www.opengis.net/gml}id") for el in root.iter("{*}Polygon")}
    targets = [t.text.strip().lstrip("#") for t in root.iter("{*}target") if t.text and t.text.strip()]
    return ids, targets


def test_fzk_lod2_material_colours() -> None:
    path = DATA / "citygml/fzk-haus/FZK-House-LoD2-KIT-IAI-KHH-V2.gml"
    m = read_citygml(path)
    ids, targets = _ids_and_targets(path)
    assert len(m.materials) == 1
    mat = m.materials[0]
    root = etree.parse(str(path)).getroot()
    colour = [float(v) for v in next(root.iter("{*}diffuseColor")).text.split()]
    assert mat["diffuseColor"] == pytest.approx(colour)
    n_target_polys = len([t for t in targets if t in ids])
    assert int((m.polygons.material == 0).sum()) == n_target_polys >= 1


def test_fzk_lod3_materials_target_polygons() -> None:
    path = DATA / "citygml/fzk-haus/FZK-House-LoD3-KIT-IAI-KHH-V2.gml"
    m = read_citygml(path)
    ids, targets = _ids_and_targets(path)
    assert len(m.materials) == 2
    assert int((m.polygons.material >= 0).sum()) == len([t for t in targets if t in ids])


def test_ingolstadt_textures_with_spaces_in_names_are_found() -> None:
    path = DATA / "citygml/ingolstadt-lod3/4018106/4018106.xml"
    m = read_citygml(path)
    names = sorted(Path(t["path"]).name for t in m.textures)
    assert names == ["Roofing_Shingles_Asphalt.jpg", "Wood 02.jpg"]
    assert all(t["found"] for t in m.textures)
    assert all(Path(t["path"]).is_file() for t in m.textures)
    assert m.report.counts.get("missing-texture", 0) == 0
    root = etree.parse(str(path)).getroot()
    n_tex_targets = sum(1 for t in root.iter("{*}target") if t.get("uri"))
    assert int((m.polygons.texture >= 0).sum()) == n_tex_targets == 203
    # every corner of a textured polygon has a uv, untextured ones none
    uv = m.polygons.uv
    assert uv is not None
    p = m.polygons
    corner_ring = np.repeat(np.arange(len(p.ring_offsets) - 1), np.diff(p.ring_offsets))
    ring_poly = np.repeat(np.arange(len(p.object)), np.diff(p.poly_ring_offsets))
    textured = p.texture[ring_poly[corner_ring]] >= 0
    assert np.isfinite(uv[textured]).all()
    assert np.isnan(uv[~textured]).all()
    assert m.tri_uv is not None and m.tri_uv.shape == (m.n_triangles, 3, 2)
    # materials too, front side only (two X3DMaterials are for the back side of windows)
    front = [
        x for x in root.iter("{*}X3DMaterial")
        if all((c.text or "").strip() != "false" for c in x.iter("{*}isFront"))
    ]
    assert len(front) == 3
    assert len(m.materials) == 3 and m.metadata["appearance_skipped"] == {"backside": 2}
    assert int((p.material >= 0).sum()) == sum(1 for x in front for _ in x.iter("{*}target"))


def test_missing_texture_warns_and_loads(tmp_path: Path) -> None:
    src = DATA / "citygml/lyon/LYON_1ER_BATI_2015_small_house.gml"
    shutil.copy(src, tmp_path / src.name)  # the .jpg is not copied
    m = read_citygml(tmp_path / src.name)
    assert len(m.textures) == 1 and m.textures[0]["found"] is False
    assert m.report.counts["missing-texture"] == 1
    assert m.n_triangles > 0 and int((m.polygons.texture == 0).sum()) == 6
    with_image = read_citygml(src)
    assert with_image.textures[0]["found"] is True
    assert with_image.report.counts.get("missing-texture", 0) == 0


def _app_file(tmp_path: Path, image: str, appearance_first: bool, theme2: bool = False) -> Path:
    geom = (
        '<cityObjectMember><bldg:Building gml:id="b"><bldg:boundedBy><bldg:WallSurface>'
        "<bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>"
        '<gml:Polygon gml:id="p1"><gml:exterior><gml:LinearRing gml:id="r1">'
        "<gml:posList>0 0 0 1 0 0 1 0 1 0 0 1 0 0 0</gml:posList></gml:LinearRing></gml:exterior>"
        "</gml:Polygon></gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface>"
        "</bldg:WallSurface></bldg:boundedBy></bldg:Building></cityObjectMember>"
    )
    app = (
        "<app:appearanceMember><app:Appearance><app:theme>day</app:theme><app:surfaceDataMember>"
        f"<app:ParameterizedTexture><app:imageURI>{image}</app:imageURI>"
        '<app:target uri="#p1"><app:TexCoordList><app:textureCoordinates ring="#r1">'
        "0 0 1 0 1 1 0 1 0 0</app:textureCoordinates></app:TexCoordList></app:target>"
        "</app:ParameterizedTexture></app:surfaceDataMember>"
        "<app:surfaceDataMember><app:X3DMaterial><app:diffuseColor>1 0 0</app:diffuseColor>"
        "<app:transparency>0.5</app:transparency><app:target>#p1</app:target></app:X3DMaterial>"
        "</app:surfaceDataMember></app:Appearance></app:appearanceMember>"
    )
    if theme2:
        app += (
            "<app:appearanceMember><app:Appearance><app:theme>night</app:theme><app:surfaceDataMember>"
            "<app:X3DMaterial><app:diffuseColor>0 0 1</app:diffuseColor><app:target>#p1</app:target>"
            "</app:X3DMaterial></app:surfaceDataMember></app:Appearance></app:appearanceMember>"
        )
    body = app + geom if appearance_first else geom + app
    p = tmp_path / "app.gml"
    p.write_text(
        '<?xml version="1.0"?><CityModel xmlns="http://www.opengis.net/citygml/2.0" '
        'xmlns:bldg="http://www.opengis.net/citygml/building/2.0" '
        'xmlns:app="http://www.opengis.net/citygml/appearance/2.0" '
        f'xmlns:gml="http://www.opengis.net/gml">{body}</CityModel>'
    )
    return p


@pytest.mark.parametrize("appearance_first", [True, False])
def test_global_appearance_before_or_after_geometry(tmp_path: Path, appearance_first: bool) -> None:
    (tmp_path / "my images").mkdir()
    (tmp_path / "my images" / "wall 1.png").write_bytes(b"\x89PNG")
    m = read_citygml(_app_file(tmp_path, "my%20images/wall%201.png", appearance_first, theme2=True))
    assert m.textures[0]["found"] is True
    assert Path(m.textures[0]["path"]) == tmp_path / "my images" / "wall 1.png"
    assert m.polygons.texture.tolist() == [0]
    assert m.polygons.material.tolist() == [0]
    assert m.materials == [{"diffuseColor": [1.0, 0.0, 0.0], "transparency": 0.5}]
    # closing point dropped from coordinates and uv alike
    assert m.polygons.uv.tolist() == [[0, 0], [1, 0], [1, 1], [0, 1]]
    assert m.metadata["appearance_theme"] == "day"
    assert m.metadata["other_themes"] == ["night"]


def test_unnamed_appearance_applies_next_to_the_first_theme(tmp_path: Path) -> None:
    p = _app_file(tmp_path, "x.png", False, theme2=True)
    text = p.read_text().replace("<app:theme>day</app:theme>", "")
    p.write_text(text)
    m = read_citygml(p)
    # the unnamed appearance (texture + red) and the first named theme (blue) both apply
    assert m.metadata["appearance_theme"] == "night"
    assert m.polygons.texture.tolist() == [0]
    assert m.materials[m.polygons.material[0]]["diffuseColor"] == [0.0, 0.0, 1.0]


def test_missing_synthetic_texture(tmp_path: Path) -> None:
    m = read_citygml(_app_file(tmp_path, "nope/missing.jpg", False))
    assert m.textures[0]["found"] is False
    assert m.report.counts["missing-texture"] == 1
    assert m.n_triangles == 2
