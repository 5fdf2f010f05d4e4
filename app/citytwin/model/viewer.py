"""The viewer model: everything the window shows, without Qt or VTK.

:class:`ViewerModel` holds the :class:`~citytwin.model.scene.Scene` (CRS, origin, the models as
read), the ordered :class:`~citytwin.model.layer.Layer` s with stable ids, the selection, the
camera asked for and the saved views, and the one :class:`~citytwin.model.clock.SceneClock`.
Every change goes through a method here and is published on :attr:`ViewerModel.bus` as a typed
event (:mod:`citytwin.model.events`). The window (``qt``) and the headless renderer
(``citytwin render``) both build the screen from a ViewerModel through the visual registry
of :mod:`citytwin.render.layer_visuals`, so both draw the same thing.

Patterned on napari's ``ViewerModel``, with typed dataclass events and no base classes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .city import CityModel
from .clock import SceneClock
from .colour_source import parse as parse_colour_source
from .events import (
    CameraChanged,
    ClockChange,
    EventBus,
    LayerAdded,
    LayerChanged,
    LayerProperty,
    LayerRemoved,
    LayersReordered,
    SelectionChanged,
    TimeChanged,
    ViewsChange,
    ViewsChanged,
)
from .layer import Layer, LayerKind, split_terrain
from .scene import Scene
from .scenefile import Camera, Dataset, View

__all__ = ["Selection", "ViewerModel"]


@dataclass(frozen=True)
class Selection:
    """The selected objects: indices into ``layer``'s model."""

    layer: Layer
    objects: tuple[int, ...]


class ViewerModel:
    """Layers, selection, camera, saved views and the scene clock of one viewer (see the module doc).

    Parameters
    ----------
    scene, clock, bus
        Existing ones to share (default: new).
    """

    def __init__(self, scene: Scene | None = None, clock: SceneClock | None = None,
                 bus: EventBus | None = None) -> None:
        self.scene = scene if scene is not None else Scene()
        self.clock = clock if clock is not None else SceneClock()
        self.bus = bus if bus is not None else EventBus()
        self._layers: list[Layer] = []
        self._by_id: dict[int, Layer] = {}
        self._next_id = 1
        self.selection: Selection | None = None
        self.camera: Camera | None = None  # the camera asked for (scene file, saved view), world coordinates
        self.views: list[View] = []
        self._told_time = math.nan

    # ------------------------------------------------------------------ layers: reading
    @property
    def layers(self) -> list[Layer]:
        """The layers, first to last (a copy)."""
        return list(self._layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(list(self._layers))

    def __len__(self) -> int:
        return len(self._layers)

    def layer(self, layer_id: int) -> Layer:
        """The layer with id ``layer_id`` (KeyError naming it when there is none)."""
        try:
            return self._by_id[layer_id]
        except KeyError:
            raise KeyError(f"no layer with id {layer_id}") from None

    def get(self, layer_id: int) -> Layer | None:
        return self._by_id.get(layer_id)

    def index(self, layer_id: int) -> int:
        """Position of the layer in the list (changes with reordering; the id does not)."""
        return self._layers.index(self.layer(layer_id))

    def of_kind(self, *kinds: LayerKind) -> list[Layer]:
        return [lay for lay in self._layers if lay.kind in kinds]

    # ------------------------------------------------------------------ layers: adding and removing
    def add_layer(self, kind: LayerKind, name: str, data: Any, *, dataset: Dataset | None = None,
                  owner: Layer | None = None, source: Any = None, visible: bool = True, opacity: float = 1.0,
                  color_by: str = "semantic", lod: str | float = "best", textures: bool = True,
                  extra: dict[str, Any] | None = None) -> Layer:
        """Add a layer at the end; publishes :class:`LayerAdded`."""
        layer = Layer(self._next_id, LayerKind(kind), name, data, dataset=dataset, visible=bool(visible),
                      opacity=_opacity(opacity), color_by=parse_colour_source(color_by).key(), lod=lod,
                      textures=bool(textures), owner=owner, source=source, extra=dict(extra or {}))
        self._next_id += 1
        self._layers.append(layer)
        self._by_id[layer.id] = layer
        self.bus.publish(LayerAdded(layer.id, layer.kind))
        return layer

    def add_model(self, model: CityModel, dataset: Dataset | None = None, name: str | None = None) -> list[Layer]:
        """Add a model read from ``dataset``'s file: one city layer, and a terrain layer when the
        model mixes terrain and other objects (its objects stay listed by the city layer, its
        ``owner``). The dataset's style applies (the terrain keeps semantic colours)."""
        ds = dataset if dataset is not None else Dataset(path=Path(str(model.metadata.get("path", ""))))
        self.scene.add(model)
        title = name or ds.name or Path(ds.path).name
        city, terrain = split_terrain(model)
        style: dict[str, Any] = {"visible": ds.visible, "opacity": ds.opacity, "lod": ds.lod,
                                 "textures": ds.textures}
        out = [self.add_layer(LayerKind.CITY, title, city, dataset=ds, source=model,
                              color_by=ds.color_by or "semantic", **style)]
        if terrain is not None:
            out.append(self.add_layer(LayerKind.TERRAIN, f"{title} — terrain", terrain, dataset=ds,
                                      owner=out[0], source=model, **style))
        return out

    def remove_layer(self, layer_id: int) -> None:
        """Remove a layer; its model leaves the scene once no other layer draws it. The selection
        is cleared first when it is on this layer's objects."""
        layer = self.layer(layer_id)
        sel = self.selection
        if sel is not None and (sel.layer is layer or sel.layer is layer.owner or sel.layer.owner is layer):
            self.clear_selection()
        self._layers.remove(layer)
        del self._by_id[layer_id]
        src = layer.source
        if src is not None and not any(lay.source is src for lay in self._layers):
            self.scene.models[:] = [m for m in self.scene.models if m is not src]
        self.bus.publish(LayerRemoved(layer.id, layer.kind))

    def clear(self) -> None:
        """Remove every layer (last first)."""
        for layer in reversed(self._layers):
            self.remove_layer(layer.id)

    def move_layer(self, layer_id: int, delta: int) -> bool:
        """Move a layer ``delta`` places (negative: towards the top); False when it cannot."""
        i = self.index(layer_id)
        j = i + int(delta)
        if not 0 <= j < len(self._layers) or j == i:
            return False
        lay = self._layers.pop(i)
        self._layers.insert(j, lay)
        self.bus.publish(LayersReordered(tuple(x.id for x in self._layers)))
        return True

    # ------------------------------------------------------------------ layers: state
    def _set(self, layer_id: int, what: LayerProperty, attr: str, value: Any) -> bool:
        layer = self.layer(layer_id)
        if getattr(layer, attr) == value and type(getattr(layer, attr)) is type(value):
            return False
        setattr(layer, attr, value)
        self.bus.publish(LayerChanged(layer.id, what, value))
        return True

    def set_visible(self, layer_id: int, visible: bool) -> bool:
        return self._set(layer_id, LayerProperty.VISIBLE, "visible", bool(visible))

    def set_opacity(self, layer_id: int, opacity: float) -> bool:
        return self._set(layer_id, LayerProperty.OPACITY, "opacity", _opacity(opacity))

    def set_color_by(self, layer_id: int, key: Any) -> bool:
        """Colour by a source's key (``ColourSourceError`` for a malformed one; the visual may still
        refuse an attribute the objects lack: the caller then sets the old key back)."""
        return self._set(layer_id, LayerProperty.COLOUR, "color_by", parse_colour_source(key).key())

    def set_lod(self, layer_id: int, lod: str | float) -> bool:
        if not isinstance(lod, str):
            lod = float(lod)
        elif lod not in ("best", "lowest"):
            raise ValueError(f"LoD must be 'best', 'lowest' or a number, got {lod!r}")
        return self._set(layer_id, LayerProperty.LOD, "lod", lod)

    def set_textures(self, layer_id: int, on: bool) -> bool:
        return self._set(layer_id, LayerProperty.TEXTURES, "textures", bool(on))

    def rename(self, layer_id: int, name: str) -> bool:
        return self._set(layer_id, LayerProperty.NAME, "name", str(name))

    def set_data(self, layer_id: int, data: Any) -> None:
        """Replace a layer's data (always published: the data may have changed in place)."""
        layer = self.layer(layer_id)
        layer.data = data
        self.bus.publish(LayerChanged(layer.id, LayerProperty.DATA, None))

    # ------------------------------------------------------------------ selection
    def select(self, layer_id: int, objects: int | tuple[int, ...]) -> None:
        """Select object(s) of a layer's model (an empty tuple or -1 clears)."""
        objs = (objects,) if isinstance(objects, int) else tuple(int(o) for o in objects)
        if not objs or objs[0] < 0:
            self.clear_selection()
            return
        layer = self.layer(layer_id)
        self.selection = Selection(layer, objs)
        self.bus.publish(SelectionChanged(layer.id, objs))

    def clear_selection(self) -> None:
        self.selection = None
        self.bus.publish(SelectionChanged(-1, ()))

    # ------------------------------------------------------------------ camera and views
    def set_camera(self, camera: Camera | None) -> None:
        """Ask for a camera (world coordinates); the screens apply it."""
        self.camera = camera
        self.bus.publish(CameraChanged(camera))

    def save_view(self, view: View) -> View:
        """Keep ``view`` (one of the same name is replaced)."""
        self.views = [v for v in self.views if v.name != view.name] + [view]
        self.bus.publish(ViewsChanged(ViewsChange.SAVED, tuple(v.name for v in self.views)))
        return view

    def delete_views(self) -> None:
        self.views = []
        self.bus.publish(ViewsChanged(ViewsChange.DELETED, ()))

    def set_views(self, views: list[View]) -> None:
        self.views = list(views)
        self.bus.publish(ViewsChanged(ViewsChange.REPLACED, tuple(v.name for v in self.views)))

    def view(self, name: str) -> View | None:
        """The saved view called ``name`` (case-insensitive), or None."""
        return next((v for v in self.views if v.name.lower() == name.lower()), None)

    # ------------------------------------------------------------------ the clock
    def _clock(self, what: ClockChange) -> None:
        t = self.clock.time()
        self._told_time = t
        self.bus.publish(TimeChanged(t, what))

    def set_time(self, t: float) -> None:
        """Scrub the clock to ``t`` (leaves live mode)."""
        self.clock.set_time(t)
        self._clock(ClockChange.TIME)

    def play(self, speed: float | None = None) -> None:
        self.clock.play(speed)
        self._clock(ClockChange.PLAY)

    def pause(self) -> None:
        self.clock.pause()
        self._clock(ClockChange.PAUSE)

    def go_live(self) -> None:
        self.clock.go_live()
        self._clock(ClockChange.LIVE)

    def set_speed(self, speed: float) -> None:
        self.clock.speed = speed
        self._clock(ClockChange.SPEED)

    def set_clock_bounds(self, bounds: tuple[float, float] | None, loop: bool | None = None) -> None:
        self.clock.bounds = bounds
        if loop is not None:
            self.clock.loop = bool(loop)
        self._clock(ClockChange.BOUNDS)

    def tick(self) -> bool:
        """Once per frame: publish :class:`TimeChanged` when the (playing or live) clock moved."""
        t = self.clock.time()
        if t == self._told_time:
            return False
        self._told_time = t
        self.bus.publish(TimeChanged(t, ClockChange.TIME))
        return True

    # ------------------------------------------------------------------ scene file
    def datasets(self) -> list[Dataset]:
        """The city layers as a scene file lists them (terrain split off a model is not listed)."""
        return [lay.to_dataset() for lay in self._layers if lay.kind == LayerKind.CITY]


def _opacity(value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"opacity must be a number between 0 and 1, got {value!r}")
    return min(max(v, 0.0), 1.0)
