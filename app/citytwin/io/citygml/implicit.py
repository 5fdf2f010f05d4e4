"""ImplicitGeometry: a template geometry placed by a 4x4 matrix at a reference point.

Templates (``relativeGMLGeometry`` / 3.0 ``relativeGeometry``) are kept by id so that
later instances that only reference them (``xlink:href``) reuse them; instances are
emitted at the end, when every template in the file is known.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...core.errors import LoadReport
from .geometry import PolygonStore, ring_coords
from .names import GML_IDS, LN, POLY_TAGS, RING_TAGS, XLINK_HREF

_ID0, _ID1 = GML_IDS
Rings = list[NDArray[np.float64]]


def _numbers(text: str | None) -> NDArray[np.float64] | None:
    if not text:
        return None
    try:
        return np.fromstring(text, sep=" ")
    except ValueError:
        return None


class Implicit:
    """Implicit geometry templates and their placed instances."""

    def __init__(self, store: PolygonStore) -> None:
        self.store = store
        self.templates: dict[str, list[Rings]] = {}
        self.pending: list[tuple[str, NDArray[np.float64], NDArray[np.float64], int, int, int]] = []
        self.instances = 0
        self.failed = 0

    def add(self, prop: Any, obj: int, sem: int, lod: int) -> None:
        """One ``lodXImplicitRepresentation`` property."""
        ig = next((c for c in prop if isinstance(c.tag, str)), None)
        if ig is None:
            self.failed += 1
            return
        matrix = np.eye(4)
        ref = np.zeros(3)
        key = None
        for ch in ig:
            n = LN[ch.tag]
            if n == "transformationMatrix":
                v = _numbers(ch.text)
                if v is not None and len(v) == 16:
                    matrix = v.reshape(4, 4)
            elif n in ("relativeGMLGeometry", "relativeGeometry"):
                h = ch.get(XLINK_HREF)
                if h is not None:
                    key = h.rpartition("#")[2]
                    continue
                g = next((c for c in ch if isinstance(c.tag, str)), None)
                if g is None:
                    continue
                key = g.get(_ID0) or g.get(_ID1) or f"_implicit_{len(self.templates)}"
                self.templates[key] = self._template(g)
            elif n == "referencePoint":
                for pos in ch.iter("{*}pos", "{*}coordinates"):
                    v = _numbers((pos.text or "").replace(",", " "))
                    if v is not None and len(v) >= 2:
                        ref[: min(3, len(v))] = v[:3]
                    break
        if key is None:
            self.failed += 1
            return
        self.pending.append((key, matrix, ref, obj, sem, lod))

    def _template(self, g: Any) -> list[Rings]:
        polys: list[Rings] = []
        for poly in g.iter(POLY_TAGS):
            rings = [ring_coords(lr) for lr in poly.iter(RING_TAGS)]
            if rings and all(r is not None and len(r) >= 3 for r in rings):
                polys.append(rings)  # type: ignore[arg-type]
        return polys

    def finish(self, report: LoadReport) -> None:
        """Emit every instance (templates defined later in the file included)."""
        for key, m, ref, obj, sem, lod in self.pending:
            tmpl = self.templates.get(key)
            if tmpl is None:
                self.failed += 1
                continue
            rot, shift = m[:3, :3].T, m[:3, 3] + ref
            for rings in tmpl:
                self.store.add_rings([r @ rot + shift for r in rings], obj, sem, lod)
            self.instances += 1
        if self.failed:
            report.warn("implicit-geometry", f"{self.failed} implicit geometrie(s) without a usable template",
                        n=self.failed)
