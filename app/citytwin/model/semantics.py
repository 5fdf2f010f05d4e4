"""Semantic surface classes, one small integer per triangle.

The codes cover CityGML/CityJSON semantic surfaces and, for objects whose surfaces
carry no semantics, a class derived from the object's type (terrain, road, ...), so
that the renderer can colour everything by one per-triangle code.
"""

from __future__ import annotations

SEMANTICS: tuple[str, ...] = (
    "Unknown",
    "RoofSurface",
    "WallSurface",
    "GroundSurface",
    "ClosureSurface",
    "OuterCeilingSurface",
    "OuterFloorSurface",
    "Window",
    "Door",
    "InteriorWallSurface",
    "CeilingSurface",
    "FloorSurface",
    "TrafficArea",
    "AuxiliaryTrafficArea",
    "Marking",
    "Hole",
    "WaterSurface",
    "WaterGroundSurface",
    "WaterClosureSurface",
    "Terrain",
    "Road",
    "Railway",
    "Vegetation",
    "Water",
    "LandUse",
    "Bridge",
    "Tunnel",
    "CityFurniture",
    "Installation",
    "Generic",
    "Building",
)

_CODE = {name.lower(): i for i, name in enumerate(SEMANTICS)}
# aliases (CityGML 3.0 names, CityJSON names, transportation parts)
_CODE.update(
    {
        "tinrelief": _CODE["terrain"],
        "reliefFeature".lower(): _CODE["terrain"],
        "masspointrelief": _CODE["terrain"],
        "breaklinerelief": _CODE["terrain"],
        "rasterrelief": _CODE["terrain"],
        "transportationcomplex": _CODE["road"],
        "section": _CODE["road"],
        "intersection": _CODE["road"],
        "square": _CODE["road"],
        "track": _CODE["road"],
        "waterway": _CODE["water"],
        "railway": _CODE["railway"],
        "solitaryvegetationobject": _CODE["vegetation"],
        "plantcover": _CODE["vegetation"],
        "waterbody": _CODE["water"],
        "bridgepart": _CODE["bridge"],
        "bridgeconstructiveelement": _CODE["bridge"],
        "bridgeinstallation": _CODE["bridge"],
        "bridgeroom": _CODE["bridge"],
        "tunnelpart": _CODE["tunnel"],
        "tunnelinstallation": _CODE["tunnel"],
        "buildinginstallation": _CODE["installation"],
        "buildingconstructiveelement": _CODE["installation"],
        "genericcityobject": _CODE["generic"],
        "genericoccupiedspace": _CODE["generic"],
        "genericunoccupiedspace": _CODE["generic"],
        "genericlogicalspace": _CODE["generic"],
        "genericthematicsurface": _CODE["generic"],
        "otherconstruction": _CODE["generic"],
        "building": _CODE["building"],
        "buildingpart": _CODE["building"],
        "buildingunit": _CODE["building"],
        "buildingroom": _CODE["building"],
        "storey": _CODE["building"],
        "landuse": _CODE["landuse"],
        "cityfurniture": _CODE["cityfurniture"],
        "waterclosuresurface": _CODE["waterclosuresurface"],
        "watergroundsurface": _CODE["watergroundsurface"],
        "watersurface": _CODE["watersurface"],
    }
)


def semantic_code(name: str | None) -> int:
    """Code of a semantic surface type or object type (``+Extension`` and prefixes ignored)."""
    if not name:
        return 0
    key = name.rsplit(":", 1)[-1].lstrip("+").lower()
    return _CODE.get(key, 0)


def object_semantic(type_name: str) -> int:
    """Default semantic code of the surfaces of an object of this type."""
    return semantic_code(type_name)


# Object types whose geometry lies on the ground (terrain, transport surfaces, water,
# land use, plant cover): a "height" (vertical extent) or "footprint" of them means
# nothing useful (a sloped TIN is not 37 m tall), so citytwin gives them neither.
_GROUND_CLASSES = frozenset(_CODE[n] for n in (
    "terrain", "road", "railway", "water", "landuse", "trafficarea", "auxiliarytrafficarea",
    "marking", "hole", "watersurface", "watergroundsurface", "waterclosuresurface"))
_GROUND_NAMES = frozenset({"plantcover", "transportsquare"})


def is_ground_type(type_name: str | None) -> bool:
    """True for flat, ground-like object types: TINRelief and other reliefs, Road,
    Railway, Track, Square, TrafficArea…, WaterBody / Waterway, LandUse, PlantCover."""
    if not type_name:
        return False
    key = type_name.rsplit(":", 1)[-1].lstrip("+").lower()
    return key in _GROUND_NAMES or _CODE.get(key, -1) in _GROUND_CLASSES
