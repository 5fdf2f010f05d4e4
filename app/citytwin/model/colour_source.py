"""Colour sources: what a layer is coloured by, as typed objects, and the registry of those on offer.

A colour source is one of

- :class:`SemanticColour`: by semantic surface class (key ``"semantic"``);
- :class:`AttributeColour`: by an attribute of the objects (key: the attribute's name); whether
  the colours are continuous (viridis) or categorical (a palette) is decided from the values by
  :func:`~citytwin.model.style.color_by_attribute`;
- :class:`SensorColour`: by the values of the sensors of one observed property, from the nearest
  sensor or by inverse-distance weighting, on the buildings (a value per object), the ground
  (a value per vertex) or both (key ``sensors:<method>[/<target>]:<property>``; no target means
  buildings, the key scene files had before ground colouring).

:meth:`key` gives the string that scene files and the Layers dock use, :func:`parse` reads any
such string back (``parse(s.key()) == s``); a malformed sensor key raises
:class:`ColourSourceError`. A :class:`ColourSourceRegistry` lists the sources on offer for a
layer: semantic and the attributes by default, further providers (the sensor layers; simulation
results later) registered by name. New key kinds join with :func:`register_kind`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "SEMANTIC_KEY",
    "SENSOR_METHODS",
    "SENSOR_PREFIX",
    "SENSOR_TARGETS",
    "TARGET_SUFFIX",
    "AttributeColour",
    "ColourSource",
    "ColourSourceError",
    "ColourSourceRegistry",
    "SemanticColour",
    "SensorColour",
    "attribute_sources",
    "default_registry",
    "parse",
    "parse_sensor_key",
    "register_kind",
    "semantic_source",
    "sensor_key",
    "sensor_sources",
]

SEMANTIC_KEY = "semantic"
SENSOR_PREFIX = "sensors:"
SENSOR_METHODS = {"nearest": "nearest", "idw": "IDW"}  # key -> menu label
SENSOR_TARGETS = {"buildings": "Buildings", "ground": "Ground", "both": "Buildings + ground"}  # key -> menu label
TARGET_SUFFIX = {"buildings": "", "ground": " · ground", "both": " · buildings + ground"}  # key -> label suffix


class ColourSourceError(ValueError):
    """A colour-by key that names no colour source (a malformed sensor key, an empty key)."""


@dataclass(frozen=True)
class SemanticColour:
    """Colours by semantic surface class (roof, wall, terrain, road…)."""

    kind: ClassVar[str] = "semantic"

    def key(self) -> str:
        return SEMANTIC_KEY

    @property
    def label(self) -> str:
        return "Semantic surface"

    @property
    def menu_path(self) -> tuple[tuple[str, ...], str]:
        """Menu groups (outermost first) and the entry's label in its menu."""
        return (), self.label


@dataclass(frozen=True)
class AttributeColour:
    """Colours by attribute ``name`` of the objects (continuous for numbers, else categorical)."""

    name: str
    kind: ClassVar[str] = "attribute"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ColourSourceError(f"an attribute colour needs an attribute name, got {self.name!r}")

    def key(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.name

    @property
    def menu_path(self) -> tuple[tuple[str, ...], str]:
        return ("Attributes",), self.name


@dataclass(frozen=True)
class SensorColour:
    """Colours by the sensors measuring ``property``: ``method`` ``"nearest"`` or ``"idw"``,
    ``target`` ``"buildings"`` (a value per object), ``"ground"`` (a value per vertex of
    terrain, roads and land use) or ``"both"``."""

    property: str
    method: str = "idw"
    target: str = "buildings"
    kind: ClassVar[str] = "sensor"

    def __post_init__(self) -> None:
        if not isinstance(self.property, str) or not self.property:
            raise ColourSourceError(f"a sensor colour needs an observed property, got {self.property!r}")
        if self.method not in SENSOR_METHODS:
            raise ColourSourceError(f"sensor colour method {self.method!r}: use one of {', '.join(SENSOR_METHODS)}")
        if self.target not in SENSOR_TARGETS:
            raise ColourSourceError(f"sensor colour target {self.target!r}: use one of {', '.join(SENSOR_TARGETS)}")

    def key(self) -> str:
        target = "" if self.target == "buildings" else "/" + self.target
        return f"{SENSOR_PREFIX}{self.method}{target}:{self.property}"

    @builtins.property  # (the field 'property' hides the builtin here)
    def buildings(self) -> bool:
        """True when buildings get a value per object (target buildings or both)."""
        return self.target != "ground"

    @builtins.property
    def ground(self) -> bool:
        """True when the ground gets a value per vertex (target ground or both)."""
        return self.target != "buildings"

    @builtins.property
    def label(self) -> str:
        return f"Sensors: {SENSOR_METHODS[self.method]} {self.property}{TARGET_SUFFIX[self.target]}"

    @builtins.property
    def menu_path(self) -> tuple[tuple[str, ...], str]:
        return ("Sensors", self.property, SENSOR_METHODS[self.method]), SENSOR_TARGETS[self.target]

    @classmethod
    def from_key(cls, key: str) -> SensorColour:
        """Read ``sensors:<method>[/<target>]:<property>`` (the property may hold colons)."""
        if not key.startswith(SENSOR_PREFIX):
            raise ColourSourceError(f"{key!r} is not a sensor colour key (sensors:<method>[/<target>]:<property>)")
        mode, sep, prop = key[len(SENSOR_PREFIX):].partition(":")
        if not sep or not prop:
            raise ColourSourceError(f"sensor colour key {key!r} names no property: "
                                    "write sensors:<method>[/<target>]:<property>")
        method, slash, target = mode.partition("/")
        if slash and not target:
            raise ColourSourceError(f"sensor colour key {key!r}: empty target after '/'")
        try:
            return cls(prop, method, target or "buildings")
        except ColourSourceError as exc:
            raise ColourSourceError(f"sensor colour key {key!r}: {exc}") from None


ColourSource = SemanticColour | AttributeColour | SensorColour
"""Any colour source (simulation results will join this union)."""

_KINDS: dict[str, Callable[[str], Any]] = {SENSOR_PREFIX: SensorColour.from_key}


def register_kind(prefix: str, parser: Callable[[str], Any]) -> None:
    """Let :func:`parse` read keys starting with ``prefix`` with ``parser`` (e.g. ``"sim:"``)."""
    if not prefix or prefix == SEMANTIC_KEY:
        raise ValueError(f"bad colour-source prefix {prefix!r}")
    _KINDS[prefix] = parser


def parse(key: Any) -> ColourSource:
    """The colour source of a colour-by key: ``"semantic"``, a sensor key, or else an attribute name.

    Raises
    ------
    ColourSourceError
        For a key that is not a non-empty string or a malformed key of a registered kind
        (``"sensors:kriging:no2"``, ``"sensors:idw"``).
    """
    if not isinstance(key, str):
        raise ColourSourceError(f"a colour-by key is a string, got {type(key).__name__} {key!r}")
    if not key:
        raise ColourSourceError("empty colour-by key")
    if key == SEMANTIC_KEY:
        return SemanticColour()
    for prefix, parser in _KINDS.items():
        if key.startswith(prefix):
            return parser(key)  # type: ignore[no-any-return]
    return AttributeColour(key)


def sensor_key(method: str, prop: str, target: str = "buildings") -> str:
    """``SensorColour(prop, method, target).key()``."""
    return SensorColour(prop, method, target).key()


def parse_sensor_key(key: Any) -> tuple[str, str, str] | None:
    """``(method, target, property)`` of a well-formed sensor colour key, None for any other key."""
    if not isinstance(key, str) or not key.startswith(SENSOR_PREFIX):
        return None
    try:
        s = SensorColour.from_key(key)
    except ColourSourceError:
        return None
    return s.method, s.target, s.property


# ------------------------------------------------------------------ what a layer offers
SourceProvider = Callable[[Any], Iterable[ColourSource]]


def semantic_source(layer: Any) -> list[ColourSource]:
    """Every layer can be coloured by semantic class."""
    return [SemanticColour()]


def attribute_sources(layer: Any) -> list[ColourSource]:
    """One source per attribute the layer's objects carry (``layer.attribute_names()``, most frequent first)."""
    names = getattr(layer, "attribute_names", None)
    return [AttributeColour(n) for n in (names() if names is not None else []) if isinstance(n, str) and n]


def sensor_sources(properties: Iterable[str]) -> list[SensorColour]:
    """Every sensor source of ``properties``: per property, per method, per target (the menu's order)."""
    return [SensorColour(p, m, t) for p in properties for m in SENSOR_METHODS for t in SENSOR_TARGETS]


class ColourSourceRegistry:
    """The colour sources on offer for a layer, from named providers in registration order.

    A provider is called with the layer and returns its sources (an empty list where it has
    none for that layer). The sensor controller registers ``"sensors"``; simulation results
    would register theirs the same way.
    """

    def __init__(self) -> None:
        self._providers: dict[str, SourceProvider] = {}

    def register(self, name: str, provider: SourceProvider) -> None:
        """Add (or replace) the provider ``name``."""
        self._providers[name] = provider

    def unregister(self, name: str) -> None:
        self._providers.pop(name, None)

    def names(self) -> list[str]:
        return list(self._providers)

    def sources(self, layer: Any) -> list[ColourSource]:
        """The layer's sources: each provider's, in the order the providers were registered."""
        out: list[ColourSource] = []
        for provider in self._providers.values():
            out.extend(provider(layer))
        return out

    def find(self, layer: Any, key: str) -> ColourSource | None:
        """The source of ``layer`` whose key is ``key``, or None where none is on offer."""
        return next((s for s in self.sources(layer) if s.key() == key), None)


def default_registry() -> ColourSourceRegistry:
    """A registry offering semantic colours and the layer's attributes."""
    reg = ColourSourceRegistry()
    reg.register("semantic", semantic_source)
    reg.register("attributes", attribute_sources)
    return reg
