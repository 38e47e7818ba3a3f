"""Prefect: tasks, flows, deployment and artifacts. The only package that imports prefect.

See docs/ARCHITECTURE.md for what this package may import.
"""

from pipeline.flows.deployment import (
    check_cron,
    serve_nightly,
    warn_if_dask_without_server,
)
from pipeline.flows.runs import backfill_flow, nightly_flow, on_dask, with_threads
from pipeline.run.options import DEFAULT_CRON, DEPLOYMENT_NAME

__all__ = [
    "DEFAULT_CRON",
    "DEPLOYMENT_NAME",
    "backfill_flow",
    "check_cron",
    "nightly_flow",
    "on_dask",
    "serve_nightly",
    "warn_if_dask_without_server",
    "with_threads",
]
