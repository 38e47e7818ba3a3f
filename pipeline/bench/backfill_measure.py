"""One measurement of ``rasonwatch bench backfill``, in a fresh interpreter.

``python -m pipeline.bench.backfill_measure MODE --archive A --start S --end E --data-dir D``
runs one backfill of a SIMULATED archive in this process and prints what it measured as one
JSON line (a :class:`Measurement`): in ``prefect`` mode the backfill command's work (inputs
checked, the Prefect flow, the verdicts), in ``plain`` mode the same run without Prefect
(:func:`pipeline.run.inline.inline_steps` on a thread pool). :mod:`pipeline.bench.backfill`
starts one such subprocess per measurement, so that ``ru_maxrss`` is that run's peak and no
run warms another's caches.

The pipeline is imported lazily, inside the functions below, so that a measurement times its
own imports.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # imported lazily below, so that a measurement times its own imports
    from pipeline.run.options import RunOptions

#: How the pipeline runs in a measurement.
MODES: Final = ("prefect", "plain")


@dataclass(frozen=True)
class Measurement:
    """What one subprocess measured (its JSON line)."""

    mode: str
    """``prefect`` or ``plain``."""
    start: str
    """First day of the range."""
    end: str
    """Last day of the range."""
    import_s: float
    """Importing the pipeline (and Prefect)."""
    server_s: float
    """Reaching the Prefect API: starting the temporary server, if any (0 for plain)."""
    run_s: float
    """The run itself: the flow (or the plain run) and the verdicts."""
    total_s: float
    """Everything after the interpreter started."""
    run_cpu_s: float
    """CPU seconds of this process (every thread) during the run."""
    server_cpu_s: float
    """CPU seconds of the temporary Prefect server (a child process) on the run, read once
    it has caught up with the run's events (0 with ``PREFECT_API_URL`` or for plain)."""
    rss_mb: float
    """Peak RSS of the process."""
    scenes: int
    """Scene-AOIs the searches found."""
    ok: int
    """Stored ok."""
    failed: int
    """Stored failed."""
    skipped: int
    """Already stored."""
    simulated: bool
    """Any scene came from the simulator."""
    stages: dict[str, tuple[float, int]]
    """Stage -> (seconds, calls)."""

    @property
    def processed(self) -> int:
        """Scene-AOIs processed by this run (ok or failed)."""
        return self.ok + self.failed


def _options(archive: Path, data_dir: Path, concurrency: int, batch_size: int) -> RunOptions:
    """The run both modes make: the archive, a fresh data folder, no chip cache."""
    from pipeline.run.options import RunOptions

    return RunOptions(
        source=str(archive),
        data_dir=str(data_dir),
        use_cache=False,
        concurrency=concurrency,
        batch_size=batch_size,
    )


def _run_plain(
    archive: Path, span: tuple[date, date], data_dir: Path, concurrency: int, batch_size: int
) -> dict[str, Any]:
    """The backfill without Prefect (:func:`pipeline.run.inline.inline_steps`); its summary."""
    from pipeline.claims.evaluate import evaluate_store
    from pipeline.run.inline import inline_steps
    from pipeline.run.job import Job
    from pipeline.run.runner import run_all
    from pipeline.run.summary import summarise
    from pipeline.store.results import Store

    job = Job.create(_options(archive, data_dir, concurrency, batch_size))
    job.data_dir.mkdir(parents=True, exist_ok=True)
    windows = {aoi.id: span for aoi in job.aois}
    with ThreadPoolExecutor(job.options.concurrency) as pool, Store(job.db) as store:
        run_id, tallies = run_all(
            job, inline_steps(pool), store, "bench-plain", windows, job.parameters(windows)
        )
    summary = summarise(
        "bench-plain", tallies, run_id=run_id, detector_version=job.detector_version, db=str(job.db)
    )
    evaluate_store(job.db)  # the flow evaluates the claims at the end too
    return summary


def _run_prefect(
    archive: Path, span: tuple[date, date], data_dir: Path, concurrency: int, batch_size: int
) -> dict[str, Any]:
    """The backfill command's work (the same input checks, the flow on its threads, the
    verdicts at its end); its summary."""
    from pipeline import flows
    from pipeline.run.checks import check_inputs, quiet_logs

    options = _options(archive, data_dir, concurrency, batch_size)
    check_inputs(options.source, list(options.aois), None, data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    quiet_logs(progress=False)
    chosen = flows.with_threads(flows.backfill_flow, concurrency)
    result: dict[str, Any] = chosen(start=span[0], end=span[1], **options.as_parameters())
    return result


def _import(mode: str) -> None:
    """Import what ``mode`` runs on (Prefect too, for ``prefect``)."""
    importlib.import_module("pipeline.run.runner")
    if mode == "prefect":
        importlib.import_module("pipeline.flows")


def _reach_prefect() -> None:
    """Talk to the Prefect API once: starts the temporary server when none is configured."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.hello()


def _cpu_s() -> float:
    """CPU seconds (user + system) this process has used so far, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_s() -> float:
    """CPU seconds used so far by this process's live children (the temporary Prefect
    server, when one was started); 0 where ``/proc`` cannot tell."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    me = str(os.getpid())
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0.0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[1] == me:  # ppid; then utime, stime at 11, 12
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _settled_children_cpu_s(
    *, step: float = 0.25, quiet: float = 0.02, limit: float = 15.0
) -> float:
    """:func:`_children_cpu_s` once the children have caught up: the temporary server
    records task runs from their events a little after the flow has moved on, so its CPU
    for a run is read when it stops growing (by less than ``quiet`` over ``step`` seconds),
    or after ``limit`` seconds."""
    last = _children_cpu_s()
    waited = 0.0
    while waited < limit:
        time.sleep(step)
        waited += step
        now = _children_cpu_s()
        if now - last < quiet:
            return now
        last = now
    return last


def measure(
    mode: str,
    archive: Path,
    span: tuple[date, date],
    data_dir: Path,
    *,
    concurrency: int,
    batch_size: int,
    began: float,
) -> Measurement:
    """Run one backfill in this process and measure it (``began``: when the process began)."""
    from pipeline.run import stage_timer

    clock = time.perf_counter()
    _import(mode)
    imported = time.perf_counter()
    if mode == "prefect":
        _reach_prefect()
    served = time.perf_counter()
    cpu, server_cpu = _cpu_s(), _children_cpu_s()
    run = _run_prefect if mode == "prefect" else _run_plain
    summary = run(archive, span, data_dir, concurrency, batch_size)
    done = time.perf_counter()
    cpu = _cpu_s() - cpu
    server_cpu = _settled_children_cpu_s() - server_cpu if mode == "prefect" else 0.0
    return Measurement(
        mode=mode,
        start=span[0].isoformat(),
        end=span[1].isoformat(),
        import_s=imported - clock,
        server_s=served - imported,
        run_s=done - served,
        total_s=done - began,
        run_cpu_s=cpu,
        server_cpu_s=server_cpu,
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        scenes=sum(int(row["scenes"]) for row in summary["aois"]),
        ok=int(summary["ok"]),
        failed=int(summary["failed"]),
        skipped=int(summary["skipped"]),
        simulated=bool(summary["simulated"]),
        stages={k: (v.seconds, v.calls) for k, v in stage_timer.snapshot().items()},
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m pipeline.bench.backfill_measure MODE ...``: one measurement, one JSON line."""
    began = time.perf_counter()
    parser = argparse.ArgumentParser(description="One measurement of rasonwatch bench backfill.")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--archive", type=Path, required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    if args.mode == "plain":  # the flow's log lines, without Prefect's logging setup
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s",
            datefmt="%H:%M:%S",
        )
    result = measure(
        args.mode,
        args.archive,
        (args.start, args.end),
        args.data_dir,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        began=began,
    )
    print(json.dumps(asdict(result)), flush=True)


if __name__ == "__main__":
    main()
