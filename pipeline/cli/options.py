"""The command line's shared options, and the run options they make."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.run.options import RunOptions

SourceOption = Annotated[
    str,
    typer.Option(
        "--source",
        help="earth-search | planetary-computer | cdse | a STAC API URL | a local catalog folder.",
    ),
]
AoiOption = Annotated[
    list[str] | None,
    typer.Option("--aoi", help="AOI id from aoi/ or a GeoJSON path; repeat; default: all."),
]
DbOption = Annotated[
    Path | None, typer.Option("--db", help="Results store (default: <data-dir>/rasonwatch.sqlite).")
]
DataDirOption = Annotated[
    Path, typer.Option("--data-dir", help="Output folder: chip cache, references, store.")
]
DaskOption = Annotated[
    str | None,
    typer.Option("--dask-address", help="Run scene tasks on this Dask scheduler (tcp://...)."),
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the chip cache.")
]
ConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", help="Batches of scenes in flight at once.")
]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Scenes per Prefect task.")]
ReferencePeriodOption = Annotated[
    str | None,
    typer.Option(
        "--reference-period",
        help="START..END: the scenes each AOI's reference is built from, every claim's test "
        "window left out [default: 2019-01-01..2023-06-30].",
    ),
]
OverlapOption = Annotated[
    int, typer.Option("--overlap-days", help="Days re-searched before the last scene processed.")
]


def run_options(
    aoi: list[str] | None,
    source: str,
    db: Path | None,
    data_dir: Path,
    no_cache: bool,
    concurrency: int,
    batch_size: int,
    reference_period: str | None,
) -> RunOptions:
    """The flow commands' options as one :class:`~pipeline.run.options.RunOptions`.

    Raises:
        InvalidDateRangeError: ``--reference-period`` is not a period.
    """
    from pipeline.geo.dates import parse_period

    return RunOptions(
        source=source,
        db=str(db) if db is not None else None,
        data_dir=str(data_dir),
        aois=tuple(aoi or ()),
        use_cache=not no_cache,
        concurrency=concurrency,
        batch_size=batch_size,
        show_progress=True,
        reference_period=parse_period(reference_period) if reference_period else None,
    )
