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

from pipeline.config import Settings
from pipeline.errors import RasonWatchError

app = typer.Typer(
    name="rasonwatch",
    help="Sentinel-2 evidence about trade at Rason: ships at Rajin, railcars at Tumangang.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks whose output is reported, never asserted as timings.")
app.add_typer(bench_app, name="bench")

SourceOption = Annotated[
    str,
    typer.Option(
        "--source",
        help="earth-search | planetary-computer | cdse | a STAC API URL | a local catalog folder.",
    ),
]
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
    """List the scenes over an AOI, de-duplicated across overlapping tiles."""
    from pipeline.cli.scene_table import print_scene_table
    from pipeline.geo.aoi import resolve_aoi
    from pipeline.geo.dates import parse_range
    from pipeline.sources import open_source
    from pipeline.sources.summary import scene_summary

    settings = _settings()
    first, last = parse_range(start, end)
    area = resolve_aoi(aoi, settings.aoi_dir)
    found = open_source(source, settings).search(area, first, last)
    if as_json:
        typer.echo(json.dumps([scene_summary(s) for s in found], indent=1))
    else:
        print_scene_table(found, title=f"{len(found)} scenes over {area.id}, {first} to {last}")


@app.command()
def demo() -> None:
    """Simulate the demo archive (once), list its scenes and write RGB quicklooks under data/."""
    from pipeline.cli.demo import run_demo

    run_demo(_settings())


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
    source: SourceOption = "earth-search",
    db: DbOption = None,
    data_dir: DataDirOption = Path("data"),
    dask_address: DaskOption = None,
    no_cache: NoCacheOption = False,
    concurrency: ConcurrencyOption = 2,
    batch_size: BatchOption = 8,
    reference_period: ReferencePeriodOption = None,
    as_json: JsonOption = False,
) -> None:
    """Process every scene over the AOIs in a date range; resumes, skips what is done."""
    from pipeline.cli import flow_commands

    summary = flow_commands.backfill(
        start=start,
        end=end,
        aois=aoi or [],
        source=source,
        db=db,
        data_dir=data_dir,
        dask_address=dask_address,
        use_cache=not no_cache,
        concurrency=concurrency,
        batch_size=batch_size,
        reference_period=reference_period,
        progress=True,
    )
    _report(summary, as_json)


@app.command("run")
def run_nightly(
    aoi: AoiOption = None,
    source: SourceOption = "earth-search",
    db: DbOption = None,
    data_dir: DataDirOption = Path("data"),
    until: Annotated[
        str | None, typer.Option("--until", help="Last date to process (default: today, UTC).")
    ] = None,
    overlap_days: OverlapOption = 10,
    dask_address: DaskOption = None,
    no_cache: NoCacheOption = False,
    concurrency: ConcurrencyOption = 2,
    batch_size: BatchOption = 8,
    reference_period: ReferencePeriodOption = None,
    as_json: JsonOption = False,
) -> None:
    """Nightly: process what is new since the last processed scene (with an overlap)."""
    from pipeline.cli import flow_commands

    summary = flow_commands.nightly(
        aois=aoi or [],
        source=source,
        db=db,
        data_dir=data_dir,
        until=until,
        overlap_days=overlap_days,
        dask_address=dask_address,
        use_cache=not no_cache,
        concurrency=concurrency,
        batch_size=batch_size,
        reference_period=reference_period,
        progress=True,
    )
    _report(summary, as_json)


@app.command()
def serve(
    cron: Annotated[str, typer.Option("--cron", help="When to run, UTC cron.")] = "0 3 * * *",
    aoi: AoiOption = None,
    source: SourceOption = "earth-search",
    db: DbOption = None,
    data_dir: DataDirOption = Path("data"),
    overlap_days: OverlapOption = 10,
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "nightly",
    reference_period: ReferencePeriodOption = None,
) -> None:
    """Serve the nightly flow as a Prefect deployment on a cron schedule (until Ctrl-C)."""
    from pipeline.cli import flow_commands

    flow_commands.serve(
        cron=cron,
        aois=aoi or [],
        source=source,
        db=db,
        data_dir=data_dir,
        overlap_days=overlap_days,
        name=name,
        reference_period=reference_period,
    )


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

    result = flow_commands.export(
        db=flow_commands.default_db(db, data_dir),
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


@bench_app.command("ships")
def bench_ships(
    dataset_dir: Annotated[Path, typer.Argument(help="Folder laid out like sen2ships-dev.")],
    as_json: JsonOption = False,
) -> None:
    """Score the single-date ship detector on labelled port crops (F1 per port and overall)."""
    from pipeline.bench.sen2ships import print_ship_bench, run_ship_bench

    result = run_ship_bench(dataset_dir)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        print_ship_bench(result)


@bench_app.command("io")
def bench_io(
    archive: Annotated[Path, typer.Option("--archive", help="Folder written by simulate.")],
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Latency injected per HTTP request.")
    ] = 30.0,
    scenes: Annotated[int, typer.Option("--scenes", help="Scenes to load per loader.")] = 20,
    threads: Annotated[int, typer.Option("--threads", help="Concurrent reads per loader.")] = 4,
    as_json: JsonOption = False,
) -> None:
    """Race our loader against odc-stac on the same windows over loopback HTTP."""
    from pipeline.bench.io import print_io_bench, run_io_bench

    result = run_io_bench(archive, latency_ms=latency_ms, scenes=scenes, threads=threads)
    print_io_bench(result, as_json=as_json)


@bench_app.command("sim")
def bench_sim(
    archive: Annotated[Path, typer.Option("--archive", help="Folder written by simulate.")],
    as_json: JsonOption = False,
) -> None:
    """Score ship counts and railcar-equivalents against a SIMULATED archive's truth.csv."""
    from pipeline.bench.simulated import print_sim_bench, run_sim_bench
    from pipeline.run.progress import STDERR

    def progress(label: str, done: int, total: int) -> None:
        if done == total:
            STDERR.print(f"{label}: {done}/{total}")

    result = run_sim_bench(archive, _settings(), progress=progress)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        print_sim_bench(result)


@bench_app.command("backfill")
def bench_backfill(
    archive: Annotated[
        Path, typer.Option("--archive", help="Folder written by simulate (rasonwatch demo).")
    ] = Path("data/demo-archive"),
    start: Annotated[
        str | None, typer.Option("--start", help="First date (default: the archive's first).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last date (default: the archive's last).")
    ] = None,
    concurrency: ConcurrencyOption = 2,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="Measurements to run, comma-separated (default: all): prefect,plain,rerun,rss.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Time a backfill of a SIMULATED archive: end to end, re-run, Prefect's share, RSS, stages."""
    from pipeline.bench.backfill import (
        parse_only,
        parse_span,
        print_backfill_bench,
        run_backfill_bench,
    )
    from pipeline.run.progress import STDERR

    result = run_backfill_bench(
        archive,
        span=parse_span(start, end),
        concurrency=concurrency,
        progress=lambda line: STDERR.print(f"bench backfill: {line}"),
        only=parse_only(only),
    )
    print_backfill_bench(result, as_json=as_json)


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
