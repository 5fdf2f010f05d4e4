"""Scene: several city models brought into one CRS and one float64 origin."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from ..core.crs import crs_label
from .city import CityModel


@dataclass
class Scene:
    """The models of one scene; all share ``crs`` and ``origin``.

    The first model added fixes both unless they were given. Readers bring later
    files into them (``target_crs``/``origin`` arguments), so the models' float32
    vertices are directly comparable and can be drawn together without jitter.
    """

    crs: CRS | None = None
    origin: NDArray[np.float64] | None = None
    models: list[CityModel] = field(default_factory=list)

    def add(self, model: CityModel) -> None:
        if not self.models:
            if self.crs is None:
                self.crs = model.crs
            if self.origin is None:
                self.origin = np.array(model.origin, dtype=np.float64)
        self.models.append(model)

    @property
    def crs_name(self) -> str:
        return crs_label(self.crs)

    def bbox(self) -> NDArray[np.float64]:
        boxes = [m.bbox() for m in self.models if m.n_triangles]
        if not boxes:
            return np.zeros((2, 3))
        arr = np.stack(boxes)
        return np.stack([arr[:, 0].min(0), arr[:, 1].max(0)])
