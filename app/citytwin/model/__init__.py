"""The city data model: numpy arrays and plain Python objects, no Qt, no VTK."""

from __future__ import annotations

from .builder import CityModelBuilder
from .city import CityModel, ObjectTable
from .semantics import SEMANTICS, semantic_code

__all__ = ["SEMANTICS", "CityModel", "CityModelBuilder", "ObjectTable", "semantic_code"]
