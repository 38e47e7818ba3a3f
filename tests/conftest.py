"""Shared fixtures. Keep each one small and documented; group by topic.

Network: pytest runs with ``--block-network``; :func:`allowed_hosts` lets tests reach
servers on the loopback interface only (the Range file server and ``rustac serve``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
