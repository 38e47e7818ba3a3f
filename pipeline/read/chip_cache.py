"""AOI chips cached on disk: small compressed GeoTIFFs keyed by AOI, scene and pixel origin.

Re-processing with a new detector version, rebuilding a reference or drawing quicklooks
then never downloads the same pixels twice. Layout under the cache root (by default
``data/chips/``)::

    <aoi id>/<aoi key>/<scene id>.<origin>.tif

The AOI key is a short hash of the AOI outline and of :data:`CHIP_FORMAT`, so editing an
AOI file, or changing how chips are read, never serves stale pixels. The origin
(:func:`pipeline.read.pixel_origin.scene_origin`) is the identity of the bytes the chip was
read from: the band hrefs without their signing query, the item's ``updated`` time, the
processing baseline, and for local archives each file's size and modification time. Two
providers' copies of one scene, or an archive simulated again into the same folder, are
therefore two chips, and one is never served for the other. Each file holds seven
float32 bands: the five reflectance bands, then SCL and ``valid`` (0/1), losslessly
compressed (ZSTD with the floating-point predictor), so reflectance (NaN included), SCL,
``valid``, the transform and the CRS round-trip exactly.

Files are written to a temporary name and renamed into place, so two processes filling the
cache at once, or a process killed mid-write, never leave a half-written chip. A file that
cannot be read is treated as a miss, removed and read again from the source.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.errors import RasterioError

from pipeline.geo.safe_paths import check_name, join_inside, safe_name
from pipeline.types import REFLECTANCE_BANDS, Aoi, Chip

log = logging.getLogger(__name__)

#: Bump when the chip reader (``pipeline.read.chips``: offsets, resampling, masks) changes the
#: pixels it returns, so that chips read by the old code are no longer found.
CHIP_FORMAT: Final = "chip-2"
#: Band order in a cached file.
CACHE_BANDS: Final = (*REFLECTANCE_BANDS, "scl", "valid")
#: GeoTIFF creation options: lossless, fast to write and read, 256-pixel tiles.
CREATION_OPTIONS: Final = {
    "tiled": True,
    "blockxsize": 256,
    "blockysize": 256,
    "compress": "zstd",
    "zstd_level": 1,
    "predictor": 3,
    "interleave": "band",
}
_TMP_PREFIX: Final = ".tmp-"


def aoi_key(aoi: Aoi) -> str:
    """Short hash of the AOI outline (WKB) and :data:`CHIP_FORMAT`."""
    digest = hashlib.sha256(CHIP_FORMAT.encode() + aoi.geometry.wkb)
    return digest.hexdigest()[:10]


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds."""

    root: Path
    """The cache folder."""
    files: int = 0
    """Cached chips."""
    bytes: int = 0
    """Their total size."""
    per_aoi: dict[str, tuple[int, int]] = field(default_factory=dict)
    """AOI id -> (files, bytes)."""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "root": str(self.root),
            "files": self.files,
            "bytes": self.bytes,
            "aois": {k: {"files": f, "bytes": b} for k, (f, b) in sorted(self.per_aoi.items())},
        }


class ChipCache:
    """A folder of cached chips; safe to share between threads and processes."""

    def __init__(self, root: Path | str) -> None:
        """Use ``root`` as the cache folder (created on the first write)."""
        self.root = Path(root)

    def path_for(self, scene_id: str, origin: str, aoi: Aoi) -> Path:
        """Where the chip of ``scene_id`` read from ``origin`` over ``aoi`` is (or would be).

        The scene id (STAC metadata: hostile) is mapped onto a safe file name; the AOI id
        must already be one, and the origin is checked to be one. The path never leaves
        :attr:`root`.

        Raises:
            UnsafePathError: the AOI id or the origin cannot be part of a file name.
        """
        stem = f"{safe_name(scene_id)}.{check_name(origin, what='pixel origin')}"
        return join_inside(self.root, aoi.id, aoi_key(aoi), f"{stem}.tif", what="AOI id")

    def get(self, scene_id: str, origin: str, aoi: Aoi) -> Chip | None:
        """The cached chip, or None on a miss.

        An unreadable file, or one whose tags name another scene, AOI or origin, counts as
        a miss and is removed.
        """
        path = self.path_for(scene_id, origin, aoi)
        if not path.is_file():
            return None
        try:
            chip, found = read_chip_file(path)
        except (RasterioError, OSError, ValueError, KeyError) as exc:
            log.warning("cached chip %s is unreadable (%s); reading it again", path, exc)
            path.unlink(missing_ok=True)
            return None
        if (chip.scene_id, chip.aoi_id, found) != (scene_id, aoi.id, origin):
            log.warning(
                "cached chip %s holds %s/%s from %s, not from %s; reading it again",
                path,
                chip.scene_id,
                chip.aoi_id,
                found,
                origin,
            )
            path.unlink(missing_ok=True)
            return None
        _touch(path)
        return chip

    def put(self, chip: Chip, origin: str, aoi: Aoi) -> Path:
        """Write ``chip``, read from ``origin``, atomically and return its path.

        Raises:
            OSError: the cache folder cannot be written.
        """
        path = self.path_for(chip.scene_id, origin, aoi)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".tif", dir=path.parent)
        os.close(handle)
        try:
            write_chip_file(chip, Path(tmp), origin=origin)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _files(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from (p for p in self.root.rglob("*.tif") if p.is_file())

    def stats(self) -> CacheStats:
        """Count the cached chips and their size, per AOI."""
        per_aoi: dict[str, tuple[int, int]] = {}
        for path in self._files():
            size = path.stat().st_size
            aoi_id = path.relative_to(self.root).parts[0]
            files, total = per_aoi.get(aoi_id, (0, 0))
            per_aoi[aoi_id] = (files + 1, total + size)
        return CacheStats(
            root=self.root,
            files=sum(f for f, _ in per_aoi.values()),
            bytes=sum(b for _, b in per_aoi.values()),
            per_aoi=per_aoi,
        )

    def prune(
        self, *, older_than_s: float | None = None, max_bytes: int | None = None
    ) -> tuple[int, int]:
        """Remove chips, least recently used first; return ``(files, bytes)`` removed.

        Args:
            older_than_s: remove chips not used for this many seconds.
            max_bytes: then remove the least recently used until the cache fits.
                With neither limit, everything is removed.
        """
        entries = sorted(
            ((p.stat().st_mtime, p.stat().st_size, p) for p in self._files()),
            key=lambda e: e[0],
        )
        now = time.time()
        total = sum(size for _, size, _ in entries)
        removed, freed = 0, 0
        for mtime, size, path in entries:
            everything = older_than_s is None and max_bytes is None
            too_old = older_than_s is not None and now - mtime > older_than_s
            too_big = max_bytes is not None and total - freed > max_bytes
            if everything or too_old or too_big:
                path.unlink(missing_ok=True)
                removed, freed = removed + 1, freed + size
        for tmp in list(self.root.rglob(f"{_TMP_PREFIX}*")) if self.root.is_dir() else []:
            if now - tmp.stat().st_mtime > 3600:  # left behind by a killed writer
                tmp.unlink(missing_ok=True)
        _remove_empty_dirs(self.root)
        return removed, freed


def write_chip_file(chip: Chip, path: Path, *, origin: str) -> None:
    """Write ``chip`` as a 7-band float32 GeoTIFF (see the module docstring), tagged with
    the ``origin`` of its pixels.

    Raises:
        RasterioError: GDAL cannot write the file.
    """
    rows, cols = chip.shape
    data = np.empty((len(CACHE_BANDS), rows, cols), dtype=np.float32)
    data[: len(REFLECTANCE_BANDS)] = chip.reflectance
    data[-2] = chip.scl
    data[-1] = chip.valid
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=len(CACHE_BANDS),
        dtype="float32",
        crs=CRS.from_epsg(chip.epsg),
        transform=chip.transform,
        **CREATION_OPTIONS,
    ) as dst:
        dst.write(data)
        dst.descriptions = CACHE_BANDS
        dst.update_tags(
            scene_id=chip.scene_id,
            aoi_id=chip.aoi_id,
            origin=origin,
            format=CHIP_FORMAT,
            epsg=str(chip.epsg),
        )


def read_chip_file(path: Path) -> tuple[Chip, str]:
    """Read a chip written by :func:`write_chip_file`, with the origin it is tagged with.

    Raises:
        RasterioError: the file is not a readable GeoTIFF.
        ValueError: it is not a cached chip of this format.
        KeyError: a tag is missing.
    """
    with rasterio.open(path) as src:
        tags = src.tags()
        if tags.get("format") != CHIP_FORMAT or src.count != len(CACHE_BANDS):
            raise ValueError(f"{path} is not a {CHIP_FORMAT} chip")
        data = src.read()
        transform = src.transform
        epsg = int(tags["epsg"])
        origin = tags["origin"]
    chip = Chip(
        scene_id=tags["scene_id"],
        aoi_id=tags["aoi_id"],
        reflectance=np.ascontiguousarray(data[: len(REFLECTANCE_BANDS)]),
        scl=data[-2].astype(np.uint8),
        valid=data[-1] != 0,
        transform=transform,
        epsg=epsg,
    )
    return chip, origin


def _touch(path: Path) -> None:
    """Mark a chip as used now (pruning removes the least recently used first)."""
    with contextlib.suppress(OSError):  # a read-only cache is still usable
        os.utime(path)


def _remove_empty_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):  # not empty
            folder.rmdir()
