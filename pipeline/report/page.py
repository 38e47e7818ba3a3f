"""The report page: verdicts, time series, quicklooks, map, method and provenance,
assembled with :mod:`pipeline.report.html` so that every value is escaped.

The verdict cards and table are :mod:`pipeline.report.verdicts`; the provenance section is
:mod:`pipeline.report.provenance`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.claims.series import metric_value
from pipeline.claims.table import fmt_number
from pipeline.report.data import ReportData
from pipeline.report.html import Html, data_uri, el, join, raw, text
from pipeline.report.provenance import provenance_section
from pipeline.report.quicklooks import Quicklook
from pipeline.report.style import CSS
from pipeline.report.verdicts import verdict_section
from pipeline.report.yards import YardComparison, yards_section


def banner(data: ReportData) -> Html | None:
    """The SIMULATED banner, when any input scene was simulated."""
    if not data.simulated:
        return None
    return el(
        "div",
        el("strong", "SIMULATED DATA"),
        el("span", "Every number on this page comes from simulated scenes, not observations."),
        class_="banner",
        role="alert",
        id="simulated-banner",
    )


def figure(png: bytes, alt: str, caption: Html | str, *, fig_id: str | None = None) -> Html:
    """An embedded PNG with its caption."""
    return el(
        "figure",
        el("img", src=data_uri(png), alt=alt),
        el("figcaption", caption),
        id=fig_id,
    )


def series_section(blocks: Sequence[tuple[str, str, bytes, str]]) -> Html:
    """One figure per AOI: ``(aoi id, title, png, caption)``."""
    figures = [
        figure(png, f"Time series of {title}", caption, fig_id=f"series-{aoi}")
        for aoi, title, png, caption in blocks
    ]
    legend = (
        "Blue points: clear scenes used by the tests, with their uncertainty (68% exact "
        "Poisson interval for ship counts; the detector's interval for railcar-equivalents). "
        "Hollow points: cloudy "
        "scenes, shown but not used. Shaded: the claims' baseline (blue) and test window "
        "(amber). Black bars: the mean compared in each window. Dashed line and band: the "
        "change point found on the whole series and its 95% interval. Purple: the "
        "analysts' hand counts on 0.5 m imagery, for comparison only. A rail AOI has a "
        "figure for its total and one per yard zone; a claim or a count about one yard "
        "is drawn on that yard's figure."
    )
    return el(
        "section",
        el("h2", "Activity over time"),
        el("p", legend, class_="sub"),
        *figures,
        id="series",
    )


def visits_section(blocks: Sequence[tuple[str, bytes, str]]) -> Html | None:
    """The visits timelines of "first time since" claims: ``(claim id, png, caption)``."""
    if not blocks:
        return None
    return el(
        "section",
        el("h2", "Visits at the piers"),
        *(
            figure(png, f"Visits timeline of {cid}", caption, fig_id=f"visits-{cid}")
            for cid, png, caption in blocks
        ),
        id="visits",
    )


def quicklook_section(looks: Mapping[str, Sequence[Quicklook]], titles: Mapping[str, str]) -> Html:
    """Quicklooks per AOI, each with date, count and scene id."""
    parts: list[Html] = []
    for aoi, items in looks.items():
        cells = []
        for q in items:
            o = q.pick.observation
            value = metric_value(o, "ships" if o.ships is not None else "railcar_equivalents")
            what = (
                f"{o.ships} ships"
                if o.ships is not None
                else f"{fmt_number(value, 0)} railcar-equivalents"
            )
            caption = join(
                [
                    el("span", q.pick.role, class_="role"),
                    el("br"),
                    f"{o.datetime:%-d %b %Y} · {what} · {o.clear_fraction or 0:.0%} clear",
                    el("br"),
                    el("code", o.scene_id),
                ]
            )
            if q.image is not None:
                cells.append(figure(q.image, f"Quicklook of {o.scene_id}", caption))
            else:
                cells.append(
                    el(
                        "figure",
                        el("div", q.error or "not available", class_="missing"),
                        el("figcaption", caption),
                    )
                )
        parts.append(el("h3", titles.get(aoi, aoi)))
        parts.append(el("div", *cells, class_="grid"))
    note = (
        "True colour, stretched per image. Orange outlines: ships the detector counted; "
        "dashed yellow: the AOI's named zones (yards, harbour). Busiest: the clear scenes "
        "with the highest count; quiet baseline: the clearest scene with the lowest count in "
        "the baseline, for contrast. Railcar-equivalents are measured against an empty-yard "
        "reference, so bright structures present in every scene (platforms, sheds, parked "
        "stock that never moves) count as empty track."
    )
    return el(
        "section",
        el("h2", "Quicklooks"),
        el("p", note, class_="sub"),
        *parts,
        id="quicklooks",
    )


def map_section(png: bytes | None, missing: Sequence[str]) -> Html:
    """The AOI map (or why there is none)."""
    body: list[Html] = []
    if png is not None:
        body.append(
            figure(
                png,
                "Map of the areas of interest and the ship detections",
                "AOI outlines (black), zones (dashed), and ship detections in clear scenes: "
                "grey before the change point, orange from it. Drawn from the AOI files and "
                "the store alone; no map tiles.",
                fig_id="map",
            )
        )
    else:
        body.append(el("div", "No AOI outlines found to draw.", class_="missing"))
    if missing:
        body.append(
            el(
                "p",
                f"AOIs in the store without an outline in aoi/: {', '.join(missing)}",
                class_="sub",
            )
        )
    return el("section", el("h2", "Where"), *body, id="where")


def method_section(data: ReportData) -> Html:
    """How to read the verdicts, and what 10 m pixels can and cannot show."""
    ev = data.evaluation
    first = min((o.datetime.date() for o in ev.observations), default=None)
    items = [
        "Only clear scenes count: processed without error and with at least the claim's "
        "share of the AOI seen clear (set per claim in the claims file). One scene per day.",
        "Rate ratio = mean per clear scene in the test window ÷ mean on the same calendar "
        "days of the baseline years (season-matched; the full baseline and 2019 alone are "
        "shown as sensitivity lines). Ships stay for days, so scenes are resampled in blocks "
        "(twice the series' memory, at least 14 days): a 95% block-bootstrap interval and a "
        "block-permutation p-value, with the effective number of independent looks next to n.",
        "Supported: the whole interval lies above the margin (×1.25 unless the claim sets "
        "another), block p < 0.05, fewer than 5% of the same-length windows placed in the "
        "baseline years reach the window (the false-alarm rate), and the change point's 95% "
        "interval overlaps the baseline's end to the window's end. Contradicted: the whole "
        "interval lies below the margin. Otherwise inconclusive. Claims that are parts of one "
        "sentence get a joint verdict: supported only if every part is.",
        "“First time since” is measured as visits at the piers: ships of at least 90 m in the "
        "harbour zone (not the anchorage, not small craft), linked across clear scenes into "
        "visits (the same berth within 2 pixels, no clear scene without the ship in between). "
        "Each month's clear scenes give the chance of seeing a visit of typical length (3 days "
        "unless the claim sets another). Supported: no visit from 2019-01-01 to the window, "
        "every quarter of that period seen with a chance of at least 0.9 of catching one (ships "
        "calling once a month), and visits in the window. Contradicted: visits in that period. "
        "Otherwise inconclusive, naming the months that could not be seen.",
        "The onset is found on the whole series, without the claim's windows: PELT change "
        "points on variance-stabilised values, the noise allowing for autocorrelation, the "
        "most significant rise reported, with a 95% interval from the single-change-point "
        "likelihood.",
        "Railcars cannot be counted at 10 m: a car is 13.9 × 3.2 m, about 1.4 × 0.3 pixels. "
        "The detector measures occupied track; railcar-equivalents = occupied length ÷ 14 m.",
        "The analysts' counts (CSIS Beyond Parallel, RUSI) come from 0.5 m imagery: a trend to "
        "compare with, not truth at 10 m.",
    ]
    if first is not None:
        items.append(
            f"The store's first scene is {first.isoformat()}: nothing before it can be said, "
            "so “since 2018” is only tested from then on."
        )
    return el(
        "section",
        el("h2", "How to read this"),
        el("ul", *(el("li", i) for i in items), class_="method"),
        id="method",
    )


def page(
    data: ReportData,
    *,
    series: Sequence[tuple[str, str, bytes, str]],
    looks: Mapping[str, Sequence[Quicklook]],
    map_png: bytes | None,
    missing_aois: Sequence[str],
    visits: Sequence[tuple[str, bytes, str]] = (),
    yards: Sequence[YardComparison] = (),
) -> str:
    """The whole HTML document."""
    titles = {a: (data.aois[a].name if a in data.aois else a) for a in looks}
    header = el(
        "header",
        el(
            "div",
            el("h1", "Rason trade claims, checked against Sentinel-2"),
            el(
                "p",
                "Ships at Rajin port and railcars at the Tumangang–Khasan railhead, counted "
                "on free 10 m imagery and tested against what was claimed.",
                class_="lede",
            ),
            el(
                "p",
                f"Drawn {data.generated_at:%Y-%m-%d %H:%M UTC} from "
                f"{len(data.evaluation.observations)} observations.",
            ),
            el(
                "nav",
                *(
                    el("a", label, href=f"#{anchor}")
                    for anchor, label in (
                        ("verdicts", "Verdicts"),
                        ("series", "Over time"),
                        *((("yards", "Per yard"),) if yards else ()),
                        ("quicklooks", "Quicklooks"),
                        ("where", "Map"),
                        ("method", "Method"),
                        ("provenance", "Provenance"),
                    )
                ),
            ),
            class_="wrap",
        ),
    )
    body = el(
        "main",
        el(
            "div",
            verdict_section(data),
            series_section(series),
            yards_section(yards, simulated=data.simulated),
            visits_section(visits),
            quicklook_section(looks, titles),
            map_section(map_png, missing_aois),
            method_section(data),
            provenance_section(data),
            el(
                "footer",
                "rason-watch · self-contained page: no scripts, no external resources.",
            ),
            class_="wrap",
        ),
    )
    title = "rason-watch report" + (" (SIMULATED)" if data.simulated else "")
    document = join(
        [
            raw("<!DOCTYPE html>\n"),
            el(
                "html",
                el(
                    "head",
                    el("meta", charset="utf-8"),
                    el("meta", name="viewport", content="width=device-width, initial-scale=1"),
                    el(
                        "meta",
                        http_equiv="Content-Security-Policy",
                        content="default-src 'none'; img-src data:; style-src 'unsafe-inline'",
                    ),
                    el("title", title),
                    el("style", raw(CSS)),
                ),
                el("body", banner(data), header, body),
                lang="en",
            ),
        ]
    )
    return str(document) + "\n"


__all__ = ["page", "text"]
