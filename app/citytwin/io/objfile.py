"""A small, vectorised Wavefront OBJ + MTL parser.

Why our own parser and not trimesh for OBJ: trimesh triangulates every face (so
polygons with more than three corners are lost), splits objects per material and
renames the pieces (``name_1``, ``name_2``), and is 3-4x slower than this parser on the
3dfier Delft file once asked to keep objects apart. Here lines are classified with
numpy on the raw bytes, the ``v`` and ``f`` lines are each parsed in one
``np.fromstring`` call, and state lines (``o``, ``g``, ``usemtl``, ``mtllib``) — a
few per object — are the only ones that reach Python one by one.

Supported: ``v`` (extra ``w``/colour columns ignored), ``vt``, ``f`` with ``v``,
``v/vt``, ``v/vt/vn`` and ``v//vn`` corners, negative (relative) indices, polygons of
any size (kept as polygons), ``o``/``g`` groups, ``usemtl``, ``mtllib``, line
continuations, CRLF line ends and a ``# origin x y z [crs NAME]`` header comment
(written by :func:`citytwin.io.writers.write_obj`).
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

_WS = np.array([32, 9, 10, 11, 12, 13], dtype=np.uint8)
_IS_WS = np.zeros(256, bool)
_IS_WS[_WS] = True
_ORIGIN_RE = re.compile(
    rb"^#\s*origin\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+crs\s+(\S+))?", re.MULTILINE | re.IGNORECASE
)


@dataclass
class ObjData:
    """What :func:`parse_obj` found, as flat arrays (faces are the kept ones only)."""

    vertices: NDArray[np.float64]  # (N, 3)
    uv: NDArray[np.float64] | None  # (M, 2) from vt lines
    corners: NDArray[np.int64]  # 0-based vertex index of every corner of every kept face
    sizes: NDArray[np.int64]  # corners per kept face
    corner_uv: NDArray[np.int64] | None  # 0-based vt index per corner, -1 where none
    face_group: NDArray[np.int64]  # index into group_names per kept face
    face_mtl: NDArray[np.int64]  # index into mtl_names per kept face, -1 where none
    group_names: list[str]
    mtl_names: list[str]
    objects_from: str  # "o", "g" or "file"
    mtllibs: list[str] = field(default_factory=list)
    bad_index_faces: int = 0  # faces skipped: a corner index out of range or unreadable
    short_faces: int = 0  # faces skipped: fewer than three corners
    bad_vertices: int = 0  # v lines without three readable numbers
    origin: tuple[NDArray[np.float64], str | None] | None = None  # from '# origin' comment


@dataclass
class Mtl:
    """One ``newmtl`` of an MTL file."""

    name: str
    kd: tuple[float, float, float] | None = None
    d: float = 1.0
    map_kd: str | None = None


def _tokens_per_line(blob: bytes, n_lines: int) -> NDArray[np.int64]:
    """Number of whitespace-separated tokens on each ``\\n``-separated line of ``blob``."""
    if not blob:
        return np.zeros(n_lines, np.int64)
    a = np.frombuffer(blob, np.uint8)
    ws = _IS_WS[a]
    start = ~ws
    start[1:] &= ws[:-1]
    line = np.searchsorted(np.flatnonzero(a == 10), np.flatnonzero(start))
    return np.bincount(line, minlength=n_lines)[:n_lines].astype(np.int64)


def _fromstring(blob: bytes, dtype: type) -> NDArray | None:
    """Parse all numbers of ``blob`` at once; None when some token is not a number."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return np.fromstring(blob, dtype=dtype, sep=" ")  # text mode, not deprecated
        except (ValueError, DeprecationWarning):
            return None


def _parse_numbers(payloads: list[bytes], dtype: type) -> tuple[NDArray, NDArray[np.int64]]:
    """All numbers of several lines and the count per line (garbage lines count 0)."""
    blob = b"\n".join(payloads)
    counts = _tokens_per_line(blob, len(payloads))
    values = _fromstring(blob, dtype)
    if values is not None and len(values) == int(counts.sum()):
        return values, counts
    # slow path: some line has a token that is not a number; drop those lines
    vals: list[float | int] = []
    for k, line in enumerate(payloads):
        try:
            nums = [dtype(t) for t in line.split()]
        except ValueError:
            counts[k] = 0
            continue
        vals.extend(nums)
        counts[k] = len(nums)
    return np.asarray(vals, dtype=dtype), counts


def _resolve(idx: NDArray[np.int64], n_before: NDArray[np.int64], n_total: int) -> NDArray[np.int64]:
    """1-based / negative OBJ indices to 0-based; -1 where invalid."""
    out = np.where(idx < 0, n_before + idx, idx - 1)
    out[(idx == 0) | (out < 0) | (out >= n_total)] = -1
    return out


def parse_obj(data: bytes) -> ObjData:
    """Parse the bytes of an OBJ file; see the module docstring for what is supported."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b"\\\n" in data:
        data = data.replace(b"\\\n", b" ")
    lines = data.split(b"\n")
    arr = np.frombuffer(data, np.uint8)
    starts = np.concatenate([[0], np.flatnonzero(arr == 10) + 1])
    pad = np.concatenate([arr, np.zeros(4, np.uint8)])
    c0, c1, c2 = pad[starts], pad[starts + 1], pad[starts + 2]
    if ((c0 == 32) | (c0 == 9)).any():  # indented lines: strip them and start again
        lines = [ln.lstrip() for ln in lines]
        data = b"\n".join(lines)
        arr = np.frombuffer(data, np.uint8)
        starts = np.concatenate([[0], np.flatnonzero(arr == 10) + 1])
        pad = np.concatenate([arr, np.zeros(4, np.uint8)])
        c0, c1, c2 = pad[starts], pad[starts + 1], pad[starts + 2]
    sep1 = _IS_WS[c1]
    v_ln = np.flatnonzero((c0 == ord("v")) & sep1)
    vt_ln = np.flatnonzero((c0 == ord("v")) & (c1 == ord("t")) & _IS_WS[c2])
    f_ln = np.flatnonzero((c0 == ord("f")) & sep1)
    state_ln = np.flatnonzero(np.isin(c0, np.frombuffer(b"ogum", np.uint8)))

    # ------------------------------------------------------------- vertices
    vals, counts = _parse_numbers([lines[i][1:] for i in v_ln.tolist()], np.float64)
    n_v = len(v_ln)
    if len(vals) == 3 * n_v and (counts == 3).all():
        verts = vals.reshape(-1, 3)
    else:
        off = np.concatenate([[0], np.cumsum(counts)[:-1]])
        verts = np.full((n_v, 3), np.nan)
        for k in range(3):
            has = counts > k
            verts[has, k] = vals[off[has] + k]
    bad_vertices = int((~np.isfinite(verts).all(axis=1)).sum())

    uv = None
    if len(vt_ln):
        tvals, tcounts = _parse_numbers([lines[i][2:] for i in vt_ln.tolist()], np.float64)
        toff = np.concatenate([[0], np.cumsum(tcounts)[:-1]])
        uv = np.full((len(vt_ln), 2), np.nan)
        for k in range(2):
            has = tcounts > k
            uv[has, k] = tvals[toff[has] + k]

    # ---------------------------------------------------------------- faces
    f_payload = [lines[i][1:] for i in f_ln.tolist()]
    blob = b"\n".join(f_payload)
    has_slash = b"/" in blob
    vblob = re.sub(rb"/\S*", b"", blob) if has_slash else blob
    n_f = len(f_ln)
    sizes = _tokens_per_line(vblob, n_f)
    idx = _fromstring(vblob, np.int64)
    unreadable = np.zeros(n_f, bool)
    if idx is None or len(idx) != int(sizes.sum()):
        parts: list[int] = []
        for k, line in enumerate(vblob.split(b"\n")):
            try:
                nums = [int(t) for t in line.split()]
            except ValueError:
                unreadable[k] = True
                sizes[k] = 0
                continue
            parts.extend(nums)
            sizes[k] = len(nums)
        idx = np.asarray(parts, np.int64)
    corner_face = np.repeat(np.arange(n_f), sizes)
    v_before = np.searchsorted(v_ln, f_ln)[corner_face]
    corners = _resolve(idx, v_before, n_v)
    bad_v = ~np.isfinite(verts).all(axis=1)
    corner_bad = corners < 0
    if bad_v.any():
        corner_bad |= bad_v[np.maximum(corners, 0)]
    face_bad = np.zeros(n_f, bool)
    np.logical_or.at(face_bad, corner_face, corner_bad)
    face_bad |= unreadable
    short = (sizes < 3) & ~unreadable
    keep = ~face_bad & ~short

    corner_uv = None
    if uv is not None and has_slash:
        vt_raw = np.array(
            [_vt_index(t) for k, line in enumerate(blob.split(b"\n")) if not unreadable[k]
             for t in line.split()],
            np.int64,
        )
        if len(vt_raw) == len(idx):
            vt_before = np.searchsorted(vt_ln, f_ln)[corner_face]
            corner_uv = _resolve(vt_raw, vt_before, len(vt_ln))
    ckeep = keep[corner_face]

    # ----------------------------------------------------- o / g / usemtl
    groups_o: list[tuple[int, str]] = []
    groups_g: list[tuple[int, str]] = []
    mtls: list[tuple[int, str]] = []
    mtllibs: list[str] = []
    for i in state_ln.tolist():
        text = lines[i].decode("utf-8", "replace").strip()
        key, _, rest = text.partition(" ")
        if "\t" in key:
            key, _, rest2 = key.partition("\t")
            rest = f"{rest2} {rest}".strip()
        rest = rest.strip()
        if key == "o":
            groups_o.append((i, rest or "unnamed"))
        elif key == "g":
            groups_g.append((i, rest or "default"))
        elif key == "usemtl":
            mtls.append((i, rest))
        elif key == "mtllib" and rest:
            mtllibs.append(rest)
    if groups_o:
        chosen, objects_from = groups_o, "o"
    elif groups_g:
        chosen, objects_from = groups_g, "g"
    else:
        chosen, objects_from = [], "file"
    face_group, group_names = _assign(chosen, f_ln)
    face_mtl, mtl_names = _assign(mtls, f_ln)

    origin = None
    m = _ORIGIN_RE.search(data[:4096])
    if m:
        try:
            xyz = np.array([float(m.group(k)) for k in (1, 2, 3)])
            origin = (xyz, m.group(4).decode() if m.group(4) else None)
        except ValueError:
            origin = None

    return ObjData(
        vertices=verts,
        uv=uv,
        corners=corners[ckeep],
        sizes=sizes[keep],
        corner_uv=corner_uv[ckeep] if corner_uv is not None else None,
        face_group=face_group[keep],
        face_mtl=face_mtl[keep],
        group_names=group_names,
        mtl_names=mtl_names,
        objects_from=objects_from,
        mtllibs=mtllibs,
        bad_index_faces=int(face_bad.sum()),
        short_faces=int(short.sum()),
        bad_vertices=bad_vertices,
        origin=origin,
    )


def _vt_index(token: bytes) -> int:
    """The ``vt`` part of a ``v/vt/vn`` corner (0 = none)."""
    parts = token.split(b"/")
    if len(parts) < 2 or not parts[1]:
        return 0
    try:
        return int(parts[1])
    except ValueError:
        return 0


def _assign(
    state: list[tuple[int, str]], f_ln: NDArray[np.int64]
) -> tuple[NDArray[np.int64], list[str]]:
    """Per face, the index of the name set by the last state line before it (-1 if none).

    Repeated names map to the same index (an OBJ may switch back to a group)."""
    if not state:
        return np.full(len(f_ln), -1, np.int64), []
    names: list[str] = []
    lookup: dict[str, int] = {}
    codes = np.empty(len(state), np.int64)
    for k, (_, name) in enumerate(state):
        if name not in lookup:
            lookup[name] = len(names)
            names.append(name)
        codes[k] = lookup[name]
    pos = np.asarray([ln for ln, _ in state], np.int64)
    which = np.searchsorted(pos, f_ln, side="right") - 1
    out = np.where(which >= 0, codes[np.maximum(which, 0)], -1)
    return out, names


def parse_mtl(path: Path) -> list[Mtl]:
    """Materials of an MTL file (``Kd``, ``d``/``Tr`` and ``map_Kd`` are kept)."""
    out: list[Mtl] = []
    cur: Mtl | None = None
    text = path.read_bytes().decode("utf-8", "replace")
    for raw in text.splitlines():
        parts = raw.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        key = parts[0].lower()
        if key == "newmtl":
            cur = Mtl(name=raw.strip()[6:].strip())
            out.append(cur)
        elif cur is None:
            continue
        elif key == "kd" and len(parts) >= 4:
            try:
                r, g, b = (float(x) for x in parts[1:4])
                cur.kd = (r, g, b)
            except ValueError:
                pass
        elif key == "d" and len(parts) >= 2:
            try:
                cur.d = float(parts[-1])
            except ValueError:
                pass
        elif key == "tr" and len(parts) >= 2:
            try:
                cur.d = 1.0 - float(parts[-1])
            except ValueError:
                pass
        elif key == "map_kd" and len(parts) >= 2:
            cur.map_kd = _map_file(raw.strip()[len(parts[0]) :].strip()).replace("\\", "/")
    return out


def _map_file(rest: str) -> str:
    """The file name of a ``map_Kd [options] file`` statement (options skipped)."""
    toks = rest.split()
    n_args = {"-mm": 2, "-o": 3, "-s": 3, "-t": 3}
    k = 0
    while k < len(toks) - 1 and toks[k].startswith("-"):
        n = n_args.get(toks[k], 1)
        k += 1
        taken = 0
        while taken < n and k < len(toks) - 1:
            if taken and not _is_number(toks[k]):
                break
            k += 1
            taken += 1
    return " ".join(toks[k:])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
