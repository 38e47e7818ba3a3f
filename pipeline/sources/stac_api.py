"""Any STAC API, through pystac-client: the engine behind every networked source.

All the HTTP of searching lives here. Provider modules configure it (URL, collections,
how to sign) and add their own behaviour (Earth Search's collection fallback).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from pystac.errors import STACError, STACTypeError
from pystac_client import Client
from pystac_client.exceptions import APIError
from pystac_client.item_search import ItemSearch
from pystac_client.stac_api_io import StacApiIO
from requests import RequestException
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from pipeline.errors import SceneMetadataError, SourceError
from pipeline.sources.base import SkippedItemWarning, check_range, in_range
from pipeline.sources.dedupe import dedupe
from pipeline.sources.normalise import item_footprint, normalise_item
from pipeline.types import Aoi, Scene

log = logging.getLogger(__name__)

#: Items per page asked of the API (most cap at 100-1000; fewer round trips than 10).
DEFAULT_PAGE_SIZE: Final = 100
#: Seconds to connect and to wait for a page.
DEFAULT_TIMEOUT_S: Final = 60.0
#: urllib3 retries of a page request (connection errors, 5xx) inside pystac-client.
DEFAULT_HTTP_RETRIES: Final = 3


@dataclass(frozen=True)
class Found:
    """What one search returned, before de-duplication."""

    scenes: list[Scene]
    """Normalised scenes (every date, every tile), in API order."""
    footprints: dict[str, BaseGeometry]
    """Item geometries by scene id, for coverage ranking."""
    raw_count: int
    """Items the API returned, including skipped ones."""
    skipped: list[str]
    """One reason per item that was not a usable Sentinel-2 L2A scene."""


def collect(items: Iterator[Mapping[str, Any]], *, source: str, allow_l1c: bool = False) -> Found:
    """Normalise items, keeping a reason for every one that is skipped (pure).

    An item whose only fault is a missing band asset is kept as a scene without that band
    (see :func:`~pipeline.sources.normalise.normalise_item`): its read fails with the
    reason, so the scene is stored ``failed`` rather than silently missing.
    """
    scenes: list[Scene] = []
    footprints: dict[str, BaseGeometry] = {}
    skipped: list[str] = []
    raw = 0
    for item in items:
        raw += 1
        try:
            scene = normalise_item(item, source=source, allow_l1c=allow_l1c)
        except SceneMetadataError as exc:
            incomplete = _incomplete(item, source)
            if incomplete is None:
                skipped.append(str(exc))
                continue
            scene = incomplete
        scenes.append(scene)
        footprint = item_footprint(item)
        if footprint is not None:
            footprints[scene.id] = footprint
    return Found(scenes, footprints, raw, skipped)


def _incomplete(item: Mapping[str, Any], source: str) -> Scene | None:
    """The item as a scene lacking some band, when that is its only fault; else None."""
    try:
        return normalise_item(item, source=source, incomplete=True)
    except SceneMetadataError:
        return None


def warn_skipped(found: Found, *, where: str) -> None:
    """One :class:`SkippedItemWarning` summarising every skipped item of a search."""
    if found.skipped:
        shown = "; ".join(found.skipped[:3])
        more = f" (and {len(found.skipped) - 3} more)" if len(found.skipped) > 3 else ""
        warnings.warn(
            SkippedItemWarning(
                f"{where}: skipped {len(found.skipped)} of {found.raw_count} items: {shown}{more}"
            ),
            stacklevel=3,
        )


class StacApiSource:
    """Searches one STAC API with pystac-client; normalises, filters and de-duplicates.

    Args:
        url: API root (``https://earth-search.aws.element84.com/v1``).
        name: recorded in ``Scene.source``.
        collections: collection ids to search; None searches every collection and skips
            (with a :class:`SkippedItemWarning`) whatever is not Sentinel-2 L2A.
        open_root: open the landing page with ``Client.open`` (conformance and the search
            link come from it); False posts straight to ``<url>/search``, one round trip
            fewer, for providers whose API is known.
        page_size: ``limit`` sent per page; None sends none (the API default).
        max_items: stop after this many items (paging stops too); None reads every page.
        timeout_s: connect/read timeout of each page request.
        http_retries: urllib3 retries of each page request.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "stac-api",
        collections: Sequence[str] | None = None,
        open_root: bool = True,
        page_size: int | None = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        http_retries: int = DEFAULT_HTTP_RETRIES,
    ) -> None:
        self.url = url.rstrip("/")
        self.name = name
        self.collections = tuple(collections) if collections else None
        self.open_root = open_root
        self.page_size = page_size
        self.max_items = max_items
        self.timeout_s = timeout_s
        self.http_retries = http_retries
        self._client: Client | None = None

    def sign(self, href: str) -> str:
        """Identity: a generic API's assets are read as they are."""
        return href

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """Scenes over ``aoi`` on ``start..end``, one per date (see :mod:`.dedupe`).

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: the API is unreachable or answers an error.
        """
        found = self.find(aoi, start, end, collections=self.collections)
        warn_skipped(found, where=f"{self.name} search at {self.url}")
        return self.finish(found, aoi, start, end)

    def finish(self, found: Found, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """Keep scenes in the date range and de-duplicate them over the AOI."""
        in_dates = [s for s in found.scenes if in_range(s, start, end)]
        return dedupe(in_dates, aoi, footprints=found.footprints)

    def find(
        self,
        aoi: Aoi | BaseGeometry,
        start: date,
        end: date,
        *,
        collections: Sequence[str] | None,
        allow_l1c: bool = False,
    ) -> Found:
        """Run one search (every page) and normalise what comes back (Level-1C items as
        ``level="L1C"`` scenes when ``allow_l1c``, else skipped with a reason).

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: the API is unreachable or answers an error.
        """
        check_range(start, end)
        geometry = aoi.geometry if isinstance(aoi, Aoi) else aoi
        where = f"{self.name} ({self.url})"
        try:
            search = self._item_search(
                collections=collections,
                intersects=dict(mapping(geometry)),
                datetime=f"{start.isoformat()}/{end.isoformat()}",
            )
            return collect(search.items_as_dicts(), source=self.name, allow_l1c=allow_l1c)
        except APIError as exc:
            raise SourceError(f"{where}: the API answered an error: {_short(exc)}") from exc
        except RequestException as exc:
            raise SourceError(f"{where}: cannot reach the API: {_short(exc)}") from exc
        except (NotImplementedError, STACError, STACTypeError, ValueError) as exc:
            raise SourceError(f"{where}: not a STAC API with item search: {_short(exc)}") from exc

    def _stac_io(self) -> StacApiIO:
        return StacApiIO(timeout=self.timeout_s, max_retries=self.http_retries)

    def _item_search(self, **params: Any) -> ItemSearch:
        limit = self.page_size
        if self.open_root:
            if self._client is None:
                self._client = Client.open(
                    self.url, stac_io=self._stac_io(), timeout=self.timeout_s
                )
            return self._client.search(limit=limit, max_items=self.max_items, **params)
        return ItemSearch(
            f"{self.url}/search",
            stac_io=self._stac_io(),
            limit=limit,
            max_items=self.max_items,
            **params,
        )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")
