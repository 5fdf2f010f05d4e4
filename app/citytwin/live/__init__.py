"""Live sensor feeds: MQTT, SensorThings HTTP and file replay, feeding a sensor layer.

No Qt, no VTK. Only :mod:`citytwin.live.mqtt` imports paho; importing this package
does not.

Modules
-------
``payloads``      pure parsers: topic + bytes → :class:`Reading` or :class:`Rejected` (a reason)
``ingest``        :class:`Ingest`: the queue between feed threads and the GUI; ``drain()`` once per
                  frame applies ONE vectorised update; :class:`Diagnostics` counts every message
``mqtt``          :class:`~citytwin.live.mqtt.MqttFeed` (paho 2.x, reconnect with backoff, persistent session)
``ingest_process`` :class:`~citytwin.live.ingest_process.ProcessIngest`: an MqttFeed + parsing in a spawned
                  child process, batches to the parent's queue (what MQTT layers use by default)
``sensorthings``  OGC SensorThings API 1.1 HTTP client and poller
``replay``        CSV / JSON replay on a :class:`~citytwin.model.clock.SceneClock`
``session``       :class:`~citytwin.live.session.SensorSession`: a ``SensorLayerSpec`` → source + ingest
``broker``        a throw-away local mosquitto (tests, benchmarks, demos)

Typical use from the viewer (GUI thread)::

    session = SensorSession(spec, clock=scene_clock)       # spec: model.sensors.SensorLayerSpec
    session.layer.set_frame(scene.crs, scene.origin, building_anchors(city_model))
    session.start()
    # every frame:
    update = session.frame()                                # one batch, one vectorised apply
    values, times, stale = session.layer.state_at(scene_clock.time(), spec.stale_after)
    # positions: session.layer.positions (float32, N×3); alerts: update.alerts / session.layer.alerts
"""

from __future__ import annotations

from .ingest import Diagnostics, Ingest
from .payloads import PayloadParser, PlainMapping, Reading, Rejected

__all__ = ["Diagnostics", "Ingest", "PayloadParser", "PlainMapping", "Reading", "Rejected"]
