"""What a source could and could not see over a date range: which product each date came
from, and the months with no scene or with Level-1C only (``rasonwatch scenes``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.types import Scene


@dataclass(frozen=True)
class ProductSpan:
    """The dates of one collection among a search's scenes."""

    collection: str
    """STAC collection id."""
    level: str
    """``L2A`` or ``L1C``."""
    dates: int
    """Dates it gave."""
    first: date
    """First of them."""
    last: date
    """Last of them."""


@dataclass(frozen=True)
class Gaps:
    """A search's products and gaps."""

    source: str
    """The source searched."""
    products: tuple[ProductSpan, ...]
    """One span per collection, most dates first."""
    months_without: tuple[str, ...]
    """Months of the range with no scene (``YYYY-MM``)."""
    months_l1c_only: tuple[str, ...]
    """Months whose scenes are all Level-1C."""

    def lines(self) -> list[str]:
        """The summary as lines a person reads."""
        out = [
            f"{self.source}: {p.collection} ({p.level}) {p.dates} dates "
            f"{p.first.isoformat()}..{p.last.isoformat()}"
            for p in self.products
        ]
        if not self.products:
            out.append(f"{self.source}: no scene in the range")
        if self.months_without:
            out.append(f"{self.source}: months with no scene: {_runs(self.months_without)}")
        if self.months_l1c_only:
            out.append(
                f"{self.source}: months with Level-1C only (no Level-2A): "
                f"{_runs(self.months_l1c_only)}"
            )
        return out


def _months(start: date, end: date) -> list[str]:
    out, (y, m) = [], (start.year, start.month)
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _runs(months: Sequence[str]) -> str:
    """``2019-01..2019-03, 2019-07``."""
    all_months = _months(
        date.fromisoformat(months[0] + "-01"), date.fromisoformat(months[-1] + "-01")
    )
    index = {m: i for i, m in enumerate(all_months)}
    runs: list[list[str]] = []
    for m in months:
        if runs and index[m] == index[runs[-1][-1]] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def product_gaps(scenes: Sequence[Scene], start: date, end: date, *, source: str) -> Gaps:
    """Which collection each date came from, and the months nothing (or only Level-1C)
    covers."""
    spans: dict[tuple[str, str], list[date]] = {}
    levels_by_month: dict[str, set[str]] = {}
    for s in scenes:
        day = s.datetime.date()
        spans.setdefault((s.collection or "?", s.level), []).append(day)
        levels_by_month.setdefault(f"{day.year:04d}-{day.month:02d}", set()).add(s.level)
    products = sorted(
        (ProductSpan(c, lv, len(set(d)), min(d), max(d)) for (c, lv), d in spans.items()),
        key=lambda p: (-p.dates, p.collection),
    )
    months = _months(start, end)
    return Gaps(
        source=source,
        products=tuple(products),
        months_without=tuple(m for m in months if m not in levels_by_month),
        months_l1c_only=tuple(m for m in months if levels_by_month.get(m) == {"L1C"}),
    )
