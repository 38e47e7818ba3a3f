"""Scenes as JSON-ready summaries and as a table a person can read."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.types import Scene


def print_scene_table(scenes: Sequence[Scene], *, title: str) -> None:
    """Print scenes as a table on stdout; simulated scenes are labelled SIMULATED."""
    table = Table(title=title)
    columns = (
        "datetime (UTC)",
        "id",
        "product",
        "platform",
        "tile",
        "baseline",
        "cloud %",
        "offset",
    )
    for column in columns:
        table.add_column(column)
    for s in scenes:
        cells = (
            s.datetime.strftime("%Y-%m-%d %H:%M"),
            s.id + (" [SIMULATED]" if s.simulated else ""),
            f"{s.level} {s.collection}".strip(),
            s.platform,
            s.tile,
            s.processing_baseline,
            "" if s.cloud_cover is None else f"{s.cloud_cover:.0f}",
            s.offset_rule,
        )
        # Text() cells: metadata from STAC is never interpreted as console markup.
        table.add_row(*(Text(c) for c in cells))
    console = Console()
    # Piped output (no terminal) keeps whole ids rather than wrapping at 80 columns.
    Console(width=max(console.width, 150)).print(table)
