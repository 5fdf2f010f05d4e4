"""MQTT topic filters checked before anything connects (no paho here).

paho only finds a bad filter in its network thread, as a traceback, and the feed
then waits for ever in "connecting". The rules (MQTT 3.1.1 §4.7 / 5.0 §4.7): a
filter is a non-empty UTF-8 string of at most 65535 bytes without NUL; ``+`` and
``#`` must each be a whole level; ``#`` only as the last level.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.errors import CityTwinError

MAX_BYTES = 65535


class TopicFilterError(CityTwinError):
    """A topic filter the broker would refuse; the message names it and a working form."""


def topic_filter_problem(f: str) -> str | None:
    """Why ``f`` is not a valid MQTT topic filter (one line naming it and, where one
    exists, a form that works), or None when it is valid."""
    if not isinstance(f, str):
        return f"topic filter {f!r} is not a string"
    if f == "":
        return "topic filter '' is empty; use '#' for every topic"
    if "\x00" in f:
        return f"topic filter {f!r} contains a NUL character; try {f.replace(chr(0), '')!r}"
    try:
        size = len(f.encode("utf-8"))
    except UnicodeEncodeError:
        return f"topic filter {f!r} is not valid UTF-8 (it has lone surrogates)"
    if size > MAX_BYTES:
        return f"topic filter {f[:40]!r}… is {size} bytes long; MQTT allows at most {MAX_BYTES}"
    levels = f.split("/")
    for k, level in enumerate(levels):
        last = k == len(levels) - 1
        if level == "#" and not last:
            return (f"topic filter {f!r} is not valid MQTT: '#' must be the last level; "
                    f"try {_suggest(f)!r}")
        if level not in ("+", "#") and ("+" in level or "#" in level):
            wild = "+" if "+" in level else "#"
            return (f"topic filter {f!r} is not valid MQTT: '{wild}' must be a whole level, "
                    f"not part of {level!r}; try {_suggest(f)!r}")
    return None


def _suggest(f: str) -> str:
    """The nearest valid filter: a level holding a wildcard becomes that wildcard alone
    (``v1.1/Datastreams(+)/Observations`` → ``v1.1/+/Observations``); a ``#`` ends it."""
    out: list[str] = []
    for level in f.split("/"):
        if "#" in level:
            out.append("#")
            break
        out.append("+" if "+" in level else level)
    return "/".join(out)


def check_topic_filters(filters: Iterable[str], where: str = "") -> list[str]:
    """Return ``filters`` as a list, or raise :class:`TopicFilterError` for the first
    bad one (``where`` prefixes the message, e.g. the file and table that named it)."""
    out = list(filters)
    for f in out:
        problem = topic_filter_problem(f)
        if problem is not None:
            raise TopicFilterError(f"{where}: {problem}" if where else problem)
    return out
