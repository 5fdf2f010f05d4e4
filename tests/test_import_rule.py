"""The dependency rule: core, model and io never load Qt or VTK (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("PySide6", "vtkmodules", "vtk", "pyvista", "pyvistaqt")


@pytest.mark.parametrize(
    "module",
    ["citytwin.core", "citytwin.core.geometry", "citytwin.core.crs", "citytwin.model",
     "citytwin.model.scene", "citytwin.model.colour_source", "citytwin.model.surface_field",
     "citytwin.model.tour_path", "citytwin.model.tourfile",
     "citytwin.io", "citytwin.io.registry", "citytwin.io.scene_loader",
     "citytwin.cli.info", "citytwin.cli.convert"],
)
def test_module_loads_no_gui_or_renderer(module: str) -> None:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "import citytwin.io.registry as r\n"
        # also load every reader the registry can dispatch to, where present
        "for m in ('citygml', 'cityjson', 'mesh', 'geojson', 'writers'):\n"
        "    try:\n"
        "        importlib.import_module('citytwin.io.' + m)\n"
        "    except ModuleNotFoundError as e:\n"
        "        if not e.name.startswith('citytwin'):\n"
        "            raise\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulled in: {out.stdout.strip()}"
