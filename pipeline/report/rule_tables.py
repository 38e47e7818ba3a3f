"""The report's record of every window and baseline a verdict was decided on (issue 15).

One table per rate-ratio claim: the test window and each baseline evaluated (season-matched,
which decides, then the full and 2019 baselines as sensitivity lines), with clear scenes,
their effective number, the ratio and its block interval, and the months without a clear
scene. Under it, the window scan, the blocks and the pre-registration (claims file hash,
rule version).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pipeline.claims.evidence import Baseline, Evidence
from pipeline.claims.table import fmt_number, fmt_p
from pipeline.claims.verdict import Verdict
from pipeline.report.html import Html, el


def _ranges(ranges: Sequence[tuple[object, object]]) -> str:
    return ", ".join(f"{a} – {b}" for a, b in ranges) or "none in the archive's baseline"


def _ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return "∞" if math.isinf(value) else f"×{value:.2f}"


def _baseline_row(b: Baseline, deciding: bool) -> Html:
    months = ", ".join(b.empty_months) or "none"
    return el(
        "tr",
        el("td", b.name, el("br"), el("small", "decides" if deciding else "sensitivity")),
        el("td", _ranges(b.ranges)),
        el("td", f"{b.n} ({b.n_effective:.1f})", class_="num"),
        el("td", fmt_number(b.mean), class_="num"),
        el("td", _ratio(b.ratio), class_="num"),
        el("td", f"{_ratio(b.ci_low)} – {_ratio(b.ci_high)}", class_="num"),
        el("td", months),
    )


def evidence_facts(v: Verdict) -> list[tuple[str, str]]:
    """Card facts from rule 2: effective n, the false-alarm rate, blocks, the joint verdict."""
    facts = []
    ev = v.evidence
    if ev is not None:
        facts.append(
            (
                "effective n",
                f"{ev.primary.n_effective:.1f} baseline / {ev.window.n_effective:.1f} test "
                f"(blocks of {ev.block_days:.0f} days)",
            )
        )
        if ev.scan is not None:
            rate = ev.scan.false_alarm_rate
            share = "–" if math.isnan(rate) else f"{rate:.0%}"
            facts.append(
                (
                    "false-alarm rate",
                    f"{share}: {ev.scan.exceed} of {ev.scan.windows} same-length baseline "
                    "windows reach this window",
                )
            )
    if v.group is not None and v.group_verdict is not None:
        facts.append(("joint verdict", f"{v.group_verdict} ({v.group}: every part must hold)"))
    return facts


def _evidence_table(v: Verdict, ev: Evidence) -> Html:
    head = el(
        "tr",
        *(
            el("th", h)
            for h in (
                "compared with",
                "periods",
                "clear scenes (effective)",
                "mean",
                "ratio",
                "95% block CI",
                "months without a clear scene",
            )
        ),
    )
    window = el(
        "tr",
        el("td", "test window"),
        el("td", _ranges([ev.window.range])),
        el("td", f"{ev.window.n} ({ev.window.n_effective:.1f})", class_="num"),
        el("td", fmt_number(v.test_mean), class_="num"),
        el("td", ""),
        el("td", ""),
        el("td", ", ".join(ev.window.empty_months) or "none"),
    )
    rows = [window, *(_baseline_row(b, i == 0) for i, b in enumerate(ev.baselines))]
    scan = ev.scan
    lines = [
        f"Memory of the series {ev.autocorrelation_days:.1f} days; blocks of "
        f"{ev.block_days:.0f} days; block-permutation p = {fmt_p(ev.block_p_value)}.",
    ]
    if scan is not None and scan.windows:
        lines.append(
            f"Window scan: {scan.windows} windows of the same length starting {scan.first} to "
            f"{scan.last} (every 5 days; {scan.skipped} left out for too few clear scenes), "
            f"{scan.exceed} reach this window."
        )
    if v.registration is not None:
        reg = v.registration
        digest = reg.claims_sha256 or "not from a file"
        lines.append(f"Rule {reg.rule_version}; claims file SHA-256 {digest}.")
    return el(
        "div",
        el("h4", el("code", v.claim)),
        el("div", el("table", el("thead", head), el("tbody", *rows)), class_="scroll"),
        *(el("p", line, class_="sub") for line in lines),
    )


def evidence_section(verdicts: Sequence[Verdict]) -> Html | None:
    """Every window and baseline evaluated, per rate-ratio claim (None when there is none)."""
    tables = [_evidence_table(v, v.evidence) for v in verdicts if v.evidence is not None]
    if not tables:
        return None
    return el(
        "div",
        el("h3", "Windows and baselines evaluated"),
        *tables,
        id="windows-evaluated",
    )
