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


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 object"``, ``"42 objects"``: the count and the noun in the right number."""
    return f"{n:,} {singular if n == 1 else (plural_form or singular + 's')}"


# what one occurrence of a warning kind is, for "42 non-planar polygons" (singular, plural)
KIND_NOUNS: dict[str, tuple[str, str]] = {
    "missing-texture": ("missing texture image", "missing texture images"),
    "unreadable-texture": ("unreadable texture image", "unreadable texture images"),
    "non-planar-polygon": ("non-planar polygon", "non-planar polygons"),
    "degenerate-polygon": ("degenerate polygon", "degenerate polygons"),
    "self-intersecting-polygon": ("self-intersecting polygon", "self-intersecting polygons"),
    "triangulation-failed": ("polygon that could not be triangulated", "polygons that could not be triangulated"),
    "skipped-object": ("skipped object", "skipped objects"),
    "duplicate-id": ("duplicate object id", "duplicate object ids"),
    "unresolved-xlink": ("unresolved XLink", "unresolved XLinks"),
    "missing-material": ("missing material", "missing materials"),
    "missing-parent": ("object with a missing parent", "objects with a missing parent"),
    "missing-child": ("missing child object", "missing child objects"),
    "bad-polygon": ("bad polygon", "bad polygons"),
    "bad-vertex": ("bad vertex", "bad vertices"),
    "bad-vertex-index": ("bad vertex index", "bad vertex indices"),
    "bad-face-index": ("bad face index", "bad face indices"),
    "short-face": ("face with fewer than 3 vertices", "faces with fewer than 3 vertices"),
    "duplicate-observation": ("repeated observation", "repeated observations"),
}


def kind_summary(kind: str, n: int) -> str:
    """One line for ``n`` warnings of ``kind``: ``"42 non-planar polygons"``, ``"unknown-crs: 2 warnings"``."""
    if kind in KIND_NOUNS:
        one, many = KIND_NOUNS[kind]
        return plural(n, one, many)
    return f"{kind}: {plural(n, 'warning')}"


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

    def details(self, kind: str) -> list[str]:
        """The messages kept for ``kind`` (at most ``keep``; :attr:`counts` has how many there were)."""
        head = kind + ": "
        return [m[len(head):] for m in self.messages if m.startswith(head)]

    def summary(self) -> list[tuple[str, str, list[str]]]:
        """One ``(kind, line, kept messages)`` per warning kind, most frequent first: the line says
        how many in words (:func:`kind_summary`), the messages are the details behind it."""
        kinds = sorted(self.counts, key=lambda k: (-self.counts[k], k))
        return [(k, kind_summary(k, self.counts[k]), self.details(k)) for k in kinds if self.counts[k] > 0]


class Cancelled(CityTwinError):
    """The user cancelled a long operation."""
