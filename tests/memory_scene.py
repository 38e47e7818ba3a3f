"""A SIMULATED scene held in memory: the :class:`Scene` that goes with a rendered chip, for
tests that call :func:`pipeline.detect.analyse.analyse_chip` without an archive."""

from __future__ import annotations

from datetime import datetime

from pipeline.simulate.grid import EPSG
from pipeline.types import BandAsset, Scene


def memory_scene(name: str, when: datetime) -> Scene:
    """Scene ``name`` sensed at ``when`` over 52TFM, its bands nowhere on disk."""
    asset = BandAsset(href="memory://" + name)
    return Scene(
        id=name,
        datetime=when,
        platform="sentinel-2a",
        tile="52TFM",
        epsg=EPSG,
        processing_baseline="05.10",
        assets=dict.fromkeys(("blue", "green", "red", "nir", "swir16", "scl"), asset),
        cloud_cover=0.0,
        source="local",
        simulated=True,
    )
