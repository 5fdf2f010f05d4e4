"""The only package that imports VTK/pyvista: visuals, scene view, picking, snapshots."""

from __future__ import annotations

from ._gl import prefer_egl_without_display

prefer_egl_without_display()

from .polydata import city_polydata, lod_polygon_mask, lod_triangle_mask  # noqa: E402
from .scene_view import SceneView  # noqa: E402
from .snapshot import offscreen_available, render_to_image  # noqa: E402
from .visual import PickResult, VtkCityVisual  # noqa: E402

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
