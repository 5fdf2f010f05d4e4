"""Load several files into one :class:`~citytwin.model.scene.Scene` (one CRS, one origin)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyproj import CRS

from ..core.crs import parse_crs
from ..model.city import CityModel
from ..model.scene import Scene
from .registry import read


def load_into_scene(
    scene: Scene, path: str | Path, crs: str | CRS | None = None, **kwargs: Any
) -> CityModel:
    """Read ``path`` into ``scene``'s CRS and origin and add it; return the model."""
    file_crs = parse_crs(crs) if isinstance(crs, str) else crs
    model = read(path, crs=file_crs, target_crs=scene.crs, origin=scene.origin, **kwargs)
    if scene.models and scene.crs is not None and model.crs is None:
        model.report.warn(
            "no-crs", "file has no CRS: drawn in the scene's coordinates as they are (use --crs)"
        )
    scene.add(model)
    return model


def load_scene(
    paths: Iterable[str | Path], crs: str | CRS | None = None, scene_crs: str | CRS | None = None
) -> Scene:
    """Read every file into one scene. ``crs`` is the CRS stated for files without one;
    ``scene_crs`` (default: the first file's, projected if geographic) is the scene's."""
    scene = Scene(crs=parse_crs(scene_crs) if isinstance(scene_crs, str) else scene_crs)
    for p in paths:
        load_into_scene(scene, p, crs=crs)
    return scene
