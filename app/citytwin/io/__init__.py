"""Readers and writers. No Qt, no VTK.

Every reader is ``read_<format>(path, *, crs=None, target_crs=None, origin=None,
progress=None, cancel=None) -> CityModel``:

``crs``
    the CRS the user states for the file (used when the file declares none, and
    overriding a declared one);
``target_crs`` / ``origin``
    the scene CRS and float64 origin to bring the model into (a scene of several files);
``progress``
    ``callable(fraction: float)`` called now and then, from the reading thread;
``cancel``
    ``callable() -> bool``; when it returns True the reader raises :class:`Cancelled`.
"""

from __future__ import annotations

from .registry import detect_format, read

__all__ = ["detect_format", "read"]
