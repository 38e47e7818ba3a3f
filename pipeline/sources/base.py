"""The scene-source Protocol every provider implements, and a fake beside it for tests.

A source finds Sentinel-2 L2A scenes over one AOI and a date range, and signs asset hrefs
just before each read (Planetary Computer SAS tokens expire; CDSE needs credentials).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from shapely.geometry.base import BaseGeometry

from pipeline.errors import InvalidDateRangeError, RasonWatchWarning
from pipeline.sources.dedupe import dedupe
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


class FakeSource:
    """An in-memory :class:`SceneSource` for tests: fixed scenes, recorded sign calls."""

    name: str = "fake"

    def __init__(
        self,
        scenes: Iterable[Scene],
        *,
        footprints: Mapping[str, BaseGeometry] | None = None,
        signer: Callable[[str], str] | None = None,
        name: str = "fake",
    ) -> None:
        self.scenes: Sequence[Scene] = tuple(scenes)
        self.footprints = dict(footprints or {})
        self.signed: list[str] = []
        self._signer = signer
        self.name = name

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """The stored scenes in range, de-duplicated over ``aoi``.

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
        """
        check_range(start, end)
        chosen = [s for s in self.scenes if in_range(s, start, end)]
        return dedupe(chosen, aoi, footprints=self.footprints)

    def sign(self, href: str) -> str:
        """Record the call and return the (optionally transformed) href."""
        self.signed.append(href)
        return self._signer(href) if self._signer else href


_: type[SceneSource] = FakeSource
