from __future__ import annotations

import os
from pathlib import Path

import pytest

# Without a display, Qt's default xcb platform aborts the process as soon as a test asks for
# a QApplication. Tests of Qt models and widgets without a VTK view run fine on the
# offscreen platform; tests that need the VTK widget skip themselves (qt_fixtures.need_display).
if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA
