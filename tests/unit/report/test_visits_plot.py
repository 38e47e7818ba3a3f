"""The visits timeline in the report (issue 17): visits, chance per month, source lanes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from visit_worlds import late_archive_world, marks_of, scenes

from pipeline.claims.parse import Claim
from pipeline.claims.rules import evaluate_claim
from pipeline.report.page import visits_section
from pipeline.report.visits_plot import source_lanes, visits_caption, visits_png

CLAIM = Claim(id="b", quote="q", source="s", aoi="rajin-port", metric="ships", test="visits")


def test_the_timeline_draws_and_says_what_each_source_could_see() -> None:
    seen = scenes(late_archive_world())
    rows = [s.observation for s in seen]
    rows[0] = replace(rows[0], source="other", product_level="L1C", status="failed", error="x")
    verdict = evaluate_claim(CLAIM, rows, ships=marks_of(seen))
    png = visits_png(verdict, CLAIM, rows)
    assert png.startswith(b"\x89PNG")
    lanes = source_lanes(rows, CLAIM)
    assert sorted(lanes) == ["local L2A", "other L1C"]
    assert lanes["other L1C"] == {date(2020, 1, 1): "seen"}  # a scene, none usable
    assert date(2019, 6, 1) not in lanes["local L2A"]  # the archive starts in 2020
    assert "0 arriving in the absence period" in visits_caption(verdict)
    html = str(visits_section([("b", png, visits_caption(verdict))]))
    assert "Visits at the piers" in html
    assert 'id="visits-b"' in html


def test_a_rate_claim_has_no_timeline() -> None:
    seen = scenes(late_archive_world())
    rate = replace(CLAIM, test="rate-ratio")
    verdict = evaluate_claim(rate, [s.observation for s in seen])
    with pytest.raises(ValueError, match="no visits evidence"):
        visits_png(verdict, rate, [])
    assert visits_section([]) is None
