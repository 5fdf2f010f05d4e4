"""Write a :class:`CityModel` as binary glTF 2.0 (GLB), written with numpy + json.

glTF is y-up: model coordinates (z-up, relative to the float64 origin) become
``(x, z, -y)``. The origin and CRS are in the scene's ``extras``
(``{"citytwin": {"origin": [x, y, z], "crs": "EPSG:..."}}``, z-up world = origin +
``(x, -z, y)`` of the file).

Default layout: one node, one mesh, one primitive per semantic surface class (with a
material whose ``baseColorFactor`` is the class colour); vertices are unique per
(vertex, object) and carry the object index as ``_FEATURE_ID_0`` (EXT_mesh_features
style), and the node's ``extras["object_ids"]`` lists the object ids.
``per_object=True`` writes one node per object instead, named by the object id
(also in ``extras["id"]``), each with one primitive per semantic class.
"""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...core.crs import crs_label
from ...model import CityModel
from ._select import clean_name, select_triangles
from .palette import semantic_color, semantic_name

log = logging.getLogger(__name__)

_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_FLOAT = 5126
_UINT = 5125


def _z_up_to_y_up(xyz: NDArray[np.float32]) -> NDArray[np.float32]:
    out = np.empty_like(xyz)
    out[:, 0] = xyz[:, 0]
    out[:, 1] = xyz[:, 2]
    out[:, 2] = -xyz[:, 1]
    return out


def write_glb(
    model: CityModel, path: str | Path, lod: float | str = "best", *, per_object: bool = False
) -> Path:
    """Write the triangles of ``lod`` to ``path`` as GLB.

    Parameters
    ----------
    model : CityModel
    path : str or Path
        Output ``.glb`` file.
    lod : float or {"best", "lowest"}
        LoD to export, as for :meth:`CityModel.lod_triangle_mask`.
    per_object : bool
        One node per object (named by its id) instead of one node for the model.

    Returns
    -------
    Path
        The file written.
    """
    p = Path(path)
    sel = select_triangles(model, lod, by_object=per_object)
    n_tri = len(sel.triangles)
    n_obj = max(model.n_objects, 1)
    n_vert = max(len(model.vertices), 1)
    # primitives: one per semantic class, or per (object, semantic class)
    prim_key = sel.obj * 256 + sel.semantic if per_object else sel.semantic
    if n_tri:
        bounds = np.flatnonzero(prim_key[1:] != prim_key[:-1]) + 1
        t_start = np.concatenate([[0], bounds])
        t_end = np.concatenate([bounds, [n_tri]])
    else:
        t_start = t_end = np.zeros(0, np.int64)
    n_prim = len(t_start)
    tri_prim = np.repeat(np.arange(n_prim), t_end - t_start)
    corner_prim = np.repeat(tri_prim, 3)
    corner_v = sel.triangles.ravel()
    corner_obj = np.repeat(sel.obj, 3)
    # vertices unique per primitive (and per object when objects share a primitive)
    sub = np.zeros_like(corner_v) if per_object else corner_obj
    vkey = (corner_prim * n_obj + sub) * n_vert + corner_v
    ukey, inv = np.unique(vkey, return_inverse=True)
    inv = inv.ravel()
    v_prim = ukey // (n_obj * n_vert)
    v_obj = (ukey // n_vert) % n_obj
    v_idx = ukey % n_vert
    v_start = np.searchsorted(v_prim, np.arange(n_prim + 1))
    local = (inv - v_start[corner_prim]).astype(np.uint32)
    pos = _z_up_to_y_up(np.ascontiguousarray(model.vertices[v_idx], dtype=np.float32))
    feat = v_obj.astype(np.float32)

    # binary layout: positions | feature ids | indices (each 4-byte aligned)
    pos_bytes = pos.tobytes()
    feat_bytes = feat.tobytes() if not per_object else b""
    idx_bytes = local.tobytes()
    views: list[dict[str, Any]] = []
    offset = 0

    def view(nbytes: int, target: int, stride: int = 0) -> int:
        nonlocal offset
        v = {"buffer": 0, "byteOffset": offset, "byteLength": nbytes, "target": target}
        if stride:  # required: several accessors share each vertex buffer view
            v["byteStride"] = stride
        views.append(v)
        offset += nbytes
        return len(views) - 1

    pos_view = view(len(pos_bytes), _ARRAY_BUFFER, 12)
    feat_view = view(len(feat_bytes), _ARRAY_BUFFER, 4) if feat_bytes else -1
    idx_view = view(len(idx_bytes), _ELEMENT_ARRAY_BUFFER)
    binary = pos_bytes + feat_bytes + idx_bytes

    materials: list[dict[str, Any]] = []
    mat_of_class: dict[int, int] = {}
    accessors: list[dict[str, Any]] = []
    prims: list[dict[str, Any]] = []
    if n_prim:
        vmin = np.minimum.reduceat(pos, v_start[:-1], axis=0)
        vmax = np.maximum.reduceat(pos, v_start[:-1], axis=0)
    for k in range(n_prim):
        vs, ve = int(v_start[k]), int(v_start[k + 1])
        ts, te = int(t_start[k]), int(t_end[k])
        cls = int(sel.semantic[ts])
        if cls not in mat_of_class:
            r, g, b = semantic_color(cls)
            mat_of_class[cls] = len(materials)
            materials.append(
                {
                    "name": semantic_name(cls),
                    "pbrMetallicRoughness": {
                        "baseColorFactor": [r, g, b, 1.0],
                        "metallicFactor": 0.0,
                        "roughnessFactor": 1.0,
                    },
                    "doubleSided": True,
                }
            )
        accessors.append(
            {
                "bufferView": pos_view, "byteOffset": vs * 12, "componentType": _FLOAT,
                "count": ve - vs, "type": "VEC3",
                "min": [float(x) for x in vmin[k]], "max": [float(x) for x in vmax[k]],
            }
        )
        attributes = {"POSITION": len(accessors) - 1}
        prim: dict[str, Any] = {"attributes": attributes, "mode": 4, "material": mat_of_class[cls]}
        if feat_view >= 0:
            accessors.append(
                {"bufferView": feat_view, "byteOffset": vs * 4, "componentType": _FLOAT,
                 "count": ve - vs, "type": "SCALAR"}
            )
            attributes["_FEATURE_ID_0"] = len(accessors) - 1
            prim["extensions"] = {
                "EXT_mesh_features": {"featureIds": [{"featureCount": n_obj, "attribute": 0}]}
            }
        accessors.append(
            {"bufferView": idx_view, "byteOffset": ts * 12, "componentType": _UINT,
             "count": (te - ts) * 3, "type": "SCALAR"}
        )
        prim["indices"] = len(accessors) - 1
        prims.append(prim)

    ids = model.objects.ids
    meshes: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    if per_object:
        prim_obj = sel.obj[t_start] if n_prim else np.zeros(0, np.int64)
        first = np.flatnonzero(np.r_[True, prim_obj[1:] != prim_obj[:-1]]) if n_prim else np.zeros(0, np.int64)
        edges = first.tolist() + [n_prim]
        for a, b in zip(edges[:-1], edges[1:]):
            o = int(prim_obj[a])
            name = clean_name(ids[o], f"object-{o}")
            meshes.append({"name": name, "primitives": prims[a:b]})
            nodes.append(
                {"name": name, "mesh": len(meshes) - 1,
                 "extras": {"id": ids[o], "type": model.objects.types[o]}}
            )
    elif prims:
        meshes.append({"name": Path(model.source).stem or "citytwin", "primitives": prims})
        nodes.append(
            {"name": Path(model.source).stem or "citytwin", "mesh": 0,
             "extras": {"object_ids": list(ids), "object_types": list(model.objects.types)}}
        )
    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "citytwin"},
        "scene": 0,
        "scenes": [
            {
                "nodes": list(range(len(nodes))),
                "extras": {
                    "citytwin": {
                        "origin": [float(x) for x in model.origin],
                        "crs": crs_label(model.crs) if model.crs is not None else None,
                        "up": "y",
                        "lod": str(lod),
                    }
                },
            }
        ],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }
    if not per_object and prims:
        gltf["extensionsUsed"] = ["EXT_mesh_features"]
    if not meshes:
        for key in ("meshes", "materials", "accessors", "bufferViews"):
            gltf.pop(key)
        gltf["buffers"] = []
        binary = b""
    js = json.dumps(gltf, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(js), 0x4E4F534A) + js
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    header = struct.pack("<4sII", b"glTF", 2, 12 + len(chunks))
    p.write_bytes(header + chunks)
    log.info("wrote %s: %d primitives, %d triangles", p, n_prim, n_tri)
    return p
