"""Benchmark the backfill: through Prefect, and the same work without it (for the overhead).

Usage::

    .venv/bin/python scripts/bench_backfill.py prefect --source data/demo-archive \\
        --start 2021-01-01 --end 2024-06-30 --data-dir /tmp/bench-a
    .venv/bin/python scripts/bench_backfill.py plain   --source data/demo-archive \\
        --start 2021-01-01 --end 2024-06-30 --data-dir /tmp/bench-b

``prefect`` runs the backfill flow in-process (ephemeral Prefect server unless
``PREFECT_API_URL`` is set; its start-up is timed separately). ``plain`` runs the same steps
(search, reference survey and build, batches of read + analyse on a thread pool of the same
size, store writes) with no Prefect at all. Each prints one JSON line: wall seconds, peak
RSS of this process, and the counts. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any


def _plain_aoi(job: Any, store: Any, source: Any, aoi: Any, pool: Any, span: Any) -> Any:
    from pipeline import backfill, scene_work
    from pipeline.analyse import reference_candidates
    from pipeline.backfill import AoiTally
    from pipeline.chip_cache import aoi_key
    from pipeline.reference_store import (
        Provenance,
        load_reference,
        reference_path,
        save_reference,
        stale_reason,
    )

    start, end, run_id = span
    spec = job.read_spec
    tally = AoiTally(aoi.id, start, end)
    scenes = source.search(aoi, start, end)
    remaining = backfill.todo(scenes, store.done_scene_ids(aoi.id, job.detector_version))
    tally.scenes, tally.skipped = len(scenes), len(scenes) - len(remaining)
    if not remaining:
        tally.done()
        return tally
    first, last = backfill.reference_window(start, end)
    window = scenes if (first, last) == (start, end) else source.search(aoi, first, last)
    path = reference_path(job.references_dir, aoi.id)
    stored = load_reference(path)
    reason = stale_reason(
        stored,
        detector_version=job.detector_version,
        aoi_key=aoi_key(aoi),
        available=len(window),
        window_end=end,
    )
    if stored is not None and reason is None:
        reference = stored.reference
    else:
        fractions: list[tuple[str, float]] = []
        for f in backfill.bounded(
            backfill.batches(window, job.batch_size),
            lambda b: pool.submit(scene_work.survey_batch, b, aoi, spec),
            window=job.concurrency + 1,
        ):
            fractions += f.result()
        chosen = set(reference_candidates(fractions))
        picked = [s for s in window if s.id in chosen]
        reference = scene_work.build_reference(picked, aoi, spec)
        if reference is not None:
            newest = max(s.datetime.date() for s in picked)
            provenance = Provenance(
                aoi.id, aoi_key(aoi), job.detector_version, job.source, first, last,
                len(window), newest, "bench", reference.scene_ids,
            )  # fmt: skip
            save_reference(path, reference, provenance)

    def process(batch: list[Any]) -> Any:
        reads = scene_work.read_batch(batch, aoi, spec)
        return scene_work.analyse_batch(reads, batch, aoi, reference=reference)

    def submit(batch: list[Any]) -> Future[Any]:
        return pool.submit(process, batch)

    for done in backfill.bounded(
        backfill.batches(remaining, job.batch_size), submit, window=job.concurrency + 1
    ):
        backfill.record(store, done.result(), tally, run_id)
    tally.done()
    return tally


def _plain(args: argparse.Namespace) -> dict[str, Any]:
    from pipeline.backfill import Job
    from pipeline.sources import open_source
    from pipeline.store import Store

    job = Job.create(
        source=args.source,
        db=None,
        data_dir=args.data_dir,
        aois=None,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
    )
    job.data_dir.mkdir(parents=True, exist_ok=True)
    source = open_source(job.source, job.settings)
    start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    rows = []
    with ThreadPoolExecutor(max_workers=job.concurrency) as pool, Store(job.db) as store:
        run_id = store.start_run("bench-plain", {}, job.detector_version)
        for aoi in job.aois:
            tally = _plain_aoi(job, store, source, aoi, pool, (start, end, run_id))
            rows.append(tally.row())
        store.finish_run(run_id, n_ok=0, n_failed=0, n_skipped=0)
    return {"aois": rows}


def _prefect(args: argparse.Namespace) -> dict[str, Any]:
    from pipeline import flow_commands

    summary = flow_commands.backfill(
        start=args.start,
        end=args.end,
        aois=[],
        source=args.source,
        db=None,
        data_dir=Path(args.data_dir),
        dask_address=args.dask_address,
        use_cache=True,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        progress=False,
    )
    return {"aois": summary["aois"]}


def _trace_rss() -> None:
    import psutil

    me = psutil.Process()
    started = time.perf_counter()
    while True:
        rss = me.memory_info().rss / 2**20
        print(f"rss {time.perf_counter() - started:6.1f} s {rss:7.0f} MB", file=sys.stderr)
        time.sleep(2)


def main() -> None:
    """Parse arguments, run one mode, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["prefect", "plain"])
    parser.add_argument("--source", required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--dask-address", default=None)
    parser.add_argument("--rss-trace", action="store_true", help="Print RSS every 2 s.")
    args = parser.parse_args()
    if args.rss_trace:
        threading.Thread(target=_trace_rss, daemon=True).start()
    started = time.perf_counter()
    result = _plain(args) if args.mode == "plain" else _prefect(args)
    result.update(
        mode=args.mode,
        range=f"{args.start}..{args.end}",
        batch_size=args.batch_size,
        concurrency=args.concurrency,
        wall_s=round(time.perf_counter() - started, 1),
        aoi_s=round(sum(float(a["seconds"]) for a in result["aois"]), 1),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
