"""Sun position benchmark: ``citytwin.sim.sun`` against pvlib's NREL SPA, the raw baseline.

For a year of hourly instants (and larger series), times the vectorised NOAA formulas
with SPA's refraction (``sun_position``) against ``pvlib.solarposition.get_solarposition``
(``method="nrel_numpy"``, the reference; it also computes the equation of time and
more), best of ``--repeat``, and prints the largest difference from SPA where the sun
is up (apparent elevation, angle between the directions) in the same run.

Usage::

    python benchmarks/bench_sun.py [--repeat K] [--lonlat LON,LAT]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import machine_info, print_header  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--lonlat", default="4.30,52.08")
    a = ap.parse_args(argv)
    lon, lat = (float(v) for v in a.lonlat.split(","))

    import pandas as pd
    import pvlib

    from citytwin.sim.sun import sun_position

    info = machine_info(["benchmarks/bench_sun.py", *argv])
    w = sys.stdout.write
    print_header(info, f"versions: numpy {np.__version__}, pvlib {pvlib.__version__}, pandas {pd.__version__}",
                 f"place: lon {lon}, lat {lat}; baseline: pvlib get_solarposition(method='nrel_numpy') (NREL SPA)")
    w(f"{'instants':>10} {'ours ms':>9} {'SPA ms':>9} {'speed-up':>9} {'max |d elev|':>13} {'max angle':>10}\n")
    for n, freq in ((8760, "h"), (87600, "6min"), (525600, "min")):
        idx = pd.date_range("2026-01-01", periods=n, freq=freq, tz="UTC")
        t = (idx - pd.Timestamp("1970-01-01", tz="UTC")).total_seconds().to_numpy()
        ours = best(lambda t=t: sun_position(t, lon, lat), a.repeat)
        spa = best(lambda idx=idx: pvlib.solarposition.get_solarposition(idx, lat, lon, method="nrel_numpy"),
                   max(1, a.repeat // 3))
        s = sun_position(t, lon, lat)
        ref = pvlib.solarposition.get_solarposition(idx, lat, lon, method="nrel_numpy")
        el = ref["apparent_elevation"].to_numpy()
        up = el > 0
        u1 = s.direction()
        az, e = np.radians(ref["azimuth"].to_numpy()), np.radians(el)
        u2 = np.stack([np.cos(e) * np.sin(az), np.cos(e) * np.cos(az), np.sin(e)], -1)
        ang = np.degrees(np.arccos(np.clip((u1 * u2).sum(-1), -1, 1)))[up].max()
        w(f"{n:>10} {ours * 1e3:>9.2f} {spa * 1e3:>9.2f} {spa / ours:>8.1f}x "
          f"{np.abs(s.elevation - el)[up].max():>12.4f}° {ang:>9.4f}°\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
