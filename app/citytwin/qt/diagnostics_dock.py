"""The Feed diagnostics dock: per sensor layer, what its feed did (counts, rate, rejects, errors).

One top-level row per sensor layer (name; state and message rate) with rows for the
connection state, received / parsed / applied, messages per second over the last
:data:`RATE_WINDOW` seconds, bytes, datastreams, rejected messages by reason (reason →
count) and the last few connection errors. :meth:`QtDiagnosticsDock.refresh` reads only
``session.diagnostics.snapshot()``, ``session.state`` and the layer's length — a few
dict lookups per layer — so the sensor controller calls it about once a second from its
frame timer; rows are updated in place (expansion and scrolling stay). Text that came
from the network (error messages, reasons) is cut to one short line.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

log = logging.getLogger("citytwin")

RATE_WINDOW = 5.0  # s: messages per second are averaged over this long
MAX_ERRORS = 5  # connection errors listed per layer
MAX_TEXT = 160  # characters of a reason or an error shown


def one_line(text: Any, limit: int = MAX_TEXT) -> str:
    """``text`` as one printable line of at most ``limit`` characters."""
    s = " ".join(str(text).split())
    s = "".join(c if c.isprintable() else "?" for c in s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def human_bytes(n: float) -> str:
    """``"512 B"``, ``"1.5 kB"``, ``"2.3 MB"``, ``"1.1 GB"``."""
    n = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} GB"  # pragma: no cover


@dataclass
class _Rows:
    """The tree rows of one sensor layer and what its rate and errors are computed from."""

    top: QTreeWidgetItem
    rows: dict[str, QTreeWidgetItem]
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_ERRORS))
    reasons: dict[str, QTreeWidgetItem] = field(default_factory=dict)
    shown_errors: tuple[str, ...] = ()
    rate: float = 0.0


class QtDiagnosticsDock(QDockWidget):
    """Feed diagnostics of every sensor layer (see the module docstring).

    Parameters
    ----------
    entries
        Returns the sensor controller's entries (``name``, ``session``, ``layer``).
    """

    LABELS = (("state", "Connection"), ("counts", "Received / parsed / applied"), ("rate", "Messages per second"),
              ("bytes", "Bytes"), ("datastreams", "Datastreams"), ("rejected", "Rejected"),
              ("errors", "Connection errors"))

    def __init__(self, entries: Callable[[], Sequence[Any]], parent: QWidget | None = None) -> None:
        super().__init__("Feed diagnostics", parent)
        self.setObjectName("FeedDiagnosticsDock")
        self.entries = entries
        w = QWidget(self)
        v = QVBoxLayout(w)
        v.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget(w)
        self.tree.setObjectName("diagnosticsTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Feed", "Value"])
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        v.addWidget(self.tree, 1)
        self.setWidget(w)
        self._rows: dict[int, _Rows] = {}  # id(session) -> rows
        self.refreshes = 0
        self.visibilityChanged.connect(lambda shown: self.refresh() if shown else None)

    # ------------------------------------------------------------------ reading
    def values(self, name: str) -> dict[str, Any]:
        """What the dock shows for layer ``name``: the row texts, ``rejected`` as {reason: count}
        and ``errors`` as a list (for tests and scripts)."""
        for rows in self._rows.values():
            if rows.top.text(0) == name:
                out: dict[str, Any] = {k: it.text(1) for k, it in rows.rows.items()}
                out["rejected_by_reason"] = {r: int(it.text(1).replace(",", "")) for r, it in rows.reasons.items()}
                out["error_lines"] = list(rows.shown_errors)
                out["rate_value"] = rows.rate
                return out
        raise KeyError(name)

    # ------------------------------------------------------------------ refresh
    def refresh(self, now: float | None = None) -> None:
        """Update every layer's rows from its diagnostics (cheap; call about once a second)."""
        now = time.monotonic() if now is None else now
        entries = list(self.entries())
        live = {id(e.session) for e in entries}
        for k in [k for k in self._rows if k not in live]:
            rows = self._rows.pop(k)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(rows.top))
        for e in entries:
            try:
                self._refresh_entry(e, now)
            except Exception:  # a broken feed must not break the dock (or the frame timer calling it)
                log.debug("diagnostics refresh failed for %s", getattr(e, "name", "?"), exc_info=True)
        self.refreshes += 1

    def focus(self, name: str) -> None:
        """Expand and show the rows of layer ``name``."""
        for rows in self._rows.values():
            if rows.top.text(0) == name:
                rows.top.setExpanded(True)
                self.tree.setCurrentItem(rows.top)
                self.tree.scrollToItem(rows.top)

    def _make_rows(self, name: str) -> _Rows:
        top = QTreeWidgetItem(self.tree, [name, ""])
        f = top.font(0)
        f.setBold(True)
        top.setFont(0, f)
        rows = {key: QTreeWidgetItem(top, [label, ""]) for key, label in self.LABELS}
        for key in ("counts", "rate", "bytes", "datastreams", "rejected"):
            rows[key].setTextAlignment(1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        top.setExpanded(True)
        rows["rejected"].setExpanded(True)
        rows["errors"].setExpanded(True)
        return _Rows(top, rows)

    def _refresh_entry(self, e: Any, now: float) -> None:
        rows = self._rows.get(id(e.session))
        if rows is None:
            rows = self._rows[id(e.session)] = self._make_rows(e.name)
        if rows.top.text(0) != e.name:
            rows.top.setText(0, e.name)
        snap = e.session.diagnostics.snapshot()
        state = one_line(e.session.state, 40)
        received = int(snap.get("received", 0))
        # messages per second: received now minus received RATE_WINDOW seconds ago
        rows.samples.append((now, received))
        while len(rows.samples) > 2 and now - rows.samples[1][0] >= RATE_WINDOW:
            rows.samples.popleft()
        t0, r0 = rows.samples[0]
        rows.rate = (received - r0) / (now - t0) if now - t0 > 0.2 else 0.0
        rejected = {one_line(k, 60): int(v) for k, v in (snap.get("rejected") or {}).items()}
        total = int(snap.get("rejected_total", sum(rejected.values())))
        r = rows.rows
        self._set(rows.top, f"{state} · {rows.rate:,.1f} msg/s" + (f" · {total:,} rejected" if total else ""))
        self._set(r["state"], f"{state} · {int(snap.get('connects', 0))} connects, "
                              f"{int(snap.get('disconnects', 0))} disconnects")
        self._set(r["counts"], f"{received:,} / {int(snap.get('parsed', 0)):,} / {int(snap.get('applied', 0)):,}")
        self._set(r["rate"], f"{rows.rate:,.1f}")
        self._set(r["bytes"], human_bytes(snap.get("bytes", 0)))
        self._set(r["datastreams"], f"{len(e.layer):,}")
        self._set(r["rejected"], f"{total:,}")
        for reason in [k for k in rows.reasons if k not in rejected]:
            r["rejected"].removeChild(rows.reasons.pop(reason))
        for reason, n in rejected.items():
            it = rows.reasons.get(reason)
            if it is None:
                it = rows.reasons[reason] = QTreeWidgetItem(r["rejected"], [reason, ""])
            self._set(it, f"{n:,}")
        # the last few connection errors: the diagnostics' own list if it has one, else the changes of last_error
        errs = snap.get("errors")
        if isinstance(errs, (list, tuple)):
            lines = tuple(one_line(x) for x in list(errs)[-MAX_ERRORS:])
        else:
            last = one_line(snap.get("last_error") or "")
            if last and (not rows.errors or rows.errors[-1] != last):
                rows.errors.append(last)
            lines = tuple(rows.errors)
        self._set(r["errors"], f"{len(lines)}" if lines else "none")
        if lines != rows.shown_errors:
            rows.shown_errors = lines
            for it in r["errors"].takeChildren():
                del it
            for line in reversed(lines):  # newest first
                it = QTreeWidgetItem(r["errors"], ["", line])
                it.setToolTip(1, line)

    @staticmethod
    def _set(item: QTreeWidgetItem, text: str) -> None:
        if item.text(1) != text:
            item.setText(1, text)
