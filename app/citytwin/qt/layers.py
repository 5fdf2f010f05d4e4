"""The window's handle on a layer: the viewer model's layer (its state) and its visual.

The state lives in :class:`citytwin.model.layer.Layer` (changed through the
:class:`~citytwin.model.viewer.ViewerModel`, which publishes an event for each change); the
visual in :class:`citytwin.render.layer_visuals.LayerVisuals`. A :class:`Layer` here only puts
the two side by side for the docks, the viewport and the tests (``win.layers``); it holds nothing
of its own. Assigning ``visible``, ``opacity``, ``color_by`` or ``lod`` goes through the viewer model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.city import CityModel
from ..model.layer import TERRAIN_TYPES, LayerKind, split_terrain, terrain_triangle_mask, triangle_subset
from ..model.layer import Layer as ModelLayer
from ..model.scenefile import Dataset

__all__ = ["TERRAIN_TYPES", "Hit", "Layer", "split_terrain", "terrain_triangle_mask", "triangle_subset"]


@dataclass
class Hit:
    """A ray hit: layer index, object index in that layer's model, scene-relative point, ray parameter."""

    layer: int
    obj: int
    point: NDArray[np.float64]
    t: float
    cell: int = -1


class Layer:
    """One entry of the Layers dock: the model layer ``state`` and its ``visual``
    (:class:`citytwin.render.visual.VtkCityVisual` for city and terrain layers).

    Made by the window for each layer of its viewer model (``viewer`` and ``handles``, the
    window's handles by layer id, given); made alone (``Layer(name, path, model, visual)``) it
    wraps a model layer of its own, for tests and tables.
    """

    def __init__(self, name: str, path: str, model: CityModel | None, visual: Any = None, kind: str = "city",
                 *, state: ModelLayer | None = None, viewer: Any = None, handles: dict[int, Layer] | None = None
                 ) -> None:
        if state is None:
            state = ModelLayer(0, LayerKind(kind), name, model, dataset=Dataset(path=Path(path), name=name))
        self.state = state
        self.visual = visual
        self._viewer = viewer
        self._handles = handles

    def __repr__(self) -> str:
        return f"Layer(id={self.state.id}, {self.state.kind}, {self.state.name!r})"

    @property
    def id(self) -> int:
        return self.state.id

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def kind(self) -> str:
        return self.state.kind

    @property
    def path(self) -> str:
        return self.state.path

    @property
    def model(self) -> CityModel:
        return self.state.model

    @property
    def owner(self) -> Layer | None:
        own = self.state.owner
        if own is None or self._handles is None:
            return None
        return self._handles.get(own.id)

    @property
    def dataset(self) -> dict[str, Any]:
        """How the scene file names the dataset (a copy: change it through the viewer model)."""
        ds = self.state.dataset
        if ds is None:
            return {}
        return {"path": str(ds.path), "crs": ds.crs, "name": ds.name, "textures": self.state.textures}

    def _set(self, method: str, value: Any, attr: str) -> None:
        if self._viewer is not None:
            getattr(self._viewer, method)(self.state.id, value)
        else:
            setattr(self.state, attr, value)

    @property
    def visible(self) -> bool:
        return self.state.visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._set("set_visible", bool(value), "visible")

    @property
    def opacity(self) -> float:
        return self.state.opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        self._set("set_opacity", float(value), "opacity")

    @property
    def color_by(self) -> str:
        return self.state.color_by

    @color_by.setter
    def color_by(self, value: str) -> None:
        self._set("set_color_by", value, "color_by")

    @property
    def lod(self) -> str | float:
        return self.state.lod

    @lod.setter
    def lod(self, value: str | float) -> None:
        self._set("set_lod", value, "lod")

    def actors(self) -> list[Any]:
        """The layer's actors: the coloured one and, with textures, one per texture page."""
        return list(self.visual.actors())

    def attribute_names(self) -> list[str]:
        """Attribute keys that occur in the model, most frequent first."""
        return self.state.attribute_names()
