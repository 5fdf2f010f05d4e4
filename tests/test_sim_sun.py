"""Sun position against pvlib's NREL SPA (the reference), time zones, and ``citytwin sun``."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from citytwin.sim.place import Place, day_instants, nautical_zone, parse_time, timezone_at
from citytwin.sim.sun import day_events, refraction, sun_position

pd = pytest.importorskip("pandas")
pvlib = pytest.importorskip("pvlib")

ROOT = Path(__file__).resolve().parents[1]
PLACES = [(4.30, 52.08), (139.70, 35.68), (144.96, -37.81), (-78.50, 0.0), (-21.90, 64.10),
          (15.60, 78.20), (-68.30, -54.80), (0.0, 23.44), (-157.86, 21.31)]


def _unit(az: np.ndarray, el: np.ndarray) -> np.ndarray:
    a, e = np.radians(az), np.radians(el)
    return np.stack([np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e)], -1)


def _spa(idx, lon: float, lat: float):  # type: ignore[no-untyped-def]
    return pvlib.solarposition.get_solarposition(idx, lat, lon, method="nrel_numpy")


@pytest.mark.parametrize("year", [1901, 1968, 2026, 2099])
@pytest.mark.parametrize(("lon", "lat"), PLACES)
def test_hourly_year_matches_spa(lon: float, lat: float, year: int) -> None:
    idx = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h", tz="UTC")
    t = (idx - pd.Timestamp("1970-01-01", tz="UTC")).total_seconds().to_numpy()
    ours = sun_position(t, lon, lat)
    ref = _spa(idx, lon, lat)
    ref_el = ref["apparent_elevation"].to_numpy()
    up = ref_el > 0
    assert up.any()
    # apparent elevation and the direction to the sun, wherever the sun is up
    assert np.abs(ours.elevation - ref_el)[up].max() < 0.03
    cos = np.clip((_unit(ours.azimuth, ours.elevation) * _unit(ref["azimuth"].to_numpy(), ref_el)).sum(-1), -1, 1)
    assert np.degrees(np.arccos(cos))[up].max() < 0.03
    # the geometric elevation everywhere, night included
    assert np.abs(ours.elevation_true - ref["elevation"].to_numpy()).max() < 0.03


def test_refraction_matches_spa_and_vanishes_below_the_horizon() -> None:
    e = np.array([-5.0, -1.0, 0.0, 1.0, 10.0, 45.0, 89.0])
    r = refraction(e)
    assert r[0] == 0.0 and r[1] == 0.0
    assert 0.45 < r[2] < 0.5  # about half a degree at the horizon
    assert np.all(np.diff(r[2:]) < 0) and r[-1] < 0.001


def test_known_geometry_at_the_solstice() -> None:
    # true solar noon on the June solstice: elevation = 90 - lat + obliquity, sun due south
    lon, lat = 0.0, 50.0
    t = np.arange(0, 86400, 10.0) + datetime(2026, 6, 21, tzinfo=UTC).timestamp()
    pos = sun_position(t, lon, lat)
    k = int(np.argmax(pos.elevation_true))
    assert pos.elevation_true[k] == pytest.approx(90 - lat + 23.436, abs=0.01)
    assert pos.azimuth[k] == pytest.approx(180.0, abs=0.2)
    d = pos.direction()
    assert d.shape == (len(t), 3)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0)
    assert d[k, 1] < 0 and d[k, 2] > 0  # south and up


@pytest.mark.parametrize(("lon", "lat", "day"), [(4.30, 52.08, "2026-06-21"), (4.30, 52.08, "2026-12-21"),
                                                  (139.70, 35.68, "2026-03-20"), (144.96, -37.81, "2026-06-21")])
def test_sunrise_and_sunset_match_spa(lon: float, lat: float, day: str) -> None:
    place = Place.at(lon, lat)
    ev = day_events(day_instants(parse_time(day, place.timezone)), lon, lat)
    assert ev.sunrise is not None and ev.sunset is not None
    # at our sunrise and sunset SPA puts the sun's centre 0.8333° below the horizon
    # (geometric), and at our noon SPA's sun is at its highest
    times = pd.to_datetime([ev.sunrise, ev.sunset, ev.noon - 120, ev.noon, ev.noon + 120], unit="s", utc=True)
    ref = _spa(pd.DatetimeIndex(times), lon, lat)["elevation"].to_numpy()
    assert ref[0] == pytest.approx(-0.8333, abs=0.03) and ref[1] == pytest.approx(-0.8333, abs=0.03)
    assert ref[3] >= max(ref[2], ref[4])
    # and pvlib's own rise/set algorithm (SPA appendix A.2, accurate to about 2 minutes) agrees
    rst = pvlib.solarposition.sun_rise_set_transit_spa(pd.DatetimeIndex([pd.Timestamp(day, tz=place.timezone)]),
                                                      lat, lon)
    assert abs(ev.sunrise - rst["sunrise"].iloc[0].timestamp()) < 120
    assert abs(ev.sunset - rst["sunset"].iloc[0].timestamp()) < 120
    assert ev.day_length_s == pytest.approx(ev.sunset - ev.sunrise, abs=60)


def test_polar_day_and_night() -> None:
    night = day_events(day_instants(parse_time("2026-12-21", "Arctic/Longyearbyen")), 15.6, 78.2)
    assert night.sunrise is None and night.sunset is None and night.day_length_s == 0.0
    day = day_events(day_instants(parse_time("2026-06-21", "Arctic/Longyearbyen")), 15.6, 78.2)
    assert day.sunrise is None and day.sunset is None and day.day_length_s == pytest.approx(86400, abs=1)


def test_time_zones_found_offline() -> None:
    assert timezone_at(4.30, 52.08) == "Europe/Amsterdam"
    assert timezone_at(139.70, 35.68) == "Asia/Tokyo"
    assert timezone_at(144.96, -37.81) == "Australia/Melbourne"
    assert timezone_at(-30.0, 40.0).startswith("Etc/GMT")  # mid-Atlantic
    assert nautical_zone(-30.0) == "Etc/GMT+2" and nautical_zone(8.0) == "Etc/GMT-1"
    assert nautical_zone(0.0) == "Etc/GMT"
    with pytest.raises(ValueError):
        timezone_at(200.0, 10.0)


def test_times_with_offsets_and_in_the_place_zone() -> None:
    assert parse_time("2026-06-21T10:00:00+02:00", "Asia/Tokyo").utcoffset() == timedelta(hours=2)
    assert parse_time("2026-06-21T08:00:00Z", "Asia/Tokyo").utcoffset() == timedelta(0)
    summer = parse_time("2026-06-21T10:00", "Europe/Amsterdam")
    winter = parse_time("2026-12-21 10:00", "Europe/Amsterdam")
    assert summer.utcoffset() == timedelta(hours=2) and winter.utcoffset() == timedelta(hours=1)
    assert parse_time("2026-12-21", "Europe/Amsterdam").hour == 12
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_time("next tuesday", "UTC")
    # a DST day is 23 hours long
    spring = day_instants(parse_time("2026-03-29", "Europe/Amsterdam"), 3600.0)
    assert len(spring) == 24 and spring[-1] - spring[0] == 23 * 3600


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citytwin", *args], capture_output=True, text=True, timeout=120)


def test_cli_sun_json_at_a_place() -> None:
    out = _cli("sun", "--lonlat", "4.30,52.08", "--at", "2026-06-21T12:00", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["timezone"] == "Europe/Amsterdam" and d["time"] == "2026-06-21T12:00:00+02:00"
    assert d["time_utc"] == "2026-06-21T10:00:00Z"
    idx = pd.DatetimeIndex([pd.Timestamp("2026-06-21T10:00:00Z")])
    ref = _spa(idx, 4.30, 52.08)
    assert d["azimuth"] == pytest.approx(ref["azimuth"].iloc[0], abs=0.03)
    assert d["elevation"] == pytest.approx(ref["apparent_elevation"].iloc[0], abs=0.03)
    assert {"lon", "lat", "sunrise", "sunset", "solar_noon", "day_length_hours"} <= set(d)


def test_cli_sun_of_a_scene_uses_its_centre() -> None:
    out = _cli("sun", str(ROOT / "scenes" / "demo.toml"), "--at", "2026-12-21T12:00:00+01:00", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["timezone"] == "Europe/Berlin"  # the demo lies in EPSG:25832, near Karlsruhe
    assert 8.0 < d["lon"] < 9.5 and 48.5 < d["lat"] < 49.5
    assert 10 < d["elevation"] < 20 and d["sunrise"].startswith("2026-12-21T08:")


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--lonlat", "abc"], "expected LON,LAT"), (["--lonlat", "4,95"], "latitude"),
     (["--lonlat", "4,52", "--at", "soon"], "not an ISO 8601"), ([], "either INPUT"),
     (["/nonexistent/city.gml"], "/nonexistent/city.gml")],
)
def test_cli_sun_bad_input_is_one_line(args: list[str], message: str) -> None:
    out = _cli("sun", *args)
    assert out.returncode != 0
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_cli_sun_file_without_crs(tmp_path: Path) -> None:
    p = tmp_path / "local.obj"
    p.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    out = _cli("sun", str(p))
    assert out.returncode == 1 and "no CRS" in out.stderr and "--lonlat" in out.stderr
