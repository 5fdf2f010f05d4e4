"""The Layers dock's "Colour by" chooser: a button opening a grouped menu instead of one long list.

Entries are added as with a :class:`QComboBox` (``addItem(label, key)``), each with an
optional ``path`` of group names: ``("Attributes",)``, ``("Sensors", "no2", "IDW")``. The
menu shows one level per group (Semantic; Attributes ▸ …; Sensors ▸ property ▸
nearest/IDW ▸ buildings/ground/both), so however many attributes and sensor properties
a layer has, no menu runs off the screen (a group of more than :data:`MAX_PER_MENU`
entries is split into ranges). The keys (what scene files save) are the entries' data,
unchanged. The combo-like API (``findData``, ``setCurrentIndex``, ``currentData``,
``itemText``, ``count``, ``currentIndexChanged``) keeps callers and tests as they were.

Keyboard: Space, Enter, Down or F4 open the menu (arrows and Right/Left walk it, Enter
picks, Esc closes); Ctrl+Up / Ctrl+Down step to the previous/next entry without
opening it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolButton, QWidget

MAX_PER_MENU = 24  # entries in one menu before a group is split into ranges


@dataclass
class _Entry:
    label: str  # the full label (button text, tool tip, itemText)
    key: Any
    path: tuple[str, ...]  # groups, outermost first
    leaf: str  # the label in its menu


class ColorByButton(QToolButton):
    """A combo-box-like chooser whose popup is a menu of groups (see the module notes)."""

    currentIndexChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.DelayedPopup)
        self.setArrowType(Qt.ArrowType.NoArrow)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._entries: list[_Entry] = []
        self._current = -1
        self._menu: QMenu | None = None
        self.clicked.connect(self.show_popup)

    # ---------------------------------------------------------------- combo-like API
    def clear(self) -> None:
        had = self._current >= 0
        self._entries.clear()
        self._current = -1
        self._menu = None
        self._show_current()
        if had:
            self.currentIndexChanged.emit(-1)

    def addItem(self, label: str, key: Any = None, path: tuple[str, ...] = (), leaf: str | None = None) -> None:  # noqa: N802
        self._entries.append(_Entry(label, key, tuple(path), leaf or label))
        self._menu = None
        if self._current < 0:
            self._current = 0
            self._show_current()
            self.currentIndexChanged.emit(0)

    def count(self) -> int:
        return len(self._entries)

    def itemText(self, i: int) -> str:  # noqa: N802
        return self._entries[i].label if 0 <= i < len(self._entries) else ""

    def itemData(self, i: int) -> Any:  # noqa: N802
        return self._entries[i].key if 0 <= i < len(self._entries) else None

    def itemPath(self, i: int) -> tuple[str, ...]:  # noqa: N802
        """The groups of entry ``i``, then its label in the menu."""
        e = self._entries[i]
        return (*e.path, e.leaf)

    def findData(self, key: Any) -> int:  # noqa: N802
        for i, e in enumerate(self._entries):
            if e.key == key:
                return i
        return -1

    def currentIndex(self) -> int:  # noqa: N802
        return self._current

    def currentData(self) -> Any:  # noqa: N802
        return self.itemData(self._current)

    def currentText(self) -> str:  # noqa: N802
        return self.itemText(self._current)

    def setCurrentIndex(self, i: int) -> None:  # noqa: N802
        i = i if 0 <= i < len(self._entries) else -1
        if i == self._current:
            return
        self._current = i
        self._show_current()
        self.currentIndexChanged.emit(i)

    # ---------------------------------------------------------------- menu
    def _show_current(self) -> None:
        e = self._entries[self._current] if self._current >= 0 else None
        self.setText(("  ▸ ".join((*e.path, e.leaf)) if e else "") + "  ▾")
        self.setToolTip(e.label if e else "")

    def menu_tree(self) -> QMenu:
        """The grouped menu (rebuilt after the entries change); its actions hold entry indices."""
        if self._menu is not None:
            return self._menu
        root = QMenu(self)
        root.setObjectName("colorByMenu")
        group = QActionGroup(root)
        group.setExclusive(True)
        menus: dict[tuple[str, ...], QMenu] = {(): root}
        members: dict[tuple[str, ...], list[int]] = {}
        for i, e in enumerate(self._entries):
            members.setdefault(e.path, []).append(i)

        def menu_for(path: tuple[str, ...]) -> QMenu:
            m = menus.get(path)
            if m is None:
                parent = menu_for(path[:-1])
                m = parent.addMenu(path[-1])
                m.setToolTipsVisible(True)
                menus[path] = m
            return m

        for i, e in enumerate(self._entries):
            m = menu_for(e.path)
            rows = members[e.path]
            if len(rows) > MAX_PER_MENU:  # a long group: sub-menus of MAX_PER_MENU entries each
                k = rows.index(i) // MAX_PER_MENU
                chunk = rows[k * MAX_PER_MENU:(k + 1) * MAX_PER_MENU]
                key = (*e.path, f"\0{k}")
                if key not in menus:
                    first, last = self._entries[chunk[0]].leaf, self._entries[chunk[-1]].leaf
                    menus[key] = m.addMenu(f"{first} … {last}")
                m = menus[key]
            act = QAction(e.leaf, m)
            act.setCheckable(True)
            act.setChecked(i == self._current)
            act.setData(i)
            act.setToolTip(e.label)
            group.addAction(act)
            m.addAction(act)
        group.triggered.connect(lambda a: self.setCurrentIndex(int(a.data())))
        self._menu = root
        return root

    def show_popup(self) -> QMenu:
        """Open the menu under the button (not modal), on the current entry; returns it."""
        menu = self.menu_tree()
        for a in menu.findChildren(QAction):
            if a.isCheckable():
                a.setChecked(a.data() == self._current)
        menu.popup(self.mapToGlobal(QPoint(0, self.height())))
        return menu

    def keyPressEvent(self, ev: QKeyEvent) -> None:  # noqa: N802
        k = ev.key()
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl and k in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self._entries:
            step = -1 if k == Qt.Key.Key_Up else 1
            self.setCurrentIndex(min(max(self._current + step, 0), len(self._entries) - 1))
        elif k in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Down, Qt.Key.Key_F4):
            self.show_popup()
        else:
            super().keyPressEvent(ev)
