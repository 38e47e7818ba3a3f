"""An in-memory scene source for tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date

from shapely.geometry.base import BaseGeometry

from pipeline.sources.base import SceneSource, check_range, in_range
from pipeline.sources.dedupe import dedupe
from pipeline.types import Aoi, Scene


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
