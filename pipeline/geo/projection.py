"""Geometry between coordinate systems: UTM zones, reprojection, areas. Pure (pyproj)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing ``(lon, lat)``."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=16)
def _transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(src_epsg), CRS.from_epsg(dst_epsg), always_xy=True)


def reproject(geometry: BaseGeometry, *, src_epsg: int = 4326, dst_epsg: int) -> BaseGeometry:
    """Reproject a shapely geometry between EPSG codes (x/y = lon/lat order)."""
    transformer = _transformer(src_epsg, dst_epsg)

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def area_km2(geometry: BaseGeometry) -> float:
    """Area of a WGS84 geometry in square kilometres, in its own UTM zone."""
    centroid = geometry.centroid
    utm = reproject(geometry, dst_epsg=utm_epsg(centroid.x, centroid.y))
    return float(utm.area) / 1e6
