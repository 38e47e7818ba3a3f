"""``rasonwatch serve``: the nightly deployment exists on its cron, and a triggered run works."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from flow_helpers import END, count, rows, start_cli

from pipeline.flows import DEFAULT_CRON

pytestmark = pytest.mark.slow

DEPLOYMENT = "rasonwatch-nightly/test-nightly"
TIMEOUT_S = 300


def _wait_for_deployment(proc: subprocess.Popen[bytes], log: Path) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + TIMEOUT_S
    with get_client(sync_client=True) as client:
        while True:
            assert proc.poll() is None, f"serve exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the deployment never appeared"
            try:
                return client.read_deployment_by_name(DEPLOYMENT)
            except ObjectNotFound:
                time.sleep(0.5)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)


def test_served_deployment_has_its_cron_and_a_triggered_run_writes_the_store(
    prefect_env: dict[str, str], small_archive: Path, tmp_path: Path
) -> None:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    data = tmp_path / "data"
    db = data / "rasonwatch.sqlite"
    log = tmp_path / "serve.log"
    args = ["serve", "--source", str(small_archive), "--data-dir", str(data)]
    proc = start_cli([*args, "--aoi", "rajin-port", "--name", "test-nightly"], prefect_env, log)
    try:
        deployment = _wait_for_deployment(proc, log)
        crons = [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules]
        assert crons == [(DEFAULT_CRON, "UTC", True)]
        assert deployment.parameters["data_dir"] == str(data.resolve())
        assert count(db) == 0  # registering ran nothing

        flow_run = run_deployment(
            DEPLOYMENT,
            parameters={"until": END.isoformat(), "lookback_days": 90},
            timeout=TIMEOUT_S,
        )
        assert isinstance(flow_run, FlowRun)
        assert flow_run.state is not None
        assert flow_run.state.is_completed(), (flow_run.state, log.read_text()[-3000:])
    finally:
        _stop(proc)
    stored = rows(db, "SELECT aoi, status FROM observations")
    assert stored
    assert {aoi for aoi, _ in stored} == {"rajin-port"}
    assert {status for _, status in stored} == {"ok"}
    assert rows(db, "SELECT command, n_ok FROM runs WHERE finished_at IS NOT NULL") == [
        ("run", len(stored))
    ]
