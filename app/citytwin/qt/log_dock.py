"""The Log dock: reader warnings, errors and notices, from any thread, never a crash."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDockWidget, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

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
        self.tree.setRootIsDecorated(False)
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

    def add(self, level: int, text: str) -> None:
        """Append a message (GUI thread)."""
        lvl = logging.getLevelName(level).capitalize()
        it = QTreeWidgetItem([time.strftime("%H:%M:%S"), lvl, text])
        it.setToolTip(2, text)
        brush = QBrush(LEVEL_COLOURS.get(level, LEVEL_COLOURS[logging.INFO]))
        for c in range(3):
            it.setForeground(c, brush)
        self.tree.addTopLevelItem(it)
        if level >= logging.WARNING:
            key = logging.ERROR if level >= logging.ERROR else logging.WARNING
            self.counts[key] += 1
        while self.tree.topLevelItemCount() > MAX_ROWS:
            self.tree.takeTopLevelItem(0)
        self.tree.scrollToBottom()

    def messages(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(2) for i in range(self.tree.topLevelItemCount())]

    def _on_record(self, level: int, _name: str, text: str) -> None:
        self.add(level, text)
