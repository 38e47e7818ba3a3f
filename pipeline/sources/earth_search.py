"""Element84 Earth Search v1: the best product of each date.

For every date of a search, in order of preference:

1. ``sentinel-2-c1-l2a``: ESA's consistent reprocessing, with trustworthy ``raster:bands``
   scale/offset (it starts around November 2019);
2. ``sentinel-2-l2a``, for the dates Collection 1 lacks only: its offset metadata is known to
   be wrong on some items (see :mod:`.offsets`), so it never replaces a Collection 1 scene;
3. ``sentinel-2-l1c``, for the dates with no Level-2A at all (ESA made Level-2A globally
   only from December 2018): ``level="L1C"`` scenes, top of atmosphere and without SCL
   (Earth Search's Level-1C assets are JPEG 2000 in a requester-pays bucket).

The rule is :func:`pipeline.sources.per_date.best_per_date`, shared with CDSE and local
catalogs. Each scene keeps its collection and level, so a series can tell them apart
(:func:`pipeline.sources.gaps.product_gaps` summarises which dates came from where).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final, Literal

from pipeline.sources.per_date import Rung, search_best_per_date
from pipeline.sources.stac_api import DEFAULT_PAGE_SIZE, StacApiSource
from pipeline.types import Aoi, Scene

EARTH_SEARCH_URL: Final = "https://earth-search.aws.element84.com/v1"
PRIMARY_COLLECTION: Final = "sentinel-2-c1-l2a"
FALLBACK_COLLECTION: Final = "sentinel-2-l2a"
L1C_COLLECTION: Final = "sentinel-2-l1c"


class EarthSearchSource:
    """Earth Search v1 (anonymous search; Level-2A hrefs are public HTTPS COGs).

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
        """Identity: Earth Search COGs are public; its Level-1C JPEG 2000 files lie in the
        requester-pays bucket ``s3://sentinel-s2-l1c``, which the reader opens with the
        caller's AWS credentials (:mod:`pipeline.read.s3_access`)."""
        return href

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """The best product of each date over ``aoi`` (module docstring).

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: every Level-2A collection errors (the message names each reason).
        """
        steps: list[tuple[tuple[str, ...], Literal["L2A", "L1C"]]] = [
            (self.collections, "L2A"),
            (self.fallback_collections, "L2A"),
            (self.l1c_collections, "L1C"),
        ]
        rungs = [Rung(collections, level) for collections, level in steps if collections]
        return search_best_per_date(self.api, aoi, start, end, rungs)
