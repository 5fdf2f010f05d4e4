"""CityGML 1.0 / 2.0 / 3.0 reader: :func:`read_citygml`.

Streamed with an ``lxml.etree.XMLPullParser`` one top-level member at a time (memory follows
the output, not the XML tree); entities are never resolved, no DTD is loaded and the
network is never used. Elements are matched on local names, so unknown ADE
namespaces only add attributes (simple ADE elements) or objects (unknown top-level
features, typed by their local name).

What lands in the :class:`~citytwin.model.city.CityModel`:

- one object row per city object (Building, BuildingPart, BuildingInstallation,
  ReliefFeature/TINRelief, Road/Section/Intersection, vegetation, water, bridge,
  tunnel, land use, furniture, generic objects, groups, ADE features), with parent
  links and attributes (``name``, ``description``, typed standard attributes with a
  ``<name>_uom`` key where a unit is given, generic attributes 1.0/2.0/3.0, sets as
  nested dicts, ``address`` as one string, ADE leaves by local name);
- every polygon exactly once, where it is defined, with the semantic type of its
  thematic surface (or of its object), the LoD of the property it came through,
  its X3DMaterial and ParameterizedTexture (uv per corner); xlinked polygons are
  not drawn again, but a surface that xlinks a solid's polygon gives it its type;
- ``metadata``: ``citygml_version``, ``surface_counts``, ``ignored_curves_points``,
  ``xlinks`` (resolved/unresolved), ``implicit_geometries``, ``appearance_theme``,
  ``other_themes``, ``appearance_skipped`` and the ``srsName`` found.
"""

from __future__ import annotations

from .reader import read_citygml

__all__ = ["read_citygml"]
