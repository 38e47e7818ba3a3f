"""Scenario-shaped observation series for claim and report tests: fast and deterministic.

Like ``rasonwatch simulate``: a scene every ``revisit_days``, activity piecewise constant,
ships Poisson and railcars negative binomial (dispersion 2.5), a share of scenes mostly
cloudy. No pixels: the numbers go straight into :class:`~pipeline.types.Observation` rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from pipeline.store.results import Store
from pipeline.types import DetectionRow, Observation

#: Negative-binomial dispersion of railcar counts (variance = mu + mu^2 / k), as simulate.
RAILCAR_K = 2.5


def scene_dates(start: date, end: date, revisit_days: int) -> list[date]:
    """Every ``revisit_days`` from ``start`` to ``end`` inclusive."""
    n = (end - start).days // revisit_days + 1
    return [start + timedelta(days=revisit_days * i) for i in range(n)]


def level_at(day: date, levels: Sequence[tuple[date, float]]) -> float:
    """The piecewise-constant activity level on ``day``."""
    current = levels[0][1]
    for since, value in levels:
        if day >= since:
            current = value
    return current


def series(
    levels: Sequence[tuple[date, float]],
    *,
    aoi: str = "rajin-port",
    metric: str = "ships",
    start: date = date(2021, 1, 1),
    end: date = date(2024, 6, 30),
    revisit_days: int = 5,
    cloud_probability: float = 0.4,
    seed: int = 1,
    simulated: bool = True,
    detector_version: str = "test-1",
    source: str = "local",
) -> list[Observation]:
    """Observations of one AOI following ``levels`` = [(from date, mean), ...]."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in scene_dates(start, end, revisit_days):
        mean = level_at(day, levels)
        cloudy = rng.random() < cloud_probability
        clear = float(rng.uniform(0.0, 0.5) if cloudy else rng.uniform(0.85, 1.0))
        when = datetime(day.year, day.month, day.day, 2, 16, tzinfo=UTC)
        scene_id = f"S2X_T52TFM_{day:%Y%m%d}T021601_L2A"
        if metric == "ships":
            rows.append(
                Observation(
                    aoi=aoi,
                    scene_id=scene_id,
                    datetime=when,
                    detector_version=detector_version,
                    source=source,
                    clear_fraction=clear,
                    ships=int(rng.poisson(mean)),
                    simulated=simulated,
                )
            )
            continue
        cars = float(rng.negative_binomial(RAILCAR_K, RAILCAR_K / (RAILCAR_K + mean)))
        measured = max(0.0, cars * float(rng.normal(1.0, 0.1)))
        rows.append(
            Observation(
                aoi=aoi,
                scene_id=scene_id,
                datetime=when,
                detector_version=detector_version,
                source=source,
                clear_fraction=clear,
                railcar_equivalents=measured,
                occupied_track_m=measured * 14.0,
                railcar_low=measured * 0.8,
                railcar_high=measured * 1.2 + 1.0,
                simulated=simulated,
            )
        )
    return rows


def demo_like() -> list[Observation]:
    """Both AOIs shaped like the demo scenario: ships 0.5 -> 4 from 2023-08-01, railcars
    10 -> 70 from 2023-09-15, 5-day revisit, 30 % cloudy scenes."""
    port = series(
        [(date(2021, 1, 1), 0.5), (date(2023, 8, 1), 4.0)], cloud_probability=0.3, seed=11
    )
    rail = series(
        [(date(2021, 1, 1), 10.0), (date(2023, 9, 15), 70.0)],
        aoi="tumangang-rail",
        metric="railcar_equivalents",
        cloud_probability=0.3,
        seed=12,
    )
    return port + rail


def scene_doc(obs: Observation, archive: Path) -> dict[str, object]:
    """A ``scene_json`` payload like the backfill's, with asset hrefs under ``archive``."""
    folder = archive / obs.scene_id
    return {
        "scene": {
            "id": obs.scene_id,
            "datetime": obs.datetime.isoformat(),
            "platform": "sentinel-2a",
            "tile": "52TFM",
            "epsg": 32652,
            "processing_baseline": "05.10",
            "cloud_cover": 12.5,
            "collection": "sentinel-2-c1-l2a",
            "source": obs.source,
            "offset_rule": "raster:bands",
            "simulated": obs.simulated,
            "assets": {
                band: {"href": str(folder / f"{band}.tif"), "scale": 0.0001, "offset": -0.1}
                for band in ("blue", "green", "red", "nir", "swir16", "scl")
            },
        },
        "reference": "test reference",
        "pixels": pixels_of(obs.scene_id),
    }


def pixels_of(scene_id: str) -> str:
    """The pixel origin a test store records for ``scene_id`` (16 hex digits)."""
    return hashlib.sha256(scene_id.encode()).hexdigest()[:16]


def ships_at(obs: Observation) -> list[DetectionRow]:
    """One detection per counted ship, in a row across the Rajin harbour."""
    out = []
    for n in range(obs.ships or 0):
        lon, lat = 130.295 + 0.004 * n, 42.235
        d = 0.0006
        ring = f"{lon - d} {lat}, {lon} {lat + d / 4}, {lon + d} {lat}, {lon} {lat - d / 4}"
        out.append(
            DetectionRow(
                kind="ship",
                row=300.0,
                col=250.0 + 30 * n,
                lon=lon,
                lat=lat,
                length_m=110.0,
                width_m=16.0,
                heading_deg=90.0,
                score=0.9,
                geometry_wkt=f"POLYGON (({ring}, {lon - d} {lat}))",
            )
        )
    return out


def fill_store(
    path: Path,
    observations: Sequence[Observation],
    *,
    archive: Path | None = None,
    doc: Callable[[Observation], dict[str, object]] | None = None,
) -> Path:
    """Write ``observations`` (with scene metadata and ship detections) into a new store."""
    archive = archive or path.parent / "archive"
    with Store(path) as store:
        run = store.start_run("test", {"data_dir": str(path.parent)}, "test-1")
        for obs in observations:
            payload = doc(obs) if doc is not None else scene_doc(obs, archive)
            store.write(obs, ships_at(obs), run_id=run, scene_json=json.dumps(payload))
        store.finish_run(run, n_ok=len(observations), n_failed=0, n_skipped=0)
    return path


def observations_of(
    dates: Sequence[date], values: Sequence[float], *, aoi: str = "rajin-port"
) -> list[Observation]:
    """Clear ship observations of ``aoi``, one per date (a clear-scene series back as rows)."""
    return [
        Observation(
            aoi=aoi,
            scene_id=f"S2X_T52TFM_{day:%Y%m%d}T021601_L2A",
            datetime=datetime(day.year, day.month, day.day, 2, 16, tzinfo=UTC),
            detector_version="test-1",
            source="local",
            clear_fraction=1.0,
            ships=int(value),
            simulated=True,
        )
        for day, value in zip(dates, values, strict=True)
    ]
