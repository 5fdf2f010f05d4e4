"""Live sensor feeds: MQTT, SensorThings HTTP and file replay, feeding a sensor layer.

No Qt, no VTK. Only :mod:`citytwin.live.mqtt` imports paho; importing this package
does not.
"""

from __future__ import annotations

from .ingest import Diagnostics, Ingest
from .payloads import PayloadParser, PlainMapping, Reading, Rejected

__all__ = ["Diagnostics", "Ingest", "PayloadParser", "PlainMapping", "Reading", "Rejected"]
