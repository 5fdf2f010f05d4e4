"""CityGML vocabulary: namespaces, element local names and what the reader does with them.

The reader matches elements on their *local name* (plus, where it matters, whether the
namespace is a GML one), so CityGML 1.0, 2.0 and 3.0 and unknown ADE namespaces go
through the same code.
"""

from __future__ import annotations

import re

from ...model.semantics import semantic_code

GML_NS = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
GML_IDS = tuple(f"{{{ns}}}id" for ns in GML_NS)

_VERSION_RE = re.compile(r"opengis\.net/citygml/(?:[a-z]+/)?(\d\.\d)")


def citygml_version(namespaces: list[str]) -> str:
    """CityGML version ("1.0", "2.0", "3.0") from namespace URIs, or "" if none matches."""
    for ns in namespaces:
        m = _VERSION_RE.search(ns or "")
        if m:
            return m.group(1)
    return ""


def gml_tags(*names: str, ns: tuple[str, ...] = GML_NS) -> tuple[str, ...]:
    """Clark names of ``names`` in the GML namespaces ``ns`` (default: 3.1.1 and 3.2)."""
    return tuple(f"{{{n_}}}{n}" for n in names for n_ in ns)


class LocalNames(dict):  # type: ignore[type-arg]
    """``LN[tag]`` -> local name, cached (comments and PIs give "")."""

    def __missing__(self, tag: object) -> str:
        v = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        self[tag] = v
        return v


LN = LocalNames()


def is_gml(tag: str) -> bool:
    return tag.startswith("{http://www.opengis.net/gml}") or tag.startswith(
        "{http://www.opengis.net/gml/3.2}"
    )


# ----------------------------------------------------------------------------- geometry
POLY_TAGS = frozenset(gml_tags("Polygon", "Triangle", "PolygonPatch", "Rectangle"))
RING_TAGS = gml_tags("LinearRing")
MEMBER_TAGS = frozenset(
    gml_tags("surfaceMember", "baseSurface", "solidMember", "geometryMember")
)
LN_AGG = (
    "MultiSurface", "CompositeSurface", "Shell", "Surface", "TriangulatedSurface", "Tin",
    "MultiSolid", "CompositeSolid", "MultiGeometry",
)
AGG_TAGS = frozenset(gml_tags(*LN_AGG))
SOLID_TAGS = frozenset(gml_tags("Solid"))
ORIENT_TAGS = frozenset(gml_tags("OrientableSurface"))
CURVE_TAGS = frozenset(
    gml_tags("LineString", "Curve", "CompositeCurve", "OrientableCurve", "Point", "MultiPoint")
)
POSLIST_TAGS = frozenset(gml_tags("posList"))
POS_TAGS = frozenset(gml_tags("pos"))
COORDS_TAGS = frozenset(gml_tags("coordinates"))
GEOM_ITER_TAGS = tuple(POLY_TAGS | MEMBER_TAGS | AGG_TAGS | SOLID_TAGS | ORIENT_TAGS | CURVE_TAGS)
CURVE_PROP_RE = re.compile(r"Curve|TerrainIntersection|Point|Network")


class FileTags:
    """Tag tuples for ``Element.iter`` in the GML namespace(s) a file uses.

    lxml builds a tag matcher per ``iter()`` call, so short tuples matter: the fast
    set (polygons and surface members) is used unless a member holds something rarer
    (orientable surfaces, solids with inner shells, aggregates with ids).
    """

    def __init__(self, nss: tuple[str, ...]) -> None:
        self.fast = gml_tags("Polygon", "Triangle", "PolygonPatch", "Rectangle", "surfaceMember",
                             "geometryMember", ns=nss)
        self.full = tuple(t for t in GEOM_ITER_TAGS if t.partition("}")[0][1:] in nss)
        self.ring = gml_tags("LinearRing", ns=nss)
        self.ids = tuple(f"{{{ns}}}id" for ns in nss)
        self.poly = gml_tags("Polygon", "Triangle", "PolygonPatch", "Rectangle", ns=nss)
        self.poly_set = frozenset(self.poly)
        self.solid = frozenset(gml_tags("Solid", ns=nss))
        self.surfaces = frozenset(gml_tags("MultiSurface", "CompositeSurface", "Shell", ns=nss))
        self.rare = gml_tags("OrientableSurface", "Solid", *(LN_AGG), ns=nss)
        self.curve = gml_tags("LineString", "Curve", "CompositeCurve", "OrientableCurve", "Point",
                              "MultiPoint", ns=nss)


def file_gml_namespaces(nss: list[str]) -> tuple[str, ...]:
    """The GML namespace(s) a file declares (both when it declares neither)."""
    found = tuple(ns for ns in GML_NS if ns in nss)
    return found or GML_NS

# geometry element kinds met while walking a geometry property
K_POLY, K_MEMBER, K_AGG, K_SOLID, K_ORIENT, K_CURVE = range(6)
GEOM_KIND: dict[str, int] = {}
for _tags, _k in (
    (POLY_TAGS, K_POLY), (MEMBER_TAGS, K_MEMBER), (AGG_TAGS, K_AGG), (SOLID_TAGS, K_SOLID),
    (ORIENT_TAGS, K_ORIENT), (CURVE_TAGS, K_CURVE),
):
    for _t in _tags:
        GEOM_KIND[_t] = _k

# ------------------------------------------------------------------------ thematic names
# semantic (thematic) surfaces -> semantic type name
SURFACES: dict[str, str] = {
    n: n
    for n in (
        "RoofSurface", "WallSurface", "GroundSurface", "ClosureSurface", "OuterCeilingSurface",
        "OuterFloorSurface", "InteriorWallSurface", "CeilingSurface", "FloorSurface", "Window",
        "Door", "TrafficArea", "AuxiliaryTrafficArea", "Marking", "WaterSurface",
        "WaterGroundSurface", "WaterClosureSurface",
    )
}
SURFACES.update(
    {
        "WindowSurface": "Window",
        "DoorSurface": "Door",
        "HoleSurface": "Hole",
        "Hole": "Hole",
        "GenericThematicSurface": "Generic",
        "LandUseSurface": "LandUse",
    }
)

SURFACE_CODE = {name: semantic_code(sem) for name, sem in SURFACES.items()}

# city object types (local names); anything else at the top level is kept under its own name
OBJECTS = frozenset(
    (
        "Building", "BuildingPart", "BuildingInstallation", "IntBuildingInstallation", "Room",
        "BuildingFurniture", "BuildingRoom", "BuildingUnit", "Storey", "BuildingConstructiveElement",
        "ReliefFeature", "TINRelief", "MassPointRelief", "BreaklineRelief", "RasterRelief",
        "Road", "Railway", "Track", "Square", "Waterway", "TransportationComplex", "Section",
        "Intersection", "SolitaryVegetationObject", "PlantCover", "WaterBody", "CityFurniture",
        "Bridge", "BridgePart", "BridgeInstallation", "IntBridgeInstallation",
        "BridgeConstructionElement", "BridgeConstructiveElement", "BridgeRoom", "BridgeFurniture",
        "Tunnel", "TunnelPart", "TunnelInstallation", "IntTunnelInstallation", "HollowSpace",
        "TunnelConstructiveElement", "TunnelFurniture", "LandUse", "GenericCityObject",
        "GenericOccupiedSpace", "GenericUnoccupiedSpace", "GenericLogicalSpace",
        "CityObjectGroup", "OtherConstruction",
    )
)

# 3.0 spaces that only group surfaces: their geometry goes to the enclosing object
TRANSPARENT: dict[str, str] = {
    "TrafficSpace": "TrafficArea",
    "AuxiliaryTrafficSpace": "AuxiliaryTrafficArea",
    "ClearanceSpace": "TrafficArea",
}

# properties of city objects that hold no attribute and no geometry we draw
SKIP_PROPS = frozenset(
    (
        "externalReference", "generalizesTo", "groupMember", "parent", "extent", "grid",
        "reliefPoints", "ridgeOrValleyLines", "breaklines", "geometry", "dynamizer",
        "relatedTo", "pointCloud", "population",
    )
)

# attribute value types the schemas give
INT_ATTRS = frozenset(("yearOfConstruction", "yearOfDemolition", "storeysAboveGround",
                       "storeysBelowGround", "lod"))
FLOAT_ATTRS = frozenset(("measuredHeight", "height", "trunkDiameter", "crownDiameter",
                         "averageHeight", "minHeight", "maxHeight", "width"))
FLOAT_LIST_ATTRS = frozenset(("storeyHeightsAboveGround", "storeyHeightsBelowGround"))

GENERIC_KINDS = {
    "stringattribute": str,
    "intattribute": int,
    "doubleattribute": float,
    "dateattribute": str,
    "uriattribute": str,
    "measureattribute": float,
    "codeattribute": str,
}

LOD_RE = re.compile(r"lod([0-4])([A-Z]\w*)$")
_IMPLICIT_RE = re.compile(r"lod([0-4])ImplicitRepresentation$")

# property kinds
(P_GEOM, P_IMPLICIT, P_SKIP, P_NAME, P_DESC, P_GENERIC, P_GENERIC3, P_APPEAR, P_ADDRESS, P_OTHER, P_TIN,
 P_CURVE) = range(12)

_PROP_CACHE: dict[str, tuple[int, int | None]] = {}


def prop_kind(tag: str) -> tuple[int, int | None]:
    """``(kind, lod)`` of a city object's child element (cached by Clark name)."""
    hit = _PROP_CACHE.get(tag)
    if hit is not None:
        return hit
    name = LN[tag]
    gml = is_gml(tag)
    lod: int | None = None
    if gml:
        kind = {"name": P_NAME, "description": P_DESC}.get(name, P_SKIP)
    elif (m := _IMPLICIT_RE.match(name)) is not None:
        kind, lod = P_IMPLICIT, int(m.group(1))
    elif (m := LOD_RE.match(name)) is not None:
        kind = P_CURVE if CURVE_PROP_RE.search(m.group(2)) else P_GEOM
        lod = int(m.group(1))
    elif name.lower() in GENERIC_KINDS or name == "genericAttributeSet":
        kind = P_GENERIC
    elif name == "genericAttribute":
        kind = P_GENERIC3
    elif name == "appearance":
        kind = P_APPEAR
    elif name == "address":
        kind = P_ADDRESS
    elif name == "tin":
        kind = P_TIN
    elif name in SKIP_PROPS:
        kind = P_SKIP
    else:
        kind = P_OTHER
    _PROP_CACHE[tag] = (kind, lod)
    return kind, lod


def default_semantic(obj_type: str) -> int:
    """Semantic code of an object's own (non-thematic) geometry."""
    if obj_type in TRANSPARENT:
        return semantic_code(TRANSPARENT[obj_type])
    return semantic_code(obj_type)
