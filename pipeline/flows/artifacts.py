"""What a flow run leaves in Prefect besides its state: the summary and the verdicts."""

from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from pipeline.claims.evaluate import evaluate_store
from pipeline.claims.table import verdict_markdown, verdict_rows
from pipeline.errors import RasonWatchError
from pipeline.run.summary import markdown


def _simulated(flag: bool) -> str:
    return " (SIMULATED)" if flag else ""


def publish_summary(command: str, summary: dict[str, Any]) -> None:
    """The run's table of scenes per AOI and its markdown summary."""
    create_table_artifact(
        table=summary["aois"],
        key=f"rasonwatch-{command}",
        description=f"rasonwatch {command}: scenes per AOI" + _simulated(summary["simulated"]),
    )
    create_markdown_artifact(
        markdown=markdown(summary),
        key=f"rasonwatch-{command}-summary",
        description=f"rasonwatch {command} summary" + _simulated(summary["simulated"]),
    )


def publish_verdicts(db: Path, command: str) -> None:
    """Evaluate the seed claims on the store and publish the verdicts as artifacts.

    The claims are a reading of the store, not part of processing: a claims file that
    cannot be evaluated is logged and the run still succeeds.
    """
    try:
        evaluation = evaluate_store(db)
    except RasonWatchError as exc:
        get_run_logger().warning("claims not evaluated: %s", exc)
        return
    simulated = _simulated(any(v.simulated for v in evaluation.verdicts))
    create_table_artifact(
        table=verdict_rows(evaluation.verdicts),
        key="rasonwatch-verdicts",
        description=f"rasonwatch {command}: claim verdicts" + simulated,
    )
    create_markdown_artifact(
        markdown=verdict_markdown(evaluation.verdicts),
        key="rasonwatch-verdicts-summary",
        description=f"rasonwatch {command}: verdicts summary" + simulated,
    )
