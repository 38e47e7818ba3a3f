"""``rasonwatch demo``: the main job, offline, on the packaged SIMULATED archive."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np

from pipeline.aoi import load_aois
from pipeline.config import Settings
from pipeline.progress import STDERR, progress_callback
from pipeline.scene_table import print_scene_table
from pipeline.types import Aoi, Chip, Scene

log = logging.getLogger(__name__)

#: SCL classes that hide the ground: no data, saturated, cloud shadow, clouds, cirrus.
_OBSCURED_SCL: Final = (0, 1, 3, 8, 9, 10)
#: A quicklook scene must be at least this clear over the AOI.
_QUICKLOOK_MIN_CLEAR: Final = 0.95


def demo_scenario_path() -> Path:
    """The packaged demo scenario TOML."""
    return Path(str(resources.files("pipeline") / "data" / "demo.toml"))


def ensure_demo_archive(settings: Settings) -> Path:
    """Simulate the demo archive under ``data/`` unless a complete one is already there."""
    from pipeline.simulate import load_scenario, write_archive

    archive = settings.data_dir / "demo-archive"
    if (archive / "truth.csv").is_file() and (archive / "catalog.json").is_file():
        STDERR.print(f"Using the SIMULATED demo archive already at {archive}")
        return archive
    with progress_callback("simulating the demo archive (SIMULATED)") as tick:
        write_archive(load_scenario(demo_scenario_path()), archive, progress=tick)
    return archive


def _clear_fraction(chip: Chip) -> float:
    inside = chip.valid.sum()
    if inside == 0:
        return 0.0
    clear = chip.valid & ~np.isin(chip.scl, _OBSCURED_SCL)
    return float(clear.sum() / inside)


def _pick_quicklook(scenes: list[Scene], aoi: Aoi, settings: Settings) -> tuple[Scene, Chip] | None:
    """The latest scene that is almost cloud-free over the AOI (newest first)."""
    from pipeline.cog import read_chip

    for scene in sorted(scenes, key=lambda s: s.datetime, reverse=True):
        chip = read_chip(scene, aoi, settings=settings)
        if _clear_fraction(chip) >= _QUICKLOOK_MIN_CLEAR:
            return scene, chip
    return None


def run_demo(settings: Settings) -> None:
    """Simulate once, list the scenes per AOI, and write one RGB quicklook per AOI."""
    from pipeline.quicklook import write_quicklook
    from pipeline.simulate import load_scenario
    from pipeline.sources import open_source

    archive = ensure_demo_archive(settings)
    scenario = load_scenario(demo_scenario_path())
    source = open_source(str(archive), settings)
    for aoi in load_aois(settings.aoi_dir):
        found = source.search(aoi, scenario.start, scenario.end)
        print_scene_table(found, title=f"SIMULATED: {len(found)} scenes over {aoi.id}")
        picked = _pick_quicklook(found, aoi, settings)
        if picked is None:
            STDERR.print(f"[yellow]No clear scene over {aoi.id}; no quicklook written.")
            continue
        scene, chip = picked
        out = settings.data_dir / "quicklooks" / f"{aoi.id}.png"
        title = f"{aoi.id}  {scene.id}  {scene.datetime:%Y-%m-%d}"
        write_quicklook(chip, out, title=title, simulated=scene.simulated)
        STDERR.print(f"Quicklook of {aoi.id}: {out}")
