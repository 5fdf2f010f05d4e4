"""Triangles of one LoD, grouped for export (shared by the OBJ and glTF writers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...model import CityModel
from ...model.semantics import object_semantic


@dataclass
class Selection:
    """Triangles to export, sorted by ``key`` (object then semantic, or semantic)."""

    triangles: NDArray[np.int64]  # (T, 3) vertex indices into model.vertices
    obj: NDArray[np.int64]  # (T,)
    semantic: NDArray[np.int64]  # (T,) semantic class, object type where the surface has none
    index: NDArray[np.int64]  # (T,) index of each triangle in the model's triangle arrays


def select_triangles(model: CityModel, lod: float | str = "best", by_object: bool = True) -> Selection:
    """Triangles of ``lod`` sorted by object then semantic (``by_object``) or by semantic."""
    mask = model.lod_triangle_mask(lod)
    index = np.flatnonzero(mask)
    tris = model.triangles[mask].astype(np.int64)
    obj = model.tri_object[mask].astype(np.int64)
    sem = model.tri_semantic[mask].astype(np.int64)
    if (sem == 0).any() and model.n_objects:
        type_sem = np.array([object_semantic(t) for t in model.objects.types], np.int64)
        sem = np.where(sem == 0, type_sem[obj], sem)
    order = np.lexsort((sem, obj)) if by_object else np.lexsort((obj, sem))
    return Selection(tris[order], obj[order], sem[order], index[order])


def clean_name(name: str, fallback: str) -> str:
    """An object id usable on one line of a text file."""
    out = " ".join(str(name).split())
    return out or fallback
