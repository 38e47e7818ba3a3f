"""Prefect: tasks, flows, deployment and artifacts. The only package that imports prefect.

See docs/ARCHITECTURE.md for what this package may import.
"""

from pipeline.flows.deployment import (
    DEFAULT_CRON,
    DEPLOYMENT_NAME,
    check_cron,
    serve_nightly,
    warn_if_dask_without_server,
)
from pipeline.flows.runs import backfill_flow, nightly_flow, on_dask, with_threads

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
