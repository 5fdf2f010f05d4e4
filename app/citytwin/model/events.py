"""Typed events of the viewer model and the small publish/subscribe bus that carries them.

:class:`~citytwin.model.viewer.ViewerModel` publishes one of these for every change it makes;
docks, the viewport, the render adapters (:mod:`citytwin.render.layer_visuals`) and feeds
subscribe and never hold references to each other. Layers are addressed by their stable id
(:attr:`citytwin.model.layer.Layer.id`), never by a list index, and what changed is an enum.
Callbacks run synchronously in the publisher's thread; the Qt layer marshals to the GUI thread
where needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

E = TypeVar("E")

__all__ = [
    "CameraChanged",
    "ClockChange",
    "EventBus",
    "LayerAdded",
    "LayerChanged",
    "LayerProperty",
    "LayerRemoved",
    "LayersReordered",
    "SelectionChanged",
    "TimeChanged",
    "ViewsChange",
    "ViewsChanged",
]


class LayerProperty(StrEnum):
    """What :class:`LayerChanged` reports (the values are the scene file's / the old names)."""

    NAME = "name"
    VISIBLE = "visible"
    OPACITY = "opacity"
    COLOUR = "color_by"  #: the colour source's key (:mod:`citytwin.model.colour_source`)
    LOD = "lod"
    TEXTURES = "textures"
    DATA = "data"  #: the layer's data was replaced (e.g. a sensor layer's spec edited)


class ClockChange(StrEnum):
    """What :class:`TimeChanged` reports about the scene clock."""

    TIME = "time"  #: the scene time moved (scrubbed, or advanced while playing)
    PLAY = "play"
    PAUSE = "pause"
    LIVE = "live"  #: follows the wall clock again
    SPEED = "speed"
    BOUNDS = "bounds"  #: the span the clock may run over (a replay's) or its looping changed


class ViewsChange(StrEnum):
    SAVED = "saved"
    DELETED = "deleted"
    REPLACED = "replaced"  #: a scene file brought its own


@dataclass(frozen=True)
class SelectionChanged:
    layer: int  # id of the layer, -1 when cleared
    objects: tuple[int, ...]  # object indices in that layer's model


@dataclass(frozen=True)
class LayerAdded:
    layer: int  # id
    kind: str  # a LayerKind


@dataclass(frozen=True)
class LayerRemoved:
    layer: int  # id (the layer is gone from the model when this is published)
    kind: str


@dataclass(frozen=True)
class LayerChanged:
    layer: int  # id
    what: LayerProperty
    value: Any = None


@dataclass(frozen=True)
class LayersReordered:
    order: tuple[int, ...]  # layer ids, first to last


@dataclass(frozen=True)
class TimeChanged:
    time: float  # seconds since the epoch, UTC
    what: ClockChange = ClockChange.TIME


@dataclass(frozen=True)
class CameraChanged:
    camera: Any  # scenefile.Camera (world coordinates) or None


@dataclass(frozen=True)
class ViewsChanged:
    what: ViewsChange
    names: tuple[str, ...]  # the saved views' names after the change


@dataclass
class EventBus:
    """Subscribe callbacks by event type; publish instances."""

    _subs: dict[type, list[Callable[[Any], None]]] = field(default_factory=lambda: defaultdict(list))

    def subscribe(self, event_type: type[E], callback: Callable[[E], None]) -> Callable[[], None]:
        """Register ``callback``; returns a function that unsubscribes it."""
        self._subs[event_type].append(callback)

        def unsubscribe() -> None:
            if callback in self._subs[event_type]:
                self._subs[event_type].remove(callback)

        return unsubscribe

    def publish(self, event: Any) -> None:
        for cb in list(self._subs.get(type(event), ())):
            cb(event)
