"""Saved references: exact round trip with provenance, and when they are stale."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from pipeline.reference import Reference
from pipeline.reference_store import (
    GROWTH_MIN_SCENES,
    MAX_AGE_DAYS,
    Provenance,
    StoredReference,
    load_reference,
    reference_path,
    save_reference,
    stale_reason,
)


def _reference() -> Reference:
    rng = np.random.default_rng(1)
    values: dict[str, object] = {
        "aoi_id": "tumangang-rail",
        "epsg": 32652,
        "transform": Affine(10.0, 0.0, 712340.0, 0.0, -10.0, 4700000.0),
        "scene_ids": ("S2A_1", "S2B_2"),
    }
    for f in dataclasses.fields(Reference):  # every array field, whatever the lead adds
        if f.name in values:
            continue
        if f.name == "looks":
            values[f.name] = rng.integers(0, 40, (6, 7)).astype(np.int16)
        elif f.name in ("low", "median"):
            cube = rng.random((5, 6, 7)).astype(np.float32)
            cube[:, 0, 0] = np.nan
            values[f.name] = cube
        else:
            plane = rng.random((6, 7)).astype(np.float32)
            plane[0, 0] = np.nan
            values[f.name] = plane
    return Reference(**values)  # type: ignore[arg-type]


PROVENANCE = Provenance(
    aoi_id="tumangang-rail",
    aoi_key="abc123",
    detector_version="v1",
    source="earth-search",
    window_start=date(2023, 7, 1),
    window_end=date(2024, 6, 30),
    available=70,
    newest=date(2024, 6, 20),
    built_at="2024-07-01T03:00:00Z",
    scene_ids=("S2A_1", "S2B_2"),
)


def test_round_trip_is_exact(tmp_path: Path) -> None:
    reference = _reference()
    path = save_reference(reference_path(tmp_path, "tumangang-rail"), reference, PROVENANCE)
    assert path == tmp_path / "tumangang-rail.npz"
    stored = load_reference(path)
    assert stored is not None
    assert stored.provenance == PROVENANCE
    for f in dataclasses.fields(Reference):
        a, b = getattr(stored.reference, f.name), getattr(reference, f.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            assert np.array_equal(a, b, equal_nan=True), f.name
        else:
            assert a == b, f.name


def test_missing_or_garbled_files_load_as_none(tmp_path: Path) -> None:
    assert load_reference(tmp_path / "none.npz") is None
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert load_reference(bad) is None


@pytest.mark.parametrize(
    ("changes", "available", "window_end", "reason"),
    [
        ({}, 70, date(2024, 6, 30), None),
        ({}, 70 + GROWTH_MIN_SCENES - 1, date(2024, 6, 30), None),  # a few late scenes
        ({"detector_version": "v0"}, 70, date(2024, 6, 30), "detector"),
        ({"aoi_key": "other"}, 70, date(2024, 6, 30), "outline"),
        ({}, 200, date(2024, 6, 30), "200 available"),  # a much longer backfill
        ({"available": 5}, 12, date(2024, 6, 30), None),  # +7 scenes: under the margin
        ({}, 70, date(2024, 6, 20).replace(year=2026), f"over {MAX_AGE_DAYS} days"),
    ],
)
def test_stale_reasons(
    changes: dict[str, object], available: int, window_end: date, reason: str | None
) -> None:
    stored = StoredReference(_reference(), replace(PROVENANCE, **changes))  # type: ignore[arg-type]
    found = stale_reason(
        stored, detector_version="v1", aoi_key="abc123", available=available, window_end=window_end
    )
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


def test_nothing_saved_is_stale() -> None:
    found = stale_reason(
        None, detector_version="v1", aoi_key="k", available=1, window_end=date(2024, 1, 1)
    )
    assert found == "no saved reference"
