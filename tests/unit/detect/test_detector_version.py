"""The detector version names every method that turns pixels into numbers, so that a change
to any of them keeps old and new rows apart and makes a backfill reprocess."""

from __future__ import annotations

import pytest

from pipeline.detect import analyse
from pipeline.detect.cnn import LEARNED_IN_PRODUCT
from pipeline.detect.cnn_scale import SCALE_METHOD


def test_every_method_is_in_the_detector_version() -> None:
    version = analyse.detector_version()
    for name in (
        "RAIL_METHOD",
        "REGISTRATION_METHOD",
        "BERTH_METHOD",
        "TOA_METHOD",
        "WINTER_METHOD",
    ):
        method = getattr(analyse, name)
        assert f".{method}" in version, f"{name} = {method!r} is missing from {version!r}"


def test_the_learned_detector_and_its_scale_are_in_the_version_when_the_flows_use_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    off = analyse.detector_version()
    assert (".cnn." in off) == LEARNED_IN_PRODUCT
    monkeypatch.setattr(analyse, "LEARNED_IN_PRODUCT", True)
    analyse.detector_version.cache_clear()
    try:
        on = analyse.detector_version()
    finally:
        analyse.detector_version.cache_clear()
    assert ".cnn." in on
    assert f".{SCALE_METHOD}." in on
