"""Indicators from the simulations in :mod:`citytwin.sim`: buildings flooded at a water level
(:mod:`sim.flood`, bathtub on the model's own terrain) and the roofs' solar potential on a
chosen day (:mod:`sim.sunhours`: clear-sky irradiation with every building, tree and the
terrain casting shadows).

Left out for now: shadow hours added on neighbouring façades and ground (it needs the sun
hours of the same surfaces in two models, matched by object and surface; the ground has
no sample points in sim.sunhours yet).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from ..model.city import CityModel
from ..model.semantics import SEMANTICS
from .indicators import BuildingTable

__all__ = ["flood_indicators", "solar_indicators"]


def _inside(table: BuildingTable, site: Any) -> set[int]:
    if site is None:
        return set(table.index.tolist())
    import shapely

    c = table.centroid
    ok = np.isfinite(c).all(1)
    inside = np.zeros(len(table), bool)
    inside[ok] = shapely.contains_xy(site, c[ok, 0], c[ok, 1])
    return set(table.index[inside].tolist())


def flood_indicators(model: CityModel, table: BuildingTable, level: float, site: Any = None,
                     resolution: float = 2.0) -> dict[str, Any]:
    """``flooded_buildings`` (of the scene or site) at the absolute ``level`` (the model's
    vertical datum), on the model's terrain rasterised at ``resolution`` metres."""
    from ..sim.flood import Flood
    from ..sim.terrain import grid_from_model

    try:
        grid = grid_from_model(model, resolution)
    except ValueError as exc:
        return {"flooded_buildings": None, "flood_level_m": level, "_note": f"no flood figures: {exc}"}
    res = Flood(grid, model).at(float(level))
    keep = _inside(table, site)
    n = sum(1 for i in res.objects.tolist() if i in keep)
    return {"flooded_buildings": int(n), "flood_level_m": float(level)}


def solar_indicators(model: CityModel, table: BuildingTable, day: date, site: Any = None,
                     step_minutes: float = 30.0, spacing: float = 3.0) -> dict[str, Any]:
    """Roof area, clear-sky irradiation (kWh) and mean sun hours of the buildings' roofs
    (of the scene or site) on ``day``."""
    from ..sim.aggregate import ROOF, surface_class
    from ..sim.flood import object_roots
    from ..sim.place import Place
    from ..sim.sunhours import Period, analyse

    if model.crs is None:
        return {"roof_area_m2": None, "_note": "no solar figures: the model has no CRS"}
    place = Place.of_bbox(model.bbox(), model.crs)
    res = analyse(model, Period(day, day, step_minutes, place.timezone), place, spacing=spacing)
    roots = object_roots(model)
    keep = np.zeros(model.n_objects, bool)
    keep[list(_inside(table, site))] = True
    poly_root = roots[model.polygons.object[res.polygons]]
    cls = surface_class(model.polygons.semantic[res.polygons], res.normals)
    sel = keep[poly_root] & (cls == ROOF)
    area = res.areas[sel]
    total = float(area.sum())
    kwh = float((area * res.irradiation_kwh_m2[sel]).sum())
    hours = float((area * res.sun_hours[sel]).sum() / total) if total > 0 else None
    return {"roof_area_m2": round(total, 1), "roof_irradiation_kwh": round(kwh, 1),
            "roof_sun_hours": round(hours, 2) if hours is not None else None, "solar_day": day.isoformat()}


ROOF_SEMANTIC = SEMANTICS.index("RoofSurface")
