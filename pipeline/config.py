"""One frozen Settings object, built at the entry point and passed down.

GDAL options live here as named constants, each with the reason it is set, so the
reader (``pipeline.read.chips``) never reads globals of its own.

Operators tune reads over slow or flaky links with environment variables, read when a
:class:`Settings` is built (a bad value is refused with
:class:`~pipeline.errors.InvalidSettingError`):

``RASONWATCH_HTTP_TIMEOUT_S``
    Seconds before one HTTP request is abandoned (``GDAL_HTTP_TIMEOUT``; default 30).
``RASONWATCH_HTTP_RETRIES``
    Retries of one HTTP request that failed transiently (``GDAL_HTTP_MAX_RETRY``; default 3).
``RASONWATCH_READ_RETRIES``
    Attempts per band read, each signing the href afresh (default 3).
``RASONWATCH_READ_THREADS``
    Bands read at once per scene (default 4).
``RASONWATCH_FETCH_TILES``
    1 (default): HTTP(S) COGs are read by fetching their header and tiles directly
    (:mod:`pipeline.read.tile_fetch`); 0: every file goes through GDAL's ``/vsicurl/``.

``AWS_*`` (credentials, ``AWS_PROFILE``, ``AWS_S3_ENDPOINT``...) are read by GDAL itself for
``s3://`` hrefs; :attr:`Settings.aws_env` records which are set (never a secret's value) so
that a requester-pays read without credentials is refused before anything is opened.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from pipeline.errors import InvalidSettingError

PACKAGE_ROOT: Final = Path(__file__).resolve().parent
PROJECT_ROOT: Final = PACKAGE_ROOT.parent
DEFAULT_AOI_DIR: Final = PROJECT_ROOT / "aoi"
DEFAULT_DATA_DIR: Final = Path("data")
#: The ``--source`` used when none is given: Earth Search v1.
DEFAULT_SOURCE: Final = "earth-search"

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

#: Environment variables of GDAL's ``/vsis3/`` that decide how an ``s3://`` href is read;
#: :class:`Settings` keeps their values (none is a secret).
AWS_SETTING_VARS: Final = (
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_S3_ENDPOINT",
    "AWS_HTTPS",
    "AWS_VIRTUAL_HOSTING",
)
#: Credential variables GDAL reads from the environment itself; :class:`Settings` keeps only
#: whether each is set, never its value.
AWS_CREDENTIAL_VARS: Final = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def aws_env_from_environment() -> MappingProxyType[str, str]:
    """The S3 access the environment gives: each of :data:`AWS_SETTING_VARS` that is set,
    with its value, and each of :data:`AWS_CREDENTIAL_VARS` that is set, as ``"set"``."""
    found = {k: os.environ[k].strip() for k in AWS_SETTING_VARS if os.environ.get(k, "").strip()}
    found.update({k: "set" for k in AWS_CREDENTIAL_VARS if os.environ.get(k, "").strip()})
    return MappingProxyType(found)


#: The bands every chip carries, in this order, as Earth Search v1 asset keys.
BANDS: Final = ("blue", "green", "red", "nir", "swir16", "scl")
#: Bands whose native grid is 20 m and which are resampled onto the 10 m grid.
BANDS_20M: Final = frozenset({"swir16", "scl"})


def env_number(name: str, default: float, *, minimum: float, integer: bool = False) -> float:
    """The number in environment variable ``name``, or ``default`` when it is unset or empty.

    Raises:
        InvalidSettingError: not a (whole, if ``integer``) number of at least ``minimum``.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise InvalidSettingError(f"{name}={raw[:40]!r} is not {kind}") from None
    if not math.isfinite(value) or value < minimum:
        raise InvalidSettingError(f"{name}={raw[:40]!r} must be at least {minimum:g}")
    return value


def gdal_env_from_environment() -> MappingProxyType[str, str]:
    """:data:`GDAL_ENV` with the HTTP timeout and retries an operator set, if any."""
    options = dict(GDAL_ENV)
    timeout = env_number(
        "RASONWATCH_HTTP_TIMEOUT_S", float(options["GDAL_HTTP_TIMEOUT"]), minimum=1
    )
    retries = env_number(
        "RASONWATCH_HTTP_RETRIES", int(options["GDAL_HTTP_MAX_RETRY"]), minimum=0, integer=True
    )
    options["GDAL_HTTP_TIMEOUT"] = f"{timeout:g}"
    options["GDAL_HTTP_MAX_RETRY"] = str(int(retries))
    return MappingProxyType(options)


@dataclass(frozen=True)
class Settings:
    """Run-wide settings, built once at the entry point."""

    aoi_dir: Path = DEFAULT_AOI_DIR
    """Folder of ``*.geojson`` AOIs that ``--aoi ID`` resolves against."""
    data_dir: Path = DEFAULT_DATA_DIR
    """Default output folder (database, chips cache, reports, demo archive)."""
    read_retries: int = field(
        default_factory=lambda: int(
            env_number("RASONWATCH_READ_RETRIES", 3, minimum=1, integer=True)
        )
    )
    """Attempts per band read; each retry signs afresh and opens a fresh dataset handle."""
    retry_backoff_s: float = 0.5
    """First back-off between read attempts; doubles each time."""
    read_threads: int = field(
        default_factory=lambda: int(
            env_number("RASONWATCH_READ_THREADS", 4, minimum=1, integer=True)
        )
    )
    """Bands read concurrently per scene (I/O bound)."""
    gdal_env: MappingProxyType[str, str] = field(default_factory=gdal_env_from_environment)
    """GDAL configuration options applied around every read."""
    fetch_tiles: bool = field(
        default_factory=lambda: bool(
            env_number("RASONWATCH_FETCH_TILES", 1, minimum=0, integer=True)
        )
    )
    """Read HTTP(S) COGs by fetching the header and the tiles under the windows ourselves
    (:mod:`pipeline.read.tile_fetch`, no ``HEAD``, one request per run of tiles) and letting GDAL
    decode them; False reads every file through GDAL's ``/vsicurl/``."""
    aws_env: MappingProxyType[str, str] = field(default_factory=aws_env_from_environment)
    """What the environment says about S3 access (:func:`aws_env_from_environment`): the
    reader checks it before opening a requester-pays ``s3://`` href
    (:mod:`pipeline.read.s3_access`); GDAL takes the credentials from the environment."""
