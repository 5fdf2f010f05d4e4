"""Composition root of the desktop viewer: the Qt application, the scene, the window.

``main(argv)`` is what ``citytwin view`` runs; nothing here is imported by the
non-GUI commands.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("citytwin")


def qt_application(argv: Sequence[str] | None = None):  # noqa: ANN201
    """The process' QApplication (created once, Fusion style, high-DPI aware)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else [sys.argv[0] if sys.argv else "citytwin"])
        app.setApplicationName("citytwin")
        app.setOrganizationName("citytwin")
        app.setApplicationDisplayName("citytwin")
        app.setStyle("Fusion")
    return app


def build_window(paths: Sequence[str | Path] = (), crs: str | None = None, multi_samples: int | None = None,
                 settings=None):  # noqa: ANN001, ANN201
    """Create the main window (not shown) and start loading ``paths`` (files or scene ``.toml``)."""
    from .qt.main_window import QtMainWindow

    qt_application()
    if multi_samples is None:
        multi_samples = int(os.environ.get("CITYTWIN_MSAA", "0"))
    win = QtMainWindow(settings=settings, multi_samples=multi_samples)
    if paths:
        win.open_files([Path(p) for p in paths], crs=crs)
    return win


def run_viewer(paths: Sequence[str | Path] = (), crs: str | None = None, multi_samples: int | None = None) -> int:
    """Open the viewer on ``paths`` and run the event loop until the window closes."""
    app = qt_application()
    win = build_window(paths, crs=crs, multi_samples=multi_samples)
    previous = sys.excepthook

    def log_uncaught(kind, value, tb) -> None:  # noqa: ANN001
        # an exception escaping a slot goes to the Log dock, not down the window
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        log.error("internal error: %s: %s", kind.__name__, " ".join(str(value).split()), exc_info=(kind, value, tb))

    sys.excepthook = log_uncaught
    win.show()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C in the terminal closes the viewer
    return int(app.exec())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m citytwin.app FILE... [--crs CRS] [--msaa N]``."""
    p = argparse.ArgumentParser(prog="citytwin-view", description="Open city models in the desktop viewer.")
    p.add_argument("files", nargs="*", help="CityGML, CityJSON, mesh files or a scene .toml")
    p.add_argument("--crs", help="CRS of files that declare none (e.g. EPSG:3946)")
    p.add_argument("--msaa", type=int, default=None, help="multi-sampling (0 for software rendering)")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="citytwin: %(levelname)s: %(message)s")
    return run_viewer(args.files, crs=args.crs, multi_samples=args.msaa)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
