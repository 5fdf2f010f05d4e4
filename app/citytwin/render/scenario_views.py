"""Pictures of several scenarios of one base from the same cameras (off-screen), for the report.

Every model is drawn in its own off-screen :class:`SceneView`, all framed on the union of
the models' extents, so the cameras are identical whatever a scenario adds (a tower framed
in one picture is framed in all). Changed and added buildings are tinted like the Objects
filter's matches.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ..model.city import CityModel
from .effects import DEFAULT_EFFECTS, RenderEffects
from .scene_view import SceneView

__all__ = ["render_scenarios"]


Camera = tuple[str, "NDArray[np.float64] | None"]  # (preset, world box (2, 3) to frame, or None: all)


def render_scenarios(models: Sequence[CityModel], cameras: Sequence[Camera] = (("iso", None), ("top", None)),
                     size: tuple[int, int] = (960, 600), tinted: Sequence[Sequence[str]] | None = None,
                     effects: RenderEffects = DEFAULT_EFFECTS) -> list[list[bytes]]:
    """PNG bytes per model, per camera; ``tinted[k]`` lists the ids to tint in model ``k``.

    A camera is a preset (``iso``, ``top``, ``north`` …) and the world box it frames (None:
    the union of every model's extent). The models must share their origin (scenario models
    keep their base's)."""
    if not models:
        return []
    origin = np.asarray(models[0].origin, np.float64)
    boxes = np.stack([m.bbox() for m in models])  # (M, 2, 3) world
    union = np.stack([boxes[:, 0].min(0), boxes[:, 1].max(0)])
    out: list[list[bytes]] = []
    for k, m in enumerate(models):
        row = []
        for view, box in cameras:
            b = (union if box is None else np.asarray(box, np.float64)) - origin
            bounds = np.array([b[0, 0], b[1, 0], b[0, 1], b[1, 1], b[0, 2], b[1, 2]])
            sv = SceneView(size=size, overlays=True, effects=effects)
            try:
                vis = sv.add_model(m)
                if tinted is not None and tinted[k]:
                    idx = [m.objects.index[i] for i in tinted[k] if i in m.objects.index]
                    if idx:
                        vis.set_matches(idx)
                sv.set_view(view, bounds=bounds)
                img = sv.screenshot()
            finally:
                sv.close()
            buf = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG", optimize=False)
            row.append(buf.getvalue())
        out.append(row)
    return out
