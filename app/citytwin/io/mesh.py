"""Read plain meshes (OBJ, PLY, STL, glTF/GLB, OFF) into a :class:`CityModel`.

OBJ goes through our own vectorised parser (:mod:`citytwin.io.objfile`): it keeps
polygons, ``o``/``g`` objects and ``usemtl`` materials as they are and is several
times faster than trimesh on city-sized OBJ files. Every other format goes through
trimesh; its scene nodes (glTF nodes, one per geometry otherwise) become objects.

Meshes carry no CRS: the user states it (``crs``) together with an optional float64
offset ``georef`` added to the file's local coordinates. An OBJ written by citytwin
documents its origin and CRS in a ``# origin x y z crs NAME`` comment, which is used
when the caller gives neither.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from ..core import crs as crsmod
from ..core.errors import Cancelled, CRSError, ReaderError
from ..model import CityModel, CityModelBuilder, semantic_code
from ..model.semantics import SEMANTICS
from .objfile import Mtl, ObjData, parse_mtl, parse_obj
from .source import Cancel, Progress, open_input

log = logging.getLogger(__name__)

__all__ = ["read_mesh"]

FORMAT_NAMES = {
    ".obj": "OBJ",
    ".ply": "PLY",
    ".stl": "STL",
    ".gltf": "glTF",
    ".glb": "glTF",
    ".off": "OFF",
}
OBJECT_TYPE = "GenericCityObject"
_TEX_SUFFIX = re.compile(r"-tex\d+$")

# material names that say what a surface is (3dfier, common exporters, our writer)
_MATERIAL_SEMANTIC = {
    "forest": "Vegetation",
    "tree": "Vegetation",
    "trees": "Vegetation",
    "grass": "Vegetation",
    "roof": "RoofSurface",
    "wall": "WallSurface",
    "ground": "GroundSurface",
    "window": "Window",
    "door": "Door",
    "separation": "Generic",
}


def material_semantic(name: str | None) -> int:
    """Semantic code suggested by a material name (``RoofSurface``, ``BuildingWall``, ``Water``...)."""
    if not name:
        return 0
    name = _TEX_SUFFIX.sub("", name)  # 'RoofSurface-tex3' (textured, from write_obj)
    code = semantic_code(name)
    if code:
        return code
    low = name.strip().lower()
    if low in _MATERIAL_SEMANTIC:
        return SEMANTICS.index(_MATERIAL_SEMANTIC[low])
    if low.endswith("wall"):
        return SEMANTICS.index("WallSurface")
    if "roof" in low:
        return SEMANTICS.index("RoofSurface")
    return 0


def _file_format(path: Path) -> tuple[str, str]:
    """``(suffix without .gz, format name)``."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    return suffix, FORMAT_NAMES.get(suffix, suffix.lstrip(".").upper() or "mesh")


def _stem(path: Path) -> str:
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem or name


def _read_bytes(path: Path, progress: Progress | None, cancel: Cancel | None) -> bytes:
    with open_input(path, progress, cancel) as fh:
        try:
            return fh.read()
        except Cancelled:
            raise
        except (OSError, EOFError) as exc:
            raise ReaderError(path, f"cannot read: {exc}") from exc


def _user_crs(path: Path, crs: str | CRS | None) -> CRS | None:
    if crs is None:
        return None
    if isinstance(crs, CRS):
        return crs
    try:
        return crsmod.parse_crs(str(crs))
    except CRSError as exc:
        raise ReaderError(path, str(exc)) from exc


def _up_axis(up: str, suffix: str) -> str:
    if up not in ("auto", "y", "z"):
        raise ValueError(f"up must be 'auto', 'y' or 'z', not {up!r}")
    if up == "auto":
        return "y" if suffix in (".gltf", ".glb") else "z"
    return up


def y_up_to_z_up(xyz: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(x, y, z)`` of a y-up file (glTF) to z-up: ``(x, -z, y)``."""
    out = np.empty_like(xyz)
    out[:, 0] = xyz[:, 0]
    out[:, 1] = -xyz[:, 2]
    out[:, 2] = xyz[:, 1]
    return out


def read_mesh(
    path: str | Path,
    *,
    crs: str | CRS | None = None,
    target_crs: CRS | None = None,
    origin: ArrayLike | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    georef: Sequence[float] | None = None,
    up: str = "auto",
) -> CityModel:
    """Read a mesh file into a :class:`CityModel`.

    Parameters
    ----------
    path : str or Path
        OBJ, PLY, STL, glTF/GLB or OFF file (optionally gzipped).
    crs : str or pyproj.CRS, optional
        CRS of the georeferenced coordinates (local coordinates plus ``georef``).
        Without one the model stays in local coordinates.
    target_crs, origin
        Passed to :meth:`CityModelBuilder.build`.
    progress, cancel : callable, optional
        Progress by bytes read and cancellation (raises :class:`Cancelled`).
    georef : (x, y, z), optional
        float64 offset added to the file's (z-up) coordinates.
    up : {"auto", "y", "z"}
        The file's up axis; ``auto`` is ``y`` for glTF/GLB and ``z`` otherwise.
        y-up data is turned to z-up: ``(x, y, z) -> (x, -z, y)``.

    Returns
    -------
    CityModel
        One ``GenericCityObject`` per OBJ ``o`` (else ``g``) group, per glTF node or
        per file; ``metadata["objects_from"]`` says which.

    Raises
    ------
    ReaderError
        When the file cannot be read or holds no faces.
    """
    p = Path(path)
    if not p.exists():
        raise ReaderError(p, "no such file")
    suffix, fmt = _file_format(p)
    user_crs = _user_crs(p, crs)
    axis = _up_axis(up, suffix)
    data = _read_bytes(p, progress, cancel)
    if not data.strip():
        raise ReaderError(p, "empty file")
    if suffix == ".obj":
        return _read_obj(p, data, fmt, user_crs, target_crs, origin, cancel, georef, axis)
    return _read_trimesh(p, data, suffix, fmt, user_crs, target_crs, origin, cancel, georef, axis)


def _header_georef(
    georef: Sequence[float] | None,
    user_crs: CRS | None,
    h_origin: NDArray[np.float64] | None,
    h_crs: str | None,
) -> tuple[Sequence[float] | None, CRS | None, bool]:
    """Georeference from a file written by citytwin (OBJ header comment, glTF scene extras).

    The file's origin applies unless the caller gave ``georef``; its CRS unless the
    caller gave ``crs``. Returns ``(georef, crs, used_the_file_origin)``.
    """
    used = False
    crs = user_crs
    if georef is None and h_origin is not None and np.isfinite(h_origin).all():
        georef, used = [float(x) for x in h_origin], True
    if crs is None and h_crs and (used or georef is None):
        try:
            crs = crsmod.parse_crs(h_crs)
        except CRSError:
            crs = None
    return georef, crs, used


def _check_cancel(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


def _place(
    verts: NDArray[np.float64], axis: str, georef: Sequence[float] | None
) -> NDArray[np.float64]:
    if axis == "y":
        verts = y_up_to_z_up(verts)
    if georef is not None:
        off = np.asarray(georef, dtype=np.float64).reshape(3)
        verts = verts + off
    return verts


# ---------------------------------------------------------------------- OBJ
def _read_obj(
    p: Path,
    data: bytes,
    fmt: str,
    user_crs: CRS | None,
    target_crs: CRS | None,
    origin: ArrayLike | None,
    cancel: Cancel | None,
    georef: Sequence[float] | None,
    axis: str,
) -> CityModel:
    try:
        obj = parse_obj(data)
    except (ValueError, IndexError, MemoryError) as exc:
        raise ReaderError(p, f"not a readable OBJ file: {exc}") from exc
    _check_cancel(cancel)
    if len(obj.vertices) == 0 or len(obj.sizes) == 0:
        why = "no vertices" if len(obj.vertices) == 0 else "no readable faces"
        raise ReaderError(p, f"empty mesh ({why}); is this an OBJ file?")
    header = obj.origin
    georef, crs, used_header = _header_georef(
        georef, user_crs, header[0] if header else None, header[1] if header else None
    )
    builder = CityModelBuilder(str(p), fmt, crs=crs)
    report = builder.report
    if obj.bad_index_faces:
        report.warn("bad-face-index", f"{obj.bad_index_faces} face(s) with a missing vertex skipped",
                    n=obj.bad_index_faces)
    if obj.short_faces:
        report.warn("short-face", f"{obj.short_faces} face(s) with fewer than 3 corners skipped",
                    n=obj.short_faces)
    if obj.bad_vertices:
        report.warn("bad-vertex", f"{obj.bad_vertices} vertex line(s) without 3 numbers",
                    n=obj.bad_vertices)

    # objects, in order of first appearance of their faces
    group = obj.face_group
    names = list(obj.group_names)
    if (group < 0).any():
        names.append(_stem(p))
        group = np.where(group < 0, len(names) - 1, group)
    present = np.zeros(len(names), bool)
    present[group] = True
    first = np.full(len(names), len(group))
    np.minimum.at(first, group, np.arange(len(group)))
    obj_of_group = np.full(len(names), -1, np.int64)
    for g in np.argsort(first, kind="stable").tolist():
        if present[g]:
            obj_of_group[g] = builder.add_object(names[g], OBJECT_TYPE, {})

    # materials: one builder material per usemtl name, from the MTL files
    mat_of_name, tex_of_name = _obj_materials(p, obj, builder)
    fm = obj.face_mtl
    face_mat = np.where(fm >= 0, mat_of_name[np.maximum(fm, 0)], -1) if len(mat_of_name) else np.full(len(fm), -1)
    face_tex = np.where(fm >= 0, tex_of_name[np.maximum(fm, 0)], -1) if len(tex_of_name) else np.full(len(fm), -1)
    sem_of_name = np.array([material_semantic(n) for n in obj.mtl_names] or [0], np.uint8)
    face_sem = np.where(fm >= 0, sem_of_name[np.maximum(fm, 0)], 0).astype(np.uint8)

    uv = None
    if obj.corner_uv is not None and obj.uv is not None and (face_tex >= 0).any():
        uv = np.full((len(obj.corners), 2), np.nan, np.float32)
        ok = obj.corner_uv >= 0
        uv[ok] = obj.uv[obj.corner_uv[ok]]

    verts = _place(obj.vertices, axis, georef)
    base = builder.add_vertices(verts)
    builder.add_polygons(
        obj=obj_of_group[group],
        ring_idx=obj.corners + base,
        ring_sizes=obj.sizes,
        poly_nrings=np.ones(len(obj.sizes), np.int64),
        semantic=face_sem,
        material=face_mat,
        texture=face_tex,
        uv=uv,
    )
    builder.metadata.update(
        {
            "objects_from": obj.objects_from,
            "faces": int(len(obj.sizes)),
            "skipped_faces": obj.bad_index_faces + obj.short_faces,
        }
    )
    if used_header:
        builder.metadata["georef_from"] = "file header"
    if georef is not None:
        builder.metadata["georef"] = [float(x) for x in np.asarray(georef, float).reshape(3)]
    _check_cancel(cancel)
    return builder.build(target_crs=target_crs, origin=origin)


def _obj_materials(
    p: Path, obj: ObjData, builder: CityModelBuilder
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Builder material and texture index of every ``usemtl`` name of the OBJ."""
    found: dict[str, Mtl] = {}
    for lib in obj.mtllibs:
        # 'mtllib a.mtl b.mtl' lists several files; a single name may contain spaces
        names = [lib] if (p.parent / lib).is_file() else lib.split()
        for name in names:
            mp = p.parent / name.replace("\\", "/")
            if not mp.is_file():
                builder.report.warn("missing-mtl", f"material library not found: {name}")
                continue
            try:
                for m in parse_mtl(mp):
                    found.setdefault(m.name, m)
            except OSError as exc:
                builder.report.warn("missing-mtl", f"cannot read {name}: {exc}")
    mats = np.full(len(obj.mtl_names), -1, np.int64)
    texs = np.full(len(obj.mtl_names), -1, np.int64)
    tex_index: dict[str, int] = {}
    for k, name in enumerate(obj.mtl_names):
        mtl = found.get(name)
        if mtl is None:
            if obj.mtllibs:
                builder.report.warn("missing-material", f"material '{name}' not in the MTL file(s)")
            mats[k] = builder.add_material({"name": name})
            continue
        entry: dict[str, Any] = {"name": name, "transparency": round(1.0 - mtl.d, 6)}
        if mtl.kd is not None:
            entry["diffuseColor"] = list(mtl.kd)
        if mtl.map_kd:
            if mtl.map_kd not in tex_index:
                img = (p.parent / mtl.map_kd).resolve()
                tex_index[mtl.map_kd] = builder.add_texture(str(img), img.is_file())
            texs[k] = tex_index[mtl.map_kd]
            entry["texture"] = int(texs[k])
        mats[k] = builder.add_material(entry)
    return mats, texs


# ----------------------------------------------------------- trimesh formats
def _read_trimesh(
    p: Path,
    data: bytes,
    suffix: str,
    fmt: str,
    user_crs: CRS | None,
    target_crs: CRS | None,
    origin: ArrayLike | None,
    cancel: Cancel | None,
    georef: Sequence[float] | None,
    axis: str,
) -> CityModel:
    import trimesh

    file_type = suffix.lstrip(".")
    resolver = trimesh.resolvers.FilePathResolver(str(p.parent)) if suffix == ".gltf" else None
    try:
        scene: Any = trimesh.load(
            io.BytesIO(data), file_type=file_type, force="scene", process=False, resolver=resolver
        )
    except Cancelled:
        raise
    except Exception as exc:  # trimesh raises many kinds on garbage input
        raise ReaderError(p, f"not a readable {fmt} file: {type(exc).__name__}: {exc}") from exc
    _check_cancel(cancel)

    gltf = _gltf_json(data) if fmt == "glTF" else {}
    gnodes = {str(n.get("name")): n for n in gltf.get("nodes", []) if isinstance(n, dict) and n.get("name")}
    scene_extras = _scene_extras(gltf)
    h_origin = scene_extras.get("origin")
    try:
        h_xyz = np.asarray(h_origin, np.float64).reshape(3) if h_origin is not None else None
    except (TypeError, ValueError):
        h_xyz = None
    h_crs = scene_extras.get("crs")
    georef, crs, from_header = _header_georef(
        georef, user_crs, h_xyz, h_crs if isinstance(h_crs, str) else None
    )

    builder = CityModelBuilder(str(p), fmt, crs=crs)
    obj_index: dict[str, int] = {}

    def object_for(name: str, extras: dict[str, Any]) -> int:
        if name not in obj_index:
            attrs = {k: v for k, v in extras.items() if k not in ("object_ids", "object_types", "id", "type")}
            typ = extras.get("type")
            obj_index[name] = builder.add_object(name, typ if isinstance(typ, str) else OBJECT_TYPE, attrs)
        return obj_index[name]

    chunks_v: list[NDArray[np.float64]] = []
    chunks_f: list[NDArray[np.int64]] = []
    chunk_obj: list[NDArray[np.int64]] = []
    chunk_mat: list[int] = []
    chunk_sem: list[int] = []
    mat_cache: dict[int, int] = {}
    n_v = 0
    bad_faces = 0
    parents = scene.graph.transforms.parents
    nodes = list(scene.graph.nodes_geometry)
    single = len(nodes) == 1 and fmt != "glTF"
    objects_from = "file" if single else "nodes"
    for node in nodes:
        transform, geom_name = scene.graph[node]
        geom = scene.geometry.get(geom_name)
        faces = getattr(geom, "faces", None)
        if geom is None or faces is None or len(faces) == 0:
            continue
        v = np.asarray(geom.vertices, dtype=np.float64)
        f = np.asarray(faces, dtype=np.int64)
        ok = ((f >= 0) & (f < len(v))).all(axis=1)
        if not ok.all():
            bad_faces += int((~ok).sum())
            f = f[ok]
        if len(f) == 0:
            continue
        if not np.allclose(transform, np.eye(4)):
            v = v @ transform[:3, :3].T + transform[:3, 3]
        owner = str(node)
        k = owner
        while k not in gnodes and k in parents:  # trimesh adds a child node per glTF primitive
            k = parents[k]
        if k in gnodes:
            owner = k
        extras = gnodes.get(owner, {}).get("extras")
        extras = extras if isinstance(extras, dict) else {}
        feat = getattr(geom, "vertex_attributes", {}).get("_FEATURE_ID_0")
        ids: Any = extras.get("object_ids")
        if feat is not None and isinstance(ids, list) and len(np.asarray(feat)) == len(v):
            fid = np.asarray(feat).reshape(len(v), -1)[:, 0].astype(np.int64)[f[:, 0]]
            types: Any = extras.get("object_types")
            types = types if isinstance(types, list) else []
            good = (fid >= 0) & (fid < len(ids))
            fid = np.where(good, fid, -1)
            lookup = np.full(len(ids) + 1, -1, np.int64)
            for u in np.unique(fid).tolist():
                if u < 0:
                    lookup[-1] = object_for(owner, {})
                else:
                    typ = types[u] if u < len(types) and isinstance(types[u], str) else OBJECT_TYPE
                    lookup[u] = object_for(str(ids[u]), {"type": typ})
            face_obj = lookup[fid]
            objects_from = "feature-ids"
        else:
            name = _stem(p) if single else owner
            face_obj = np.full(len(f), object_for(name, extras), np.int64)
        chunks_v.append(v)
        chunks_f.append(f + n_v)
        n_v += len(v)
        chunk_obj.append(face_obj)
        chunk_mat.append(_trimesh_material(geom, builder, mat_cache))
        mat = getattr(getattr(geom, "visual", None), "material", None)
        chunk_sem.append(material_semantic(getattr(mat, "name", None)))
    if bad_faces:
        builder.report.warn("bad-face-index", f"{bad_faces} face(s) with a missing vertex skipped",
                            n=bad_faces)
    if not chunks_f:
        raise ReaderError(p, "empty mesh (no faces)")
    verts = _place(np.concatenate(chunks_v), axis, georef)
    faces = np.concatenate(chunks_f)
    counts = [len(f) for f in chunks_f]
    base = builder.add_vertices(verts)
    builder.add_polygons(
        obj=np.concatenate(chunk_obj),
        ring_idx=faces.ravel() + base,
        ring_sizes=np.full(len(faces), 3, np.int64),
        poly_nrings=np.ones(len(faces), np.int64),
        semantic=np.repeat(np.asarray(chunk_sem, np.uint8), counts),
        material=np.repeat(chunk_mat, counts),
    )
    builder.metadata.update(
        {"objects_from": objects_from, "faces": int(len(faces)), "skipped_faces": bad_faces}
    )
    if from_header:
        builder.metadata["georef_from"] = "file header"
    if georef is not None:
        builder.metadata["georef"] = [float(x) for x in np.asarray(georef, float).reshape(3)]
    _check_cancel(cancel)
    return builder.build(target_crs=target_crs, origin=origin)


def _gltf_json(data: bytes) -> dict[str, Any]:
    """The JSON part of a glTF (``.gltf`` text or GLB's first chunk); {} if unreadable."""
    import json

    try:
        if data[:4] == b"glTF" and len(data) >= 20:
            n = int.from_bytes(data[12:16], "little")
            out = json.loads(data[20 : 20 + n])
        else:
            out = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return out if isinstance(out, dict) else {}


def _scene_extras(gltf: dict[str, Any]) -> dict[str, Any]:
    """``extras["citytwin"]`` of the default scene (written by :func:`write_glb`)."""
    scenes = gltf.get("scenes")
    if not isinstance(scenes, list) or not scenes:
        return {}
    k = gltf.get("scene", 0)
    sc = scenes[k] if isinstance(k, int) and 0 <= k < len(scenes) else scenes[0]
    ex = sc.get("extras") if isinstance(sc, dict) else None
    ct = ex.get("citytwin") if isinstance(ex, dict) else None
    return ct if isinstance(ct, dict) else {}


def _extras(geom: Any) -> dict[str, Any]:
    meta = getattr(geom, "metadata", None) or {}
    extras = meta.get("extras")
    return dict(extras) if isinstance(extras, dict) else {}


def _trimesh_material(geom: Any, builder: CityModelBuilder, cache: dict[int, int]) -> int:
    """Builder material for a trimesh geometry's material (-1 when it has none)."""
    visual = getattr(geom, "visual", None)
    mat = getattr(visual, "material", None) if visual is not None else None
    if mat is None:
        return -1
    key = id(mat)
    if key in cache:
        return cache[key]
    color = getattr(mat, "baseColorFactor", None)
    if color is None:
        color = getattr(mat, "diffuse", None)
    entry: dict[str, Any] = {"name": getattr(mat, "name", None) or f"material-{len(cache)}"}
    if color is not None:
        c = np.asarray(color, dtype=np.float64).ravel()
        if c.max() > 1.0:
            c = c / 255.0
        entry["diffuseColor"] = [float(x) for x in c[:3]]
        if len(c) > 3:
            entry["transparency"] = round(1.0 - float(c[3]), 6)
    cache[key] = builder.add_material(entry)
    return cache[key]
