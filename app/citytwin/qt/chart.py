"""A small time-series chart drawn with QPainter (QtCharts is not in pyside6-essentials)."""

from __future__ import annotations

import math
import time

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


def _fmt_time(t: float, span: float) -> str:
    fmt = "%H:%M:%S" if span < 600 else "%H:%M" if span < 2 * 86400 else "%d.%m. %H:%M"
    return time.strftime(fmt, time.gmtime(t))


class QtSeriesChart(QWidget):
    """Line chart of one datastream's readings, with its threshold and a cursor at the clock time.

    Call :meth:`set_series` with float64 epoch seconds and values; NaNs are skipped.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("seriesChart")
        self.setMinimumSize(180, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.times: NDArray[np.float64] = np.zeros(0)
        self.values: NDArray[np.float64] = np.zeros(0)
        self.unit = ""
        self.limit: float | None = None
        self.at: float | None = None

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(260, 110)

    def set_series(self, times: NDArray[np.float64], values: NDArray[np.float64], unit: str = "",
                   limit: float | None = None, cursor: float | None = None) -> None:
        """Show ``values`` at ``times``; ``limit`` draws a dashed red threshold line, ``cursor`` the clock time."""
        ok = np.isfinite(times) & np.isfinite(values)
        self.times, self.values = np.asarray(times)[ok], np.asarray(values)[ok]
        self.unit, self.limit, self.at = unit, limit, cursor
        self.update()

    def paintEvent(self, _ev: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(44, 6, -6, -18)
        p.fillRect(self.rect(), QColor(252, 252, 250))
        p.setPen(QPen(QColor(190, 190, 190), 1))
        p.drawRect(r)
        if len(self.times) == 0:
            p.setPen(QColor(120, 120, 120))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "no readings yet")
            p.end()
            return
        t0, t1 = float(self.times[0]), float(self.times[-1])
        if self.at is not None and math.isfinite(self.at):
            t1 = max(t1, self.at)
        if t1 <= t0:
            t1 = t0 + 1.0
        lo, hi = float(self.values.min()), float(self.values.max())
        if self.limit is not None:
            lo, hi = min(lo, self.limit), max(hi, self.limit)
        if hi <= lo:
            hi = lo + 1.0
        pad = (hi - lo) * 0.08
        lo, hi = lo - pad, hi + pad

        def xy(t: float, v: float) -> QPointF:
            return QPointF(r.left() + (t - t0) / (t1 - t0) * r.width(), r.bottom() - (v - lo) / (hi - lo) * r.height())

        p.setPen(QColor(90, 90, 90))
        font = p.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        p.setFont(font)
        p.drawText(QRectF(0, r.top() - 4, 42, 14), Qt.AlignmentFlag.AlignRight, f"{hi:.4g}")
        p.drawText(QRectF(0, r.bottom() - 10, 42, 14), Qt.AlignmentFlag.AlignRight, f"{lo:.4g}")
        if self.unit:
            p.drawText(QRectF(0, r.center().y() - 7, 42, 14), Qt.AlignmentFlag.AlignRight, self.unit)
        p.drawText(QRectF(r.left(), r.bottom() + 2, 120, 14), Qt.AlignmentFlag.AlignLeft, _fmt_time(t0, t1 - t0))
        p.drawText(QRectF(r.right() - 120, r.bottom() + 2, 120, 14), Qt.AlignmentFlag.AlignRight,
                   _fmt_time(t1, t1 - t0))
        if self.limit is not None:
            p.setPen(QPen(QColor(220, 40, 40), 1, Qt.PenStyle.DashLine))
            y = xy(t0, self.limit).y()
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
        # decimate to at most ~2 points per pixel column
        step = max(1, len(self.times) // max(1, int(r.width()) * 2))
        ts, vs = self.times[::step], self.values[::step]
        path = QPainterPath(xy(float(ts[0]), float(vs[0])))
        for t, v in zip(ts[1:].tolist(), vs[1:].tolist()):
            path.lineTo(xy(t, v))
        p.setPen(QPen(QColor(40, 100, 170), 1.6))
        p.drawPath(path)
        if len(ts) < 60:
            p.setBrush(QColor(40, 100, 170))
            for t, v in zip(ts.tolist(), vs.tolist()):
                p.drawEllipse(xy(t, v), 2.0, 2.0)
        if self.at is not None and math.isfinite(self.at) and t0 <= self.at <= t1:
            p.setPen(QPen(QColor(240, 150, 0), 1.2))
            x = xy(self.at, lo).x()
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
        p.end()
