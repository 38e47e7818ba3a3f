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
    from pipeline.progress import progress_callback
    from pipeline.simulate import load_scenario, write_archive

    spec = load_scenario(scenario)
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
    from pipeline.aoi import resolve_aoi
    from pipeline.dates import parse_range
    from pipeline.scene_table import print_scene_table, scene_summary
    from pipeline.sources import open_source

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
    from pipeline.demo import run_demo

    run_demo(_settings())


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


@bench_app.command("sim")
def bench_sim(
    archive: Annotated[Path, typer.Option("--archive", help="Folder written by simulate.")],
    as_json: JsonOption = False,
) -> None:
    """Score ship counts and railcar-equivalents against a SIMULATED archive's truth.csv."""
    from pipeline.bench.simulated import print_sim_bench, run_sim_bench
    from pipeline.progress import STDERR

    def progress(label: str, done: int, total: int) -> None:
        if done == total:
            STDERR.print(f"{label}: {done}/{total}")

    result = run_sim_bench(archive, _settings(), progress=progress)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        print_sim_bench(result)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (2 for bad input of any kind)."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="rasonwatch", standalone_mode=False)
    except click.exceptions.Exit as stop:
        return int(stop.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
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
