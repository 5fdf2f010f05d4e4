"""Colour styling (pure numpy, no VTK): semantic table, thematic colouring, highlight."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from citytwin.model.objects import ObjectTable
from citytwin.model.semantics import SEMANTICS, semantic_code
from citytwin.model.style import (
    FLAT_ROOF_RGB,
    HIGHLIGHT_RGB,
    NEUTRAL_RGB,
    PALETTE,
    SEMANTIC_RGBA,
    cell_colors,
    color_by_attribute,
    colormap,
    highlight_colors,
    semantic_styling,
)


def _table() -> ObjectTable:
    t = ObjectTable()
    t.add("b1", "Building", {"yearOfConstruction": 1900, "function": "residential", "h": {"value": 10.0, "uom": "m"}})
    t.add("b1-p", "BuildingPart", {}, parent=0)
    t.add("b2", "Building", {"yearOfConstruction": 2000, "function": "office", "h": {"value": 30.0}})
    t.add("b3", "Building", {"function": "residential"})  # no year
    t.add("terrain", "TINRelief", {})
    t.add("road", "Road", {"name": "Hauptstraße"})
    return t


def test_semantic_table_covers_every_code() -> None:
    assert SEMANTIC_RGBA.shape == (len(SEMANTICS), 4) and SEMANTIC_RGBA.dtype == np.uint8
    roof, wall = SEMANTIC_RGBA[semantic_code("RoofSurface")], SEMANTIC_RGBA[semantic_code("WallSurface")]
    assert roof[0] > roof[2] + 60  # terracotta: red well above blue
    assert wall[:3].min() > 200  # light
    water = SEMANTIC_RGBA[semantic_code("WaterSurface")]
    assert water[2] > water[0] + 60
    veg = SEMANTIC_RGBA[semantic_code("SolitaryVegetationObject")]
    assert veg[1] > veg[0] and veg[1] > veg[2]
    assert len({tuple(c) for c in SEMANTIC_RGBA[[semantic_code(n) for n in (
        "RoofSurface", "WallSurface", "GroundSurface", "Window", "Door", "TINRelief", "TrafficArea",
        "WaterSurface", "PlantCover")]]}) == 9


def test_numeric_attribute_continuous_map() -> None:
    t = _table()
    st = color_by_attribute(t, "yearOfConstruction")
    assert st.kind == "numeric" and st.value_range == (1900.0, 2000.0)
    assert tuple(st.rgba[0, :3]) == tuple(colormap(np.array([0.0]))[0])
    assert tuple(st.rgba[2, :3]) == tuple(colormap(np.array([1.0]))[0])
    assert tuple(st.rgba[1, :3]) == tuple(st.rgba[0, :3])  # the part inherits its building's value
    assert tuple(st.rgba[3, :3]) == NEUTRAL_RGB and not st.has_value[3]
    assert st.context_types == frozenset({"TINRelief", "Road"})
    assert st.legend[0].label == "1900" and st.legend[4].label == "2000" and st.legend[-1].label == "no value"
    # user range and clipping
    st2 = color_by_attribute(t, "yearOfConstruction", value_range=(1950, 2050))
    assert tuple(st2.rgba[0, :3]) == tuple(colormap(np.array([0.0]))[0])
    # CityGML measures {"value": ..., "uom": ...} are numbers
    assert color_by_attribute(t, "h").kind == "numeric"


def test_colormap_is_viridis_like() -> None:
    c = colormap(np.linspace(0, 1, 5))
    assert tuple(c[0]) == (0x44, 0x01, 0x54) and tuple(c[-1]) == (0xFD, 0xE7, 0x25)
    lum = c @ np.array([0.299, 0.587, 0.114])
    assert np.all(np.diff(lum) > 0)  # perceptually increasing
    assert tuple(colormap(np.array([np.nan]))[0]) == NEUTRAL_RGB


def test_categorical_attribute_palette() -> None:
    t = _table()
    st = color_by_attribute(t, "function")
    assert st.kind == "categorical"
    assert [e.label for e in st.legend] == ["residential", "office", "no value"]  # most frequent first
    assert tuple(st.rgba[0, :3]) == PALETTE[0] and tuple(st.rgba[3, :3]) == PALETTE[0]
    assert tuple(st.rgba[2, :3]) == PALETTE[1]
    # many categories: the rest become "other"
    many = ObjectTable()
    for k in range(30):
        many.add(f"o{k}", "Building", {"street": f"street {k % 15}"})
    st = color_by_attribute(many, "street", max_categories=10)
    assert st.legend[-2].label == "other (6)" and len(st.legend) == 11
    # numeric strings with few values stay categorical (codes), many values become numeric
    codes = ObjectTable()
    for k in range(10):
        codes.add(f"c{k}", "Building", {"function": str(1000 + (k % 3))})
    assert color_by_attribute(codes, "function").kind == "categorical"
    assert color_by_attribute(codes, "function", numeric=True).kind == "numeric"


def test_missing_attribute_everywhere() -> None:
    st = color_by_attribute(_table(), "nope")
    assert st.kind == "empty" and (st.rgba[:, :3] == NEUTRAL_RGB).all()


def test_cell_colors_semantic_and_thematic() -> None:
    t = _table()
    roof, wall, terrain = semantic_code("RoofSurface"), semantic_code("WallSurface"), semantic_code("TINRelief")
    cell_obj = np.array([0, 0, 1, 2, 4, 4], np.int32)
    cell_sem = np.array([roof, wall, wall, roof, terrain, terrain], np.uint8)
    flat = np.array([True, False, False, False, True, True])
    sem = cell_colors(semantic_styling(len(t)), cell_obj, cell_sem, t.types, cell_flat=flat)
    assert tuple(sem[0]) == FLAT_ROOF_RGB and tuple(sem[3]) == tuple(SEMANTIC_RGBA[roof, :3])
    assert tuple(sem[4]) == tuple(SEMANTIC_RGBA[terrain, :3])  # flat terrain is not a roof
    st = color_by_attribute(t, "yearOfConstruction")
    th = cell_colors(st, cell_obj, cell_sem, t.types)
    assert tuple(th[1]) == tuple(st.rgba[0, :3])  # walls in the object's colour
    assert (th[0].astype(int) <= th[1].astype(int)).all() and th[0].sum() < th[1].sum()  # roofs darker
    assert tuple(th[4]) == tuple(SEMANTIC_RGBA[terrain, :3])  # terrain keeps its colour as context
    assert th.dtype == np.uint8 and th.shape == (6, 3)


def test_highlight_blend() -> None:
    base = np.full((4, 3), 100, np.uint8)
    mask = np.array([False, True, False, True])
    out = highlight_colors(base, mask)
    assert (out[~mask] == 100).all()
    expect = np.rint(100 * 0.25 + np.array(HIGHLIGHT_RGB) * 0.75)
    assert (out[1] == expect).all()
    assert highlight_colors(base, np.zeros(4, bool)).tolist() == base.tolist()


def test_style_is_pure() -> None:
    code = "import sys, citytwin.model.style; print([m for m in sys.modules if m.split('.')[0] in ('vtk', 'vtkmodules', 'pyvista', 'PySide6')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["yearOfConstruction", "function", "h"])
def test_styling_shapes(name: str) -> None:
    t = _table()
    st = color_by_attribute(t, name)
    assert st.rgba.shape == (len(t), 4) and st.rgba.dtype == np.uint8 and (st.rgba[:, 3] == 255).all()


def test_auto_types_colour_buildings_only() -> None:
    t = _table()
    t.attributes[5]["function"] = "main road"  # roads have a function too
    st = color_by_attribute(t, "function")
    assert "Road" in st.context_types and [e.label for e in st.legend] == ["residential", "office", "no value"]
    assert not st.has_value[5]
    every = color_by_attribute(t, "function", types=None)
    assert every.has_value[5] and "main road" in [e.label for e in every.legend]
    roads = color_by_attribute(t, "function", types=["Road"])
    assert roads.has_value.tolist() == [False, False, False, False, False, True]
    # a dataset without buildings: every type
    only = ObjectTable()
    only.add("r", "Road", {"function": "x"})
    only.add("r2", "Road", {"function": "y"})
    assert color_by_attribute(only, "function").has_value.all()
