"""Element84 Earth Search v1: the best product of each date.

For every date of a search, in order of preference:

1. ``sentinel-2-c1-l2a``: ESA's consistent reprocessing, with trustworthy ``raster:bands``
   scale/offset (it starts around November 2019);
2. ``sentinel-2-l2a``, for the dates Collection 1 lacks only: its offset metadata is known to
   be wrong on some items (see :mod:`.offsets`), so it never replaces a Collection 1 scene;
3. ``sentinel-2-l1c``, for the dates with no Level-2A at all (ESA made Level-2A globally
   only from December 2018): ``level="L1C"`` scenes, top of atmosphere and without SCL
   (Earth Search's Level-1C assets are JPEG 2000 in a requester-pays bucket).

Each scene keeps its collection and level, so a series can tell them apart
(:func:`pipeline.sources.gaps.product_gaps` summarises which dates came from where).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Final

from pipeline.errors import SourceError
from pipeline.sources.stac_api import DEFAULT_PAGE_SIZE, Found, StacApiSource, warn_skipped
from pipeline.types import Aoi, Scene

log = logging.getLogger(__name__)

EARTH_SEARCH_URL: Final = "https://earth-search.aws.element84.com/v1"
PRIMARY_COLLECTION: Final = "sentinel-2-c1-l2a"
FALLBACK_COLLECTION: Final = "sentinel-2-l2a"
L1C_COLLECTION: Final = "sentinel-2-l1c"


def fill_gaps(first: Found, then: Found) -> Found:
    """``first``'s scenes, plus ``then``'s on the UTC dates ``first`` has none (pure)."""
    have = {s.date_key for s in first.scenes}
    added = [s for s in then.scenes if s.date_key not in have]
    footprints = dict(first.footprints)
    footprints.update({s.id: then.footprints[s.id] for s in added if s.id in then.footprints})
    return Found(
        [*first.scenes, *added],
        footprints,
        first.raw_count + then.raw_count,
        [*first.skipped, *then.skipped],
    )


class EarthSearchSource:
    """Earth Search v1 (anonymous; hrefs are public HTTPS COGs, so ``sign`` is identity).

    Args:
        url: API root.
        collections: searched first (default ``sentinel-2-c1-l2a``).
        fallback_collections: fill the dates the first lacks (default ``sentinel-2-l2a``;
            empty disables it).
        l1c_collections: fill the dates no Level-2A collection has (default
            ``sentinel-2-l1c``; empty disables it).
        page_size: items per page.
        max_items: stop paging after this many items (None: every page).
    """

    name: str = "earth-search"

    def __init__(
        self,
        url: str = EARTH_SEARCH_URL,
        *,
        collections: Sequence[str] = (PRIMARY_COLLECTION,),
        fallback_collections: Sequence[str] = (FALLBACK_COLLECTION,),
        l1c_collections: Sequence[str] = (L1C_COLLECTION,),
        page_size: int | None = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
    ) -> None:
        self.collections = tuple(collections)
        self.fallback_collections = tuple(fallback_collections)
        self.l1c_collections = tuple(l1c_collections)
        self.api = StacApiSource(
            url,
            name=self.name,
            open_root=False,
            page_size=page_size,
            max_items=max_items,
        )

    def sign(self, href: str) -> str:
        """Identity: Earth Search COGs are public."""
        return href

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """The best product of each date over ``aoi`` (module docstring).

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: every Level-2A collection errors (the message names each reason).
        """
        found: Found | None = None
        errors: list[SourceError] = []
        for collections in (self.collections, self.fallback_collections):
            if not collections:
                continue
            try:
                more = self.api.find(aoi, start, end, collections=collections)
            except SourceError as exc:
                log.warning("earth-search: %s failed: %s", ",".join(collections), exc)
                errors.append(exc)
                continue
            warn_skipped(more, where=f"earth-search {','.join(collections)}")
            if found is not None and more.scenes:
                filled = len(fill_gaps(found, more).scenes) - len(found.scenes)
                log.info(
                    "earth-search: %d dates of %s..%s filled from %s",
                    filled,
                    start,
                    end,
                    ",".join(collections),
                )
            found = more if found is None else fill_gaps(found, more)
        if found is None:
            if not errors:
                return []
            reasons = "; fallback also failed: ".join(str(e) for e in errors)
            raise SourceError(reasons) from errors[-1]
        if self.l1c_collections:
            try:
                l1c = self.api.find(
                    aoi, start, end, collections=self.l1c_collections, allow_l1c=True
                )
            except SourceError as exc:
                log.warning("earth-search: no Level-1C fill (%s)", exc)
            else:
                found = fill_gaps(found, l1c)
        return self.api.finish(found, aoi, start, end)
