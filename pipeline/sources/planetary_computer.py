"""Microsoft Planetary Computer ``sentinel-2-l2a``; hrefs signed just before each read.

Search results are *not* signed (no pystac-client ``modifier``): SAS tokens last about an
hour, and a backfill reads scenes long after searching them. :meth:`sign` calls
``planetary_computer.sign`` at read time instead; the package caches a token per storage
account until shortly before it expires, so signing every read costs no extra request.
Planetary Computer items carry no ``raster:bands``: the offset follows the baseline.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from requests import RequestException

from pipeline.errors import ReadError
from pipeline.sources.stac_api import DEFAULT_PAGE_SIZE, StacApiSource
from pipeline.types import Aoi, Scene

PLANETARY_COMPUTER_URL: Final = "https://planetarycomputer.microsoft.com/api/stac/v1"
COLLECTION: Final = "sentinel-2-l2a"


class PlanetaryComputerSource:
    """Planetary Computer STAC API; ``sign`` fetches/uses a SAS token at read time.

    Args:
        url: API root.
        collections: collection ids (default ``sentinel-2-l2a``).
        page_size: items per page.
        max_items: stop paging after this many items (None: every page).
    """

    name: str = "planetary-computer"

    def __init__(
        self,
        url: str = PLANETARY_COMPUTER_URL,
        *,
        collections: tuple[str, ...] = (COLLECTION,),
        page_size: int | None = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
    ) -> None:
        self.api = StacApiSource(
            url,
            name=self.name,
            collections=collections,
            open_root=False,
            page_size=page_size,
            max_items=max_items,
        )

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """Unsigned scenes over ``aoi`` on ``start..end``, one per date.

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: the API is unreachable or answers an error.
        """
        return self.api.search(aoi, start, end)

    def sign(self, href: str) -> str:
        """``href`` with a fresh SAS token (from the package's token cache).

        Raises:
            ReadError: the token service cannot be reached.
        """
        import planetary_computer  # imported here: slow to import, needed only to read

        try:
            signed: str = planetary_computer.sign(href)
        except RequestException as exc:
            base = href.split("?", 1)[0]
            raise ReadError(
                f"cannot sign {base} with a Planetary Computer SAS token: {exc}"
            ) from exc
        return signed
