"""The only package that imports VTK/pyvista: visuals, scene view, picking, snapshots."""

from __future__ import annotations

from .polydata import city_polydata, lod_polygon_mask, lod_triangle_mask
from .scene_view import SceneView
from .snapshot import offscreen_available, render_to_image
from .visual import PickResult, VtkCityVisual

__all__ = [
    "PickResult",
    "SceneView",
    "VtkCityVisual",
    "city_polydata",
    "lod_polygon_mask",
    "lod_triangle_mask",
    "offscreen_available",
    "render_to_image",
]
