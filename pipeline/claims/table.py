"""Verdicts for people: a console table, rows for a Prefect table artifact, and markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.claims.verdict import Verdict

#: Console colour of each verdict.
VERDICT_STYLE = {"supported": "bold green", "contradicted": "bold red", "inconclusive": "yellow"}


def fmt_number(value: float | None, digits: int = 2) -> str:
    """A number for people: ``-`` when missing, ``inf`` when unbounded."""
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def fmt_p(value: float | None) -> str:
    """A p-value: two significant digits, ``<0.0001`` below that."""
    if value is None or math.isnan(value):
        return "-"
    return "<0.0001" if value < 1e-4 else f"{value:.2g}"


def fmt_onset(v: Verdict) -> str:
    """``2023-08-04 (2023-07-30..2023-08-09)``, or ``none found``."""
    if v.onset is None:
        return "none found"
    return f"{v.onset} ({_day(v.onset_low)} to {_day(v.onset_high)})"


def _day(value: date | None) -> str:
    return "?" if value is None else value.isoformat()


def _effective(v: Verdict) -> str:
    ev = v.evidence
    if ev is None:
        return "-"
    return f"{ev.primary.n_effective:.1f} / {ev.window.n_effective:.1f}"


def _false_alarm(v: Verdict) -> str:
    scan = None if v.evidence is None else v.evidence.scan
    if scan is None or not scan.windows:
        return "-"
    return f"{scan.false_alarm_rate:.0%} of {scan.windows}"


def group_lines(verdicts: Sequence[Verdict]) -> list[str]:
    """One line per group of claims: its joint verdict and its parts."""
    groups: dict[str, list[Verdict]] = {}
    for v in verdicts:
        if v.group is not None:
            groups.setdefault(v.group, []).append(v)
    return [
        f"{group}: joint verdict {parts[0].group_verdict} (supported only if every part is: "
        + ", ".join(f"{p.claim} {p.verdict}" for p in parts)
        + ")"
        for group, parts in groups.items()
    ]


def verdict_rows(verdicts: Sequence[Verdict]) -> list[dict[str, str]]:
    """One flat row of strings per verdict (a Prefect table artifact takes these)."""
    return [
        {
            "claim": v.claim,
            "verdict": v.verdict.upper(),
            "aoi": v.aoi,
            "metric": v.metric,
            "baseline -> test mean": f"{fmt_number(v.baseline_mean)} -> {fmt_number(v.test_mean)}",
            "ratio [95% CI]": (
                f"{fmt_number(v.ratio)} [{fmt_number(v.ci_low)}, {fmt_number(v.ci_high)}]"
            ),
            "p (one-sided)": fmt_p(v.p_value),
            "n baseline / test": f"{v.n_baseline} / {v.n_test}",
            "effective n": _effective(v),
            "false-alarm rate": _false_alarm(v),
            "onset (95% interval)": fmt_onset(v),
            "simulated": "SIMULATED" if v.simulated else "",
            "reason": v.reason,
        }
        for v in verdicts
    ]


def print_verdict_table(verdicts: Sequence[Verdict], *, console: Console | None = None) -> None:
    """Print the verdicts as a table, then each reason, on stdout."""
    out = console or Console()
    simulated = any(v.simulated for v in verdicts)
    title = "Claims against the results store" + (" (SIMULATED DATA)" if simulated else "")
    table = Table(title=title)
    rows = verdict_rows(verdicts)
    hidden = ("reason", "simulated", "aoi")
    columns = [c for c in (rows[0] if rows else {}) if c not in hidden]
    for column in columns:
        table.add_column(column, no_wrap=True)
    for v, row in zip(verdicts, rows, strict=True):
        cells = [Text(row[c]) for c in columns]  # Text: no console markup from user files
        cells[1].stylize(VERDICT_STYLE[v.verdict])
        table.add_row(*cells)
    Console(width=max(out.width, 250), file=out.file).print(table)
    for v in verdicts:
        out.print(Text(f"{v.claim}: {v.reason}"), soft_wrap=True)
    for line in group_lines(verdicts):
        out.print(Text(line), soft_wrap=True)
    if simulated:
        out.print(Text("SIMULATED: these verdicts come from simulated scenes.", style="bold red"))


def verdict_markdown(verdicts: Sequence[Verdict], *, report: Path | None = None) -> str:
    """A short markdown summary (for a Prefect markdown artifact)."""
    lines = []
    if any(v.simulated for v in verdicts):
        lines += ["**SIMULATED DATA** - these verdicts come from simulated scenes.", ""]
    lines += [
        "| claim | verdict | ratio [95% CI] | p | n (baseline/test) | onset |",
        "|---|---|---|---|---|---|",
    ]
    for v, row in zip(verdicts, verdict_rows(verdicts), strict=True):
        cells = (
            v.claim,
            f"**{v.verdict}**",
            row["ratio [95% CI]"],
            row["p (one-sided)"],
            row["n baseline / test"],
            row["onset (95% interval)"],
        )
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    lines.append("")
    lines += [f"- `{_md(v.claim)}`: {_md(v.reason)}" for v in verdicts]
    lines += [f"- {_md(line)}" for line in group_lines(verdicts)]
    if report is not None:
        lines += ["", f"Report: `{report}`"]
    return "\n".join(lines) + "\n"


def _md(value: str) -> str:
    """Neutralise markdown and HTML in a table cell."""
    escaped = value.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("`", "'")
