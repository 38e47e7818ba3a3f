"""Security: secrets only from the environment and never shown; ids never escape their
folder; markup from files and metadata is escaped in the report.

Secrets are fake values set in the environment; every path that signs a URL, or fails
with one, is run against loopback servers, and the exception text (with its traceback),
every log record down to DEBUG (GDAL's own messages included), the store's rows and the
run summary are searched for them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import sqlite3
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from affine import Affine
from claims_fixtures import demo_like, fill_store
from servers import RangeFileServer

from pipeline.bench.loopback import LoopbackServer
from pipeline.cli.app import app
from pipeline.config import DEFAULT_AOI_DIR, Settings
from pipeline.errors import InvalidAoiError, ReadError, SceneMetadataError, UnsafePathError
from pipeline.geo.aoi import load_aois, parse_aoi, resolve_aoi
from pipeline.geo.redaction import RedactingFilter, redact
from pipeline.geo.safe_paths import check_name, is_safe_name, join_inside, safe_name
from pipeline.read.chip_cache import ChipCache
from pipeline.read.chips import read_chip
from pipeline.report import write_report
from pipeline.run import scene_work
from pipeline.run.analysis import Instrument, SceneTask, process_scenes
from pipeline.run.runner import AoiTally, record
from pipeline.run.summary import markdown, summarise
from pipeline.simulate.scenario import SITES, parse_scenario
from pipeline.simulate.schedule import scene_info
from pipeline.sources import CdseSource, PlanetaryComputerSource, open_source
from pipeline.sources.normalise import normalise_item
from pipeline.store.export import export_store
from pipeline.store.references import ReferenceKey, reference_path
from pipeline.store.results import Store
from pipeline.types import Aoi, BandAsset, Chip, Observation, Scene

CDSE_ACCESS = "AKIAFAKEACCESS0000042"
CDSE_SECRET = "fake-cdse-secret-key-do-not-log"
SESSION_TOKEN = "FAKE-SESSION-TOKEN-do-not-log"
PC_KEY = "fake-pc-subscription-key-do-not-log"
PC_SAS = "sig=FAKE-SAS-SIGNATURE-do-not-log"
SECRETS = (CDSE_ACCESS, CDSE_SECRET, SESSION_TOKEN, PC_KEY, PC_SAS, "X-Amz-Signature")
HOSTILE_IDS = (
    "../../etc/x",
    "/abs/path",
    "a/../../b",
    "..",
    ".",
    "x\x00y",
    "a\\b",
    "..\\..\\windows",
    "rajin-port\n",
    ".hidden",
    "",
)
FAST = Settings(read_retries=2, retry_backoff_s=0.01)


def assert_no_secret(*texts: str) -> None:
    """None of the fake secrets in any of ``texts``."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked: {text[:300]!r}"


def shown(exc: BaseException) -> str:
    """Everything a person could see of an exception: message and printed traceback."""
    return str(exc) + "".join(traceback.format_exception(exc))


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message, formatted, as the handlers got it."""
    return "\n".join(r.getMessage() for r in caplog.records) + caplog.text


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture everything down to DEBUG, rasterio loggers freshly without a redacting filter.

    So each test shows that its own code path installs the redaction, whatever ran before.
    """
    for name in logging.root.manager.loggerDict:
        if name.split(".")[0] in ("rasterio", "urllib3"):
            logger = logging.getLogger(name)
            for f in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
                logger.removeFilter(f)
    caplog.set_level(logging.DEBUG)
    return caplog


# --- credentials come from the environment only ----------------------------------------------
SECRET_WORDS = ("key", "secret", "token", "password", "credential", "sas", "signature", "auth")


def _options(command: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(command path, option name)`` of every command (typer's own click: duck-typed)."""
    for param in command.params:
        for name in (param.name or "", *getattr(param, "opts", ())):
            yield f"{prefix}{command.name}", name
    for sub in getattr(command, "commands", {}).values():
        yield from _options(sub, f"{prefix}{command.name} ")


def test_no_command_line_option_or_setting_carries_a_secret() -> None:
    options = list(_options(typer.main.get_command(app)))
    assert len(options) > 40  # every command was walked
    for command, name in options:
        assert not any(w in name.lower() for w in SECRET_WORDS), f"{command}: {name}"
    for field in dataclasses.fields(Settings):
        assert not any(w in field.name.lower() for w in SECRET_WORDS), field.name


def test_cdse_keys_come_from_the_environment_and_never_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("CDSE_S3_ACCESS_KEY", "CDSE_S3_SECRET_KEY", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    assert getattr(open_source("cdse", Settings()), "credentials", "x") is None
    monkeypatch.setenv("CDSE_S3_ACCESS_KEY", CDSE_ACCESS)
    monkeypatch.setenv("CDSE_S3_SECRET_KEY", CDSE_SECRET)
    source = open_source("cdse", Settings())
    assert isinstance(source, CdseSource)
    assert source.credentials is not None
    assert source.credentials.secret_key == CDSE_SECRET
    assert_no_secret(repr(source), repr(source.credentials), repr(vars(source)), str(source))


def test_presigned_url_carries_no_secret_key() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIDX", "AWS_SECRET_ACCESS_KEY": CDSE_SECRET}
    url = CdseSource(env).sign("s3://eodata/Sentinel-2/x/B04_10m.jp2")
    assert "X-Amz-Signature=" in url
    assert CDSE_SECRET not in url


@pytest.fixture
def cdse_env(range_server: RangeFileServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Temporary AWS-style CDSE credentials in the environment; the S3 endpoint is loopback."""
    env = {
        "AWS_ACCESS_KEY_ID": CDSE_ACCESS,
        "AWS_SECRET_ACCESS_KEY": CDSE_SECRET,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "CDSE_S3_ENDPOINT": range_server.url,
    }
    for name in ("CDSE_S3_ACCESS_KEY", "CDSE_S3_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def not_a_tiff(http_root: Path) -> str:
    """An ``s3://`` href whose object exists on the loopback endpoint but is not a TIFF."""
    (http_root / "eodata" / "sec").mkdir(parents=True, exist_ok=True)
    (http_root / "eodata" / "sec" / "junk.tif").write_text("<html>not a tiff</html>")
    return "s3://eodata/sec/junk.tif"


@pytest.mark.slow
@pytest.mark.parametrize("missing", [False, True], ids=["not-a-tiff", "404"])
def test_a_failed_read_of_a_presigned_url_shows_no_key(
    missing: bool,
    cdse_env: dict[str, str],
    not_a_tiff: str,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    href = "s3://eodata/sec/missing.tif" if missing else not_a_tiff
    scene = _scene(lambda band: href)
    with pytest.raises(ReadError) as err:
        read_chip(scene, _rajin(), settings=FAST, sign=CdseSource(cdse_env).sign)
    assert href in str(err.value)
    assert_no_secret(shown(err.value), logged(debug_logs))
    if not missing:  # GDAL did report the signed path: it reached the log redacted
        assert "?<redacted>" in debug_logs.text


@pytest.mark.slow
def test_cdse_bad_endpoint_is_a_read_error_without_keys(cdse_env: dict[str, str]) -> None:
    source = CdseSource({**cdse_env, "CDSE_S3_ENDPOINT": "ftp://nowhere"})
    with pytest.raises(ReadError) as err:
        source.sign("s3://eodata/x.jp2")
    assert_no_secret(shown(err.value))


def _scene(href_for: Callable[[str], str], scene_id: str = "S2A_T52TFM_20230901_L2A") -> Scene:
    """A scene whose band assets are at ``href_for(band)``."""
    resolution = {"swir16": 20.0, "scl": 20.0}
    assets = {
        band: BandAsset(href=href_for(band), resolution_m=resolution.get(band, 10.0))
        for band in ("blue", "green", "red", "nir", "swir16", "scl")
    }
    return Scene(
        id=scene_id,
        datetime=datetime(2023, 9, 1, 2, 16, tzinfo=UTC),
        platform="sentinel-2a",
        tile="52TFM",
        epsg=32652,
        processing_baseline="05.10",
        assets=assets,
        cloud_cover=1.0,
        source="cdse",
    )


def _rajin() -> Aoi:
    return next(a for a in load_aois(DEFAULT_AOI_DIR) if a.id == "rajin-port")


@pytest.mark.slow
def test_failed_scenes_store_and_summarise_without_keys(
    cdse_env: dict[str, str],
    not_a_tiff: str,
    tmp_path: Path,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    """A scene whose reads fail is stored ``failed`` with its reason: the reason has no key."""
    scenes = [_scene(lambda band: f"s3://eodata/sec/{band}.tif" if band != "scl" else not_a_tiff)]
    aoi = _rajin()
    spec = scene_work.ReadSpec(open_source("cdse", FAST), FAST, None)  # keys from the env
    tasks = [SceneTask(scene, (aoi,)) for scene in scenes]
    outcomes = process_scenes(tasks, spec, {aoi.id: Instrument(None, "none")})
    assert [o.observation.status for o in outcomes] == ["failed"]
    db = tmp_path / "rasonwatch.sqlite"
    tally = AoiTally(aoi.id, date(2023, 9, 1), date(2023, 9, 1))
    with Store(db) as store:
        run_id = store.start_run("backfill", {"source": "cdse"}, "test-1")
        record(store, outcomes, tally, run_id)
    summary = summarise("backfill", [tally], run_id=run_id, detector_version="t", db=str(db))
    assert summary["failed"] == 1
    assert "s3://eodata/sec/" in json.dumps(summary)  # the reason names the unsigned href
    with sqlite3.connect(db) as con:
        rows = "\n".join(con.iterdump())
    assert_no_secret(rows, json.dumps(summary), markdown(summary), logged(debug_logs))


def test_redaction_covers_urls_and_request_lines() -> None:
    """The two shapes a signed URL takes in library logs: GDAL's path, urllib3's request."""
    gdal = f"'/vsicurl/https://h/b/k.tif?X-Amz-Credential={CDSE_ACCESS}' not recognized"
    urllib3 = f'http://127.0.0.1:1 "GET /b/k.tif?sv=1&{PC_SAS} HTTP/1.1" 404 0'
    assert redact(gdal) == "'/vsicurl/https://h/b/k.tif?<redacted>' not recognized"
    assert redact(urllib3) == 'http://127.0.0.1:1 "GET /b/k.tif?<redacted> HTTP/1.1" 404 0'
    assert redact("GET /b/k.tif HTTP/1.1 and no query") == "GET /b/k.tif HTTP/1.1 and no query"


# --- Planetary Computer: a loopback SAS token service -----------------------------------------
class _TokenHandler(BaseHTTPRequestHandler):
    """``/<account>/<container>``: a token for ``good``, 403 for ``denied``, junk for ``junk``."""

    server: _TokenServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        """Answer like the SAS token API, echoing the key where a careless server might."""
        key = self.headers.get("Ocp-Apim-Subscription-Key", "")
        self.server.keys_seen.append(key)
        account = self.path.strip("/").split("/")[0]
        if account == "good":
            status, body = 200, {"msft:expiry": "2099-01-01T00:00:00Z", "token": f"sv=1&{PC_SAS}"}
        elif account == "junk":
            status, body = 200, {"expires": "soon", "echo": key}
        else:
            status, body = 403, {"message": f"key {key} is not allowed"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _TokenServer(ThreadingHTTPServer):
    keys_seen: list[str]


class TokenService(LoopbackServer):
    """A fake Planetary Computer SAS token API on 127.0.0.1."""

    def _make_server(self) -> _TokenServer:
        server = _TokenServer(("127.0.0.1", 0), _TokenHandler)
        server.keys_seen = []
        self.keys_seen = server.keys_seen
        return server


@pytest.fixture
def token_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenService]:
    """The fake token API, named by ``PC_SDK_SAS_URL``; the key in ``PC_SDK_SUBSCRIPTION_KEY``."""
    from planetary_computer import sas, settings

    with TokenService() as service:
        monkeypatch.setenv("PC_SDK_SAS_URL", service.url)
        monkeypatch.setenv("PC_SDK_SUBSCRIPTION_KEY", PC_KEY)
        monkeypatch.setattr(sas, "TOKEN_CACHE", {})
        settings.Settings.get.cache_clear()
        try:
            yield service
        finally:
            settings.Settings.get.cache_clear()


@pytest.mark.slow
def test_planetary_computer_key_comes_from_the_environment(token_service: TokenService) -> None:
    source = PlanetaryComputerSource()
    signed = source.sign("https://good.blob.core.windows.net/c/B04_10m.tif")
    assert signed.endswith(PC_SAS)  # signed with the service's token
    assert token_service.keys_seen == [PC_KEY]  # asked with the key from the environment
    assert_no_secret(repr(source), repr(vars(source)))


@pytest.mark.slow
@pytest.mark.parametrize("account", ["denied", "junk"])
def test_a_failing_token_service_shows_no_key(
    account: str, token_service: TokenService, debug_logs: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ReadError, match=f"cannot sign https://{account}") as err:
        PlanetaryComputerSource().sign(f"https://{account}.blob.core.windows.net/c/B04.tif")
    assert token_service.keys_seen == [PC_KEY]
    assert_no_secret(shown(err.value), logged(debug_logs))


@pytest.mark.slow
def test_a_failed_read_of_a_sas_url_shows_no_token(
    range_server: RangeFileServer,
    not_a_tiff: str,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    import planetary_computer

    monkeypatch.setattr(planetary_computer, "sign", lambda href: f"{href}?sv=1&{PC_SAS}")
    scene = _scene(lambda band: range_server.href("eodata/sec/junk.tif"))
    with pytest.raises(ReadError) as err:
        read_chip(scene, _rajin(), settings=FAST, sign=PlanetaryComputerSource().sign)
    assert_no_secret(shown(err.value), logged(debug_logs))
    assert "?<redacted>" in debug_logs.text


# --- ids never escape their folder ------------------------------------------------------------
RING = [[130.30, 42.23], [130.32, 42.23], [130.32, 42.25], [130.30, 42.25], [130.30, 42.23]]


def _aoi_doc(**properties: object) -> dict[str, Any]:
    geometry = {"type": "Polygon", "coordinates": [RING]}
    return {"type": "Feature", "properties": {"kind": "port", **properties}, "geometry": geometry}


@pytest.mark.parametrize("hostile", [*HOSTILE_IDS, "Rajin", "a" * 65, "-x", "a.b"])
def test_hostile_aoi_ids_are_refused_when_parsed(hostile: str) -> None:
    with pytest.raises(InvalidAoiError, match="must match"):
        parse_aoi(_aoi_doc(id=hostile), default_id="ok")
    with pytest.raises(InvalidAoiError, match="must match"):
        parse_aoi(_aoi_doc(), default_id=hostile)  # the id taken from a file name


@pytest.mark.parametrize("hostile", ["../aoi/rajin-port", "..", "rajin-port\n", "x\x00y"])
def test_hostile_aoi_ids_name_no_file_outside_the_aoi_folder(hostile: str) -> None:
    with pytest.raises(InvalidAoiError):
        resolve_aoi(hostile, DEFAULT_AOI_DIR)


def test_every_shipped_and_simulated_id_is_a_safe_name() -> None:
    aois = load_aois(DEFAULT_AOI_DIR)
    assert {a.id for a in aois} >= set(SITES)
    assert all(is_safe_name(a.id) for a in aois)
    assert all(is_safe_name(site) for site in SITES)
    scenario = parse_scenario('start = "2021-01-01"\nend = "2021-02-01"\n')
    assert all(is_safe_name(scene_info(scenario, d).item_id) for d in scenario.dates)


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_join_inside_refuses_what_safe_name_maps_inside(hostile: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError):
        check_name(hostile)
    with pytest.raises(UnsafePathError):
        join_inside(tmp_path, "chips", hostile)
    name = safe_name(hostile)
    assert is_safe_name(name)
    assert join_inside(tmp_path, name).resolve().is_relative_to(tmp_path.resolve())


def test_safe_name_keeps_safe_ids_and_separates_the_others() -> None:
    real = "S2A_T52TFM_20230804T021601_L2A"
    assert safe_name(real) == real
    names = {safe_name(h) for h in HOSTILE_IDS}
    assert len(names) == len(HOSTILE_IDS), "two hostile ids share a file"
    assert safe_name("a/b") != safe_name("a_b")


def _chip(scene_id: str, aoi_id: str) -> Chip:
    shape = (4, 5)
    return Chip(
        scene_id=scene_id,
        aoi_id=aoi_id,
        reflectance=np.full((5, *shape), 0.1, dtype=np.float32),
        scl=np.full(shape, 6, dtype=np.uint8),
        valid=np.ones(shape, dtype=bool),
        transform=Affine(10.0, 0.0, 620_000.0, 0.0, -10.0, 4_670_000.0),
        epsg=32652,
    )


#: A pixel origin (``pipeline.read.pixel_origin.scene_origin``) for the cache tests.
ORIGIN = "0123456789abcdef"
#: A reference key for the path tests.
KEY = ReferenceKey(
    aoi_id="rajin-port",
    aoi_key="abc",
    source="earth-search",
    period=(date(2019, 1, 1), date(2023, 6, 30)),
    excluded=(),
    detector_version="v1",
)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("hostile", [h for h in HOSTILE_IDS if h])
def test_hostile_scene_ids_stay_inside_the_chip_cache(hostile: str, tmp_path: Path) -> None:
    root = tmp_path / "data" / "chips"
    cache = ChipCache(root)
    aoi = _rajin()
    path = cache.path_for(hostile, ORIGIN, aoi)
    assert path.resolve().is_relative_to(root.resolve())
    assert path.parent.parent.parent == root
    written = cache.put(_chip(hostile, aoi.id), ORIGIN, aoi)
    assert written == path
    assert _files(tmp_path) == [path]
    cached = cache.get(hostile, ORIGIN, aoi)
    if "\x00" not in hostile:  # a TIFF tag ends at NUL (the normaliser refuses such ids)
        assert cached is not None
        assert cached.scene_id == hostile


@pytest.mark.parametrize("hostile", [h for h in HOSTILE_IDS if h != "."])
def test_an_aoi_built_around_the_parser_cannot_escape_either(hostile: str, tmp_path: Path) -> None:
    aoi = dataclasses.replace(_rajin(), id=hostile)
    cache = ChipCache(tmp_path / "chips")
    with pytest.raises(UnsafePathError):
        cache.put(_chip("S2A_x", hostile), ORIGIN, aoi)
    with pytest.raises(UnsafePathError):
        reference_path(tmp_path / "references", dataclasses.replace(KEY, aoi_id=hostile))
    assert _files(tmp_path) == []


def test_reference_files_are_named_by_safe_aoi_ids(tmp_path: Path) -> None:
    path = reference_path(tmp_path, KEY)
    assert path == tmp_path / "rajin-port" / f"{KEY.digest}.npz"


@pytest.mark.parametrize("bad", ["x\x00y", "line\nbreak", "tab\tid", "\x7f", "", "   ", "a" * 300])
def test_the_normaliser_refuses_ids_unfit_for_logs_and_paths(bad: str) -> None:
    item = {"type": "Feature", "id": bad, "properties": {}, "assets": {}}
    with pytest.raises(SceneMetadataError):
        normalise_item(item, source="t")


def test_export_writes_only_its_two_files_whatever_the_ids(tmp_path: Path) -> None:
    db = tmp_path / "store" / "rasonwatch.sqlite"
    db.parent.mkdir()
    with Store(db) as store:
        for i, hostile in enumerate(h for h in HOSTILE_IDS if h):
            when = datetime(2023, 9, 1 + i, tzinfo=UTC)
            store.write(Observation("rajin-port", hostile, when, "t", "local", ships=1))
    out = tmp_path / "export"
    summary = export_store(db, out)
    assert summary.n_observations == len([h for h in HOSTILE_IDS if h])
    written = [p.relative_to(tmp_path) for p in _files(tmp_path) if p.parent != db.parent]
    assert written == [Path("export/detections.parquet"), Path("export/observations.csv")]


# --- report escaping beyond test_report_render.py ------------------------------------------------
EVIL_NAME = '<script>alert("aoi")</script><img src=x onerror=alert(1)>'
EVIL_SOURCE = '"><iframe src=javascript:alert("source")>'


def test_aoi_names_and_claim_sources_are_escaped(tmp_path: Path) -> None:
    """AOI names (aoi/*.geojson) and claim sources reach the page only as text."""
    aoi_dir = tmp_path / "aoi"
    aoi_dir.mkdir()
    for source in DEFAULT_AOI_DIR.glob("*.geojson"):
        doc = json.loads(source.read_text())
        doc["features"][0]["properties"]["name"] = EVIL_NAME
        (aoi_dir / source.name).write_text(json.dumps(doc))
    claims = (Path(__file__).resolve().parents[2] / "seeds" / "claims.toml").read_text()
    lines = [
        f"source = {json.dumps(EVIL_SOURCE)}" if s.startswith("source =") else s
        for s in claims.splitlines()
    ]
    (tmp_path / "claims.toml").write_text("\n".join(lines) + "\n")
    db = fill_store(tmp_path / "rasonwatch.sqlite", demo_like(), doc=lambda o: {})
    result = write_report(
        db,
        tmp_path / "out",
        claims_path=tmp_path / "claims.toml",
        osint_path=None,
        settings=Settings(aoi_dir=aoi_dir),
    )
    html = result.path.read_text()
    for evil in (EVIL_NAME, EVIL_SOURCE):
        assert evil not in html
    assert "&lt;script&gt;alert(&quot;aoi&quot;)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;iframe src=javascript:alert(&quot;source&quot;)&gt;" in html
    assert "<iframe" not in html
    assert "<script" not in html
    assert " onerror=" not in html.replace("onerror=alert(1)&gt;", "")


# --- the test run itself is offline ---------------------------------------------------------------
def test_the_test_run_cannot_reach_the_internet() -> None:
    """``--block-network`` refuses any host but loopback (192.0.2.1 is TEST-NET-1: unroutable)."""
    with pytest.raises(RuntimeError, match="Network is disabled"):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)


@pytest.mark.slow
def test_prefect_server_telemetry_is_off_unless_the_operator_asks() -> None:
    import os
    import subprocess
    import sys

    code = "import os, pipeline; print(os.environ['PREFECT_SERVER_ANALYTICS_ENABLED'])"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_SERVER_ANALYTICS_ENABLED"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "false"
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "true"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "true"
