"""The nightly flow served as a Prefect deployment, and the checks its options need."""

import logging
from pathlib import Path
from typing import Any

from prefect.client.schemas.schedules import CronSchedule
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL
from prefect.types.entrypoint import EntrypointType

from pipeline.errors import InvalidOptionError
from pipeline.flows.runs import nightly_flow
from pipeline.run.options import DEFAULT_CRON, DEPLOYMENT_NAME

log = logging.getLogger(__name__)


def check_cron(cron: str) -> str:
    """The cron string, validated the way Prefect will read it.

    Raises:
        InvalidOptionError: not a valid 5-field cron expression.
    """
    try:
        CronSchedule(cron=cron, timezone="UTC")
    except ValueError as exc:
        reason = " ".join(str(exc).split())
        raise InvalidOptionError(
            f"--cron {cron!r} is not a cron expression ({reason}); e.g. {DEFAULT_CRON!r}"
        ) from None
    return cron


def warn_if_dask_without_server(dask_address: str | None) -> None:
    """Dask workers report task runs to ``PREFECT_API_URL``; without one, each starts its own."""
    if dask_address and not PREFECT_API_URL.value():
        log.warning(
            "--dask-address without PREFECT_API_URL: each Dask worker will start a temporary "
            "Prefect server of its own and its task runs will not show in this run; set "
            "PREFECT_API_URL to a Prefect server the workers can reach (docs/OPERATIONS.md)"
        )


def serve_nightly(*, cron: str, parameters: dict[str, Any], name: str = DEPLOYMENT_NAME) -> None:
    """Serve :func:`~pipeline.flows.runs.nightly_flow` on ``cron`` (UTC) until interrupted.

    Paths in ``parameters`` should be absolute: the runs start from the runner's folder.
    """
    for key in ("db", "data_dir"):
        if parameters.get(key):
            parameters[key] = str(Path(parameters[key]).resolve())
    nightly_flow.serve(
        name=name,
        schedule=Cron(cron, timezone="UTC"),
        parameters=parameters,
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="rason-watch nightly: new Sentinel-2 scenes over every AOI (UTC cron).",
        tags=["rasonwatch"],
    )
