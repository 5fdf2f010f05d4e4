"""The Objects dock: every object of every layer in a sortable, filterable table."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .layers import Layer
from .object_table import QtObjectTableModel


class QtObjectsDock(QDockWidget):
    """Emits ``objectActivated(layer, obj)`` when the user selects a row, and
    ``matchesChanged(matches, only)`` when the filter's matches or the "Show only matches"
    box change (``matches``: :meth:`QtObjectTableModel.matches`, None without a filter)."""

    objectActivated = Signal(object, int)
    matchesChanged = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Objects", parent)
        self.setObjectName("ObjectsDock")
        w = QWidget(self)
        lay = QVBoxLayout(w)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.filter_edit = QLineEdit(w)
        self.filter_edit.setObjectName("objectFilter")
        self.filter_edit.setPlaceholderText('Filter, e.g.  type == "Building" and height > 20   (Enter)')
        self.filter_edit.setClearButtonEnabled(True)
        self.count_label = QLabel("0 objects", w)
        self.count_label.setMinimumWidth(110)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.only_matches = QCheckBox("Show only matches", w)
        self.only_matches.setObjectName("onlyMatches")
        self.only_matches.setToolTip("Hide the objects the filter does not match in the 3D view "
                                     "(matches are tinted blue there either way)")
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.only_matches)
        top.addWidget(self.count_label)
        lay.addLayout(top)
        self.model = QtObjectTableModel(self)
        self.view = QTableView(w)
        self.view.setObjectName("objectTable")
        self.view.setModel(self.model)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # file order first
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setDefaultSectionSize(120)
        lay.addWidget(self.view, 1)
        self.setWidget(w)
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(lambda t: self.apply_filter() if not t else None)
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        self.only_matches.toggled.connect(lambda _on: self._emit_matches())
        self._updating = False

    def set_layers(self, layers: Sequence[Layer]) -> None:
        self.model.set_layers(layers)
        self._update_count()
        self._emit_matches()

    def apply_filter(self) -> bool:
        ok = self.model.set_filter(self.filter_edit.text())
        self.filter_edit.setStyleSheet("" if ok else "QLineEdit { background: #ffe0e0; }")
        self.filter_edit.setToolTip(self.model.filter_error)
        self._update_count()
        if ok:
            self._emit_matches()
        return ok

    def _emit_matches(self) -> None:
        self.matchesChanged.emit(self.model.matches(), self.only_matches.isChecked())

    def _update_count(self) -> None:
        n, total = self.model.rowCount(), self.model.total()
        text = f"{n:,} objects" if n == total else f"{n:,} of {total:,}"
        if self.model.filter_error:
            text = "invalid filter"
        self.count_label.setText(text)

    def _row_changed(self, cur, _prev) -> None:  # noqa: ANN001
        if self._updating or not cur.isValid():
            return
        li, obj = self.model.locate(int(self.model.rows[cur.row()]))
        self.objectActivated.emit(self.model.layer_of(li), obj)

    def show_object(self, layer: Layer | None, obj: int) -> None:
        """Select the row of an object picked elsewhere (without re-emitting)."""
        self._updating = True
        try:
            sm = self.view.selectionModel()
            if layer is None:
                sm.clearSelection()
                return
            row = self.model.row_of(layer, obj)
            if row < 0:
                sm.clearSelection()
                return
            idx = self.model.index(row, 0)
            sm.setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
            self.view.scrollTo(idx)
        finally:
            self._updating = False
