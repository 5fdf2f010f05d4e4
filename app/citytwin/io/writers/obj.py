"""Write a :class:`CityModel` as Wavefront OBJ + MTL, one ``o`` per city object.

Vertices are written relative to the model's float64 origin with 4 decimals (OBJ
readers parse float32, which cannot hold Dutch RD coordinates to the millimetre);
the origin and CRS are in a ``# origin x y z crs NAME`` header comment, which
:func:`citytwin.io.mesh.read_mesh` applies when re-reading. ``absolute=True`` writes
world coordinates instead (and ``# origin 0 0 0``).
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import numpy as np

from ...core.crs import crs_label
from ...model import CityModel
from ._select import clean_name, select_triangles
from .palette import semantic_color, semantic_name

log = logging.getLogger(__name__)


def write_obj(
    model: CityModel, path: str | Path, lod: float | str = "best", *, absolute: bool = False
) -> Path:
    """Write the triangles of ``lod`` to ``path`` (OBJ) and a sibling ``.mtl``.

    Parameters
    ----------
    model : CityModel
    path : str or Path
        Output ``.obj`` file; the material library goes next to it with suffix ``.mtl``.
    lod : float or {"best", "lowest"}
        LoD to export, as for :meth:`CityModel.lod_triangle_mask`.
    absolute : bool
        Write world coordinates instead of coordinates relative to the model origin.

    Returns
    -------
    Path
        The OBJ file written.
    """
    p = Path(path)
    sel = select_triangles(model, lod, by_object=True)
    n = len(sel.triangles)
    # textured triangles (texture index and finite uv on all corners) keep their texture
    tex = np.full(n, -1, np.int64)
    uv = None
    tri_uv = model.tri_uv
    if tri_uv is not None and model.textures and n:
        tex = model.polygons.texture[model.tri_poly[sel.index]].astype(np.int64)
        uv = tri_uv[sel.index]
        tex = np.where((tex >= 0) & np.isfinite(uv).all(axis=(1, 2)), tex, -1)
    # one material per semantic class, and per (class, texture) for textured triangles
    mat_key = np.where(tex >= 0, (tex + 1) * 256 + sel.semantic, sel.semantic)
    order = np.lexsort((mat_key, sel.obj))
    tris, obj, sem, mat_key, tex = sel.triangles[order], sel.obj[order], sel.semantic[order], mat_key[order], tex[order]

    used, inv = np.unique(tris, return_inverse=True)
    faces = inv.reshape(-1, 3) + 1
    xyz = model.vertices[used].astype(np.float64)
    origin = np.zeros(3) if absolute else np.asarray(model.origin, np.float64)
    if absolute:
        xyz += model.origin
    label = crs_label(model.crs) if model.crs is not None else ""
    label = label if label and " " not in label else ""
    mtl_path = p.with_suffix(".mtl")

    head = io.StringIO()
    head.write(f"# citytwin OBJ export of {clean_name(Path(model.source).name, 'model')}\n")
    head.write(f"# {len(faces)} triangles, {len(used)} vertices, LoD {lod}\n")
    crs_part = f" crs {label}" if label else ""
    head.write(f"# origin {origin[0]:.4f} {origin[1]:.4f} {origin[2]:.4f}{crs_part}\n")
    head.write("# world coordinates = vertex + origin\n")
    head.write(f"mtllib {mtl_path.name}\n")

    vbuf = io.BytesIO()
    vbuf.write(format_rows(xyz, "v %.4f %.4f %.4f"))
    textured = tex >= 0
    plain = _Block(faces[~textured], "f %d %d %d")
    with_uv = _Block(np.zeros((0, 6), np.int64), "")
    if textured.any() and uv is not None:
        tuv = uv[order][textured].reshape(-1, 2)
        uvs, uv_inv = np.unique(tuv, axis=0, return_inverse=True)
        vbuf.write(format_rows(uvs, "vt %.6f %.6f"))
        vt = uv_inv.reshape(-1, 3) + 1
        with_uv = _Block(np.stack([faces[textured], vt], axis=2).reshape(-1, 6), "f %d/%d %d/%d %d/%d")
    rank = np.where(textured, np.cumsum(textured) - 1, np.cumsum(~textured) - 1)

    change = np.flatnonzero((obj[1:] != obj[:-1]) | (mat_key[1:] != mat_key[:-1])) + 1
    starts = np.concatenate([[0], change]).astype(np.int64) if n else np.zeros(0, np.int64)
    ends = np.concatenate([change, [n]]).astype(np.int64) if n else np.zeros(0, np.int64)
    ids = model.objects.ids
    chunks: list[bytes] = [head.getvalue().encode("utf-8"), vbuf.getvalue()]
    prev_obj = -1
    for a, b in zip(starts.tolist(), ends.tolist()):
        o = int(obj[a])
        if o != prev_obj:
            chunks.append(f"o {clean_name(ids[o], f'object-{o}')}\n".encode())
            prev_obj = o
        chunks.append(f"usemtl {_material_name(int(sem[a]), int(tex[a]))}\n".encode())
        block = with_uv if textured[a] else plain
        chunks.append(block.rows(int(rank[a]), int(rank[b - 1]) + 1))
    p.write_bytes(b"".join(chunks))

    mtl = io.StringIO()
    mtl.write("# citytwin materials: one per semantic surface class (and texture)\n")
    keys = np.unique(mat_key).tolist()
    for k in keys:
        c, t = k % 256, k // 256 - 1
        r, g, b = semantic_color(int(c)) if t < 0 else (1.0, 1.0, 1.0)
        mtl.write(f"\nnewmtl {_material_name(int(c), int(t))}\nKa {r:.4f} {g:.4f} {b:.4f}\n")
        mtl.write(f"Kd {r:.4f} {g:.4f} {b:.4f}\nKs 0.0000 0.0000 0.0000\nd 1.0\nillum 1\n")
        if t >= 0:
            mtl.write(f"map_Kd {_texture_ref(model.textures[t].get('path', ''), p.parent)}\n")
    mtl_path.write_text(mtl.getvalue(), encoding="utf-8")
    log.info("wrote %s: %d objects, %d triangles", p, len(np.unique(obj)), n)
    return p


def format_rows(values: np.ndarray, fmt: str, chunk: int = 200_000) -> bytes:
    """Every row of ``values`` formatted with ``fmt`` plus a newline, as bytes.

    One ``%`` operation per chunk of rows (C speed); ``np.savetxt`` formats row by
    row in Python and is 3-7x slower.
    """
    out = []
    for i in range(0, len(values), chunk):
        part = values[i : i + chunk]
        out.append((((fmt + "\n") * len(part)) % tuple(part.ravel().tolist())).encode("ascii"))
    return b"".join(out)


class _Block:
    """Rows formatted at once by :func:`format_rows`; :meth:`rows` cuts a run of them."""

    def __init__(self, values: np.ndarray, fmt: str) -> None:
        self.text = format_rows(values, fmt) if len(values) else b""
        end = np.flatnonzero(np.frombuffer(self.text, np.uint8) == 10) + 1
        self.end = end
        self.start = np.concatenate([[0], end[:-1]]).astype(np.int64)

    def rows(self, i: int, j: int) -> bytes:
        """Rows ``i..j-1`` (with their newlines)."""
        return self.text[self.start[i] : self.end[j - 1]]


def _material_name(semantic: int, texture: int) -> str:
    """``RoofSurface``; ``RoofSurface-tex3`` for the class's triangles with texture 3."""
    name = semantic_name(semantic)
    return f"{name}-tex{texture}" if texture >= 0 else name


def _texture_ref(path: str, out_dir: Path) -> str:
    """The image path: relative when the image lies under the OBJ's folder, else absolute."""
    try:
        rel = os.path.relpath(path, out_dir)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")
