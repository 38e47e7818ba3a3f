"""Seeded random streams: one per ``(seed, date, name, site)``, so draws never move each other."""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np

from pipeline.simulate.scenario import Scenario


def stream(scenario: Scenario, day: date, name: str, site: int = 0) -> np.random.Generator:
    """The random stream ``name`` of one scene (and site)."""
    seq = np.random.SeedSequence([scenario.seed, day.toordinal(), zlib.crc32(name.encode()), site])
    return np.random.default_rng(seq)


def named_stream(scenario: Scenario, *names: str) -> np.random.Generator:
    """A stream keyed by the seed and names only (a whole series, not one scene)."""
    keys = [zlib.crc32(name.encode()) for name in names]
    return np.random.default_rng(np.random.SeedSequence([scenario.seed, 13, *keys]))
