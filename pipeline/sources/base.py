"""The scene-source Protocol every provider implements.

A source finds Sentinel-2 L2A scenes over one AOI and a date range, and signs asset hrefs
just before each read (Planetary Computer SAS tokens expire; CDSE needs credentials).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pipeline.errors import InvalidDateRangeError, RasonWatchWarning
from pipeline.types import Aoi, Scene


class SkippedItemWarning(RasonWatchWarning):
    """A search returned items that are not Sentinel-2 L2A scenes, or are malformed."""


class SceneSource(Protocol):
    """Finds scenes over an AOI and signs their asset hrefs just before a read."""

    name: str
    """Short id recorded in ``Scene.source`` and the store (``earth-search``...)."""

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """Scenes acquired on UTC dates ``start..end`` (inclusive) over ``aoi``.

        Sorted by datetime and de-duplicated per AOI with :func:`pipeline.sources.dedupe.dedupe`
        (one scene per UTC date).

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: the provider is unreachable or answers something unusable.
        """
        ...

    def sign(self, href: str) -> str:
        """The href to read right now (signed, or with credentials); identity for most.

        Raises:
            ReadError: the href cannot be made readable (missing credentials...).
        """
        ...


def check_range(start: date, end: date) -> None:
    """Validate a search date range.

    Raises:
        InvalidDateRangeError: ``end`` is before ``start``.
    """
    if end < start:
        raise InvalidDateRangeError(
            f"date range ends before it starts: {start.isoformat()} .. {end.isoformat()}"
        )


def in_range(scene: Scene, start: date, end: date) -> bool:
    """Whether the scene's UTC acquisition date lies in ``start..end`` inclusive."""
    return start <= scene.datetime.date() <= end
