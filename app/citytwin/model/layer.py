"""One layer of the viewer model: its stable id, kind and state (no Qt, no VTK).

A :class:`Layer` owns what the user set for it (name, visibility, opacity, colour source,
LoD, textures), how the scene file names its dataset (:class:`~citytwin.model.scenefile.Dataset`)
and its data: a :class:`~citytwin.model.city.CityModel` for city and terrain layers, a
:class:`~citytwin.model.sensor_spec.SensorLayerSpec` for sensor layers. Its visual lives in
``render`` (:mod:`citytwin.render.layer_visuals`), found by the layer's id.

Layers are changed through :class:`~citytwin.model.viewer.ViewerModel`, which publishes a typed
event for each change; reading them is free.

A new kind of layer (a simulation result, a point cloud, scenario edits, streamed tiles) is a
:class:`LayerKind` member plus a visual factory registered for it in
:func:`citytwin.render.layer_visuals.register_visual`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .city import CityModel
from .scenefile import Dataset

__all__ = ["TERRAIN_TYPES", "Layer", "LayerKind", "split_terrain", "terrain_triangle_mask", "triangle_subset"]


class LayerKind(StrEnum):
    """What a layer holds (the value is how the Layers dock and the tests name it)."""

    CITY = "city"  #: a city model's objects (a CityModel)
    TERRAIN = "terrain"  #: the terrain triangles split off a city model (shares its object table)
    SENSORS = "sensors"  #: a sensor feed (a SensorLayerSpec)
    RESULT = "result"  #: a simulation result drawn on its own (sun hours, flood water): reserved
    POINTS = "points"  #: a point cloud: reserved
    SCENARIO = "scenario"  #: what-if edits of a scene: reserved
    TILES = "tiles"  #: streamed tiles: reserved


@dataclass(eq=False)
class Layer:
    """One layer; ``id`` never changes and is never reused within a :class:`ViewerModel`.

    ``owner`` is the layer a terrain layer was split off (its objects are listed there);
    ``source`` the model as read (what :class:`~citytwin.model.scene.Scene` holds: the city
    and terrain layers of one file share it). Compared by identity.
    """

    id: int
    kind: LayerKind
    name: str
    data: Any
    dataset: Dataset | None = None
    visible: bool = True
    opacity: float = 1.0
    color_by: str = "semantic"
    lod: str | float = "best"
    textures: bool = True
    owner: Layer | None = None
    source: Any = None
    extra: dict[str, Any] = field(default_factory=dict)  # room for a new kind's own settings

    @property
    def path(self) -> str:
        """The dataset's file (or the sensor feed's source), or ``""``."""
        if self.dataset is not None:
            return str(self.dataset.path)
        return str(getattr(self.data, "source", "") or "")

    @property
    def model(self) -> CityModel:
        """The city model drawn by a city or terrain layer."""
        if not isinstance(self.data, CityModel):
            raise TypeError(f"layer {self.name!r} ({self.kind}) holds no city model")
        return self.data

    @property
    def has_model(self) -> bool:
        return isinstance(self.data, CityModel)

    def attribute_names(self) -> list[str]:
        """Attribute keys that occur in the model, most frequent first."""
        if not self.has_model:
            return []
        counts: dict[str, int] = {}
        for a in self.model.objects.attributes:
            for k in a:
                counts[k] = counts.get(k, 0) + 1
        return sorted(counts, key=lambda k: (-counts[k], k))

    def to_dataset(self) -> Dataset:
        """How a scene file writes this layer (city layers)."""
        ds = self.dataset if self.dataset is not None else Dataset(path=Path(self.path))
        return Dataset(path=Path(ds.path), crs=ds.crs, name=ds.name or self.name, visible=self.visible,
                       opacity=self.opacity, color_by=self.color_by, lod=self.lod, textures=self.textures)


TERRAIN_TYPES = frozenset({"TINRelief", "ReliefFeature", "MassPointRelief", "BreaklineRelief", "RasterRelief"})


def terrain_triangle_mask(model: CityModel) -> NDArray[np.bool_]:
    """Triangles that belong to terrain: objects of a relief type, or terrain-coded surfaces."""
    from .semantics import SEMANTICS

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
