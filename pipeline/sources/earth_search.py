"""Element84 Earth Search v1: ``sentinel-2-c1-l2a``, falling back to ``sentinel-2-l2a``.

Collection 1 (``sentinel-2-c1-l2a``) is ESA's consistent reprocessing, with trustworthy
``raster:bands`` scale/offset. The older ``sentinel-2-l2a`` collection is searched only when
Collection 1 returns nothing for the range, or errors; its offset metadata is known to be
wrong on some items (see :mod:`.offsets`). The fallback is per search, not per date: when
Collection 1 returns *some* items for a range, gaps in it are not filled from the old
collection, so that one time series never mixes the two processings.
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


class EarthSearchSource:
    """Earth Search v1 (anonymous; hrefs are public HTTPS COGs, so ``sign`` is identity).

    Args:
        url: API root.
        collections: searched first (default ``sentinel-2-c1-l2a``).
        fallback_collections: searched when the first returns no items or errors
            (default ``sentinel-2-l2a``; empty disables the fallback).
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
        page_size: int | None = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
    ) -> None:
        self.collections = tuple(collections)
        self.fallback_collections = tuple(fallback_collections)
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
        """Collection 1 scenes over ``aoi``, or the fallback collection's when it has none.

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: both collections error (the message names both reasons).
        """
        primary_error: SourceError | None = None
        try:
            found: Found | None = self.api.find(aoi, start, end, collections=self.collections)
        except SourceError as exc:
            primary_error, found = exc, None
        if found is not None and found.raw_count:
            warn_skipped(found, where=f"earth-search {','.join(self.collections)}")
            return self.api.finish(found, aoi, start, end)
        if not self.fallback_collections:
            if primary_error is not None:
                raise primary_error
            return []
        reason = str(primary_error) if primary_error else "no items"
        log.info(
            "earth-search: %s gave %s for %s..%s; falling back to %s",
            ",".join(self.collections),
            reason,
            start,
            end,
            ",".join(self.fallback_collections),
        )
        try:
            fallback = self.api.find(aoi, start, end, collections=self.fallback_collections)
        except SourceError as exc:
            if primary_error is None:
                raise
            raise SourceError(f"{primary_error}; fallback also failed: {exc}") from exc
        warn_skipped(fallback, where=f"earth-search {','.join(self.fallback_collections)}")
        return self.api.finish(fallback, aoi, start, end)
