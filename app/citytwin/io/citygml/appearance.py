"""Appearances: X3DMaterial and ParameterizedTexture, collected while streaming and
resolved against polygon / ring ids at the end (they may come before or after the
geometry, inside a city object or as global ``appearanceMember``)."""

from __future__ import annotations

import os
from array import array
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
from numpy.typing import NDArray

from ...model.builder import CityModelBuilder
from .geometry import PolygonStore
from .names import LN, XLINK_HREF

_COLOURS = ("diffuseColor", "emissiveColor", "specularColor")
_NUMBERS = ("ambientIntensity", "shininess", "transparency")
_BOOLS = ("isSmooth", "isFront")


def _uv(text: str | None) -> NDArray[np.float32] | None:
    if not text:
        return None
    try:
        arr = np.fromstring(text, sep=" ")
    except ValueError:
        return None
    if len(arr) % 2:
        return None
    return arr.reshape(-1, 2).astype(np.float32)


def _back_side(sd: Any) -> bool:
    """Surface data for the back side (``isFront`` false): not drawn on front faces."""
    for ch in sd:
        if LN[ch.tag] == "isFront":
            return (ch.text or "").strip().lower() in ("false", "0")
    return False


class Appearances:
    """Materials and textures of the selected theme, with their targets."""

    def __init__(self, builder: CityModelBuilder, base_dir: Path) -> None:
        self.b = builder
        self.base = base_dir
        self.theme: str | None = None
        self.other_themes: list[str] = []
        self.materials: list[tuple[int, list[str]]] = []  # (material index, target ids) still open
        self.unsettled = 0
        self._mat_ranges = array("q")  # settled targets: slot start, slot stop, material, ...
        # (texture index, polygon id, [(ring id, uv)])
        self.tex_targets: list[tuple[int, str, list[tuple[str | None, NDArray[np.float32]]]]] = []
        self._mat_index: dict[tuple[Any, ...], int] = {}
        self._raw_index: dict[tuple[tuple[str, str], ...], int] = {}
        self._tex_index: dict[str, int] = {}
        self.skipped: dict[str, int] = {}

    # ------------------------------------------------------------------ parsing
    def add(self, app: Any) -> None:
        """One ``app:Appearance`` element."""
        theme = ""
        for ch in app:
            if LN[ch.tag] == "theme" and ch.text:
                theme = ch.text.strip()
                break
        # appearances without a theme always apply; of the named themes the first is kept
        if theme:
            if not self.theme:
                self.theme = theme
            elif theme != self.theme:
                if theme not in self.other_themes:
                    self.other_themes.append(theme)
                return
        elif self.theme is None:
            self.theme = ""
        for prop in app:
            if LN[prop.tag] not in ("surfaceDataMember", "surfaceData"):
                continue
            if prop.get(XLINK_HREF) is not None:  # shared surface data: not followed
                self.skipped["xlink"] = self.skipped.get("xlink", 0) + 1
            for sd in prop:
                name = LN[sd.tag]
                if name in ("X3DMaterial", "ParameterizedTexture") and _back_side(sd):
                    self.skipped["backside"] = self.skipped.get("backside", 0) + 1
                    continue
                if name == "X3DMaterial":
                    self._material(sd)
                elif name == "ParameterizedTexture":
                    self._texture(sd)
                elif name:
                    self.skipped[name] = self.skipped.get(name, 0) + 1

    def _material(self, sd: Any) -> None:
        raw = []
        targets: list[str] = []
        for ch in sd:
            n = LN[ch.tag]
            t = ch.text
            if n == "target":
                if t:
                    targets.append(t.strip())
            elif t is not None:
                raw.append((n, t))
        if not targets:
            return
        rkey = tuple(raw)
        idx = self._raw_index.get(rkey)
        if idx is None:
            idx = self._new_material(raw)
            self._raw_index[rkey] = idx
        self.materials.append((idx, targets))

    def _new_material(self, raw: list[tuple[str, str]]) -> int:
        mat: dict[str, Any] = {}
        for n, t in raw:
            try:
                if n in _COLOURS:
                    mat[n] = [float(v) for v in t.split()][:3]
                elif n in _NUMBERS:
                    mat[n] = float(t)
                elif n in _BOOLS:
                    mat[n] = t.strip().lower() in ("true", "1")
            except ValueError:
                continue
        key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in mat.items()))
        idx = self._mat_index.get(key)
        if idx is None:
            idx = self.b.add_material(mat)
            self._mat_index[key] = idx
        return idx

    def _image(self, uri: str, extra: dict[str, Any]) -> int:
        idx = self._tex_index.get(uri)
        if idx is not None:
            return idx
        u = unquote(uri.strip()).replace("\\", "/")
        if u.lower().startswith("file://"):
            u = u[7:]
        remote = "://" in u
        path = u if remote else os.path.normpath(os.path.join(self.base, u))
        found = (not remote) and os.path.isfile(path)
        idx = self.b.add_texture(path, found, **extra)
        self._tex_index[uri] = idx
        return idx

    def _texture(self, sd: Any) -> None:
        uri = None
        extra: dict[str, Any] = {}
        targets = []
        for ch in sd:
            n = LN[ch.tag]
            if n == "imageURI":
                uri = (ch.text or "").strip()
            elif n in ("mimeType", "wrapMode"):
                if ch.text:
                    extra[n] = ch.text.strip()
            elif n == "target":  # 1.0 / 2.0: <target uri="#poly"><TexCoordList>...
                targets.append((ch.get("uri") or "", ch))
            elif n == "textureParameterization":  # 3.0: TextureAssociation
                for assoc in ch:
                    poly = ""
                    for a in assoc:
                        if LN[a.tag] == "target":
                            poly = (a.text or a.get(XLINK_HREF) or "").strip()
                            break
                    targets.append((poly, assoc))
        if not uri or not targets:
            return
        tidx = self._image(uri, extra)
        for poly, el in targets:
            rings: list[tuple[str | None, NDArray[np.float32]]] = []
            for tcl in el.iter("{*}TexCoordList"):
                pending_uv: list[NDArray[np.float32] | None] = []
                for c in tcl:
                    n = LN[c.tag]
                    if n == "textureCoordinates":
                        uv = _uv(c.text)
                        ring = c.get("ring")
                        if ring is not None:  # 1.0 / 2.0
                            if uv is not None:
                                rings.append((ring, uv))
                        else:
                            pending_uv.append(uv)
                    elif n == "ring" and pending_uv:  # 3.0: pairs of (coordinates, ring)
                        uv = pending_uv.pop(0)
                        if uv is not None:
                            rings.append(((c.text or "").strip(), uv))
                for uv in pending_uv:
                    if uv is not None:
                        rings.append((None, uv))
            if rings:
                self.tex_targets.append((tidx, poly, rings))
            else:
                self.skipped["TexCoordGen"] = self.skipped.get("TexCoordGen", 0) + 1

    # ---------------------------------------------------------------- resolving
    def settle(self, store: PolygonStore) -> None:
        """Turn material targets whose polygons are known into slot ranges (less memory)."""
        ranges = self._mat_ranges
        still = []
        for idx, targets in self.materials:
            rest = []
            for t in targets:
                s = store.slots(t)
                if s is None:
                    rest.append(t)
                else:
                    ranges.extend((s.start, s.stop, idx))
            if rest:
                still.append((idx, rest))
        self.materials = still
        self.unsettled = len(still)

    def resolve(
        self, store: PolygonStore
    ) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float32] | None, int]:
        """Per-slot material and texture, per raw corner uv; and the count of unknown targets."""
        n = len(store)
        material = np.full(n, -1, np.int32)
        texture = np.full(n, -1, np.int32)
        missing = 0
        mr = self._mat_ranges
        for k in range(0, len(mr), 3):
            material[mr[k] : mr[k + 1]] = mr[k + 2]
        for idx, targets in self.materials:
            for t in targets:
                s = store.slots(t)
                if s is None:
                    missing += 1
                else:
                    material[s.start : s.stop] = idx
        uv_raw = None
        if self.tex_targets:
            starts = store.ring_starts()
            sizes = np.asarray(store.ring_sizes, np.int64)
            first = store.poly_first_ring()
            nrings = store.poly_nrings
            uv_raw = np.full((int(sizes.sum()), 2), np.nan, np.float32)
            for tidx, poly, rings in self.tex_targets:
                s = store.slots(poly)
                if s is None or len(s) != 1:
                    missing += 1
                    continue
                p = s.start
                if nrings[p] == 0:
                    continue
                texture[p] = tidx
                for k, (ring, uv) in enumerate(rings):
                    r = store.ring_ids.get(ring.rpartition("#")[2]) if ring else None
                    if r is None or not (first[p] <= r < first[p] + nrings[p]):
                        if k >= nrings[p]:
                            continue
                        r = int(first[p] + k)
                    size = int(sizes[r])
                    m = min(size, len(uv))
                    uv_raw[starts[r] : starts[r] + m] = uv[:m]
                    if m == size - 1:  # uv list without the closing point
                        uv_raw[starts[r] + m] = uv[0]
        return material, texture, uv_raw, missing
