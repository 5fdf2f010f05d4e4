"""A value per vertex colours chosen objects (terrain under a sensor field) smoothly; the rest keep their styling."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyvista")
import render_fixtures  # noqa: E402
from citytwin.model.style import colormap  # noqa: E402
from citytwin.render import SceneView  # noqa: E402

pytestmark = render_fixtures.RENDER_MARKS
demo = render_fixtures.demo  # the fixture


def test_vertex_field_colours_terrain_only_and_clears(demo) -> None:
    with SceneView(size=(320, 200), overlays=False) as sv:
        vis = sv.add_model(demo)
        before = vis._point_rgb.copy()
        terrain = np.array([t == "TINRelief" for t in demo.objects.types])
        assert terrain.any()
        x = demo.vertices[:, 0].astype(np.float64)
        vis.set_vertex_values(x, float(x.min()), float(x.max()), objects=terrain)
        pts_obj = vis.cell_object[vis._point_cell]
        on = terrain[pts_obj]
        vertex = np.asarray(vis.polydata.point_data["vertex"])
        want = colormap((x[vertex[on]] - x.min()) / (x.max() - x.min()))
        assert np.array_equal(vis._point_rgb[on], want)
        assert np.array_equal(vis._point_rgb[~on], before[~on])
        assert len(np.unique(vis._point_rgb[on], axis=0)) > 50  # a gradient, not one colour
        # new values (the fast path: only the field's points are rewritten) and a LoD switch
        y = demo.vertices[:, 1].astype(np.float64)
        vis.set_vertex_values(y, float(y.min()), float(y.max()), objects=terrain)
        want_y = colormap((y[vertex[on]] - y.min()) / (y.max() - y.min()))
        assert np.array_equal(vis._point_rgb[on], want_y)
        assert np.array_equal(vis._point_rgb[~on], before[~on])
        vis.set_lod(1)
        vis.set_lod("best")
        assert np.array_equal(vis._point_rgb[on], want_y)
        vis.set_vertex_values(x, float(x.min()), float(x.max()), objects=terrain)
        # the highlight wins over the field, and clearing the field restores the styling
        t_obj = int(np.flatnonzero(terrain)[0])
        vis.highlight([t_obj])
        assert not np.array_equal(vis._point_rgb[on], want)
        vis.highlight(None)
        vis.set_vertex_values(None)
        assert np.array_equal(vis._point_rgb, before)
        with pytest.raises(ValueError):
            vis.set_vertex_values(np.zeros(3))
