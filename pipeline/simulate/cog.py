"""Write one band as a Cloud-Optimized GeoTIFF. The only simulator module importing rasterio.

GDAL's COG driver: 512 x 512 tiles, DEFLATE with horizontal differencing (PREDICTOR=2),
internal overviews (average for reflectance, nearest for SCL), nodata 0, and SPARSE_OK so
the tiles outside the painted site regions are not written at all (they read as nodata).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.crs import CRS

#: Creation options of the GDAL COG driver.
COG_OPTIONS: Final = {
    "compress": "DEFLATE",
    "predictor": 2,
    "blocksize": 512,
    "sparse_ok": True,
    "bigtiff": "NO",
}
#: One thread per process: the archive writer already runs one process per core.
GDAL_THREADS: Final = "1"


def write_cog(
    path: Path,
    data: NDArray[np.uint16] | NDArray[np.uint8],
    transform: Affine,
    *,
    epsg: int,
    categorical: bool = False,
) -> int:
    """Write a single-band COG and return its size in bytes.

    Args:
        path: Output file (``.tif``).
        data: ``(rows, cols)`` DN, 0 meaning nodata.
        transform: Pixel-to-map transform.
        epsg: CRS of the grid.
        categorical: Class data (SCL): overviews by nearest neighbour, not average.
    """
    resampling = "nearest" if categorical else "average"
    with (
        rasterio.Env(GDAL_NUM_THREADS=GDAL_THREADS),
        rasterio.open(
            path,
            "w",
            driver="COG",
            height=data.shape[0],
            width=data.shape[1],
            count=1,
            dtype=data.dtype.name,
            crs=CRS.from_epsg(epsg),
            transform=transform,
            nodata=0,
            overview_resampling=resampling,
            **COG_OPTIONS,
        ) as dst,
    ):
        dst.write(data, 1)
    return path.stat().st_size
