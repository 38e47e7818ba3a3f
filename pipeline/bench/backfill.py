"""``rasonwatch bench backfill``: what a backfill of the demo archive costs, and where.

On a SIMULATED archive (``data/demo-archive`` by default, every AOI, its whole span), with
no chip cache (the archive is already on local disk, as in ``rasonwatch demo``):

``backfill_s``
    The end-to-end backfill through Prefect into a fresh data folder: importing the
    pipeline and Prefect, starting Prefect's temporary server (unless ``PREFECT_API_URL``
    names one), the flow, the verdicts.
``rerun_s``
    The same command again on the same data folder: everything is already stored.
``orchestration_share``
    ``(prefect - plain) / prefect`` over the run itself (after imports and server start):
    ``plain`` does the same work, :func:`pipeline.run.runner.run_all` over
    :func:`pipeline.run.inline.inline_steps` (plain calls on a thread pool of the same size,
    no Prefect at all), then evaluates the verdicts as the flow does. It runs right after
    the Prefect backfill, so that both see the same machine. ``prefect_server_s`` is the
    temporary server's start-up, reported apart: a fixed cost of each command, not paid
    with a ``PREFECT_API_URL``.
``orchestration_cpu_share``
    The same over CPU seconds: the Prefect run's process (every thread) plus its temporary
    server's during the run, against the plain run's process. Wall times of single runs
    swing by 10-20 % when other work shares the machine; CPU seconds far less, and on a
    busy machine the extra CPU is what becomes extra wall time. Where it goes (Prefect 3.9,
    2 cores): its server's CPU recording each task run's three state events, some 20-35 ms
    a task (~130 tasks over the demo archive); the flow's own process, a few ms a task (no
    cache keys or results: the tasks use ``NO_CACHE`` and ``persist_result=False``); and per
    flow run ~0.2 s to start and finish plus up to 1 s joining its heartbeat thread, which
    sleeps in whole seconds. Over one year those fixed costs weigh more than over the span.
``rss_mb_by_range``
    Peak RSS of the backfill over the first year, two years, and the whole span.
``stage_ms_per_scene``
    Of the Prefect backfill: milliseconds per scene-AOI processed in each stage
    (:mod:`pipeline.run.stage_timer`): ``search``, ``read`` (every chip read: survey, reference
    and processing), ``detect``, ``store``. Stages run on a thread pool, so they add up
    their threads' times.

Each measurement is a fresh subprocess (:mod:`pipeline.bench.backfill_measure`, which
prints one JSON line), so that ``ru_maxrss`` is that run's peak and no run warms another's
caches. ``--only`` runs some of them (:data:`MEASUREMENTS`), ``--start`` and ``--end`` a
shorter range; the figures of a measurement left out are null. Figures are reported, never
asserted.

This module holds the options and runs the measurements; the figures are put together and
printed by :mod:`pipeline.bench.backfill_result`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Collection, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from pipeline.bench.backfill_measure import Measurement
from pipeline.bench.backfill_result import STAGES, backfill_result, print_backfill_bench
from pipeline.errors import RasonWatchError

__all__ = [
    "MEASUREMENTS",
    "RSS_YEARS",
    "STAGES",
    "BenchArchiveError",
    "BenchOptionError",
    "BenchRunError",
    "Measurement",
    "archive_span",
    "check_archive",
    "parse_only",
    "parse_span",
    "print_backfill_bench",
    "rss_spans",
    "run_backfill_bench",
    "years_label",
]

#: What ``--only`` picks from, in the order they run: the backfill through Prefect, the
#: same without Prefect (right after it, so both see the same machine), the re-run of the
#: Prefect backfill, and the Prefect backfills of the shorter ranges (:data:`RSS_YEARS`).
MEASUREMENTS: Final = ("prefect", "plain", "rerun", "rss")
#: Shorter ranges whose peak RSS is measured, in years from the start of the span.
RSS_YEARS: Final = (1, 2)


class BenchArchiveError(RasonWatchError):
    """The benchmark's archive is missing or says nothing about its dates."""


class BenchRunError(RasonWatchError):
    """One measurement subprocess failed."""


class BenchOptionError(RasonWatchError, ValueError):
    """An option of the benchmark cannot work (``--only`` names nothing it knows)."""


def check_archive(archive: Path) -> None:
    """Fail unless ``archive`` holds a STAC catalog (what ``rasonwatch simulate`` writes).

    Raises:
        BenchArchiveError: it does not.
    """
    if not (archive / "catalog.json").is_file() and not (archive / "items.ndjson").is_file():
        raise BenchArchiveError(
            f"no SIMULATED archive at {archive}: run `rasonwatch demo` (or `rasonwatch "
            f"simulate --scenario pipeline/data/demo.toml --out {archive}`), or pass --archive"
        )


def archive_span(archive: Path) -> tuple[date, date]:
    """The dates the archive was simulated over (its ``scenario.toml``).

    Raises:
        BenchArchiveError: the archive is missing, or has no scenario file.
    """
    from pipeline.simulate import load_scenario

    check_archive(archive)
    scenario = archive / "scenario.toml"
    if not scenario.is_file():
        raise BenchArchiveError(f"{archive} has no scenario.toml; pass --start and --end")
    spec = load_scenario(scenario)
    return spec.start, spec.end


def parse_span(start: str | None, end: str | None) -> tuple[date, date] | None:
    """``--start``/``--end`` as a range, or None when neither is given.

    Raises:
        InvalidDateRangeError: only one is given, either is invalid, or they are reversed.
    """
    from pipeline.errors import InvalidDateRangeError
    from pipeline.geo.dates import parse_range

    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvalidDateRangeError("--start and --end go together (default: the whole archive)")
    return parse_range(start, end)


def years_label(start: date, end: date) -> str:
    """``3.5y`` for a range of three and a half years (one decimal, trailing zeros dropped)."""
    years = ((end - start).days + 1) / 365.25
    return f"{years:.1f}".rstrip("0").rstrip(".") + "y"


def rss_spans(start: date, end: date) -> dict[str, tuple[date, date]]:
    """The ranges whose peak RSS is measured: the first :data:`RSS_YEARS`, then the whole."""
    spans = {}
    for years in RSS_YEARS:
        last = start + timedelta(days=round(365.25 * years) - 1)
        if last < end:
            spans[f"{years}y"] = (start, last)
    spans[years_label(start, end)] = (start, end)
    return spans


def _child(
    mode: str,
    archive: Path,
    span: tuple[date, date],
    data_dir: Path,
    *,
    concurrency: int,
    env: Mapping[str, str] | None,
) -> Measurement:
    """Run one measurement in a fresh interpreter; its logs go to ``<data_dir>.log``.

    Raises:
        BenchRunError: the subprocess failed (the message ends with its last log line).
    """
    command = [
        sys.executable,
        "-m",
        "pipeline.bench.backfill_measure",
        mode,
        *("--archive", str(archive), "--data-dir", str(data_dir)),
        *("--start", span[0].isoformat(), "--end", span[1].isoformat()),
        *("--concurrency", str(concurrency)),
    ]
    logfile = data_dir.with_name(data_dir.name + ".log")
    with logfile.open("ab") as logs:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=logs, env=env, check=False, timeout=3600
        )
    if done.returncode != 0:
        lines = logfile.read_text(errors="replace").strip().splitlines() or ["no output"]
        raise BenchRunError(
            f"bench backfill {mode} {span[0]}..{span[1]} exited {done.returncode}: {lines[-1]}"
        )
    fields = json.loads(done.stdout.decode().strip().splitlines()[-1])
    fields["stages"] = {k: tuple(v) for k, v in fields["stages"].items()}
    return Measurement(**fields)


def parse_only(text: str | None) -> tuple[str, ...]:
    """``--only prefect,plain`` as measurement names, in :data:`MEASUREMENTS` order.

    Raises:
        BenchOptionError: a name is not one of :data:`MEASUREMENTS`, or none is given.
    """
    if text is None:
        return MEASUREMENTS
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(MEASUREMENTS))
    if unknown or not names:
        raise BenchOptionError(
            f"--only {text!r}: expected some of {', '.join(MEASUREMENTS)} (comma-separated)"
        )
    return tuple(name for name in MEASUREMENTS if name in names)


def run_backfill_bench(
    archive: Path,
    *,
    span: tuple[date, date] | None = None,
    concurrency: int = 2,
    env: Mapping[str, str] | None = None,
    progress: Any = None,
    only: Collection[str] = MEASUREMENTS,
) -> dict[str, Any]:
    """Measure the backfill of ``archive`` (see the module docstring); a JSON-ready dict.

    The Prefect backfill and the plain run are measured back to back, so that both see
    the same machine; figures of a measurement left out by ``only`` are None.

    Args:
        archive: the SIMULATED archive (what ``rasonwatch simulate`` writes).
        span: the range (default: the archive's ``scenario.toml`` span).
        concurrency: batches in flight, in both modes.
        env: environment of the measurement subprocesses (default: this one's).
        progress: called with one line after each measurement.
        only: the measurements to run (:data:`MEASUREMENTS`; ``rerun`` needs ``prefect``).

    Raises:
        BenchArchiveError: no archive, or no dates for it.
        BenchRunError: a measurement failed.
        BenchOptionError: ``only`` names no measurement, or an unknown one.
    """
    chosen = parse_only(",".join(only))
    archive = archive.resolve()
    check_archive(archive)
    start, end = span if span is not None else archive_span(archive)
    tell = progress or (lambda line: None)
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as work:
        root = Path(work)

        def child(what: str, mode: str, sub: tuple[date, date], folder: str) -> Measurement:
            found = _child(mode, archive, sub, root / folder, concurrency=concurrency, env=env)
            tell(
                f"{what} ({mode}) {sub[0]}..{sub[1]}: {found.total_s:.1f} s, run "
                f"{found.run_s:.1f} s, CPU {found.run_cpu_s + found.server_cpu_s:.1f} s"
            )
            return found

        whole = (start, end)
        first = child("backfill", "prefect", whole, "prefect") if "prefect" in chosen else None
        plain = child("backfill", "plain", whole, "plain") if "plain" in chosen else None
        again = None
        if "rerun" in chosen and first is not None:  # the Prefect backfill's data folder
            again = child("re-run", "prefect", whole, "prefect")
        by_range: dict[str, Measurement] = {}
        if "rss" in chosen:
            for label, sub in rss_spans(start, end).items():
                if sub != whole:
                    by_range[label] = child(f"backfill {label}", "prefect", sub, f"rss-{label}")
    if first is not None:
        by_range[years_label(start, end)] = first
    return backfill_result(archive, whole, concurrency, chosen, first, again, plain, by_range)
