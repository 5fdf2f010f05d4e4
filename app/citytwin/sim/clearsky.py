"""Clear-sky irradiance (Ineichen-Perez) and the sky split into Tregenza's 145 patches.

``ineichen`` follows Ineichen & Perez (2002) as pvlib implements it (without the Perez
enhancement): beam normal (DNI) and diffuse horizontal (DHI) irradiance for a Linke
turbidity, with Kasten & Young's air mass and Spencer's extraterrestrial irradiance.
The tests compare it with pvlib.

The sky's diffuse light reaches a surface point through the patches of sky it sees:
with an isotropic sky (radiance DHI / π) the diffuse irradiance is
``DHI * sum(visible * max(0, cos θ) * Ω) / π`` over the patches, which is ``DHI`` for
an open horizontal roof and ``DHI / 2`` for an open wall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

SOLAR_CONSTANT = 1366.1  # W/m²
DEFAULT_LINKE = 3.0  # a clear, moderately hazy sky (rural Europe: 2.5-4)


def extra_radiation(times: ArrayLike) -> NDArray[np.float64]:
    """Extraterrestrial normal irradiance (W/m²) at unix seconds ``times`` (Spencer 1971)."""
    t = np.asarray(times, dtype=np.float64)
    day = np.floor(t / 86400.0).astype("datetime64[D]")
    doy = (day - day.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.float64)  # 0 on 1 January
    b = 2.0 * np.pi * doy / 365.0
    r = 1.00011 + 0.034221 * np.cos(b) + 0.00128 * np.sin(b) + 0.000719 * np.cos(2 * b) + 0.000077 * np.sin(2 * b)
    return SOLAR_CONSTANT * r


def airmass(apparent_zenith: ArrayLike, altitude_m: float = 0.0) -> NDArray[np.float64]:
    """Absolute air mass (Kasten & Young 1989, scaled by the pressure at ``altitude_m``);
    NaN with the sun below the horizon."""
    z = np.asarray(apparent_zenith, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        am = 1.0 / (np.cos(np.radians(z)) + 0.50572 * (6.07995 + (90.0 - z)) ** -1.6364)
    am = np.where(z < 90.0, am, np.nan)
    pressure = 100.0 * ((44331.514 - altitude_m) / 11880.516) ** (1 / 0.1902632)
    return am * pressure / 101325.0


@dataclass(frozen=True)
class ClearSky:
    """Irradiance arrays in W/m²: global and diffuse horizontal, beam normal."""

    ghi: NDArray[np.float64]
    dni: NDArray[np.float64]
    dhi: NDArray[np.float64]


def ineichen(apparent_zenith: ArrayLike, times: ArrayLike, linke: float = DEFAULT_LINKE,
             altitude_m: float = 0.0) -> ClearSky:
    """Clear-sky GHI, DNI, DHI for sun zenith angles (degrees) at unix seconds ``times``."""
    z = np.asarray(apparent_zenith, dtype=np.float64)
    dni_extra = extra_radiation(times)
    am = airmass(z, altitude_m)
    cos_z = np.maximum(np.cos(np.radians(z)), 0.0)
    fh1 = np.exp(-altitude_m / 8000.0)
    fh2 = np.exp(-altitude_m / 1250.0)
    cg1 = 5.09e-05 * altitude_m + 0.868
    cg2 = 3.92e-05 * altitude_m + 0.0387
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ghi = cg1 * dni_extra * cos_z * np.fmax(np.exp(-cg2 * am * (fh1 + fh2 * (linke - 1))), 0)
        b = 0.664 + 0.163 / fh1
        bnci = dni_extra * np.fmax(b * np.exp(-0.09 * am * (linke - 1)), 0)
        bnci_2 = ghi * np.fmin(np.fmax((1 - (0.1 - 0.2 * np.exp(-linke)) / (0.1 + 0.882 / fh1)) / cos_z, 0), 1e20)
        dni = np.minimum(bnci, bnci_2)
    ghi = np.nan_to_num(ghi)
    dni = np.nan_to_num(dni)
    dhi = np.maximum(ghi - dni * cos_z, 0.0)
    return ClearSky(ghi=ghi, dni=dni, dhi=dhi)


def tregenza_patches() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit vectors (east, north, up) to the centres of Tregenza's 145 sky patches, and
    their solid angles (steradians, summing to 2π)."""
    counts = [30, 30, 24, 24, 18, 12, 6]
    dirs, omega = [], []
    for band, n in enumerate(counts):
        a0, a1 = np.radians(12.0 * band), np.radians(12.0 * (band + 1))
        alt = (a0 + a1) / 2
        az = (np.arange(n) + 0.5) * 2 * np.pi / n
        dirs.append(np.stack([np.cos(alt) * np.sin(az), np.cos(alt) * np.cos(az), np.full(n, np.sin(alt))], -1))
        omega.append(np.full(n, 2 * np.pi * (np.sin(a1) - np.sin(a0)) / n))
    dirs.append(np.array([[0.0, 0.0, 1.0]]))
    omega.append(np.array([2 * np.pi * (1 - np.sin(np.radians(84.0)))]))
    return np.concatenate(dirs), np.concatenate(omega)
