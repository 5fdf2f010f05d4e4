"""The Sensors dock: the scene's sensor layers (visibility, shown property, feed state, counts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .checklist import fill_check_list


def _sensor_icon() -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(40, 40, 40))
    p.setBrush(QColor(33, 145, 140))
    p.drawEllipse(2, 2, 10, 10)
    p.end()
    return QIcon(pm)


class QtSensorsDock(QDockWidget):
    """List of sensor layers. Emits ``visibilityChanged(row, bool)``, ``propertyChanged(row, name)``,
    ``removeRequested(row)`` and ``addRequested()``; it never touches the layers itself."""

    visibilityChanged = Signal(int, bool)
    propertyChanged = Signal(int, str)
    removeRequested = Signal(int)
    addRequested = Signal()

    def __init__(self, entries: Callable[[], Sequence[Any]], parent: QWidget | None = None) -> None:
        super().__init__("Sensors", parent)
        self.setObjectName("SensorsDock")
        self.entries = entries
        w = QWidget(self)
        v = QVBoxLayout(w)
        v.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget(w)
        self.list.setObjectName("sensorLayerList")
        v.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.add_btn = QToolButton(w, text="＋", toolTip="Add a sensor feed (MQTT, SensorThings or a replay file)")
        self.remove_btn = QToolButton(w, text="✕", toolTip="Remove the sensor layer")
        buttons.addWidget(self.add_btn)
        buttons.addWidget(self.remove_btn)
        buttons.addStretch(1)
        v.addLayout(buttons)
        form = QFormLayout()
        self.prop = QComboBox(w)
        self.prop.setObjectName("sensorPropertyCombo")
        self.status = QLabel("", w)
        self.status.setObjectName("sensorStatus")
        self.status.setWordWrap(True)
        form.addRow("Show", self.prop)
        form.addRow("Feed", self.status)
        v.addLayout(form)
        self.setWidget(w)
        self._filling = False
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentRowChanged.connect(self._current_changed)
        self.prop.currentIndexChanged.connect(self._prop_changed)
        self.add_btn.clicked.connect(self.addRequested.emit)
        self.remove_btn.clicked.connect(self._remove_clicked)
        self.refresh()

    def current(self) -> int:
        return self.list.currentRow()

    def refresh(self, current: int | None = None) -> None:
        """Rebuild the list from the entries (after add or remove)."""
        self._filling = True
        try:
            fill_check_list(
                self.list,
                ((_sensor_icon(), e.name, e.visible, f"{e.spec.kind}: {e.spec.source}") for e in self.entries()),
                current,
            )
        finally:
            self._filling = False
        self._current_changed(self.list.currentRow())

    def _current_changed(self, row: int) -> None:
        entries = self.entries()
        ok = 0 <= row < len(entries)
        self.prop.setEnabled(ok)
        self.remove_btn.setEnabled(ok)
        self._filling = True
        try:
            self.prop.clear()
            if ok:
                vis = entries[row].visual
                for name in vis.properties():
                    unit = vis.unit(name)
                    self.prop.addItem(f"{name} [{unit}]" if unit else name, name)
                self.prop.setCurrentIndex(max(self.prop.findData(vis.property), 0))
        finally:
            self._filling = False
        self.show_status()

    def show_status(self) -> None:
        """Refresh the feed line of the current layer (state, datastreams, messages)."""
        entries = self.entries()
        row = self.current()
        if not 0 <= row < len(entries):
            self.status.setText("no sensor layer")
            return
        self.status.setText(entries[row].status_text())

    def _remove_clicked(self) -> None:
        if self.current() >= 0:
            self.removeRequested.emit(self.current())

    def _prop_changed(self, _i: int) -> None:
        if not self._filling and self.current() >= 0 and self.prop.currentData():
            self.propertyChanged.emit(self.current(), str(self.prop.currentData()))

    def _item_changed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self.visibilityChanged.emit(self.list.row(item), item.checkState() == Qt.CheckState.Checked)
