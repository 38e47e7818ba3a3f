"""The scenario -> SIMULATED STAC archive + truth generator (``rasonwatch simulate``).

Public API:

- :func:`load_scenario` / :func:`parse_scenario`: TOML -> validated :class:`Scenario`;
- :func:`render_scene`: one acquisition as numpy arrays plus its truth (pure numpy);
- :func:`write_archive`: every scene as COGs + STAC items + ``truth.csv``.

Rasterio is imported only by :mod:`pipeline.simulate.cog` (loaded by :func:`write_archive`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.simulate.render import AoiTruth, RenderedScene, SiteRender, render_scene
from pipeline.simulate.scenario import Scenario, load_scenario, parse_scenario
from pipeline.simulate.schedule import SceneInfo, scene_info

if TYPE_CHECKING:
    from pipeline.simulate.archive import ArchiveOutputError, ArchiveSummary, write_archive

__all__ = [
    "AoiTruth",
    "ArchiveOutputError",
    "ArchiveSummary",
    "RenderedScene",
    "Scenario",
    "SceneInfo",
    "SiteRender",
    "load_scenario",
    "parse_scenario",
    "render_scene",
    "scene_info",
    "write_archive",
]


def __getattr__(name: str) -> Any:
    """Load the archive writer (and rasterio) only when it is asked for."""
    if name in ("write_archive", "ArchiveSummary", "ArchiveOutputError"):
        from pipeline.simulate import archive

        return getattr(archive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
