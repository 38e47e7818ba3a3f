"""``rasonwatch demo``: the main job, offline, on a SIMULATED archive (the packaged scenario
by default, ``--scenario FILE`` for another).

Simulates the archive once (under ``<data-dir>/demo-archive`` for the packaged scenario),
backfills its whole range on every AOI through the Prefect backfill flow (store and
references under the data folder; no chip cache, since the archive is already local),
prints the run summary and a table per AOI and year, draws one quicklook per AOI, evaluates
the claims and writes the report. Everything is labelled SIMULATED.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from pipeline.config import Settings
from pipeline.detect.analyse import clear_pixels, detector_version
from pipeline.detect.masks import clear_fraction
from pipeline.geo.aoi import load_aois
from pipeline.geo.safe_paths import join_inside
from pipeline.run.options import RunOptions
from pipeline.run.progress import STDERR
from pipeline.run.scene_work import ReadSpec
from pipeline.run.simulated_archive import demo_scenario_path, ensure_archive
from pipeline.types import Aoi, Chip, Observation, Scene

log = logging.getLogger(__name__)

#: A quicklook scene must be at least this clear over the AOI.
_QUICKLOOK_MIN_CLEAR: Final = 0.95
#: A scene counts in the demo table's means when at least this much of the AOI is clear.
_TABLE_MIN_CLEAR: Final = 0.5


def _pick_quicklook(scenes: list[Scene], aoi: Aoi, spec: ReadSpec) -> tuple[Scene, Chip] | None:
    """The latest scene that is almost cloud-free over the AOI (newest first)."""
    from pipeline.run.scene_work import read_one

    for scene in sorted(scenes, key=lambda s: s.datetime, reverse=True):
        chip = read_one(scene, aoi, spec)
        if clear_fraction(clear_pixels(chip), chip.valid) >= _QUICKLOOK_MIN_CLEAR:
            return scene, chip
    return None


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.1f}" if values else "-"


def print_demo_table(db: Path) -> None:
    """Per AOI and year: scenes stored, scenes seen clear, and the mean count over those."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.store.results import Store

    table = Table(title=f"SIMULATED demo results in {db} (clear = at least half the AOI seen)")
    for column in ("aoi", "year", "scenes ok", "failed", "clear", "mean ships", "mean railcar-eq."):
        table.add_column(column)
    with Store(db) as store:
        observations = store.observations(detector_version=detector_version())
    groups: dict[tuple[str, int], list[Observation]] = {}
    for o in observations:
        groups.setdefault((o.aoi, o.datetime.year), []).append(o)
    for (aoi_id, year), group in sorted(groups.items()):
        ok = [o for o in group if o.status == "ok"]
        clear = [o for o in ok if (o.clear_fraction or 0.0) >= _TABLE_MIN_CLEAR]
        ships = [float(o.ships) for o in clear if o.ships is not None]
        cars = [o.railcar_equivalents for o in clear if o.railcar_equivalents is not None]
        table.add_row(
            f"{aoi_id} (SIMULATED)",
            str(year),
            str(len(ok)),
            str(len(group) - len(ok)),
            str(len(clear)),
            _mean(ships),
            _mean(cars),
        )
    console = Console()
    if not console.is_terminal:  # a pipe or a file: no reason to squeeze into 80 columns
        console = Console(width=140)
    console.print(table)


def run_demo(settings: Settings, scenario: Path | None = None) -> None:
    """Simulate once, backfill the whole archive on every AOI, summarise, draw quicklooks,
    evaluate the claims and write the report, all under ``settings.data_dir``."""
    from pipeline.claims.table import print_verdict_table
    from pipeline.cli.flow_commands import backfill
    from pipeline.report import write_report
    from pipeline.report.quicklook_png import write_quicklook
    from pipeline.run.checks import default_db
    from pipeline.run.summary import print_summary
    from pipeline.simulate import load_scenario
    from pipeline.sources import open_source

    archive = ensure_archive(settings, scenario)
    spec_file = load_scenario(scenario or demo_scenario_path())
    STDERR.print(
        f"Backfilling the SIMULATED archive, {spec_file.start} to {spec_file.end}, every AOI"
    )
    # The archive is already on local disk: a chip cache would copy its pixels (2 GB).
    options = RunOptions(
        source=str(archive), data_dir=str(settings.data_dir), use_cache=False, show_progress=True
    )
    summary = backfill(
        start=spec_file.start.isoformat(), end=spec_file.end.isoformat(), options=options
    )
    print_summary(summary)
    print_demo_table(default_db(None, settings.data_dir))
    source = open_source(str(archive), settings)
    spec = ReadSpec(source, settings, None)
    for aoi in load_aois(settings.aoi_dir):
        found = source.search(aoi, spec_file.start, spec_file.end)
        picked = _pick_quicklook(found, aoi, spec)
        if picked is None:
            STDERR.print(f"[yellow]No clear scene over {aoi.id}; no quicklook written.")
            continue
        scene, chip = picked
        out = join_inside(settings.data_dir, "quicklooks", f"{aoi.id}.png", what="AOI id")
        title = f"{aoi.id}  {scene.id}  {scene.datetime:%Y-%m-%d}"
        write_quicklook(chip, out, title=title, simulated=scene.simulated)
        STDERR.print(f"Quicklook of {aoi.id}: {out}")
    report = write_report(default_db(None, settings.data_dir), settings.data_dir / "report")
    print_verdict_table(report.evaluation.verdicts)
    print(f"SIMULATED report: {report.path.resolve()}")
