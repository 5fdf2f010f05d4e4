"""Bounded per-datastream history: one ring buffer of ``[datastream, slot]`` numpy arrays.

Memory is ``rows × capacity × 16`` bytes whatever the feed does: a datastream that
sends more than ``capacity`` readings keeps its newest ``capacity``. Every row is
kept in time order (the ingest rejects readings older than a row's newest), so
"latest value at ``t``" and "values in ``[t0, t1]``" are binary searches run for
all rows at once (``log2(capacity)`` vectorised steps, no Python loop over rows).

Times are float64 seconds since the epoch (UTC); values float64; NaN where empty.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


class RingHistory:
    """Time-ordered ring buffers for ``rows`` datastreams of ``capacity`` slots each.

    Parameters
    ----------
    rows
        Initial number of datastreams (grows with :meth:`ensure_rows`).
    capacity
        Slots per datastream; the oldest readings are overwritten beyond it.
    """

    def __init__(self, rows: int = 0, capacity: int = 256) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = int(capacity)
        self.times: F64 = np.full((rows, self.capacity), np.nan)
        self.values: F64 = np.full((rows, self.capacity), np.nan)
        self.head: I64 = np.zeros(rows, dtype=np.int64)  # next physical slot to write
        self.count: I64 = np.zeros(rows, dtype=np.int64)  # filled slots (<= capacity)
        self._steps = int(np.ceil(np.log2(self.capacity + 1))) + 1

    # ------------------------------------------------------------------ shape
    @property
    def rows(self) -> int:
        return int(self.times.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.times.nbytes + self.values.nbytes + self.head.nbytes + self.count.nbytes)

    def ensure_rows(self, n: int) -> None:
        """Grow to at least ``n`` rows (amortised doubling; new rows empty)."""
        if n <= self.rows:
            return
        new = max(n, 2 * self.rows, 16)
        pad = new - self.rows
        self.times = np.concatenate([self.times, np.full((pad, self.capacity), np.nan)])
        self.values = np.concatenate([self.values, np.full((pad, self.capacity), np.nan)])
        self.head = np.concatenate([self.head, np.zeros(pad, dtype=np.int64)])
        self.count = np.concatenate([self.count, np.zeros(pad, dtype=np.int64)])

    # ------------------------------------------------------------------ write
    def last_time(self, rows: I64 | None = None) -> F64:
        """Newest time of every row, or of ``rows`` (NaN where empty)."""
        rr = np.arange(self.rows) if rows is None else rows
        t = self.times[rr, (self.head[rr] - 1) % self.capacity]
        return np.where(self.count[rr] > 0, t, np.nan)

    def append(self, rows: I64, times: F64, values: F64) -> NDArray[np.bool_]:
        """Append a batch of readings in one vectorised write.

        Readings of one row may come in any order inside the batch; they are
        sorted. A reading older than (or as old as) the row's newest stored
        reading is refused.

        Returns
        -------
        ndarray of bool
            Per input reading: True if stored (or stored then pushed out by a
            newer one of the same batch), False if refused as out of order
            (or for a non-finite time).
        """
        rows = np.asarray(rows, dtype=np.int64)
        times = np.asarray(times, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        n = len(rows)
        ok = np.zeros(n, dtype=bool)
        if n == 0:
            return ok
        self.ensure_rows(int(rows.max()) + 1)
        order = np.lexsort((times, rows))
        r, t, v = rows[order], times[order], values[order]
        last = self.last_time(r)
        # strictly newer than what is stored, and than the previous reading of the batch
        prev_same = np.empty(n, dtype=bool)
        prev_same[0] = False
        prev_same[1:] = r[1:] == r[:-1]
        dup = np.zeros(n, dtype=bool)
        dup[1:] = prev_same[1:] & (t[1:] <= t[:-1])
        keep = ~(t <= last) & ~dup & np.isfinite(t)  # NaN last (empty row) keeps; NaN time never
        ok[order[keep]] = True
        r, t, v = r[keep], t[keep], v[keep]
        if len(r) == 0:
            return ok
        # rank of each reading inside its row's group
        start = np.r_[0, np.flatnonzero(r[1:] != r[:-1]) + 1]
        sizes = np.diff(np.r_[start, len(r)])
        rank = np.arange(len(r)) - np.repeat(start, sizes)
        size_of = np.repeat(sizes, sizes)
        uniq = r[start]
        # only the newest `capacity` of a group can survive: skip the others
        survive = rank >= size_of - self.capacity
        slot = (self.head[r[survive]] + rank[survive]) % self.capacity
        self.times[r[survive], slot] = t[survive]
        self.values[r[survive], slot] = v[survive]
        self.head[uniq] = (self.head[uniq] + sizes) % self.capacity
        self.count[uniq] = np.minimum(self.count[uniq] + sizes, self.capacity)
        return ok

    def clear(self, rows: I64) -> None:
        """Empty ``rows`` (their next reading may be of any time)."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < self.rows)]
        self.times[rows] = np.nan
        self.values[rows] = np.nan
        self.head[rows] = 0
        self.count[rows] = 0

    # ------------------------------------------------------------------ read
    def _phys(self, rows: I64, logical: I64) -> I64:
        """Physical slot of logical index ``logical`` (0 = oldest) of each row."""
        return (self.head[rows] - self.count[rows] + logical) % self.capacity

    def _count_le(self, rows: I64, t: F64, strict: bool = False) -> I64:
        """Number of stored readings with time <= t (< t if ``strict``) per row."""
        lo = np.zeros(len(rows), dtype=np.int64)
        hi = self.count[rows].copy()
        for _ in range(self._steps):
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            tm = self.times[rows, self._phys(rows, np.minimum(mid, self.capacity - 1))]
            below = (tm < t) if strict else (tm <= t)
            lo = np.where(active & below, mid + 1, lo)
            hi = np.where(active & ~below, mid, hi)
        return lo

    def latest_at(self, t: float, rows: I64 | None = None) -> tuple[F64, F64]:
        """Value and time of the newest reading at or before ``t``, per row.

        Parameters
        ----------
        t
            Seconds since the epoch.
        rows
            Row indices to ask about (all rows by default).

        Returns
        -------
        values, times : ndarray
            NaN where a row has no reading at or before ``t``.
        """
        rr = np.arange(self.rows, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        k = self._count_le(rr, np.full(len(rr), float(t))) - 1
        has = k >= 0
        slot = self._phys(rr, np.maximum(k, 0))
        vals = np.where(has, self.values[rr, slot], np.nan)
        tims = np.where(has, self.times[rr, slot], np.nan)
        return vals, tims

    def between(self, t0: float, t1: float, rows: I64 | None = None) -> tuple[I64, F64, F64]:
        """All readings with ``t0 <= time <= t1``.

        Returns
        -------
        rows, times, values : ndarray
            Flat arrays grouped by row, each row's readings in time order.
        """
        rr = np.arange(self.rows, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        a = self._count_le(rr, np.full(len(rr), float(t0)), strict=True)
        b = self._count_le(rr, np.full(len(rr), float(t1)))
        n = np.maximum(b - a, 0)
        total = int(n.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        row_of = np.repeat(rr, n)
        offs = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
        logical = np.repeat(a, n) + offs
        slot = self._phys(row_of, logical)
        return row_of, self.times[row_of, slot], self.values[row_of, slot]

    def series(self, row: int) -> tuple[F64, F64]:
        """Stored times and values of one row, oldest first."""
        r = np.full(int(self.count[row]), row, dtype=np.int64)
        slot = self._phys(r, np.arange(len(r)))
        return self.times[row, slot], self.values[row, slot]
