"""LAS / LAZ point clouds (laspy, with lazrs for LAZ): points, classes, CRS.

A point cloud is not a city model: :func:`read_lidar` returns a :class:`PointCloud`
(float64 coordinates, ASPRS classes, the CRS). The CRS comes from the file's WKT or
GeoTIFF VLRs when it has them, else from ``crs=`` (the user's ``--crs``), else none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from ..core.errors import ReaderError

__all__ = ["PointCloud", "read_lidar", "ASPRS_CLASSES"]

# ASPRS LAS 1.4 standard classes (R15); codes above 18 are user-defined (AHN uses 26 for
# civil structures).
ASPRS_CLASSES = {
    0: "never classified", 1: "unassigned", 2: "ground", 3: "low vegetation", 4: "medium vegetation",
    5: "high vegetation", 6: "building", 7: "low noise", 8: "model key / reserved", 9: "water",
    10: "rail", 11: "road surface", 12: "overlap / reserved", 13: "wire guard", 14: "wire conductor",
    15: "transmission tower", 16: "wire connector", 17: "bridge deck", 18: "high noise",
}


@dataclass
class PointCloud:
    """Points of one LAS/LAZ file in its own CRS (or the one stated)."""

    source: str
    format: str  # "LAS" or "LAZ"
    version: str  # "1.2"
    point_format: int
    xyz: NDArray[np.float64]  # (N, 3)
    classification: NDArray[np.uint8] | None
    crs: CRS | None
    crs_in_file: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.xyz)

    def class_counts(self) -> dict[int, int]:
        """ASPRS class code → number of points (empty when the format has no classes)."""
        if self.classification is None:
            return {}
        codes, counts = np.unique(self.classification, return_counts=True)
        return {int(c): int(n) for c, n in zip(codes, counts, strict=True)}

    @property
    def classified(self) -> bool:
        """True when some point has a class other than 0 (never classified) and 1 (unassigned)."""
        return self.classification is not None and bool((self.classification > 1).any())

    def bbox(self) -> NDArray[np.float64]:
        """``(2, 3)`` min and max corner of the points."""
        if len(self.xyz) == 0:
            return np.zeros((2, 3))
        return np.stack([self.xyz.min(0), self.xyz.max(0)])


def read_lidar(path: str | Path, crs: CRS | None = None, **_: Any) -> PointCloud:
    """Read a LAS or LAZ file. ``crs`` overrides (or stands in for) the file's CRS."""
    import laspy

    p = Path(path)
    if not p.exists():
        raise ReaderError(p, "no such file")
    try:
        with laspy.open(str(p)) as reader:
            header = reader.header
            las = reader.read()
    except laspy.errors.LaspyException as exc:
        raise ReaderError(p, f"not a readable LAS/LAZ file ({exc})") from None
    except (OSError, ValueError, EOFError) as exc:
        raise ReaderError(p, f"not a readable LAS/LAZ file ({type(exc).__name__}: {exc})") from None
    file_crs = None
    try:
        file_crs = header.parse_crs()
    except Exception:  # a malformed WKT/GeoTIFF VLR: treated as no CRS
        file_crs = None
    xyz = np.column_stack([np.asarray(las.x, dtype=np.float64), np.asarray(las.y, dtype=np.float64),
                           np.asarray(las.z, dtype=np.float64)])
    names = set(las.point_format.dimension_names)
    classification = np.asarray(las.classification, dtype=np.uint8) if "classification" in names else None
    compressed = p.suffix.lower() == ".laz" or bool(getattr(header, "are_points_compressed", False))
    return PointCloud(
        source=str(p), format="LAZ" if compressed else "LAS",
        version=f"{header.version.major}.{header.version.minor}",
        point_format=int(header.point_format.id), xyz=xyz, classification=classification,
        crs=crs if crs is not None else file_crs, crs_in_file=file_crs is not None,
        metadata={"header_point_count": int(header.point_count),
                  "system_identifier": str(header.system_identifier).strip("\x00 "),
                  "generating_software": str(header.generating_software).strip("\x00 ")},
    )
