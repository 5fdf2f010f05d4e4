"""``citytwin render SCENE.toml`` draws what the window draws: each dataset's opacity, the terrain
split off its model (its own layer, its own colours), sensor layers at the clock's time with
their colour bar. Real renders of the demo district, real pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from citytwin.cli import main
from citytwin.io.viewer_loader import load_viewer
from citytwin.model.layer import LayerKind
from render_fixtures import RENDER_MARKS, ROOT

pytestmark = RENDER_MARKS

SIZE = "480x300"
SENSORS = """
[[sensors]]
type = "sensors"
source = "{src}"
name = "Air"
styling = {{ colormap = "viridis", size = 30.0 }}
stale_after = 86400.0
"""


def _scene(tmp: Path, name: str, opacity: float = 1.0, color_by: str = "semantic", sensors: bool = False) -> Path:
    text = (f'version = 1\ncrs = "EPSG:25832"\n\n[[datasets]]\nname = "District"\n'
            f'path = "{(ROOT / "scenes/demo/demo_district.city.json").as_posix()}"\n'
            f'opacity = {opacity}\ncolor_by = "{color_by}"\n')
    if sensors:
        text += SENSORS.format(src=(ROOT / "scenes/demo/demo_sensors.json").as_posix())
    p = tmp / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _render(scene: Path, out: Path, *extra: str) -> np.ndarray:
    assert main(["render", str(scene), "--out", str(out), "--size", SIZE, "--no-fxaa", *extra]) == 0
    return np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)


def test_dataset_opacity_and_the_terrain_layer(tmp_path: Path) -> None:
    solid = _render(_scene(tmp_path, "solid"), tmp_path / "solid.png")
    ghost = _render(_scene(tmp_path, "ghost", opacity=0.3), tmp_path / "ghost.png")
    changed = np.abs(solid - ghost).max(axis=2) > 24
    assert changed.mean() > 0.2  # the whole district, buildings and ground, is see-through
    # the terrain is a layer of its own: coloured by an attribute, the city changes, the ground does not
    by_year = _render(_scene(tmp_path, "year", color_by="yearOfConstruction"), tmp_path / "year.png")
    recoloured = np.abs(solid - by_year).max(axis=2) > 24
    assert recoloured.mean() > 0.05  # the buildings
    assert (changed & ~recoloured).mean() > 0.1  # the ground keeps its semantic colours
    vm, _ = load_viewer([str(_scene(tmp_path, "year", color_by="yearOfConstruction"))])
    city, terrain = vm.layers
    assert (city.kind, terrain.kind, terrain.owner) == (LayerKind.CITY, LayerKind.TERRAIN, city)
    assert city.color_by == "yearOfConstruction" and terrain.color_by == "semantic"
    # the legend of the attribute colouring is drawn (upper left), as in the window
    top_left = (slice(0, 120), slice(0, 160))
    assert np.abs(solid[top_left] - by_year[top_left]).max(axis=2).mean() > 10


def test_sensors_at_the_clock_time_with_their_colour_bar(tmp_path: Path) -> None:
    plain = _render(_scene(tmp_path, "plain"), tmp_path / "plain.png", "--view", "top")
    scene = _scene(tmp_path, "air", sensors=True)
    night = _render(scene, tmp_path / "night.png", "--view", "top", "--time", "2024-06-01T04:00")
    rush = _render(scene, tmp_path / "rush.png", "--view", "top", "--time", "2024-06-01T08:30")
    h, w = plain.shape[:2]
    body = (slice(0, h), slice(0, int(w * 0.78)))  # away from the colour bar (lower right)
    glyphs = (np.abs(night - plain).max(axis=2) > 40)[body]
    assert glyphs.mean() > 0.005  # the sensors are drawn, standing on the ground
    # the same sensors, other values: other colours where they stand
    moved = (np.abs(night - rush).max(axis=2) > 40)[body]
    assert moved[glyphs].mean() > 0.2 and moved[~glyphs].mean() < 0.01
    # the colour bar in the lower right
    bar = (slice(int(h * 0.8), h), slice(int(w * 0.6), w))
    assert (np.abs(night[bar] - plain[bar]).max(axis=2) > 40).mean() > 0.1


def test_buildings_and_ground_coloured_by_the_sensors_at_the_clock_time(tmp_path: Path) -> None:
    scene = _scene(tmp_path, "field", color_by="sensors:idw/both:no2", sensors=True)
    plain = _render(_scene(tmp_path, "plain", sensors=True), tmp_path / "plain.png", "--time", "2024-06-01T08:30")
    field = _render(scene, tmp_path / "field.png", "--time", "2024-06-01T08:30")
    later = _render(scene, tmp_path / "later.png", "--time", "2024-06-01T14:00")
    recoloured = np.abs(field - plain).max(axis=2) > 30
    assert recoloured.mean() > 0.25  # roofs, walls and the ground take the field's colours
    assert (np.abs(field - later).max(axis=2) > 12).mean() > 0.1  # and follow the clock
    vm, _ = load_viewer([str(scene)])
    assert vm.layers[0].color_by == "sensors:idw/both:no2"


def test_time_needs_iso(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scene = _scene(tmp_path, "air", sensors=True)
    assert main(["render", str(scene), "--out", str(tmp_path / "x.png"), "--time", "noon-ish"]) == 1
    err = capsys.readouterr().err
    assert "--time" in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()
