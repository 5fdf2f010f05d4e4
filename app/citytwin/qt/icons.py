"""Small line icons for the toolbar, drawn with QPainter (no image files to ship)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

INK = QColor(45, 52, 62)
ACCENT = QColor(210, 80, 40)
SIZE = 40  # drawn at 2x for crisp 20 px icons


def _icon(draw: Callable[[QPainter], None]) -> QIcon:
    pm = QPixmap(SIZE, SIZE)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(INK, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    draw(p)
    p.end()
    pm.setDevicePixelRatio(2.0)
    return QIcon(pm)


def _poly(*pts: tuple[float, float]) -> QPolygonF:
    return QPolygonF([QPointF(x, y) for x, y in pts])


def _cube(p: QPainter) -> None:
    p.drawPolygon(_poly((20, 6), (33, 13), (20, 20), (7, 13)))
    p.drawPolyline(_poly((7, 13), (7, 27), (20, 34), (33, 27), (33, 13)))
    p.drawLine(QPointF(20, 20), QPointF(20, 34))


def _reset(p: QPainter) -> None:
    p.drawRect(QRectF(9, 9, 22, 22))
    for x0, y0, dx, dy in ((4, 4, 1, 1), (36, 4, -1, 1), (4, 36, 1, -1), (36, 36, -1, -1)):
        p.drawLine(QPointF(x0, y0), QPointF(x0 + 7 * dx, y0))
        p.drawLine(QPointF(x0, y0), QPointF(x0, y0 + 7 * dy))


def _top(p: QPainter) -> None:
    p.drawRect(QRectF(8, 8, 24, 24))
    p.drawRect(QRectF(14, 14, 12, 12))
    p.setPen(QPen(ACCENT, 3.0))
    p.drawLine(QPointF(20, 2), QPointF(20, 8))


def _fly(p: QPainter) -> None:
    p.drawEllipse(QRectF(6, 6, 22, 22))
    p.drawLine(QPointF(25, 25), QPointF(35, 35))
    p.setPen(QPen(ACCENT, 3.0))
    p.drawEllipse(QRectF(13, 13, 8, 8))


def _walk(p: QPainter) -> None:
    p.drawEllipse(QRectF(17, 3, 7, 7))
    p.drawPolyline(_poly((20, 12), (18, 23), (12, 35)))
    p.drawPolyline(_poly((18, 23), (25, 28), (27, 36)))
    p.drawPolyline(_poly((10, 20), (15, 14), (22, 14), (28, 20)))


def _distance(p: QPainter) -> None:
    p.drawLine(QPointF(6, 30), QPointF(34, 10))
    p.setPen(QPen(ACCENT, 6.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawPoint(QPointF(6, 30))
    p.drawPoint(QPointF(34, 10))


def _height(p: QPainter) -> None:
    p.drawLine(QPointF(20, 6), QPointF(20, 34))
    p.drawPolyline(_poly((14, 12), (20, 6), (26, 12)))
    p.drawPolyline(_poly((14, 28), (20, 34), (26, 28)))
    p.setPen(QPen(ACCENT, 3.0))
    p.drawLine(QPointF(6, 34), QPointF(34, 34))


def _area(p: QPainter) -> None:
    path = QPainterPath()
    path.addPolygon(_poly((6, 28), (14, 8), (34, 12), (30, 32), (6, 28)))
    p.fillPath(path, QColor(210, 80, 40, 70))
    p.drawPath(path)


def _export(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(5, 10, 30, 22), 3, 3)
    p.drawEllipse(QRectF(14, 14, 12, 12))
    p.drawLine(QPointF(12, 10), QPointF(15, 6))
    p.drawLine(QPointF(15, 6), QPointF(25, 6))
    p.drawLine(QPointF(25, 6), QPointF(28, 10))


_DRAW = {"reset": _reset, "top": _top, "iso": _cube, "fly": _fly, "walk": _walk,
         "distance": _distance, "height": _height, "area": _area, "export": _export}


def icon(name: str) -> QIcon:
    """The toolbar icon called ``name`` (reset, top, iso, fly, walk, distance, height, area, export)."""
    return _icon(_DRAW[name])
