"""CityJSON 1.0/1.1/2.0 and CityJSONSeq reading, CityJSON 2.0 writing."""

from __future__ import annotations

from .reader import read_cityjson
from .seq import read_cityjsonseq
from .writer import write_cityjson

__all__ = ["read_cityjson", "read_cityjsonseq", "write_cityjson"]
