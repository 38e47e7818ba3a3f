"""Issue 15 in the report and the console: every window and baseline, effective n, the
false-alarm rate, months without clear scenes, the joint verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from claims_fixtures import demo_like
from rich.console import Console

from pipeline.claims.parse import load_claims
from pipeline.claims.rules import evaluate_claims
from pipeline.claims.table import print_verdict_table, verdict_markdown
from pipeline.claims.verdict import Verdict
from pipeline.report.rule_tables import evidence_facts, evidence_section

REPO = Path(__file__).resolve().parents[3]


def verdicts() -> list[Verdict]:
    return evaluate_claims(load_claims(REPO / "seeds" / "claims.toml"), demo_like())


def test_report_lists_every_window_and_baseline_evaluated() -> None:
    html = evidence_section(verdicts())
    assert html is not None
    text = re.sub(r"<[^>]+>", " ", html)
    assert 'id="windows-evaluated"' in html
    for needle in (
        "test window",
        "season-matched",
        "full",
        "2019",
        "2023-08-01 – 2023-11-29",
        "2021-08-01 – 2021-11-29",
        "months without a clear scene",
        "Window scan:",
        "block-permutation p",
        "Rule 2",
    ):
        assert needle in text, needle
    assert text.count("decides") == 2  # the two rate-ratio claims


def test_cards_show_effective_n_false_alarm_rate_and_the_joint_verdict() -> None:
    port = verdicts()[0]
    facts = dict(evidence_facts(port))
    assert "effective n" in facts
    assert "same-length baseline windows" in facts["false-alarm rate"]
    assert "port-and-rail-spike-2023" in facts["joint verdict"]


def test_console_and_markdown_give_the_joint_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    vs = verdicts()
    print_verdict_table(vs, console=Console(width=250))
    out = capsys.readouterr().out
    assert "effective n" in out
    assert "false-alarm rate" in out
    assert f"port-and-rail-spike-2023: joint verdict {vs[0].group_verdict}" in out
    assert "port-and-rail-spike-2023: joint verdict" in verdict_markdown(vs)
