"""Scenario edits: what each op takes, checked when read, as plain tables.

An edit is an op and its keys, the same as a ``[[edits]]`` table of a ``.scenario.toml``
(:func:`parse_edit` checks one and keeps it normalised; :meth:`Edit.to_table` gives it
back). The ops:

``add``             ``id``, ``footprint = [[x, y], ...]`` (scene CRS, metres; closed for you),
                    ``height`` (top above the footprint's lowest ground point) and/or
                    ``storeys`` (× the scenario's ``storey_height`` when no height), ``roof``
                    (flat, gable, hip, shed), optional ``roof_height`` (the pitched roof's
                    rise), ``ground`` (the ground height, else read from the terrain),
                    ``type`` (Building), ``attributes``
``remove``          ``ids``
``set-height``      ``ids``, ``height`` and/or ``storeys`` (the footprint stays)
``move``            ``ids``, ``offset = [dx, dy]`` or ``[dx, dy, dz]``
``rotate``          ``ids``, ``angle`` (degrees, counter-clockwise), optional ``about = [x, y]``
                    (default: the centre of the objects' extent)
``place-mesh``      ``id``, ``path`` (OBJ, glTF/GLB …; relative to the scenario file), ``at =
                    [x, y]`` or ``[x, y, z]``, optional ``rotation`` (degrees), ``scale``,
                    ``up`` (auto, y, z), ``attributes``
``set-attributes``  ``ids``, ``attributes = { … }``, optional ``unset = ["key", …]``
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.errors import CityTwinError
from .roofs import ROOFS, footprint_problem

OPS = ("add", "remove", "set-height", "move", "rotate", "place-mesh", "set-attributes")


class EditError(CityTwinError):
    """An edit that cannot be read or applied; ``number`` counts from 1 (None: the file)."""

    def __init__(self, reason: str, number: int | None = None, source: str = "") -> None:
        self.reason = " ".join(str(reason).split())
        self.number = number
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        where = [self.source] if self.source else []
        if self.number is not None:
            where.append(f"edit {self.number}")
        return ": ".join([*where, self.reason])

    def located(self, source: str) -> EditError:
        """The same error naming ``source`` (the scenario file)."""
        return EditError(self.reason, self.number, source)


@dataclass(frozen=True)
class Edit:
    """One edit: its op and its checked keys (see the module docstring)."""

    op: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_table(self) -> dict[str, Any]:
        return {"op": self.op, **self.data}

    def key(self) -> str:
        """The edit as canonical text (equal edits, equal keys)."""
        import json

        return json.dumps(self.to_table(), sort_keys=True, separators=(",", ":"), default=str)

    def ids(self) -> list[str]:
        """The ids of the objects it touches or makes."""
        if "ids" in self.data:
            return list(self.data["ids"])
        return [self.data["id"]] if "id" in self.data else []

    def describe(self) -> str:
        """A short label: ``add new-1``, ``remove B2, B3``."""
        ids = self.ids()
        shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        return f"{self.op} {shown}".strip()


def _number(v: Any, what: str, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EditError(f"{what} must be a number, got {v!r}")
    f = float(v)
    if not math.isfinite(f):
        raise EditError(f"{what} must be finite, got {v!r}")
    if positive and f <= 0:
        raise EditError(f"{what} must be more than 0, got {v!r}")
    return f


def _point(v: Any, what: str, dims: tuple[int, ...] = (2,)) -> list[float]:
    if not isinstance(v, (list, tuple)) or len(v) not in dims:
        want = " or ".join(str(d) for d in dims)
        raise EditError(f"{what} must be {want} numbers, got {v!r}")
    return [_number(x, what) for x in v]


def _ids(t: dict[str, Any]) -> list[str]:
    ids = t.get("ids")
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise EditError("'ids' must be a non-empty list of object ids")
    return list(ids)


def _id(t: dict[str, Any]) -> str:
    i = t.get("id")
    if not isinstance(i, str) or not i.strip():
        raise EditError("'id' must be a non-empty string")
    return i


def _attributes(t: dict[str, Any], key: str = "attributes") -> dict[str, Any]:
    a = t.get(key, {})
    if not isinstance(a, dict):
        raise EditError(f"'{key}' must be a table, got {a!r}")
    return dict(a)


def _height_storeys(t: dict[str, Any], out: dict[str, Any]) -> None:
    if "height" not in t and "storeys" not in t:
        raise EditError("give a height or a number of storeys")
    if "height" in t:
        out["height"] = _number(t["height"], "height", positive=True)
    if "storeys" in t:
        s = t["storeys"]
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise EditError(f"storeys must be a whole number of at least 1, got {s!r}")
        out["storeys"] = int(s)


def _unknown(t: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(t) - allowed - {"op"})
    if extra:
        raise EditError(f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)}")


def parse_edit(table: Any, number: int | None = None) -> Edit:
    """Check one ``[[edits]]`` table; :class:`EditError` (with ``number``) says what is wrong."""
    try:
        return _parse(table)
    except EditError as exc:
        raise EditError(exc.reason, number) from None


def _parse(t: Any) -> Edit:
    if not isinstance(t, dict):
        raise EditError(f"an edit must be a table, got {type(t).__name__}")
    op = t.get("op")
    if op not in OPS:
        raise EditError(f"unknown op {op!r} (one of {', '.join(OPS)})")
    d: dict[str, Any] = {}
    if op == "add":
        _unknown(t, {"id", "footprint", "height", "storeys", "roof", "roof_height", "ground", "type", "attributes"})
        d["id"] = _id(t)
        fp = t.get("footprint")
        if not isinstance(fp, list):
            raise EditError("'footprint' must be a list of [x, y] points")
        pts = [_point(p, "a footprint point", (2, 3))[:2] for p in fp]
        if len(pts) >= 2 and pts[0] == pts[-1]:
            pts = pts[:-1]
        problem = footprint_problem(np.asarray(pts, np.float64).reshape(-1, 2))
        if problem:
            raise EditError(problem)
        d["footprint"] = pts
        _height_storeys(t, d)
        roof = t.get("roof", "flat")
        if roof not in ROOFS:
            raise EditError(f"roof {roof!r}: one of {', '.join(ROOFS)}")
        d["roof"] = roof
        if "roof_height" in t:
            d["roof_height"] = _number(t["roof_height"], "roof_height")
        if "ground" in t:
            d["ground"] = _number(t["ground"], "ground")
        typ = t.get("type", "Building")
        if not isinstance(typ, str) or not typ:
            raise EditError("'type' must be a CityGML/CityJSON type name")
        d["type"] = typ
        d["attributes"] = _attributes(t)
    elif op == "remove":
        _unknown(t, {"ids"})
        d["ids"] = _ids(t)
    elif op == "set-height":
        _unknown(t, {"ids", "height", "storeys"})
        d["ids"] = _ids(t)
        _height_storeys(t, d)
    elif op == "move":
        _unknown(t, {"ids", "offset"})
        d["ids"] = _ids(t)
        d["offset"] = _point(t.get("offset"), "offset", (2, 3))
    elif op == "rotate":
        _unknown(t, {"ids", "angle", "about"})
        d["ids"] = _ids(t)
        d["angle"] = _number(t.get("angle"), "angle")
        if "about" in t:
            d["about"] = _point(t["about"], "about")
    elif op == "place-mesh":
        _unknown(t, {"id", "path", "at", "rotation", "scale", "up", "attributes", "type"})
        d["id"] = _id(t)
        path = t.get("path")
        if not isinstance(path, str) or not path:
            raise EditError("'path' must name a mesh file (OBJ, glTF, GLB, PLY, STL)")
        d["path"] = path
        d["at"] = _point(t.get("at"), "at", (2, 3))
        d["rotation"] = _number(t.get("rotation", 0.0), "rotation")
        d["scale"] = _number(t.get("scale", 1.0), "scale", positive=True)
        up = t.get("up", "auto")
        if up not in ("auto", "y", "z"):
            raise EditError(f"up {up!r}: auto, y or z")
        d["up"] = up
        d["type"] = str(t.get("type", "Building"))
        d["attributes"] = _attributes(t)
    else:  # set-attributes
        _unknown(t, {"ids", "attributes", "unset"})
        d["ids"] = _ids(t)
        d["attributes"] = _attributes(t)
        unset = t.get("unset", [])
        if not isinstance(unset, list) or not all(isinstance(k, str) for k in unset):
            raise EditError("'unset' must be a list of attribute names")
        if not d["attributes"] and not unset:
            raise EditError("give attributes to set or names to unset")
        if unset:
            d["unset"] = list(unset)
    return Edit(op, d)
