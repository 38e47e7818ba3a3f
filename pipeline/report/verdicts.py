"""The report's verdicts: one card per claim and the table of every number, escaped.

Used by :mod:`pipeline.report.page`, which assembles the whole document.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import date

from pipeline.claims.table import fmt_number, fmt_p
from pipeline.claims.verdict import Verdict
from pipeline.report.data import ReportData
from pipeline.report.html import Html, el
from pipeline.report.rule_tables import evidence_facts, evidence_section

#: How each metric reads on the page.
UNIT = {"ships": "ships", "railcar_equivalents": "railcar-equivalents"}


def _day(value: date | None) -> str:
    return "?" if value is None else f"{value:%-d %b %Y}"


def _ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return "∞" if math.isinf(value) else f"×{value:.2f}"


def verdict_card(v: Verdict, quote: str, source: str) -> Html:
    """One claim as a card: verdict, quote, effect size and its interval, n, onset."""
    unit = UNIT.get(v.metric, v.metric)
    if v.test == "presence" and v.presence_baseline is not None and v.presence_test is not None:
        b, t = v.presence_baseline, v.presence_test
        big = el(
            "div",
            f"{b.k}/{b.n} ",
            el("small", f"baseline scenes with {unit} (test window: {t.k}/{t.n})"),
            class_="big",
        )
    else:
        big = el("div", _ratio(v.ratio), " ", el("small", f"{unit} per clear scene"), class_="big")
    facts = [
        ("rate", f"{fmt_number(v.baseline_mean)} → {fmt_number(v.test_mean)} {unit} per scene"),
        ("95% CI", f"{_ratio(v.ci_low)} to {_ratio(v.ci_high)}"),
        ("p", f"{fmt_p(v.p_value)} (one-sided)"),
        ("n", f"{v.n_baseline} baseline / {v.n_test} test clear scenes"),
        (
            "onset",
            "no change point found"
            if v.onset is None
            else f"{_day(v.onset)} (95%: {_day(v.onset_low)} – {_day(v.onset_high)})",
        ),
        *evidence_facts(v),
    ]
    return el(
        "article",
        el(
            "div",
            el("span", v.verdict, class_=f"pill {v.verdict}"),
            el("code", v.claim),
            class_="top",
        ),
        el("blockquote", f"“{quote}”"),
        el("p", source, class_="source"),
        big,
        el("ul", *(el("li", el("b", k), v_) for k, v_ in facts), class_="facts"),
        el("p", v.reason, class_="reason"),
        el("ul", *(el("li", n) for n in v.notes), class_="caveats") if v.notes else None,
        class_="card",
        data_verdict=v.verdict,
        data_claim=v.claim,
    )


def verdict_table(verdicts: Sequence[Verdict]) -> Html:
    """Every number of every verdict, one row per claim."""
    head = el(
        "tr",
        *(
            el("th", h)
            for h in (
                "claim",
                "verdict",
                "baseline mean",
                "test mean",
                "ratio",
                "95% CI",
                "p",
                "n (base / test)",
                "onset (95%)",
            )
        ),
    )
    rows = [
        el(
            "tr",
            el(
                "td",
                el("code", v.claim),
                el("br"),
                el("small", f"{v.aoi} · {UNIT.get(v.metric, v.metric)}"),
            ),
            el("td", el("span", v.verdict, class_=f"pill {v.verdict}")),
            el("td", fmt_number(v.baseline_mean), class_="num"),
            el("td", fmt_number(v.test_mean), class_="num"),
            el("td", _ratio(v.ratio), class_="num"),
            el("td", f"{_ratio(v.ci_low)} – {_ratio(v.ci_high)}", class_="num"),
            el("td", fmt_p(v.p_value), class_="num"),
            el("td", f"{v.n_baseline} / {v.n_test}", class_="num"),
            el(
                "td",
                "none" if v.onset is None else f"{v.onset}",
                el("br"),
                "" if v.onset is None else f"{v.onset_low or '?'} – {v.onset_high or '?'}",
                class_="num",
            ),
            data_claim=v.claim,
        )
        for v in verdicts
    ]
    return el("div", el("table", el("thead", head), el("tbody", *rows)), class_="scroll")


def verdict_section(data: ReportData) -> Html:
    """Headline, cards and the full table."""
    ev = data.evaluation
    claims = {c.id: c for c in ev.claims}
    counts = Counter(v.verdict for v in ev.verdicts)
    summary = ", ".join(
        f"{counts[k]} {k}" for k in ("supported", "contradicted", "inconclusive") if counts[k]
    )
    cards = [
        verdict_card(v, claims[v.claim].quote, claims[v.claim].source)
        for v in ev.verdicts
        if v.claim in claims
    ]
    return el(
        "section",
        el("h2", "Verdicts"),
        el(
            "p",
            f"{len(ev.verdicts)} claims tested against {len(ev.observations)} stored "
            f"observations: {summary or 'none'}.",
            class_="summary",
        ),
        el("div", *cards, class_="cards", id="verdict-cards"),
        el("h3", "All numbers"),
        verdict_table(ev.verdicts),
        evidence_section(ev.verdicts),
        id="verdicts",
    )
