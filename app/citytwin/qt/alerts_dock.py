"""The Alerts dock: threshold crossings and silent sensors, newest first."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDockWidget, QTableWidget, QTableWidgetItem, QWidget

from ..model.sensors import Alert
from .time_dock import format_time

COLUMNS = ("Time", "Layer", "Datastream", "Property", "Value", "Limit", "Kind")
MAX_ROWS = 2000


class QtAlertsDock(QDockWidget):
    """A table of alerts; double-clicking a row emits ``sensorRequested(layer_name, datastream_index)``."""

    sensorRequested = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Alerts", parent)
        self.setObjectName("AlertsDock")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("alertTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.setWidget(self.table)
        self.total = 0
        self.table.cellDoubleClicked.connect(self._double_clicked)

    def add_alerts(self, layer: str, alerts: Iterable[Alert], units: dict[int, str] | None = None) -> int:
        """Insert ``alerts`` of sensor layer ``layer`` at the top; returns how many were added."""
        alerts = list(alerts)
        if not alerts:
            return 0
        units = units or {}
        self.table.setUpdatesEnabled(False)
        try:
            for a in alerts[-MAX_ROWS:]:
                self.table.insertRow(0)
                unit = units.get(a.datastream, "")
                if a.kind == "stale":
                    value, limit = f"{a.value:.4g} {unit}".strip(), f"silent {a.limit:g} s"
                else:
                    value, limit = f"{a.value:.4g} {unit}".strip(), f"{a.limit:.4g}"
                cells = (format_time(a.time), layer, a.datastream_id, a.observed_property, value, limit, a.kind)
                for c, text in enumerate(cells):
                    it = QTableWidgetItem(text)
                    if c == 0:
                        it.setData(Qt.ItemDataRole.UserRole, a.datastream)
                    if a.kind in ("above", "below"):
                        it.setForeground(QColor(180, 20, 20))
                    self.table.setItem(0, c, it)
            while self.table.rowCount() > MAX_ROWS:
                self.table.removeRow(self.table.rowCount() - 1)
        finally:
            self.table.setUpdatesEnabled(True)
        self.total += len(alerts)
        self.setWindowTitle(f"Alerts ({self.total})")
        return len(alerts)

    def rows(self) -> list[tuple[str, ...]]:
        """The table's text, row by row (for tests and scripting)."""
        out = []
        for r in range(self.table.rowCount()):
            items = [self.table.item(r, c) for c in range(len(COLUMNS))]
            out.append(tuple(it.text() if it is not None else "" for it in items))
        return out

    def clear(self) -> None:
        self.table.setRowCount(0)
        self.total = 0
        self.setWindowTitle("Alerts")

    def _double_clicked(self, row: int, _col: int) -> None:
        it = self.table.item(row, 0)
        layer = self.table.item(row, 1)
        if it is not None and layer is not None:
            self.sensorRequested.emit(layer.text(), int(it.data(Qt.ItemDataRole.UserRole)))
