"""A table model over the objects of every layer, lazy enough for 100k+ rows.

``data()`` reads one cell straight from the model's columns; sorting and filtering
work on whole numpy columns and only reorder an index array (no per-row Qt items).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ..model.query import attribute_column, evaluate
from .layers import Layer

BASE_COLUMNS = ("Layer", "ID", "Type", "Parent", "Height")
MAX_ATTR_COLUMNS = 8

_Index = QModelIndex | QPersistentModelIndex


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dict) and "value" in v:
        u = v.get("uom") or v.get("unit") or ""
        return f"{_fmt(v['value'])} {u}".strip()
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:.6g}"
    return str(v)


class QtObjectTableModel(QAbstractTableModel):
    """Rows are ``(layer, object)`` pairs; ``rows`` holds them in display order."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._layers: list[Layer] = []
        self._offsets = np.zeros(1, dtype=np.int64)
        self.rows = np.zeros(0, dtype=np.int64)  # global object numbers in display order
        self.columns: list[str] = list(BASE_COLUMNS)
        self._col_cache: dict[tuple[int, str], NDArray[Any]] = {}
        self.filter_text = ""
        self.filter_error = ""
        self._masks: list[NDArray[np.bool_]] = []  # per layer: the objects the filter matches
        self._sort: tuple[int, Qt.SortOrder] | None = None

    # ---------------------------------------------------------------- layers
    def set_layers(self, layers: Sequence[Layer]) -> None:
        self.beginResetModel()
        self._layers = [lay for lay in layers if lay.owner is None]  # a split-off terrain shares its owner's objects
        sizes = [lay.model.n_objects for lay in self._layers]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._col_cache.clear()
        counts: dict[str, int] = {}
        for lay in self._layers:
            for k in lay.attribute_names()[:MAX_ATTR_COLUMNS]:
                counts[k] = counts.get(k, 0) + 1
        extra = [k for k in sorted(counts, key=lambda k: -counts[k]) if k not in ("height",)]
        self.columns = list(BASE_COLUMNS) + extra[:MAX_ATTR_COLUMNS]
        self.rows = np.arange(self._offsets[-1], dtype=np.int64)
        self.endResetModel()
        self._apply(self.filter_text)

    def locate(self, g: int) -> tuple[int, int]:
        """Layer position (in this model's layer list) and object index of global row ``g``."""
        li = int(np.searchsorted(self._offsets, g, side="right") - 1)
        return li, int(g - self._offsets[li])

    def layer_of(self, li: int) -> Layer:
        return self._layers[li]

    def row_of(self, layer: Layer, obj: int) -> int:
        """Display row of an object, -1 when filtered out."""
        for li, lay in enumerate(self._layers):
            if lay is layer:
                g = self._offsets[li] + obj
                hit = np.flatnonzero(self.rows == g)
                return int(hit[0]) if len(hit) else -1
        return -1

    # ----------------------------------------------------------------- Qt API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return self.columns[section] if section < len(self.columns) else None
            return section + 1
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if role == Qt.ItemDataRole.TextAlignmentRole and index.isValid() and self.columns[index.column()] == "Height":
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        li, i = self.locate(int(self.rows[index.row()]))
        m = self._layers[li].model
        col = self.columns[index.column()]
        if col == "Layer":
            return self._layers[li].name
        if col == "ID":
            return m.objects.ids[i]
        if col == "Type":
            return m.objects.types[i]
        if col == "Parent":
            p = m.objects.parent(i)
            return m.objects.ids[p] if p >= 0 else ""
        if col == "Height":
            h = m.height(i)
            return "" if np.isnan(h) else f"{h:.2f}"
        return _fmt(m.objects.attributes[i].get(col))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        key = self._global_column(self.columns[column])[self.rows]
        if key.dtype == object:
            key = np.array(["" if v is None else str(v) for v in key], dtype=object)
            idx = np.argsort(key.astype(str), kind="stable")
        else:
            idx = np.argsort(np.where(np.isnan(key), np.inf, key), kind="stable")
        if order == Qt.SortOrder.DescendingOrder:
            idx = idx[::-1]
        self.rows = self.rows[idx]
        self.layoutChanged.emit()

    # --------------------------------------------------------------- columns
    def _layer_column(self, li: int, name: str) -> NDArray[Any]:
        key = (li, name)
        if key not in self._col_cache:
            lay = self._layers[li]
            m = lay.model
            if name == "Layer":
                col = np.full(m.n_objects, lay.name, dtype=object)
            elif name in ("ID", "Type"):
                col = attribute_column(m, name.lower())
            elif name == "Parent":
                par = m.objects.parents
                ids = np.asarray(m.objects.ids + [""], dtype=object)
                col = ids[np.where(par >= 0, par, len(ids) - 1)]
            elif name == "Height":
                col = attribute_column(m, "height")
            else:
                col = attribute_column(m, name)
            self._col_cache[key] = col
        return self._col_cache[key]

    def _global_column(self, name: str) -> NDArray[Any]:
        parts = [self._layer_column(li, name) for li in range(len(self._layers))]
        if not parts:
            return np.zeros(0)
        if all(p.dtype != object for p in parts):
            return np.concatenate(parts).astype(np.float64)
        return np.concatenate([p.astype(object) for p in parts])

    # ---------------------------------------------------------------- filter
    def set_filter(self, text: str) -> bool:
        """Show only objects matching the query expression (see :mod:`citytwin.model.query`).
        Returns False (and keeps the old rows) when the expression is invalid."""
        return self._apply(text.strip())

    def _apply(self, text: str) -> bool:
        masks = []
        try:
            for lay in self._layers:
                if text:
                    masks.append(np.asarray(evaluate(lay.model, text), dtype=bool))
                else:
                    masks.append(np.ones(lay.model.n_objects, dtype=bool))
        except Exception as exc:  # QueryError and anything odd in user input
            self.filter_error = " ".join(str(exc).split())
            return False
        self.filter_error = ""
        self.filter_text = text
        self._masks = masks
        self.beginResetModel()
        full = np.concatenate(masks) if masks else np.zeros(0, dtype=bool)
        self.rows = np.flatnonzero(full).astype(np.int64)
        self.endResetModel()
        if self._sort is not None:
            self.sort(*self._sort)
        return True

    def matches(self) -> list[tuple[Layer, NDArray[np.bool_]]] | None:
        """Per layer of the table the objects the filter matches; None without a filter."""
        if not self.filter_text or len(self._masks) != len(self._layers):
            return None
        return list(zip(self._layers, self._masks))

    def total(self) -> int:
        return int(self._offsets[-1])
