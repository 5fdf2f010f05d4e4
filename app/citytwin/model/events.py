"""A small publish/subscribe bus of dataclass events (after MNE's ``ui_events``).

Docks, the viewport and feeds never hold references to each other; they publish
and subscribe to events on the bus of the scene. Callbacks run synchronously in
the publisher's thread; the Qt layer marshals to the GUI thread where needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

E = TypeVar("E")


@dataclass(frozen=True)
class SelectionChanged:
    layer: int  # index of the layer in the scene, -1 when cleared
    objects: tuple[int, ...]  # object indices in that layer's model


@dataclass(frozen=True)
class LayerAdded:
    layer: int


@dataclass(frozen=True)
class LayerRemoved:
    layer: int


@dataclass(frozen=True)
class LayerChanged:
    layer: int
    what: str  # "visible", "opacity", "color_by", "lod", "order"
    value: Any = None


@dataclass(frozen=True)
class TimeChanged:
    time: float  # seconds since the epoch, UTC


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
