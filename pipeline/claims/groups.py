"""Joint verdicts: claims that are parts of one sentence stand or fall together.

The 2023-11-29 report says "a spike in trade from both the port *and* a rail line to
Russia": one claim with two parts. Claims sharing a ``group`` key in the claims file get a
joint verdict:

- **supported** only when every part is supported;
- **contradicted** when any part is contradicted (an "and" with a false part is false);
- **inconclusive** otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.claims.parse import Claim
from pipeline.claims.verdict import Verdict, VerdictLabel


def joint_label(labels: Sequence[VerdictLabel]) -> VerdictLabel:
    """The verdict on "every part holds" from the parts' verdicts (module docstring)."""
    if labels and all(label == "supported" for label in labels):
        return "supported"
    if any(label == "contradicted" for label in labels):
        return "contradicted"
    return "inconclusive"


def with_joint_verdicts(claims: Sequence[Claim], verdicts: Sequence[Verdict]) -> list[Verdict]:
    """``verdicts`` (parallel to ``claims``), each part of a group given its joint verdict."""
    groups: dict[str, list[VerdictLabel]] = {}
    for claim, verdict in zip(claims, verdicts, strict=True):
        if claim.group is not None:
            groups.setdefault(claim.group, []).append(verdict.verdict)
    return [
        verdict
        if claim.group is None
        else replace(verdict, group=claim.group, group_verdict=joint_label(groups[claim.group]))
        for claim, verdict in zip(claims, verdicts, strict=True)
    ]
