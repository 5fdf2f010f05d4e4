"""Colours: the semantic colour table and thematic colouring by attribute (pure numpy).

Everything here returns plain ``uint8`` arrays: per semantic code, per object or
per triangle. The renderer only copies ``per_object[cell_object]`` (or
``SEMANTIC_RGBA[cell_semantic]``) into its existing colour array, so restyling
never rebuilds geometry.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .semantics import SEMANTICS, semantic_code

_BUILDING = SEMANTICS.index("Building")

__all__ = [
    "FLAT_ROOF_RGB",
    "HIGHLIGHT_RGB",
    "NEUTRAL_RGB",
    "SEMANTIC_RGBA",
    "LegendEntry",
    "Styling",
    "attribute_values",
    "cell_colors",
    "color_by_attribute",
    "colormap",
    "highlight_colors",
    "semantic_styling",
]

NEUTRAL_RGB = (184, 184, 180)
HIGHLIGHT_RGB = (255, 196, 0)
FLAT_ROOF_RGB = (122, 116, 112)  # roofs that face straight up: bitumen/gravel grey-brown


def _hex(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


_SEMANTIC_HEX: dict[str, str] = {
    "Unknown": "#c9c6c0",
    "RoofSurface": "#b5533c",  # terracotta
    "WallSurface": "#f0ebe1",  # light warm grey
    "GroundSurface": "#4a4a48",  # dark grey
    "ClosureSurface": "#d8d8e0",
    "OuterCeilingSurface": "#d9d2c4",
    "OuterFloorSurface": "#9a958c",
    "Window": "#a9cbe6",  # light blue
    "Door": "#7a5230",  # brown
    "InteriorWallSurface": "#efe9dd",
    "CeilingSurface": "#f2efe8",
    "FloorSurface": "#a89f91",
    "TrafficArea": "#5d6166",  # dark grey road
    "AuxiliaryTrafficArea": "#a7a49c",  # pavement
    "Marking": "#f3f1ea",
    "Hole": "#3c3c3c",
    "WaterSurface": "#4f8fc0",  # blue
    "WaterGroundSurface": "#546e7a",
    "WaterClosureSurface": "#8fb8d8",
    "Terrain": "#9aa37e",  # olive / green-grey
    "Road": "#6a6d70",
    "Railway": "#6b5a4e",
    "Vegetation": "#5a8f3e",  # green
    "Water": "#4f8fc0",
    "LandUse": "#b8bf94",
    "Bridge": "#9e9a93",
    "Tunnel": "#7d7870",
    "CityFurniture": "#8c6d9e",
    "Installation": "#c2b8a3",
    "Generic": "#c7b9a6",
    "Building": "#ddd6c8",
}

SEMANTIC_RGBA: NDArray[np.uint8] = np.array(
    [(*_hex(_SEMANTIC_HEX.get(name, "#c9c6c0")), 255) for name in SEMANTICS], dtype=np.uint8
)
"""``(len(SEMANTICS), 4)`` colour of every semantic code."""

# viridis sampled at 0, 0.1, ..., 1.0 (matplotlib's table)
_VIRIDIS = np.array([_hex(h) for h in (
    "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
    "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
)], dtype=np.float64)
# a muted categorical palette (Tableau 10)
PALETTE: tuple[tuple[int, int, int], ...] = tuple(_hex(h) for h in (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
))
OTHER_RGB = (120, 120, 120)


@dataclass
class LegendEntry:
    """One line of a legend: a label and its colour (for a continuous map, a stop)."""

    label: str
    rgba: tuple[int, int, int, int]
    value: Any = None


@dataclass
class Styling:
    """Per-object colours for one colour mode, and the legend that explains them.

    ``rgba`` is ``(n_objects, 4)`` uint8; ``has_value`` marks objects that carry the
    attribute (always True in semantic mode, where ``rgba`` is unused).
    """

    mode: str  # "semantic" or the attribute name
    kind: str  # "semantic", "numeric", "categorical" or "empty"
    rgba: NDArray[np.uint8]
    has_value: NDArray[np.bool_]
    legend: list[LegendEntry] = field(default_factory=list)
    value_range: tuple[float, float] | None = None
    context_types: frozenset[str] = frozenset()  # object types coloured semantically (no such attribute)


def colormap(t: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Viridis colours ``(n, 3)`` uint8 of values in ``[0, 1]`` (NaN -> neutral grey)."""
    t = np.asarray(t, dtype=np.float64)
    nan = ~np.isfinite(t)
    x = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0) * (len(_VIRIDIS) - 1)
    i0 = np.minimum(np.floor(x).astype(np.int64), len(_VIRIDIS) - 2)
    f = (x - i0)[:, None]
    rgb = _VIRIDIS[i0] * (1.0 - f) + _VIRIDIS[i0 + 1] * f
    out = np.rint(rgb).astype(np.uint8)
    out[nan] = NEUTRAL_RGB
    return out


def _unwrap(v: Any) -> Any:
    if isinstance(v, dict):  # CityGML measures: {"value": 12.3, "uom": "m"}
        v = v.get("value")
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    return v


def attribute_values(objects: Any, name: str, inherit: bool = True) -> list[Any]:
    """The value of attribute ``name`` for every object (None where absent).

    With ``inherit``, an object without the attribute takes its nearest ancestor's
    (a BuildingPart shows its Building's ``function``).
    """
    attrs = objects.attributes
    vals = [_unwrap(a.get(name)) if a else None for a in attrs]
    if inherit:
        parents = objects.parents
        for i in range(len(vals)):
            if vals[i] is None:
                p = int(parents[i])
                while p >= 0 and vals[p] is None:
                    p = int(parents[p])
                if p >= 0:
                    vals[i] = vals[p]
    return vals


def _as_float(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def _nice(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:.0f}"
    return f"{v:.3g}"


def semantic_styling(n_objects: int) -> Styling:
    """The default mode: colour by semantic surface type."""
    legend = []
    for i, name in enumerate(SEMANTICS):
        r, g, b, a = (int(c) for c in SEMANTIC_RGBA[i])
        legend.append(LegendEntry(name, (r, g, b, a)))
    return Styling("semantic", "semantic", np.zeros((n_objects, 4), np.uint8), np.ones(n_objects, bool), legend)


def color_by_attribute(
    objects: Any,
    name: str,
    value_range: tuple[float, float] | None = None,
    max_categories: int = 10,
    numeric: bool | None = None,
    types: Iterable[str] | str | None = "auto",
) -> Styling:
    """Colour objects by attribute ``name``.

    Numbers (or numeric strings) with more than a handful of distinct values get a
    continuous viridis map over ``value_range`` (default: the 2nd-98th percentile
    of the values); anything else a categorical palette, most frequent categories
    first, the rest as "other". Objects without the attribute are neutral grey;
    object types that never carry it are listed in ``context_types`` so that the
    renderer can keep them (terrain, roads) in their semantic colours.

    Parameters
    ----------
    objects
        An :class:`~citytwin.model.objects.ObjectTable`.
    name
        Attribute name.
    value_range
        ``(vmin, vmax)`` of the continuous map.
    max_categories
        Categories that get their own colour.
    numeric
        Force numeric (True) or categorical (False) treatment.
    types
        Object types to colour; the others stay in their semantic colours as
        context. ``"auto"`` (default): building-like types (Building, BuildingPart,
        ...) when any of them carries the attribute, else every type. None: all.

    Returns
    -------
    Styling
    """
    n = len(objects)
    vals = attribute_values(objects, name)
    present = np.array([v is not None and v != "" for v in vals], dtype=bool)
    if types == "auto":
        building = {t for t in set(objects.types) if semantic_code(t) == _BUILDING}
        has = {t for t, p in zip(objects.types, present) if p}
        types = building if building & has else None
    if types is not None:
        keep = set([types] if isinstance(types, str) else types)
        present &= np.array([t in keep for t in objects.types], dtype=bool)
        vals = [v if p else None for v, p in zip(vals, present)]
    types_with = {t for t, p in zip(objects.types, present) if p}
    context = frozenset(set(objects.types) - types_with)
    rgba = np.zeros((n, 4), np.uint8)
    rgba[:, :3] = NEUTRAL_RGB
    rgba[:, 3] = 255
    if not present.any():
        return Styling(name, "empty", rgba, present, [LegendEntry("no value", (*NEUTRAL_RGB, 255))],
                       context_types=context)
    floats = np.array([(_as_float(v) if p else None) for v, p in zip(vals, present)], dtype=np.float64)
    all_numeric = bool(np.isfinite(floats[present]).all())
    if numeric is None:
        has_real_numbers = any(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v, p in zip(vals, present) if p
        )
        distinct = len(np.unique(floats[present])) if all_numeric else 0
        numeric = all_numeric and (has_real_numbers or distinct > 12) and distinct > 1
    legend: list[LegendEntry] = []
    if numeric:
        good = present & np.isfinite(floats)
        if value_range is None:
            lo, hi = np.percentile(floats[good], [2, 98]) if good.sum() > 20 else (
                floats[good].min(), floats[good].max())
            lo, hi = float(lo), float(hi)
        else:
            lo, hi = float(value_range[0]), float(value_range[1])
        span = hi - lo if hi > lo else 1.0
        t = np.where(good, (floats - lo) / span, np.nan)
        rgba[:, :3] = colormap(t)
        for k in range(5):
            v = lo + span * k / 4
            c = colormap(np.array([k / 4]))[0]
            legend.append(LegendEntry(_nice(v), (int(c[0]), int(c[1]), int(c[2]), 255), v))
        legend.append(LegendEntry("no value", (*NEUTRAL_RGB, 255)))
        return Styling(name, "numeric", rgba, good, legend, (lo, hi), context)
    labels = [str(v) if p else "" for v, p in zip(vals, present)]
    freq = Counter(label for label, p in zip(labels, present) if p)
    ranked = sorted(freq, key=lambda s: (-freq[s], s))
    own = ranked[:max_categories] if len(ranked) <= max_categories else ranked[: max_categories - 1]
    colour = {c: PALETTE[k % len(PALETTE)] for k, c in enumerate(own)}
    cat_idx = {c: k for k, c in enumerate(own)}
    table = np.array([*(colour[c] for c in own), OTHER_RGB, NEUTRAL_RGB], dtype=np.uint8)
    idx = np.array(
        [cat_idx.get(label, len(own)) if p else len(own) + 1 for label, p in zip(labels, present)], dtype=np.int64
    )
    rgba[:, :3] = table[idx]
    legend = [LegendEntry(c, (*colour[c], 255), c) for c in own]
    if len(ranked) > len(own):
        legend.append(LegendEntry(f"other ({len(ranked) - len(own)})", (*OTHER_RGB, 255)))
    legend.append(LegendEntry("no value", (*NEUTRAL_RGB, 255)))
    return Styling(name, "categorical", rgba, present, legend, None, context)


def cell_colors(
    styling: Styling,
    cell_object: NDArray[np.integer],
    cell_semantic: NDArray[np.integer],
    object_types: list[str] | None = None,
    shade_semantics: bool = True,
    cell_flat: NDArray[np.bool_] | None = None,
) -> NDArray[np.uint8]:
    """Per-cell RGB (``(n_cells, 3)`` uint8) for a styling.

    Semantic mode looks up ``SEMANTIC_RGBA``. Thematic modes use the object's colour;
    objects of ``context_types`` keep their semantic colour, and with
    ``shade_semantics`` roofs are drawn a little darker than walls so that shapes
    still read in a flat colour. ``cell_flat`` marks cells facing straight up: in
    semantic mode such roofs get ``FLAT_ROOF_RGB`` (flat roofs are rarely tiled).
    """
    sem = np.asarray(cell_semantic, dtype=np.intp)
    if styling.kind == "semantic":
        out = SEMANTIC_RGBA[sem, :3].copy()
        if cell_flat is not None:
            out[cell_flat & (sem == SEMANTICS.index("RoofSurface"))] = FLAT_ROOF_RGB
        return out
    obj = np.asarray(cell_object, dtype=np.intp)
    out = styling.rgba[obj, :3].copy()
    if shade_semantics:
        factor = np.ones(len(SEMANTICS), dtype=np.float32)
        factor[SEMANTICS.index("RoofSurface")] = 0.82
        factor[SEMANTICS.index("GroundSurface")] = 0.6
        out = np.rint(out * factor[sem][:, None]).astype(np.uint8)
    if styling.context_types and object_types is not None:
        ctx_obj = np.array([t in styling.context_types for t in object_types], dtype=bool)
        ctx = ctx_obj[obj]
        out[ctx] = SEMANTIC_RGBA[sem[ctx], :3]
    return out


def highlight_colors(base: NDArray[np.uint8], mask: NDArray[np.bool_], rgb: tuple[int, int, int] = HIGHLIGHT_RGB,
                     strength: float = 0.75) -> NDArray[np.uint8]:
    """``base`` with the cells in ``mask`` blended towards the highlight colour."""
    out = base.copy()
    if mask.any():
        b = base[mask].astype(np.float32)
        out[mask] = np.rint(b * (1.0 - strength) + np.asarray(rgb, np.float32) * strength).astype(np.uint8)
    return out
