"""Choose a reader by suffix and content, and read a file into a :class:`CityModel`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.errors import ReaderError
from .source import read_head

MESH_SUFFIXES = {".obj", ".ply", ".stl", ".gltf", ".glb", ".off"}
LIDAR_SUFFIXES = {".las", ".laz"}


def detect_format(path: str | Path) -> str:
    """One of ``citygml``, ``cityjson``, ``cityjsonseq``, ``mesh``, ``geojson``, ``lidar``
    (LAS/LAZ: a point cloud, read by :func:`citytwin.io.lidar.read_lidar`, not by :func:`read`)."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in MESH_SUFFIXES:
        return "mesh"
    if suffix in LIDAR_SUFFIXES:
        return "lidar"
    if name.endswith((".jsonl", ".city.jsonl", ".cjseq")):
        return "cityjsonseq"
    if suffix in (".gml", ".xml", ".citygml"):
        return "citygml"
    if suffix == ".geojson":
        return "geojson"
    head = read_head(p, 4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "citygml"
    if head.startswith(b"{"):
        if b'"CityJSONFeature"' in head or (b'"CityJSON"' in head and b"\n{" in head):
            first_line = head.split(b"\n", 1)[0]
            if b'"CityJSON"' in first_line and first_line.rstrip().endswith(b"}"):
                return "cityjsonseq"
        if b'"CityJSON"' in head:
            return "cityjson"
        if b'"FeatureCollection"' in head or b'"Feature"' in head:
            return "geojson"
        if suffix == ".json":
            return "cityjson"
    if head.startswith(b"LASF"):
        return "lidar"
    raise ReaderError(p, "unknown file format (expected CityGML, CityJSON, CityJSONSeq, GeoJSON, a mesh "
                         "or a LAS/LAZ point cloud)")


def read(path: str | Path, **kwargs: Any) -> Any:
    """Read any supported file; keyword arguments as documented in :mod:`citytwin.io`."""
    p = Path(path)
    if not p.exists():
        raise ReaderError(p, "no such file")
    fmt = detect_format(p)
    if fmt == "lidar":
        raise ReaderError(p, "a LAS/LAZ point cloud, not a city model (use it as terrain: "
                             "citytwin analyze flood MODEL --terrain FILE)")
    if fmt == "citygml":
        from .citygml import read_citygml

        return read_citygml(p, **kwargs)
    if fmt == "cityjson":
        from .cityjson import read_cityjson

        return read_cityjson(p, **kwargs)
    if fmt == "cityjsonseq":
        from .cityjson import read_cityjsonseq

        return read_cityjsonseq(p, **kwargs)
    if fmt == "geojson":
        from .geojson import read_geojson

        return read_geojson(p, **kwargs)
    from .mesh import read_mesh

    return read_mesh(p, **kwargs)
