"""CityJSON versions: bring a 1.0 or 1.1 header up to what the 2.0 loader expects.

Only the file header (``type``, ``version``, ``transform``, ``metadata``,
``extensions``) goes through the chain; city objects are read as they are, because
the per-object differences between 1.0, 1.1 and 2.0 that matter for loading are
handled where they are read:

- LoD is a number in 1.0 (``"lod": 2``) and a string since 1.1 (``"lod": "2.2"``):
  :func:`citytwin.model.city.lod_code` takes both;
- 1.0 objects link to their parent with ``parents`` (a list) and older drafts with
  ``parent`` (a string): both are read (:func:`object_parents`);
- ``GenericCityObject`` (1.0 core type, 1.1 extension type ``+GenericCityObject``,
  2.0 core type again) and every extension type ``+Name`` are kept with their type
  string as given;
- 1.0 files may have plain float vertices and no ``transform``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...core.errors import LoadReport

SUPPORTED = ("1.0", "1.1", "2.0")


@dataclass
class Header:
    """What the loader needs from the first part of a CityJSON file (2.0 terms)."""

    version: str
    scale: tuple[float, float, float] | None = None
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    reference_system: str | None = None
    geographical_extent: list[float] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def short_version(version: Any) -> str:
    """``"1.0.3"`` -> ``"1.0"``; anything unparsable -> ``""``."""
    parts = str(version or "").strip().split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        return f"{int(parts[0])}.{int(parts[1])}"
    if len(parts) == 1 and parts[0].isdigit():
        return f"{int(parts[0])}.0"
    return ""


def _v10_to_v11(doc: dict[str, Any]) -> None:
    md = doc.get("metadata")
    if isinstance(md, dict):
        # 1.0 metadata followed ISO 19115 names; the ones we read kept their names.
        # 1.0 "crs": {"epsg": N} (from 0.x files still labelled 1.0)
        if "referenceSystem" not in md and isinstance(md.get("crs"), dict):
            epsg = md["crs"].get("epsg")
            if epsg:
                md["referenceSystem"] = f"urn:ogc:def:crs:EPSG::{epsg}"


def _v11_to_v20(doc: dict[str, Any]) -> None:
    md = doc.get("metadata")
    if isinstance(md, dict) and isinstance(md.get("referenceSystem"), str):
        md["referenceSystem"] = md["referenceSystem"].strip()


_STEPS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("1.0", _v10_to_v11),
    ("1.1", _v11_to_v20),
]


def read_header(doc: dict[str, Any], report: LoadReport) -> Header:
    """Upgrade ``doc``'s header in place step by step to 2.0 and return it.

    ``doc`` is the parsed file (or the first line of a CityJSONSeq); it must have
    been checked to be ``type: CityJSON``.
    """
    raw = doc.get("version")
    version = short_version(raw)
    if version not in SUPPORTED:
        report.warn("cityjson-version", f"version {raw!r} not supported; read as 2.0")
        version = "2.0"
    start = SUPPORTED.index(version)
    for step_version, step in _STEPS:
        if SUPPORTED.index(step_version) >= start:
            step(doc)

    h = Header(version=version)
    tr = doc.get("transform")
    if isinstance(tr, dict):
        try:
            sx, sy, sz = (float(v) for v in tr.get("scale", (1, 1, 1)))
            tx, ty, tz = (float(v) for v in tr.get("translate", (0, 0, 0)))
            h.scale = (sx, sy, sz)
            h.translate = (tx, ty, tz)
        except (TypeError, ValueError):
            report.warn("bad-transform", "transform is not 3 scales and 3 translations; ignored")
    md = doc.get("metadata")
    if isinstance(md, dict):
        h.metadata = md
        rs = md.get("referenceSystem")
        if isinstance(rs, str) and rs.strip():
            h.reference_system = rs.strip()
        ge = md.get("geographicalExtent")
        if isinstance(ge, list) and len(ge) == 6:
            h.geographical_extent = [float(v) for v in ge]
    ext = doc.get("extensions")
    if isinstance(ext, dict):
        h.extensions = ext
    return h


def object_parents(obj: dict[str, Any]) -> list[str]:
    """Parent ids of a city object (``parents`` list, or a legacy ``parent`` string)."""
    p = obj.get("parents")
    if isinstance(p, list):
        return [str(x) for x in p]
    if isinstance(p, str):
        return [p]
    p = obj.get("parent")
    if isinstance(p, str):
        return [p]
    return []
