"""The end-of-run summary: a JSON-ready dict, a markdown report and a table for people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.run.runner import AoiTally

TABLE_COLUMNS = ("aoi", "range", "scenes", "skipped", "ok", "failed", "seconds", "reference")


def summarise(
    command: str, tallies: Sequence[AoiTally], *, run_id: str, detector_version: str, db: str
) -> dict[str, Any]:
    """The summary a flow returns (and ``--json`` prints)."""
    return {
        "command": command,
        "run_id": run_id,
        "detector_version": detector_version,
        "db": db,
        "simulated": any(t.simulated for t in tallies),
        "ok": sum(t.ok for t in tallies),
        "failed": sum(t.failed for t in tallies),
        "skipped": sum(t.skipped for t in tallies),
        "aois": [t.row() for t in tallies],
        "failures": [
            {"aoi": t.aoi, "scene_id": s, "error": e} for t in tallies for s, e in t.failures
        ],
    }


def markdown(summary: Mapping[str, Any]) -> str:
    """A markdown report of ``summary`` (the Prefect markdown artifact)."""
    label = " (SIMULATED)" if summary["simulated"] else ""
    lines = [
        f"# rasonwatch {summary['command']}{label}",
        "",
        f"{summary['ok']} scenes processed ok, {summary['failed']} failed, "
        f"{summary['skipped']} already done. Detector `{summary['detector_version']}`, "
        f"store `{summary['db']}`, run `{summary['run_id']}`.",
        "",
        "| " + " | ".join(TABLE_COLUMNS) + " |",
        "|" + "---|" * len(TABLE_COLUMNS),
    ]
    for row in summary["aois"]:
        cells = (str(row[c]).replace("|", "/") for c in TABLE_COLUMNS)
        lines.append("| " + " | ".join(cells) + " |")
    if summary["failures"]:
        lines += ["", "## Failed scenes (a later run retries them)", ""]
        for f in summary["failures"]:
            lines.append(f"- `{f['aoi']}` `{f['scene_id']}`: {f['error']}")
    return "\n".join(lines) + "\n"


def print_summary(summary: Mapping[str, Any], *, console: Console | None = None) -> None:
    """Print ``summary`` as a table (and the failures) for a person."""
    if console is None:
        console = Console()
        if not console.is_terminal:  # a pipe or a file: no reason to squeeze into 80 columns
            console = Console(width=140)
    label = "SIMULATED " if summary["simulated"] else ""
    table = Table(title=f"{label}rasonwatch {summary['command']}: {summary['db']}")
    for column in TABLE_COLUMNS:
        table.add_column(column)
    for row in summary["aois"]:
        table.add_row(*(Text(str(row[c])) for c in TABLE_COLUMNS))
    console.print(table)
    for f in summary["failures"]:
        console.print(Text(f"failed: {f['aoi']} {f['scene_id']}: {f['error']}"))
