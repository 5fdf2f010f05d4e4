"""Synthetic city models of axis-aligned boxes (CityJSON 2.0 written to a file), for
analyses with known answers: outward faces with Roof/Wall/Ground semantics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

Box = tuple[str, float, float, float, float, float, float]  # id, x0, y0, x1, y1, z0, z1


def box_faces(x0: float, y0: float, x1: float, y1: float, z0: float, z1: float) -> tuple[list, list]:
    """Vertices and outward faces (roof, 4 walls, ground) of a box."""
    v = [[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0],
         [x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]]
    faces = [
        [4, 5, 6, 7],  # roof, up
        [0, 1, 5, 4],  # south wall (y0), facing -y
        [1, 2, 6, 5],  # east wall (x1), facing +x
        [2, 3, 7, 6],  # north wall (y1), facing +y
        [3, 0, 4, 7],  # west wall (x0), facing -x
        [0, 3, 2, 1],  # ground, down
    ]
    return v, faces


RD_NEW = "https://www.opengis.net/def/crs/EPSG/0/28992"
DEN_HAAG = (80000.0, 455000.0)  # where box coordinates start, in RD New


def write_boxes(path: Path, boxes: list[Box], crs: str = RD_NEW,
                ground: tuple[float, float, float, float] | None = None,
                translate: tuple[float, float] = DEN_HAAG, parents: dict[str, str] | None = None) -> Path:
    """A CityJSON file of LoD2 box buildings (coordinates are metres from ``translate``,
    in ``crs``), and optionally a flat TINRelief at z=0. ``parents`` maps box ids to a
    parent id: those boxes become BuildingParts of a Building without geometry."""
    verts: list[list[int]] = []
    objects: dict[str, Any] = {}
    scale = 0.001
    for bid, x0, y0, x1, y1, z0, z1 in boxes:
        v, faces = box_faces(x0, y0, x1, y1, z0, z1)
        base = len(verts)
        verts += [[round(c / scale) for c in p] for p in v]
        shell = [[[base + i for i in f]] for f in faces]
        objects[bid] = {"type": "Building", "attributes": {"measuredHeight": z1 - z0}, "geometry": [{
            "type": "Solid", "lod": "2", "boundaries": [shell],
            "semantics": {"surfaces": [{"type": "RoofSurface"}, {"type": "WallSurface"},
                                       {"type": "GroundSurface"}],
                          "values": [[0, 1, 1, 1, 1, 2]]},
        }]}
    if ground is not None:
        x0, y0, x1, y1 = ground
        base = len(verts)
        verts += [[round(x0 / scale), round(y0 / scale), 0], [round(x1 / scale), round(y0 / scale), 0],
                  [round(x1 / scale), round(y1 / scale), 0], [round(x0 / scale), round(y1 / scale), 0]]
        objects["terrain"] = {"type": "TINRelief", "geometry": [{
            "type": "CompositeSurface", "lod": "1",
            "boundaries": [[[base, base + 1, base + 2]], [[base, base + 2, base + 3]]]}]}
    for child, parent in (parents or {}).items():
        objects[child]["type"] = "BuildingPart"
        objects[child]["parents"] = [parent]
        objects.setdefault(parent, {"type": "Building", "geometry": [], "children": []})["children"].append(child)
    doc = {"type": "CityJSON", "version": "2.0",
           "transform": {"scale": [scale] * 3, "translate": [translate[0], translate[1], 0.0]},
           "metadata": {"referenceSystem": crs}, "CityObjects": objects, "vertices": verts}
    path.write_bytes(orjson.dumps(doc))
    return path
