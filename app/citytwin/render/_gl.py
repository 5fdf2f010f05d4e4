"""Choose VTK's OpenGL window class for headless use, before any window is made.

Without a display VTK tries X11 first, logs "bad X server connection" and then falls
back to EGL. When there is no ``DISPLAY``/``WAYLAND_DISPLAY`` and an EGL library is
installed, ask for EGL directly (no warning, no failed X connection). An explicit
``VTK_DEFAULT_OPENGL_WINDOW`` (e.g. ``vtkOSOpenGLRenderWindow`` with OSMesa) wins.
"""

from __future__ import annotations

import ctypes.util
import os
import sys


def prefer_egl_without_display() -> str | None:
    """Set ``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` when headless on Linux; returns what is set."""
    if "VTK_DEFAULT_OPENGL_WINDOW" in os.environ:
        return os.environ["VTK_DEFAULT_OPENGL_WINDOW"]
    if not sys.platform.startswith("linux") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    if ctypes.util.find_library("EGL") is None:
        return None
    os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"
    return "vtkEGLRenderWindow"
