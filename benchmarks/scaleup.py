"""Scale-up files for load benchmarks: a real tile repeated on a grid with new ids.

The Den Haag tile (844 Buildings + 1653 BuildingParts + 1 TINRelief, the same content
in CityJSON 1.0 and CityGML 1.0 in ``/work/shared/data``) is copied ``ceil(N / 844)``
times onto a square-ish grid until there are exactly N top-level Buildings:

* tile ``k`` sits at column ``k % cols``, row ``k // cols``, shifted by whole multiples
  of the tile pitch, which is the tile extent rounded **up** to whole metres
  (788 m x 672 m; 788000 x 672000 in the CityJSON quantised units). Tiles therefore
  never overlap and the GML text can be shifted exactly by rewriting integer parts;
* every id (CityObject keys, parents/children, ``gml:id``, ``xlink:href="#..."``,
  ``app:target``) gets the suffix ``-t<k>``;
* the last tile may be partial: it holds the first ``m`` Buildings in *sorted id order*
  (the same buildings in both encodings) with all their BuildingParts;
* the TIN terrain is included once per tile (a ``TINRelief`` CityJSONFeature /
  a ``dem:ReliefFeature`` member) unless ``--no-terrain``.

Formats: ``jsonl`` (CityJSONSeq, CityJSON 2.0), ``json`` (one CityJSON 2.0 file) and
``gml`` (CityGML 1.0 as the source, or 2.0 namespaces with ``--gml-version 2.0``).
Output goes to ``.cache/scaleup/`` (git-ignored) with a sidecar ``<file>.params.json``;
a file whose sidecar holds the same parameters is not written again.

Usage::

    python benchmarks/scaleup.py --buildings 100000 --format jsonl --out .cache/scaleup
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CITYJSON_SOURCE = DATA / "cityjson" / "denhaag" / "DenHaag_01_v1.0.city.json"
CITYGML_SOURCE = DATA / "citygml" / "denhaag" / "DenHaag_01.gml.gz"
DEFAULT_OUT = REPO / ".cache" / "scaleup"
BUILDINGS_PER_TILE = 844
GENERATOR_VERSION = 1
SUFFIXES = {"jsonl": ".city.jsonl", "json": ".city.json", "gml": ".gml"}
MARK = "@@T@@"  # placeholder for the tile suffix inside templates

log = logging.getLogger("scaleup")
if str(Path(__file__).resolve().parent) not in sys.path:  # sibling modules scaleup_cityjson/_citygml
    sys.path.insert(0, str(Path(__file__).resolve().parent))


@dataclass(frozen=True)
class Grid:
    """Where the copies of a tile go.

    Parameters
    ----------
    n_buildings : int
        Total number of top-level Buildings wanted.
    per_tile : int
        Buildings in one full tile.
    pitch : tuple of int
        Tile pitch (x, y) in the unit of the coordinates being shifted.
    """

    n_buildings: int
    per_tile: int
    pitch: tuple[int, int]

    @property
    def n_tiles(self) -> int:
        return max(1, math.ceil(self.n_buildings / self.per_tile))

    @property
    def cols(self) -> int:
        return math.ceil(math.sqrt(self.n_tiles))

    @property
    def rows(self) -> int:
        return math.ceil(self.n_tiles / self.cols)

    def cell(self, k: int) -> tuple[int, int]:
        """Column and row of tile ``k``."""
        return k % self.cols, k // self.cols

    def offset(self, k: int) -> tuple[int, int]:
        """Shift of tile ``k`` (x, y) in pitch units."""
        i, j = self.cell(k)
        return i * self.pitch[0], j * self.pitch[1]

    def count(self, k: int) -> int:
        """Number of Buildings in tile ``k`` (the last one may be partial)."""
        if k < self.n_tiles - 1:
            return self.per_tile
        return self.n_buildings - self.per_tile * (self.n_tiles - 1)


def suffix(k: int) -> str:
    """The id suffix of tile ``k``."""
    return f"-t{k}"


def select_buildings(ids: list[str], m: int) -> set[str]:
    """The Buildings kept in a tile of ``m`` buildings: the first ``m`` ids in sorted order."""
    if m >= len(ids):
        return set(ids)
    return set(sorted(ids)[:m])


def output_path(fmt: str, buildings: int, out: Path, terrain: bool = True, gml_version: str = "1.0") -> Path:
    """File name of a scale-up file for these parameters."""
    tag = "" if terrain else "_noterrain"
    if fmt == "gml" and gml_version != "1.0":
        tag += "_v" + gml_version.replace(".", "")
    return Path(out) / f"denhaag_x{buildings}{tag}{SUFFIXES[fmt]}"


def sidecar_path(path: Path) -> Path:
    """The parameters/result JSON written next to a generated file."""
    return path.with_name(path.name + ".params.json")


def _params(fmt: str, buildings: int, terrain: bool, gml_version: str) -> dict[str, Any]:
    src = CITYGML_SOURCE if fmt == "gml" else CITYJSON_SOURCE
    params: dict[str, Any] = {
        "generator": GENERATOR_VERSION,
        "format": fmt,
        "buildings": buildings,
        "terrain": terrain,
        "source": str(src),
        "source_bytes": src.stat().st_size,
    }
    if fmt == "gml":
        params["gml_version"] = gml_version
    return params


def cached(path: Path, params: dict[str, Any]) -> dict[str, Any] | None:
    """The sidecar of ``path`` when the file exists and was made with ``params``, else None."""
    side = sidecar_path(path)
    if not path.exists() or not side.exists():
        return None
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("params") != params or meta.get("result", {}).get("bytes") != path.stat().st_size:
        return None
    return meta


def generate(
    fmt: str,
    buildings: int = 100_000,
    out: str | Path = DEFAULT_OUT,
    *,
    terrain: bool = True,
    gml_version: str = "1.0",
    force: bool = False,
) -> dict[str, Any]:
    """Write (or find in the cache) one scale-up file.

    Parameters
    ----------
    fmt : {"jsonl", "json", "gml"}
        Output format.
    buildings : int
        Number of top-level Buildings (N).
    out : path
        Output folder (created).
    terrain : bool
        Include the TIN terrain once per tile.
    gml_version : {"1.0", "2.0"}
        CityGML namespaces written (``gml`` only).
    force : bool
        Write even when a cached file with the same parameters exists.

    Returns
    -------
    dict
        ``{"path", "params", "result", "cached"}``; ``result`` holds the counts
        (``buildings``, ``building_parts``, ``terrain``, ``tiles``, ``grid``), ``bbox``,
        ``bytes`` and ``seconds``.
    """
    if fmt not in SUFFIXES:
        raise ValueError(f"unknown format {fmt!r} (expected jsonl, json or gml)")
    if buildings < 1:
        raise ValueError("buildings must be >= 1")
    if gml_version not in ("1.0", "2.0"):
        raise ValueError("gml_version must be 1.0 or 2.0")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = output_path(fmt, buildings, out, terrain, gml_version)
    params = _params(fmt, buildings, terrain, gml_version)
    if not force:
        meta = cached(path, params)
        if meta is not None:
            log.info("cached: %s", path)
            return {"path": path, "params": params, "result": meta["result"], "cached": True}
    t0 = time.perf_counter()
    tmp = path.with_name(path.name + ".part")
    if fmt == "gml":
        from scaleup_citygml import write_citygml

        result = write_citygml(CITYGML_SOURCE, tmp, buildings, terrain=terrain, version=gml_version)
    else:
        from scaleup_cityjson import write_cityjson, write_cityjsonseq

        writer = write_cityjsonseq if fmt == "jsonl" else write_cityjson
        result = writer(CITYJSON_SOURCE, tmp, buildings, terrain=terrain)
    tmp.replace(path)
    result["bytes"] = path.stat().st_size
    result["seconds"] = round(time.perf_counter() - t0, 3)
    sidecar_path(path).write_text(json.dumps({"params": params, "result": result}, indent=1))
    log.info("wrote %s (%.1f MB) in %.2f s", path, result["bytes"] / 1e6, result["seconds"])
    return {"path": path, "params": params, "result": result, "cached": False}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``scaleup.py --buildings N --format jsonl|json|gml --out DIR``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--buildings", "-n", type=int, default=100_000, help="top-level Buildings (default 100000)"
    )
    ap.add_argument("--format", "-f", choices=sorted(SUFFIXES), default="jsonl")
    ap.add_argument(
        "--out", "-o", type=Path, default=DEFAULT_OUT, help="output folder (default .cache/scaleup)"
    )
    ap.add_argument("--no-terrain", action="store_true", help="leave the TIN terrain out")
    ap.add_argument("--gml-version", choices=["1.0", "2.0"], default="1.0")
    ap.add_argument("--force", action="store_true", help="write even if a cached file matches")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    res = generate(
        args.format,
        args.buildings,
        args.out,
        terrain=not args.no_terrain,
        gml_version=args.gml_version,
        force=args.force,
    )
    r = res["result"]
    state = "cached" if res["cached"] else f"written in {r['seconds']:.2f} s"
    sys.stdout.write(
        f"{res['path']}  {r['bytes'] / 1e6:.1f} MB  {r['buildings']} Buildings, {r['building_parts']} BuildingParts, "
        f"{r['terrain']} terrain, {r['tiles']} tiles on {r['grid'][0]}x{r['grid'][1]}  ({state})\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
