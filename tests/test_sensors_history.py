"""Ring-buffer history: answers checked against a brute-force per-row model."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model.history import RingHistory


def _reference(rows, times, values, n_rows, capacity):
    """Per-row lists, applying the same rule (refuse <= newest), keeping the last `capacity`."""
    ref = [[] for _ in range(n_rows)]
    order = np.lexsort((times, rows))
    for k in order:
        r, t, v = int(rows[k]), float(times[k]), float(values[k])
        if ref[r] and t <= ref[r][-1][0]:
            continue
        ref[r].append((t, v))
    return [lst[-capacity:] for lst in ref]


@pytest.mark.parametrize("capacity", [1, 4, 7, 64])
def test_latest_and_between_match_brute_force(capacity: int) -> None:
    rng = np.random.default_rng(capacity)
    h = RingHistory(0, capacity)
    n_rows = 13
    ref = [[] for _ in range(n_rows)]
    for _batch in range(30):
        n = int(rng.integers(0, 40))
        rows = rng.integers(0, n_rows, n)
        times = np.round(rng.random(n) * 1000) + _batch * 1000  # later batches are newer
        values = rng.normal(size=n)
        ok = h.append(rows, times, values)
        add = _reference(rows, times, values, n_rows, 10**9)
        for r in range(n_rows):
            ref[r] = (ref[r] + add[r])[-capacity:]
        assert ok.sum() == sum(len(a) for a in add)
    for t in rng.random(50) * 31000:
        vals, tims = h.latest_at(t)
        for r in range(n_rows):
            before = [p for p in ref[r] if p[0] <= t]
            if before:
                assert tims[r] == before[-1][0] and vals[r] == before[-1][1]
            else:
                assert np.isnan(tims[r]) and np.isnan(vals[r])
    for t0, t1 in [(0, 31000), (5000, 5999), (12000.5, 20000), (7, 7)]:
        rr, tt, vv = h.between(t0, t1)
        exp = [(r, p[0], p[1]) for r in range(n_rows) for p in ref[r] if t0 <= p[0] <= t1]
        assert list(zip(rr.tolist(), tt.tolist(), vv.tolist())) == exp
    for r in range(n_rows):
        t, v = h.series(r)
        assert list(zip(t.tolist(), v.tolist())) == ref[r]


def test_memory_is_bounded_whatever_the_feed_sends() -> None:
    h = RingHistory(5, 16)
    nbytes = h.nbytes
    for k in range(200):  # 200 batches of 1000 readings on 5 rows
        rows = np.arange(1000) % 5
        times = k * 1000 + np.arange(1000, dtype=float)
        assert h.append(rows, times, times).all()
    assert h.nbytes == nbytes
    assert (h.count == 16).all()
    t, v = h.series(0)
    assert t.tolist() == list(range(199_000 + 920, 200_000, 5))  # the newest 16 of row 0


def test_out_of_order_and_duplicates_are_refused() -> None:
    h = RingHistory(2, 8)
    assert h.append([0, 0], [10.0, 20.0], [1.0, 2.0]).all()
    ok = h.append([0, 0, 1, 1, 0], [15.0, 20.0, 5.0, 5.0, 30.0], [9.0, 9.0, 3.0, 4.0, 3.0])
    assert ok.tolist() == [False, False, True, False, True]
    assert h.series(0)[0].tolist() == [10.0, 20.0, 30.0]
    assert h.series(1)[1].tolist() == [3.0]  # the first of two readings at the same time


def test_batch_larger_than_capacity_keeps_newest() -> None:
    h = RingHistory(1, 4)
    times = np.arange(10, dtype=float)[::-1]  # arrives newest first
    assert h.append(np.zeros(10, int), times, times * 2).all()
    t, v = h.series(0)
    assert t.tolist() == [6.0, 7.0, 8.0, 9.0] and v.tolist() == [12.0, 14.0, 16.0, 18.0]
    vals, tims = h.latest_at(7.5)
    assert tims[0] == 7.0 and vals[0] == 14.0
    vals, tims = h.latest_at(5.0)  # older than anything kept
    assert np.isnan(vals[0])


def test_rows_grow_and_empty_queries() -> None:
    h = RingHistory(0, 3)
    assert h.latest_at(0)[0].shape == (0,)
    h.append([40], [1.0], [2.0])
    assert h.rows >= 41
    vals, _ = h.latest_at(5.0, np.array([40, 3]))
    assert vals[0] == 2.0 and np.isnan(vals[1])
    assert len(h.between(2.0, 1.0)[0]) == 0


def test_non_finite_times_are_refused() -> None:
    h = RingHistory(1, 4)
    assert h.append([0, 0, 0], [1.0, np.nan, np.inf], [1.0, 2.0, 3.0]).tolist() == [True, False, False]
    assert h.series(0)[0].tolist() == [1.0]
