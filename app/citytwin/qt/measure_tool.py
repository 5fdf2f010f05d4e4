"""Measuring in the view: distance (3D and horizontal), height difference and polygon
area between points clicked on surfaces. The maths lives in :mod:`citytwin.model.measure`;
this module collects the clicks, draws the overlay and lists the results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..model import measure
from ..render.viewtools import MeasureOverlay

MODES = {"distance": "Distance", "height": "Height difference", "area": "Area"}
HINTS = {
    "distance": "Click two points on surfaces.",
    "height": "Click two points: the result is the vertical difference.",
    "area": "Click the corners of a polygon; Enter or a click on the first point closes it, Esc cancels it.",
}


@dataclass
class Measurement:
    kind: str
    points: NDArray[np.float64]  # scene-relative
    text: str
    values: dict[str, float] = field(default_factory=dict)
    overlay: Any = None


def describe(kind: str, pts: NDArray[np.float64]) -> tuple[str, dict[str, float]]:
    """Label and values of a finished measurement."""
    if kind == "distance":
        d = measure.distance(pts[0], pts[1])
        return (f"{d.d3:.2f} m  (horizontal {d.horizontal:.2f} m, Δz {d.dz:+.2f} m)",
                {"distance": d.d3, "horizontal": d.horizontal, "dz": d.dz})
    if kind == "height":
        dz = measure.height_difference(pts[0], pts[1])
        return f"Δz {dz:+.2f} m", {"dz": dz}
    a = measure.polygon_area(pts)
    return (f"{a.area3d:.2f} m²  (horizontal {a.horizontal:.2f} m², perimeter {a.perimeter:.2f} m)",
            {"area": a.area3d, "horizontal": a.horizontal, "perimeter": a.perimeter})


class QtMeasureTool(QObject):
    """State machine of one measuring session; ``finished(Measurement)`` when done."""

    finished = Signal(object)
    modeChanged = Signal(str)
    status = Signal(str)

    def __init__(self, renderer: Any, request_render: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.renderer = renderer
        self.request_render = request_render
        self.mode = ""
        self.points: list[NDArray[np.float64]] = []
        self.preview: MeasureOverlay | None = None
        self.results: list[Measurement] = []

    @property
    def active(self) -> bool:
        return bool(self.mode)

    def set_mode(self, mode: str) -> None:
        """Start measuring ``distance``, ``height`` or ``area``; ``""`` stops."""
        self._drop_preview()
        self.mode = mode if mode in MODES else ""
        self.points = []
        self.modeChanged.emit(self.mode)
        self.status.emit(HINTS.get(self.mode, ""))

    def _drop_preview(self) -> None:
        if self.preview is not None:
            self.preview.remove()
            self.preview = None
            self.request_render()

    def add_point(self, p: NDArray[np.float64]) -> Measurement | None:
        """A clicked surface point (scene-relative)."""
        if not self.mode:
            return None
        p = np.asarray(p, dtype=np.float64)
        if self.mode == "area" and len(self.points) >= 3:
            first = self.points[0]
            span = max(np.linalg.norm(np.ptp(np.array(self.points), axis=0)), 1.0)
            if np.linalg.norm(p - first) < 0.02 * span:
                return self.close()
        self.points.append(p)
        if self.preview is None:
            self.preview = MeasureOverlay(self.renderer, color=(0.1, 0.55, 0.95))
        pts = np.array(self.points)
        need = 2 if self.mode in ("distance", "height") else None
        if need is not None and len(pts) >= need:
            return self._finish(pts[:need])
        label = ""
        if self.mode == "area" and len(pts) >= 3:
            label = describe("area", pts)[0].split("  ")[0]
        self.preview.set_points(pts, closed=self.mode == "area" and len(pts) >= 3, label=label)
        self.request_render()
        return None

    def close(self) -> Measurement | None:
        """Finish an area (Enter)."""
        if self.mode == "area" and len(self.points) >= 3:
            return self._finish(np.array(self.points))
        return None

    def cancel(self) -> None:
        """Esc: drop the points of the measurement in progress; with none, stop measuring."""
        if self.points:
            self._drop_preview()
            self.points = []
            self.status.emit(HINTS.get(self.mode, ""))
        else:
            self.set_mode("")

    def _finish(self, pts: NDArray[np.float64]) -> Measurement:
        kind = self.mode
        text, values = describe(kind, pts)
        self._drop_preview()
        ov = MeasureOverlay(self.renderer)
        shown = pts
        if kind == "height":  # draw the vertical leg and the horizontal one
            corner = np.array([pts[1][0], pts[1][1], pts[0][2]])
            shown = np.array([pts[0], corner, pts[1]])
        ov.set_points(shown, closed=kind == "area", label=text.split("  ")[0])
        m = Measurement(kind, pts, text, values, ov)
        self.results.append(m)
        self.points = []
        self.request_render()
        self.finished.emit(m)
        return m

    def clear(self) -> None:
        self._drop_preview()
        for m in self.results:
            if m.overlay is not None:
                m.overlay.remove()
        self.results = []
        self.points = []
        self.request_render()


class QtMeasureDock(QDockWidget):
    """Mode buttons, a hint and the results list."""

    def __init__(self, tool: QtMeasureTool, parent: QWidget | None = None) -> None:
        super().__init__("Measurements", parent)
        self.setObjectName("MeasureDock")
        self.tool = tool
        w = QWidget(self)
        v = QVBoxLayout(w)
        v.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)
        self.buttons: dict[str, QPushButton] = {}
        for mode, label in MODES.items():
            b = QPushButton(label, w)
            b.setCheckable(True)
            b.clicked.connect(lambda checked, m=mode: tool.set_mode(m if checked else ""))
            row.addWidget(b)
            self.buttons[mode] = b
        clear = QPushButton("Clear", w)
        clear.clicked.connect(self._clear)
        row.addWidget(clear)
        v.addLayout(row)
        self.hint = QLabel("Pick a tool, then click on surfaces in the view.", w)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        v.addWidget(self.hint)
        self.list = QTreeWidget(w)
        self.list.setObjectName("measureList")
        self.list.setHeaderLabels(["#", "Kind", "Result"])
        self.list.setRootIsDecorated(False)
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.list.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        v.addWidget(self.list, 1)
        self.setWidget(w)
        tool.modeChanged.connect(self._mode_changed)
        tool.finished.connect(self._add)
        tool.status.connect(lambda s: self.hint.setText(s or "Pick a tool, then click on surfaces in the view."))

    def _mode_changed(self, mode: str) -> None:
        for m, b in self.buttons.items():
            b.setChecked(m == mode)

    def _add(self, m: Measurement) -> None:
        it = QTreeWidgetItem([str(self.list.topLevelItemCount() + 1), MODES[m.kind], m.text])
        it.setToolTip(2, m.text)
        self.list.addTopLevelItem(it)

    def _clear(self) -> None:
        self.tool.clear()
        self.list.clear()
