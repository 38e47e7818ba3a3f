"""Shared fixtures. Keep each one small and documented; group by topic.

Network: pytest runs with ``--block-network``; :func:`allowed_hosts` lets tests reach
servers on the loopback interface only (the Range file server and ``rustac serve``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers import RangeFileServer, RustacFactory, rustac_executable

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"


# --- network ----------------------------------------------------------------------------------
@pytest.fixture
def allowed_hosts() -> list[str]:
    """Hosts ``--block-network`` lets through: the loopback interface, nothing else."""
    return [r"^127\.0\.0\.1$", r"^localhost$", r"^::1$"]


# --- shared datasets --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``<repo>/../shared/datasets``; skips the test when a fresh clone has none."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS} (a fresh clone has none)")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def stac_recorded(shared_datasets: Path) -> Path:
    """Recorded real STAC items and cassettes (``stac-recorded/``)."""
    path = shared_datasets / "stac-recorded"
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


# --- local servers ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def http_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder that :func:`range_server` serves; tests write files into it."""
    return tmp_path_factory.mktemp("http-root")


@pytest.fixture(scope="session")
def range_server(http_root: Path) -> Iterator[RangeFileServer]:
    """A Range-capable HTTP/1.1 file server on 127.0.0.1 over :func:`http_root`."""
    with RangeFileServer(http_root) as server:
        yield server


@pytest.fixture(scope="session")
def rustac(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RustacFactory]:
    """Starts ``rustac serve`` (127.0.0.1, free port) on item files: ``rustac.start([path])``.

    Every server is stopped at session end. Skips when rustac is not installed.
    """
    if rustac_executable() is None:
        pytest.skip("rustac is not installed (pip install rustac)")
    factory = RustacFactory(tmp_path_factory.mktemp("rustac-logs"))
    yield factory
    factory.stop_all()


# --- Prefect and a small simulated archive (flows) ----------------------------------------------
# Prefect keeps its home (profiles, local results, the ephemeral server's database) under
# PREFECT_HOME; tests get a private one, set before prefect is first imported. Telemetry off:
# the tests have no network, and nothing should try.
_PREFECT_HOME = tempfile.mkdtemp(prefix="rasonwatch-prefect-")
atexit.register(shutil.rmtree, _PREFECT_HOME, True)
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")
os.environ.pop("PREFECT_API_URL", None)  # never a real server from the developer's shell

#: A few months over both AOIs, one scene every 5 days, mostly clear: enough clear scenes
#: for both references, small enough for a whole backfill in a few seconds.
SMALL_SCENARIO = """
seed = 3
start = "2022-05-01"
end = "2022-06-30"
revisit_days = 5
cloud_probability = 0.1
[[aoi]]
id = "rajin-port"
activity = [ { from = "2021-01-01", ships = 3 } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2021-01-01", railcars = 40 } ]
"""


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect test server (``prefect_test_harness``) for the session; yields its API URL.

    Subprocesses (CLI runs, ``rasonwatch serve``) reach it through ``PREFECT_API_URL`` in
    :func:`prefect_env`; in-process flows through the harness's settings context.
    """
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = str(PREFECT_API_URL.value())
        assert url.startswith("http://127.0.0.1"), url
        yield url


@pytest.fixture(scope="session")
def prefect_env(prefect_api: str) -> dict[str, str]:
    """Environment for a subprocess that talks to the session's Prefect server."""
    return {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SIMULATED archive of :data:`SMALL_SCENARIO` (13 scenes), written once."""
    from pipeline.simulate import parse_scenario, write_archive

    out = tmp_path_factory.mktemp("small") / "archive"
    write_archive(parse_scenario(SMALL_SCENARIO, where="small.toml"), out)
    return out


@dataclass(frozen=True)
class Baseline:
    """An uninterrupted, inline backfill of the whole small archive."""

    data_dir: Path
    """Its data folder (chips, references)."""
    db: Path
    """Its store."""
    summary: dict[str, Any]
    """What the flow returned."""


@pytest.fixture(scope="session")
def baseline(
    prefect_api: str, small_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> Baseline:
    """The reference run other flow tests compare against (threads, batches of 4)."""
    from flow_helpers import END, START

    from pipeline.flows import backfill_flow

    data = tmp_path_factory.mktemp("baseline") / "data"
    summary = backfill_flow(
        start=START, end=END, source=str(small_archive), data_dir=str(data), batch_size=4
    )
    return Baseline(data, data / "rasonwatch.sqlite", summary)
