"""``.scenario.toml`` files: reading, atomic writing, autosave and crash recovery.

::

    version = 1
    name = "Tower on the corner"
    storey_height = 3.0                 # optional (3 m)
    [base]                              # optional: what it was made on; another base is refused
    file = "demo_district.city.json"
    objects = 730
    fingerprint = "3f1c…"               # hash of the top-level ids (scenario.base_fingerprint)
    [[edits]]
    op = "remove"
    ids = ["B2"]

Writing goes through a temporary file and a rename (:mod:`citytwin.core.files`). While a
scenario is edited, :class:`Autosaver` writes it every few seconds to a recovery file
beside it (``NAME.scenario.toml.recovery``); saving removes it, so one found on start-up is
what a crash left: :func:`recovery_for` offers it when it is newer than the file.

Scene files may hold scenarios too (``[[scenarios]]`` tables: ``path = "x.scenario.toml"``
or the same keys inline); :func:`scenarios_from_tables` reads them.
"""

from __future__ import annotations

import math
import os
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.files import atomic_open
from .edits import Edit, EditError, parse_edit
from .scenario import BaseInfo, Scenario

__all__ = ["Autosaver", "read_scenario", "recovery_path", "recovery_for", "save_scenario",
           "scenario_from_doc", "scenario_toml", "scenarios_from_tables", "SUFFIX"]

SUFFIX = ".scenario.toml"
VERSION = 1


def scenario_from_doc(doc: Any, source: str = "") -> Scenario:
    """A scenario from a parsed TOML document (a file's or a scene file's table)."""
    if not isinstance(doc, dict):
        raise EditError("not a table of scenario keys", None, source)
    version = doc.get("version", VERSION)
    if version != VERSION:
        raise EditError(f"version {version!r} is not supported (this citytwin reads version {VERSION})", None, source)
    name = doc.get("name", Path(source).name.removesuffix(SUFFIX) if source else "Scenario")
    if not isinstance(name, str):
        raise EditError("'name' must be a string", None, source)
    sh = doc.get("storey_height", 3.0)
    if isinstance(sh, bool) or not isinstance(sh, (int, float)) or not (math.isfinite(sh) and sh > 0):
        raise EditError(f"storey_height must be a positive number, got {sh!r}", None, source)
    b = doc.get("base", {})
    if not isinstance(b, dict):
        raise EditError("'base' must be a table", None, source)
    objects = b.get("objects")
    if objects is not None and (isinstance(objects, bool) or not isinstance(objects, int)):
        raise EditError("base.objects must be a whole number", None, source)
    base = BaseInfo(file=b.get("file") if isinstance(b.get("file"), str) else None, objects=objects,
                    fingerprint=str(b["fingerprint"]) if b.get("fingerprint") is not None else None)
    tables = doc.get("edits", [])
    if not isinstance(tables, list):
        raise EditError("'edits' must be an array of tables ([[edits]])", None, source)
    edits: list[Edit] = []
    for k, t in enumerate(tables):
        try:
            edits.append(parse_edit(t, k + 1))
        except EditError as exc:
            raise exc.located(source) from None
    desc = doc.get("description", "")
    return Scenario(name=name, edits=tuple(edits), storey_height=float(sh), base=base,
                    description=desc if isinstance(desc, str) else "", source=source)


def read_scenario(path: str | Path) -> Scenario:
    """Read a ``.scenario.toml``; :class:`EditError` names the file (and the edit) when it is
    missing, truncated, corrupt or holds a bad edit."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise EditError("no such file", None, str(p)) from None
    except OSError as exc:
        raise EditError(f"cannot be read: {exc.strerror or exc}", None, str(p)) from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise EditError(f"not UTF-8 text (byte {exc.start}): not a scenario file", None, str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise EditError(f"not valid TOML ({exc}); is it truncated?", None, str(p)) from None
    if "version" not in doc:
        raise EditError("no 'version' key: not a scenario file (or a truncated one)", None, str(p))
    return scenario_from_doc(doc, str(p))


# ------------------------------------------------------------------ writing
def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v} to TOML")
        return repr(v)
    if isinstance(v, str):
        out = v.replace("\\", "\\\\").replace('"', '\\"')
        for ch, esc in (("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
            out = out.replace(ch, esc)
        return f'"{out}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: Any) -> str:
    k = str(k)
    return k if k and k.isascii() and all(c.isalnum() or c in "_-" for c in k) else _value(k)


def scenario_toml(s: Scenario) -> str:
    """The file text of ``s``."""
    doc = s.to_doc()
    lines = ["# citytwin scenario (edits on a base city model; the base files are never written)"]
    for k, v in doc.items():
        if k not in ("base", "edits"):
            lines.append(f"{_key(k)} = {_value(v)}")
    if "base" in doc:
        lines += ["", "[base]", *(f"{_key(k)} = {_value(v)}" for k, v in doc["base"].items())]
    for t in doc["edits"]:
        lines += ["", "[[edits]]", *(f"{_key(k)} = {_value(v)}" for k, v in t.items() if v is not None)]
    return "\n".join(lines) + "\n"


def save_scenario(s: Scenario, path: str | Path) -> Path:
    """Write ``s`` atomically and drop its recovery file."""
    p = Path(path)
    with atomic_open(p, "w", encoding="utf-8", newline="\n") as f:
        f.write(scenario_toml(s))
    try:
        recovery_path(p).unlink()
    except FileNotFoundError:
        pass
    return p


# ------------------------------------------------------- autosave, recovery
def recovery_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.name + ".recovery")


def recovery_for(path: str | Path) -> Scenario | None:
    """The scenario a crash left beside ``path`` (newer than ``path``, or ``path`` missing),
    or None. A recovery file that cannot be read is ignored."""
    p, r = Path(path), recovery_path(path)
    if not r.exists():
        return None
    if p.exists() and p.stat().st_mtime_ns > r.stat().st_mtime_ns:
        return None
    try:
        s = read_scenario(r)
    except EditError:
        return None
    from dataclasses import replace

    return replace(s, source=str(p))


class Autosaver:
    """Writes the scenario to its recovery file when it changed and ``interval`` seconds
    passed since the last write (call :meth:`tick` from a timer or after each edit)."""

    def __init__(self, path: str | Path, interval: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = recovery_path(path)
        self.interval = interval
        self._clock = clock
        self._last = -math.inf
        self._written: list[str] | None = None
        self._name: str | None = None

    def tick(self, s: Scenario, force: bool = False) -> bool:
        """Write ``s`` if due; True when written."""
        if ([e.key() for e in s.edits], s.name) == (self._written, self._name):
            return False
        now = self._clock()
        if not force and now - self._last < self.interval:
            return False
        os.makedirs(self.path.parent, exist_ok=True)
        with atomic_open(self.path, "w", encoding="utf-8", newline="\n") as f:
            f.write(scenario_toml(s))
        self._last, self._written, self._name = now, [e.key() for e in s.edits], s.name
        return True

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def scenarios_from_tables(tables: list[dict[str, Any]], scene_dir: str | Path, source: str = "") -> list[Scenario]:
    """Scenarios of a scene file's ``[[scenarios]]`` tables: ``path`` (relative to the scene
    file) or inline keys (``name``, ``edits`` …)."""
    out = []
    for k, t in enumerate(tables):
        where = f"{source}: scenarios[{k}]" if source else f"scenarios[{k}]"
        if not isinstance(t, dict):
            raise EditError("not a table", None, where)
        if "path" in t:
            p = Path(str(t["path"]))
            out.append(read_scenario(p if p.is_absolute() else Path(scene_dir) / p))
        else:
            out.append(scenario_from_doc({"version": VERSION, **t}, where))
    return out
