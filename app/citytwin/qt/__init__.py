"""The Qt desktop viewer: the only package that imports PySide6.

Widgets are adapters over the model (``citytwin.model``) and the VTK visuals
(``citytwin.render``); docks talk through the scene's :class:`~citytwin.model.events.EventBus`,
never to each other.
"""

from __future__ import annotations

__all__ = ["QtMainWindow", "QtViewport"]


def __getattr__(name: str):  # lazy: importing citytwin.qt must not start Qt or VTK
    if name == "QtMainWindow":
        from .main_window import QtMainWindow

        return QtMainWindow
    if name == "QtViewport":
        from .viewport import QtViewport

        return QtViewport
    raise AttributeError(name)
