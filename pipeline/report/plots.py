"""Time series per AOI, and per yard zone of a rail AOI: the metric per scene with its
uncertainty, the claim windows, the change point with its interval, the window means, and
the analysts' hand counts of that series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

import numpy as np
from matplotlib import transforms
from matplotlib.axes import Axes
from numpy.typing import NDArray
from scipy import stats

from pipeline.claims.parse import Claim
from pipeline.claims.series import Metric, is_clear, metric_value
from pipeline.claims.verdict import Verdict
from pipeline.report.figures import COLOURS, new_figure, plain, png_bytes, report_style
from pipeline.report.osint import OsintPoint
from pipeline.types import Observation

#: Axis label per metric.
METRIC_LABEL: Final = {
    "ships": "ships per scene",
    "railcar_equivalents": "railcar-equivalents per scene",
}
#: A gap this long before the first stored scene is labelled as unobserved.
MIN_LABELLED_GAP: Final = timedelta(days=120)
#: Origin of the x axis.
EPOCH: Final = date(1970, 1, 1)
#: Metres of track per railcar-equivalent (README.md: length ÷ ~14 m).
CAR_LENGTH_M: Final = 14.0


@dataclass(frozen=True)
class SeriesPlot:
    """What one series' figure shows: an AOI's total, or one of its yard zones."""

    aoi: str
    """AOI id."""
    title: str
    """Heading (the AOI's name)."""
    metric: Metric
    """The metric plotted."""
    min_clear_fraction: float
    """Scenes below this clear fraction are drawn faded."""
    claims: tuple[Claim, ...]
    """Claims tested on this series (their windows are shaded)."""
    verdicts: tuple[Verdict, ...]
    """Their verdicts (window means and the onset)."""
    osint: tuple[OsintPoint, ...]
    """Analysts' observations of this series (same AOI, metric and zone)."""
    zone: str | None = None
    """The yard zone whose own rows are drawn (``zone_observations``); None: the AOI total."""


def count_interval(
    counts: NDArray[np.float64], *, coverage: float = 0.6827
) -> tuple[NDArray[np.float64], ...]:
    """Exact (Garwood) Poisson interval of each count, 68 % (one sigma) by default.

    68 % rather than 95 %: a 95 % bar on a count of 0 reaches 3.7, and a hundred such bars
    hide the points; the tests themselves use 95 % intervals of the means.
    """
    tail = (1.0 - coverage) / 2.0
    low = np.where(counts > 0, stats.chi2.ppf(tail, 2 * counts) / 2.0, 0.0)
    high = stats.chi2.ppf(1.0 - tail, 2 * counts + 2) / 2.0
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _intervals(rows: Sequence[Observation], metric: Metric) -> tuple[NDArray[np.float64], ...]:
    values = np.array([metric_value(o, metric) or 0.0 for o in rows], dtype=np.float64)
    if metric == "ships":
        low, high = count_interval(values)
    else:
        low = np.array(
            [
                o.railcar_low if o.railcar_low is not None else v
                for o, v in zip(rows, values, strict=True)
            ]
        )
        high = np.array(
            [
                o.railcar_high if o.railcar_high is not None else v
                for o, v in zip(rows, values, strict=True)
            ]
        )
    return values, np.maximum(values - low, 0.0), np.maximum(high - values, 0.0)


def series_png(spec: SeriesPlot, observations: Sequence[Observation]) -> bytes:
    """Draw the figure and return it as PNG bytes."""
    with report_style():
        return _series_png(spec, observations)


def _series_png(spec: SeriesPlot, observations: Sequence[Observation]) -> bytes:
    rows = [o for o in observations if o.aoi == spec.aoi and o.zone == spec.zone]
    usable = [o for o in rows if o.status == "ok" and metric_value(o, spec.metric) is not None]
    clear = [o for o in usable if is_clear(o, spec.min_clear_fraction)]
    cloudy = [o for o in usable if not is_clear(o, spec.min_clear_fraction)]
    failed = [o for o in rows if o.status != "ok"]

    fig = new_figure(11.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    start, end = _extent(spec, rows)
    _shade_windows(ax, spec)
    _draw_points(ax, cloudy, spec.metric, faded=True)
    _draw_points(ax, clear, spec.metric, faded=False)
    if failed:
        days = [o.datetime.date() for o in failed]
        ax.plot(
            _xs(days), [0.0] * len(days), "|", color=COLOURS["muted"], ms=8, label="failed scene"
        )
    _draw_levels(ax, spec, clear)
    _draw_onset(ax, spec)
    _draw_osint(ax, spec, start)
    first = min((o.datetime.date() for o in rows), default=None)
    if first is not None and first - start > MIN_LABELLED_GAP:
        ax.axvspan(_x(start), _x(first), fc="none", ec="#c9d1d9", hatch="////", lw=0, zorder=1)
        mid = start + (first - start) / 2
        ax.text(
            _x(mid),
            0.5,
            "no scenes in the store",
            transform=_xdata_yaxes(ax),
            ha="center",
            va="center",
            color="#57606a",
            fontsize=9,
            bbox={"fc": "white", "ec": "none", "pad": 2.5},
        )
    ax.set_xlim(_x(start), _x(end))
    # Headroom above the highest point, so the window labels at the top stay clear of data
    # and of the analysts' markers.
    ax.set_ylim(bottom=0.0, top=ax.get_ylim()[1] * 1.12)
    ax.set_ylabel(METRIC_LABEL[spec.metric])
    _year_ticks(ax, start, end)
    if spec.metric == "railcar_equivalents":
        track = ax.secondary_yaxis("right", functions=(_cars_to_metres, _metres_to_cars))
        track.set_ylabel("occupied track (m)", color=COLOURS["muted"])
    ax.set_title(plain(spec.title))
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=6, fontsize=8)
    if not rows:
        ax.text(
            0.5,
            0.5,
            "no observations stored for this " + ("AOI" if spec.zone is None else "yard zone"),
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#57606a",
            fontsize=11,
        )
    return png_bytes(fig)


def _x(day: date) -> float:
    """A date as the x coordinate: days since 1970-01-01 (matplotlib's default epoch)."""
    return float((day - EPOCH).days)


def _year_ticks(ax: Axes, start: date, end: date) -> None:
    years = range(start.year + (start > date(start.year, 1, 1)), end.year + 1)
    ax.set_xticks([_x(date(y, 1, 1)) for y in years], [str(y) for y in years])
    quarters = [date(y, m, 1) for y in range(start.year, end.year + 1) for m in (4, 7, 10)]
    ax.set_xticks([_x(q) for q in quarters if start <= q <= end], minor=True)


def _cars_to_metres(cars: Any) -> Any:
    return np.asarray(cars) * CAR_LENGTH_M


def _metres_to_cars(metres: Any) -> Any:
    return np.asarray(metres) / CAR_LENGTH_M


def _xs(days: Sequence[date]) -> NDArray[np.float64]:
    return np.array([_x(d) for d in days], dtype=np.float64)


def _xdata_yaxes(ax: Axes) -> transforms.Transform:
    return transforms.blended_transform_factory(ax.transData, ax.transAxes)


def _extent(spec: SeriesPlot, rows: Sequence[Observation]) -> tuple[date, date]:
    days = [o.datetime.date() for o in rows]
    days += [d for c in spec.claims for d in (*c.baseline, *c.window)]
    if not days:
        today = date.today()
        return today - timedelta(days=365), today
    pad = timedelta(days=20)
    return min(days) - pad, max(days) + pad


def _shade_windows(ax: Axes, spec: SeriesPlot) -> None:
    seen: set[tuple[date, date]] = set()
    for claim in spec.claims:
        for (first, last), colour, label in (
            (claim.baseline, COLOURS["baseline"], "baseline"),
            (claim.window, COLOURS["window"], "test window"),
        ):
            if (first, last) in seen:
                continue
            seen.add((first, last))
            ax.axvspan(_x(first), _x(last + timedelta(days=1)), color=colour, lw=0, zorder=0)
            ax.text(
                _x(first + timedelta(days=6)),
                0.97,
                label,
                transform=_xdata_yaxes(ax),
                va="top",
                ha="left",
                fontsize=8,
                color="#57606a",
            )


def _draw_points(ax: Axes, rows: Sequence[Observation], metric: Metric, *, faded: bool) -> None:
    if not rows:
        return
    days = [o.datetime.date() for o in rows]
    values, below, above = _intervals(rows, metric)
    colour = COLOURS["cloudy"] if faded else COLOURS["clear"]
    if faded:
        ax.plot(
            _xs(days),
            values,
            "o",
            ms=3.2,
            mfc="white",
            mec=colour,
            mew=0.9,
            zorder=2,
            label="cloudy scene (not used)",
        )
        return
    bars = "68% interval" if metric == "ships" else "detector's interval"
    ax.errorbar(
        _xs(days),
        values,
        yerr=np.vstack([below, above]),
        fmt="none",
        ecolor=colour,
        elinewidth=0.7,
        alpha=0.35,
        capsize=0,
        zorder=3,
    )
    ax.plot(_xs(days), values, "o", ms=3.8, color=colour, zorder=3, label=f"clear scene ({bars})")


def _draw_levels(ax: Axes, spec: SeriesPlot, clear: Sequence[Observation]) -> None:
    """Window means (the compared rates) as thick bars over each window's clear scenes."""
    if not clear:
        return
    first, last = clear[0].datetime.date(), clear[-1].datetime.date()
    drawn = False
    for claim, verdict in zip(spec.claims, spec.verdicts, strict=True):
        for (a, b), mean in (
            (claim.baseline, verdict.baseline_mean),
            (claim.window, verdict.test_mean),
        ):
            if mean is None:
                continue
            a, b = max(a, first), min(b, last)
            if a < b:
                ax.plot(
                    _xs([a, b]),
                    [mean, mean],
                    color=COLOURS["level"],
                    lw=2.2,
                    zorder=4,
                    solid_capstyle="butt",
                    label=None if drawn else "window mean",
                )
                drawn = True
        break  # claims about one AOI and metric share their windows in practice


def _draw_onset(ax: Axes, spec: SeriesPlot) -> None:
    found = next((v for v in spec.verdicts if v.onset is not None), None)
    if found is None or found.onset is None:
        return
    if found.onset_low is not None and found.onset_high is not None:
        ax.axvspan(
            _x(found.onset_low),
            _x(found.onset_high + timedelta(days=1)),
            color=COLOURS["onset"],
            alpha=0.18,
            lw=0,
            zorder=1,
            label="onset, 95% interval",
        )
    ax.axvline(_x(found.onset), color=COLOURS["onset"], lw=1.4, ls="--", zorder=4)
    ax.text(
        _x(found.onset),
        0.74,
        f" onset {found.onset:%d %b %Y}",
        transform=_xdata_yaxes(ax),
        color=COLOURS["onset"],
        fontsize=8.5,
        fontweight="bold",
        ha="left",
        va="top",
        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1.5},
    )


def _short(point: OsintPoint) -> str:
    text = point.reported.split(";")[0].split("(")[0].strip()
    text = text if len(text) <= 60 else text[:58].rstrip() + "…"
    return plain(f"{point.source}: {text}")


def _draw_osint(ax: Axes, spec: SeriesPlot, axis_start: date) -> None:
    labelled = False
    for point in spec.osint:
        label = None if labelled else "analysts' count (0.5 m imagery)"
        if point.value is not None and point.is_point:
            ax.plot(
                _xs([point.start]),
                [point.value],
                "D",
                color=COLOURS["osint"],
                ms=6.5,
                zorder=5,
                mec="white",
                mew=0.8,
                label=label,
            )
            ax.annotate(
                _short(point),
                (_x(point.start), point.value),
                xytext=(-6, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=8,
                color=COLOURS["osint"],
            )
        elif point.value is not None:
            ax.plot(
                _xs([point.start, point.end]),
                [point.value] * 2,
                ls=(0, (4, 3)),
                lw=1.3,
                color=COLOURS["osint"],
                zorder=5,
                label=label,
            )
            ax.annotate(
                _short(point),
                (_x(max(point.start, axis_start)), point.value),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=8,
                color=COLOURS["osint"],
            )
        else:
            ax.annotate(
                "",
                xy=(_x(point.start), 0.80),
                xytext=(_x(point.end), 0.80),
                xycoords=_xdata_yaxes(ax),
                textcoords=_xdata_yaxes(ax),
                arrowprops={"arrowstyle": "|-|", "color": COLOURS["osint"], "lw": 1.2},
            )
            ax.text(
                _x(point.start - timedelta(days=6)),
                0.80,
                _short(point),
                transform=_xdata_yaxes(ax),
                color=COLOURS["osint"],
                fontsize=8,
                va="center",
                ha="right",
            )
        labelled = True
