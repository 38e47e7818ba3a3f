"""Where the time of a run goes: seconds and calls per named stage, process-wide.

``with stage("read"):`` adds the block's wall time and one call to the ``read`` stage of a
process-global registry, from any thread (a lock guards it). Stages run concurrently on a
thread pool add up their threads' times, so a stage's seconds can exceed the run's wall
time. :func:`snapshot` reads the totals, :func:`reset` clears them. No dependencies; a
Dask worker keeps its own totals in its own process.

The pipeline times ``search`` (a source search), ``read`` (one chip, from the cache or the
source), ``detect`` (one chip's analysis) and ``store`` (one row written); ``rasonwatch
bench backfill`` reports them per scene.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_lock = threading.Lock()
_totals: dict[str, tuple[float, int]] = {}


@dataclass(frozen=True)
class StageTotal:
    """What one stage has accumulated."""

    seconds: float
    """Wall seconds summed over every call (and thread)."""
    calls: int
    """Times the stage was entered."""


def add(name: str, seconds: float, calls: int = 1) -> None:
    """Add ``seconds`` and ``calls`` to stage ``name``."""
    with _lock:
        spent, count = _totals.get(name, (0.0, 0))
        _totals[name] = (spent + seconds, count + calls)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block (even when it raises) and add it to stage ``name``."""
    began = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - began)


def snapshot() -> dict[str, StageTotal]:
    """A copy of every stage's totals so far."""
    with _lock:
        return {name: StageTotal(s, n) for name, (s, n) in _totals.items()}


def reset() -> None:
    """Forget every total."""
    with _lock:
        _totals.clear()
