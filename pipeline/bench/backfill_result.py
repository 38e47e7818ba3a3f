"""The figures of ``rasonwatch bench backfill``: measurements -> one JSON-ready dict, printed.

:func:`backfill_result` puts the measurements of :mod:`pipeline.bench.backfill` together (the
keys are described in that module's docstring); :func:`print_backfill_bench` prints them
as JSON or as a short report. Figures are reported, never asserted.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from pipeline.bench.backfill_measure import Measurement

#: The stages :mod:`pipeline.run.stage_timer` accumulates, in pipeline order.
STAGES: Final = ("search", "read", "detect", "store")


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


def _seconds(measurement: Measurement | None, name: str) -> float | None:
    """``measurement.<name>`` rounded to 10 ms, or None when it was not measured."""
    return None if measurement is None else round(float(getattr(measurement, name)), 2)


def backfill_result(
    archive: Path,
    span: tuple[date, date],
    concurrency: int,
    measured: Sequence[str],
    first: Measurement | None,
    again: Measurement | None,
    plain: Measurement | None,
    by_range: Mapping[str, Measurement],
) -> dict[str, Any]:
    """The result of :func:`~pipeline.bench.backfill.run_backfill_bench`; a measurement
    left out is None, and so are the figures drawn from it."""
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
