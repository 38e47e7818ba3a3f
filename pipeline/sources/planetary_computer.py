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
from pipeline.geo.redaction import install_log_redaction, redact
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

    def __repr__(self) -> str:
        """Name and API root only: a source never shows what it signs with."""
        return f"PlanetaryComputerSource({self.api.url!r})"

    def sign(self, href: str) -> str:
        """``href`` with a fresh SAS token (from the package's token cache).

        The subscription key (``PC_SDK_SUBSCRIPTION_KEY``) is read from the environment by
        the ``planetary_computer`` package; neither it nor the token appears in any message.

        Raises:
            ReadError: the token service cannot be reached or answers something unusable.
        """
        import planetary_computer  # imported here: slow to import, needed only to read

        install_log_redaction()  # GDAL's own messages about the signed URL go to logging
        try:
            signed: str = planetary_computer.sign(href)
        except Exception as exc:  # any failure to sign is a read failure of this href
            raise ReadError(
                f"cannot sign {href.split('?', 1)[0]} with a Planetary Computer SAS token: "
                f"{_sign_failure(exc)}"
            ) from None
        return signed


def _sign_failure(exc: Exception) -> str:
    """One redacted line on why signing failed (never the token service's answer itself)."""
    if isinstance(exc, RequestException):
        return redact(" ".join(str(exc).split())) or type(exc).__name__
    return f"the token service answered something unusable ({type(exc).__name__})"
