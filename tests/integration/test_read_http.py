"""End to end over real HTTP: search ``rustac serve`` with pystac-client, read COGs via /vsicurl/.

The archive is written here with GDAL's COG driver (known DNs); the COGs are served by a
Range-capable server on 127.0.0.1 that counts bytes per file, so the windowed-read claim
("only the tiles under the AOI") is measured, not assumed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from numpy.typing import NDArray
from servers import RangeFileServer, RustacFactory, RustacServer
from shapely.geometry import box
from synthetic_scene import (
    EPSG,
    FILES,
    ORIGIN,
    SyntheticScene,
    expected_bilinear_2x,
    utm_polygon_to_wgs84,
    write_ndjson,
    write_scene,
)

from pipeline.config import DEFAULT_AOI_DIR, GDAL_ENV, Settings
from pipeline.errors import ReadError
from pipeline.geo.aoi import load_aoi
from pipeline.read.chips import ChipGrid, band_window, read_chip, read_chips, snap_grid
from pipeline.sources import CdseSource, EarthSearchSource, open_source
from pipeline.types import Aoi, Chip, Scene

pytestmark = pytest.mark.slow

#: A rotated quadrilateral of about 1.2 x 1.1 km inside the synthetic tile (UTM 52N).
AOI_UTM = [
    (603955.0, 4694013.0),
    (605190.0, 4694150.0),
    (605050.0, 4695170.0),
    (603900.0, 4694960.0),
]
AOI = Aoi(id="e2e", name="e2e", kind="port", geometry=utm_polygon_to_wgs84(AOI_UTM))
NEW_ID = "S2B_T52TFM_20230901T021000_L2A"
OLD_ID = "S2A_MSIL2A_20210815T021000_R060_T52TFM_20210815T050000"
OVERLAP_ID = "S2B_T52TEM_20230901T021000_L2A"
#: First request of every open (GDAL_INGESTED_BYTES_AT_OPEN).
HEADER_BYTES = int(GDAL_ENV["GDAL_INGESTED_BYTES_AT_OPEN"])
FAST_RETRY = Settings(
    read_retries=3,
    retry_backoff_s=0.01,
    gdal_env=MappingProxyType({**GDAL_ENV, "GDAL_HTTP_MAX_RETRY": "0"}),
)


@dataclass
class Archive:
    """What the module fixture built."""

    server: RangeFileServer
    api: RustacServer
    new: SyntheticScene
    old: SyntheticScene
    root: Path


@pytest.fixture(scope="module")
def archive(http_root: Path, range_server: RangeFileServer, rustac: RustacFactory) -> Archive:
    """Three items in rustac: a 2023 c1 scene, a 2021 PC-style scene, an overlapping tile."""
    root = http_root / "e2e"
    new = write_scene(
        root,
        NEW_ID,
        when=datetime(2023, 9, 1, 2, 10, tzinfo=UTC),
        size10=2048,
        nodata_red=(500, 520, 420, 440),
        cloud_cover=10.0,
    )
    old = write_scene(
        root,
        OLD_ID,
        when=datetime(2021, 8, 15, 2, 10, tzinfo=UTC),
        size10=1024,
        flavour="pc",
        baseline="03.00",
        offset_dn=0,
        seed=1,
    )

    def href(path: Path) -> str:
        return range_server.href(path.relative_to(http_root))

    # A neighbouring tile of the same overpass: it covers only the west part of the AOI and
    # is less cloudy. Coverage outranks cloud, so de-duplication must drop it.
    west, south, east, north = AOI.geometry.bounds
    partial = box(west - 0.2, south - 0.2, (west + east) / 2, north + 0.2)
    overlap = SyntheticScene(**{**new.__dict__, "scene_id": OVERLAP_ID, "cloud_cover": 2.0})
    items = [new.item(href), old.item(href), overlap.item(href, footprint=partial)]
    items[2]["properties"]["grid:code"] = "MGRS-52TEM"
    api = rustac.start([write_ndjson(root / "items.ndjson", items)])
    return Archive(range_server, api, new, old, root)


def _offsets(chip: Chip) -> tuple[int, int]:
    """``(row, col)`` of the chip's upper-left pixel in the synthetic tile's 10 m grid."""
    return (
        round((ORIGIN[1] - chip.transform.f) / 10.0),
        round((chip.transform.c - ORIGIN[0]) / 10.0),
    )


def _expected(scene: SyntheticScene, chip: Chip) -> dict[str, NDArray[np.float64]]:
    r0, c0 = _offsets(chip)
    h, w = chip.shape
    out: dict[str, NDArray[np.float64]] = {}
    for band in ("blue", "green", "red", "nir"):
        out[band] = scene.dn[band][r0 : r0 + h, c0 : c0 + w].astype(np.float64)
    out["swir16"] = expected_bilinear_2x(scene.dn["swir16"], slice(r0, r0 + h), slice(c0, c0 + w))
    rows = np.arange(r0, r0 + h)[:, None] // 2
    cols = np.arange(c0, c0 + w)[None, :] // 2
    out["scl"] = scene.dn["scl"][rows, cols].astype(np.float64)
    return out


def _search(archive: Archive, start: date, end: date) -> list[Scene]:
    return open_source(archive.api.url, Settings()).search(AOI, start, end)


def test_search_through_rustac_dedupes_and_sorts(archive: Archive) -> None:
    scenes = _search(archive, date(2021, 1, 1), date(2023, 12, 31))
    assert [s.id for s in scenes] == [OLD_ID, NEW_ID]  # the 52TEM neighbour is de-duplicated
    old, new = scenes
    assert new.offset_rule == "raster-metadata"
    assert new.assets["nir"].offset == pytest.approx(-0.1)
    assert old.offset_rule == "baseline<04.00"
    assert old.assets["nir"].offset == 0.0
    assert all(s.source == archive.api.url for s in scenes)
    assert _search(archive, date(2022, 1, 1), date(2022, 12, 31)) == []


def test_chip_matches_the_source_pixels_with_the_0400_offset(archive: Archive) -> None:
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    chip = read_chip(scene, AOI, settings=Settings())
    expected = _expected(archive.new, chip)
    for band in ("blue", "green", "nir", "swir16"):
        np.testing.assert_allclose(chip.band(band), expected[band] * 1e-4 - 0.1, atol=1e-4, rtol=0)
    red_ok = expected["red"] > 0
    np.testing.assert_allclose(
        chip.band("red")[red_ok], expected["red"][red_ok] * 1e-4 - 0.1, atol=1e-4
    )
    assert np.isnan(chip.band("red")[~red_ok]).all()
    assert (~red_ok).sum() == 400
    np.testing.assert_array_equal(chip.scl, expected["scl"])
    assert not chip.valid[~red_ok].any()
    # valid = inside the AOI outline: about its area in 10 m pixels, and the corners are out.
    area_px = utm_area(AOI_UTM) / 100.0
    assert abs(int(chip.valid.sum()) + 400 - area_px) < 0.03 * area_px
    assert not chip.valid[0, 0]
    assert not chip.valid[-1, -1]
    assert chip.epsg == EPSG


def test_several_aois_of_a_scene_fetch_each_header_once(archive: Archive) -> None:
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    east = [(x + 8000.0, y - 6000.0) for x, y in AOI_UTM]
    other = Aoi(id="e2e-east", name="east", kind="rail", geometry=utm_polygon_to_wgs84(east))
    token = "?token=several"  # a URL of its own, so GDAL's cache holds nothing of it yet
    archive.server.reset_stats()
    both = read_chips(scene, [AOI, other], settings=Settings(), sign=lambda h: h + token)
    for band in ("blue", "swir16", "scl"):
        served = archive.server.stats(f"/e2e/{NEW_ID}/{Path(scene.assets[band].href).name}")
        header_reads = [r for r in served.ranges if r[0] == 0]
        assert len(header_reads) == 1, (band, served.ranges)  # one open for both AOIs
    for chip, aoi in zip(both, (AOI, other), strict=True):
        alone = read_chip(scene, aoi, settings=Settings())
        assert chip.aoi_id == aoi.id
        assert chip.transform == alone.transform
        np.testing.assert_array_equal(chip.reflectance, alone.reflectance)
        np.testing.assert_array_equal(chip.scl, alone.scl)
        np.testing.assert_array_equal(chip.valid, alone.valid)
    assert both[0].transform != both[1].transform


def test_pre_0400_scene_is_read_without_offset(archive: Archive) -> None:
    (scene,) = _search(archive, date(2021, 8, 15), date(2021, 8, 15))
    chip = read_chip(scene, AOI, settings=Settings())
    expected = _expected(archive.old, chip)
    np.testing.assert_allclose(chip.band("nir"), expected["nir"] * 1e-4, atol=1e-4, rtol=0)
    np.testing.assert_allclose(chip.band("swir16"), expected["swir16"] * 1e-4, atol=1e-4, rtol=0)


def utm_area(coords: list[tuple[float, float]]) -> float:
    from shapely.geometry import Polygon

    return float(Polygon(coords).area)


def _tiles_under(path: Path, rows: tuple[int, int], cols: tuple[int, int]) -> list[tuple[int, int]]:
    """``(offset, size)`` of the full-resolution tiles under a pixel window (inclusive).

    Tiles a sparse COG never wrote (all nodata) are left out.
    """
    tiles = []
    with rasterio.open(path) as src:
        bh, bw = src.block_shapes[0]
        for by in range(max(rows[0], 0) // bh, min(rows[1], src.height - 1) // bh + 1):
            for bx in range(max(cols[0], 0) // bw, min(cols[1], src.width - 1) // bw + 1):
                offset = src.get_tag_item(f"BLOCK_OFFSET_{bx}_{by}", "TIFF", bidx=1)
                size = src.get_tag_item(f"BLOCK_SIZE_{bx}_{by}", "TIFF", bidx=1)
                if offset and size:
                    tiles.append((int(offset), int(size)))
    return tiles


def _chunked(tiles: list[tuple[int, int]], header: int) -> int:
    """Bytes of the /vsicurl/ chunks (CPL_VSIL_CURL_CHUNK_SIZE, 16 KiB) holding the tiles.

    GDAL may round a range to its chunk grid; each tile carries a 4-byte size leader and
    4-byte trailer in GDAL's COG layout. Chunks inside the header read are not counted.
    """
    chunk = 16384
    held: set[int] = set()
    for offset, size in tiles:
        held.update(range((offset - 4) // chunk, (offset + size + 4 - 1) // chunk + 1))
    return sum(chunk for c in held if c * chunk >= header)


def _byte_report(
    server: RangeFileServer, url_prefix: str, files: dict[str, Path], chip: Chip, origin: Affine
) -> tuple[int, int, int, list[str]]:
    """Check and describe the bytes served per band for one chip.

    Returns ``(served, tiles under the AOI, whole files, lines)``; asserts that every band
    was served its header read plus the tiles under the window and nothing else.
    """
    grid = ChipGrid(chip.transform, *chip.shape)
    window = band_window(grid, origin)
    r0, c0 = int(window.row_off), int(window.col_off)
    r1, c1 = r0 + int(window.height) - 1, c0 + int(window.width) - 1
    lines, served_total, blocks_total, files_total = [], 0, 0, 0
    for band, path in files.items():
        if band in ("swir16", "scl"):  # the 20 m pixels the bilinear kernel touches
            rows, cols = ((r0 - 1) // 2, (r1 + 1) // 2 + 1), ((c0 - 1) // 2, (c1 + 1) // 2 + 1)
        else:
            rows, cols = (r0, r1), (c0, c1)
        tiles = _tiles_under(path, rows, cols)
        blocks = sum(size for _, size in tiles)
        size = os.path.getsize(path)
        served = server.stats(f"{url_prefix}/{path.name}").bytes_sent
        header = min(HEADER_BYTES, size)
        # At most the header read plus the chunks holding the tiles under the window (and
        # a few hundred bytes GDAL re-reads when the whole file fit in the header read).
        bound = header + _chunked(tiles, header) + 1024
        assert served <= bound, (band, served, header, blocks, bound)
        assert served >= min(blocks, size - header), (band, served, blocks)
        lines.append(
            f"{band:7s} served {served:>10,d} B = header {header:>6,d} + tiles {blocks:>10,d}"
            f" ({served - header - blocks:+,d} B); file {size:>11,d} B"
        )
        served_total += served
        blocks_total += blocks
        files_total += size
    return served_total, blocks_total, files_total, lines


def _print_report(title: str, report: tuple[int, int, int, list[str]]) -> None:
    served, blocks, files, lines = report
    print(f"\nbytes per scene-AOI, {title}:")
    print("\n".join(lines))
    print(f"total served {served:,d} B; tiles under the AOI {blocks:,d} B;")
    print(f"whole files {files:,d} B ({served / files:.1%} read)")


def test_bytes_served_per_scene_are_the_tiles_under_the_aoi(
    archive: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    archive.server.reset_stats()
    chip = read_chip(scene, AOI, settings=Settings())
    grid = snap_grid(box(*_utm_bounds()).bounds, origin=ORIGIN, res=10.0)
    assert chip.transform == grid.transform
    files = {band: archive.new.path(band) for band in FILES}
    report = _byte_report(archive.server, f"/e2e/{NEW_ID}", files, chip, archive.new.transform10)
    assert report[0] < 0.1 * report[2]
    with capsys.disabled():
        _print_report(f"synthetic {chip.shape[0]}x{chip.shape[1]} px, {scene.id}", report)


def _utm_bounds() -> tuple[float, float, float, float]:
    from pipeline.geo.projection import reproject

    west, south, east, north = reproject(AOI.geometry, dst_epsg=EPSG).bounds
    return (float(west), float(south), float(east), float(north))


def test_transient_5xx_is_retried_with_a_fresh_handle(archive: Archive) -> None:
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    nir = f"/e2e/{NEW_ID}/B08.tif"
    archive.server.reset_stats()
    archive.server.fail_next(nir, 503, times=2)
    signed: list[str] = []

    def sign(href: str) -> str:  # a new token per signature, like a SAS: a new URL to GDAL
        signed.append(href)
        return f"{href}?token={len(signed)}"

    chip = read_chip(scene, AOI, settings=FAST_RETRY, sign=sign)
    assert np.isfinite(chip.band("nir")).all()
    assert archive.server.stats(nir).requests >= 3  # the failures were answered, then read
    assert signed.count(scene.assets["nir"].href) >= 2  # signed again for the retry
    assert signed.count(scene.assets["blue"].href) == 1


def test_a_refused_signature_is_signed_again_once(archive: Archive) -> None:
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    green = f"/e2e/{NEW_ID}/B03.tif"
    signed: list[str] = []

    def sign(href: str) -> str:
        signed.append(href)
        return f"{href}?sas={len(signed)}"

    archive.server.fail_next(green, 403, times=1)  # an expired token: a new one passes
    chip = read_chip(scene, AOI, settings=FAST_RETRY, sign=sign)
    assert np.isfinite(chip.band("green")).all()
    assert signed.count(scene.assets["green"].href) == 2
    archive.server.fail_next(green, 403, times=5)  # a real denial: one retry, then give up
    try:
        with pytest.raises(ReadError, match=r"B03\.tif: HTTP response code: 403"):
            read_chip(scene, AOI, settings=FAST_RETRY, sign=sign)
    finally:
        archive.server.clear_failures()
    assert signed.count(scene.assets["green"].href) == 4


def test_persistent_5xx_gives_up_with_a_read_error(archive: Archive) -> None:
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    archive.server.fail_next(f"/e2e/{NEW_ID}/B03.tif", 502, times=50)
    try:
        with pytest.raises(ReadError, match=r"B03\.tif after 3 attempts: .*502"):
            read_chip(scene, AOI, settings=FAST_RETRY)
    finally:
        archive.server.clear_failures()


def test_404_and_not_a_tiff_fail_at_once_without_leaking_the_signature(archive: Archive) -> None:
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    (archive.root / "junk.tif").write_text("<html>not a tiff</html>")
    once = replace(FAST_RETRY, read_retries=1)
    for broken, reason in (("missing.tif", "404"), ("junk.tif", "not recognized")):
        url = archive.server.href(f"e2e/{broken}")
        assets = {**scene.assets, "scl": type(scene.assets["scl"])(href=url, resolution_m=20.0)}
        broken_scene = replace(scene, assets=assets)
        requests = []
        for settings in (once, FAST_RETRY):
            archive.server.reset_stats()
            with pytest.raises(ReadError) as err:
                read_chip(broken_scene, AOI, settings=settings, sign=lambda h: h + "?sig=SECRET")
            requests.append(archive.server.stats(f"/e2e/{broken}").requests)
            message = str(err.value)
            assert reason in message
            assert broken in message
            assert "attempts" not in message
            assert "SECRET" not in message
            assert err.value.__cause__ is None
        assert requests[0] == requests[1] > 0  # three attempts allowed, one made


def test_earth_search_falls_back_to_l2a_when_c1_has_nothing(archive: Archive) -> None:
    source = EarthSearchSource(archive.api.url)
    assert [s.id for s in source.search(AOI, date(2023, 1, 1), date(2023, 12, 31))] == [NEW_ID]
    fallback = source.search(AOI, date(2021, 1, 1), date(2021, 12, 31))
    assert [(s.id, s.collection) for s in fallback] == [(OLD_ID, "sentinel-2-l2a")]


# --- the simulated archive (pipeline.simulate), served the same way ----------------------------
SIM_SCENARIO = """
seed = 11
start = "2022-01-20"
end = "2022-01-25"
revisit_days = 5
cloud_probability = 0.0
[[aoi]]
id = "rajin-port"
activity = [ { from = "2021-01-01", ships = 3.0 } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2021-01-01", railcars = 20 } ]
"""


@dataclass
class SimArchive:
    """A two-scene simulated archive either side of baseline 04.00, behind rustac."""

    server: RangeFileServer
    api: RustacServer
    root: Path
    scenario: Any
    render: Any


@pytest.fixture(scope="module")
def sim(http_root: Path, range_server: RangeFileServer, rustac: RustacFactory) -> SimArchive:
    """``write_archive`` output, its ndjson re-pointed at the HTTP server, loaded in rustac."""
    simulate = pytest.importorskip("pipeline.simulate")
    try:
        parse, write, render = (
            simulate.parse_scenario,
            simulate.write_archive,
            simulate.render_scene,
        )
    except AttributeError as exc:  # the simulator is still being written
        pytest.skip(f"pipeline.simulate is not complete yet: {exc}")
    scenario = parse(SIM_SCENARIO, where="test")
    root = http_root / "sim"
    write(scenario, root, workers=1)
    items = []
    for line in (root / "items.ndjson").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        for asset in item["assets"].values():
            asset["href"] = range_server.href(f"sim/{asset['href']}")
        items.append(item)
    api = rustac.start([write_ndjson(root / "http-items.ndjson", items)])
    return SimArchive(range_server, api, root, scenario, render)


def test_simulated_archive_reads_back_exactly_across_baseline_0400(
    sim: SimArchive, capsys: pytest.CaptureFixture[str]
) -> None:
    rajin = load_aoi(DEFAULT_AOI_DIR / "rajin-port.geojson")
    scenes = open_source(sim.api.url, Settings()).search(rajin, date(2022, 1, 1), date(2022, 1, 31))
    assert [s.datetime.date() for s in scenes] == [date(2022, 1, 20), date(2022, 1, 25)]
    assert all(s.simulated for s in scenes)
    assert [s.assets["nir"].offset for s in scenes] == [0.0, pytest.approx(-0.1)]
    water_nir = []
    for scene in scenes:
        sim.server.reset_stats()
        chip = read_chip(scene, rajin, settings=Settings())
        truth = sim.render(sim.scenario, scene.datetime.date())
        origin: Affine = truth.transform
        r0 = round((origin.f - chip.transform.f) / 10.0)
        c0 = round((chip.transform.c - origin.c) / 10.0)
        h, w = chip.shape
        offset = 1000 if scene.processing_baseline >= "04.00" else 0
        for band in ("blue", "green", "red", "nir"):
            dn = truth.dn(band)[r0 : r0 + h, c0 : c0 + w].astype(np.float64)
            np.testing.assert_allclose(chip.band(band), (dn - offset) / 1e4, atol=1e-4, rtol=0)
        # swir16 away from the painted region's edge (the bilinear kernel needs neighbours)
        inner = (slice(2, h - 2), slice(2, w - 2))
        swir = expected_bilinear_2x(truth.dn("swir16"), slice(r0, r0 + h), slice(c0, c0 + w))
        np.testing.assert_allclose(
            chip.band("swir16")[inner], (swir[inner] - offset) / 1e4, atol=1e-4, rtol=0
        )
        rows = np.arange(r0, r0 + h)[:, None] // 2
        cols = np.arange(c0, c0 + w)[None, :] // 2
        np.testing.assert_array_equal(chip.scl, truth.scl[rows, cols])
        assert chip.valid.mean() > 0.5
        water = chip.valid & (chip.scl == 6)
        water_nir.append(float(np.median(chip.band("nir")[water])))
        folder = sim.root / "sentinel-2-c1-l2a" / scene.id
        files = {b: folder / f"{FILES[b]}.tif" for b in FILES}
        report = _byte_report(sim.server, f"/sim/sentinel-2-c1-l2a/{scene.id}", files, chip, origin)
        with capsys.disabled():
            _print_report(f"simulated rajin-port {h}x{w} px, {scene.id}", report)
    # Harmonised: no step in dark water across 2022-01-25 (the raw DNs jump by 1000).
    assert abs(water_nir[1] - water_nir[0]) < 0.01


def test_cdse_reads_through_presigned_urls(archive: Archive) -> None:
    """CDSE ``s3://`` hrefs become presigned HTTPS URLs (here of the local server) at read time."""
    (scene,) = _search(archive, date(2023, 9, 1), date(2023, 9, 1))
    prefix = archive.server.url + "/"
    s3 = {b: replace(a, href="s3://" + a.href[len(prefix) :]) for b, a in scene.assets.items()}
    s3_scene = replace(scene, assets=s3)
    env = {
        "CDSE_S3_ACCESS_KEY": "AKIDTEST",
        "CDSE_S3_SECRET_KEY": "not-a-real-secret",
        "CDSE_S3_ENDPOINT": archive.server.url,
    }
    archive.server.reset_stats()
    chip = read_chip(s3_scene, AOI, settings=Settings(), sign=CdseSource(env).sign)
    expected = _expected(archive.new, chip)
    np.testing.assert_allclose(chip.band("nir"), expected["nir"] * 1e-4 - 0.1, atol=1e-4, rtol=0)
    assert archive.server.requests(f"/e2e/{NEW_ID}/") > 0
    with pytest.raises(ReadError, match="CDSE_S3_ACCESS_KEY"):
        read_chip(s3_scene, AOI, settings=Settings(), sign=CdseSource({}).sign)
