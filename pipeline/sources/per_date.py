"""The best product of each date: one rule for every source (issue 17).

A source knows several products of the same acquisitions, in an order of preference: Earth
Search's ``sentinel-2-c1-l2a``, then ``sentinel-2-l2a``, then ``sentinel-2-l1c``; CDSE's
``sentinel-2-l2a``, then ``sentinel-2-l1c``; a local catalog's Level-2A items, then its
Level-1C ones. For every UTC date the first product that has a scene that day wins, and a
later one fills only the dates every earlier one lacks: a date is never given two products,
and a better product is never replaced by a worse one. Each scene keeps its ``collection``
and ``level``, so the choice is recorded with it (:mod:`.gaps` summarises it).

:func:`best_per_date` is the rule (pure); :func:`search_best_per_date` runs it over the
collections of one STAC API, one search per :class:`Rung`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pipeline.errors import SourceError
from pipeline.sources.stac_api import Found, StacApiSource, warn_skipped
from pipeline.types import Aoi, Scene

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rung:
    """One product of a source's ladder of preference."""

    collections: tuple[str, ...]
    """STAC collection ids searched together for this product."""
    level: Literal["L2A", "L1C"]
    """``L1C`` rungs accept Level-1C items (top of atmosphere, no SCL); ``L2A`` rungs refuse
    them with a reason."""

    def __post_init__(self) -> None:
        if not self.collections or not all(self.collections):
            raise ValueError(f"a rung needs at least one collection id, got {self.collections!r}")
        if self.level not in ("L2A", "L1C"):
            raise ValueError(f"a rung's level is L2A or L1C, got {self.level!r}")


def best_per_date(ranked: Sequence[Found]) -> Found:
    """The scenes of ``ranked[0]``, then of each later one on the UTC dates no earlier one
    has (pure). Footprints, item counts and skip reasons are carried along."""
    scenes: list[Scene] = []
    footprints = {}
    skipped: list[str] = []
    raw = 0
    have: set[str] = set()
    for found in ranked:
        added = [s for s in found.scenes if s.date_key not in have]
        have.update(s.date_key for s in added)
        scenes.extend(added)
        footprints.update({s.id: found.footprints[s.id] for s in added if s.id in found.footprints})
        raw += found.raw_count
        skipped.extend(found.skipped)
    return Found(scenes, footprints, raw, skipped)


def by_level(found: Found) -> list[Found]:
    """``found`` split into its Level-2A scenes, then its Level-1C ones (for a catalog that
    mixes levels in one search; pure)."""
    return [
        Found(
            [s for s in found.scenes if s.level == level],
            found.footprints,
            found.raw_count if level == "L2A" else 0,
            found.skipped if level == "L2A" else [],
        )
        for level in ("L2A", "L1C")
    ]


def search_best_per_date(
    api: StacApiSource, aoi: Aoi, start: date, end: date, rungs: Sequence[Rung]
) -> list[Scene]:
    """One search per rung, the best product of each date kept, then filtered to the range
    and de-duplicated over ``aoi`` (:meth:`StacApiSource.finish`).

    A Level-2A rung that fails is logged and the next one fills its dates; when every
    Level-2A rung fails the search fails, naming each reason. A Level-1C rung that fails
    is logged and left out (the dates it would have filled show as gaps).

    Raises:
        InvalidDateRangeError: ``end`` is before ``start``.
        SourceError: every Level-2A rung failed.
    """
    ranked: list[Found] = []
    errors: list[SourceError] = []
    l2a_rungs = [r for r in rungs if r.level == "L2A"]
    for rung in rungs:
        names = ",".join(rung.collections)
        if rung.level == "L1C" and l2a_rungs and len(errors) == len(l2a_rungs):
            break  # nothing of Level-2A could be searched: do not pass Level-1C off as all
        try:
            if rung.level == "L1C":
                more = api.find(aoi, start, end, collections=rung.collections, allow_l1c=True)
            else:
                more = api.find(aoi, start, end, collections=rung.collections)
        except SourceError as exc:
            if rung.level == "L1C":
                log.warning("%s: no Level-1C fill from %s (%s)", api.name, names, exc)
            else:
                log.warning("%s: %s failed: %s", api.name, names, exc)
                errors.append(exc)
            continue
        warn_skipped(more, where=f"{api.name} {names}")
        if ranked and more.scenes:
            have = {s.date_key for found in ranked for s in found.scenes}
            filled = len({s.date_key for s in more.scenes} - have)
            log.info("%s: %d dates of %s..%s filled from %s", api.name, filled, start, end, names)
        ranked.append(more)
    if l2a_rungs and len(errors) == len(l2a_rungs):
        reasons = "; fallback also failed: ".join(str(e) for e in errors)
        raise SourceError(reasons) from errors[-1]
    return api.finish(best_per_date(ranked), aoi, start, end)
