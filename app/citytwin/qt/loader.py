"""Reading files off the GUI thread, one after another, with progress and cancel.

A :class:`QRunnable` on the global thread pool calls :func:`citytwin.io.read` with
``progress=`` and ``cancel=``; results come back to the GUI thread through queued
signals. Files are read in order so that the first one fixes the scene CRS and origin
and the next ones are brought into them by the reader.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

from ..core.crs import parse_crs
from ..core.errors import Cancelled, CityTwinError
from ..io import read
from ..model.scene import Scene

log = logging.getLogger(__name__)


@dataclass
class LoadJob:
    """One file to read; ``style`` carries scene-file settings (name, visible, opacity, ...)."""

    path: str
    crs: str | None = None
    style: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0


class _Signals(QObject):
    progress = Signal(object, float)
    done = Signal(object, object)
    failed = Signal(object, str)
    cancelled = Signal(object)


class _ReadTask(QRunnable):
    def __init__(self, job: LoadJob, kwargs: dict[str, Any], cancel: threading.Event, signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.job, self.kwargs, self.cancel, self.signals = job, kwargs, cancel, signals

    def run(self) -> None:
        job, sig = self.job, self.signals
        last = [-1.0]

        def progress(f: float) -> None:
            if f - last[0] >= 0.01 or f >= 1.0:
                last[0] = f
                sig.progress.emit(job, float(f))

        try:
            model = read(job.path, progress=progress, cancel=self.cancel.is_set, **self.kwargs)
            if self.cancel.is_set():
                raise Cancelled("cancelled")
            # per-triangle arrays are pure numpy: make them here, not on the GUI thread
            _ = model.triangles, model.tri_object, model.tri_semantic, model.tri_lod
            sig.done.emit(job, model)
        except Cancelled:
            sig.cancelled.emit(job)
        except CityTwinError as exc:
            sig.failed.emit(job, str(exc))
        except Exception as exc:  # a reader bug must not take the window down
            log.debug("reader crashed", exc_info=True)
            msg = " ".join(str(exc).split())
            sig.failed.emit(job, f"{job.path}: {type(exc).__name__}: {msg}")


class QtLoader(QObject):
    """Queue of files to read into ``scene``. Signals carry the :class:`LoadJob`."""

    started = Signal(object)
    progress = Signal(object, float)
    loaded = Signal(object, object)  # job, CityModel
    failed = Signal(object, str)
    cancelled = Signal(object)
    idle = Signal()

    def __init__(self, scene: Scene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.queue: deque[LoadJob] = deque()
        self.current: LoadJob | None = None
        self._cancel = threading.Event()
        self._signals = _Signals(self)
        q = Qt.ConnectionType.QueuedConnection
        self._signals.progress.connect(self._on_progress, q)
        self._signals.done.connect(self._on_done, q)
        self._signals.failed.connect(self._on_failed, q)
        self._signals.cancelled.connect(self._on_cancelled, q)
        self.pool = QThreadPool.globalInstance()

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self.queue)

    def load(self, jobs: list[LoadJob]) -> None:
        self.queue.extend(jobs)
        if self.current is None:
            self._next()

    def cancel(self) -> None:
        """Stop the file being read and drop the queue."""
        dropped = list(self.queue)
        self.queue.clear()
        self._cancel.set()
        for job in dropped:
            self.cancelled.emit(job)
        if self.current is None:
            self.idle.emit()

    def _next(self) -> None:
        if not self.queue:
            self.current = None
            self.idle.emit()
            return
        job = self.queue.popleft()
        self.current = job
        job.started = time.perf_counter()
        self._cancel = threading.Event()
        kwargs: dict[str, Any] = {"target_crs": self.scene.crs, "origin": self.scene.origin}
        try:
            kwargs["crs"] = parse_crs(job.crs) if job.crs else None
        except CityTwinError as exc:
            self.current = None
            self.failed.emit(job, f"{job.path}: {exc}")
            self._next()
            return
        self.started.emit(job)
        self.pool.start(_ReadTask(job, kwargs, self._cancel, self._signals))

    def _on_progress(self, job: LoadJob, f: float) -> None:
        if job is self.current:
            self.progress.emit(job, f)

    def _finish(self) -> None:
        self.current = None
        self._next()

    def _on_done(self, job: LoadJob, model: Any) -> None:
        if self._cancel.is_set():
            self.cancelled.emit(job)
        else:
            try:
                self.loaded.emit(job, model)
            except Exception as exc:  # building the visual failed: report, keep going
                log.exception("could not show %s", job.path)
                self.failed.emit(job, f"{job.path}: {type(exc).__name__}: {exc}")
        self._finish()

    def _on_failed(self, job: LoadJob, msg: str) -> None:
        self.failed.emit(job, msg)
        self._finish()

    def _on_cancelled(self, job: LoadJob) -> None:
        self.cancelled.emit(job)
        self._finish()

    def wait(self, timeout_ms: int = 60000) -> bool:
        """Block (processing events) until idle — for scripts and tests."""
        from PySide6.QtCore import QCoreApplication, QDeadlineTimer

        deadline = QDeadlineTimer(timeout_ms)
        while self.busy and not deadline.hasExpired():
            QCoreApplication.processEvents()
            time.sleep(0.002)
        return not self.busy
