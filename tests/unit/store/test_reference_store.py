"""Saved references: exact round trip with provenance, and when they are stale."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from pipeline.detect.reference import Reference
from pipeline.store.references import (
    GROWTH_MIN_SCENES,
    Provenance,
    ReferenceKey,
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
        elif f.name == "usual":
            values[f.name] = rng.integers(0, 3, (6, 7)).astype(np.int16)
        elif f.name == "usual_note":
            values[f.name] = "berth 1 at row 3 col 4"
        elif f.name == "response":
            values[f.name] = rng.random((3, 5, 6, 7)).astype(np.float32)
        elif f.name == "response_seen":
            values[f.name] = rng.random((2, 6)).astype(np.float32)
        elif f.name in ("low", "median"):
            cube = rng.random((5, 6, 7)).astype(np.float32)
            cube[:, 0, 0] = np.nan
            values[f.name] = cube
        else:
            plane = rng.random((6, 7)).astype(np.float32)
            plane[0, 0] = np.nan
            values[f.name] = plane
    return Reference(**values)  # type: ignore[arg-type]


KEY = ReferenceKey(
    aoi_id="tumangang-rail",
    aoi_key="abc123",
    source="earth-search",
    period=(date(2019, 1, 1), date(2023, 6, 30)),
    excluded=((date(2023, 8, 1), date(2023, 11, 29)),),
    detector_version="v1",
)
PROVENANCE = Provenance(
    key=KEY,
    reference_id=_reference().reference_id,
    available=70,
    newest=date(2023, 6, 20),
    built_at="2024-07-01T03:00:00Z",
    scene_ids=("S2A_1", "S2B_2"),
    scene_origins={"S2A_1": "o1", "S2B_2": "o2"},
    usual="berth 1 at row 3 col 4 (23 px, occupied 94% of 34 looks, 2 empty)",
)
ORIGINS = {"S2A_1": "o1", "S2B_2": "o2", "S2A_3": "o3"}


def test_round_trip_is_exact(tmp_path: Path) -> None:
    reference = _reference()
    path = save_reference(reference_path(tmp_path, KEY), reference, PROVENANCE)
    assert path == tmp_path / "tumangang-rail" / f"{KEY.digest}.npz"
    stored = load_reference(path)
    assert stored is not None
    assert stored.provenance == PROVENANCE
    assert stored.provenance.summary().endswith("; " + PROVENANCE.usual)
    for f in dataclasses.fields(Reference):
        a, b = getattr(stored.reference, f.name), getattr(reference, f.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            assert np.array_equal(a, b, equal_nan=True), f.name
        else:
            assert a == b, f.name


def test_a_reference_without_a_ground_model_round_trips_without_one(tmp_path: Path) -> None:
    reference = dataclasses.replace(_reference(), response=None, response_seen=None)
    path = save_reference(reference_path(tmp_path, KEY), reference, PROVENANCE)
    stored = load_reference(path)
    assert stored is not None
    assert stored.reference.response is None
    assert stored.reference.response_seen is None
    assert stored.reference.reference_id == reference.reference_id
    assert reference.reference_id != _reference().reference_id  # the model is content


def test_missing_or_garbled_files_load_as_none(tmp_path: Path) -> None:
    assert load_reference(tmp_path / "none.npz") is None
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert load_reference(bad) is None


def test_the_key_names_outline_source_period_exclusions_and_detector() -> None:
    digests = {
        replace(KEY, **{name: value}).digest  # type: ignore[arg-type]
        for name, value in [
            ("aoi_key", "other"),
            ("source", "local:/x"),
            ("period", (date(2019, 1, 1), date(2023, 7, 31))),
            ("excluded", ()),
            ("detector_version", "v2"),
        ]
    }
    assert len(digests) == 5
    assert KEY.digest not in digests
    assert replace(KEY).digest == KEY.digest


def test_the_key_admits_only_days_in_the_period_outside_excluded_windows() -> None:
    assert KEY.admits(date(2021, 5, 1))
    assert not KEY.admits(date(2018, 12, 31))
    assert not KEY.admits(date(2023, 7, 1))
    wide = replace(KEY, period=(date(2019, 1, 1), date(2024, 6, 30)))
    assert wide.admits(date(2023, 7, 31))
    assert wide.admits(date(2023, 11, 30))
    assert not wide.admits(date(2023, 8, 1))
    assert not wide.admits(date(2023, 11, 29))


@pytest.mark.parametrize(
    ("key", "available", "origins", "reason"),
    [
        (KEY, 70, ORIGINS, None),
        (KEY, 70 + GROWTH_MIN_SCENES - 1, ORIGINS, None),  # a few late scenes
        (replace(KEY, source="planetary-computer"), 70, ORIGINS, "another"),
        (replace(KEY, detector_version="v0"), 70, ORIGINS, "another"),
        (KEY, 200, ORIGINS, "200 available"),  # scenes published late
        (KEY, 70, {**ORIGINS, "S2B_2": "other"}, "other pixels"),  # reprocessed at the source
        (KEY, 70, {"S2A_3": "o3"}, None),  # its scenes no longer listed: nothing to compare
    ],
)
def test_stale_reasons(
    key: ReferenceKey, available: int, origins: dict[str, str], reason: str | None
) -> None:
    stored = StoredReference(_reference(), PROVENANCE)
    found = stale_reason(stored, key, available=available, origins=origins)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


def test_a_reference_whose_content_changed_is_stale() -> None:
    other = replace(PROVENANCE, reference_id="0" * 16)
    found = stale_reason(StoredReference(_reference(), other), KEY, available=70, origins=ORIGINS)
    assert found is not None
    assert "content" in found


def test_nothing_saved_is_stale() -> None:
    found = stale_reason(None, KEY, available=1, origins={})
    assert found == "no saved reference"


def test_reference_id_follows_the_content() -> None:
    one, two = _reference(), _reference()
    assert one.reference_id == two.reference_id
    changed = replace(two, median=two.median + np.float32(1e-6))
    assert changed.reference_id != one.reference_id
    assert replace(two, scene_ids=("S2A_1",)).reference_id != one.reference_id
