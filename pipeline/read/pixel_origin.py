"""Where pixels come from: the identity of a scene's bytes and of a ``--source``.

Two copies of one scene (Earth Search's two collections, another provider, a re-simulated
local archive) share a scene id but not their pixels: another offset rule, other
processing, other files. Everything cached or built from pixels (chips, references) is
therefore keyed by these identities, never by the scene id alone.

- :func:`scene_origin`: a short hash of what decides a chip's pixels: the band hrefs
  without their signing query, the item's ``updated`` (else ``created``) time, the
  processing baseline, each asset's scale and offset, and for files on this machine their
  size and modification time (a file rewritten in place is other pixels).
- :func:`source_identity`: the ``--source`` as one stable string: a provider's name, an
  API root without query, or a local archive's absolute path.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from pipeline.sources import NAMED_SOURCES
from pipeline.types import Scene

#: Bump when what makes up an origin changes, so that older keys are no longer found.
ORIGIN_FORMAT: Final = "origin-1"


def without_signing(href: str) -> str:
    """``href`` without its query string and fragment (SAS tokens, presigned signatures)."""
    if "://" not in href:
        return href
    parts = urlsplit(href)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def local_path(href: str) -> Path | None:
    """The file behind ``href`` when it is on this machine (a path or ``file://``), else None."""
    if href.startswith("file://"):
        return Path(urlsplit(href).path)
    if "://" in href or href.startswith("/vsi"):
        return None
    return Path(href)


def _file_state(href: str) -> list[int] | None:
    """``[size, mtime_ns]`` of a local file (``[-1, -1]`` when missing); None for URLs."""
    path = local_path(href)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return [-1, -1]
    return [stat.st_size, stat.st_mtime_ns]


def scene_origin(scene: Scene, bands: tuple[str, ...]) -> str:
    """A 16-hex-digit identity of the bytes behind ``scene``'s ``bands``.

    Equal for two reads of the same files; different when a provider, a collection, an
    href, the item's ``updated`` time, the processing baseline, an asset's scale or offset,
    or (for local files) a file's size or modification time differs.
    """
    props = scene.properties
    stamp = props.get("updated") or props.get("created") or ""
    doc = {
        "format": ORIGIN_FORMAT,
        "source": scene.source,
        "collection": scene.collection,
        "baseline": scene.processing_baseline,
        "stamp": str(stamp),
        "assets": {
            band: [without_signing(a.href), a.scale, a.offset, _file_state(a.href)]
            for band in bands
            if (a := scene.assets.get(band)) is not None
        },
    }
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def source_identity(spec: str) -> str:
    """``--source`` as a stable identity: ``earth-search``, ``https://host/api``, or
    ``local:/absolute/path`` for a folder."""
    text = spec.strip()
    if text in NAMED_SOURCES:
        return text
    if text.startswith(("http://", "https://")):
        return without_signing(text).rstrip("/")
    path = Path(text[len("file://") :] if text.startswith("file://") else text).expanduser()
    return f"local:{path.resolve()}"
