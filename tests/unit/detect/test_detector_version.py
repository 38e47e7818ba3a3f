"""The detector version names every method that turns pixels into numbers, so that a change
to any of them keeps old and new rows apart and makes a backfill reprocess."""

from __future__ import annotations

from pipeline.detect import analyse


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
