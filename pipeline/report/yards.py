"""The analysts' counts per yard against this tool's yard series.

CSIS counted railcars per yard (Tumangang on the DPRK side, Khasan on the Russian side) on
0.5 m imagery; ``seeds/osint.csv`` says which yard with its ``zone`` column. Each such count
of one image is set against the same yard's own series (``zone_observations``), never the
AOI total: the yard's nearest clear scene within :data:`MAX_GAP_DAYS` of the analysts'
image. Trains stay days, not weeks, so a scene further away shows other trains, and the
table says there is none rather than compare them.

:func:`compare_yards` is pure; :func:`yards_section` draws its table for the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from pipeline.claims.series import Metric, clear_series
from pipeline.claims.table import fmt_number
from pipeline.report.html import Html, el
from pipeline.report.osint import OsintPoint
from pipeline.types import Observation

#: Farthest a scene may be from the analysts' image, in days, to be compared with it: one
#: Sentinel-2 revisit (two satellites) and about the stay of a train at the demo's yards.
MAX_GAP_DAYS: Final = 5


@dataclass(frozen=True)
class YardComparison:
    """One zoned analysts' count and the yard's nearest clear scene."""

    point: OsintPoint
    """The analysts' count (a single image, with a zone and a value)."""
    max_gap_days: int
    """How far a scene could have been from ``point.start`` and still be compared."""
    scene_date: date | None = None
    """The nearest clear scene's UTC date, or None when none is within ``max_gap_days``."""
    scene_id: str | None = None
    """That scene's id."""
    tool_value: float | None = None
    """The yard's value in that scene."""
    simulated: bool = False
    """Whether the yard's series came from simulated scenes."""

    def __post_init__(self) -> None:
        if self.point.zone is None or self.point.value is None or not self.point.is_point:
            raise ValueError("a yard comparison needs a zoned count of one image")
        if self.max_gap_days < 0:
            raise ValueError(f"max_gap_days {self.max_gap_days} is negative")
        if (self.scene_date is None) != (self.tool_value is None):
            raise ValueError("a scene date and a value come together, or neither")

    @property
    def gap_days(self) -> int | None:
        """Days from the analysts' image to the scene (negative: the scene is earlier)."""
        return None if self.scene_date is None else (self.scene_date - self.point.start).days

    @property
    def difference(self) -> float | None:
        """This tool's value minus the analysts' count (None without a scene)."""
        if self.tool_value is None or self.point.value is None:
            return None
        return self.tool_value - self.point.value


def _comparable(point: OsintPoint) -> bool:
    """A count of one image, of one yard: what :func:`compare_yards` compares."""
    return point.zone is not None and point.value is not None and point.is_point


def compare_yards(
    points: Iterable[OsintPoint],
    observations: Sequence[Observation],
    *,
    min_clear_fraction: Mapping[str, float],
    default_min_clear: float,
    max_gap_days: int = MAX_GAP_DAYS,
) -> tuple[YardComparison, ...]:
    """Each zoned count of one image against its yard's nearest clear scene.

    Args:
        points: the analysts' counts; those without a zone, a value or a single date are
            left out (periods are drawn on the yard's figure only).
        observations: the yards' rows (``zone`` set); AOI totals are ignored.
        min_clear_fraction: per AOI, the share of a yard seen clear for a scene to count
            (the figure's threshold).
        default_min_clear: the threshold of AOIs not in ``min_clear_fraction``.
        max_gap_days: the farthest a scene may be from the image (ties: the earlier scene).
    """
    out = []
    for point in points:
        if not _comparable(point):
            continue
        metric: Metric = "ships" if point.metric == "ships" else "railcar_equivalents"
        series = clear_series(
            observations,
            aoi=point.aoi,
            metric=metric,
            min_clear_fraction=min_clear_fraction.get(point.aoi, default_min_clear),
            zone=point.zone,
        )
        near = [
            (abs((day - point.start).days), day, i)
            for i, day in enumerate(series.dates)
            if abs((day - point.start).days) <= max_gap_days
        ]
        if not near:
            out.append(YardComparison(point, max_gap_days, simulated=series.simulated))
            continue
        _, day, i = min(near)
        out.append(
            YardComparison(
                point,
                max_gap_days,
                scene_date=day,
                scene_id=series.scene_ids[i],
                tool_value=float(series.values[i]),
                simulated=series.simulated,
            )
        )
    return tuple(out)


def _gap(c: YardComparison) -> str:
    gap = c.gap_days
    if gap is None:
        return "–"
    if gap == 0:
        return "same day"
    days = "day" if abs(gap) == 1 else "days"
    return f"{abs(gap)} {days} {'after' if gap > 0 else 'before'}"


def _row(c: YardComparison) -> Html:
    p = c.point
    tag = el("small", " SIMULATED", class_="simulated") if c.simulated else None
    if c.tool_value is None:
        tool = el("td", f"no clear scene within {c.max_gap_days} days", tag)
    else:
        tool = el(
            "td",
            fmt_number(c.tool_value, 1),
            tag,
            el("br"),
            el("small", f"{c.scene_date:%-d %b %Y} · ", el("code", c.scene_id or "")),
            class_="num",
        )
    difference = c.difference
    return el(
        "tr",
        el("td", f"{p.start:%-d %b %Y}", class_="num"),
        el("td", el("code", p.zone or ""), el("br"), el("small", p.aoi)),
        el("td", fmt_number(p.value, 0), el("br"), el("small", p.reported), class_="num"),
        tool,
        el("td", _gap(c), class_="num"),
        el("td", "–" if difference is None else f"{difference:+.1f}", class_="num"),
        data_zone=p.zone,
    )


def yards_section(comparisons: Sequence[YardComparison], *, simulated: bool) -> Html | None:
    """The table "CSIS counts per yard vs this tool" (None when no count names a yard)."""
    if not comparisons:
        return None
    gap = comparisons[0].max_gap_days
    label = " (SIMULATED)" if simulated else ""
    note = (
        "The analysts counted cars by hand on 0.5 m imagery, yard by yard; this tool measures "
        "occupied track in the same yard zone on 10 m imagery (railcar-equivalents = occupied "
        "length ÷ 14 m). Each count is set against the yard's own series, not the AOI total: "
        f"its nearest clear scene within {gap} days of the analysts' image (trains stay "
        "days, so a scene further away shows other trains). Difference = this tool − the "
        "analysts. Counts over a period are drawn on the yard's figure, not listed here."
    )
    if simulated:
        note += (
            " This tool's values come from SIMULATED scenes: they say how the tool reads a "
            "simulated yard, nothing about the real one on that day."
        )
    head = el(
        "tr",
        *(
            el("th", h)
            for h in (
                "date",
                "yard",
                "analysts' count",
                f"this tool{label}",
                "day gap",
                "difference",
            )
        ),
    )
    return el(
        "section",
        el("h2", f"CSIS counts per yard vs this tool{label}"),
        el("p", note, class_="sub"),
        el(
            "div",
            el("table", el("thead", head), el("tbody", *(_row(c) for c in comparisons))),
            class_="scroll",
        ),
        id="yards",
    )
