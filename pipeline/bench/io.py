"""``rasonwatch bench io``: our windowed reader against ``odc.stac.load``, over slow HTTP.

The archive folder (what ``rasonwatch simulate`` writes) is served on 127.0.0.1 by
:class:`~pipeline.bench.range_server.LatencyRangeServer`, which sleeps ``latency_ms`` before
answering every request and counts requests and body bytes per *lane* (the first URL
segment). Both loaders read the same AOI windows (every AOI in ``aoi/``) of the same bands
(``blue, green, red, nir, swir16, scl``) from the same ``scenes`` scenes (the earliest that
cover every AOI), onto the same grid (the scene's UTM CRS, 10 m, the AOI's bounding box).

How the race is made fair
    * **Same work.** Same scenes and bands, and the same output grid: odc-stac is handed the
      exact ``GeoBox`` of our chips (EPSG of the tile, 10 m, the AOI's bounding box in that
      CRS snapped outward to the tile's lattice), so neither loader reads a wider window.
      ``scl`` by nearest neighbour and ``swir16`` bilinearly for both (odc-stac's
      ``resampling=``). The output shapes are compared and reported (``shapes_match``).
    * **Same concurrency.** ``threads`` threads for each loader: odc-stac gets
      ``pool=threads``; ours runs the scenes on a pool of ``threads`` workers with
      ``Settings(read_threads=1)``, each with one request in flight at a time (GDAL, under
      odc-stac, may have several in flight per thread when a window spans tile rows).
      odc-stac is called once per AOI (all scenes in one call; one ``GeoBox`` per call is
      how it is meant to be used); ours reads every AOI of a scene in one call
      (:func:`~pipeline.read.chips.read_chips`: each band file's header fetched once).
    * **Same GDAL options, different HTTP.** Both decode with GDAL under
      :data:`pipeline.config.GDAL_ENV`: odc-stac through ``odc.stac.configure_rio(**GDAL_ENV)``
      (applied in its worker threads) plus a ``rasterio.Env`` around the call; ours through
      ``Settings.gdal_env`` as in production. Where the bytes come from differs, and that is
      the point of the race: odc-stac reads through ``/vsicurl/`` (a ``HEAD``, the header,
      then the tiles of each window), ours fetches the header and the tiles under all the
      scene's windows itself (:mod:`pipeline.read.tile_fetch`: no ``HEAD``, one request per run of
      tiles) and hands them to GDAL. ``detail.ours_vsicurl`` is our reader forced through
      ``/vsicurl/`` (``Settings(fetch_tiles=False)``), to show what each part buys.
    * **Warm start for both.** Each loader runs one untimed pass first (imports, thread pools,
      PROJ/odc-geo caches, HTTP keep-alive connections), on its own warm-up lane. The timed
      pass uses a *different* lane, i.e. different URLs, so GDAL's ``/vsicurl/`` block and
      header caches cannot serve it: both loaders pay for every byte they need, and the
      server sees it.
    * **Order.** ours, odc-stac, then ours through ``/vsicurl/``; the server and the machine
      are otherwise idle. Timings are wall clock (``time.perf_counter``) around each pass.

The floor
    ``bytes_min`` sums, per file, the COG header once plus every tile under any window read
    from it (:mod:`pipeline.bench.cog_blocks`); 20 m bands resampled bilinearly get one
    native pixel of margin, which bilinear interpolation at the chip edge needs.
    ``bytes_ratio`` is our bytes over that floor; the odc-stac figures are in ``detail``.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import rasterio
from rasterio.windows import Window, from_bounds

from pipeline.bench.cog_blocks import read_layout
from pipeline.bench.range_server import LatencyRangeServer
from pipeline.config import BANDS, BANDS_20M, GDAL_ENV, Settings
from pipeline.errors import OffsetWarning, RasonWatchError
from pipeline.geo.aoi import load_aois
from pipeline.geo.projection import reproject
from pipeline.read.chips import TARGET_RESOLUTION_M, ChipGrid, read_chips, snap_grid
from pipeline.sources import open_source
from pipeline.sources.local import iter_items
from pipeline.types import Aoi, Scene

#: Resampling odc-stac uses per band, matching :func:`pipeline.read.chips.read_chip`.
ODC_RESAMPLING: Final = {"swir16": "bilinear", "scl": "nearest", "*": "nearest"}
_EVER: Final = (date(1900, 1, 1), date(2100, 1, 1))


class BenchSetupError(RasonWatchError, ValueError):
    """The archive cannot support the requested race (too few scenes, odc-stac missing)."""


@dataclass(frozen=True)
class LoaderRun:
    """One timed pass of one loader, as the server saw it."""

    seconds: float
    """Wall time of the timed pass."""
    bytes_read: int
    """Body bytes the server sent during the timed pass."""
    requests: int
    """Requests the server received during the timed pass."""
    shapes: tuple[tuple[int, int], ...]
    """``(rows, cols)`` of each AOI's output grid, in AOI order."""

    def as_dict(self, bytes_min: int) -> dict[str, Any]:
        """JSON-ready figures, with the byte ratio against ``bytes_min``."""
        return {
            "seconds": round(self.seconds, 3),
            "bytes_read": self.bytes_read,
            "requests": self.requests,
            "bytes_ratio": round(self.bytes_read / bytes_min, 3),
        }


def pick_scenes(archive: Path, aois: Sequence[Aoi], count: int) -> list[Scene]:
    """The ``count`` earliest scenes of ``archive`` that every AOI intersects.

    Raises:
        BenchSetupError: fewer than ``count`` such scenes.
        SourceError: the archive cannot be read.
    """
    source = open_source(str(archive), Settings())
    per_aoi = [{s.id: s for s in source.search(aoi, *_EVER)} for aoi in aois]
    common = set.intersection(*(set(found) for found in per_aoi))
    scenes = sorted((per_aoi[0][i] for i in common), key=lambda s: s.datetime)
    if len(scenes) < count:
        raise BenchSetupError(
            f"{archive} has {len(scenes)} scenes over all of {', '.join(a.id for a in aois)}; "
            f"the race needs {count} (pass a smaller --scenes or simulate a longer archive)"
        )
    return scenes[:count]


def aoi_grid(aoi: Aoi, epsg: int, *, origin: tuple[float, float]) -> ChipGrid:
    """The 10 m grid :func:`read_chip` puts ``aoi`` on, in a band whose corner is ``origin``."""
    west, south, east, north = reproject(aoi.geometry, dst_epsg=epsg).bounds
    return snap_grid(
        (float(west), float(south), float(east), float(north)),
        origin=origin,
        res=TARGET_RESOLUTION_M,
    )


def band_windows(scene: Scene, aois: Sequence[Aoi], band: str) -> list[Window]:
    """The native-pixel windows of ``band`` that the chips of ``aois`` need."""
    path = Path(scene.assets[band].href)
    with rasterio.open(path) as src:
        t = src.transform
    windows = []
    for aoi in aois:
        grid = aoi_grid(aoi, scene.epsg, origin=(t.c, t.f))
        window = from_bounds(*grid.bounds, transform=t)
        if band in BANDS_20M and band != "scl":  # bilinear needs a neighbour beyond the edge
            window = Window(
                window.col_off - 1, window.row_off - 1, window.width + 2, window.height + 2
            )
        windows.append(window)
    return windows


def bytes_floor(scenes: Sequence[Scene], aois: Sequence[Aoi]) -> int:
    """Header plus intersecting tiles of every band file of ``scenes`` (each tile once)."""
    total = 0
    for scene in scenes:
        for band in BANDS:
            layout = read_layout(Path(scene.assets[band].href))
            total += layout.min_bytes(band_windows(scene, aois, band))
    return total


def _signer(server: LatencyRangeServer, root: Path, lane: str) -> Callable[[str], str]:
    def sign(href: str) -> str:
        return server.href(lane, Path(href).resolve().relative_to(root).as_posix())

    return sign


def run_ours(
    scenes: Sequence[Scene],
    aois: Sequence[Aoi],
    sign: Callable[[str], str],
    threads: int,
    *,
    fetch_tiles: bool = True,
) -> list[tuple[int, int]]:
    """Every scene's AOI chips with :func:`read_chips` on ``threads`` workers; AOI shapes.

    ``fetch_tiles=False`` reads through GDAL's ``/vsicurl/`` instead of the short path.
    """
    settings = Settings(read_threads=1, fetch_tiles=fetch_tiles)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        chips = [
            chip
            for per_scene in pool.map(
                lambda scene: read_chips(scene, aois, settings=settings, sign=sign), scenes
            )
            for chip in per_scene
        ]
    by_aoi = {chip.aoi_id: chip.valid.shape for chip in chips}
    return [(int(by_aoi[a.id][0]), int(by_aoi[a.id][1])) for a in aois]


def stac_items(archive: Path, ids: set[str], sign: Callable[[str], str]) -> list[Any]:
    """pystac Items for ``ids`` with every asset href rewritten by ``sign``."""
    import pystac

    items = []
    for item in iter_items(archive):
        if item.get("id") not in ids:
            continue
        doc = dict(item)
        doc["assets"] = {k: {**a, "href": sign(str(a["href"]))} for k, a in item["assets"].items()}
        doc["links"] = []
        items.append(pystac.Item.from_dict(doc, preserve_dict=False))
    return sorted(items, key=lambda i: i.datetime)


def chip_grids(scene: Scene, aois: Sequence[Aoi]) -> list[ChipGrid]:
    """The 10 m grid :func:`read_chip` puts each AOI on in ``scene`` (blue band's lattice)."""
    with rasterio.open(Path(scene.assets[BANDS[0]].href)) as src:
        t = src.transform
    return [aoi_grid(aoi, scene.epsg, origin=(t.c, t.f)) for aoi in aois]


def run_odc(
    items: Sequence[Any], grids: Sequence[ChipGrid], epsg: int, threads: int
) -> list[tuple[int, int]]:
    """``odc.stac.load`` of every AOI's chip grid over ``items``; the output shapes.

    odc-stac is given the exact grid of our chips (CRS, 10 m, the AOI's bounding box
    snapped outward to the tile's lattice), so both loaders produce the same pixels.
    """
    import odc.stac
    from odc.geo.geobox import GeoBox

    shapes = []
    with rasterio.Env(**GDAL_ENV):
        for grid in grids:
            geobox = GeoBox(grid.shape, grid.transform, f"EPSG:{epsg}")
            ds = odc.stac.load(
                items, bands=list(BANDS), geobox=geobox, resampling=ODC_RESAMPLING, pool=threads
            )
            shapes.append((int(ds.sizes["y"]), int(ds.sizes["x"])))
    return shapes


def _timed(server: LatencyRangeServer, lane: str, run: Callable[[str], Sequence[Any]]) -> LoaderRun:
    start = time.perf_counter()
    shapes = run(lane)
    seconds = time.perf_counter() - start
    stats = server.lane(lane)
    return LoaderRun(seconds, stats.bytes_sent, stats.requests, tuple(tuple(s) for s in shapes))


def run_io_bench(
    archive: Path, *, latency_ms: float = 30, scenes: int = 20, threads: int = 4
) -> dict[str, Any]:
    """Race :func:`~pipeline.read.chips.read_chips` against ``odc.stac.load`` over slow HTTP.

    Args:
        archive: folder written by ``rasonwatch simulate`` (``items.ndjson`` + COGs).
        latency_ms: injected delay before the server answers each request.
        scenes: scenes to read (the earliest covering every AOI in ``aoi/``).
        threads: band reads in flight at once, for each loader.

    Returns:
        ``ours_s, odc_stac_s, ratio, bytes_read, bytes_min, bytes_ratio, requests, scenes``
        (ours; ``ratio`` is ours/odc-stac wall time) and ``detail`` per loader.

    Raises:
        BenchSetupError: odc-stac is not installed, or too few scenes.
        SourceError: the archive cannot be read.
        ReadError: our loader fails to read a band.
    """
    try:
        import odc.stac
    except ImportError:
        raise BenchSetupError("bench io needs odc-stac: pip install odc-stac") from None
    if threads < 1 or scenes < 1:
        raise BenchSetupError(f"threads and scenes must be >= 1 (got {threads}, {scenes})")
    root = Path(archive).resolve()
    aois = load_aois(Settings().aoi_dir)
    chosen = pick_scenes(root, aois, scenes)
    epsgs = {s.epsg for s in chosen}
    if len(epsgs) != 1:
        raise BenchSetupError(f"the chosen scenes span several CRSs {sorted(epsgs)}")
    epsg = epsgs.pop()
    rio_options: dict[str, Any] = dict(GDAL_ENV)
    odc.stac.configure_rio(cloud_defaults=False, **rio_options)
    ids = {s.id for s in chosen}
    grids = chip_grids(chosen[0], aois)
    with LatencyRangeServer(root, latency_s=latency_ms / 1000) as server, warnings.catch_warnings():
        warnings.simplefilter("ignore", OffsetWarning)

        def ours(lane: str) -> list[tuple[int, int]]:
            return run_ours(chosen, aois, _signer(server, root, lane), threads)

        def ours_vsicurl(lane: str) -> list[tuple[int, int]]:
            sign = _signer(server, root, lane)
            return run_ours(chosen, aois, sign, threads, fetch_tiles=False)

        def odc_(lane: str) -> list[Any]:
            return run_odc(stac_items(root, ids, _signer(server, root, lane)), grids, epsg, threads)

        ours("ours-warm")
        odc_("odc-warm")
        mine = _timed(server, "ours", ours)
        theirs = _timed(server, "odc", odc_)
        vsicurl = _timed(server, "ours-vsicurl", ours_vsicurl)
    floor = bytes_floor(chosen, aois)
    return {
        "ours_s": round(mine.seconds, 3),
        "odc_stac_s": round(theirs.seconds, 3),
        "ratio": round(mine.seconds / theirs.seconds, 3),
        "bytes_read": mine.bytes_read,
        "bytes_min": floor,
        "bytes_ratio": round(mine.bytes_read / floor, 3),
        "requests": mine.requests,
        "scenes": len(chosen),
        "detail": {
            "ours": mine.as_dict(floor),
            "odc_stac": theirs.as_dict(floor),
            "ours_vsicurl": vsicurl.as_dict(floor),
            "aois": [a.id for a in aois],
            "bands": list(BANDS),
            "latency_ms": latency_ms,
            "threads": threads,
            "chips": len(chosen) * len(aois),
            "shapes_match": mine.shapes == theirs.shapes,
            "shapes": {"ours": mine.shapes, "odc_stac": theirs.shapes},
        },
    }


def print_io_bench(result: dict[str, Any], *, as_json: bool = False) -> None:
    """Print a result of :func:`run_io_bench` as JSON or as a short table."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    detail = result["detail"]
    print(
        f"bench io: {result['scenes']} scenes x {len(detail['aois'])} AOIs x "
        f"{len(detail['bands'])} bands, {detail['latency_ms']:g} ms latency, "
        f"{detail['threads']} threads"
    )
    print(f"{'loader':<10}{'seconds':>10}{'requests':>10}{'MB read':>10}{'x floor':>9}")
    for name, key in (("ours", "ours"), ("odc-stac", "odc_stac"), ("ours/vsi", "ours_vsicurl")):
        row = detail[key]
        print(
            f"{name:<10}{row['seconds']:>10.2f}{row['requests']:>10}"
            f"{row['bytes_read'] / 1e6:>10.2f}{row['bytes_ratio']:>9.2f}"
        )
    print(
        f"floor {result['bytes_min'] / 1e6:.2f} MB (COG header + tiles under the windows); "
        f"ours/odc-stac time {result['ratio']:.2f}"
    )
    print("ours/vsi: our reader through GDAL's /vsicurl/ (Settings(fetch_tiles=False))")
