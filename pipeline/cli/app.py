"""The ``rasonwatch`` command line: a thin typer layer over the pipeline.

Domain errors (:class:`~pipeline.errors.RasonWatchError`) become one line on stderr and
exit code 2; usage errors exit 2 as click does. With ``--json``, stdout carries the JSON
alone and progress goes to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from pipeline.cli.bench_commands import bench_app
from pipeline.cli.options import (
    AoiOption,
    BatchOption,
    ConcurrencyOption,
    DaskOption,
    DataDirOption,
    DbOption,
    NoCacheOption,
    OverlapOption,
    ReferencePeriodOption,
    SourceOption,
    run_options,
)
from pipeline.config import DEFAULT_DATA_DIR, DEFAULT_SOURCE, Settings
from pipeline.errors import RasonWatchError
from pipeline.run.options import (
    BATCH_SIZE,
    CONCURRENCY,
    DEFAULT_CRON,
    DEPLOYMENT_NAME,
    OVERLAP_DAYS,
)

app = typer.Typer(
    name="rasonwatch",
    help="Sentinel-2 evidence about trade at Rason: ships at Rajin, railcars at Tumangang.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON alone on stdout.")]


def _settings() -> Settings:
    return Settings()


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Option("--scenario", help="Scenario TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the archive into.")],
) -> None:
    """Write a SIMULATED STAC archive of Sentinel-2 scenes with ground truth (truth.csv)."""
    from pipeline.run.progress import progress_callback
    from pipeline.simulate import load_scenario, write_archive
    from pipeline.simulate.archive import check_out

    spec = load_scenario(scenario)
    check_out(out)  # before the progress bar, so that a bad --out is one line on stderr
    with progress_callback("simulating scenes") as tick:
        summary = write_archive(spec, out, progress=tick)
    typer.echo(f"SIMULATED archive: {summary}", err=True)


@app.command()
def scenes(
    aoi: Annotated[str, typer.Option("--aoi", help="AOI id from aoi/ or a GeoJSON path.")],
    start: Annotated[str, typer.Option("--start", help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last date (inclusive), YYYY-MM-DD.")],
    source: SourceOption = "earth-search",
    as_json: JsonOption = False,
) -> None:
    """List the scenes over an AOI, de-duplicated across overlapping tiles: the product of
    each scene (collection and level) and the months the source has no scene for, or only
    Level-1C."""
    from pipeline.cli.scene_table import print_scene_table
    from pipeline.geo.aoi import resolve_aoi
    from pipeline.geo.dates import parse_range
    from pipeline.sources import open_source
    from pipeline.sources.gaps import product_gaps
    from pipeline.sources.summary import scene_summary

    settings = _settings()
    first, last = parse_range(start, end)
    area = resolve_aoi(aoi, settings.aoi_dir)
    found = open_source(source, settings).search(area, first, last)
    gaps = product_gaps(found, first, last, source=source)
    if as_json:
        typer.echo(json.dumps([scene_summary(s) for s in found], indent=1))
        for line in gaps.lines():
            typer.echo(line, err=True)
    else:
        print_scene_table(found, title=f"{len(found)} scenes over {area.id}, {first} to {last}")
        for line in gaps.lines():
            typer.echo(line)


@app.command()
def demo(
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario TOML [default: the packaged demo scenario]."),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Output folder: archive, store, report.")
    ] = DEFAULT_DATA_DIR,
) -> None:
    """Simulate a SIMULATED archive (once per scenario), backfill it on every AOI through the
    Prefect flow, print the summary, a table per AOI and year and the claims' verdicts, and
    write quicklooks and the HTML report under --data-dir."""
    from pipeline.cli.demo import run_demo
    from pipeline.geo.safe_paths import check_output_dir

    check_output_dir(data_dir, what="--data-dir")
    run_demo(Settings(data_dir=data_dir), scenario)


def _report(summary: dict[str, object], as_json: bool) -> None:
    from pipeline.run.summary import print_summary

    if as_json:
        typer.echo(json.dumps(summary, indent=1))
    else:
        print_summary(summary)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--start", help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last date (inclusive), YYYY-MM-DD.")],
    aoi: AoiOption = None,
    source: SourceOption = DEFAULT_SOURCE,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    dask_address: DaskOption = None,
    no_cache: NoCacheOption = False,
    concurrency: ConcurrencyOption = CONCURRENCY,
    batch_size: BatchOption = BATCH_SIZE,
    reference_period: ReferencePeriodOption = None,
    as_json: JsonOption = False,
) -> None:
    """Process every scene over the AOIs in a date range; resumes, skips what is done."""
    from pipeline.cli import flow_commands

    options = run_options(
        aoi, source, db, data_dir, no_cache, concurrency, batch_size, reference_period
    )
    summary = flow_commands.backfill(
        start=start, end=end, options=options, dask_address=dask_address
    )
    _report(summary, as_json)


@app.command("run")
def run_nightly(
    aoi: AoiOption = None,
    source: SourceOption = DEFAULT_SOURCE,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    until: Annotated[
        str | None, typer.Option("--until", help="Last date to process (default: today, UTC).")
    ] = None,
    overlap_days: OverlapOption = OVERLAP_DAYS,
    dask_address: DaskOption = None,
    no_cache: NoCacheOption = False,
    concurrency: ConcurrencyOption = CONCURRENCY,
    batch_size: BatchOption = BATCH_SIZE,
    reference_period: ReferencePeriodOption = None,
    as_json: JsonOption = False,
) -> None:
    """Nightly: process what is new since the last processed scene (with an overlap)."""
    from pipeline.cli import flow_commands

    options = run_options(
        aoi, source, db, data_dir, no_cache, concurrency, batch_size, reference_period
    )
    summary = flow_commands.nightly(
        options=options, until=until, overlap_days=overlap_days, dask_address=dask_address
    )
    _report(summary, as_json)


@app.command()
def serve(
    cron: Annotated[str, typer.Option("--cron", help="When to run, UTC cron.")] = DEFAULT_CRON,
    aoi: AoiOption = None,
    source: SourceOption = DEFAULT_SOURCE,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    overlap_days: OverlapOption = OVERLAP_DAYS,
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = DEPLOYMENT_NAME,
    reference_period: ReferencePeriodOption = None,
) -> None:
    """Serve the nightly flow as a Prefect deployment on a cron schedule (until Ctrl-C)."""
    from pipeline.cli import flow_commands

    options = run_options(
        aoi, source, db, data_dir, False, CONCURRENCY, BATCH_SIZE, reference_period
    )
    flow_commands.serve(cron=cron, options=options, overlap_days=overlap_days, name=name)


@app.command()
def export(
    db: DbOption = None,
    data_dir: DataDirOption = Path("data"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder (default: <data-dir>/export).")
    ] = None,
    detector_version: Annotated[
        str | None, typer.Option("--detector-version", help="Only this version (default: all).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write detections as GeoParquet (opens in QGIS) and observations as CSV."""
    from pipeline.cli import flow_commands
    from pipeline.run.checks import default_db

    result = flow_commands.export(
        db=default_db(db, data_dir),
        out=out if out is not None else data_dir / "export",
        detector_version=detector_version,
    )
    if as_json:
        typer.echo(json.dumps(result, indent=1))
    else:
        typer.echo(
            f"{result['n_detections']} detections -> {result['detections']}\n"
            f"{result['n_observations']} observations -> {result['observations']}"
        )


@app.command()
def cache(
    data_dir: DataDirOption = Path("data"),
    prune: Annotated[bool, typer.Option("--prune", help="Remove cached chips.")] = False,
    older_than: Annotated[
        float | None,
        typer.Option("--older-than", help="With --prune: only chips unused for DAYS."),
    ] = None,
    max_mb: Annotated[
        float | None,
        typer.Option("--max-mb", help="With --prune: least recently used until under MB."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Report the chip cache's size (data/chips), and prune it (all, by age or by size)."""
    from pipeline.cli import flow_commands

    report = flow_commands.cache(
        data_dir=data_dir, prune=prune, older_than_days=older_than, max_mb=max_mb
    )
    if as_json:
        typer.echo(json.dumps(report, indent=1))
        return
    if "pruned" in report:
        pruned = report["pruned"]
        typer.echo(f"pruned {pruned['files']} chips, {pruned['bytes'] / 1e6:.1f} MB")
    typer.echo(f"{report['root']}: {report['files']} chips, {report['bytes'] / 1e6:.1f} MB")
    for aoi_id, entry in report["aois"].items():
        typer.echo(f"  {aoi_id}: {entry['files']} chips, {entry['bytes'] / 1e6:.1f} MB")


ClaimsOption = Annotated[
    Path | None,
    typer.Option("--claims", help="Claims TOML file [default: seeds/claims.toml]."),
]
StoreOption = Annotated[
    Path | None,
    typer.Option("--db", help="Results store [default: data/rasonwatch.sqlite]."),
]
ReportOutOption = Annotated[Path, typer.Option("--out", help="Folder to write index.html into.")]


def _store_path(db: Path | None) -> Path:
    from pipeline.claims.evaluate import DB_NAME

    return db if db is not None else _settings().data_dir / DB_NAME


@app.command()
def evaluate(
    claims: ClaimsOption = None,
    db: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Test each claim against the stored observations: verdict, ratio, 95% CI, onset."""
    from pipeline.claims.evaluate import DEFAULT_CLAIMS, evaluate_store
    from pipeline.claims.table import print_verdict_table

    result = evaluate_store(_store_path(db), claims or DEFAULT_CLAIMS)
    if as_json:
        typer.echo(json.dumps([v.to_json() for v in result.verdicts], indent=1))
    else:
        print_verdict_table(result.verdicts)


@app.command()
def report(
    db: StoreOption = None,
    out: ReportOutOption = Path("data/report"),
    claims: ClaimsOption = None,
) -> None:
    """Write one self-contained, offline HTML report (OUT/index.html) from the store."""
    from pipeline.claims.evaluate import DEFAULT_CLAIMS
    from pipeline.report import write_report

    result = write_report(_store_path(db), out, claims_path=claims or DEFAULT_CLAIMS)
    typer.echo(str(result.path))


app.add_typer(bench_app, name="bench")


def _usage_error_line(exc: click.ClickException | typer.TyperException) -> str:
    """A usage error (missing or unknown option...) as one line, with where to find help."""
    context = getattr(exc, "ctx", None)
    path = getattr(context, "command_path", "rasonwatch")
    message = " ".join(exc.format_message().split())
    return f"rasonwatch: error: {message} (see '{path} --help')"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (2 for bad input of any kind)."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="rasonwatch", standalone_mode=False)
    except (click.exceptions.Exit, typer.Exit) as stop:
        return int(stop.exit_code)
    except (click.ClickException, typer.TyperException) as exc:  # typer vendors its own click
        if exc.format_message().strip():  # empty after no_args_is_help printed the help
            typer.echo(_usage_error_line(exc), err=True)
        return 2
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("rasonwatch: aborted", err=True)
        return 1
    except RasonWatchError as exc:
        message = " ".join(str(exc).split())
        typer.echo(f"rasonwatch: error: {message}", err=True)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
