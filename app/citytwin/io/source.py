"""Opening input files: gzip detected by magic bytes, progress and cancel by bytes read."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..core.errors import Cancelled, ReaderError

Progress = Callable[[float], None]
Cancel = Callable[[], bool]


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


class ProgressReader(io.RawIOBase):
    """Wraps a binary file; reports the fraction of the *compressed* file read.

    Reading is where the time goes for every streaming reader, so this is the one
    place that calls ``progress`` and checks ``cancel``.
    """

    def __init__(
        self,
        raw: IO[bytes],
        size: int,
        progress: Progress | None,
        cancel: Cancel | None,
        tell: Callable[[], int],
    ) -> None:
        self._raw = raw
        self._size = max(size, 1)
        self._progress = progress
        self._cancel = cancel
        self._tell = tell
        self._last = -1.0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        if self._cancel is not None and self._cancel():
            raise Cancelled("cancelled")
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        if self._progress is not None:
            frac = min(self._tell() / self._size, 1.0)
            if frac - self._last >= 0.01 or n == 0:
                self._last = frac
                self._progress(frac)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_input(
    path: str | Path, progress: Progress | None = None, cancel: Cancel | None = None
) -> IO[bytes]:
    """Open ``path`` for binary reading, gunzipping if needed, with progress/cancel."""
    p = Path(path)
    try:
        size = os.path.getsize(p)
        fh = open(p, "rb")
    except OSError as exc:
        raise ReaderError(p, exc.strerror or str(exc)) from exc
    if fh.read(2) == b"\x1f\x8b":
        fh.seek(0)
        raw: IO[bytes] = gzip.GzipFile(fileobj=fh)  # type: ignore[assignment]
    else:
        fh.seek(0)
        raw = fh
    if progress is None and cancel is None:
        return raw
    wrapped = ProgressReader(raw, size, progress, cancel, fh.tell)
    return io.BufferedReader(wrapped, buffer_size=1 << 20)  # type: ignore[return-value,type-var]


def read_head(path: str | Path, n: int = 4096) -> bytes:
    """First ``n`` bytes of the (decompressed) file."""
    try:
        with open_input(path) as f:
            return f.read(n)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ReaderError(path, f"cannot read: {exc}") from exc
