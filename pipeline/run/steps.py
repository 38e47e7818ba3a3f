"""The calls a run is made of (:class:`Steps`), and how work is cut up and kept in flight.

:class:`Steps` is a record of plain callables: :mod:`pipeline.flows.tasks` fills it with
Prefect tasks (``task.submit``), :mod:`pipeline.run.inline` with calls on a thread pool. The
run itself (:mod:`pipeline.run.runner`) decides when to make them; each call gets the run's
:class:`~pipeline.run.scene_work.ReadSpec`, so no step reopens the source or re-reads options.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from pipeline.detect.reference import Reference
from pipeline.run.analysis import Instrument, SceneOutcome, SceneTask
from pipeline.run.progress import progress_callback
from pipeline.run.scene_work import ReadSpec, Survey
from pipeline.types import Aoi, Scene

T = TypeVar("T")
F = TypeVar("F")
T_co = TypeVar("T_co", covariant=True)
#: Where a run logs: a logger, or Prefect's run logger (an adapter).
Logger = logging.Logger | logging.LoggerAdapter[Any]


class Handle(Protocol[T_co]):
    """Work submitted to run elsewhere: a Prefect future, a ``concurrent.futures`` future."""

    def result(self) -> T_co:
        """Wait for the work; its value, or its exception raised."""
        ...


@dataclass(frozen=True)
class Steps:
    """The calls a run is made of; :func:`pipeline.run.runner.run_all` decides when."""

    search: Callable[[ReadSpec, Aoi, date, date], list[Scene]]
    """:func:`pipeline.run.scene_work.search`, waited for."""
    survey: Callable[[list[Scene], Aoi, ReadSpec], Handle[Survey]]
    """:func:`pipeline.run.scene_work.survey_batch`, submitted."""
    build_reference: Callable[[list[Scene], Aoi, ReadSpec], Reference | None]
    """:func:`pipeline.run.scene_work.build_reference`, waited for."""
    share: Callable[[Mapping[str, Instrument]], object]
    """The AOIs' instruments as :attr:`process` takes them (sent to the workers once)."""
    process: Callable[[list[SceneTask], ReadSpec, Any], Handle[list[SceneOutcome]]]
    """:func:`pipeline.run.analysis.process_scenes`, submitted with what :attr:`share` gave."""
    logger: Callable[[], Logger]
    """Where the run logs (looked up when logging: Prefect's run logger needs a run)."""

    @property
    def log(self) -> Logger:
        """The run's logger."""
        return self.logger()


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of at most ``size``."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def bounded(items: Iterable[T], submit: Callable[[T], F], *, window: int) -> Iterator[F]:
    """Submit ``items`` one by one with at most ``window`` in flight; yield them in order.

    The caller waits on each yielded handle before the next item is submitted, so memory
    (chips in flight) stays bounded however long the range is.
    """
    pending: deque[F] = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


@contextmanager
def progress(label: str, total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A ``tick(done)`` callback drawing one bar on stderr, or doing nothing."""
    if not enabled or total == 0:
        yield lambda done: None
        return
    with progress_callback(label) as tick:
        tick(0, total)
        yield lambda done: tick(done, total)
