"""Requester-pays ``s3://`` hrefs (Earth Search's Level-1C JPEG 2000): the GDAL options a
read gets, and the clear refusal, before anything is opened, when no credentials are set."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import rasterio
import rasterio.env
from rasterio.errors import RasterioIOError
from shapely.geometry import box, shape

from pipeline.config import Settings
from pipeline.errors import ReadError
from pipeline.read import chips
from pipeline.read.chips import read_chip
from pipeline.read.s3_access import MissingS3CredentialsError, s3_read_options
from pipeline.sources.normalise import normalise_item
from pipeline.types import Aoi

L1C = "earth-search_sentinel-2-l1c_S2B_20EPT_20250731_0_L1C.json"
HREF = "s3://sentinel-s2-l1c/tiles/52/T/FM/2017/6/1/0/B04.jp2"
KEYS = {"AWS_ACCESS_KEY_ID": "set", "AWS_SECRET_ACCESS_KEY": "set"}


PAYER = {"AWS_REQUEST_PAYER": "requester", "GDAL_NUM_THREADS": "1"}
ON_AWS = {**PAYER, "AWS_REGION": "eu-central-1"}  # the bucket's region, whatever the default


@pytest.mark.parametrize(
    ("href", "aws_env", "expected"),
    [
        (HREF, KEYS, ON_AWS),
        (HREF, {**KEYS, "AWS_REGION": "us-west-2"}, ON_AWS),
        (HREF, {"AWS_PROFILE": "billing"}, ON_AWS),
        (HREF, {**KEYS, "AWS_S3_ENDPOINT": "127.0.0.1:9"}, PAYER),  # another S3 service
        ("/vsis3/sentinel-s2-l2a/tiles/x/B04.jp2", KEYS, ON_AWS),
        ("s3://sentinel-cogs/sentinel-s2-l2a-cogs/x/B04.tif", {}, {}),  # public bucket
        ("s3://eodata/Sentinel-2/MSI/L1C/x_B04.jp2", {}, {}),  # CDSE: presigned by its source
        ("https://sentinel-s2-l1c.s3.amazonaws.com/tiles/x/B04.jp2", {}, {}),
        ("/data/archive/B04.jp2", {}, {}),
    ],
)
def test_the_options_of_a_read(
    href: str, aws_env: dict[str, str], expected: dict[str, str]
) -> None:
    assert s3_read_options(href, aws_env) == expected


@pytest.mark.parametrize(
    ("aws_env", "named"),
    [
        ({}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"),
        ({"AWS_ACCESS_KEY_ID": "set"}, "AWS_SECRET_ACCESS_KEY is not set"),
        ({"AWS_REGION": "eu-central-1"}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are"),
    ],
)
def test_no_credentials_is_a_clear_error(aws_env: dict[str, str], named: str) -> None:
    with pytest.raises(MissingS3CredentialsError) as caught:
        s3_read_options(HREF, aws_env)
    message = str(caught.value)
    assert named in message
    assert "s3://sentinel-s2-l1c is a requester-pays bucket" in message
    assert "AWS_PROFILE" in message
    assert HREF in message
    assert caught.value.kind == "permanent"


def test_settings_know_which_credentials_are_set_never_their_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-very-secret")
    monkeypatch.setenv("AWS_S3_ENDPOINT", "127.0.0.1:9")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings = Settings()
    assert settings.aws_env["AWS_ACCESS_KEY_ID"] == "set"
    assert settings.aws_env["AWS_SECRET_ACCESS_KEY"] == "set"
    assert settings.aws_env["AWS_S3_ENDPOINT"] == "127.0.0.1:9"
    assert "AWS_SESSION_TOKEN" not in settings.aws_env
    assert "very-secret" not in repr(settings)
    assert "AKIDEXAMPLE" not in repr(settings)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "  ")  # blank is unset
    assert "AWS_ACCESS_KEY_ID" not in Settings().aws_env


def _l1c_scene_and_aoi(stac_recorded: Path) -> tuple[Any, Aoi]:
    item = json.loads((stac_recorded / L1C).read_text(encoding="utf-8"))
    scene = normalise_item(item, source="earth-search", allow_l1c=True)
    centre = shape(item["geometry"]).representative_point()
    area = box(centre.x - 0.01, centre.y - 0.005, centre.x + 0.01, centre.y + 0.005)
    return scene, Aoi(id="t", name="t", kind="port", geometry=area)


def test_the_real_l1c_item_without_credentials_fails_before_any_open(
    stac_recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded Earth Search Level-1C item's hrefs are ``s3://sentinel-s2-l1c/...``."""
    scene, aoi = _l1c_scene_and_aoi(stac_recorded)
    assert scene.assets["red"].href.startswith("s3://sentinel-s2-l1c/")
    touched: list[str] = []

    def never(*args: Any, **kwargs: Any) -> Any:
        touched.append(str(args[0]) if args else "?")
        raise AssertionError("a file was opened")

    monkeypatch.setattr(rasterio, "open", never)
    monkeypatch.setattr(chips, "read_windows", never)
    signed: list[str] = []

    def sign(href: str) -> str:
        signed.append(href)
        return href

    no_keys = Settings(aws_env=MappingProxyType({}), read_retries=3)
    with pytest.raises(MissingS3CredentialsError, match="AWS_ACCESS_KEY_ID and AWS_SECRET"):
        read_chip(scene, aoi, settings=no_keys, sign=sign, allow_l1c=True)
    assert touched == []
    assert signed == []  # refused before any band's read began


def test_with_credentials_the_read_goes_to_gdal_with_the_payer_option(
    stac_recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials set: the JPEG 2000 is opened through ``/vsis3/`` under
    ``AWS_REQUEST_PAYER=requester`` (the open itself is stopped here; the slow test
    ``tests/integration/test_read_jp2.py`` reads real bytes)."""
    scene, aoi = _l1c_scene_and_aoi(stac_recorded)
    seen: list[tuple[str, str | None]] = []

    def fake_open(path: str, *args: Any, **kwargs: Any) -> Any:
        seen.append((path, rasterio.env.getenv().get("AWS_REQUEST_PAYER")))
        raise RasterioIOError(f"{path}: No such file or directory")

    monkeypatch.setattr(rasterio, "open", fake_open)
    keys = Settings(aws_env=MappingProxyType(KEYS), read_retries=1)
    with pytest.raises(ReadError, match="No such file"):
        read_chip(scene, aoi, settings=keys, allow_l1c=True)
    assert seen
    assert all(p.startswith("/vsis3/sentinel-s2-l1c/tiles/20/E/PT/") for p, _ in seen)
    assert all(p.endswith(".jp2") for p, _ in seen)
    assert {payer for _, payer in seen} == {"requester"}
