"""One series, one instrument: a verdict is never drawn from rows measured differently.

Rows of one AOI measured against different temporal references, or on different product
levels (Level-1C top of atmosphere against Level-2A), are different instruments. A claim
whose series mixes them is made inconclusive with a note saying what to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date

from pipeline.claims.verdict import Verdict
from pipeline.types import Observation


def _ok_rows(observations: Sequence[Observation], aoi: str) -> Iterator[Observation]:
    """The AOI-level rows of ``aoi`` stored ``ok`` (zone rows follow their AOI row)."""
    return (o for o in observations if o.aoi == aoi and o.zone is None and o.status == "ok")


def references_of(observations: Sequence[Observation], aoi: str) -> dict[str | None, int]:
    """How many rows of ``aoi`` stored ``ok`` were measured against each reference id
    (None: a row stored before references were identified)."""
    return Counter(o.reference_id for o in _ok_rows(observations, aoi))


def refuse_mixed_references(verdict: Verdict, references: Mapping[str | None, int]) -> Verdict:
    """``verdict``, made inconclusive with a note when its series mixes references.

    Rows measured against different references are different instruments: pooling them
    could turn a rebuilt reference into a spike or a drop.
    """
    if len(references) < 2:
        return verdict
    mix = ", ".join(
        f"{count} rows against {ref or 'an unidentified reference'}"
        for ref, count in sorted(references.items(), key=lambda kv: (-kv[1], str(kv[0])))
    )
    note = (
        f"the series mixes {len(references)} references ({mix}); rows measured against "
        "different references are not pooled: run `rasonwatch backfill` again to reprocess "
        "them against one"
    )
    return replace(
        verdict,
        verdict="inconclusive",
        reason=f"not evaluated: the series mixes {len(references)} references",
        notes=(*verdict.notes, note),
    )


def levels_of(
    observations: Sequence[Observation],
    aoi: str,
    periods: Sequence[tuple[date, date]] | None = None,
) -> dict[str, int]:
    """How many rows of ``aoi`` stored ``ok`` were measured on each product level (rows
    without a recorded level are Level-2A: nothing else could be stored before schema 6);
    with ``periods`` (inclusive date ranges), only the rows inside one of them."""
    rows = _ok_rows(observations, aoi)
    if periods is not None:
        rows = (o for o in rows if any(a <= o.datetime.date() <= b for a, b in periods))
    return Counter(o.product_level or "L2A" for o in rows)


def refuse_mixed_levels(verdict: Verdict, levels: Mapping[str, int]) -> Verdict:
    """``verdict``, made inconclusive with a note when its series mixes product levels
    (Level-1C top-of-atmosphere numbers are another instrument than Level-2A ones)."""
    if len(levels) < 2:
        return verdict
    mix = ", ".join(f"{n} {level} rows" for level, n in sorted(levels.items()))
    return replace(
        verdict,
        verdict="inconclusive",
        reason=f"not evaluated: the series mixes product levels ({mix})",
        notes=(
            *verdict.notes,
            f"the series mixes product levels ({mix}); they are different instruments and "
            "are never pooled silently",
        ),
    )


def note_levels(verdict: Verdict, levels: Mapping[str, int]) -> Verdict:
    """``verdict`` with a note naming the product levels its series joins, when it joins
    more than one (a visits claim: a ship seen at a berth is seen on either level, and the
    Level-1C chips are brought to surface reflectance first; the counts of both levels on
    the dates that have both are compared by ``scripts/measure_l1c_counts.py``)."""
    if len(levels) < 2:
        return verdict
    mix = ", ".join(f"{n} {level} rows" for level, n in sorted(levels.items()))
    note = (
        f"the series joins product levels ({mix}); Level-1C rows are top-of-atmosphere chips "
        "brought to surface reflectance (Rayleigh correction, no aerosol correction) and "
        "count visits, not rates"
    )
    return replace(verdict, notes=(*verdict.notes, note))
