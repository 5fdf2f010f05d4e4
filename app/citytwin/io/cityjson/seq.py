"""Read CityJSONSeq (``.city.jsonl``): a CityJSON header line, then one feature per line.

The file is streamed line by line: each line is parsed, flattened into the current
batch and dropped; every ``BATCH_FEATURES`` features the batch is converted to
numpy arrays and handed to the builder, so memory is bounded by the output model,
not by the parsed JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ...core.errors import Cancelled, LoadReport, ReaderError
from ...model import CityModel, CityModelBuilder
from ..source import Cancel, Progress, open_input
from .loader import CityJSONLoader, resolve_crs
from .reader import check_type
from .upgrade import read_header

BATCH_FEATURES = 4000
# flush earlier if features are big (corners in the batch)
BATCH_CORNERS = 4_000_000


def read_cityjsonseq(
    path: str | Path,
    *,
    crs: Any = None,
    target_crs: Any = None,
    origin: Any = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> CityModel:
    """Read a CityJSONSeq file (CityJSON 1.1/2.0 header + ``CityJSONFeature`` lines).

    Parameters are those of :func:`~citytwin.io.cityjson.read_cityjson`. A line that
    is not valid JSON (or not a feature) is reported as ``json-error`` /
    ``not-a-feature`` with its line number and skipped; the rest loads.

    Raises
    ------
    ReaderError
        When the first line is not valid JSON or not a ``CityJSON`` header.
    """
    p = Path(path)
    report = LoadReport(path=str(p))
    loader: CityJSONLoader | None = None
    builder: CityModelBuilder | None = None
    with open_input(p, progress, cancel) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                if loader is None:
                    raise ReaderError(
                        p, f"not valid JSON: line {lineno} column {exc.colno}: {exc.msg}"
                    ) from exc
                report.warn("json-error", f"line {lineno}: {exc.msg} (column {exc.colno})")
                continue
            if loader is None:
                check_type(p, doc, "CityJSON")
                header = read_header(doc, report)
                builder = CityModelBuilder(
                    str(p), "cityjsonseq", header.version,
                    resolve_crs(p, header.reference_system, crs, report), report,
                )
                loader = CityJSONLoader(builder, header, p.parent)
                loader.set_templates(doc.get("geometry-templates"))
                base_offsets = loader.add_appearance(doc.get("appearance"))
                if doc.get("CityObjects"):
                    loader.add_document(doc["CityObjects"], doc.get("vertices") or [], base_offsets)
                continue
            if not isinstance(doc, dict) or doc.get("type") != "CityJSONFeature":
                t = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
                report.warn("not-a-feature", f"line {lineno}: type {t!r}, expected CityJSONFeature")
                continue
            objs = doc.get("CityObjects")
            verts = doc.get("vertices")
            if not isinstance(objs, dict) or not isinstance(verts, list):
                report.warn("bad-feature", f"line {lineno}: no CityObjects/vertices")
                continue
            app = doc.get("appearance")
            offsets = loader.add_appearance(app) if app else base_offsets
            loader.add_document(objs, verts, offsets)
            del doc, objs, verts
            if loader.n_documents % BATCH_FEATURES == 0 or len(loader.ri) > BATCH_CORNERS:
                if cancel is not None and cancel():
                    raise Cancelled("cancelled")
                loader.flush()
    if loader is None or builder is None:
        raise ReaderError(p, "empty file (no CityJSON header line)")
    loader.flush()
    loader.finish()
    return builder.build(target_crs=target_crs, origin=origin)
