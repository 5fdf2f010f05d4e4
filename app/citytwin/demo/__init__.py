"""The demo district: a made-up, deterministic town quarter written as CityJSON 2.0.

``generate_demo(out_dir)`` writes ``demo_district.city.json``; ``write_demo_scene``
writes the matching scene file. ``python -m citytwin.demo`` regenerates the files
committed under ``scenes/``.
"""

from __future__ import annotations

from .generate import (
    DEMO_FILENAME,
    demo_counts,
    demo_scene,
    generate_demo,
    write_demo_scene,
)

__all__ = ["DEMO_FILENAME", "demo_counts", "demo_scene", "generate_demo", "write_demo_scene"]
