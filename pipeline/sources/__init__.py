"""Scene sources: one Protocol, one module per provider, and :func:`open_source`.

``--source`` values (README.md): ``earth-search`` (default), ``planetary-computer``,
``cdse``, any ``http(s)://`` STAC API root, or a local path (a STAC catalog, or the folder
``rasonwatch simulate`` wrote).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pipeline.config import DEFAULT_SOURCE, Settings
from pipeline.errors import SourceError
from pipeline.sources.base import SceneSource, SkippedItemWarning
from pipeline.sources.cdse import CdseSource
from pipeline.sources.dedupe import dedupe
from pipeline.sources.earth_search import EarthSearchSource
from pipeline.sources.local import LocalSource
from pipeline.sources.normalise import normalise_item
from pipeline.sources.planetary_computer import PlanetaryComputerSource
from pipeline.sources.stac_api import StacApiSource

NAMED_SOURCES: Final = ("earth-search", "planetary-computer", "cdse")

__all__ = [
    "DEFAULT_SOURCE",
    "NAMED_SOURCES",
    "CdseSource",
    "EarthSearchSource",
    "LocalSource",
    "PlanetaryComputerSource",
    "SceneSource",
    "SkippedItemWarning",
    "StacApiSource",
    "dedupe",
    "normalise_item",
    "open_source",
]


def open_source(
    spec: str, settings: Settings, *, env: Mapping[str, str] | None = None
) -> SceneSource:
    """The scene source a ``--source`` value names.

    Args:
        spec: ``earth-search``, ``planetary-computer``, ``cdse``, an ``http(s)://`` STAC API
            root, or a local path (``file://`` URLs too).
        settings: run-wide settings (reserved for source options; not read today).
        env: environment for credentials (CDSE); defaults to ``os.environ``.

    Raises:
        SourceError: an empty spec, or a path that does not exist (one-line reason).
    """
    del settings  # no source reads settings yet; the parameter keeps call sites stable
    text = spec.strip()
    if text == "earth-search":
        return EarthSearchSource()
    if text == "planetary-computer":
        return PlanetaryComputerSource()
    if text == "cdse":
        return CdseSource(os.environ if env is None else env)
    if text.startswith(("http://", "https://")):
        return StacApiSource(text, name=text.rstrip("/"))
    if not text:
        raise SourceError(
            f"--source is empty; use one of {', '.join(NAMED_SOURCES)}, a URL or a path"
        )
    path = Path(text[len("file://") :] if text.startswith("file://") else text).expanduser()
    if not path.exists():
        raise SourceError(
            f"--source {spec!r} is not {', '.join(NAMED_SOURCES)}, an http(s):// STAC API, "
            "or an existing path"
        )
    return LocalSource(path)
