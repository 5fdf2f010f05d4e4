"""Shared pieces of the tests that talk to a real mosquitto broker on a loopback port."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from citytwin.live.broker import LocalBroker, mosquitto_path


@pytest.fixture
def broker() -> Iterator[LocalBroker]:
    """A throw-away mosquitto on a free port (the test is skipped without mosquitto)."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    b = LocalBroker().start()
    try:
        yield b
    finally:
        b.close()


def publisher(port: int) -> Any:
    """A connected paho client with its network loop running."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.time_ns()}")
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def close_client(c: Any) -> None:
    c.disconnect()
    c.loop_stop()


def observation(t: float, v: float) -> bytes:
    """A SensorThings Observation payload at epoch seconds ``t``."""
    return orjson.dumps({"phenomenonTime": datetime.fromtimestamp(t, UTC).isoformat(), "result": v})


def wait_until(cond: Callable[[], bool], ingest: Any = None, timeout: float = 30.0) -> bool:
    """Poll ``cond`` (draining ``ingest`` first, as a frame does) until true or ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ingest is not None:
            ingest.drain()
        if cond():
            return True
        time.sleep(0.02)
    return False
