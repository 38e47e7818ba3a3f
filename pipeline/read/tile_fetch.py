"""Fetch only the bytes a windowed read needs from an HTTP(S) COG, then let GDAL decode them.

GDAL's ``/vsicurl/`` costs at least three round trips before the first pixel: a ``HEAD`` (the
file size), the header, then the tiles of each window. Over a slow link the round trips are
the cost, so HTTP(S) band reads take a shorter path:

1. one ranged ``GET`` of the first ``GDAL_INGESTED_BYTES_AT_OPEN`` bytes, which carries the
   header and, in ``Content-Range``, the file size (no ``HEAD``; a 20 m ``SCL`` file often
   arrives whole);
2. the tile layout and the georeferencing are parsed from those bytes
   (:mod:`pipeline.read.tiff_layout`), the tiles under every window are listed, and runs of
   neighbouring tiles are fetched with one ranged ``GET`` each (a gap of up to
   :data:`MERGE_GAP_BYTES` is read through rather than paying a round trip);
3. GDAL opens a ``/vsisparse/`` file assembled in memory from those ranges and decodes
   exactly as it would from the original: same driver, same bytes. Every byte the reader
   did not fetch belongs to a region whose file does not exist, so a read that strays
   outside the fetched ranges *fails* rather than reading zeros.

After opening, the georeferencing GDAL reports must equal the one parsed here (a
PixelIsPoint file included: both move its origin half a pixel, see
:mod:`pipeline.read.tiff_layout`); if it does not, or the file is not a tiled, compressed, north-up
GeoTIFF, :class:`FallBackError` is raised and the caller reads the file through ``/vsicurl/``
as before. A file whose header lists a tile past its last byte (a truncated upload) is
refused with :class:`TruncatedCogError`: GDAL cannot decode that tile either.

Reads go through a :class:`requests.Session` per thread (keep-alive; proxies and CA bundles
from the environment); HTTP errors surface as ``OSError("HTTP response code: N")`` so that
:func:`pipeline.read.retry.classify` decides, as for GDAL's errors, what is retried.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Final, TypeVar

import rasterio
import requests
from rasterio.io import DatasetReader, MemoryFile
from rasterio.windows import Window

from pipeline.config import Settings
from pipeline.errors import ReadError
from pipeline.geo.redaction import redact
from pipeline.read.grid import TARGET_RESOLUTION_M, band_window, snap_grid
from pipeline.read.retry import classify
from pipeline.read.tiff_layout import (
    HeaderIncompleteError,
    TileLayout,
    UnsupportedLayoutError,
    parse_layout,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Bounds = tuple[float, float, float, float]

#: Tiles closer than this in the file are fetched in one request, gap included.
MERGE_GAP_BYTES: Final = 16 * 1024
#: Bytes fetched around each run of tiles: GDAL checks the 4-byte size leader before a
#: COG tile and the 4-byte trailer after it.
TILE_MARGIN_BYTES: Final = 8
#: Source pixels added around a window that is resampled (20 m bands), more than the
#: bilinear kernel GDAL's warper reaches beyond the output grid.
RESAMPLE_MARGIN_PX: Final = 3
_COMPRESSION_NONE: Final = 1
_sessions = threading.local()


class FallBackError(Exception):
    """This file cannot take the short path; read it through ``/vsicurl/`` instead."""


class TruncatedCogError(ReadError):
    """The file ends before a tile its header lists: no reader can decode that tile."""


def _config_true(value: str) -> bool:
    """A GDAL boolean configuration value, read as GDAL's ``CPLTestBool`` does."""
    return value.strip().upper() not in ("NO", "FALSE", "OFF", "0")


def point_geo_ignore(settings: Settings) -> bool:
    """Whether GDAL will ignore PixelIsPoint (``GTIFF_POINT_GEO_IGNORE``) for these reads."""
    value = settings.gdal_env.get("GTIFF_POINT_GEO_IGNORE")
    if value is None:
        value = os.environ.get("GTIFF_POINT_GEO_IGNORE", "NO")
    return _config_true(str(value))


def _session() -> requests.Session:
    session: requests.Session | None = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        _sessions.session = session
    return session


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and request-level retries, from the same GDAL options ``/vsicurl/`` obeys."""

    timeout_s: float = 30.0
    """``GDAL_HTTP_TIMEOUT``: seconds before a request is abandoned."""
    max_retry: int = 3
    """``GDAL_HTTP_MAX_RETRY``: retries of a request that failed transiently."""
    retry_delay_s: float = 0.5
    """``GDAL_HTTP_RETRY_DELAY``: first wait before a retry; doubles each time."""

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpPolicy:
        """The policy ``settings.gdal_env`` describes."""
        env = settings.gdal_env
        return cls(
            timeout_s=float(env.get("GDAL_HTTP_TIMEOUT", cls.timeout_s)),
            max_retry=int(env.get("GDAL_HTTP_MAX_RETRY", cls.max_retry)),
            retry_delay_s=float(env.get("GDAL_HTTP_RETRY_DELAY", cls.retry_delay_s)),
        )


def _get_once(url: str, start: int, end: int, timeout: float) -> tuple[bytes, int]:
    response = _session().get(url, headers={"Range": f"bytes={start}-{end}"}, timeout=timeout)
    if response.status_code == 200:
        body = response.content
        return body[start : end + 1], len(body)
    if response.status_code != 206:
        raise OSError(f"HTTP response code: {response.status_code} for {url}")
    content_range = response.headers.get("Content-Range", "")
    first, _, total = content_range.removeprefix("bytes ").partition("/")
    body = response.content
    if not first.startswith(f"{start}-") or not total.isdigit():
        raise OSError(f"unexpected Content-Range {content_range!r} from {url}")
    expected = min(end, int(total) - 1) - start + 1
    if len(body) != expected:
        raise OSError(f"truncated body: got {len(body)} bytes, expected {expected} from {url}")
    return body, int(total)


def fetch_range(url: str, start: int, end: int, *, policy: HttpPolicy) -> tuple[bytes, int]:
    """Bytes ``start..end`` (inclusive) of ``url`` and the file's total size.

    A request that fails transiently (5xx, 408, 425, 429, a reset, a timeout, a short body)
    is repeated up to ``policy.max_retry`` times. A server that ignores ``Range`` and
    answers 200 with the whole file is served from it.

    Raises:
        OSError: the last failure: ``HTTP response code: N``, a connection failure, a
            timeout or a body shorter than announced.
    """
    delay = policy.retry_delay_s
    for retry in range(policy.max_retry + 1):
        try:
            return _get_once(url, start, end, policy.timeout_s)
        except OSError as exc:
            transient, reason = classify(exc)
            if not transient or retry == policy.max_retry:
                raise
            log.debug("GET %s failed (%s); retry %d", redact(url), reason, retry + 1)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _source_window(layout: TileLayout, bounds: Bounds) -> Window:
    """The pixels of ``layout`` that the chip of ``bounds`` reads, margin included."""
    t = layout.transform
    grid = snap_grid(bounds, origin=(t.c, t.f), res=TARGET_RESOLUTION_M)
    if math.isclose(t.a, TARGET_RESOLUTION_M) and math.isclose(-t.e, TARGET_RESOLUTION_M):
        return band_window(grid, t)
    west, south, east, north = grid.bounds
    col0 = math.floor((west - t.c) / t.a) - RESAMPLE_MARGIN_PX
    col1 = math.ceil((east - t.c) / t.a) + RESAMPLE_MARGIN_PX
    row0 = math.floor((t.f - north) / -t.e) - RESAMPLE_MARGIN_PX
    row1 = math.ceil((t.f - south) / -t.e) + RESAMPLE_MARGIN_PX
    return Window(col0, row0, col1 - col0, row1 - row0)


def tile_ranges(
    layout: TileLayout, windows: Sequence[Window], *, have: int, size: int
) -> list[tuple[int, int]]:
    """Inclusive byte ranges covering every stored tile under ``windows``, merged.

    Args:
        layout: the file's tile layout.
        windows: pixel windows of the full-resolution image (may overhang it).
        have: bytes already held from the start of the file (the header fetch).
        size: the file's size in bytes.
    """
    spans = sorted(
        {
            span
            for w in windows
            for span in layout.tile_spans(
                int(w.col_off), int(w.row_off), int(w.width), int(w.height)
            )
        }
    )
    merged: list[list[int]] = []
    for offset, length in spans:
        start = max(offset - TILE_MARGIN_BYTES, have)
        stop = min(offset + length + TILE_MARGIN_BYTES, size)
        if stop <= start:
            continue
        if merged and start - merged[-1][1] <= MERGE_GAP_BYTES:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [(start, stop - 1) for start, stop in merged]


def _region(name: str, offset: int, length: int) -> str:
    return (
        f'<SubfileRegion><Filename relative="0">{name}</Filename>'
        f"<DestinationOffset>{offset}</DestinationOffset><SourceOffset>0</SourceOffset>"
        f"<RegionLength>{length}</RegionLength></SubfileRegion>"
    )


@contextmanager
def sparse_dataset(parts: Sequence[tuple[int, bytes]], size: int) -> Iterator[DatasetReader]:
    """GDAL dataset of a ``size``-byte file of which only ``parts`` (offset, bytes) are known.

    Reads outside ``parts`` fail: the rest of the file maps to a file that does not exist.
    """
    with ExitStack() as stack:
        names = [stack.enter_context(MemoryFile(data)).name for _, data in parts]
        regions = [_region(n, o, len(d)) for n, (o, d) in zip(names, parts, strict=True)]
        regions.append(_region(f"/vsimem/absent-{uuid.uuid4().hex}", 0, size))
        xml = f"<VSISparseFile><Length>{size}</Length>{''.join(regions)}</VSISparseFile>"
        index = stack.enter_context(MemoryFile(xml.encode(), ext=".xml"))
        yield stack.enter_context(rasterio.open(f"/vsisparse/{index.name}"))


def read_windows(
    url: str,
    aoi_bounds: Sequence[Bounds],
    *,
    settings: Settings,
    read: Callable[[DatasetReader], T],
) -> T:
    """Fetch the header and the tiles under ``aoi_bounds`` of ``url``, then ``read`` them.

    Args:
        url: signed HTTP(S) URL of the COG.
        aoi_bounds: each AOI's bounds in the file's CRS.
        settings: ingest size and timeout (``settings.gdal_env``) and GDAL options.
        read: called with the assembled dataset; its result is returned.

    Raises:
        FallBackError: the file is not one this path reads (the caller uses ``/vsicurl/``).
        TruncatedCogError: a tile under a window lies past the end of the file.
        OSError: the server failed (``HTTP response code: N``, timeouts, truncation).
    """
    policy = HttpPolicy.from_settings(settings)
    ingest = int(settings.gdal_env.get("GDAL_INGESTED_BYTES_AT_OPEN", "65536"))
    header, size = fetch_range(url, 0, ingest - 1, policy=policy)
    ignore_point = point_geo_ignore(settings)
    try:
        try:
            layout = parse_layout(header, point_geo_ignore=ignore_point)
        except HeaderIncompleteError as short:
            more, size = fetch_range(url, len(header), short.needed * 2, policy=policy)
            header += more
            layout = parse_layout(header, point_geo_ignore=ignore_point)
    except (UnsupportedLayoutError, HeaderIncompleteError) as exc:
        raise FallBackError(str(exc)) from None
    if layout.compression == _COMPRESSION_NONE:
        raise FallBackError("uncompressed tiles")  # a stray read would not fail loudly
    windows = [_source_window(layout, bounds) for bounds in aoi_bounds]
    for w in windows:
        spans = layout.tile_spans(int(w.col_off), int(w.row_off), int(w.width), int(w.height))
        for offset, length in spans:
            if offset + length > size:
                raise TruncatedCogError(
                    f"cannot read {redact(url)}: its header puts a tile at bytes "
                    f"{offset}-{offset + length - 1}, past the end of the {size}-byte file "
                    "(truncated?)"
                )
    parts = [(0, header)]
    for start, end in tile_ranges(layout, windows, have=len(header), size=size):
        body, _ = fetch_range(url, start, end, policy=policy)
        parts.append((start, body))
    with rasterio.Env(**settings.gdal_env), sparse_dataset(parts, size) as src:
        if not src.transform.almost_equals(layout.transform, precision=1e-6):
            raise FallBackError(
                f"GDAL places the raster at {tuple(src.transform)[:6]}, "
                f"the tags at {tuple(layout.transform)[:6]}"
            )
        return read(src)
