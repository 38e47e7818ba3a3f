"""Which simulator wrote an archive: a digest of the code and the AOI files it renders from.

The same scenario rendered by changed code gives other pixels. An archive records the digest
of the renderer that wrote it (``rasonwatch:renderer`` in ``catalog.json``), so the demo can
tell an archive of its scenario written by an older simulator and simulate it again rather
than report numbers that today's code would not give.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from pipeline.config import DEFAULT_AOI_DIR


@cache
def renderer_digest() -> str:
    """16 hex digits of SHA-256 over the simulator's modules and the AOI files, by name."""
    digest = hashlib.sha256()
    sources = sorted(Path(__file__).parent.glob("*.py")) + sorted(DEFAULT_AOI_DIR.glob("*.geojson"))
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
