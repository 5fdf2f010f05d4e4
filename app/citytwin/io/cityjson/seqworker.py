"""Worker processes for CityJSONSeq: parse and flatten chunks of lines in parallel.

Workers are plain ``python -m citytwin.io.cityjson.seqworker`` subprocesses talking
length-prefixed pickles over stdin/stdout, not :mod:`multiprocessing`: ``spawn``
would re-run the caller's ``__main__`` (a script calling the reader at top level
would start processes recursively) and ``fork`` is unsafe in the multi-threaded
desktop app. The main process keeps reading the file and adds the returned array
batches to the builder in file order.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from ...core.errors import LoadReport
from .lines import feed_lines
from .loader import AppearanceSink, CityJSONLoader, Packed
from .upgrade import read_header

_LEN = struct.Struct("<Q")


def send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(data)))
    stream.write(data)
    stream.flush()


def recv(stream: IO[bytes]) -> Any:
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError("worker stream closed")
    n = _LEN.unpack(head)[0]
    data = stream.read(n)
    if len(data) < n:
        raise EOFError("worker stream truncated")
    return pickle.loads(data)


class ChunkWorker:
    """The worker side: a loader whose builder is an :class:`AppearanceSink`."""

    def __init__(self, header_line: bytes, base_dir: str) -> None:
        doc = orjson.loads(header_line)
        self.report = LoadReport()
        header = read_header(doc, self.report)
        sink = AppearanceSink(self.report, [], [])
        self.loader = CityJSONLoader(sink, header, Path(base_dir))  # type: ignore[arg-type]
        self.loader.set_templates(doc.get("geometry-templates"))
        self.offsets = self.loader.add_appearance(doc.get("appearance"))
        self.loader.mat_base, self.loader.tex_base = len(sink.materials), len(sink.textures)

    def run(self, chunk: list[tuple[int, bytes]]) -> tuple[list[Packed], LoadReport, dict[str, int]]:
        loader = self.loader
        out: list[Packed] = []
        for _ in feed_lines(loader, self.report, chunk, self.offsets):
            pk = loader.pack(detach_appearance=True)
            if pk is not None:
                out.append(pk)
        pk = loader.pack(detach_appearance=True)
        if pk is not None:
            out.append(pk)
        report = self.report
        self.report = LoadReport()
        loader.report = loader.b.report = self.report
        ignored = dict(loader.ignored)
        loader.ignored.clear()
        return out, report, ignored


class WorkerPool:
    """``n`` worker subprocesses; chunks go round-robin, results come back in order."""

    def __init__(self, n: int, header_line: bytes, base_dir: Path, in_flight: int = 2) -> None:
        self.in_flight = in_flight
        env = dict(os.environ)
        app_dir = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (app_dir, env.get("PYTHONPATH", "")) if p)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.results: list[queue.Queue[Any]] = []
        for _ in range(n):
            p = subprocess.Popen(
                [sys.executable, "-m", "citytwin.io.cityjson.seqworker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            )
            q: queue.Queue[Any] = queue.Queue()
            threading.Thread(target=self._reader, args=(p, q), daemon=True).start()
            send(p.stdin, (header_line, str(base_dir)))  # type: ignore[arg-type]
            self.procs.append(p)
            self.results.append(q)

    @staticmethod
    def _reader(p: subprocess.Popen[bytes], q: queue.Queue[Any]) -> None:
        try:
            while True:
                q.put(recv(p.stdout))  # type: ignore[arg-type]
        except Exception as exc:  # EOF at the end, or a crashed worker
            q.put(exc)

    def map(self, chunks: Iterable[Any]) -> Iterator[Any]:
        """Results of ``chunks`` in order, at most ``n * in_flight`` chunks ahead."""
        n = len(self.procs)
        sent = got = 0
        it = iter(chunks)
        done = False
        while True:
            while not done and sent - got < n * self.in_flight:
                chunk = next(it, None)
                if chunk is None:
                    done = True
                    break
                send(self.procs[sent % n].stdin, chunk)  # type: ignore[arg-type]
                sent += 1
            if got == sent:
                return
            res = self.results[got % n].get()
            if isinstance(res, Exception):
                raise RuntimeError(f"CityJSONSeq worker failed: {res}")
            got += 1
            yield res

    def close(self) -> None:
        for p in self.procs:
            try:
                if p.stdin:
                    p.stdin.close()
            except OSError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()

    def kill(self) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


def main() -> None:
    """Worker entry point: header, then chunks until stdin closes."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    # nothing else may write to the result stream
    sys.stdout = sys.stderr
    header_line, base_dir = recv(inp)
    worker = ChunkWorker(header_line, base_dir)
    while True:
        try:
            chunk = recv(inp)
        except EOFError:
            return
        send(out, worker.run(chunk))


if __name__ == "__main__":
    main()
