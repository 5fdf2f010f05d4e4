"""Errors and the load report that readers fill in.

Readers never print: they raise :class:`ReaderError` when nothing can be loaded and
record every skipped or repaired object in a :class:`LoadReport` otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


class CityTwinError(Exception):
    """Base class of every error citytwin raises on purpose."""


class ReaderError(CityTwinError):
    """A file could not be read. ``str()`` is one line naming the file (and object)."""

    def __init__(self, path: str | Path, detail: str, obj: str | None = None) -> None:
        self.path = str(path)
        self.detail = " ".join(str(detail).split())
        self.obj = obj
        where = f"{self.path}: object {obj}" if obj else self.path
        super().__init__(f"{where}: {self.detail}")


class CRSError(CityTwinError):
    """A CRS string could not be understood."""


@dataclass
class LoadReport:
    """Warnings gathered while loading one file, counted by kind.

    Only the first ``keep`` messages of each kind are kept verbatim so that a file
    with a million broken polygons does not use a million strings.
    """

    path: str = ""
    counts: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    skipped_objects: int = 0
    keep: int = 20
    _kept: Counter[str] = field(default_factory=Counter)

    def warn(self, kind: str, message: str = "", n: int = 1) -> None:
        """Count ``n`` occurrences of ``kind``; keep the message if few of this kind so far."""
        self.counts[kind] += n
        if message and self._kept[kind] < self.keep:
            self._kept[kind] += 1
            self.messages.append(f"{kind}: {message}")

    def skip(self, obj: str, reason: str) -> None:
        """Record that a whole object was skipped."""
        self.skipped_objects += 1
        self.warn("skipped-object", f"{obj}: {reason}")

    def merge(self, other: LoadReport) -> None:
        self.counts.update(other.counts)
        self.skipped_objects += other.skipped_objects
        for m in other.messages:
            if len(self.messages) < self.keep * 20:
                self.messages.append(m)

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


class Cancelled(CityTwinError):
    """The user cancelled a long operation."""
