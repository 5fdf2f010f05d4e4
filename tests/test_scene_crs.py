"""Several files in one scene end up in one CRS and one origin."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from citytwin.core.crs import parse_crs
from citytwin.io.scene_loader import load_scene
from citytwin.model import CityModelBuilder
from citytwin.model.scene import Scene


def _square_model(x: float, y: float, crs: str | None, target=None, origin=None):
    b = CityModelBuilder("mem", "test", crs=parse_crs(crs) if crs else None)
    o = b.add_object("sq", "Building")
    sq = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], float) + [x, y, 0]
    b.add_polygon(o, [sq], semantic=3, lod=1)
    return b.build(target_crs=target, origin=origin)


def test_builder_reprojects_into_scene_crs() -> None:
    # the same point of Karlsruhe in UTM 32N (EPSG:25832) and in Gauss-Krueger zone 3 (EPSG:31467)
    e, n = 456_000.0, 5_430_000.0
    gk = Transformer.from_crs(25832, 31467, always_xy=True).transform(e, n)
    scene = Scene()
    scene.add(_square_model(e, n, "EPSG:25832"))
    second = _square_model(gk[0], gk[1], "EPSG:31467", target=scene.crs, origin=scene.origin)
    scene.add(second)
    a, b = scene.models
    assert b.crs == a.crs
    assert np.array_equal(b.origin, a.origin)
    # the two squares land on each other within a metre (datum shift DHDN -> ETRS89 is ~1 m w/o grids)
    assert np.allclose(a.bbox()[0, :2], b.bbox()[0, :2], atol=3.0)
    assert b.source_crs is not None and b.source_crs.to_epsg() == 31467


def test_geographic_lat_lon_is_projected_to_utm() -> None:
    # PLATEAU-style EPSG:6697: latitude, longitude, height
    lat, lon = 35.68, 139.76
    b = CityModelBuilder("mem", "test", crs=parse_crs("http://www.opengis.net/def/crs/EPSG/0/6697"))
    o = b.add_object("g", "Building")
    d = 1e-4
    ring = np.array([[lat, lon, 5], [lat, lon + d, 5], [lat + d, lon + d, 5], [lat + d, lon, 5]])
    b.add_polygon(o, [ring], lod=1)
    m = b.build()
    assert "UTM zone 54N" in m.crs.name
    bb = m.bbox()
    size = bb[1] - bb[0]
    assert 7 < size[0] < 11 and 9 < size[1] < 13  # 1e-4 deg ~ 9 m east, 11 m north
    assert size[2] == 0 and bb[0, 2] == pytest.approx(5)


def test_load_scene_of_two_files_in_different_crs(data_dir) -> None:
    pytest.importorskip("citytwin.io.cityjson")
    pytest.importorskip("citytwin.io.citygml")
    rd = data_dir / "cityjson" / "delft" / "delft_v2.0.city.json"  # EPSG:7415 (RD New + NAP)
    utm = data_dir / "citygml" / "fzk-haus" / "FZK-House-LoD2-KIT-IAI-KHH-V2.gml"  # EPSG:25832
    scene = load_scene([rd, utm])
    delft, fzk = scene.models
    assert delft.crs is not None and fzk.crs is not None
    assert fzk.source_crs is not None and "25832" in fzk.source_crs.to_string()
    assert fzk.crs.equals(delft.crs) or fzk.crs == delft.crs
    # Karlsruhe lies ~ 400 km south-east of Delft in RD coordinates
    d = fzk.bbox().mean(0) - delft.bbox().mean(0)
    assert 250_000 < d[0] < 450_000 and -450_000 < d[1] < -250_000
