"""The visits timeline of a "first time since" claim (issue 17): the visits seen at the
piers, the chance each month had of seeing one, and what each source could see.

One figure per visits claim. Lanes, top to bottom:

* the chance, per month, of seeing a visit of the claim's typical length (bars), with the
  claim's per-quarter threshold as a line;
* the visits seen (one bar from first to last sighting each);
* one lane per source and product level (``local L2A``, ``earth-search L1C``...): months
  with a clear scene shaded, months with scenes but none clear or usable light, months
  with no scene at all hatched (the source could not see).

The absence period and the window are shaded across the whole figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Final

from pipeline.claims.parse import Claim
from pipeline.claims.series import is_clear
from pipeline.claims.verdict import Verdict
from pipeline.claims.visit_chances import months_between
from pipeline.report.figures import COLOURS, new_figure, plain, png_bytes, report_style
from pipeline.types import Observation

#: Lane colours: a month a source saw clear, saw only clouds or failed reads, or could not.
SAW: Final = "#2f855a"
SAW_NOTHING_CLEAR: Final = "#c6e2d0"


def _x(day: date) -> float:
    return day.year + (day.timetuple().tm_yday - 1) / 365.25


def source_lanes(observations: Sequence[Observation], claim: Claim) -> dict[str, dict[date, str]]:
    """Per ``source level`` lane: month (first day) → ``clear``, ``seen`` (scenes, none
    clear or readable)."""
    lanes: dict[str, dict[date, str]] = {}
    for o in observations:
        if o.aoi != claim.aoi or o.zone is not None:
            continue
        lane = lanes.setdefault(f"{o.source} {o.product_level or 'L2A'}", {})
        month = date(o.datetime.year, o.datetime.month, 1)
        if o.low_confidence is None and is_clear(o, claim.min_clear_fraction):
            lane[month] = "clear"
        else:
            lane.setdefault(month, "seen")
    return lanes


def visits_png(verdict: Verdict, claim: Claim, observations: Sequence[Observation]) -> bytes:
    """The timeline (module docstring) as PNG bytes.

    Raises:
        ValueError: the verdict has no visits evidence (not a visits claim).
    """
    ev = verdict.visits
    if ev is None:
        raise ValueError(f"verdict of {verdict.claim} has no visits evidence")
    months = [date.fromisoformat(m + "-01") for m, _, _ in ev.month_chance]
    lanes = source_lanes(observations, claim)
    names = sorted(lanes)
    with report_style():
        fig = new_figure(9.5, 2.6 + 0.3 * len(names))
        ax = fig.add_subplot(1, 1, 1)
        start, end = months[0], ev.window[1]
        for (a, b), colour in ((ev.absence, COLOURS["baseline"]), (ev.window, COLOURS["window"])):
            ax.axvspan(_x(a), _x(b + timedelta(days=1)), color=colour, zorder=0)
        # lane 0 (top): chance per month, drawn between y = 0 and 1 above the lanes
        base = len(names) + 1.3
        for (_m, chance, _n), first in zip(ev.month_chance, months, strict=True):
            ax.bar(
                _x(first),
                0.9 * chance,
                width=1 / 12,
                bottom=base,
                align="edge",
                color=COLOURS["clear"],
                zorder=2,
            )
        ax.axhline(base + 0.9 * claim.min_detection_chance, color=COLOURS["muted"], lw=0.8, ls="--")
        # lane 1: visits
        vy = len(names) + 0.5
        for v in ev.visits:
            width = max((v.last - v.first).days + 1, 3) / 365.25
            ax.barh(vy, width, left=_x(v.first), height=0.5, color=COLOURS["after"], zorder=3)
        # source lanes
        for i, name in enumerate(names):
            y = len(names) - 1 - i
            for first in months_between(start, end):
                state = lanes[name].get(first)
                kwargs: dict[str, Any] = (
                    {"color": SAW}
                    if state == "clear"
                    else {"color": SAW_NOTHING_CLEAR}
                    if state == "seen"
                    else {"facecolor": "none", "edgecolor": COLOURS["cloudy"], "hatch": "///"}
                )
                ax.barh(y, 1 / 12, left=_x(first), height=0.7, align="center", lw=0, **kwargs)
        ax.set_yticks(
            [*range(len(names)), vy, base + 0.45],
            [*(plain(n) for n in reversed(names)), "visits seen", "chance / month"],
        )
        ax.set_xlim(_x(start), _x(end + timedelta(days=1)))
        ax.set_ylim(-0.6, base + 1.0)
        ax.grid(axis="y", visible=False)
        ax.set_title(plain(f"{claim.id}: {verdict.verdict}"))
        return png_bytes(fig)


def visits_caption(verdict: Verdict) -> str:
    """What the figure shows, in words."""
    ev = verdict.visits
    if ev is None:
        return ""
    n_abs, n_win = len(ev.arrivals(*ev.absence)), len(ev.in_period(*ev.window))
    before = ev.last_before.label() if ev.last_before is not None else "none seen"
    return (
        f"Visits of ships of at least {ev.min_length_m:.0f} m at the {ev.zone} zone: "
        f"{n_abs} arriving in the absence period {ev.absence[0]}..{ev.absence[1]} "
        f"(shaded blue), {n_win} in the window (shaded orange); last before "
        f"{ev.absence[0]}: {before}. Bars at the top: the chance each month of seeing a "
        f"{ev.visit_days:g}-day visit (dashed: the {verdict.claim} threshold per quarter). "
        "Lanes: months each source saw clear (dark), saw only cloud or unreadable scenes "
        "(light), or had no scene at all (hatched)."
    )
