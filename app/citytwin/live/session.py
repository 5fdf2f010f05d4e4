"""One sensor layer's live session: its source (MQTT, SensorThings or replay), ingest and per-frame step.

The viewer builds one :class:`SensorSession` per :class:`~citytwin.model.sensors.SensorLayerSpec`,
calls :meth:`SensorSession.frame` from its GUI-thread timer (once per frame) and
shows :attr:`SensorSession.state` and :attr:`SensorSession.diagnostics`. The
``citytwin feed`` command uses the same object.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np

from ..core.errors import CityTwinError
from ..model.clock import SceneClock
from ..model.sensor_spec import ingest_mode
from ..model.sensors import SensorLayer, SensorLayerSpec, Update
from .ingest import Diagnostics, Ingest
from .payloads import PayloadParser, PlainMapping

log = logging.getLogger(__name__)


class SensorSession:
    """Source + ingest of one sensor layer.

    Parameters
    ----------
    spec
        The layer declaration (source, mappings, thresholds, history…).
    layer
        Layer to fill (a new one sized from ``spec`` by default).
    clock
        Scene clock a replay follows (a replay makes its own bounded, paused clock
        otherwise).
    password
        MQTT/HTTP password (default: the environment variable ``spec.password_env``).
    poll_interval
        SensorThings poll period in seconds.
    ingest
        For an MQTT layer: ``"process"`` (receive and parse in a child process, see
        :mod:`citytwin.live.ingest_process`) or ``"thread"`` (paho's thread in this
        process); default ``spec.ingest``. Other sources always ingest in a thread.
    """

    def __init__(self, spec: SensorLayerSpec, layer: SensorLayer | None = None, *,
                 clock: SceneClock | None = None, password: str | None = None,
                 poll_interval: float = 10.0, ingest: str | None = None) -> None:
        self.spec = spec
        self.layer = layer if layer is not None else SensorLayer(capacity=spec.history, name=spec.name)
        self.layer.set_thresholds(spec.thresholds)
        try:
            mappings = [PlainMapping.from_dict(m) for m in spec.mappings]
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise CityTwinError(f"sensor layer {spec.name!r}: bad mapping: {exc}") from None
        parser = PayloadParser(mappings)
        try:
            self.ingest_mode = ingest_mode(ingest or spec.ingest) if spec.kind == "mqtt" else "thread"
        except ValueError as exc:
            raise CityTwinError(f"sensor layer {spec.name!r}: {exc}") from None
        self.ingest: Any = None
        if self.ingest_mode == "thread":
            self.ingest = Ingest(self.layer, parser, max_datastreams=spec.max_datastreams)
        if password is None and spec.password_env:
            password = os.environ.get(spec.password_env)
        self.kind = spec.kind
        self._next_stale_check = 0.0
        self.source: Any = None
        self.replay: Any = None
        if self.kind == "mqtt":
            from .mqtt import MqttConfig, MqttFeed  # the only module importing paho
            from .topics import check_topic_filters

            # before anything connects: paho would only complain in its network thread
            where = f"sensor layer {spec.name!r}"
            check_topic_filters(spec.topics, where)
            for m in mappings:
                check_topic_filters([m.subscription], f"{where}, mapping topic {m.topic!r}")
            topics = spec.topics or [*dict.fromkeys(m.subscription for m in mappings), "v1.1/#"]
            cfg = MqttConfig(spec.source, topics=topics, qos=spec.qos, username=spec.username,
                             password=password)
            if self.ingest_mode == "process":
                from .ingest_process import ProcessIngest

                # one object is both: the child runs the feed, the parent drains its batches
                self.ingest = self.source = ProcessIngest(self.layer, cfg, parser,
                                                          max_datastreams=spec.max_datastreams)
            else:
                self.source = MqttFeed(cfg, self.ingest.on_message, self.ingest.diag)
        elif self.kind == "sensorthings":
            from .sensorthings import SensorThingsClient, SensorThingsFeed

            client = SensorThingsClient(spec.source, username=spec.username, password=password)
            self.source = SensorThingsFeed(client, self.ingest, interval=poll_interval)
        else:
            from .replay import ReplayFeed, load_replay

            data = load_replay(spec.source, **{k: v for k, v in spec.replay.items()
                                               if k in ("stations", "time_col", "id_col", "value_col",
                                                        "property_col")})
            self.replay = ReplayFeed(data, self.ingest, clock, loop=spec.loop)
            if data.thresholds and not spec.thresholds:
                self.layer.set_thresholds(data.thresholds)
            speed = spec.replay.get("speed")
            if speed:
                self.replay.clock.play(float(speed))

    @property
    def diagnostics(self) -> Diagnostics:
        return self.ingest.diag

    @property
    def clock(self) -> SceneClock | None:
        return self.replay.clock if self.replay is not None else None

    @property
    def state(self) -> str:
        """``connected``, ``connecting``, ``reconnecting``, ``stopped``; a replay: ``playing``/``paused``/``done``."""
        if self.replay is not None:
            if self.replay.done:
                return "done"
            return "playing" if self.replay.clock.playing else "paused"
        st = self.source.state
        return str(getattr(st, "value", st))

    def start(self) -> None:
        """Start the network side (a no-op for a replay)."""
        if self.source is not None:
            self.source.start()

    def frame(self, t: float | None = None) -> Update:
        """GUI-thread step: push due replay readings, apply everything queued in one batch and,
        about once a second, look for datastreams silent for ``spec.stale_after`` seconds."""
        if self.replay is not None:
            self.replay.poll(t)
        up = self.ingest.drain()
        wall = time.monotonic()
        if self.spec.stale_after > 0 and wall >= self._next_stale_check:
            self._next_stale_check = wall + 1.0
            now = self.replay.clock.time() if self.replay is not None else time.time()
            if t is not None and np.isfinite(t):
                now = t
            up.alerts.extend(self.layer.check_stale(now, self.spec.stale_after))
        return up

    def stop(self) -> None:
        if self.source is not None:
            self.source.stop()

    @property
    def done(self) -> bool:
        return self.replay is not None and self.replay.done and self.ingest.pending == 0
