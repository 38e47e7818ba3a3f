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
    ``plain`` does the same work, :func:`pipeline.run.runner.run_all` over :class:`PlainSteps`
    (plain calls on a thread pool of the same size, no Prefect at all), then evaluates the
    verdicts as the flow does. It runs right after the Prefect backfill, so that both see
    the same machine. ``prefect_server_s`` is the temporary server's start-up, reported
    apart: a fixed cost of each command, not paid with a ``PREFECT_API_URL``.
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

Each measurement is a fresh subprocess (``python -m pipeline.bench.backfill MODE ...``,
which prints one JSON line), so that ``ru_maxrss`` is that run's peak and no run warms
another's caches. ``--only`` runs some of them (:data:`MEASUREMENTS`), ``--start`` and
``--end`` a shorter range; the figures of a measurement left out are null. Figures are
reported, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pipeline.errors import RasonWatchError

if TYPE_CHECKING:  # imported lazily below, so that a measurement times its own imports
    from pipeline.detect.reference import Reference
    from pipeline.run.scene_work import ReadSpec, SceneOutcome, Survey
    from pipeline.types import Aoi, Scene

#: How the pipeline runs in a measurement.
MODES: Final = ("prefect", "plain")
#: What ``--only`` picks from, in the order they run: the backfill through Prefect, the
#: same without Prefect (right after it, so both see the same machine), the re-run of the
#: Prefect backfill, and the Prefect backfills of the shorter ranges (:data:`RSS_YEARS`).
MEASUREMENTS: Final = ("prefect", "plain", "rerun", "rss")
#: Shorter ranges whose peak RSS is measured, in years from the start of the span.
RSS_YEARS: Final = (1, 2)
#: The stages :mod:`pipeline.run.stage_timer` accumulates, in pipeline order.
STAGES: Final = ("search", "read", "detect", "store")

log = logging.getLogger(__name__)


class BenchArchiveError(RasonWatchError):
    """The benchmark's archive is missing or says nothing about its dates."""


class BenchRunError(RasonWatchError):
    """One measurement subprocess failed."""


class BenchOptionError(RasonWatchError, ValueError):
    """An option of the benchmark cannot work (``--only`` names nothing it knows)."""


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


# --- the measured work, in the subprocess --------------------------------------------------
class PlainSteps:
    """The steps of :func:`pipeline.run.runner.run_all` as plain calls: no Prefect at all.

    The same :mod:`pipeline.run.scene_work` functions the Prefect tasks call, on a thread pool
    as large as the flow's; no retries (a local archive has nothing transient).
    """

    def __init__(self, source: str, spec: ReadSpec, pool: ThreadPoolExecutor) -> None:
        self.source = source
        self.spec = spec
        self.pool = pool

    @property
    def log(self) -> logging.Logger:
        """This module's logger."""
        return log

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """:func:`pipeline.run.scene_work.search`."""
        from pipeline.run import scene_work

        return scene_work.search(self.source, aoi, start, end)

    def survey(self, scenes: list[Scene], aoi: Aoi) -> Future[Survey]:
        """:func:`pipeline.run.scene_work.survey_batch` on the pool."""
        from pipeline.run import scene_work

        return self.pool.submit(scene_work.survey_batch, scenes, aoi, self.spec)

    def build_reference(self, scenes: list[Scene], aoi: Aoi) -> Reference | None:
        """:func:`pipeline.run.scene_work.build_reference`, here."""
        from pipeline.run import scene_work

        return scene_work.build_reference(scenes, aoi, self.spec)

    def share(self, reference: Reference | None) -> object:
        """The reference itself: threads share memory."""
        return reference

    def process(
        self, scenes: list[Scene], aoi: Aoi, shared: object, note: str
    ) -> Future[list[SceneOutcome]]:
        """:func:`pipeline.run.scene_work.process_batch` on the pool."""
        from pipeline.detect.reference import Reference
        from pipeline.run import scene_work

        reference = shared if isinstance(shared, Reference) else None
        return self.pool.submit(scene_work.process_batch, scenes, aoi, self.spec, reference, note)


def _run_plain(
    archive: Path, span: tuple[date, date], data_dir: Path, concurrency: int, batch_size: int
) -> dict[str, Any]:
    """The backfill without Prefect; its summary."""
    from pipeline.claims.evaluate import evaluate_store
    from pipeline.run import runner
    from pipeline.run.summary import summarise
    from pipeline.store.results import Store

    job = runner.Job.create(
        source=str(archive),
        db=None,
        data_dir=data_dir,
        aois=None,
        use_cache=False,
        concurrency=concurrency,
        batch_size=batch_size,
    )
    job.data_dir.mkdir(parents=True, exist_ok=True)
    windows = {aoi.id: span for aoi in job.aois}
    with ThreadPoolExecutor(job.concurrency) as pool, Store(job.db) as store:
        steps = PlainSteps(job.source, job.read_spec, pool)
        run_id, tallies = runner.run_all(
            job, steps, store, "bench-plain", windows, job.parameters(windows)
        )
    summary = summarise(
        "bench-plain", tallies, run_id=run_id, detector_version=job.detector_version, db=str(job.db)
    )
    evaluate_store(job.db)  # the flow evaluates the claims at the end too
    return summary


def _run_prefect(
    archive: Path, span: tuple[date, date], data_dir: Path, concurrency: int, batch_size: int
) -> dict[str, Any]:
    """The backfill command's work (validation, flow, verdicts); its summary."""
    from pipeline.cli import flow_commands

    return flow_commands.backfill(
        start=span[0].isoformat(),
        end=span[1].isoformat(),
        aois=[],
        source=str(archive),
        db=None,
        data_dir=data_dir,
        dask_address=None,
        use_cache=False,
        concurrency=concurrency,
        batch_size=batch_size,
        progress=False,
    )


def _import(mode: str) -> None:
    """Import what ``mode`` runs on (Prefect too, for ``prefect``)."""
    importlib.import_module("pipeline.run.runner")
    if mode == "prefect":
        importlib.import_module("pipeline.flows.prefect_flows")


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
    """``python -m pipeline.bench.backfill MODE ...``: one measurement, one JSON line."""
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


# --- the benchmark, in the parent ----------------------------------------------------------
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
        "pipeline.bench.backfill",
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


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "prefect": metadata.version("prefect"),
    }


def _share(prefect_s: float, plain_s: float) -> float:
    """``(prefect - plain) / prefect``, within [0, 1] (noise can make plain the slower)."""
    return min(1.0, max(0.0, (prefect_s - plain_s) / prefect_s)) if prefect_s > 0 else 0.0


def stage_ms_per_scene(stages: Mapping[str, tuple[float, int]], scenes: int) -> dict[str, float]:
    """Milliseconds of each stage per scene-AOI processed."""
    per = max(scenes, 1)
    return {name: round(1000 * stages.get(name, (0.0, 0))[0] / per, 2) for name in STAGES}


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
    return _result(archive, whole, concurrency, chosen, first, again, plain, by_range)


def _seconds(measurement: Measurement | None, name: str) -> float | None:
    """``measurement.<name>`` rounded to 10 ms, or None when it was not measured."""
    return None if measurement is None else round(float(getattr(measurement, name)), 2)


def _result(
    archive: Path,
    span: tuple[date, date],
    concurrency: int,
    measured: Sequence[str],
    first: Measurement | None,
    again: Measurement | None,
    plain: Measurement | None,
    by_range: Mapping[str, Measurement],
) -> dict[str, Any]:
    runs = [m for m in (first, again, plain, *by_range.values()) if m is not None]
    simulated = any(m.simulated for m in runs)
    shown = first or plain or (runs[0] if runs else None)
    prefect_cpu = None if first is None else first.run_cpu_s + first.server_cpu_s
    return {
        "data": "SIMULATED" if simulated else "real",
        "archive": str(archive),
        "range": f"{span[0]}..{span[1]}",
        "concurrency": concurrency,
        "measured": list(measured),
        "scenes": None if shown is None else shown.processed,
        "ok": None if shown is None else shown.ok,
        "failed": None if shown is None else shown.failed,
        "backfill_s": _seconds(first, "total_s"),
        "rerun_s": _seconds(again, "total_s"),
        "rerun_skipped": None if again is None else again.skipped,
        "prefect_import_s": _seconds(first, "import_s"),
        "prefect_server_s": _seconds(first, "server_s"),
        "prefect_run_s": _seconds(first, "run_s"),
        "prefect_run_cpu_s": _seconds(first, "run_cpu_s"),
        "prefect_server_cpu_s": _seconds(first, "server_cpu_s"),
        "plain_run_s": _seconds(plain, "run_s"),
        "plain_run_cpu_s": _seconds(plain, "run_cpu_s"),
        "plain_scenes": None if plain is None else plain.processed,
        "orchestration_share": (
            None if first is None or plain is None else round(_share(first.run_s, plain.run_s), 3)
        ),
        "orchestration_cpu_share": (
            None
            if prefect_cpu is None or plain is None
            else round(_share(prefect_cpu, plain.run_cpu_s), 3)
        ),
        "rss_mb_by_range": {label: round(m.rss_mb) for label, m in by_range.items()},
        "scenes_by_range": {label: m.processed for label, m in by_range.items()},
        "stage_ms_per_scene": (
            None if shown is None else stage_ms_per_scene(shown.stages, shown.processed)
        ),
        "stage_calls": (
            None if shown is None else {n: shown.stages.get(n, (0.0, 0))[1] for n in STAGES}
        ),
        "machine": machine(),
    }


def _report_lines(result: Mapping[str, Any]) -> list[str]:
    """The lines of the short report, for the measurements that ran."""
    r = result
    lines = []
    if r["backfill_s"] is not None:
        lines.append(
            f"  backfill through Prefect     {r['backfill_s']:8.1f} s  (imports "
            f"{r['prefect_import_s']:.1f} s, temporary server {r['prefect_server_s']:.1f} s, "
            f"run {r['prefect_run_s']:.1f} s; run CPU {r['prefect_run_cpu_s']:.1f} s + "
            f"server {r['prefect_server_cpu_s']:.1f} s)"
        )
    if r["plain_run_s"] is not None:
        line = (
            f"  same run without Prefect     {r['plain_run_s']:8.1f} s  (CPU "
            f"{r['plain_run_cpu_s']:.1f} s)"
        )
        if r["orchestration_share"] is not None:
            line += (
                f" -> orchestration {100 * r['orchestration_share']:.0f} % of the Prefect "
                f"run ({100 * r['orchestration_cpu_share']:.0f} % of its CPU)"
            )
        lines.append(line)
    if r["rerun_s"] is not None:
        lines.append(
            f"  re-run of the same range     {r['rerun_s']:8.1f} s  "
            f"({r['rerun_skipped']} already stored)"
        )
    if r["rss_mb_by_range"]:
        rss = ", ".join(f"{k} {v} MB" for k, v in r["rss_mb_by_range"].items())
        lines.append(f"  peak RSS by range            {rss}")
    if r["stage_ms_per_scene"] is not None:
        stages = ", ".join(f"{k} {v:g}" for k, v in r["stage_ms_per_scene"].items())
        lines.append(f"  ms per scene-AOI by stage    {stages} (summed over threads)")
    return lines


def print_backfill_bench(result: Mapping[str, Any], *, as_json: bool = False) -> None:
    """Print a result of :func:`run_backfill_bench` as JSON or as a short report."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    label = result["data"].upper()
    m = result["machine"]
    scenes = result["scenes"]
    lines = [
        f"bench backfill on {label} data: {result['archive']}, {result['range']}, "
        f"{scenes} scene-AOIs ({result['ok']} ok, {result['failed']} failed), "
        f"concurrency {result['concurrency']}",
        *_report_lines(result),
        f"machine: {m['cpus']} CPUs, Python {m['python']}, Prefect {m['prefect']}, {m['platform']}",
    ]
    if label == "SIMULATED":
        lines.append("Every figure comes from a SIMULATED archive.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
