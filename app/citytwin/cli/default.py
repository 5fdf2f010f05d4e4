"""``citytwin`` with no command: the viewer on the demo scene, or ``info`` on it
when the viewer cannot start (no display)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..core.errors import CityTwinError


def demo_scene_path() -> Path:
    """The demo scene shipped in the repository (``scenes/demo.toml``)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "scenes" / "demo.toml"
        if cand.exists():
            return cand
    raise CityTwinError("demo scene scenes/demo.toml not found (run: python -m citytwin.demo)")


def run_default(args: argparse.Namespace) -> int:
    scene = demo_scene_path()
    try:
        from . import view
    except ImportError:
        view = None  # type: ignore[assignment]
    if view is not None and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return int(view.open_viewer([str(scene)], crs=None) or 0)
    from ..model.scenefile import read_scene
    from . import info

    sf = read_scene(scene)
    ns = argparse.Namespace(files=[str(d.path) for d in sf.datasets], json=False, crs=None)
    return info.run(ns)
