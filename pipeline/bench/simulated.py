"""``rasonwatch bench sim``: score the detectors against a SIMULATED archive's truth.

Reads every scene of each AOI from a folder written by ``rasonwatch simulate``, builds the
AOI's temporal reference the way the flows do, analyses every chip, and compares with
``truth.csv``:

- ships: mean absolute error per clear scene, in reference mode (what the flows use) and
  in single-date mode;
- railcars: median relative error of railcar-equivalents on clear scenes with at least
  :data:`MIN_RAILCARS` cars, and how often the interval holds the truth;
- both, by season (:mod:`pipeline.bench.seasons`): the error and its sign (the bias), so a
  detector that overcounts in winter and undercounts in summer shows it;
- speed: milliseconds of analysis per chip (masks + ships or rail), and per 600 × 600
  pixels, measured with ``time.perf_counter`` on this machine's one core per process.

A *clear scene* is one whose true clear fraction over the AOI is at least
:data:`CLEAR_SCENE` and whose measured clear fraction reaches :data:`MEASURED_CLEAR` (snow
the SCL misses makes a yard unmeasurable; such scenes are counted, not scored).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pipeline.bench.seasons import Scored, by_season, count_errors, relative_errors
from pipeline.config import Settings
from pipeline.detect.analyse import analyse_chip, clear_pixels
from pipeline.detect.masks import clear_fraction
from pipeline.detect.reference_looks import aoi_reference, reference_candidates, snowy_looks
from pipeline.errors import RasonWatchError
from pipeline.geo.aoi import load_aois
from pipeline.read.chips import read_chip
from pipeline.sources import open_source
from pipeline.types import Aoi, Scene

if TYPE_CHECKING:
    from rich.table import Table

#: True clear fraction from which a scene counts as clear for scoring.
CLEAR_SCENE: Final = 0.95
#: Clear fraction the product must itself measure before a scene is scored (the seed
#: claims' thresholds: a scene the claims would not use is not scored either).
MEASURED_CLEAR: Final = {"port": 0.8, "rail": 0.9}
#: Railcar scores use scenes with at least this many true cars (issue 3's definition).
MIN_RAILCARS: Final = 20
#: Pixels of the chip size the speed target is stated for (600 × 600).
TARGET_CHIP_PIXELS: Final = 600 * 600

Progress = Callable[[str, int, int], None]


def _read_truth(archive: Path) -> dict[tuple[str, str], dict[str, str]]:
    path = archive / "truth.csv"
    if not path.is_file():
        raise RasonWatchError(
            f"{archive} has no truth.csv: bench sim needs a folder written by rasonwatch simulate"
        )
    with path.open(newline="") as handle:
        return {(row["scene_id"], row["aoi"]): row for row in csv.DictReader(handle)}


def _bench_aoi(
    aoi: Aoi,
    scenes: list[Scene],
    truth: dict[tuple[str, str], dict[str, str]],
    settings: Settings,
    progress: Progress | None,
) -> dict[str, object]:
    fractions = []
    snowy: set[str] = set()
    for i, scene in enumerate(scenes):
        chip = read_chip(scene, aoi, settings=settings)
        fractions.append((scene.id, clear_fraction(clear_pixels(chip), chip.valid)))
        snowy |= snowy_looks(aoi, [chip])
        if progress:
            progress(f"{aoi.id}: clear fractions", i + 1, len(scenes))
    by_id = {s.id: s for s in scenes}
    picked = reference_candidates(fractions, snowy)
    reference = aoi_reference(
        aoi, [read_chip(by_id[i], aoi, settings=settings) for i in picked], scenes
    )
    ships: list[Scored] = []
    single: list[Scored] = []
    rails: list[Scored] = []
    rail_covered = 0
    skipped_unmeasured = 0
    seconds = 0.0
    pixels = 0
    for i, scene in enumerate(scenes):
        chip = read_chip(scene, aoi, settings=settings)
        started = time.perf_counter()
        result = analyse_chip(chip, scene, aoi, reference=reference).observation
        seconds += time.perf_counter() - started
        pixels += chip.shape[0] * chip.shape[1]
        row = truth.get((scene.id, aoi.id))
        if progress:
            progress(f"{aoi.id}: analysing", i + 1, len(scenes))
        if row is None or float(row["clear_fraction"]) < CLEAR_SCENE or result.status != "ok":
            continue
        if (result.clear_fraction or 0.0) < MEASURED_CLEAR[aoi.kind]:
            skipped_unmeasured += 1  # the product itself would not use this scene
            continue
        day = scene.datetime.date()
        if aoi.kind == "port" and result.ships is not None:
            ships.append(Scored(day, int(row["ships"]), result.ships))
            alone = analyse_chip(chip, scene, aoi, reference=None, allow_single_date=True)
            single.append(Scored(day, int(row["ships"]), alone.observation.ships or 0))
        true_cars = int(row["railcars"])
        if (
            aoi.kind == "rail"
            and result.railcar_equivalents is not None
            and true_cars >= MIN_RAILCARS
        ):
            rails.append(Scored(day, true_cars, result.railcar_equivalents))
            low, high = result.railcar_low or 0.0, result.railcar_high or 0.0
            rail_covered += int(low <= true_cars <= high)
    ms_per_chip = 1000.0 * seconds / max(len(scenes), 1)
    out: dict[str, object] = {
        "kind": aoi.kind,
        "scenes": len(scenes),
        "reference_scenes": 0 if reference is None else len(reference.scene_ids),
        "ms_per_chip": round(ms_per_chip, 2),
        "clear_but_unmeasured": skipped_unmeasured,
        "ms_per_600x600": round(1000.0 * seconds * TARGET_CHIP_PIXELS / max(pixels, 1), 2),
    }
    if aoi.kind == "port":
        overall, alone_overall = count_errors(ships), count_errors(single)
        out["clear_scenes"] = len(ships)
        out["ship_mae"] = overall["mae"]
        out["ship_bias"] = overall["bias"]
        out["ship_mae_single_date"] = alone_overall["mae"]
        out["ship_bias_single_date"] = alone_overall["bias"]
        out["by_season"] = by_season(ships, count_errors)
        out["by_season_single_date"] = by_season(single, count_errors)
    else:
        overall = relative_errors(rails)
        out["scenes_with_20_cars"] = len(rails)
        out["railcar_median_relative_error"] = overall["median_relative_error"]
        out["railcar_median_relative_bias"] = overall["median_relative_bias"]
        out["railcar_interval_coverage"] = round(rail_covered / len(rails), 3) if rails else None
        out["by_season"] = by_season(rails, relative_errors)
    return out


def run_sim_bench(
    archive: Path, settings: Settings, *, progress: Progress | None = None
) -> dict[str, object]:
    """Score ships and railcars on a simulated archive against its ``truth.csv``.

    Raises:
        RasonWatchError: the folder is not a simulated archive.
    """
    truth = _read_truth(archive)
    days = sorted(date.fromisoformat(row["datetime"][:10]) for row in truth.values())
    source = open_source(str(archive), settings)
    aois = {}
    for aoi in load_aois(settings.aoi_dir):
        scenes = source.search(aoi, days[0], days[-1])
        aois[aoi.id] = _bench_aoi(aoi, scenes, truth, settings, progress)
    return {"simulated": True, "archive": str(archive), "aois": aois}


def print_sim_bench(result: dict[str, object]) -> None:
    """Print the bench as a short table (SIMULATED)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="SIMULATED archive: detectors against truth")
    table.add_column("AOI")
    table.add_column("metric")
    table.add_column("value", justify="right")
    aois = result["aois"]
    assert isinstance(aois, dict)
    seasonal: list[tuple[str, str, dict[str, dict[str, object]]]] = []
    for aoi_id, metrics in aois.items():
        for key, value in metrics.items():
            if key.startswith("by_season"):
                seasonal.append((aoi_id, key, value))
            else:
                table.add_row(aoi_id, key, str(value))
    console = Console()
    console.print(table)
    for aoi_id, key, seasons in seasonal:
        console.print(_season_table(f"SIMULATED {aoi_id}: {key.replace('_', ' ')}", seasons))


def _season_table(title: str, seasons: dict[str, dict[str, object]]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("season")
    columns = next(iter(seasons.values())).keys()
    for column in columns:
        table.add_column(column, justify="right")
    for season, values in seasons.items():
        table.add_row(season, *(str(values[c]) for c in columns))
    return table
