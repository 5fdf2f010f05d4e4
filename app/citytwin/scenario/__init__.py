"""Urban-design what-ifs: a base city model plus ordered edits, applied as a new model.

Sits above io and sim (it reads meshes and samples terrain) and below render; no Qt, no VTK.
"""

from __future__ import annotations

from .apply import Applied, apply_edits
from .edits import OPS, Edit, EditError, parse_edit
from .files import Autosaver, read_scenario, recovery_for, save_scenario, scenario_toml
from .scenario import BaseInfo, Scenario, ScenarioEditor, base_fingerprint

__all__ = ["OPS", "Applied", "Autosaver", "BaseInfo", "Edit", "EditError", "Scenario", "ScenarioEditor",
           "apply_edits", "base_fingerprint", "parse_edit", "read_scenario", "recovery_for", "save_scenario",
           "scenario_toml"]
