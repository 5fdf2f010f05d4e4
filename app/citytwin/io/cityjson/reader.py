"""Read CityJSON 1.0, 1.1 and 2.0 files (``type: CityJSON``) into a :class:`CityModel`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ...core.errors import LoadReport, ReaderError
from ...model import CityModel, CityModelBuilder
from ..source import Cancel, Progress, open_input
from .loader import CityJSONLoader, resolve_crs
from .upgrade import read_header


def parse_json(path: Path, data: bytes) -> Any:
    """``orjson.loads`` with a one-line :class:`ReaderError` naming line and column."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ReaderError(path, f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def check_type(path: Path, doc: Any, expected: str = "CityJSON") -> None:
    """Raise :class:`ReaderError` unless ``doc`` is a JSON object of type ``expected``."""
    t = doc.get("type") if isinstance(doc, dict) else None
    if t != expected:
        what = "missing" if t is None else repr(t)
        if not isinstance(doc, dict):
            what = f"missing: the file is a JSON {type(doc).__name__}"
        raise ReaderError(path, f"not a {expected} file (type is {what})")


def read_cityjson(
    path: str | Path,
    *,
    crs: Any = None,
    target_crs: Any = None,
    origin: Any = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> CityModel:
    """Read a CityJSON file (1.0, 1.1 or 2.0; gzip accepted).

    Parameters
    ----------
    path : str or Path
        The ``.city.json`` / ``.json`` file.
    crs : str or pyproj.CRS, optional
        CRS stated by the user; overrides ``metadata.referenceSystem``.
    target_crs, origin : optional
        Passed to :meth:`CityModelBuilder.build` (scene CRS and float64 origin).
    progress : callable, optional
        ``progress(fraction)`` while the file is read.
    cancel : callable, optional
        Returns True to stop; :class:`~citytwin.core.errors.Cancelled` is raised.

    Returns
    -------
    CityModel
        Every object (broken ones skipped and listed in ``model.report``), every
        geometry of every LoD, semantics, materials and textures.

    Raises
    ------
    ReaderError
        When the file is not valid JSON, not a CityJSON file, or has no
        ``CityObjects`` / ``vertices``.
    """
    p = Path(path)
    with open_input(p, progress, cancel) as f:
        data = f.read()
    doc = parse_json(p, data)
    del data
    check_type(p, doc)
    city_objects = doc.get("CityObjects")
    vertices = doc.get("vertices")
    if not isinstance(city_objects, dict):
        raise ReaderError(p, "CityObjects is missing or not a JSON object")
    if not isinstance(vertices, list):
        raise ReaderError(p, "vertices is missing or not a list")
    report = LoadReport(path=str(p))
    header = read_header(doc, report)
    builder = CityModelBuilder(
        str(p), "CityJSON", header.version, resolve_crs(p, header.reference_system, crs, report), report
    )
    loader = CityJSONLoader(builder, header, p.parent)
    loader.set_templates(doc.get("geometry-templates"))
    offsets = loader.add_appearance(doc.get("appearance"))
    loader.add_document(city_objects, vertices, offsets)
    del doc, city_objects, vertices
    if cancel is not None and cancel():
        from ...core.errors import Cancelled

        raise Cancelled("cancelled")
    loader.flush()
    loader.finish()
    return builder.build(target_crs=target_crs, origin=origin)
