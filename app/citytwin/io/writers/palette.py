"""Colours of semantic surface classes for exported meshes (linear-ish sRGB, 0..1)."""

from __future__ import annotations

from ...model.semantics import SEMANTICS

_COLORS: dict[str, tuple[float, float, float]] = {
    "Unknown": (0.75, 0.75, 0.75),
    "RoofSurface": (0.80, 0.25, 0.20),
    "WallSurface": (0.88, 0.88, 0.86),
    "GroundSurface": (0.30, 0.30, 0.30),
    "ClosureSurface": (0.70, 0.70, 0.75),
    "OuterCeilingSurface": (0.80, 0.80, 0.78),
    "OuterFloorSurface": (0.55, 0.55, 0.55),
    "Window": (0.60, 0.80, 0.95),
    "Door": (0.55, 0.35, 0.20),
    "InteriorWallSurface": (0.90, 0.90, 0.85),
    "CeilingSurface": (0.92, 0.92, 0.90),
    "FloorSurface": (0.60, 0.55, 0.50),
    "TrafficArea": (0.45, 0.45, 0.48),
    "AuxiliaryTrafficArea": (0.60, 0.60, 0.55),
    "Marking": (0.95, 0.95, 0.95),
    "Hole": (0.10, 0.10, 0.10),
    "WaterSurface": (0.25, 0.50, 0.85),
    "WaterGroundSurface": (0.20, 0.35, 0.55),
    "WaterClosureSurface": (0.35, 0.60, 0.90),
    "Terrain": (0.72, 0.68, 0.52),
    "Road": (0.50, 0.50, 0.52),
    "Railway": (0.45, 0.35, 0.30),
    "Vegetation": (0.30, 0.65, 0.30),
    "Water": (0.25, 0.50, 0.85),
    "LandUse": (0.80, 0.80, 0.60),
    "Bridge": (0.75, 0.60, 0.35),
    "Tunnel": (0.50, 0.45, 0.40),
    "CityFurniture": (0.60, 0.45, 0.70),
    "Installation": (0.70, 0.65, 0.60),
    "Generic": (0.70, 0.70, 0.70),
    "Building": (0.85, 0.80, 0.72),
}


def semantic_color(code: int) -> tuple[float, float, float]:
    """RGB (0..1) of a semantic code (grey for unknown codes)."""
    name = SEMANTICS[code] if 0 <= code < len(SEMANTICS) else "Unknown"
    return _COLORS.get(name, _COLORS["Unknown"])


def semantic_name(code: int) -> str:
    """Material name used for a semantic code (the SEMANTICS name, so readers map it back)."""
    return SEMANTICS[code] if 0 <= code < len(SEMANTICS) else "Unknown"
