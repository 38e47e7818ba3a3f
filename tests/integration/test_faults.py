"""The fault-injecting proxy injects what it says, and a backfill through it loses nothing.

Unit tests fetch a byte range with ``requests`` through :class:`faults.FaultProxy` at rate 1.0
for each kind, and at rate 0 (transparent). The end-to-end test serves the small SIMULATED
archive's COGs through the proxy at a 20 % fault rate and checks that the backfill completes,
records every scene as ``ok`` or ``failed`` with a reason, writes no duplicate, that a re-run
without faults completes the failed scenes, and that every scene that succeeded under faults
has the same result as in a fault-free run.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import requests
from conftest import Baseline
from faults import KINDS, FaultProxy, FaultRates, faulty_serving
from flow_helpers import AOIS, END, START, duplicates, rows
from servers import RangeFileServer

pytestmark = pytest.mark.slow

PAYLOAD = bytes(range(256)) * 64  # 16 KiB, every byte value
RANGE = (1000, 5999)
CLIENT_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RangeFileServer]:
    """A Range file server over one known file, ``/data.bin``."""
    root = tmp_path_factory.mktemp("faults-root")
    (root / "data.bin").write_bytes(PAYLOAD)
    with RangeFileServer(root) as server:
        yield server


def _get(url: str, *, session: requests.Session | None = None) -> requests.Response:
    first, last = RANGE
    client = session or requests
    return client.get(
        url + "/data.bin", headers={"Range": f"bytes={first}-{last}"}, timeout=CLIENT_TIMEOUT_S
    )


def _proxy(upstream: RangeFileServer, rates: FaultRates, **options: Any) -> FaultProxy:
    return FaultProxy(upstream.url, rates, seed=1, **options)


def test_rate_zero_is_transparent(upstream: RangeFileServer) -> None:
    direct = _get(upstream.url)
    with _proxy(upstream, FaultRates()) as proxy, requests.Session() as session:
        answers = [_get(proxy.url, session=session) for _ in range(5)]  # keep-alive reuse
        assert proxy.requests == 5
        assert proxy.faults_total == 0
    for answer in answers:
        assert answer.status_code == 206
        assert answer.content == PAYLOAD[RANGE[0] : RANGE[1] + 1] == direct.content
        assert answer.headers["Content-Range"] == direct.headers["Content-Range"]
        assert answer.headers["Content-Length"] == str(RANGE[1] - RANGE[0] + 1)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(upstream: RangeFileServer, status: int) -> None:
    with _proxy(upstream, FaultRates.only("server_error")) as proxy:
        seen = {_get(proxy.url).status_code for _ in range(30)}
        assert proxy.faults()["server_error"] == 30
    assert status in seen
    assert seen <= {500, 502, 503}


def test_expired_token_is_an_azure_403(upstream: RangeFileServer) -> None:
    with _proxy(upstream, FaultRates.only("expired_token")) as proxy:
        answer = _get(proxy.url)
        assert proxy.faults() == {k: int(k == "expired_token") for k in KINDS}
    assert answer.status_code == 403
    assert answer.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert "<Code>AuthenticationFailed</Code>" in answer.text
    assert "Signed expiry time" in answer.text


def test_timeout_exceeds_the_client_timeout_and_is_bounded(upstream: RangeFileServer) -> None:
    with _proxy(upstream, FaultRates.only("timeout"), hang_s=CLIENT_TIMEOUT_S + 0.5) as proxy:
        began = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            _get(proxy.url)
        assert time.monotonic() - began >= CLIENT_TIMEOUT_S
        assert proxy.faults()["timeout"] == 1
        began = time.monotonic()
    assert time.monotonic() - began < 5  # stopping wakes the hanging handler


def test_slow_answers_late_but_right(upstream: RangeFileServer) -> None:
    with _proxy(upstream, FaultRates.only("slow"), slow_s=0.2) as proxy:
        began = time.monotonic()
        answer = _get(proxy.url)
        elapsed = time.monotonic() - began
        assert proxy.faults()["slow"] == 1
    assert elapsed >= 0.2
    assert answer.status_code == 206
    assert answer.content == PAYLOAD[RANGE[0] : RANGE[1] + 1]


def test_reset_is_a_connection_error(upstream: RangeFileServer) -> None:
    with _proxy(upstream, FaultRates.only("reset")) as proxy:
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            _get(proxy.url)
        assert proxy.faults()["reset"] == 1
    assert "reset" in str(caught.value).lower() or "aborted" in str(caught.value).lower()


def test_truncated_body_is_shorter_than_its_content_length(upstream: RangeFileServer) -> None:
    expected = RANGE[1] - RANGE[0] + 1
    with _proxy(upstream, FaultRates.only("truncated")) as proxy:
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            _get(proxy.url)
        host, port = proxy.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=CLIENT_TIMEOUT_S)
        try:
            conn.request("GET", "/data.bin", headers={"Range": f"bytes={RANGE[0]}-{RANGE[1]}"})
            answer = conn.getresponse()
            assert answer.status == 206
            assert answer.getheader("Content-Length") == str(expected)
            with pytest.raises(http.client.IncompleteRead) as caught:
                answer.read()
        finally:
            conn.close()
        assert proxy.faults()["truncated"] == 2
    got = caught.value.partial
    assert 0 < len(got) < expected
    assert got == PAYLOAD[RANGE[0] : RANGE[0] + len(got)]


def test_truncated_head_becomes_a_reset(upstream: RangeFileServer) -> None:
    with _proxy(upstream, FaultRates.only("truncated")) as proxy:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.head(proxy.url + "/data.bin", timeout=CLIENT_TIMEOUT_S)
        assert proxy.faults()["reset"] == 1


def test_mixed_rates_are_seeded_and_counted(upstream: RangeFileServer) -> None:
    def run() -> dict[str, int]:
        proxy = FaultProxy(upstream.url, FaultRates.mixed(0.5), seed=42, slow_s=0, hang_s=0)
        with proxy:
            for n in range(200):
                proxy.draw(f"GET /data.bin bytes={n}-", has_body=True)
            return proxy.faults()

    first, second = run(), run()
    assert first == second
    assert 70 <= sum(first.values()) <= 130
    assert all(first[kind] > 0 for kind in KINDS)


def test_rates_are_validated() -> None:
    with pytest.raises(ValueError, match="at most 1"):
        FaultRates(server_error=0.6, reset=0.6)
    with pytest.raises(ValueError, match="within"):
        FaultRates(slow=-0.1)
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRates.only("gremlins")
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        FaultProxy("http://example.com", FaultRates())


# --- end to end: a backfill at a 20 % fault rate ---------------------------------------------
#: Result columns of ``observations`` (not run ids, sources or times).
_RESULT = "aoi, scene_id, datetime, clear_fraction, ships, railcar_equivalents, occupied_track_m"
#: 20 % of requests faulted; few hangs, since each costs a whole GDAL timeout (1 s here).
E2E_RATES = FaultRates(
    server_error=0.05, slow=0.02, timeout=0.01, reset=0.05, truncated=0.04, expired_token=0.03
)


@contextlib.contextmanager
def _fast_retries() -> Iterator[None]:
    """Short GDAL timeout and retry delays, so that a faulty backfill takes seconds.

    The flow builds its own ``Settings`` (``pipeline.run.job.Settings``), whose GDAL options
    default to ``pipeline.config.GDAL_ENV`` at construction time, looks its tasks up in
    ``pipeline.flows.tasks`` when it runs, and waits
    ``pipeline.run.reference_choice.SURVEY_RETRY_DELAYS`` between survey rounds; all four are
    patched for the duration of the block.
    """
    import pipeline.config as config
    from pipeline.config import Settings
    from pipeline.flows import tasks
    from pipeline.run import job, reference_choice

    gdal = {**config.GDAL_ENV, "GDAL_HTTP_TIMEOUT": "1", "GDAL_HTTP_RETRY_DELAY": "0.05"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "GDAL_ENV", MappingProxyType(gdal))
        patch.setattr(job, "Settings", functools.partial(Settings, retry_backoff_s=0.05))
        rounds = [0.1] * len(reference_choice.SURVEY_RETRY_DELAYS)
        patch.setattr(reference_choice, "SURVEY_RETRY_DELAYS", rounds)
        for name, delays in (("process_scenes", [0.1, 0.2]), ("build_reference", [0.1])):
            task = getattr(tasks, name)
            patch.setattr(tasks, name, task.with_options(retry_delay_seconds=delays))
        yield


def _served_catalog(archive: Path, proxy: FaultProxy, out: Path) -> Path:
    """``items.ndjson`` of ``archive`` with every asset href a URL through ``proxy``."""
    out.mkdir()
    lines = []
    for line in (archive / "items.ndjson").read_text().splitlines():
        item = json.loads(line)
        for asset in item["assets"].values():
            asset["href"] = proxy.href(asset["href"])
        item["links"] = []
        lines.append(json.dumps(item))
    (out / "items.ndjson").write_text("\n".join(lines) + "\n")
    return out


def _backfill(source: Path, data: Path) -> tuple[dict[str, Any], float]:
    from pipeline.flows import backfill_flow

    began = time.monotonic()
    summary = backfill_flow(
        start=START, end=END, source=str(source), data_dir=str(data), use_cache=False, batch_size=4
    )
    return summary, time.monotonic() - began


def _results(db: Path) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(r[0], r[1]): r for r in rows(db, f"SELECT {_RESULT} FROM observations")}


@dataclass(frozen=True)
class FaultyRun:
    """A backfill through the proxy at :data:`E2E_RATES`, then a re-run without faults."""

    expected: frozenset[tuple[str, str]]
    """Every ``(aoi, scene_id)`` the source lists."""
    stored: list[tuple[Any, ...]]
    """``(aoi, scene_id, status, error)`` after the faulty run."""
    results: dict[tuple[str, str], tuple[Any, ...]]
    """Result columns after the faulty run."""
    summary: dict[str, Any]
    """What the faulty run returned."""
    duplicates: int
    """Duplicate keys after the faulty run."""
    rerun: dict[str, Any]
    """What the fault-free re-run returned."""
    after_rerun: list[tuple[Any, ...]]
    """``(aoi, scene_id, status)`` after the re-run."""
    duplicates_after_rerun: int
    """Duplicate keys after the re-run."""
    faults: dict[str, int]
    """Faults injected during the faulty run, by kind."""
    requests: int
    """Requests the proxy saw during the faulty run."""
    seconds: float
    """Wall time of the faulty run."""
    clean_seconds: float
    """Wall time of the same backfill through the proxy without faults, into a fresh store."""

    @property
    def ok(self) -> set[tuple[str, str]]:
        """Scenes stored ``ok`` by the faulty run."""
        return {(a, s) for a, s, status, _ in self.stored if status == "ok"}

    @property
    def failed(self) -> dict[tuple[str, str], str]:
        """Scenes stored ``failed`` by the faulty run, with their reasons."""
        return {(a, s): e for a, s, status, e in self.stored if status == "failed"}


@pytest.fixture(scope="module")
def faulty_run(
    prefect_api: str, small_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> FaultyRun:
    """The small archive's COGs served through the proxy; a faulty backfill, then a re-run."""
    from pipeline.config import Settings
    from pipeline.geo.aoi import resolve_aoi
    from pipeline.sources import open_source

    tmp = tmp_path_factory.mktemp("faulty")
    settings = Settings()
    with (
        _fast_retries(),
        faulty_serving(small_archive, E2E_RATES, seed=6, slow_s=0.1, hang_s=1.5) as (proxy, _),
    ):
        source = _served_catalog(small_archive, proxy, tmp / "catalog")
        expected = frozenset(
            (aoi, scene.id)
            for aoi in AOIS
            for scene in open_source(str(source), settings).search(
                resolve_aoi(aoi, settings.aoi_dir), START, END
            )
        )
        db = tmp / "data" / "rasonwatch.sqlite"
        summary, seconds = _backfill(source, db.parent)
        faults, requested = proxy.faults(), proxy.requests
        stored = rows(db, "SELECT aoi, scene_id, status, error FROM observations")
        results, dupes = _results(db), duplicates(db)
        proxy.set_rates(FaultRates())
        rerun, _ = _backfill(source, db.parent)
        _, clean_seconds = _backfill(source, tmp / "clean")
    run = FaultyRun(
        expected=expected,
        stored=stored,
        results=results,
        summary=summary,
        duplicates=dupes,
        rerun=rerun,
        after_rerun=rows(db, "SELECT aoi, scene_id, status FROM observations"),
        duplicates_after_rerun=duplicates(db),
        faults=faults,
        requests=requested,
        seconds=seconds,
        clean_seconds=clean_seconds,
    )
    figures = {
        "scenes": len(expected),
        "ok": len(run.ok),
        "failed": len(run.failed),
        "lost": len(expected - run.ok - set(run.failed)),
        "duplicates": dupes,
        "seconds": round(seconds, 1),
        "seconds_without_faults": round(clean_seconds, 1),
        "requests": requested,
        "faults": faults,
    }
    print(f"\nfault figures: {json.dumps(figures)}")
    return run


def test_faulty_backfill_records_every_scene_once(faulty_run: FaultyRun) -> None:
    run = faulty_run
    assert sum(run.faults.values()) > 0.1 * run.requests
    assert all(count > 0 for count in run.faults.values()), run.faults
    assert {(a, s) for a, s, _, _ in run.stored} == run.expected  # nothing lost
    assert len(run.stored) == len(run.expected)
    assert run.duplicates == 0
    # Timeouts, 5xx and expired tokens are retried (each attempt signs afresh), so most or
    # all scenes end ok; whatever failed carries a one-line reason.
    assert len(run.ok) > len(run.expected) / 2
    assert all(reason and reason.strip() and "\n" not in reason for reason in run.failed.values())
    assert run.summary["ok"] == len(run.ok)
    assert run.summary["failed"] == len(run.failed)


def test_rerun_without_faults_completes_the_failed_ones(faulty_run: FaultyRun) -> None:
    run = faulty_run
    assert run.rerun["ok"] == len(run.failed)
    assert run.rerun["failed"] == 0
    assert run.rerun["skipped"] == len(run.ok)
    assert {(a, s) for a, s, status in run.after_rerun if status == "ok"} == run.expected
    assert len(run.after_rerun) == len(run.expected)
    assert run.duplicates_after_rerun == 0


def test_fault_free_baseline_matches_an_http_read(
    baseline: Baseline, faulty_run: FaultyRun
) -> None:
    """The baseline reads local files; with no fault, HTTP reads must give the same rows."""
    clean = _results(baseline.db)
    assert set(clean) == faulty_run.expected


def test_scenes_ok_under_faults_match_a_fault_free_run(
    baseline: Baseline, faulty_run: FaultyRun
) -> None:
    clean = _results(baseline.db)
    ok = sorted(faulty_run.ok)
    assert [faulty_run.results[key] for key in ok] == [clean[key] for key in ok]
