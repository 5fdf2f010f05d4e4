"""citytwin: a desktop 3D digital twin of a city."""

from __future__ import annotations

__version__ = "0.1.0"
