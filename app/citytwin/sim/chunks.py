"""Running an analysis's chunks through Dask: threads here, or a ``dask.distributed``
cluster when the user names a scheduler (``tcp://host:8786``).

Tasks are ``(function, *args)`` tuples of module-level functions and plain arrays. Large
arguments shared by every task (the model's triangles) are given once as ``shared`` and
reach a cluster's workers by one broadcast, not once per task. Results come back in the
order of the tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..core.errors import Cancelled

Progress = Callable[[float], None]
Cancel = Callable[[], bool]
Task = tuple[Any, ...]  # (function, *args); the string SHARED in args stands for the shared value

SHARED = "__citytwin_shared__"
CONNECT_TIMEOUT_S = 15.0  # how long to try to reach a scheduler


def _fill(args: Sequence[Any], shared: Any) -> list[Any]:
    return [shared if isinstance(a, str) and a == SHARED else a for a in args]


def run_local(tasks: Sequence[Task], shared: Any, workers: int, progress: Progress | None = None,
              weights: Sequence[float] | None = None) -> list[Any]:
    """Run the tasks on this machine through Dask's threaded scheduler."""
    from dask.callbacks import Callback
    from dask.threaded import get as threaded_get

    w = list(weights) if weights is not None else [1.0] * len(tasks)
    total = sum(w) or 1.0
    keys = [f"citytwin-chunk-{i}" for i in range(len(tasks))]
    graph: dict[str, Any] = {"citytwin-shared": shared}
    for k, (fn, *args) in zip(keys, tasks, strict=True):
        graph[k] = (fn, *["citytwin-shared" if isinstance(a, str) and a == SHARED else a for a in args])
    done = [0.0]
    weight_of = dict(zip(keys, w, strict=True))

    class _Progress(Callback):  # type: ignore[misc]
        def _posttask(self, key: str, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            if progress is not None and key in weight_of:
                done[0] += weight_of[key]
                progress(done[0] / total)

    with _Progress():
        out = threaded_get(graph, keys, num_workers=max(1, workers))
    return list(out)


def run_cluster(tasks: Sequence[Task], shared: Any, address: str, progress: Progress | None = None,
                cancel: Cancel | None = None, weights: Sequence[float] | None = None) -> list[Any]:
    """Run the tasks on the ``dask.distributed`` scheduler at ``address``."""
    from distributed import Client, as_completed

    w = list(weights) if weights is not None else [1.0] * len(tasks)
    total = sum(w) or 1.0
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"no Dask scheduler at {address} ({exc})") from None
    with client:
        shared_future = client.scatter(shared, broadcast=True)
        futures = [client.submit(fn, *_fill(args, shared_future), pure=False) for fn, *args in tasks]
        weight_of = {f.key: wi for f, wi in zip(futures, w, strict=True)}
        done = 0.0
        for f in as_completed(futures):
            if cancel is not None and cancel():
                client.cancel(futures)
                raise Cancelled("cancelled")
            done += weight_of[f.key]
            if progress is not None:
                progress(done / total)
        return list(client.gather(futures))
