"""One frozen Settings object, built at the entry point and passed down.

GDAL options live here as named constants, each with the reason it is set, so the
reader (``pipeline.cog``) never reads globals of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

PACKAGE_ROOT: Final = Path(__file__).resolve().parent
PROJECT_ROOT: Final = PACKAGE_ROOT.parent
DEFAULT_AOI_DIR: Final = PROJECT_ROOT / "aoi"
DEFAULT_DATA_DIR: Final = Path("data")

#: Do not list the "directory" of a remote COG on open: a LIST or a 404 storm per file
#: costs one round trip each, and COGs carry everything in their header.
GDAL_DISABLE_READDIR_ON_OPEN: Final = "EMPTY_DIR"
#: Merge adjacent tile byte ranges into one HTTP request (fewer round trips per window).
GDAL_HTTP_MERGE_CONSECUTIVE_RANGES: Final = "YES"
#: Multiplex requests over one HTTP/2 connection where the server speaks it.
GDAL_HTTP_MULTIPLEX: Final = "YES"
#: Cache blocks already read, so overlapping windows and re-reads cost nothing.
VSI_CACHE: Final = "TRUE"
#: Bytes fetched with the first request: a Sentinel-2 COG header (IFDs and tile
#: offsets for every overview) fits in 64 KiB, so one request opens the file.
GDAL_INGESTED_BYTES_AT_OPEN: Final = "65536"
#: GDAL-level retries of 429/5xx responses before we see an error at all.
GDAL_HTTP_MAX_RETRY: Final = "3"
#: Seconds between GDAL-level retries (GDAL doubles this on each attempt).
GDAL_HTTP_RETRY_DELAY: Final = "0.5"
#: Only these extensions are treated as rasters by /vsicurl/ directory probing.
CPL_VSIL_CURL_ALLOWED_EXTENSIONS: Final = ".tif,.tiff,.TIF,.jp2,.JP2"
#: A failed open must not be served from GDAL's cache when we retry with a fresh handle.
GDAL_HTTP_TIMEOUT: Final = "30"

GDAL_ENV: Final = MappingProxyType(
    {
        "GDAL_DISABLE_READDIR_ON_OPEN": GDAL_DISABLE_READDIR_ON_OPEN,
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": GDAL_HTTP_MERGE_CONSECUTIVE_RANGES,
        "GDAL_HTTP_MULTIPLEX": GDAL_HTTP_MULTIPLEX,
        "VSI_CACHE": VSI_CACHE,
        "GDAL_INGESTED_BYTES_AT_OPEN": GDAL_INGESTED_BYTES_AT_OPEN,
        "GDAL_HTTP_MAX_RETRY": GDAL_HTTP_MAX_RETRY,
        "GDAL_HTTP_RETRY_DELAY": GDAL_HTTP_RETRY_DELAY,
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": CPL_VSIL_CURL_ALLOWED_EXTENSIONS,
        "GDAL_HTTP_TIMEOUT": GDAL_HTTP_TIMEOUT,
    }
)

#: The bands every chip carries, in this order, as Earth Search v1 asset keys.
BANDS: Final = ("blue", "green", "red", "nir", "swir16", "scl")
#: Bands whose native grid is 20 m and which are resampled onto the 10 m grid.
BANDS_20M: Final = frozenset({"swir16", "scl"})


@dataclass(frozen=True)
class Settings:
    """Run-wide settings, built once at the entry point."""

    aoi_dir: Path = DEFAULT_AOI_DIR
    """Folder of ``*.geojson`` AOIs that ``--aoi ID`` resolves against."""
    data_dir: Path = DEFAULT_DATA_DIR
    """Default output folder (database, chips cache, reports, demo archive)."""
    read_retries: int = 3
    """Attempts per band read; each retry opens a fresh dataset handle."""
    retry_backoff_s: float = 0.5
    """First back-off between read attempts; doubles each time."""
    read_threads: int = 4
    """Bands read concurrently per scene (I/O bound)."""
    gdal_env: MappingProxyType[str, str] = field(default_factory=lambda: GDAL_ENV)
    """GDAL configuration options applied around every read."""
    fetch_tiles: bool = True
    """Read HTTP(S) COGs by fetching the header and the tiles under the windows ourselves
    (:mod:`pipeline.cog_fetch`, no ``HEAD``, one request per run of tiles) and letting GDAL
    decode them; False reads every file through GDAL's ``/vsicurl/``."""
