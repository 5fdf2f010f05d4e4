"""Per-object values from point sensors: nearest and inverse-distance weighting, hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from citytwin.model import sensor_field
from citytwin.model.sensor_field import idw_values, nearest_values, object_centres

SENSORS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
VALUES = np.array([1.0, 3.0, 5.0])


def test_nearest_picks_the_closest_sensor_and_ignores_nan() -> None:
    pts = np.array([[1.0, 1.0], [9.0, 1.0], [1.0, 8.0], [np.nan, 0.0]])
    assert np.array_equal(nearest_values(pts, SENSORS, VALUES)[:3], [1.0, 3.0, 5.0])
    assert np.isnan(nearest_values(pts, SENSORS, VALUES)[3])
    # the nearest sensor has no value: the next one counts
    vals = np.array([np.nan, 3.0, 5.0])
    assert nearest_values([[2.0, 0.0]], SENSORS, vals)[0] == 3.0  # 8 m to (10,0), 10.2 m to (0,10)
    # a sensor without a position is ignored too
    pos = SENSORS.copy()
    pos[1] = np.nan
    assert nearest_values([[9.0, 0.0]], pos, VALUES)[0] == 1.0


def test_nearest_max_distance_and_empty() -> None:
    out = nearest_values([[1.0, 0.0], [50.0, 50.0]], SENSORS, VALUES, max_distance=5.0)
    assert out[0] == 1.0 and np.isnan(out[1])
    assert np.isnan(nearest_values([[0.0, 0.0]], SENSORS, np.full(3, np.nan))).all()
    assert nearest_values(np.zeros((0, 2)), SENSORS, VALUES).shape == (0,)
    with pytest.raises(ValueError):
        nearest_values([[0.0, 0.0]], SENSORS, VALUES[:2])


def test_idw_hand_computed() -> None:
    # (5, 0): 5 m to s0 and s1, sqrt(125) to s2; weights 1/25, 1/25, 1/125
    w = np.array([1 / 25, 1 / 25, 1 / 125])
    expect = (w * VALUES).sum() / w.sum()
    assert idw_values([[5.0, 0.0]], SENSORS, VALUES)[0] == pytest.approx(expect)
    assert expect == pytest.approx((5 * 1 + 5 * 3 + 1 * 5) / 11)  # the same, in whole numbers
    # power 1: weights 1/5, 1/5, 1/sqrt(125)
    w1 = np.array([1 / 5, 1 / 5, 1 / np.sqrt(125)])
    assert idw_values([[5.0, 0.0]], SENSORS, VALUES, power=1.0)[0] == pytest.approx((w1 * VALUES).sum() / w1.sum())
    # k = 2: only s0 and s1 (equal weights) -> mean 2
    assert idw_values([[5.0, 0.0]], SENSORS, VALUES, k=2)[0] == pytest.approx(2.0)
    # on a sensor: its value exactly
    assert idw_values([[10.0, 0.0]], SENSORS, VALUES)[0] == 3.0
    # (5, 5) is equally far from s1 and s2, and sqrt(50) from s0 as well: the plain mean
    assert idw_values([[5.0, 5.0]], SENSORS, VALUES)[0] == pytest.approx(3.0)


def test_idw_ignores_nan_and_honours_max_distance() -> None:
    vals = np.array([1.0, np.nan, 5.0])
    # (5, 0): s0 at 5 m, s2 at sqrt(125): weights 1/25 and 1/125
    expect = (1 / 25 * 1.0 + 1 / 125 * 5.0) / (1 / 25 + 1 / 125)
    assert idw_values([[5.0, 0.0]], SENSORS, vals)[0] == pytest.approx(expect)
    # max 6 m: only s0 (and s1, which has no value) in reach
    assert idw_values([[5.0, 0.0]], SENSORS, vals, max_distance=6.0)[0] == pytest.approx(1.0)
    out = idw_values([[100.0, 100.0], [np.nan, np.nan]], SENSORS, VALUES, max_distance=20.0)
    assert np.isnan(out).all()
    assert np.isnan(idw_values([[0.0, 0.0]], SENSORS, np.full(3, np.nan))).all()


def test_chunked_matches_one_block(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 1000, (500, 2))
    sen = rng.uniform(0, 1000, (40, 3))  # z is ignored
    vals = rng.uniform(0, 50, 40)
    vals[::7] = np.nan
    a_n, a_i = nearest_values(pts, sen, vals), idw_values(pts, sen, vals, k=5, max_distance=300.0)
    monkeypatch.setattr(sensor_field, "MAX_CHUNK_ELEMENTS", 64)  # one query row... a few per chunk
    b_n, b_i = nearest_values(pts, sen, vals), idw_values(pts, sen, vals, k=5, max_distance=300.0)
    assert np.array_equal(a_n, b_n)
    np.testing.assert_allclose(a_i, b_i, equal_nan=True)
    # brute force reference for the IDW with k = all sensors
    ok = np.isfinite(vals)
    d = np.hypot(pts[:, None, 0] - sen[None, ok, 0], pts[:, None, 1] - sen[None, ok, 1])
    w = 1 / d**2
    np.testing.assert_allclose(idw_values(pts, sen, vals, k=0), (w * vals[ok]).sum(1) / w.sum(1))
    np.testing.assert_array_equal(nearest_values(pts, sen, vals), vals[ok][d.argmin(1)])


def test_object_centres_subtract_the_scene_origin() -> None:
    boxes = np.array([[[100.0, 200.0, 0.0], [110.0, 220.0, 5.0]], [[np.nan] * 3, [np.nan] * 3]])
    c = object_centres(boxes, (100.0, 200.0, 50.0))
    assert np.array_equal(c[0], [5.0, 10.0]) and np.isnan(c[1]).all()


def test_weights_are_reused_for_new_values() -> None:
    from citytwin.model.sensor_field import field_weights

    rng = np.random.default_rng(5)
    pts = rng.uniform(0, 100, (50, 2))
    sen = rng.uniform(0, 100, (12, 2))
    valid = np.ones(12, bool)
    valid[3] = False
    fw = field_weights(pts, sen, valid, method="idw", k=4)
    assert fw.idx.shape == (50, 4) and (fw.w > 0).all() and not (fw.idx == 3).any()
    for _ in range(3):
        vals = rng.uniform(0, 10, 12)
        vals[3] = np.nan
        np.testing.assert_allclose(fw.apply(vals), idw_values(pts, sen, vals, k=4))
    near = field_weights(pts, sen, valid, method="nearest")
    np.testing.assert_array_equal(near.apply(vals), nearest_values(pts, sen, vals))
    assert np.isnan(field_weights(pts, sen, np.zeros(12, bool)).apply(vals)).all()


def test_spare_candidates_skip_sensors_without_a_value() -> None:
    from citytwin.model.sensor_field import field_weights

    # weights for all three sensors, two used per point; s0 falls silent later
    fw = field_weights([[1.0, 0.0], [0.0, 0.0]], SENSORS, method="idw", k=2, candidates=3)
    vals = np.array([np.nan, 3.0, 5.0])
    out = fw.apply(vals)
    # (1, 0): s1 at 9 m, s2 at sqrt(101) m
    w = np.array([1 / 81, 1 / 101])
    assert out[0] == pytest.approx((w * [3.0, 5.0]).sum() / w.sum())
    np.testing.assert_allclose(out, idw_values([[1.0, 0.0], [0.0, 0.0]], SENSORS, vals, k=2))
    near = field_weights([[1.0, 0.0]], SENSORS, method="nearest", candidates=3)
    assert near.apply(VALUES)[0] == 1.0 and near.apply(vals)[0] == 3.0


@pytest.mark.parametrize("method,k", [("idw", 8), ("nearest", 1), ("idw", 3)])
def test_grid_search_matches_brute_force(monkeypatch, method, k) -> None:
    from citytwin.model.sensor_field import field_weights

    rng = np.random.default_rng(11)
    pts = np.r_[rng.uniform(0, 2000, (3000, 2)), rng.normal(500, 20, (500, 2)), [[np.nan, np.nan]]]
    sen = np.r_[rng.uniform(-200, 2200, (300, 2)), rng.normal(1500, 5, (20, 2))]  # a dense cluster too
    vals = rng.uniform(0, 50, len(sen))
    brute = field_weights(pts, sen, method=method, k=k)
    monkeypatch.setattr(sensor_field, "GRID_MIN_PAIRS", 0)
    grid = field_weights(pts, sen, method=method, k=k)
    # the same neighbours at the same distances (ties may swap indices of equally distant sensors)
    np.testing.assert_allclose(grid.w, brute.w, rtol=1e-12)
    np.testing.assert_allclose(grid.apply(vals), brute.apply(vals), rtol=1e-12, equal_nan=True)
    assert np.isnan(grid.apply(vals)[-1])


def test_radius_with_spare_candidates_and_refillable_rows() -> None:
    from citytwin.model.sensor_field import field_weights

    sen = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0], [100.0, 0.0]])
    pts = np.array([[1.0, 0.0], [60.0, 0.0], [500.0, 0.0]])
    # radius 25 m, two candidates: (1, 0) reaches s0, s1 (and s2, which is no candidate)
    fw = field_weights(pts, sen, method="idw", k=2, candidates=2, max_distance=25.0)
    assert not fw.complete
    assert fw.refillable().tolist() == [True, False, False]  # (60, 0) and (500, 0): nothing in reach
    vals = np.array([2.0, 4.0, 6.0, 8.0])
    out = fw.apply(vals)
    w = np.array([1 / 1, 1 / 81])
    assert out[0] == pytest.approx((w * [2.0, 4.0]).sum() / w.sum()) and np.isnan(out[1:]).all()
    np.testing.assert_allclose(out, idw_values(pts, sen, vals, k=2, max_distance=25.0), equal_nan=True)
    # both candidates silent: apply gives NaN, and the row is one that weights over the rest can fill
    silent = np.array([np.nan, np.nan, 6.0, 8.0])
    assert np.isnan(fw.apply(silent)[0]) and fw.refillable()[0]
    assert idw_values(pts[:1], sen, silent, k=2, max_distance=25.0)[0] == 6.0
    # the nearest method honours the radius too; all sensors as candidates: nothing to refill
    near = field_weights(pts, sen, method="nearest", candidates=8, max_distance=25.0)
    assert near.complete and not near.refillable().any()
    assert near.apply(vals)[0] == 2.0 and np.isnan(near.apply(vals)[1:]).all()
    # a larger radius reaches (60, 0)'s sensors: s2 at 40 m, s3 at 40 m -> their mean
    assert idw_values(pts[1:2], sen, vals, k=2, max_distance=45.0)[0] == pytest.approx(7.0)


def test_object_vertices_of_chosen_objects() -> None:
    from citytwin.model.sensor_field import object_vertices

    tri = np.array([[0, 1, 2], [2, 1, 3], [4, 5, 6], [6, 7, 4], [8, 9, 10]])
    obj = np.array([0, 0, 1, 1, -1])
    assert object_vertices(tri, obj, [True, False]).tolist() == [0, 1, 2, 3]
    assert object_vertices(tri, obj, [False, True]).tolist() == [4, 5, 6, 7]
    assert object_vertices(tri, obj, [True, True]).tolist() == list(range(8))  # the unowned triangle never
    assert object_vertices(tri, obj, [False, False]).size == 0
    assert object_vertices(np.zeros((0, 3), int), np.zeros(0, int), [True]).size == 0


def test_idw_settings_round_trip_and_old_layers() -> None:
    from citytwin.model.sensor_spec import IdwSettings, SensorLayerSpec

    old = SensorLayerSpec.from_dict({"source": "obs.csv"})  # written before the idw table existed
    assert old.idw == IdwSettings() and "idw" not in old.to_dict()
    spec = SensorLayerSpec(source="obs.csv", idw=IdwSettings(power=3.0, k=4, max_distance=250.0))
    d = spec.to_dict()
    assert d["idw"] == {"power": 3.0, "k": 4, "max_distance": 250.0}
    assert SensorLayerSpec.from_dict(d) == spec
    assert IdwSettings(max_distance=0).max_distance is None  # 0: no limit
    for bad in ({"power": 0}, {"power": "x"}, {"k": 1.5}, {"max_distance": -1}, {"power": None}, "lots"):
        with pytest.raises(ValueError):
            SensorLayerSpec.from_dict({"source": "obs.csv", "idw": bad})


@pytest.mark.parametrize("method,k,radius", [("idw", 3, None), ("idw", 3, 120.0), ("nearest", 1, 120.0),
                                             ("idw", 0, 150.0)])
def test_all_valid_fast_path_matches_brute_force(method, k, radius) -> None:
    from citytwin.model.sensor_field import field_weights

    rng = np.random.default_rng(21)
    sen = rng.uniform(0, 1000, (30, 2))
    pts = np.r_[rng.uniform(-100, 1100, (400, 2)), sen[:5]]  # the last five lie on sensors
    vals = rng.uniform(0, 50, 30)
    fw = field_weights(pts, sen, method=method, k=k, candidates=2 * k if k else None, max_distance=radius)
    got = fw.apply(vals)  # every sensor has a value: the cached normalised weights
    d = np.hypot(pts[:, None, 0] - sen[None, :, 0], pts[:, None, 1] - sen[None, :, 1])
    want = np.full(len(pts), np.nan)
    for i in range(len(pts)):
        order = np.argsort(d[i], kind="stable")
        if radius is not None:
            order = order[d[i, order] <= radius]
        order = order[: (1 if method == "nearest" else (k or len(sen)))]
        if len(order) == 0:
            continue
        if d[i, order[0]] == 0:
            want[i] = vals[order[0]]
        elif method == "nearest":
            want[i] = vals[order[0]]
        else:
            w = 1 / d[i, order] ** 2
            want[i] = (w * vals[order]).sum() / w.sum()
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    assert (np.isnan(got) == np.isnan(want)).all() and (radius is None or np.isnan(got).any())
    np.testing.assert_array_equal(got[-5:], vals[:5])
    # with a silent sensor the general path runs: the same wherever that sensor does not count
    silent = vals.copy()
    silent[7] = np.nan
    other = fw.apply(silent)
    untouched = ~(fw.idx[:, : (1 if method == "nearest" else (k or 30))] == 7).any(axis=1)
    np.testing.assert_allclose(other[untouched], got[untouched], rtol=1e-12, equal_nan=True)
