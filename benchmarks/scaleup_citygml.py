"""CityGML scale-up writer (see :mod:`scaleup`).

The source members (``cityObjectMember``) are streamed once with ``lxml.etree.iterparse``
and serialised one by one; each becomes a text template in which

* every ``gml:id``, ``xlink:href="#..."`` and ``app:target`` ``#...`` carries a
  placeholder for the tile suffix, and
* the integer part of every x and y in ``gml:pos`` / ``gml:posList`` is cut out (the tile
  pitch is a whole number of metres, so shifting a coordinate only changes its integer
  part and the text of the fraction is kept exactly).

Per tile the integers are shifted with numpy and the text is written out member by
member: the output is streamed, never built as a tree.
"""

from __future__ import annotations

import gzip
import math
import re
from pathlib import Path
from typing import IO, Any

import numpy as np
from lxml import etree

from scaleup import MARK, Grid, select_buildings, suffix

CORE_NS = {"1.0": "http://www.opengis.net/citygml/1.0", "2.0": "http://www.opengis.net/citygml/2.0"}
SCHEMA_2 = (
    "http://www.opengis.net/citygml/building/2.0 http://schemas.opengis.net/citygml/building/2.0/building.xsd "
    "http://www.opengis.net/citygml/appearance/2.0 http://schemas.opengis.net/citygml/appearance/2.0/appearance.xsd "
    "http://www.opengis.net/citygml/generics/2.0 http://schemas.opengis.net/citygml/generics/2.0/generics.xsd "
    "http://www.opengis.net/citygml/relief/2.0 http://schemas.opengis.net/citygml/relief/2.0/relief.xsd"
)
_ID_PATTERNS = [
    (re.compile(r'(\sgml:id="[^"]*)"'), r"\1" + MARK + '"'),
    (re.compile(r'(\sxlink:href="#[^"]*)"'), r"\1" + MARK + '"'),
    (re.compile(r"(<app:target>\s*#[^<\s]*)"), r"\1" + MARK),
]
_COORDS = re.compile(r"(<gml:pos(?:List)?(?:\s[^>]*)?>)([^<]*)")
_XMLNS = re.compile(r'\sxmlns(?::\w+)?="[^"]*"')
_NUMBER = re.compile(r"\S+")


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


class _Template:
    """Text of some members with the integer parts of x/y cut out."""

    def __init__(self, members: list[str]) -> None:
        text = "\n\t".join(members)
        for pat, rep in _ID_PATTERNS:
            text = pat.sub(rep, text)
        lits: list[str] = []
        ints: list[int] = []
        axis: list[int] = []
        xyz: list[float] = []
        pos = 0
        cur: list[str] = []
        for m in _COORDS.finditer(text):
            start = m.start(2)
            cur.append(text[pos:start])
            coords = m.group(2)
            q = 0
            for j, tok in enumerate(_NUMBER.finditer(coords)):
                s = tok.group()
                xyz.append(float(s))
                if j % 3 == 2:
                    continue
                if s.startswith(("-", "+")) or "e" in s.lower():
                    raise ValueError(f"cannot shift coordinate text {s!r}")
                dot = s.find(".")
                ip = s if dot < 0 else s[:dot]
                cur.append(coords[q : tok.start()])
                lits.append("".join(cur))
                cur = [s[len(ip) :]]
                ints.append(int(ip))
                axis.append(j % 3)
                q = tok.end()
            if len(xyz) % 3:
                raise ValueError("coordinate list is not 3D")
            cur.append(coords[q:])
            pos = m.end(2)
        cur.append(text[pos:])
        lits.append("".join(cur))
        self.lits = lits
        self.ints = np.array(ints, dtype=np.int64)
        self.is_x = np.array(axis, dtype=np.int64) == 0
        a = np.array(xyz, dtype=np.float64).reshape(-1, 3)
        self.lo = a.min(axis=0) if len(a) else np.zeros(3)
        self.hi = a.max(axis=0) if len(a) else np.zeros(3)

    def render(self, dx: int, dy: int, sfx: str) -> str:
        """The members' text shifted by (dx, dy) whole metres with ids suffixed."""
        vals = self.ints + np.where(self.is_x, dx, dy)
        parts: list[str] = [""] * (2 * len(vals) + 1)
        parts[0::2] = self.lits
        parts[1::2] = map(str, vals.tolist())
        return "".join(parts).replace(MARK, sfx)


class Source:
    """The source file streamed into member texts."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with _open(self.path) as f:
            head = f.read(1 << 16).decode("utf-8")
        cut = head.find("<cityObjectMember")
        if cut < 0:
            raise ValueError(f"{path}: no cityObjectMember in the first 64 KiB")
        self.header = head[:cut]
        self.buildings: list[str] = []
        self.members: list[tuple[str, str | None, str]] = []  # (type, building id, text)
        self.parts: dict[str, int] = {}
        core = re.search(r'xmlns="([^"]+)"', self.header)
        ns = core.group(1) if core else CORE_NS["1.0"]
        with _open(self.path) as f:
            for _ev, el in etree.iterparse(f, events=("end",), tag=f"{{{ns}}}cityObjectMember"):
                text = etree.tostring(el, encoding="unicode", with_tail=False)
                end = text.index(">")
                text = _XMLNS.sub("", text[:end]) + text[end:]
                child = el[0] if len(el) else None
                kind = etree.QName(child).localname if child is not None else ""
                bid = None
                if kind == "Building":
                    bid = child.get("{http://www.opengis.net/gml}id")
                    self.buildings.append(bid)
                    self.parts[bid] = len(child.findall(".//{*}BuildingPart"))
                self.members.append((kind, bid, text))
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]

    def template(self, keep: set[str], terrain: bool) -> _Template:
        """Template of the members of a tile holding the Buildings in ``keep``."""
        texts = [t for kind, bid, t in self.members if (bid in keep if kind == "Building" else terrain)]
        return _Template(texts)


def _header(src: Source, bbox: list[float], version: str) -> str:
    head = src.header
    lo = " ".join(_fmt(v) for v in bbox[:3])
    hi = " ".join(_fmt(v) for v in bbox[3:])
    head = re.sub(r"(<gml:lowerCorner>)[^<]*", lambda m: m.group(1) + lo, head, count=1)
    head = re.sub(r"(<gml:upperCorner>)[^<]*", lambda m: m.group(1) + hi, head, count=1)
    if version == "2.0":
        head = re.sub(r"(http://www\.opengis\.net/citygml(?:/\w+)?)/1\.0", r"\1/2.0", head)
        head = re.sub(r'xsi:schemaLocation="[^"]*"', f'xsi:schemaLocation="{SCHEMA_2}"', head)
    return head


def _fmt(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".")


def write_citygml(
    source: Path, out: Path, buildings: int, *, terrain: bool = True, version: str = "1.0"
) -> dict[str, Any]:
    """Write a CityGML scale-up file; returns counts and bbox."""
    src = Source(source)
    full = src.template(set(src.buildings), terrain)
    ext = full.hi - full.lo
    pitch = (math.ceil(ext[0]), math.ceil(ext[1]))
    grid = Grid(buildings, len(src.buildings), pitch)
    last_keep = select_buildings(src.buildings, grid.count(grid.n_tiles - 1))
    last = full if len(last_keep) == len(src.buildings) else src.template(last_keep, terrain)
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    n_parts = 0
    for k in range(grid.n_tiles):
        t = last if k == grid.n_tiles - 1 else full
        dx, dy = grid.offset(k)
        lo = np.minimum(lo, t.lo + [dx, dy, 0])
        hi = np.maximum(hi, t.hi + [dx, dy, 0])
        keep = last_keep if k == grid.n_tiles - 1 else src.buildings
        n_parts += sum(src.parts[b] for b in keep)
    bbox = [round(float(v), 3) for v in (*lo, *hi)]
    n_terrain = sum(1 for kind, _b, _t in src.members if kind != "Building")
    with open(out, "w", encoding="utf-8") as f:
        f.write(_header(src, bbox, version))
        for k in range(grid.n_tiles):
            t = last if k == grid.n_tiles - 1 else full
            dx, dy = grid.offset(k)
            f.write(("\n\t" if k else "") + t.render(dx, dy, suffix(k)))
        f.write("\n</CityModel>\n")
    return {
        "buildings": grid.n_buildings,
        "building_parts": n_parts,
        "terrain": grid.n_tiles * n_terrain if terrain else 0,
        "terrain_type": ["ReliefFeature"] if n_terrain else [],
        "tiles": grid.n_tiles,
        "grid": [grid.cols, grid.rows],
        "pitch": [float(p) for p in pitch],
        "bbox": bbox,
        "version": version,
    }
