"""``--dask-address``: scene tasks on a Dask cluster give the store an inline run gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Baseline
from distributed import LocalCluster
from flow_helpers import END, START, detections, duplicates, observations, rows

from pipeline.flows import backfill_flow, on_dask

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    """A two-process ``distributed.LocalCluster`` on 127.0.0.1 (one thread per worker)."""
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    ) as local:
        yield local


# The reference (~17 MB at Rajin) goes to the cluster once per AOI, by design; Dask warns.
@pytest.mark.filterwarnings("ignore:Sending large graph:UserWarning")
def test_backfill_on_local_cluster_matches_inline(
    baseline: Baseline, small_archive: Path, cluster: LocalCluster, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    summary = on_dask(backfill_flow, str(cluster.scheduler_address))(
        start=START, end=END, source=str(small_archive), data_dir=str(data), batch_size=4
    )
    db = data / "rasonwatch.sqlite"
    assert summary["ok"] == baseline.summary["ok"]
    assert duplicates(db) == 0
    assert observations(db) == observations(baseline.db)
    assert detections(db) == detections(baseline.db)
    # The scene tasks really ran on the cluster's workers.
    assert cluster.scheduler is not None
    assert {"survey_chips", "process_scenes"} <= set(cluster.scheduler.task_prefixes)
    assert rows(db, "SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL") == [(1,)]
