"""The cheap drawing paths look like VTK's generic ones: sky quad vs gradient background,
CityLighting vs VTK's two lights, per-point colours vs per-cell colours."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyvista")
import render_fixtures  # noqa: E402
from citytwin.render import SceneView  # noqa: E402
from citytwin.render.scene_view import SKY_BOTTOM, SKY_TOP, setup_background  # noqa: E402

SIZE = (320, 200)

pytestmark = render_fixtures.RENDER_MARKS
demo = render_fixtures.demo  # the fixture


def test_sky_quad_matches_vtk_gradient_background() -> None:
    with SceneView(size=SIZE, overlays=False) as ours, SceneView(size=SIZE, overlays=False, sky=False) as vtk_bg:
        setup_background(vtk_bg.renderer, sky=True)  # VTK's own gradient
        a, b = ours.screenshot().astype(int), vtk_bg.screenshot().astype(int)
    assert np.abs(a - b).max() <= 2
    assert np.abs(a[0, 0] - np.array(SKY_TOP) * 255).max() <= 3
    assert np.abs(a[-1, 0] - np.array(SKY_BOTTOM) * 255).max() <= 3


def test_fast_paths_look_like_vtk(demo) -> None:
    """Sky quad + CityLighting + per-point colours vs VTK's gradient, lights and (no) specular:
    the picture differs only in rounding."""
    with SceneView(size=SIZE, overlays=False) as ours, SceneView(size=SIZE, overlays=False, sky=False) as ref:
        setup_background(ref.renderer, sky=True)
        ours.add_model(demo)
        vis = ref.add_model(demo)
        # back to VTK's lighting (the renderer's sun + headlight) with the same material
        from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLShaderProperty

        vis.actor.SetShaderProperty(vtkOpenGLShaderProperty())
        for sv in (ours, ref):
            sv.set_view("iso")
        a, b = ours.screenshot().astype(int), ref.screenshot().astype(int)
    d = np.abs(a - b).max(axis=2)
    assert (d > 3).mean() < 0.002 and d.max() <= 12
    assert len({tuple(c) for c in (a.reshape(-1, 3) // 16).tolist()}) > 30  # lit and coloured


def test_sky_has_no_bounds_and_draws_behind_the_city(demo) -> None:
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(demo)
        sv.set_view("iso")
        assert sv.renderer.GetActors().GetLastActor() is sv.sky.actor  # drawn last: early depth rejection
        b = sv.renderer.ComputeVisiblePropBounds()
        assert np.allclose(b, vis.bounds(), atol=1e-3)


def test_opacity_zero_hides_the_actor(demo) -> None:
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(demo)
        vis.set_opacity(0.0)
        assert vis.visible and not vis.actor.GetVisibility()
        vis.set_opacity(0.5)
        assert vis.actor.GetVisibility()
        vis.set_visible(False)
        assert not vis.visible and not vis.actor.GetVisibility()


def test_highlight_reaches_every_point_of_the_object(demo) -> None:
    with SceneView(size=SIZE, overlays=False) as sv:
        vis = sv.add_model(demo)
        obj = int(np.bincount(vis.cell_object).argmax())
        vis.highlight([obj], descendants=False)
        pts_rgb = np.asarray(vis.polydata.point_data["rgb"])
        conn = vis.polydata.faces.reshape(-1, 4)[:, 1:]
        # every corner of every cell carries that cell's colour
        assert np.array_equal(pts_rgb[conn], np.repeat(vis.cell_rgb()[:, None, :], 3, axis=1))
        assert not np.array_equal(vis.cell_rgb()[vis.cell_object == obj], vis._base[vis.cell_object == obj])
