"""CityGML 1.0 / 2.0 / 3.0 reader (streamed, secure, xlinks and appearances resolved)."""

from __future__ import annotations

from .reader import read_citygml

__all__ = ["read_citygml"]
