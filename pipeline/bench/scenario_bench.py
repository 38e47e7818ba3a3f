"""``rasonwatch bench sim --scenario FILE``: the figures issue 14's targets are stated in.

Simulates the scenario under the data folder (or reuses the archive it simulated before, see
:mod:`pipeline.run.simulated_archive`), builds each AOI's reference as the flows do, analyses
every scene, and scores against the archive's truth. SIMULATED throughout. The JSON is a
contract::

    {"scenario": "stress.toml", "simulated": true,
     "ships": {"mae", "berth_bias", "misregistration_false_per_scene", "clear_scenes"},
     "rail": {"median_rel_err": {"<zone>": ...}, "empty_yard_max", "season_bias",
              "clear_scenes"}}

- ``ships.mae``: mean absolute error of the ship count per clear scene (reference mode).
- ``ships.berth_bias``: at each usually occupied berth of the scenario (``[[aoi.berth]]`` with
  occupancy of at least one half), detections within :data:`BERTH_RADIUS_M` of the berth minus
  true ships there, averaged over clear scenes.
- ``ships.misregistration_false_per_scene``: false ships (no true ship within
  :data:`MATCH_RADIUS_M`) in each clear scene as simulated, minus those in the same scene with
  its true misregistration undone first; averaged. ``null`` without misregistration.
- ``ships_rebuild_step`` (beside the contract objects): the mean step, ships per clear
  scene, between counts against two references of the same period built from alternate
  halves of its scenes, absolute (a reference rebuilt from other scenes must not move the
  series).
- ``rail.median_rel_err``: per yard zone, the median relative error of railcar-equivalents on
  clear scenes with at least :data:`MIN_RAILCARS` cars in the zone.
- ``rail.empty_yard_max``: the largest monthly mean reading of a zone with no car at all.
- ``rail.season_bias``: the mean signed relative error (AOI total, scenes with at least
  :data:`MIN_RAILCARS` cars) in August-November minus that in the other months, absolute.

A figure that cannot be computed on the scenario (no usually occupied berth, never an empty
yard) is ``null``.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
from pyproj import Transformer

from pipeline.config import Settings
from pipeline.detect.analyse import SceneAnalysis, analyse_chip, clear_pixels
from pipeline.detect.coregister import Shift, apply_shift
from pipeline.detect.masks import clear_fraction
from pipeline.detect.reference import Reference
from pipeline.detect.reference_looks import (
    aoi_reference,
    reference_candidates,
    reference_from_chips,
    snowy_looks,
)
from pipeline.geo.aoi import load_aois
from pipeline.read.chips import read_chip
from pipeline.run.simulated_archive import ensure_archive
from pipeline.sources import open_source
from pipeline.types import Aoi, Chip, DetectionRow, Observation, Scene

#: Scored scenes: truly at least this clear, and measured clear as the claims require.
CLEAR_SCENE: Final = 0.95
MEASURED_CLEAR: Final = {"port": 0.8, "rail": 0.9}
#: A detection matches a true ship within this distance of its centre, metres.
MATCH_RADIUS_M: Final = 60.0
#: Detections and ships within this distance of a berth's ship centre are at the berth.
BERTH_RADIUS_M: Final = 60.0
#: A berth is usually occupied from this occupancy on.
USUALLY_OCCUPIED: Final = 0.5
#: Railcar errors are scored on zones holding at least this many cars.
MIN_RAILCARS: Final = 20
#: The months of the seed claims' window, against the rest.
WINDOW_MONTHS: Final = (8, 9, 10, 11)

Progress = Callable[[str, int, int], None]


@dataclass
class _Truth:
    """The archive's truth files, indexed."""

    scenes: dict[tuple[str, str], dict[str, str]]
    zones: dict[tuple[str, str], float]
    ships: dict[str, list[tuple[str, float, float]]]
    shifts: dict[str, tuple[float, float]]

    @classmethod
    def read(cls, archive: Path) -> _Truth:
        def rows(name: str) -> list[dict[str, str]]:
            with (archive / name).open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))

        ships: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
        for r in rows("truth_objects.csv"):
            if r["kind"] == "ship":
                ships[r["scene_id"]].append((r["object_id"], float(r["x"]), float(r["y"])))
        return cls(
            scenes={(r["scene_id"], r["aoi"]): r for r in rows("truth.csv")},
            zones={
                (r["scene_id"], r["zone"]): float(r["railcars"]) for r in rows("truth_zones.csv")
            },
            ships=dict(ships),
            shifts={
                r["scene_id"]: (float(r["shift_x_px"]), float(r["shift_y_px"]))
                for r in rows("truth_scenes.csv")
            },
        )


@dataclass
class _PortScores:
    errors: list[float] = field(default_factory=list)
    berth: list[float] = field(default_factory=list)
    misregistration: list[float] = field(default_factory=list)
    rebuild: list[float] = field(default_factory=list)


@dataclass
class _RailScores:
    clear_scenes: int = 0
    zone_errors: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    empty_by_month: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    signed: list[tuple[int, float]] = field(default_factory=list)


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(statistics.fmean(values), 3) if values else None


@lru_cache(maxsize=4)
def _to_utm(epsg: int) -> Transformer:
    return Transformer.from_crs(4326, epsg, always_xy=True)


def _utm(rows: Iterable[DetectionRow], epsg: int) -> list[tuple[float, float]]:
    to_utm = _to_utm(epsg)
    return [to_utm.transform(d.lon, d.lat) for d in rows if d.lon is not None and d.lat is not None]


def _false_ships(found: list[tuple[float, float]], true: list[tuple[float, float]]) -> int:
    return sum(
        1
        for x, y in found
        if not any(np.hypot(x - tx, y - ty) <= MATCH_RADIUS_M for tx, ty in true)
    )


def _near(points: Iterable[tuple[float, float]], centre: tuple[float, float]) -> int:
    return sum(1 for x, y in points if np.hypot(x - centre[0], y - centre[1]) <= BERTH_RADIUS_M)


@dataclass(frozen=True)
class _Setting:
    """What the scoring needs to know of the scenario and the reference."""

    berths: dict[str, tuple[float, float]]
    """Usually occupied berths: a marker in their ships' object ids, and their centre."""
    misregistered: bool
    frame: tuple[float, float]
    """Mean true shift of the reference's scenes (the frame scenes are registered to)."""


def _aligned(chip: Chip, shift: tuple[float, float], frame: tuple[float, float]) -> Chip:
    """The chip with its true misregistration against the reference's frame undone."""
    undo = Shift(rows=shift[1] - frame[1], cols=-(shift[0] - frame[0]), reliable=True)
    cube, valid = apply_shift(chip.reflectance, chip.valid, undo)
    return replace(chip, reflectance=cube, valid=valid)


def _score_port(
    chip: Chip,
    scene: Scene,
    aoi: Aoi,
    reference: Reference,
    truth: _Truth,
    setting: _Setting,
    scores: _PortScores,
) -> None:
    row = truth.scenes[(scene.id, aoi.id)]
    analysis = analyse_chip(chip, scene, aoi, reference=reference)
    if analysis.observation.ships is None:
        return
    scores.errors.append(abs(analysis.observation.ships - int(row["ships"])))
    found = _utm(analysis.detections, chip.epsg)
    ships = truth.ships.get(scene.id, [])
    true_xy = [(x, y) for _, x, y in ships]
    for centre in setting.berths.values():
        scores.berth.append(_near(found, centre) - _near(true_xy, centre))
    if setting.misregistered:
        shift = truth.shifts[scene.id]
        straight = analyse_chip(
            _aligned(chip, shift, setting.frame), scene, aoi, reference=reference
        )
        unshifted = _utm(straight.detections, chip.epsg)
        scores.misregistration.append(
            _false_ships(found, true_xy) - _false_ships(unshifted, true_xy)
        )


def _score_rebuild(
    chip: Chip, scene: Scene, aoi: Aoi, halves: list[Reference | None], scores: _PortScores
) -> None:
    """The count against one half's reference minus that against the other's."""
    first, second = (
        analyse_chip(chip, scene, aoi, reference=half).observation.ships if half else None
        for half in halves
    )
    if first is not None and second is not None:
        scores.rebuild.append(first - second)


def _score_rail(
    chip: Chip, scene: Scene, aoi: Aoi, reference: Reference, truth: _Truth, scores: _RailScores
) -> None:
    row = truth.scenes[(scene.id, aoi.id)]
    analysis = analyse_chip(chip, scene, aoi, reference=reference)
    names = [z.zone or "" for z in analysis.zones]
    zone_cars = {name: truth.zones.get((scene.id, name), 0.0) for name in names}
    add_rail_reading(scores, analysis, int(row["railcars"]), zone_cars)


def _measured(observation: Observation) -> float | None:
    """The reading, if its track was measured as evaluate requires (else None: a yard under
    snow or cloud reads 0 cars of nothing, not 0 cars)."""
    if (observation.clear_fraction or 0.0) < MEASURED_CLEAR["rail"]:
        return None
    return observation.railcar_equivalents


def add_rail_reading(
    scores: _RailScores, analysis: SceneAnalysis, cars: int, zone_cars: dict[str, float]
) -> None:
    """Score one rail scene: the AOI total and each yard measured well enough."""
    total = _measured(analysis.observation)
    if total is None:
        return
    scores.clear_scenes += 1
    if cars >= MIN_RAILCARS:
        scores.signed.append((analysis.observation.datetime.month, (total - cars) / cars))
    for zone in analysis.zones:
        reading, true_cars = _measured(zone), zone_cars.get(zone.zone or "", 0.0)
        if reading is None:
            continue
        if true_cars >= MIN_RAILCARS:
            scores.zone_errors[zone.zone or ""].append(abs(reading - true_cars) / true_cars)
        elif true_cars == 0:
            scores.empty_by_month[zone.datetime.month].append(reading)


def _berths(scenario_path: Path, truth: _Truth) -> dict[str, tuple[float, float]]:
    """Usually occupied berths of the scenario's port and where their ships lie."""
    from pipeline.simulate import load_scenario

    site = load_scenario(scenario_path).site("rajin-port")
    out: dict[str, tuple[float, float]] = {}
    for index, berth in enumerate(site.keys.berths):
        if berth.occupancy < USUALLY_OCCUPIED:
            continue
        marker = f"-berth{index}-"
        for ships in truth.ships.values():
            spot = next(((x, y) for oid, x, y in ships if marker in oid), None)
            if spot is not None:
                out[marker] = spot
                break
    return out


def run_scenario_bench(
    scenario: Path, settings: Settings, *, progress: Progress | None = None
) -> dict[str, object]:
    """Simulate (or reuse) the scenario's archive and score it (see the module docstring).

    Raises:
        InvalidScenarioError: the scenario file is missing or invalid.
    """
    from pipeline.simulate import load_scenario

    archive = ensure_archive(settings, scenario)
    spec = load_scenario(scenario)
    truth = _Truth.read(archive)
    source = open_source(str(archive), settings)
    port, rail = _PortScores(), _RailScores()
    for aoi in load_aois(settings.aoi_dir):
        scenes = source.search(aoi, spec.dates[0], spec.dates[-1])
        chips = {s.id: read_chip(s, aoi, settings=settings) for s in scenes}
        fractions = [
            (s.id, clear_fraction(clear_pixels(chips[s.id]), chips[s.id].valid)) for s in scenes
        ]
        picked = reference_candidates(fractions, snowy_looks(aoi, chips.values()))
        reference = aoi_reference(aoi, [chips[i] for i in picked], scenes)
        if reference is None:
            continue
        frame = (
            statistics.fmean(truth.shifts[i][0] for i in picked),
            statistics.fmean(truth.shifts[i][1] for i in picked),
        )
        setting = _Setting(_berths(scenario, truth), spec.world.misregistration_px > 0, frame)
        measured = dict(fractions)
        # A rebuilt reference: the same period, composited from the other half of its scenes.
        halves = (
            [
                reference_from_chips([chips[i] for i in picked[k::2]], leave_out_snow=True)
                for k in (0, 1)
            ]
            if aoi.kind == "port"
            else []
        )
        for n, scene in enumerate(scenes, start=1):
            if progress:
                progress(f"{aoi.id}: scoring", n, len(scenes))
            row = truth.scenes.get((scene.id, aoi.id))
            if row is None or float(row["clear_fraction"]) < CLEAR_SCENE:
                continue
            if measured[scene.id] < MEASURED_CLEAR[aoi.kind]:
                continue
            if aoi.kind == "port":
                _score_port(chips[scene.id], scene, aoi, reference, truth, setting, port)
                _score_rebuild(chips[scene.id], scene, aoi, halves, port)
            else:
                _score_rail(chips[scene.id], scene, aoi, reference, truth, rail)
    return _result(scenario, port, rail)


def _result(scenario: Path, port: _PortScores, rail: _RailScores) -> dict[str, object]:
    monthly = [statistics.fmean(v) for v in rail.empty_by_month.values() if v]
    inside = [e for month, e in rail.signed if month in WINDOW_MONTHS]
    outside = [e for month, e in rail.signed if month not in WINDOW_MONTHS]
    season_bias = (
        round(abs(statistics.fmean(inside) - statistics.fmean(outside)), 3)
        if inside and outside
        else None
    )
    return {
        "scenario": scenario.name,
        "simulated": True,
        "ships": {
            "mae": _mean(port.errors),
            "berth_bias": _mean(port.berth),
            "misregistration_false_per_scene": _mean(port.misregistration),
            "clear_scenes": len(port.errors),
        },
        "rail": {
            "median_rel_err": {
                zone: round(statistics.median(errors), 3)
                for zone, errors in sorted(rail.zone_errors.items())
                if errors
            },
            "empty_yard_max": round(max(monthly), 3) if monthly else None,
            "season_bias": season_bias,
            "clear_scenes": rail.clear_scenes,
        },
        "ships_rebuild_step": abs(_mean(port.rebuild) or 0.0) if port.rebuild else None,
    }


def print_scenario_bench(result: dict[str, object]) -> None:
    """Print the figures as a table (SIMULATED)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"SIMULATED {result['scenario']}: issue 14's figures")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for group in ("ships", "rail"):
        values = result[group]
        assert isinstance(values, dict)
        for key, value in values.items():
            table.add_row(f"{group}.{key}", str(value))
    Console().print(table)
