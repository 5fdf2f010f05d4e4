"""Filling a checkable QListWidget (the Layers and Sensors docks share this)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListWidget, QListWidgetItem


def fill_check_list(
    widget: QListWidget, rows: Iterable[tuple[QIcon, str, bool, str]], current: int | None = None
) -> None:
    """Replace the rows of ``widget`` with ``(icon, name, checked, tooltip)`` rows and
    keep the current row (``current``, or the one selected before) within range."""
    cur = widget.currentRow() if current is None else current
    widget.clear()
    for icon, name, checked, tip in rows:
        it = QListWidgetItem(icon, name)
        it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        it.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        it.setToolTip(tip)
        widget.addItem(it)
    n = widget.count()
    if n:
        widget.setCurrentRow(min(max(cur, 0), n - 1))
