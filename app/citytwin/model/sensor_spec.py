"""How a scene file declares a sensor layer: :class:`SensorLayerSpec` and its :class:`Threshold` s.

Pure data with to/from dict; :mod:`citytwin.model.sensors` re-exports both.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Threshold:
    """Alert when a reading of ``observed_property`` goes above ``above`` or below ``below``."""

    observed_property: str
    above: float | None = None
    below: float | None = None
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Threshold:
        def num(x: Any) -> float | None:
            return None if x is None else float(x)

        return cls(observed_property=str(d.get("observed_property", d.get("property", ""))),
                   above=num(d.get("above")), below=num(d.get("below")), label=str(d.get("label", "")))


@dataclass
class IdwSettings:
    """How surfaces coloured by a sensor layer interpolate its values (scene-file table ``idw``).

    ``power``: IDW distance exponent (> 0); ``k``: sensors used per point (``0``: all);
    ``max_distance``: metres beyond which a sensor does not count (``None``: no limit;
    applies to the nearest-sensor method too).
    """

    power: float = 2.0
    k: int = 8
    max_distance: float | None = None

    def __post_init__(self) -> None:
        self.power = float(self.power)
        if isinstance(self.k, bool) or float(self.k) != int(self.k):
            raise ValueError(f"idw k must be a whole number, not {self.k!r}")
        self.k = max(int(self.k), 0)
        if not (math.isfinite(self.power) and self.power > 0):
            raise ValueError(f"idw power must be a positive number, not {self.power!r}")
        if self.max_distance is not None:
            md = float(self.max_distance)
            if math.isnan(md) or md < 0:
                raise ValueError(f"idw max_distance must be a distance in metres, not {self.max_distance!r}")
            self.max_distance = md if 0 < md < math.inf else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"power": self.power, "k": self.k}
        if self.max_distance is not None:
            d["max_distance"] = self.max_distance
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> IdwSettings:
        """From a scene-file table (missing keys: defaults); wrong types raise ValueError."""
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise ValueError(f"idw must be a table, not {type(d).__name__}")
        try:
            return cls(power=d.get("power", 2.0), k=d.get("k", 8), max_distance=d.get("max_distance"))
        except (TypeError, OverflowError) as exc:
            raise ValueError(f"bad idw settings: {exc}") from None


def default_styling() -> dict[str, Any]:
    """Styling of a sensor layer unless the scene file says otherwise."""
    return {"color_by": "value", "colormap": "viridis", "range": None, "size": 8.0, "labels": False,
            "stale_color": [0.6, 0.6, 0.6]}


@dataclass
class SensorLayerSpec:
    """How a scene file declares a sensor layer (embedded by the scene-file module).

    Parameters
    ----------
    source
        ``mqtt://host:port`` / ``mqtts://…``, a SensorThings base URL
        (``https://…/v1.1``) or a replay file path (CSV, JSON, JSON lines).
    name
        Layer name.
    topics
        MQTT topic filters (default: the mappings' topics and ``v1.1/#``, SensorThings' own).
    qos
        MQTT subscription QoS.
    username
        MQTT/HTTP user; the password is never stored in the scene file, only the
        name of the environment variable holding it (``password_env``).
    mappings
        Plain-JSON mappings as dicts (see :class:`citytwin.live.payloads.PlainMapping`).
    replay
        Replay options: column names, ``stations`` file, ``speed``.
    loop
        A replay starts again from its beginning when the clock passes its end.
    styling
        ``color_by`` (``"value"``), ``colormap``, ``range`` ``[vmin, vmax]``,
        ``size`` (glyph metres), ``labels`` (bool), ``stale_color``.
    thresholds
        Alert thresholds per observed property.
    history
        Slots kept per datastream.
    stale_after
        Seconds without a reading after which a datastream shows as stale.
    max_datastreams
        Bound on datastreams a feed may create (memory: × ``history`` × 16 bytes).
    idw
        Interpolation of surfaces coloured by this layer (:class:`IdwSettings`).
    ingest
        Where an MQTT feed is received and parsed: ``"process"`` (the default: a child
        process, so that a flood of messages does not hold the viewer's GIL) or
        ``"thread"`` (paho's network thread inside the viewer's process).
    """

    source: str
    name: str = "sensors"
    topics: list[str] = field(default_factory=list)
    qos: int = 1
    username: str | None = None
    password_env: str | None = None
    mappings: list[dict[str, Any]] = field(default_factory=list)
    replay: dict[str, Any] = field(default_factory=dict)
    styling: dict[str, Any] = field(default_factory=lambda: default_styling())
    thresholds: list[Threshold] = field(default_factory=list)
    history: int = 256
    stale_after: float = 900.0
    max_datastreams: int = 20_000
    visible: bool = True
    idw: IdwSettings = field(default_factory=IdwSettings)
    ingest: str = "process"
    loop: bool = False

    @property
    def kind(self) -> str:
        """``"mqtt"``, ``"sensorthings"`` or ``"replay"``, from the source."""
        s = self.source.lower()
        if s.startswith(("mqtt://", "mqtts://", "tcp://", "ssl://")):
            return "mqtt"
        if s.startswith(("http://", "https://")):
            return "sensorthings"
        return "replay"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``None``/empty optional fields left out)."""
        d: dict[str, Any] = {"type": "sensors", "source": self.source, "name": self.name}
        if self.topics:
            d["topics"] = list(self.topics)
        if self.kind == "mqtt":
            d["qos"] = self.qos
        if self.username:
            d["username"] = self.username
        if self.password_env:
            d["password_env"] = self.password_env
        if self.mappings:
            d["mappings"] = [dict(m) for m in self.mappings]
        if self.replay:
            d["replay"] = dict(self.replay)
        d["styling"] = dict(self.styling)
        if self.thresholds:
            d["thresholds"] = [t.to_dict() for t in self.thresholds]
        d["history"] = self.history
        d["stale_after"] = self.stale_after
        d["max_datastreams"] = self.max_datastreams
        d["visible"] = self.visible
        if self.idw != IdwSettings():  # the defaults are left out (scene files stay as they were)
            d["idw"] = self.idw.to_dict()
        if self.ingest != "process":  # the default is left out too
            d["ingest"] = self.ingest
        if self.loop:
            d["loop"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SensorLayerSpec:
        """Inverse of :meth:`to_dict`; unknown keys are ignored, wrong types raise ValueError."""
        if not isinstance(d, dict) or not isinstance(d.get("source"), str) or not d["source"]:
            raise ValueError("sensor layer needs a 'source' string")
        styling = default_styling()
        styling.update(d.get("styling") or {})
        topics = d.get("topics") or []
        if isinstance(topics, str):  # topics = "v1.1/#": one filter, not one per character
            topics = [topics]
        try:
            return cls(
                source=d["source"], name=str(d.get("name", "sensors")),
                topics=[str(t) for t in topics], qos=int(d.get("qos", 1)),
                username=d.get("username"), password_env=d.get("password_env"),
                mappings=[dict(m) for m in d.get("mappings") or []],
                replay=dict(d.get("replay") or {}), styling=styling,
                thresholds=[Threshold.from_dict(t) for t in d.get("thresholds") or []],
                history=int(d.get("history", 256)), stale_after=float(d.get("stale_after", 900.0)),
                max_datastreams=int(d.get("max_datastreams", 20_000)),
                visible=bool(d.get("visible", True)), idw=IdwSettings.from_dict(d.get("idw")),
                ingest=ingest_mode(d.get("ingest", "process")), loop=_flag(d.get("loop", False), "loop"))
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"bad sensor layer declaration: {exc}") from None


def _flag(x: Any, key: str) -> bool:
    if not isinstance(x, bool):
        raise ValueError(f"sensor layer {key!r} must be true or false, not {x!r}")
    return x


INGEST_MODES = ("process", "thread")


def ingest_mode(x: Any) -> str:
    """``"process"`` or ``"thread"`` (how an MQTT layer ingests); anything else raises ValueError."""
    if x not in INGEST_MODES:
        raise ValueError(f"sensor layer 'ingest' must be one of {', '.join(INGEST_MODES)}, not {x!r}")
    return str(x)
