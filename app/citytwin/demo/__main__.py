"""Regenerate the committed demo: ``python -m citytwin.demo [scenes_dir]``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from . import generate_demo, write_demo_scene
from .generate import generate_demo_sensors


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    scenes = Path(args[0]) if args else Path(__file__).resolve().parents[3] / "scenes"
    city = generate_demo(scenes / "demo")
    generate_demo_sensors(scenes / "demo")
    scene = write_demo_scene(scenes / "demo.toml", city)
    logging.getLogger(__name__).info("wrote %s and %s", city, scene)
    return 0


if __name__ == "__main__":
    sys.exit(main())
