"""Sun hours and irradiation per surface: geometry with known answers, an independent
ray-box oracle, clear sky against pvlib, the ray engine, and ``citytwin analyze``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from boxes import DEN_HAAG, write_boxes
from citytwin.core.errors import Cancelled
from citytwin.core.files import atomic_open
from citytwin.io.registry import read
from citytwin.model.semantics import SEMANTICS
from citytwin.sim.clearsky import ineichen, tregenza_patches
from citytwin.sim.place import Place, day_instants, enu_to_grid, parse_time
from citytwin.sim.rays import OcclusionScene, morton_order
from citytwin.sim.samples import surface_samples
from citytwin.sim.sun import SUN_RADIUS_DEG, day_events, sun_position
from citytwin.sim.sunhours import Period, analyse

EQUINOX = date(2026, 3, 20)
WINTER = date(2026, 12, 21)


def _model(tmp_path: Path, boxes, **kw):  # type: ignore[no-untyped-def]
    return read(write_boxes(tmp_path / "boxes.city.json", boxes, **kw))


def _poly(model, res, obj: str, semantic: str, normal: tuple[float, float, float] | None = None) -> int:  # type: ignore[no-untyped-def]
    """Position in the results of the polygon of object ``obj`` with that semantic (and normal)."""
    o = model.objects.ids.index(obj)
    for i, p in enumerate(res.polygons.tolist()):
        if model.polygons.object[p] == o and SEMANTICS[model.polygons.semantic[p]] == semantic:
            if normal is None or np.allclose(res.normals[i], normal, atol=1e-6):
                return i
    raise AssertionError(f"no {semantic} {normal} on {obj}")


def test_open_flat_roof_gets_the_day_length_within_one_step(tmp_path: Path) -> None:
    m = _model(tmp_path, [("b", 0, 0, 20, 20, 0, 10)])
    place = Place.of_bbox(m.bbox(), m.crs)
    for day in (EQUINOX, WINTER, date(2026, 6, 21)):
        res = analyse(m, Period(day, day, 10, place.timezone), place)
        ev = day_events(day_instants(parse_time(day.isoformat(), place.timezone)), place.lon, place.lat)
        roof = _poly(m, res, "b", "RoofSurface")
        assert abs(res.sun_hours[roof] - ev.day_length_s / 3600) <= 10 / 60
        assert res.sky_view[roof] == pytest.approx(1.0, abs=1e-9)
        # an open roof gets the global horizontal irradiation: beam on the plane + the whole sky
        times, hours = Period(day, day, 10, place.timezone).instants()
        pos = sun_position(times, place.lon, place.lat)
        ghi = ineichen(90 - pos.elevation, times).ghi
        assert res.irradiation_kwh_m2[roof] == pytest.approx(np.sum(ghi * hours) / 1000, rel=0.01)


def test_north_wall_at_52n_gets_no_sun_on_the_equinox(tmp_path: Path) -> None:
    # on UTM 31N's central meridian (3° E), where grid north is true north: a wall along
    # the grid faces due north (in RD New at Den Haag it would face 0.86° west of north)
    m = _model(tmp_path, [("b", 0, 0, 20, 20, 0, 10)], crs="https://www.opengis.net/def/crs/EPSG/0/32631",
               translate=(499990.0, 5761040.0))
    place = Place.of_bbox(m.bbox(), m.crs)
    assert 51.9 < place.lat < 52.1 and abs(place.lon - 3.0) < 1e-3
    assert np.allclose(enu_to_grid(place.lon, place.lat, m.crs), np.eye(3), atol=1e-4)
    # 23 September 2026: the declination is below 0 all day (the equinox is at 00:05 UTC),
    # so the sun rises and sets south of east and west. (On 20 March 2026 it turns
    # positive at 14:46 UTC and the setting sun grazes a north wall for a few minutes.)
    day = date(2026, 9, 23)
    sp = sun_position(Period(day, day, 10, place.timezone).instants()[0], place.lon, place.lat)
    assert np.all(sp.declination[sp.elevation > -1] < 0)
    march = analyse(m, Period(EQUINOX, EQUINOX, 10, place.timezone), place)
    assert march.beam_kwh_m2[_poly(m, march, "b", "WallSurface", (0, 1, 0))] < 1e-3
    res = analyse(m, Period(day, day, 10, place.timezone), place)
    north = _poly(m, res, "b", "WallSurface", (0, 1, 0))
    south = _poly(m, res, "b", "WallSurface", (0, -1, 0))
    east = _poly(m, res, "b", "WallSurface", (1, 0, 0))
    assert res.sun_hours[north] == 0.0 and res.beam_kwh_m2[north] == 0.0
    assert res.sun_hours[south] == pytest.approx(res.daylight_hours, abs=10 / 60)
    assert res.sun_hours[east] == pytest.approx(res.daylight_hours / 2, abs=20 / 60)  # morning only
    assert res.sun_hours[_poly(m, res, "b", "GroundSurface")] == 0.0


def _ray_hits_box(o: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Slab test: does the ray o + t d (t > 0) cross the axis-aligned box?"""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t0 = (lo - o) * inv
        t1 = (hi - o) * inv
    tmin = np.nanmax(np.minimum(t0, t1), axis=-1)
    tmax = np.nanmin(np.maximum(t0, t1), axis=-1)
    return (tmax >= np.maximum(tmin, 0.0))


def test_roof_behind_a_tower_loses_the_hours_the_tower_covers(tmp_path: Path) -> None:
    low = ("low", 0, 0, 20, 20, 0, 6)
    tower = ("tower", 5, -30, 15, -20, 0, 40)  # south of the low building
    alone = _model(tmp_path, [low])
    place = Place.of_bbox(alone.bbox(), alone.crs)
    period = Period(WINTER, WINTER, 10, place.timezone)
    free = analyse(alone, period, place)
    (tmp_path / "boxes.city.json").unlink()
    both = _model(tmp_path, [low, tower])
    res = analyse(both, period, place)
    roof = _poly(both, res, "low", "RoofSurface")
    lost = free.sun_hours[_poly(alone, free, "low", "RoofSurface")] - res.sun_hours[roof]
    assert lost > 0.5  # a 40 m tower 20 m south of a 6 m roof in December
    # independent oracle: the same sample points, rays tested against the tower's box by a slab test
    s = surface_samples(both, both.lod_triangle_mask("best"), 2.0)
    on_roof = s.poly == int(np.flatnonzero(s.polygons == res.polygons[roof])[0])
    pts = s.points[on_roof].astype(np.float64)
    origin = both.origin
    shift = np.array([*DEN_HAAG, 0.0]) - origin
    lo = np.array([5, -30, 0]) + shift
    hi = np.array([15, -20, 40]) + shift
    times, hours = period.instants()
    pos = sun_position(times, place.lon, place.lat)
    grid = enu_to_grid(place.lon, place.lat, both.crs)
    # the analysis's sun: up while its upper limb is, rays to the middle of its visible part
    r = SUN_RADIUS_DEG
    el = np.where(pos.elevation < r, (np.maximum(pos.elevation, -r) + r) / 2, pos.elevation)
    az, alt = np.radians(pos.azimuth), np.radians(el)
    enu = np.stack([np.cos(alt) * np.sin(az), np.cos(alt) * np.cos(az), np.sin(alt)], -1)
    lit_h = np.zeros(len(pts))
    for k in np.flatnonzero(pos.elevation > -r):
        d = grid @ enu[k]
        lit_h += np.where(_ray_hits_box(pts, d[None, :], lo, hi), 0.0, hours[k])
    w = s.weight[on_roof]
    assert res.sun_hours[roof] == pytest.approx(np.sum(w * lit_h) / np.sum(w), abs=1e-6)


def test_grid_convergence_matches_pyproj() -> None:
    from pyproj import CRS, Proj

    for epsg, lon, lat in ((25832, 12.0, 49.0), (25832, 6.5, 51.0), (28992, 4.3, 52.08), (32633, 15.0, 0.0)):
        crs = CRS.from_epsg(epsg)
        m = enu_to_grid(lon, lat, crs)
        north = np.degrees(np.arctan2(m[0, 1], m[1, 1]))  # grid azimuth of true north
        gamma = Proj(crs).get_factors(lon, lat).meridian_convergence
        assert north == pytest.approx(-gamma, abs=0.01)


@pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear")
def test_clear_sky_matches_pvlib() -> None:
    pd = pytest.importorskip("pandas")
    pvlib = pytest.importorskip("pvlib")
    idx = pd.date_range("2026-01-01", "2026-12-31 23:00", freq="h", tz="UTC")
    t = (idx - pd.Timestamp("1970-01-01", tz="UTC")).total_seconds().to_numpy()
    ours = ineichen(90 - sun_position(t, 4.3, 52.08).elevation, t, 3.0, 10.0)
    z = pvlib.solarposition.get_solarposition(idx, 52.08, 4.3, method="nrel_numpy")["apparent_zenith"]
    am = pvlib.atmosphere.get_absolute_airmass(pvlib.atmosphere.get_relative_airmass(z), pvlib.atmosphere.alt2pres(10.0))
    ref = pvlib.clearsky.ineichen(z, am, 3.0, altitude=10.0, dni_extra=pvlib.irradiance.get_extra_radiation(idx))
    for k in ("ghi", "dni", "dhi"):
        assert np.abs(getattr(ours, k) - ref[k].fillna(0).to_numpy()).max() < 2.0  # W/m², of up to ~900


def test_sky_patches_cover_the_hemisphere() -> None:
    d, w = tregenza_patches()
    assert len(d) == 145 and w.sum() == pytest.approx(2 * np.pi)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0) and (d[:, 2] > 0).all()
    assert np.sum(np.maximum(d[:, 0], 0) * w) / np.pi == pytest.approx(0.5, abs=0.01)  # a wall sees half


def test_ray_engine_threads_agree_and_rays_stop_at_triangles() -> None:
    tri = np.array([[[0, 0, 5], [10, 0, 5], [0, 10, 5]]], dtype=np.float32)
    rng = np.random.default_rng(1)
    o = rng.uniform(-5, 15, (300_000, 3)).astype(np.float32)
    o[:, 2] = 0
    d = np.broadcast_to(np.array([0, 0, 1], np.float32), o.shape)
    with OcclusionScene(tri, threads=1) as one, OcclusionScene(tri, threads=2) as two:
        a = one.occluded(o, d)
        b = two.occluded(o, d)
    inside = (o[:, 0] > 0) & (o[:, 1] > 0) & (o[:, 0] + o[:, 1] < 10)
    edge = np.abs(o[:, 0] + o[:, 1] - 10) < 1e-3
    assert np.array_equal(a, b)
    assert np.array_equal(a[~edge], inside[~edge])
    assert sorted(morton_order(o[:1000]).tolist()) == list(range(1000))


def test_cancel_stops_the_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import citytwin.sim.sunhours as sh

    monkeypatch.setattr(sh, "CHUNK_MIN", 200)  # several chunks, run one after the other
    m = _model(tmp_path, [("b", 0, 0, 20, 20, 0, 10)])
    place = Place.of_bbox(m.bbox(), m.crs)
    seen: list[float] = []
    with pytest.raises(Cancelled):
        analyse(m, Period(EQUINOX, EQUINOX, 10, place.timezone), place, threads=1, progress=seen.append,
                cancel=lambda: len(seen) > 0)
    assert 0 < len(seen) and seen[-1] < 1.0  # stopped after the first chunk, well before the end


def test_period_checks() -> None:
    with pytest.raises(ValueError, match="positive"):
        Period(EQUINOX, EQUINOX, 0, "UTC")
    with pytest.raises(ValueError, match="before it starts"):
        Period(WINTER, EQUINOX, 10, "UTC")
    t, h = Period(date(2026, 3, 29), date(2026, 3, 29), 60, "Europe/Amsterdam").instants()
    assert len(t) == 23 and h.sum() == 23  # the day the clocks go forward


def test_atomic_write_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    p = tmp_path / "out.csv"
    p.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(p) as f:
        f.write("half")
        raise RuntimeError("boom")
    assert p.read_text() == "old" and [q.name for q in tmp_path.iterdir()] == ["out.csv"]
    with atomic_open(p) as f:
        f.write("new")
    assert p.read_text() == "new"


# --------------------------------------------------------------------------- command line
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citytwin", *args], capture_output=True, text=True, timeout=300)


def test_cli_sun_hours_csv_per_surface_and_per_object(tmp_path: Path) -> None:
    src = write_boxes(tmp_path / "b.city.json", [("low", 0, 0, 20, 20, 0, 6), ("tower", 5, -30, 15, -20, 0, 40)])
    out = tmp_path / "s.csv"
    r = _cli("analyze", "sun-hours", str(src), "--date", "2026-12-21", "--step", "15", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert {"id", "surface_index", "semantic", "nx", "ny", "nz", "area_m2", "sun_hours",
            "irradiation_kwh_m2"} <= set(rows[0])
    assert len(rows) == 12
    roof = next(r for r in rows if r["id"] == "low" and r["semantic"] == "RoofSurface")
    assert float(roof["area_m2"]) == pytest.approx(400) and float(roof["nz"]) == pytest.approx(1)
    assert 0 < float(roof["sun_hours"]) < 8 and float(roof["irradiation_kwh_m2"]) > 0
    assert sorted(int(r["surface_index"]) for r in rows if r["id"] == "low") == list(range(6))
    per = tmp_path / "o.csv"
    r = _cli("analyze", "sun-hours", str(src), "--date", "2026-12-21", "--to", "2026-12-22", "--step", "30",
             "--per-object", "--out", str(per))
    assert r.returncode == 0, r.stderr
    objs = {r["id"]: r for r in csv.DictReader(per.open())}
    assert set(objs) == {"low", "tower"}
    assert float(objs["low"]["roof_area_m2"]) == pytest.approx(400)
    assert float(objs["tower"]["facade_area_m2"]) == pytest.approx(1600)
    assert float(objs["low"]["roof_sun_hours"]) < float(objs["tower"]["roof_sun_hours"])


def test_per_object_rows_for_buildings_made_of_parts(tmp_path: Path) -> None:
    src = write_boxes(tmp_path / "b.city.json", [("p1", 0, 0, 10, 20, 0, 6), ("p2", 10, 0, 30, 20, 0, 9),
                                                  ("solo", 50, 0, 60, 10, 0, 3)],
                      parents={"p1": "house", "p2": "house"})
    out = tmp_path / "o.csv"
    r = _cli("analyze", "sun-hours", str(src), "--date", "2026-06-21", "--step", "60", "--per-object",
             "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = {r["id"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == {"house", "p1", "p2", "solo"}
    assert rows["house"]["parts"] == "2" and rows["p1"]["parts"] == "0" and rows["solo"]["parts"] == "0"
    assert float(rows["house"]["roof_area_m2"]) == pytest.approx(600)
    kwh = sum(float(rows[p]["roof_irradiation_kwh"]) for p in ("p1", "p2"))
    assert float(rows["house"]["roof_irradiation_kwh"]) == pytest.approx(kwh, rel=1e-4)


def test_cli_sun_hours_city_json_round_trip(tmp_path: Path) -> None:
    src = write_boxes(tmp_path / "b.city.json", [("b", 0, 0, 20, 20, 0, 10)])
    out = tmp_path / "r.city.json"
    r = _cli("analyze", "sun-hours", str(src), "--date", "2026-06-21", "--step", "30", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    b = doc["CityObjects"]["b"]
    assert b["attributes"]["roof_sun_hours"] > 15
    surfaces = b["geometry"][0]["semantics"]["surfaces"]
    roof = next(s for s in surfaces if s["type"] == "RoofSurface")
    assert roof["sun_hours"] == pytest.approx(b["attributes"]["roof_sun_hours"], abs=1e-3)
    back = read(out)  # our own reader takes it back, attributes included
    assert back.objects.attributes[back.objects.ids.index("b")]["roof_sun_hours"] > 15


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--date", "2026-13-01"], "expected a date"), (["--date", "2150-01-01"], "1901 to 2099"),
     (["--date", "2026-03-02", "--to", "2026-03-01"], "before"), (["--date", "2026-03-01", "--step", "0"], "more than 0"),
     (["--date", "2026-03-01", "--step", "-5"], "more than 0")],
)
def test_cli_sun_hours_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    src = write_boxes(tmp_path / "b.city.json", [("b", 0, 0, 20, 20, 0, 10)])
    out = tmp_path / "x.csv"
    r = _cli("analyze", "sun-hours", str(src), *args, "--out", str(out))
    assert r.returncode != 0 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["b.city.json"]


def test_cli_sun_hours_without_crs_needs_crs_or_lonlat(tmp_path: Path) -> None:
    p = tmp_path / "local.obj"
    p.write_text("v 0 0 0\nv 10 0 0\nv 10 10 0\nv 0 10 0\nf 1 2 3 4\n")
    out = tmp_path / "x.csv"
    r = _cli("analyze", "sun-hours", str(p), "--date", "2026-06-21", "--out", str(out))
    assert r.returncode == 1 and "no CRS" in r.stderr and "--lonlat" in r.stderr and str(p) in r.stderr
    assert not out.exists()
    r = _cli("analyze", "sun-hours", str(p), "--date", "2026-06-21", "--lonlat", "4.3,52.08", "--out", str(out))
    assert r.returncode == 0, r.stderr
    row = next(csv.DictReader(out.open()))
    assert float(row["sun_hours"]) == pytest.approx(16.75, abs=0.25)  # an open square on 21 June at 52° N


def test_chunked_through_dask_and_on_a_cluster_gives_identical_results(tmp_path: Path) -> None:
    from distributed import LocalCluster

    import citytwin.sim.sunhours as sh

    m = _model(tmp_path, [("low", 0, 0, 20, 20, 0, 6), ("tower", 5, -30, 15, -20, 0, 40),
                          ("far", 60, 10, 90, 40, 0, 12)], ground=(-100, -100, 150, 100))
    place = Place.of_bbox(m.bbox(), m.crs)
    period = Period(WINTER, WINTER, 15, place.timezone)
    one = analyse(m, period, place, threads=1)
    old = sh.CHUNK_MIN
    sh.CHUNK_MIN = 500  # many small chunks
    try:
        local = analyse(m, period, place, threads=2)
        assert local.stats["chunks"] > 4
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            seen: list[float] = []
            remote = analyse(m, period, place, scheduler=cluster.scheduler_address, progress=seen.append)
    finally:
        sh.CHUNK_MIN = old
    assert remote.stats["workers"] == cluster.scheduler_address and seen[-1] == 1.0
    for r in (local, remote):
        for k in ("sun_hours", "beam_kwh_m2", "diffuse_kwh_m2", "sky_view"):
            assert np.array_equal(getattr(r, k), getattr(one, k)), k


def test_no_scheduler_there_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import citytwin.sim.chunks as chunks

    monkeypatch.setattr(chunks, "CONNECT_TIMEOUT_S", 1.0)
    m = _model(tmp_path, [("b", 0, 0, 20, 20, 0, 10)])
    place = Place.of_bbox(m.bbox(), m.crs)
    with pytest.raises(ConnectionError, match="no Dask scheduler at tcp://127.0.0.1:9"):
        analyse(m, Period(WINTER, WINTER, 60, place.timezone), place, scheduler="tcp://127.0.0.1:9")


def test_shared_sky_patches_estimate_the_full_sky_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import citytwin.sim.sunhours as sh

    m = _model(tmp_path, [("low", 0, 0, 20, 20, 0, 6), ("tower", 5, -30, 15, -20, 0, 40),
                          ("court", 30, 0, 70, 40, 0, 15)], ground=(-60, -80, 120, 90))
    place = Place.of_bbox(m.bbox(), m.crs)
    period = Period(WINTER, WINTER, 60, place.timezone)
    shared = analyse(m, period, place)
    monkeypatch.setattr(sh, "SKY_STRATA", 1)  # every point traces every patch
    full = analyse(m, period, place)
    assert shared.stats["sky_rays"] < full.stats["sky_rays"] / 2
    w = full.areas
    assert np.sum(np.abs(shared.sky_view - full.sky_view) * w) / w.sum() < 0.01
    assert np.abs(shared.sky_view - full.sky_view).max() < 0.1
    roof = _poly(m, full, "tower", "RoofSurface")
    assert shared.sky_view[roof] == pytest.approx(1.0, abs=1e-9) == full.sky_view[roof]
