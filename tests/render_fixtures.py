"""Shared pieces of the off-screen render tests: one GL probe per test run and the demo model."""

from __future__ import annotations

from pathlib import Path

import pytest

from citytwin.render import offscreen_available

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "demo" / "demo_district.city.json"

_OK, _WHY = offscreen_available()  # once per run: every render test module imports this
#: ``pytestmark`` of a render test module: GUI-marked, skipped without off-screen OpenGL
RENDER_MARKS = [pytest.mark.gui, pytest.mark.skipif(not _OK, reason=f"no off-screen OpenGL here: {_WHY}")]


@pytest.fixture(scope="module")
def demo():  # noqa: ANN201
    """The committed demo district, read once per test module."""
    cj = pytest.importorskip("citytwin.io.cityjson")
    return cj.read_cityjson(DEMO)
