"""The Attributes dock: everything known about the selected object."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDockWidget, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from ..model import measure
from .layers import Layer

FOOTPRINT_MAX_TRIANGLES = 2000  # above this the footprint union costs more than a click may take


def object_metrics(layer: Layer, obj: int) -> dict[str, float]:
    """Surface area (3D), enclosed volume, height and footprint area of an object and its
    parts, as :class:`~citytwin.model.city.CityModel` defines them per type: ground-like
    objects (terrain, roads, water, land use, plant cover) get their plan area instead
    of a height and a footprint (NaN: shown blank) and no volume."""
    m = layer.model
    lod = layer.lod if layer.lod else "best"
    out: dict[str, float] = {"surface area": m.surface_area(obj, lod)}
    if m.ground_objects()[obj]:
        out["height"] = float("nan")
        out["footprint area"] = float("nan")
        out["plan area"] = m.plan_area(obj, lod)
        return out
    objs = np.asarray(m.objects.descendants(obj))
    tmask = np.isin(m.tri_object, objs) & m.lod_triangle_mask(lod)
    vol = measure.mesh_volume(m.vertices.astype(np.float64), m.triangles[tmask])
    if vol > 0:
        out["volume"] = vol
    out["height"] = m.height(obj)
    try:
        out["footprint area"] = m.footprint_area(obj, max_triangles=FOOTPRINT_MAX_TRIANGLES)
    except Exception:  # shapely on degenerate input
        pass
    return out


class QtAttributesDock(QDockWidget):
    """Shows id, type, layer, parent and children, computed metrics and all attributes.
    Double-clicking a parent or child emits ``objectRequested(layer, obj)``."""

    objectRequested = Signal(object, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Attributes", parent)
        self.setObjectName("AttributesDock")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("attributeTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Property", "Value"])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.setWidget(self.tree)
        self.layer: Layer | None = None
        self.obj = -1
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.show_object(None, -1)

    def value_of(self, key: str) -> str | None:
        """Text shown for a top-level or nested property (for tests and scripting)."""
        items = self.tree.findItems(key, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive, 0)
        return items[0].text(1) if items else None

    def _section(self, title: str) -> QTreeWidgetItem:
        it = QTreeWidgetItem(self.tree, [title, ""])
        f = QFont(it.font(0))
        f.setBold(True)
        it.setFont(0, f)
        it.setFirstColumnSpanned(True)
        it.setExpanded(True)
        return it

    def _add(self, parent: QTreeWidgetItem, key: str, value: Any) -> QTreeWidgetItem:
        if isinstance(value, dict) and not ("value" in value and len(value) <= 3):
            it = QTreeWidgetItem(parent, [key, f"{len(value)} entries"])
            for k, v in value.items():
                self._add(it, str(k), v)
            return it
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], (dict, list)):
            it = QTreeWidgetItem(parent, [key, f"{len(value)} items"])
            for k, v in enumerate(value):
                self._add(it, f"[{k}]", v)
            return it
        if isinstance(value, dict):
            text = f"{value.get('value')} {value.get('uom', '')}".strip()
        elif isinstance(value, float):
            text = f"{value:.6g}"
        elif isinstance(value, (list, tuple)):
            text = ", ".join(str(v) for v in value)
        else:
            text = "" if value is None else str(value)
        it = QTreeWidgetItem(parent, [key, text])
        it.setToolTip(1, text)
        return it

    def show_object(self, layer: Layer | None, obj: int) -> None:
        self.layer, self.obj = layer, obj
        self.tree.clear()
        if layer is None or obj < 0:
            QTreeWidgetItem(self.tree, ["No selection", "click an object in the view"])
            return
        ot = layer.model.objects
        head = self._section("Object")
        self._add(head, "id", ot.ids[obj])
        self._add(head, "type", ot.types[obj])
        self._add(head, "layer", layer.name)
        p = ot.parent(obj)
        pit = self._add(head, "parent", ot.ids[p] if p >= 0 else "—")
        pit.setData(1, Qt.ItemDataRole.UserRole, p)
        kids = ot.children(obj)
        kit = QTreeWidgetItem(head, ["children", str(len(kids))])
        for c in kids[:500]:
            ci = QTreeWidgetItem(kit, [ot.types[c], ot.ids[c]])
            ci.setData(1, Qt.ItemDataRole.UserRole, c)
        geo = self._section("Geometry")
        for k, v in object_metrics(layer, obj).items():
            unit = " m³" if k == "volume" else " m²" if "area" in k else " m"
            self._add(geo, k, "" if np.isnan(v) else f"{v:,.2f}{unit}")
        attrs = ot.attributes[obj]
        sec = self._section(f"Attributes ({len(attrs)})")
        for k in sorted(attrs, key=str.lower):
            self._add(sec, k, attrs[k])

    def _double_clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        target = item.data(1, Qt.ItemDataRole.UserRole)
        if self.layer is not None and isinstance(target, int) and target >= 0:
            self.objectRequested.emit(self.layer, target)
