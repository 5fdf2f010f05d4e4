"""The Sensors dock: the scene's sensor layers (visibility, shown property, feed state, counts), the
interpolation settings of surfaces coloured by them and the way to the Feed diagnostics dock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..model.sensor_spec import IdwSettings
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
    ``removeRequested(row)``, ``addRequested()``, ``idwChanged(row, IdwSettings)`` (power, k,
    radius of surfaces coloured by the layer) and ``diagnosticsRequested(row)``; it never touches
    the layers itself."""

    visibilityChanged = Signal(int, bool)
    propertyChanged = Signal(int, str)
    removeRequested = Signal(int)
    addRequested = Signal()
    idwChanged = Signal(int, object)
    diagnosticsRequested = Signal(int)

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
        self.diag_btn = QPushButton("Diagnostics…", w)
        self.diag_btn.setObjectName("sensorDiagnosticsButton")
        self.diag_btn.setToolTip("Feed diagnostics: messages received, rejected by reason, connection errors")
        buttons.addWidget(self.add_btn)
        buttons.addWidget(self.remove_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.diag_btn)
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
        box = QGroupBox("Surfaces coloured by sensors", w)
        box.setToolTip("Buildings and ground coloured by a sensor property (Layers dock, colour by "
                       "\"Sensors: …\"): how values are interpolated between the sensors")
        f2 = QFormLayout(box)
        self.idw_power = QDoubleSpinBox(box, minimum=0.5, maximum=8.0, singleStep=0.5, decimals=1)
        self.idw_power.setObjectName("idwPower")
        self.idw_power.setToolTip("IDW weight 1/distance^power: higher gives more local patches")
        self.idw_k = QSpinBox(box, minimum=0, maximum=64)
        self.idw_k.setObjectName("idwNeighbours")
        self.idw_k.setSpecialValueText("all")
        self.idw_k.setToolTip("Nearest sensors averaged per point (IDW)")
        self.idw_radius = QDoubleSpinBox(box, minimum=0.0, maximum=100_000.0, singleStep=50.0, decimals=0)
        self.idw_radius.setObjectName("idwRadius")
        self.idw_radius.setSuffix(" m")
        self.idw_radius.setSpecialValueText("no limit")
        self.idw_radius.setToolTip("Sensors farther away do not count (nearest and IDW); points with none "
                                   "in reach have no value")
        f2.addRow("Power", self.idw_power)
        f2.addRow("Neighbours", self.idw_k)
        f2.addRow("Max radius", self.idw_radius)
        self.idw_note = QLabel("", box)
        self.idw_note.setObjectName("idwNote")
        self.idw_note.setWordWrap(True)
        self.idw_note.setEnabled(False)  # greyed: a hint
        f2.addRow(self.idw_note)
        self.idw_box = box
        self.idw_note_for: Callable[[int], str] | None = None  # row -> which properties the settings serve
        v.addWidget(box)
        self.setWidget(w)
        self._filling = False
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentRowChanged.connect(self._current_changed)
        self.prop.currentIndexChanged.connect(self._prop_changed)
        self.add_btn.clicked.connect(self.addRequested.emit)
        self.diag_btn.clicked.connect(lambda: self.diagnosticsRequested.emit(self.current()))
        for sb in (self.idw_power, self.idw_k, self.idw_radius):
            sb.setKeyboardTracking(False)  # typing "250" is one change, not three
            sb.valueChanged.connect(self._idw_edited)
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
        self.idw_box.setEnabled(ok)
        self._filling = True
        try:
            self.prop.clear()
            if ok:
                vis = entries[row].visual
                for name in vis.properties():
                    unit = vis.unit(name)
                    self.prop.addItem(f"{name} [{unit}]" if unit else name, name)
                self.prop.setCurrentIndex(max(self.prop.findData(vis.property), 0))
                self.show_idw(entries[row].spec.idw)
        finally:
            self._filling = False
        self.show_status()
        self.show_idw_note()

    def show_idw_note(self) -> None:
        """Say which surface fields the current layer's settings serve (text from the controller)."""
        row = self.current()
        ok = 0 <= row < len(self.entries()) and self.idw_note_for is not None
        self.idw_note.setText(self.idw_note_for(row) if ok and self.idw_note_for else "")

    def show_status(self) -> None:
        """Refresh the feed line of the current layer (state, datastreams, messages)."""
        entries = self.entries()
        row = self.current()
        if not 0 <= row < len(entries):
            self.status.setText("no sensor layer")
            return
        self.status.setText(entries[row].status_text())

    def show_idw(self, st: IdwSettings) -> None:
        """Show interpolation settings (no signal)."""
        was, self._filling = self._filling, True
        try:
            self.idw_power.setValue(st.power)
            self.idw_k.setValue(st.k)
            self.idw_radius.setValue(st.max_distance or 0.0)
        finally:
            self._filling = was

    def idw_settings(self) -> IdwSettings:
        """The settings the spin boxes show."""
        r = self.idw_radius.value()
        return IdwSettings(power=self.idw_power.value(), k=self.idw_k.value(), max_distance=r if r > 0 else None)

    def _idw_edited(self, *_: Any) -> None:
        if not self._filling and self.current() >= 0:
            self.idwChanged.emit(self.current(), self.idw_settings())

    def _remove_clicked(self) -> None:
        if self.current() >= 0:
            self.removeRequested.emit(self.current())

    def _prop_changed(self, _i: int) -> None:
        if not self._filling and self.current() >= 0 and self.prop.currentData():
            self.propertyChanged.emit(self.current(), str(self.prop.currentData()))

    def _item_changed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self.visibilityChanged.emit(self.list.row(item), item.checkState() == Qt.CheckState.Checked)
