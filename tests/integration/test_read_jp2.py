"""JPEG 2000 over requester-pays S3, offline: Earth Search's Level-1C item re-pointed at
JPEG 2000 files written here with GDAL's JP2OpenJPEG driver, served with Range support on
127.0.0.1 as the bucket ``sentinel-s2-l1c`` (``AWS_S3_ENDPOINT``, path-style), and read
through the product's read path (:func:`pipeline.read.chips.read_chip`, ``/vsis3/``)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from numpy.typing import NDArray
from servers import RangeFileServer, _Handler, _Server
from shapely.geometry import box, mapping
from synthetic_scene import EPSG, ORIGIN, expected_bilinear_2x, utm_polygon_to_wgs84

from pipeline.config import GDAL_ENV, Settings
from pipeline.geo.projection import reproject
from pipeline.read.chips import read_chip
from pipeline.read.s3_access import MissingS3CredentialsError
from pipeline.sources.normalise import normalise_item
from pipeline.types import Aoi, Scene

pytestmark = pytest.mark.slow

L1C = "earth-search_sentinel-2-l1c_S2B_20EPT_20250731_0_L1C.json"
PREFIX = "sentinel-s2-l1c/tiles/52/T/FM/2017/6/1/0"
FILES = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11"}
SIZE10 = 512
#: A 1.2 x 1.0 km AOI well inside the 5.12 km tile (UTM 52N).
AOI_UTM = [
    (601510.0, 4697000.0),
    (602720.0, 4697000.0),
    (602720.0, 4698010.0),
    (601510.0, 4698010.0),
]
AOI = Aoi(id="jp2", name="jp2", kind="port", geometry=utm_polygon_to_wgs84(AOI_UTM))


class _HeaderHandler(_Handler):
    def serve(self, *, send_body: bool) -> None:
        owner = self.server.owner
        assert isinstance(owner, HeaderRecordingServer)
        owner.record_headers(self.path, dict(self.headers.items()))
        super().serve(send_body=send_body)


class HeaderRecordingServer(RangeFileServer):
    """The test Range server, also keeping every request's headers."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.headers: list[tuple[str, dict[str, str]]] = []
        self._headers_lock = threading.Lock()

    def _make_server(self) -> _Server:
        httpd = _Server(("127.0.0.1", 0), _HeaderHandler)
        httpd.owner = self
        return httpd

    def record_headers(self, path: str, headers: dict[str, str]) -> None:
        with self._headers_lock:
            self.headers.append((path, {k.lower(): v for k, v in headers.items()}))


def _write_jp2(path: Path, data: NDArray[np.uint16], res: float) -> None:
    """A lossless, tiled JPEG 2000 with GeoJP2 georeferencing, as Sentinel-2 ships."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "JP2OpenJPEG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "uint16",
        "crs": f"EPSG:{EPSG}",
        "transform": Affine(res, 0.0, ORIGIN[0], 0.0, -res, ORIGIN[1]),
        "nodata": 0,
        "QUALITY": "100",
        "REVERSIBLE": "YES",
        "BLOCKXSIZE": 256,
        "BLOCKYSIZE": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


@pytest.fixture(scope="module")
def bucket(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[HeaderRecordingServer, dict[str, Any]]]:
    """Five bands of a 2017 tile (baseline 02.05: DN = reflectance x 10000) in the bucket."""
    root = tmp_path_factory.mktemp("s3")
    rng = np.random.default_rng(17)
    dn: dict[str, Any] = {}
    for band, name in FILES.items():
        n = SIZE10 // 2 if band == "swir16" else SIZE10
        dn[band] = rng.integers(50, 4000, (n, n)).astype(np.uint16)
        _write_jp2(root / PREFIX / f"{name}.jp2", dn[band], 20.0 if band == "swir16" else 10.0)
    with HeaderRecordingServer(root) as server:
        yield server, dn


def _scene(stac_recorded: Path) -> Scene:
    """The recorded Earth Search Level-1C item, moved to the fake tile in 2017 (baseline
    02.05, its raster offset gone: the baseline rule decides) and pointed at the bucket."""
    item = copy.deepcopy(json.loads((stac_recorded / L1C).read_text(encoding="utf-8")))
    props = item["properties"]
    props.update(
        {
            "datetime": datetime(2017, 6, 1, 2, 16, tzinfo=UTC).isoformat(),
            "proj:epsg": EPSG,
            "mgrs:utm_zone": 52,
            "mgrs:latitude_band": "T",
            "mgrs:grid_square": "FM",
            "grid:code": "MGRS-52TFM",
            "s2:processing_baseline": "02.05",
        }
    )
    for key in ("s2:product_uri", "s2:tile_id", "s2:datatake_id", "s2:datastrip_id"):
        props.pop(key, None)
    side = SIZE10 * 10.0
    west, north = ORIGIN
    footprint = reproject(box(west, north - side, west + side, north), src_epsg=EPSG, dst_epsg=4326)
    item["geometry"], item["bbox"] = mapping(footprint), list(footprint.bounds)
    item["id"] = "S2A_52TFM_20170601_0_L1C"
    for band, name in FILES.items():
        asset = item["assets"][band]
        asset["href"] = f"s3://{PREFIX}/{name}.jp2"
        for spec in asset["raster:bands"]:
            spec.pop("offset", None)
    scene = normalise_item(item, source="earth-search", allow_l1c=True)
    assert (scene.level, scene.offset_rule) == ("L1C", "baseline<04.00")
    return scene


def _settings(aws_env: dict[str, str]) -> Settings:
    return Settings(
        read_retries=1,
        retry_backoff_s=0.01,
        gdal_env=MappingProxyType({**GDAL_ENV, "GDAL_HTTP_MAX_RETRY": "0"}),
        aws_env=MappingProxyType(aws_env),
    )


def test_a_jp2_chip_reads_through_requester_pays_s3(
    bucket: tuple[HeaderRecordingServer, dict[str, Any]],
    stac_recorded: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, dn = bucket
    scene = _scene(stac_recorded)
    endpoint = server.url.removeprefix("http://")
    env = {
        "AWS_ACCESS_KEY_ID": "AKIDTESTONLY",
        "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
        "AWS_S3_ENDPOINT": endpoint,
        "AWS_HTTPS": "NO",
        "AWS_VIRTUAL_HOSTING": "FALSE",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # GDAL takes the credentials from the environment
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    settings = _settings(dict(Settings().aws_env))  # what the entry point would capture
    server.headers.clear()
    chip = read_chip(scene, AOI, settings=settings, allow_l1c=True)

    r0 = round((ORIGIN[1] - chip.transform.f) / 10.0)
    c0 = round((chip.transform.c - ORIGIN[0]) / 10.0)
    h, w = chip.shape
    assert (h, w) == (101, 121)
    for band in ("blue", "green", "red", "nir"):
        expected = dn[band][r0 : r0 + h, c0 : c0 + w] * 1e-4
        # JPEG 2000 written losslessly: equal to within float32 rounding of DN x 1e-4
        np.testing.assert_allclose(chip.band(band), expected, atol=1e-6, rtol=0)
    swir = expected_bilinear_2x(dn["swir16"], slice(r0, r0 + h), slice(c0, c0 + w)) * 1e-4
    np.testing.assert_allclose(chip.band("swir16"), swir, atol=1e-4, rtol=0)
    assert chip.valid.all()

    asked = [(p, hd) for p, hd in server.headers if p.startswith(f"/{PREFIX}/")]
    assert {p.rsplit("/", 1)[1] for p, _ in asked} == {f"{n}.jp2" for n in FILES.values()}
    assert all(hd.get("x-amz-request-payer") == "requester" for _, hd in asked)
    assert all("Credential=AKIDTESTONLY/" in hd.get("authorization", "") for _, hd in asked)


def test_without_credentials_nothing_is_requested(
    bucket: tuple[HeaderRecordingServer, dict[str, Any]],
    stac_recorded: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = bucket
    monkeypatch.setenv("AWS_S3_ENDPOINT", server.url.removeprefix("http://"))
    monkeypatch.setenv("AWS_HTTPS", "NO")
    monkeypatch.setenv("AWS_VIRTUAL_HOSTING", "FALSE")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    server.reset_stats()
    server.headers.clear()
    with pytest.raises(MissingS3CredentialsError, match="AWS_ACCESS_KEY_ID and AWS_SECRET"):
        read_chip(
            _scene(stac_recorded),
            AOI,
            settings=_settings(dict(Settings().aws_env)),
            allow_l1c=True,
        )
    assert server.requests() == 0
    assert server.headers == []
