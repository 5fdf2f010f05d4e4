"""The Log dock: reader warnings, errors and notices, from any thread, never a crash.

A file's load report takes one row per warning kind ("DenHaag_01.gml.gz: 42 non-planar
polygons"); the messages behind it (the first ones the reader kept) are the row's
children, shown when the row is expanded (click its arrow, or Right / ``+`` on the keyboard).
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDockWidget, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from ..core.errors import LoadReport

LEVEL_COLOURS = {
    logging.ERROR: QColor(200, 40, 40),
    logging.WARNING: QColor(190, 120, 0),
    logging.INFO: QColor(60, 60, 60),
    logging.DEBUG: QColor(130, 130, 130),
}
MAX_ROWS = 5000


class _Bridge(QObject):
    message = Signal(int, str, str)


class QtLogHandler(logging.Handler):
    """A logging handler that hands records to the GUI thread through a queued signal."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.bridge = _Bridge()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.message.emit(record.levelno, record.name, self.format(record))
        except Exception:  # never let logging break the app
            pass


class QtLogDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Log", parent)
        self.setObjectName("LogDock")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("logList")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Time", "Level", "Message"])
        self.tree.setRootIsDecorated(True)  # report rows expand into their details
        self.tree.setUniformRowHeights(True)
        self.tree.setWordWrap(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.setWidget(self.tree)
        self.handler = QtLogHandler()
        self.handler.setFormatter(logging.Formatter("%(message)s"))
        self.handler.bridge.message.connect(self._on_record, Qt.ConnectionType.QueuedConnection)
        self.counts = {logging.ERROR: 0, logging.WARNING: 0}

    def add(self, level: int, text: str, details: list[str] | None = None) -> QTreeWidgetItem:
        """Append a message (GUI thread); ``details`` become its children (expandable)."""
        lvl = logging.getLevelName(level).capitalize()
        it = QTreeWidgetItem([time.strftime("%H:%M:%S"), lvl, text])
        it.setToolTip(2, text)
        brush = QBrush(LEVEL_COLOURS.get(level, LEVEL_COLOURS[logging.INFO]))
        for c in range(3):
            it.setForeground(c, brush)
        for d in details or []:
            child = QTreeWidgetItem(["", "", d])
            child.setToolTip(2, d)
            child.setForeground(2, brush)
            it.addChild(child)
        self.tree.addTopLevelItem(it)
        if level >= logging.WARNING:
            key = logging.ERROR if level >= logging.ERROR else logging.WARNING
            self.counts[key] += 1
        while self.tree.topLevelItemCount() > MAX_ROWS:
            self.tree.takeTopLevelItem(0)
        self.tree.scrollToBottom()
        return it

    def add_report(self, name: str, report: LoadReport, level: int = logging.WARNING) -> list[QTreeWidgetItem]:
        """One row per warning kind of a file's load report, its kept messages as details."""
        rows = []
        for kind, line, kept in report.summary():
            extra = report.counts[kind] - len(kept)
            details = list(kept)
            if kept and extra > 0:
                details.append(f"… and {extra:,} more not listed")
            it = self.add(level, f"{name}: {line}", details)
            it.setData(2, Qt.ItemDataRole.UserRole, kind)
            rows.append(it)
        return rows

    def messages(self) -> list[str]:
        """The top-level rows' texts (details not included)."""
        return [self.tree.topLevelItem(i).text(2) for i in range(self.tree.topLevelItemCount())]

    def details(self, row: int) -> list[str]:
        """The detail lines under top-level row ``row`` (negative: from the end)."""
        it = self.tree.topLevelItem(row % max(self.tree.topLevelItemCount(), 1))
        return [it.child(k).text(2) for k in range(it.childCount())] if it is not None else []

    def _on_record(self, level: int, _name: str, text: str) -> None:
        self.add(level, text)
