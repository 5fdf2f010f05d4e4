"""Video and frame writers for tours: H.264 MP4, PNG sequences, animated GIF/WebP previews.

Every writer is written atomically: frames go to a temporary file (or folder) beside the
target, :meth:`finish` renames it into place, :meth:`abort` (a cancelled or failed export)
removes it, so no half-written video is ever left under the target's name.

- **MP4**: the static ffmpeg of the imageio-ffmpeg wheel (``get_ffmpeg_exe``) in a separate
  process, raw RGB frames on its stdin, libx264 with ``yuv420p`` (plays everywhere) and the
  index at the front (``+faststart``: plays while downloading). The process is started here
  rather than through ``imageio_ffmpeg.write_frames`` because an export needs three things
  that generator hides: ffmpeg's exit status, its error text for a one-line message, and an
  immediate kill on Cancel (closing the generator waits for the encoder to finish). Frames
  are handed to a writer thread through a short queue, so VTK renders frame i+1 while the
  pipe takes frame i and ffmpeg encodes on the other cores.
- **PNG frames**: ``frame_00001.png``… in a folder (fast zlib level; written by a thread).
- **GIF / WebP**: Pillow, for previews: frames are kept in memory (render them small).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..core.errors import CityTwinError

__all__ = ["ANIMATED_SUFFIXES", "VIDEO_SUFFIXES", "AnimatedWriter", "FrameWriter", "Mp4Writer",
           "PngSequenceWriter", "VideoError", "check_output", "open_writer"]

VIDEO_SUFFIXES = (".mp4",)
ANIMATED_SUFFIXES = (".gif", ".webp")


class VideoError(CityTwinError):
    """An output that cannot be written (one line naming it)."""


class FrameWriter(Protocol):
    path: Path

    def write(self, frame: NDArray[np.uint8]) -> None: ...  # (H, W, 3) uint8, top row first

    def finish(self) -> Path: ...

    def abort(self) -> None: ...


def check_output(path: str | Path, frames_dir: bool = False) -> Path:
    """Raise :class:`VideoError` if ``path`` cannot be written (before any frame is rendered)."""
    p = Path(path)
    if frames_dir:
        if p.exists() and (not p.is_dir() or any(p.iterdir())):
            raise VideoError(f"{p}: frames folder exists and is not empty")
        parent = p.parent
    else:
        if p.suffix.lower() not in VIDEO_SUFFIXES + ANIMATED_SUFFIXES:
            raise VideoError(f"{p}: unknown video type {p.suffix!r} (.mp4, .gif or .webp; PNG frames: --frames DIR)")
        if p.is_dir():
            raise VideoError(f"{p}: is a folder")
        parent = p.parent
    parent = parent if str(parent) else Path(".")
    if not parent.is_dir():
        raise VideoError(f"{p}: folder {parent} does not exist")
    try:  # the real test: can a file be made there?
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=parent)
    except OSError as exc:
        raise VideoError(f"{p}: cannot write there ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)
    return p


class _Threaded:
    """Runs ``_consume(frame)`` on a thread fed by a short queue (rendering goes on meanwhile)."""

    def __init__(self, depth: int = 3) -> None:
        self._q: queue.Queue[NDArray[np.uint8] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()

    def _consume(self, frame: NDArray[np.uint8]) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            frame = self._q.get()
            if frame is None:
                return
            if self._error is None:
                try:
                    self._consume(frame)
                except BaseException as exc:  # noqa: BLE001 - handed to the producer
                    self._error = exc

    def _put(self, frame: NDArray[np.uint8]) -> None:
        if self._error is not None:
            raise self._failure(self._error)
        self._q.put(frame)

    def _drain(self) -> None:
        self._q.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._failure(self._error)

    def _failure(self, exc: BaseException) -> BaseException:
        return exc

    def _stop_thread(self) -> None:
        """End the thread without waiting for the frames still queued."""
        while self._thread.is_alive():
            try:
                self._q.put(None, timeout=0.1)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._q.get_nowait()
        self._thread.join(timeout=10)


class Mp4Writer(_Threaded):
    """H.264 (libx264, yuv420p) in MP4 through the ffmpeg of imageio-ffmpeg."""

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float, crf: int = 20,
                 preset: str = "veryfast") -> None:
        import imageio_ffmpeg

        self.path = Path(path)
        w, h = int(size[0]), int(size[1])
        if w % 2 or h % 2:
            raise VideoError(f"{self.path}: H.264 in yuv420p needs an even width and height, got {w}x{h}")
        self.size = (w, h)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent or ".")
        os.close(fd)
        self._tmp = Path(tmp)
        self._log = tempfile.TemporaryFile()
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner",
               "-f", "rawvideo", "-vcodec", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
               "-r", _rate(fps), "-i", "-", "-an",
               "-vcodec", "libx264", "-preset", preset, "-crf", str(int(crf)), "-pix_fmt", "yuv420p",
               "-movflags", "+faststart", "-v", "error", "-f", "mp4", str(self._tmp)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        self.frames = 0
        super().__init__()

    def _consume(self, frame: NDArray[np.uint8]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(np.ascontiguousarray(frame).data)

    def _failure(self, exc: BaseException) -> BaseException:
        if isinstance(exc, (BrokenPipeError, OSError)):
            return VideoError(f"{self.path}: ffmpeg stopped: {self._stderr() or exc}")
        return exc

    def _stderr(self) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace")
        return " ".join(text.split())[-300:]

    def write(self, frame: NDArray[np.uint8]) -> None:
        if frame.shape != (self.size[1], self.size[0], 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame {frame.shape} {frame.dtype} is not ({self.size[1]}, {self.size[0]}, 3) uint8")
        self._put(frame)
        self.frames += 1

    def finish(self) -> Path:
        """Wait for the encoder and move the video into place."""
        try:
            self._drain()
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            rc = self._proc.wait()
            if rc != 0:
                raise VideoError(f"{self.path}: ffmpeg failed (exit {rc}): {self._stderr()}")
            if self.frames == 0:
                raise VideoError(f"{self.path}: no frames were written")
            os.chmod(self._tmp, 0o644)
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._log.close()
        return self.path

    def abort(self) -> None:
        """Kill the encoder and remove the partial file."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._stop_thread()
        self._proc.wait()
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink()
        with contextlib.suppress(OSError):
            self._log.close()


def _rate(fps: float) -> str:
    from fractions import Fraction

    return str(Fraction(fps).limit_denominator(1001))


class PngSequenceWriter(_Threaded):
    """``frame_00001.png``… in the folder ``path``, made in a temporary folder beside it."""

    def __init__(self, path: str | Path, digits: int = 5) -> None:
        self.path = Path(path)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent or "."))
        self._digits = digits
        self.frames = 0
        super().__init__()

    def _consume(self, frame: NDArray[np.uint8]) -> None:
        from PIL import Image

        self.frames += 1
        Image.fromarray(frame).save(self._tmp / f"frame_{self.frames:0{self._digits}d}.png", compress_level=1)

    def write(self, frame: NDArray[np.uint8]) -> None:
        self._put(frame)

    def finish(self) -> Path:
        try:
            self._drain()
            if self.path.is_dir():  # an empty folder (check_output refuses others)
                self.path.rmdir()
            os.chmod(self._tmp, 0o755)
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        self._stop_thread()
        shutil.rmtree(self._tmp, ignore_errors=True)


class AnimatedWriter:
    """An animated GIF or WebP (Pillow), looping; frames are kept until :meth:`finish`."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self._frames: list[Any] = []

    def write(self, frame: NDArray[np.uint8]) -> None:
        from PIL import Image

        img = Image.fromarray(frame)
        if self.path.suffix.lower() == ".gif":  # one adaptive palette per frame, no dithering noise
            img = img.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        self._frames.append(img)

    def finish(self) -> Path:
        from ..core.files import atomic_open

        if not self._frames:
            raise VideoError(f"{self.path}: no frames were written")
        duration = max(20, int(round(1000.0 / self.fps)))  # ms; browsers treat < 20 ms as 100 ms
        kind = "GIF" if self.path.suffix.lower() == ".gif" else "WEBP"
        extra: dict[str, Any] = {"quality": 80, "method": 4} if kind == "WEBP" else {"optimize": False}
        with atomic_open(self.path, "wb") as fh:
            self._frames[0].save(fh, format=kind, save_all=True, append_images=self._frames[1:],
                                 duration=duration, loop=0, **extra)
        self._frames.clear()
        return self.path

    def abort(self) -> None:
        self._frames.clear()


def open_writer(path: str | Path, size: Sequence[int], fps: float, frames_dir: bool = False) -> FrameWriter:
    """The writer for ``path``: a PNG folder (``frames_dir``), ``.mp4``, ``.gif`` or ``.webp``."""
    p = check_output(path, frames_dir=frames_dir)
    if frames_dir:
        return PngSequenceWriter(p)
    if p.suffix.lower() in VIDEO_SUFFIXES:
        return Mp4Writer(p, (int(size[0]), int(size[1])), fps)
    return AnimatedWriter(p, fps)
