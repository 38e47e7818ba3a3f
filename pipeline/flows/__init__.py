"""Prefect: tasks, flows, deployment and artifacts. The only package that imports prefect.

See docs/ARCHITECTURE.md for what this package may import.
"""

from pipeline.flows.prefect_flows import (
    DEFAULT_CRON,
    DEPLOYMENT_NAME,
    backfill_flow,
    nightly_flow,
    on_dask,
    serve_nightly,
    with_threads,
)

__all__ = [
    "DEFAULT_CRON",
    "DEPLOYMENT_NAME",
    "backfill_flow",
    "nightly_flow",
    "on_dask",
    "serve_nightly",
    "with_threads",
]
