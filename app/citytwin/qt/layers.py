"""Layers of the viewer: one loaded model (or its terrain part) with its visual and style."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.city import CityModel


@dataclass
class Hit:
    """A ray hit: layer index, object index in that layer's model, scene-relative point, ray parameter."""

    layer: int
    obj: int
    point: NDArray[np.float64]
    t: float
    cell: int = -1


@dataclass
class Layer:
    """One entry of the Layers dock. ``visual`` is the layer's VTK adapter
    (:class:`citytwin.render.visual.VtkCityVisual`); ``kind`` is ``city`` or ``terrain``."""

    name: str
    path: str
    model: CityModel
    visual: Any
    kind: str = "city"
    visible: bool = True
    opacity: float = 1.0
    color_by: str = "semantic"
    lod: str | float = "best"
    owner: Layer | None = None  # for a terrain layer split off a model: the layer listing its objects
    dataset: dict[str, Any] = field(default_factory=dict)  # how the scene file names this dataset

    def actors(self) -> list[Any]:
        """The layer's actors: the coloured one and, with textures, one per texture page."""
        return list(self.visual.actors())

    def attribute_names(self) -> list[str]:
        """Attribute keys that occur in the model, most frequent first."""
        counts: dict[str, int] = {}
        for a in self.model.objects.attributes:
            for k in a:
                counts[k] = counts.get(k, 0) + 1
        return sorted(counts, key=lambda k: (-counts[k], k))


TERRAIN_TYPES = frozenset({"TINRelief", "ReliefFeature", "MassPointRelief", "BreaklineRelief", "RasterRelief"})


def terrain_triangle_mask(model: CityModel) -> NDArray[np.bool_]:
    """Triangles that belong to terrain: objects of a relief type, or terrain-coded surfaces."""
    from ..model.semantics import SEMANTICS

    types = np.array([t in TERRAIN_TYPES for t in model.objects.types] + [False], dtype=bool)
    obj = model.tri_object
    by_type = types[np.where(obj >= 0, obj, len(types) - 1)]
    return by_type | (model.tri_semantic == SEMANTICS.index("Terrain"))


def triangle_subset(model: CityModel, mask: NDArray[np.bool_], suffix: str) -> CityModel:
    """A view of ``model`` drawing only the triangles in ``mask``. Vertices, polygons and
    the object table are shared, so object indices mean the same in both models."""
    from dataclasses import replace

    sub = replace(model, corners=model.corners[mask], tri_poly=model.tri_poly[mask], _cache={})
    sub.metadata = dict(model.metadata, part=suffix)
    return sub


def split_terrain(model: CityModel) -> tuple[CityModel, CityModel | None]:
    """``(city, terrain)``: terrain gets its own layer when the model mixes both."""
    mask = terrain_triangle_mask(model)
    if not mask.any() or mask.all():
        return model, None
    return triangle_subset(model, ~mask, "city"), triangle_subset(model, mask, "terrain")
