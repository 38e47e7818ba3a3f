"""``rasonwatch bench ...``: benchmarks whose output is reported, never asserted as timings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.options import DataDirOption
from pipeline.config import Settings
from pipeline.run.options import CONCURRENCY

bench_app = typer.Typer(help="Benchmarks whose output is reported, never asserted as timings.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON alone on stdout.")]


@bench_app.command("ships")
def bench_ships(
    dataset_dir: Annotated[Path, typer.Argument(help="Folder laid out like sen2ships-dev.")],
    detector: Annotated[
        str | None,
        typer.Option(
            "--detector",
            help="learned (the CNN) or legacy (the older detector); default: the one the "
            "flows use.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Score the single-date ship detector on labelled port crops (F1 per port and overall,
    ms per megapixel)."""
    from pipeline.bench.sen2ships import (
        DEFAULT_DETECTOR,
        DETECTORS,
        print_ship_bench,
        run_ship_bench,
    )
    from pipeline.errors import InvalidOptionError

    if detector is not None and detector not in DETECTORS:
        raise InvalidOptionError(f"--detector must be one of {', '.join(DETECTORS)}")
    result = run_ship_bench(dataset_dir, detector=detector or DEFAULT_DETECTOR)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        print_ship_bench(result)


@bench_app.command("train-ships")
def bench_train_ships(
    dataset_dir: Annotated[Path, typer.Argument(help="Folder laid out like sen2ships-dev.")],
    lopo: Annotated[
        bool, typer.Option("--lopo", help="Score leave-one-port-out first (six trainings).")
    ] = False,
    failures: Annotated[
        Path | None, typer.Option("--failures", help="Folder for the LOPO failure overlays.")
    ] = None,
) -> None:
    """Train the learned ship detector (needs the [train] extra: PyTorch) and write its
    weights and model card beside pipeline/detect/cnn.py."""
    from pipeline.errors import InvalidOptionError

    try:
        from pipeline.bench.train_cnn import main
    except ImportError as exc:
        raise InvalidOptionError(
            f"training needs PyTorch ({exc}); install the extra: pip install -e '.[train]'"
        ) from exc
    argv = [str(dataset_dir), *(["--lopo"] if lopo else [])]
    argv += ["--failures", str(failures)] if failures is not None else []
    raise typer.Exit(main(argv))


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
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Folder written by simulate.")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="Scenario TOML: simulate it under the data folder (or reuse the archive "
            "simulated before) and report issue 14's figures.",
        ),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    as_json: JsonOption = False,
) -> None:
    """Score ship counts and railcar-equivalents against a SIMULATED archive's truth."""
    from pipeline.errors import InvalidOptionError
    from pipeline.run.progress import STDERR

    if (archive is None) == (scenario is None):
        raise InvalidOptionError("bench sim takes exactly one of --archive and --scenario")

    def progress(label: str, done: int, total: int) -> None:
        if done == total:
            STDERR.print(f"{label}: {done}/{total}")

    if scenario is not None:
        from pipeline.bench.scenario_bench import print_scenario_bench, run_scenario_bench

        figures = run_scenario_bench(scenario, Settings(data_dir=data_dir), progress=progress)
        if as_json:
            typer.echo(json.dumps(figures))
        else:
            print_scenario_bench(figures)
        return
    from pipeline.bench.simulated import print_sim_bench, run_sim_bench

    assert archive is not None
    result = run_sim_bench(archive, Settings(), progress=progress)
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
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Batches of scenes in flight at once.")
    ] = CONCURRENCY,
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


@bench_app.command("verdicts")
def bench_verdicts(
    seeds: Annotated[
        int, typer.Option("--seeds", help="SIMULATED series per condition (300 or more).")
    ] = 300,
    as_json: JsonOption = False,
) -> None:
    """Run the old and new verdict rules on SIMULATED series (no pixels): false 'supported'
    under no change and power for x2 and x3 rises, by stay length and season."""
    from pipeline.bench.verdicts import print_verdict_bench, run_verdict_bench
    from pipeline.run.progress import STDERR

    def progress(label: str, done: int, total: int) -> None:
        STDERR.print(f"{label}: {done}/{total} conditions")

    result = run_verdict_bench(seeds, progress=progress)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        print_verdict_bench(result)
