"""Keys typed into text fields stay there: single-key and Alt+digit shortcuts of the window
(``F``, ``R``, ``T``, ``I``, ``Alt+1…9``) act only when no text input has the focus.

Qt asks the focus widget first (a ``ShortcutOverride`` event); a field that accepts it
receives the key instead of the shortcut. Line edits accept plain printable keys
themselves, but not Alt+digit, and not every input does; this filter accepts the
override for any printable key without Ctrl or Meta in every text input.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


def is_text_input(w: QObject | None) -> bool:
    """A widget that takes typed text (read-only text views excepted)."""
    if isinstance(w, (QTextEdit, QPlainTextEdit)):
        return not w.isReadOnly()
    return isinstance(w, TEXT_INPUTS)


def typing_key(ev: QKeyEvent) -> bool:
    """A key that types (a letter, digit or sign, with Shift or Alt at most): the field's."""
    mods = ev.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
    key = ev.key()
    if mods == Qt.KeyboardModifier.NoModifier:
        return Qt.Key.Key_Space <= key <= Qt.Key.Key_ydiaeresis
    # Alt+digit (the saved views); Alt+letter stays a menu mnemonic
    return mods == Qt.KeyboardModifier.AltModifier and Qt.Key.Key_0 <= key <= Qt.Key.Key_9


class TextFieldShortcutGuard(QObject):
    """Application event filter giving typing keys to the focused text input of ``window``."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        if ev.type() != QEvent.Type.ShortcutOverride or not is_text_input(obj):
            return False
        if not self._inside(obj):  # another window's field (a floating dock is still ours)
            return False
        if typing_key(ev):  # type: ignore[arg-type]
            ev.accept()  # the field takes the key; no shortcut fires
            return True
        return False

    def _inside(self, obj: QObject) -> bool:
        w = obj if isinstance(obj, QWidget) else None
        while w is not None:
            if w is self.window:
                return True
            w = w.parentWidget()
        return False

    def remove(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
