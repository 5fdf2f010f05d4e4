"""MQTT feed (paho-mqtt 2.x): the ONLY module of citytwin that imports paho.

The client runs paho's network loop in its own thread, connects asynchronously
(so a broker that is down at start is retried with exponential backoff), keeps a
persistent session (MQTT 3.1.1 ``clean_session=False`` by default, or MQTT 5
``clean_start=False`` with a session expiry; QoS 1 by
default) so the broker keeps queueing while the connection is down, resubscribes
on every (re)connect, and hands every message's topic and bytes to a callback
(normally :meth:`citytwin.live.ingest.Ingest.on_message`). paho acknowledges a QoS 1
message only after that callback returned, i.e. after the reading is queued.
"""

from __future__ import annotations

import enum
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..core.errors import CityTwinError
from .ingest import Diagnostics, WatchedState
from .topics import check_topic_filters

log = logging.getLogger(__name__)


class ConnectionState(enum.Enum):
    """What the viewer's status bar shows for a feed (CONNECTED: subscriptions acknowledged)."""

    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"


@dataclass
class BrokerURL:
    """Parts of ``mqtt://user:pass@host:port`` (``mqtts://`` for TLS, default ports 1883/8883)."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerURL:
    """Split a broker URL; raises :class:`CityTwinError` (one line) when it is not one."""
    u = urlsplit(url)
    scheme = u.scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not u.hostname:
        raise CityTwinError(f"not an MQTT broker URL (mqtt://host:port or mqtts://…): {url}")
    tls = scheme in ("mqtts", "ssl")
    try:
        port = u.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise CityTwinError(f"bad port in broker URL {url}: {exc}") from None
    return BrokerURL(u.hostname, port, tls,
                     unquote(u.username) if u.username else None,
                     unquote(u.password) if u.password else None)


@dataclass
class MqttConfig:
    """Settings of one MQTT feed.

    Parameters
    ----------
    url
        ``mqtt://host:port`` or ``mqtts://host:port`` (credentials may be in the URL).
    topics
        Topic filters to subscribe to (MQTT wildcards ``+`` and ``#``).
    qos
        Subscription QoS; 1 (default) makes the broker redeliver what a dropped
        connection did not acknowledge.
    persistent
        Persistent session (3.1.1: ``clean_session=False``; 5: ``clean_start=False`` +
        ``session_expiry``) so that QoS 1
        messages published while disconnected are queued by the broker.
    """

    url: str
    topics: Sequence[str] = ("#",)
    qos: int = 1
    username: str | None = None
    password: str | None = None
    client_id: str | None = None  # None: a random one, and the session is dropped on stop()
    persistent: bool = True
    session_expiry: int = 3600
    keepalive: int = 30
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    ca_certs: str | None = None
    tls_insecure: bool = False
    protocol: int = 4  # 4 = MQTT 3.1.1, 5 = MQTT 5 (paho decodes v5 properties per message: slower)


class MqttFeed:
    """One broker connection feeding ``on_message(topic, payload)`` from paho's thread.

    Parameters
    ----------
    config
        Connection settings.
    on_message
        Called in the network thread for every message; must not block.
    diagnostics
        Where connect/disconnect events are counted (the ingest's, usually).
    """

    def __init__(self, config: MqttConfig, on_message: Callable[[str, bytes], None],
                 diagnostics: Diagnostics | None = None) -> None:
        self.config = config
        self.broker = parse_broker_url(config.url)
        check_topic_filters(config.topics)  # paho would only say so in its network thread
        self._deliver = on_message
        self.diag = diagnostics or Diagnostics()
        self._state = WatchedState(ConnectionState.STOPPED)
        self.session_present = False
        self._connected = False
        v5 = config.protocol == 5
        self.client_id = config.client_id or f"citytwin-{uuid.uuid4().hex[:12]}"
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
                        clean_session=None if v5 else not config.persistent)
        user = config.username or self.broker.username
        if user:
            c.username_pw_set(user, config.password or self.broker.password)
        if self.broker.tls:
            c.tls_set(ca_certs=config.ca_certs)
            if config.tls_insecure:
                c.tls_insecure_set(True)
        c.reconnect_delay_set(config.reconnect_min, config.reconnect_max)  # type: ignore[arg-type]
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_connect_fail = self._on_connect_fail
        c.on_subscribe = self._on_subscribe
        self.client = c

    # ---------------------------------------------------------------- state
    @property
    def state(self) -> ConnectionState:
        return self._state.value  # type: ignore[no-any-return]

    def _set_state(self, s: ConnectionState) -> None:
        self._state.set(s)

    def wait_for(self, state: ConnectionState, timeout: float) -> bool:
        """Block until the feed reaches ``state``; False on timeout."""
        return self._state.wait_for(state, timeout)

    # ---------------------------------------------------------------- control
    def start(self) -> None:
        """Connect in the background (retrying with backoff until :meth:`stop`)."""
        props = None
        v5 = self.config.protocol == 5
        if self.config.persistent and v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = int(self.config.session_expiry)
        self._set_state(ConnectionState.CONNECTING)
        if v5:
            self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.config.keepalive,
                                      clean_start=not self.config.persistent, properties=props)
        else:
            self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.config.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and join the network thread.

        With a random client id nobody can resume the session, so its subscriptions
        are dropped first (else the broker would queue QoS 1 messages for it forever).
        """
        if self.config.client_id is None and self.config.persistent and self._connected:
            try:
                done = threading.Event()
                self.client.on_unsubscribe = lambda *a: done.set()
                info = self.client.unsubscribe(list(self.config.topics))
                if info[0] == mqtt.MQTT_ERR_SUCCESS:
                    done.wait(2.0)
            except Exception:  # best effort
                pass
        self._set_state(ConnectionState.STOPPED)
        try:
            self.client.disconnect()
        except Exception:  # already gone
            pass
        self.client.loop_stop()

    # ---------------------------------------------------------------- paho callbacks
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: mqtt.ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            self._connected = False
            self.diag.event("connect_failed", f"connect refused: {reason_code}")
            self._set_state(ConnectionState.RECONNECTING)
            return
        self.session_present = bool(flags.session_present)
        self._connected = True
        self.diag.event("connect")
        # resubscribe every time: harmless with a present session, needed without one;
        # the feed counts as connected once the broker acknowledged the subscriptions
        client.subscribe([(t, self.config.qos) for t in self.config.topics])
        log.info("connected to %s:%s (session present: %s)", self.broker.host, self.broker.port,
                 self.session_present)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reason_codes: list[mqtt.ReasonCode], properties: Properties | None) -> None:
        bad = [str(rc) for rc in reason_codes if rc.is_failure]
        if bad:
            self.diag.event("subscribe_failed", f"subscription refused: {', '.join(bad)}")
            log.warning("broker refused subscriptions: %s", ", ".join(bad))
        if self._state.value != ConnectionState.STOPPED:
            self._set_state(ConnectionState.CONNECTED)

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        if self._state.value != ConnectionState.STOPPED:
            self.diag.event("connect_failed", f"cannot reach {self.broker.host}:{self.broker.port}")
            self._set_state(ConnectionState.RECONNECTING)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags,
                       reason_code: mqtt.ReasonCode, properties: Properties | None) -> None:
        if self._state.value == ConnectionState.STOPPED or not self._connected:
            return  # a refused connect is not a drop
        self._connected = False
        self.diag.event("disconnect", f"connection lost: {reason_code}")
        self._set_state(ConnectionState.RECONNECTING)
        log.info("disconnected from %s:%s (%s); retrying", self.broker.host, self.broker.port, reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            self.diag.add(received=1, rejected={"bad_topic": 1})  # one step: counts stay consistent
            return
        self._deliver(topic, bytes(msg.payload))
