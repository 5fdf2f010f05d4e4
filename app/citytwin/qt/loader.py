"""Reading files off the GUI thread, one after another, with progress and cancel.

One long-lived reader thread calls :func:`citytwin.io.read` with
``progress=`` and ``cancel=``; results come back to the GUI thread through queued
signals. Files are read in order so that the first one fixes the scene CRS and origin
and the next ones are brought into them by the reader.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pyproj import CRS
from PySide6.QtCore import QObject, Qt, Signal

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
    texture_set: Any = None  # images read and packed in the reader thread (render.textures.TextureSet)


class _Signals(QObject):
    progress = Signal(object, float)
    done = Signal(object, object)
    failed = Signal(object, str)
    cancelled = Signal(object)


class _ReadTask:
    def __init__(self, job: LoadJob, kwargs: dict[str, Any], cancel: threading.Event, signals: _Signals) -> None:
        self.job, self.kwargs, self.cancel, self.signals = job, kwargs, cancel, signals

    def run(self) -> None:
        job, sig = self.job, self.signals
        last = [-1.0]

        def progress(f: float) -> None:
            if f - last[0] >= 0.01 or f >= 1.0:
                last[0] = f
                sig.progress.emit(job, float(f))

        try:
            kwargs = dict(self.kwargs)
            # pyproj objects must not be shared between threads: rebuild them here
            kwargs["crs"] = parse_crs(kwargs["crs"]) if kwargs.get("crs") else None
            if kwargs.get("target_crs") is not None:
                kwargs["target_crs"] = CRS.from_wkt(kwargs["target_crs"])
            model = read(job.path, progress=progress, cancel=self.cancel.is_set, **kwargs)
            if self.cancel.is_set():
                raise Cancelled("cancelled")
            # per-triangle arrays are pure numpy: make them here, not on the GUI thread
            _ = model.triangles, model.tri_object, model.tri_semantic, model.tri_lod
            if job.style.get("textures", True) is not False:
                # decoding and packing images is slow: here, not on the GUI thread
                job.texture_set = _texture_set(model, job.path)
            sig.done.emit(job, model)
        except Cancelled:
            sig.cancelled.emit(job)
        except CityTwinError as exc:
            sig.failed.emit(job, str(exc))
        except Exception as exc:  # a reader bug must not take the window down
            log.debug("reader crashed", exc_info=True)
            msg = " ".join(str(exc).split())
            sig.failed.emit(job, f"{job.path}: {type(exc).__name__}: {msg}")


def _texture_set(model: Any, path: str) -> Any:
    """The model's images packed for drawing, or None (no textures, or they failed: drawn coloured)."""
    from ..render.textures import build_texture_set

    try:
        return build_texture_set(model)
    except Exception as exc:  # a broken image must not lose the model
        log.warning("%s: textures not drawn: %s", path, exc)
        return None


class _ReaderThread:
    """One long-lived Python thread that runs read tasks in order.

    Not a ``QThreadPool``: pyproj keeps a PROJ context per Python thread state, and
    Qt's pooled threads get a fresh thread state per callback, which left PROJ with
    dangling contexts (segfaults in ``proj_create``). A plain Python thread keeps its
    state for its whole life.
    """

    _instance: _ReaderThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.tasks: queue.Queue[_ReadTask | None] = queue.Queue()
        self.idle = threading.Event()
        self.idle.set()
        self.thread = threading.Thread(target=self._loop, name="citytwin-reader", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> _ReaderThread:
        with cls._lock:
            if cls._instance is None:
                cls._instance = _ReaderThread()
            return cls._instance

    def submit(self, task: _ReadTask) -> None:
        self.idle.clear()
        self.tasks.put(task)

    def _loop(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            try:
                task.run()
            finally:
                if self.tasks.empty():
                    self.idle.set()

    def wait_idle(self, timeout_s: float) -> bool:
        return self.idle.wait(timeout_s)


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
        self.reader = _ReaderThread.get()

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
        target = self.scene.crs.to_wkt() if self.scene.crs is not None else None
        origin = None if self.scene.origin is None else self.scene.origin.copy()
        kwargs: dict[str, Any] = {"target_crs": target, "origin": origin, "crs": job.crs}
        try:
            if job.crs:
                parse_crs(job.crs)  # fail early, on the GUI thread, with a clear message
        except CityTwinError as exc:
            self.current = None
            self.failed.emit(job, f"{job.path}: {exc}")
            self._next()
            return
        self.started.emit(job)
        self.reader.submit(_ReadTask(job, kwargs, self._cancel, self._signals))

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
