"""CityJSONSeq feature lines into a loader: shared by the reader and its worker processes.

Its own module so that :mod:`.seq` (the reader) and :mod:`.seqworker` (the workers)
both import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from ...core.errors import LoadReport
from .loader import CityJSONLoader

BATCH_FEATURES = 4000
# flush earlier if features are big (corners in the batch)
BATCH_CORNERS = 4_000_000


def feed_lines(
    loader: CityJSONLoader,
    report: LoadReport,
    lines: Iterable[tuple[int, bytes]],
    base_offsets: tuple[int, int, int],
) -> Iterator[None]:
    """Add the features of ``(line number, line)`` pairs; yields whenever a batch is full."""
    for lineno, line in lines:
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            report.warn("json-error", f"line {lineno}: {exc.msg} (column {exc.colno})")
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
            yield


