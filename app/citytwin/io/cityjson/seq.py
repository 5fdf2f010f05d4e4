"""Read CityJSONSeq (``.city.jsonl``): a CityJSON header line, then one feature per line.

The file is streamed line by line: each line is parsed, flattened into the current
batch and dropped; every ``lines.BATCH_FEATURES`` features the batch is converted to
numpy arrays and handed to the builder, so memory is bounded by the output model,
not by the parsed JSON.

Files of ``PARALLEL_MIN_BYTES`` or more are parsed and flattened by ``WORKERS``
worker processes (:mod:`.seqworker`; JSON parsing and flattening are pure Python
and hold the GIL): the main process reads chunks of lines and sends them out, at
most a few chunks ahead, and adds the returned array batches to the builder in
file order.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from ...core.errors import Cancelled, LoadReport, ReaderError
from ...model import CityModel, CityModelBuilder
from ..source import Cancel, Progress, open_input
from .lines import feed_lines
from .loader import CityJSONLoader, resolve_crs
from .reader import check_type
from .upgrade import read_header

log = logging.getLogger(__name__)

PARALLEL_MIN_BYTES = 48 << 20
WORKERS = 2
CHUNK_LINES = 2000
IN_FLIGHT = 2  # chunks queued per worker


def _header(p: Path, f: IO[bytes]) -> tuple[int, bytes, dict[str, Any]]:
    for lineno, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ReaderError(p, f"not valid JSON: line {lineno} column {exc.colno}: {exc.msg}") from exc
        check_type(p, doc, "CityJSON")
        return lineno, line, doc
    raise ReaderError(p, "empty file (no CityJSON header line)")


def _chunks(f: IO[bytes], first: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for lineno, line in enumerate(f, first):
        chunk.append((lineno, line))
        if len(chunk) >= CHUNK_LINES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _read_parallel(
    p: Path, f: IO[bytes], first: int, header_line: bytes, loader: CityJSONLoader, report: LoadReport,
    cancel: Cancel | None,
) -> None:
    from .seqworker import WorkerPool

    pool = WorkerPool(WORKERS, header_line, p.parent, IN_FLIGHT)
    ok = False
    try:
        for packs, wreport, ignored in pool.map(_chunks(f, first)):
            for pk in packs:
                loader.commit(pk)
            report.merge(wreport)
            loader.ignored.update(ignored)
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
        ok = True
    except RuntimeError as exc:
        raise ReaderError(p, str(exc)) from exc
    finally:
        if ok:
            pool.close()
        else:
            pool.kill()


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
    with open_input(p, progress, cancel) as f:
        lineno, header_line, doc = _header(p, f)
        header = read_header(doc, report)
        builder = CityModelBuilder(
            str(p), "CityJSONSeq", header.version,
            resolve_crs(p, header.reference_system, crs, report), report,
        )
        loader = CityJSONLoader(builder, header, p.parent)
        loader.set_templates(doc.get("geometry-templates"))
        base_offsets = loader.add_appearance(doc.get("appearance"))
        if doc.get("CityObjects"):
            loader.add_document(doc["CityObjects"], doc.get("vertices") or [], base_offsets)
            loader.flush()
        del doc
        size = os.path.getsize(p)
        if (
            size >= PARALLEL_MIN_BYTES and WORKERS > 1 and (os.cpu_count() or 1) > 1
            and sys.executable and not getattr(sys, "frozen", False)
        ):
            log.info("reading %s with %d worker processes", p, WORKERS)
            _read_parallel(p, f, lineno + 1, header_line, loader, report, cancel)
        else:
            for _ in feed_lines(loader, report, enumerate(f, lineno + 1), base_offsets):
                if cancel is not None and cancel():
                    raise Cancelled("cancelled")
                loader.flush()
    loader.flush()
    loader.finish()
    return builder.build(target_crs=target_crs, origin=origin)
