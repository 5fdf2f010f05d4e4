"""OGC SensorThings API 1.1 over HTTP (urllib, no extra dependency).

:class:`SensorThingsClient` reads Things, Locations, Datastreams and Observations
with ``$expand``, ``$filter``, ``$orderby``, ``$top`` and follows ``@iot.nextLink``
paging. :class:`SensorThingsFeed` polls a service in its own thread and hands the
new observations to an :class:`~citytwin.live.ingest.Ingest`.
"""

from __future__ import annotations

import base64
import http.client
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import orjson

from ..core.errors import CityTwinError
from ..model.sensors import Datastream, Location, ObservedProperty, Thing, UnitOfMeasurement, declared_range
from .ingest import Ingest
from .payloads import Rejected, observation_reading, parse_time

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024


def entity_key(entity_id: Any) -> str:
    """``5`` → ``(5)``, ``"abc"`` → ``('abc')`` as SensorThings addresses entities."""
    if isinstance(entity_id, int) or (isinstance(entity_id, str) and entity_id.isdigit()):
        return f"({entity_id})"
    return "('" + str(entity_id).replace("'", "''") + "')"


def iso(t: float) -> str:
    """Epoch seconds → ``2019-05-07T01:00:00.000Z`` for ``$filter`` expressions."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _location(entity: dict[str, Any]) -> Location | None:
    """The first usable GeoJSON point of an entity's expanded ``Locations``."""
    for loc in entity.get("Locations") or []:
        geo = loc.get("location") if isinstance(loc, dict) else None
        if isinstance(geo, dict):
            try:
                return Location.from_geojson(geo, name=str(loc.get("name", "")))
            except (ValueError, TypeError):
                continue
    return None


def thing_from_json(e: dict[str, Any]) -> Thing:
    """A :class:`Thing` from a Thing entity (``Locations`` expanded or not)."""
    return Thing(id=str(e.get("@iot.id")), name=str(e.get("name", "")),
                 description=str(e.get("description", "")),
                 properties=e.get("properties") or {}, location=_location(e))


def datastream_from_json(e: dict[str, Any], thing: Thing | None = None) -> Datastream:
    """A :class:`Datastream` from a Datastream entity (``Thing/Locations``, ``ObservedProperty`` expanded)."""
    op = e.get("ObservedProperty") or {}
    u = e.get("unitOfMeasurement") or {}
    t = e.get("Thing")
    if isinstance(t, dict):
        thing = thing_from_json(t)
    return Datastream(
        id=str(e.get("@iot.id")), name=str(e.get("name", "")),
        observed_property=ObservedProperty(str(op.get("name", "")), str(op.get("definition", "")),
                                           str(op.get("description", ""))),
        unit=UnitOfMeasurement(str(u.get("name", "")), str(u.get("symbol", "")), str(u.get("definition", ""))),
        thing_id=thing.id if thing else None, location=thing.location if thing else None,
        value_range=declared_range(e.get("properties"), op.get("properties"), u))


class SensorThingsClient:
    """Read-only client of one SensorThings service.

    Parameters
    ----------
    base_url
        Service root including the version, e.g. ``https://example.org/FROST-Server/v1.1``.
    timeout
        Seconds per request.
    max_pages
        Bound on ``@iot.nextLink`` pages followed per collection.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0, max_pages: int = 1000,
                 username: str | None = None, password: str | None = None) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.max_pages = max_pages
        self.headers = {"Accept": "application/json", "User-Agent": "citytwin"}
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.requests = 0

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """Absolute URL of ``path`` under the service root with ``$`` query options."""
        u = urljoin(self.base, path.lstrip("/"))
        if params:
            q = urlencode({k: v for k, v in params.items() if v is not None}, quote_via=quote,
                          safe="$(),;/:='*")
            u += ("&" if "?" in u else "?") + q
        return u

    def get_json(self, url: str) -> Any:
        """GET ``url`` → decoded JSON; one-line :class:`CityTwinError` on any failure."""
        req = urllib.request.Request(url, headers=self.headers)
        self.requests += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            raise CityTwinError(f"GET {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise CityTwinError(f"GET {url}: {reason}") from None
        if len(body) > MAX_BODY:
            raise CityTwinError(f"GET {url}: response larger than {MAX_BODY} bytes")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise CityTwinError(f"GET {url}: not JSON ({exc})") from None

    def iter_entities(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every entity of a collection, following ``@iot.nextLink`` (at most ``max_pages`` pages)."""
        url: str | None = self.url(path, params)
        pages = 0
        while url and pages < self.max_pages:
            doc = self.get_json(url)
            pages += 1
            if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
                raise CityTwinError(f"GET {url}: not a SensorThings collection")
            for e in doc["value"]:
                if isinstance(e, dict):
                    yield e
            nxt = doc.get("@iot.nextLink")
            # some servers put raw spaces in nextLink; quote what is unsafe, keep %-escapes
            url = urljoin(url, quote(nxt, safe="%/:=&?~#+!$,;'@()*[]")) if isinstance(nxt, str) and nxt else None

    # ------------------------------------------------------------ entities
    def things(self) -> list[Thing]:
        """All Things with their Locations."""
        return [thing_from_json(e) for e in self.iter_entities("Things", {"$expand": "Locations"})]

    def locations(self) -> list[tuple[str, Location]]:
        """``(@iot.id, Location)`` of every Location that is a GeoJSON point."""
        out = []
        for e in self.iter_entities("Locations"):
            loc = _location({"Locations": [e]})
            if loc is not None:
                out.append((str(e.get("@iot.id")), loc))
        return out

    def datastreams(self) -> list[Datastream]:
        """All Datastreams with their Thing's Location and ObservedProperty."""
        params = {"$expand": "Thing/Locations,ObservedProperty"}
        return [datastream_from_json(e) for e in self.iter_entities("Datastreams", params)]

    def latest_observations(self) -> Iterator[tuple[Datastream, list[dict[str, Any]]]]:
        """Each Datastream with its newest Observation in a list (empty if it has none);
        one request per page, not per datastream."""
        params = {"$expand": "Thing/Locations,ObservedProperty,"
                             "Observations($orderby=phenomenonTime desc;$top=1)"}
        for e in self.iter_entities("Datastreams", params):
            obs = e.get("Observations")
            yield datastream_from_json(e), [o for o in obs if isinstance(o, dict)] if isinstance(obs, list) else []

    def observations(self, since: float | None = None, *, datastream: Any = None,
                     top: int = 1000) -> Iterator[dict[str, Any]]:
        """Observations (oldest first) newer than ``since``, of one datastream or all.

        Each observation of the all-datastreams form carries ``Datastream/@iot.id``.
        """
        params: dict[str, Any] = {"$orderby": "phenomenonTime asc", "$top": top}
        if since is not None:
            params["$filter"] = f"phenomenonTime gt {iso(since)}"
        if datastream is None:
            params["$expand"] = "Datastream($select=id)"
            path = "Observations"
        else:
            path = f"Datastreams{entity_key(datastream)}/Observations"
        yield from self.iter_entities(path, params)


class SensorThingsFeed:
    """Polls a SensorThings service every ``interval`` seconds in a daemon thread.

    First the datastreams (with locations) are registered and each one's newest
    observation is queued; then every poll asks for observations newer than the
    newest seen. Failures are counted and retried with backoff (up to ``max_backoff``).
    """

    def __init__(self, client: SensorThingsClient, ingest: Ingest, interval: float = 10.0,
                 max_backoff: float = 300.0) -> None:
        self.client = client
        self.ingest = ingest
        self.interval = interval
        self.max_backoff = max_backoff
        self.since: float | None = None
        self.state = "stopped"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _put(self, obs: dict[str, Any], ds_id: str | None) -> None:
        try:  # move past a refused observation too, or every poll would fetch it again
            t = parse_time(obs.get("phenomenonTime")) if isinstance(obs, dict) else None
        except Rejected:
            t = None
        if t is not None and (self.since is None or t > self.since):
            self.since = t
        try:
            r = observation_reading(obs, ds_id)
        except Rejected as exc:
            self.ingest.reject(exc.reason)
            return
        self.ingest.put_reading(r)

    def bootstrap(self) -> int:
        """Register the datastreams and queue their newest observations; returns how many."""
        n = 0
        for ds, latest in self.client.latest_observations():
            self.ingest.register([ds])
            for obs in latest:
                self._put(obs, ds.id)
                n += 1
        return n

    def poll_once(self) -> int:
        """Queue every observation newer than the newest seen; returns how many."""
        n = 0
        for obs in self.client.observations(self.since):
            self._put(obs, None)
            n += 1
        return n

    def _run(self) -> None:
        delay = self.interval
        booted = False
        while not self._stop.is_set():
            try:
                if not booted:
                    self.bootstrap()
                    booted = True
                else:
                    self.poll_once()
                self.state = "connected"
                delay = self.interval
            except CityTwinError as exc:
                self.ingest.diag.event("poll_failed", str(exc))
                self.state = "reconnecting"
                delay = min(max(delay * 2, 1.0), self.max_backoff)
                log.info("%s; retrying in %.0f s", exc, delay)
            self._stop.wait(delay)

    def start(self) -> None:
        self.state = "connecting"
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sensorthings-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.client.timeout + 1)
        self.state = "stopped"
