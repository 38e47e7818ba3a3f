"""Rail figures per yard: each yard zone's own series, with the counts and claims about it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from rail_yards import rail_scene

from pipeline.claims.evaluate import Evaluation
from pipeline.claims.parse import Claim
from pipeline.claims.rules import evaluate_claims
from pipeline.config import DEFAULT_AOI_DIR
from pipeline.geo.aoi import load_aois
from pipeline.report import plots, series_blocks
from pipeline.report.data import ReportData
from pipeline.report.osint import OsintPoint
from pipeline.report.plots import SeriesPlot
from pipeline.types import Observation

DAY = date(2024, 6, 17)
#: Railcar-equivalents per scene: the AOI total and each yard differ, so a figure drawing
#: the wrong series cannot pass.
TOTAL, TUMANGANG, KHASAN = 300.0, 40.0, 120.0


def rail_rows(days: Sequence[date]) -> list[Observation]:
    """For each day: the AOI total and its two yards, all clear, SIMULATED."""
    rows: list[Observation] = []
    for day in days:
        total, yards = rail_scene(day, TOTAL, TUMANGANG, KHASAN)
        rows += [total, *yards]
    return rows


def point(zone: str | None, value: float, day: date = DAY) -> OsintPoint:
    return OsintPoint(
        day, day, "tumangang-rail", "railcar_equivalents", value, "x", "CSIS", zone=zone
    )


def test_a_yard_figure_draws_the_yard_s_rows_not_the_total(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[list[float]] = []

    def capture(ax: Any, rows: Sequence[Observation], metric: Any, *, faded: bool) -> None:
        if not faded:
            drawn.append([o.railcar_equivalents or 0.0 for o in rows])

    monkeypatch.setattr(plots, "_draw_points", capture)
    rows = rail_rows([DAY - timedelta(days=5), DAY])
    for zone, want in ((None, TOTAL), ("khasan-yard", KHASAN), ("tumangang-yard", TUMANGANG)):
        spec = SeriesPlot(
            "tumangang-rail", "t", "railcar_equivalents", 0.9, (), (), (point(zone, 1.0),), zone
        )
        assert plots.series_png(spec, rows).startswith(b"\x89PNG")
        assert drawn.pop() == [want, want], zone


def _data(rows: list[Observation], osint: tuple[OsintPoint, ...]) -> ReportData:
    claim = Claim(
        id="rail-yard",
        quote="q",
        source="s",
        aoi="tumangang-rail",
        metric="railcar_equivalents",
        zone="tumangang-yard",
    )
    verdicts = tuple(evaluate_claims((claim,), rows))
    totals = tuple(o for o in rows if o.zone is None)
    return ReportData(
        evaluation=Evaluation((claim,), verdicts, totals, "test-1", Path("none.sqlite")),
        detections=(),
        provenance={},
        runs=(),
        osint=osint,
        aois={a.id: a for a in load_aois(DEFAULT_AOI_DIR)},
        zone_observations=tuple(o for o in rows if o.zone is not None),
    )


def test_counts_and_claims_about_a_yard_go_on_its_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    specs: list[SeriesPlot] = []

    def capture(spec: SeriesPlot, observations: Sequence[Observation]) -> bytes:
        specs.append(spec)
        return b"png"

    monkeypatch.setattr(plots, "series_png", capture)
    rows = rail_rows([DAY - timedelta(days=5), DAY])
    osint = (point(None, 404.0), point("tumangang-yard", 255.0), point("khasan-yard", 149.0))
    blocks = series_blocks(
        _data(rows, osint), "tumangang-rail", metric="railcar_equivalents", threshold=0.9
    )
    # The total first, then the yards in the AOI file's order.
    assert [b[0] for b in blocks] == [
        "tumangang-rail",
        "tumangang-rail-tumangang-yard",
        "tumangang-rail-khasan-yard",
    ]
    by_zone = {s.zone: s for s in specs}
    assert [p.value for p in by_zone[None].osint] == [404.0]
    assert [p.value for p in by_zone["tumangang-yard"].osint] == [255.0]
    assert [p.value for p in by_zone["khasan-yard"].osint] == [149.0]
    assert [c.id for c in by_zone["tumangang-yard"].claims] == ["rail-yard"]
    assert by_zone[None].claims == ()
    assert by_zone["khasan-yard"].claims == ()
    assert (
        "2 scenes stored for the khasan-yard zone of tumangang-rail: 2 at least 90%"
        in (blocks[2][3])
    )
    assert "drawn on that yard's own figure" in blocks[0][3]


def test_a_yard_named_only_by_a_count_still_gets_its_figure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plots, "series_png", lambda spec, observations: b"png")
    totals = [o for o in rail_rows([DAY]) if o.zone is None]
    blocks = series_blocks(
        _data(totals, (point("khasan-yard", 149.0),)),
        "tumangang-rail",
        metric="railcar_equivalents",
        threshold=0.9,
    )
    ids = [b[0] for b in blocks]
    assert ids == ["tumangang-rail", "tumangang-rail-tumangang-yard", "tumangang-rail-khasan-yard"]
    assert "0 scenes stored for the khasan-yard zone" in blocks[2][3]
