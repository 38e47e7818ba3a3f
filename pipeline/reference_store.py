"""Per-AOI temporal references saved as ``.npz`` under ``data/references/``, with provenance.

One file per AOI: ``<references dir>/<aoi id>.npz``. It holds every array field of
:class:`~pipeline.reference.Reference` plus a JSON ``provenance`` entry
(:class:`Provenance`): the detector version, the AOI key, the window of scenes surveyed,
how many scenes that window held, which scenes were composited, and when.

When is a saved reference *stale* (:func:`stale_reason`) and rebuilt?

- it is missing, unreadable, or lacks a field the current ``Reference`` has;
- it was built by another detector version (any change to the detectors or their models);
- the AOI outline changed since (its key differs);
- the archive has grown: the window the run would survey now holds at least
  :data:`GROWTH_FACTOR` times as many scenes as the reference saw, and at least
  :data:`GROWTH_MIN_SCENES` more (a few late scenes do not trigger a rebuild; a backfill
  over a much longer range does);
- it is old: its newest scene is more than :data:`MAX_AGE_DAYS` before the end of the
  window now processed (seasons and the site itself change).

Files are written to a temporary name and renamed, so concurrent runs never see half a file.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
from affine import Affine

from pipeline.reference import Reference
from pipeline.safe_paths import check_name, join_inside

log = logging.getLogger(__name__)

#: The archive must have grown by this factor (and by :data:`GROWTH_MIN_SCENES`) since a
#: reference was built for it to be rebuilt.
GROWTH_FACTOR: Final = 1.5
#: ... and by at least this many scenes.
GROWTH_MIN_SCENES: Final = 10
#: A reference whose newest scene is older than this, counted back from the end of the
#: window being processed, is rebuilt.
MAX_AGE_DAYS: Final = 400
_FORMAT: Final = "reference-1"


@dataclass(frozen=True)
class Provenance:
    """Where a saved reference came from."""

    aoi_id: str
    """The AOI."""
    aoi_key: str
    """Hash of the AOI outline (:func:`pipeline.chip_cache.aoi_key`)."""
    detector_version: str
    """Detector version at build time."""
    source: str
    """``--source`` the scenes came from."""
    window_start: date
    """First day of the window surveyed."""
    window_end: date
    """Last day of the window surveyed."""
    available: int
    """Scenes the window held (surveyed)."""
    newest: date
    """Date of the newest scene composited."""
    built_at: str
    """UTC time of the build, ISO 8601."""
    scene_ids: tuple[str, ...] = ()
    """Scenes composited."""

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = dataclasses.asdict(self)
        for key in ("window_start", "window_end", "newest"):
            out[key] = out[key].isoformat()
        out["scene_ids"] = list(self.scene_ids)
        return out

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Provenance:
        """Inverse of :meth:`as_json`.

        Raises:
            KeyError: a field is missing.
            ValueError: a date is malformed.
        """
        return cls(
            aoi_id=str(doc["aoi_id"]),
            aoi_key=str(doc["aoi_key"]),
            detector_version=str(doc["detector_version"]),
            source=str(doc["source"]),
            window_start=date.fromisoformat(doc["window_start"]),
            window_end=date.fromisoformat(doc["window_end"]),
            available=int(doc["available"]),
            newest=date.fromisoformat(doc["newest"]),
            built_at=str(doc["built_at"]),
            scene_ids=tuple(str(s) for s in doc.get("scene_ids", ())),
        )

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"built {self.built_at} from {len(self.scene_ids)} of {self.available} scenes "
            f"({self.window_start}..{self.window_end})"
        )


@dataclass(frozen=True, eq=False)
class StoredReference:
    """A reference with its provenance."""

    reference: Reference
    """The arrays."""
    provenance: Provenance
    """Where they came from."""


def reference_path(references_dir: Path, aoi_id: str) -> Path:
    """``<references_dir>/<aoi_id>.npz``, never outside ``references_dir``.

    Raises:
        UnsafePathError: the AOI id cannot be a file name.
    """
    return join_inside(references_dir, f"{check_name(aoi_id, what='AOI id')}.npz", what="AOI id")


def save_reference(path: Path, reference: Reference, provenance: Provenance) -> Path:
    """Write ``reference`` and ``provenance`` to ``path`` atomically.

    Raises:
        OSError: the folder cannot be written.
    """
    arrays: dict[str, Any] = {}
    meta: dict[str, Any] = {"format": _FORMAT, "provenance": provenance.as_json()}
    for f in dataclasses.fields(Reference):
        value = getattr(reference, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = value
        elif isinstance(value, Affine):
            meta[f.name] = list(value)[:6]
        elif isinstance(value, tuple):
            meta[f.name] = list(value)
        else:
            meta[f.name] = value
    arrays["_meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_reference(path: Path) -> StoredReference | None:
    """The reference saved at ``path``, or None when missing, unreadable or incomplete."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(bytes(npz["_meta"]).decode())
            if meta.get("format") != _FORMAT:
                return None
            values: dict[str, Any] = {}
            for f in dataclasses.fields(Reference):
                if f.name in npz.files:
                    values[f.name] = np.array(npz[f.name])
                elif f.name == "transform":
                    values[f.name] = Affine(*meta[f.name])
                elif f.name == "scene_ids":
                    values[f.name] = tuple(meta[f.name])
                else:
                    values[f.name] = meta[f.name]
            return StoredReference(Reference(**values), Provenance.from_json(meta["provenance"]))
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("saved reference %s is unusable (%s); it will be rebuilt", path, exc)
        return None


def stale_reason(
    stored: StoredReference | None,
    *,
    detector_version: str,
    aoi_key: str,
    available: int,
    window_end: date,
) -> str | None:
    """Why ``stored`` must be rebuilt, or None when it is fresh (see the module docstring).

    Args:
        stored: the saved reference, if any.
        detector_version: the current detector version.
        aoi_key: the current AOI key.
        available: scenes in the window the run would survey now.
        window_end: last day of the window being processed.
    """
    if stored is None:
        return "no saved reference"
    p = stored.provenance
    if p.detector_version != detector_version:
        return f"built by detector {p.detector_version}, now {detector_version}"
    if p.aoi_key != aoi_key:
        return "the AOI outline changed"
    if available >= max(GROWTH_FACTOR * p.available, p.available + GROWTH_MIN_SCENES):
        return f"built from a survey of {p.available} scenes, {available} available now"
    if (window_end - p.newest).days > MAX_AGE_DAYS:
        return f"its newest scene ({p.newest}) is over {MAX_AGE_DAYS} days before {window_end}"
    return None
