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
    used, inv = np.unique(sel.triangles, return_inverse=True)
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
    np.savetxt(vbuf, xyz, fmt="v %.4f %.4f %.4f")
    fbuf = io.BytesIO()
    np.savetxt(fbuf, faces, fmt="f %d %d %d")
    ftext = fbuf.getvalue()
    # byte offset of every face line, to cut the face block at group boundaries
    line_end = np.flatnonzero(np.frombuffer(ftext, np.uint8) == 10) + 1
    line_start = np.concatenate([[0], line_end[:-1]])

    n = len(faces)
    change = np.flatnonzero((sel.obj[1:] != sel.obj[:-1]) | (sel.semantic[1:] != sel.semantic[:-1])) + 1
    starts = np.concatenate([[0], change]).astype(np.int64) if n else np.zeros(0, np.int64)
    ends = np.concatenate([change, [n]]).astype(np.int64) if n else np.zeros(0, np.int64)
    ids = model.objects.ids
    chunks: list[bytes] = [head.getvalue().encode("utf-8"), vbuf.getvalue()]
    prev_obj = -1
    for s, e in zip(starts.tolist(), ends.tolist()):
        o = int(sel.obj[s])
        if o != prev_obj:
            chunks.append(f"o {clean_name(ids[o], f'object-{o}')}\n".encode())
            prev_obj = o
        chunks.append(f"usemtl {semantic_name(int(sel.semantic[s]))}\n".encode())
        chunks.append(ftext[line_start[s] : line_end[e - 1]])
    p.write_bytes(b"".join(chunks))

    classes = np.unique(sel.semantic).tolist()
    mtl = io.StringIO()
    mtl.write("# citytwin materials: one per semantic surface class\n")
    for c in classes:
        r, g, b = semantic_color(int(c))
        mtl.write(f"\nnewmtl {semantic_name(int(c))}\nKa {r:.4f} {g:.4f} {b:.4f}\n")
        mtl.write(f"Kd {r:.4f} {g:.4f} {b:.4f}\nKs 0.0000 0.0000 0.0000\nd 1.0\nillum 1\n")
    mtl_path.write_text(mtl.getvalue(), encoding="utf-8")
    log.info("wrote %s: %d objects, %d triangles", p, len(np.unique(sel.obj)), n)
    return p
