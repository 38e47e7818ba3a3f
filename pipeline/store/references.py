"""Per-AOI temporal references saved as ``.npz`` under ``data/references/``, with provenance.

A reference is one instrument: what an AOI looks like when nothing is there, as seen by
one source, in one period, by one detector version. It is saved under a key of exactly
those things (:class:`ReferenceKey`)::

    <references dir>/<aoi id>/<key digest>.npz

so a reference built from one provider's pixels, or from another period, or by another
detector version, is never found for another. The file holds every array field of
:class:`~pipeline.detect.reference.Reference` plus a JSON ``provenance`` entry
(:class:`Provenance`): the key, the scenes composited with the identity of each one's
pixels (:func:`pipeline.read.pixel_origin.scene_origin`), how many scenes the period held, the
reference's content hash (``reference_id``, kept with every observation) and when it was
built.

A saved reference is *stale* (:func:`stale_reason`) and rebuilt when:

- it is missing, unreadable, of an older file format, or lacks a field the current
  ``Reference`` has;
- its provenance names another key than the one asked for (a file copied by hand);
- a scene it was built from now has other pixels at the source (a provider reprocessed it,
  an archive was simulated again into the same folder): its pixel origin changed;
- the period now holds at least :data:`GROWTH_FACTOR` times as many scenes as the
  reference saw, and at least :data:`GROWTH_MIN_SCENES` more (scenes published late).

Files are written to a temporary name and renamed, so concurrent runs never see half a file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
from affine import Affine

from pipeline.detect.reference import Reference
from pipeline.geo.safe_paths import check_name, join_inside

log = logging.getLogger(__name__)

#: The period must have grown by this factor (and by :data:`GROWTH_MIN_SCENES`) since a
#: reference was built for it to be rebuilt.
GROWTH_FACTOR: Final = 1.5
#: ... and by at least this many scenes.
GROWTH_MIN_SCENES: Final = 10
_FORMAT: Final = "reference-3"

Period = tuple[date, date]


def format_period(period: Period) -> str:
    """``2019-01-01..2023-06-30``."""
    return f"{period[0].isoformat()}..{period[1].isoformat()}"


@dataclass(frozen=True)
class ReferenceKey:
    """What a reference is the instrument of: one AOI outline, source, period, detector."""

    aoi_id: str
    """The AOI."""
    aoi_key: str
    """Hash of the AOI outline (:func:`pipeline.read.chip_cache.aoi_key`)."""
    source: str
    """Identity of the source (:func:`pipeline.read.pixel_origin.source_identity`)."""
    period: Period
    """First and last day of the scenes it may be built from, inclusive."""
    excluded: tuple[Period, ...]
    """Windows left out of the period (every claim's test window)."""
    detector_version: str
    """Detector version."""

    @property
    def digest(self) -> str:
        """A 16-hex-digit hash of the key: the file's name."""
        text = json.dumps(self.as_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "aoi_id": self.aoi_id,
            "aoi_key": self.aoi_key,
            "source": self.source,
            "period": [d.isoformat() for d in self.period],
            "excluded": [[d.isoformat() for d in w] for w in self.excluded],
            "detector_version": self.detector_version,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ReferenceKey:
        """Inverse of :meth:`as_json`.

        Raises:
            KeyError: a field is missing.
            ValueError: a date is malformed.
        """
        first, last = (date.fromisoformat(d) for d in doc["period"])
        return cls(
            aoi_id=str(doc["aoi_id"]),
            aoi_key=str(doc["aoi_key"]),
            source=str(doc["source"]),
            period=(first, last),
            excluded=tuple(
                (date.fromisoformat(a), date.fromisoformat(b)) for a, b in doc["excluded"]
            ),
            detector_version=str(doc["detector_version"]),
        )

    def admits(self, day: date) -> bool:
        """Whether a scene of ``day`` may join the reference: in the period, in no
        excluded window."""
        first, last = self.period
        return first <= day <= last and not any(a <= day <= b for a, b in self.excluded)


@dataclass(frozen=True)
class Provenance:
    """Where a saved reference came from."""

    key: ReferenceKey
    """What it is the instrument of."""
    reference_id: str
    """Content hash of the reference (:attr:`pipeline.detect.reference.Reference.reference_id`)."""
    available: int
    """Scenes the period held (surveyed)."""
    newest: date
    """Date of the newest scene composited."""
    built_at: str
    """UTC time of the build, ISO 8601."""
    scene_ids: tuple[str, ...] = ()
    """Scenes composited."""
    scene_origins: Mapping[str, str] = field(default_factory=dict)
    """Scene id -> identity of its pixels when composited."""
    usual: str = ""
    """The usually occupied berths and the structures built during the period, named
    (:attr:`pipeline.detect.reference.Reference.usual_note`)."""

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "key": self.key.as_json(),
            "reference_id": self.reference_id,
            "available": self.available,
            "newest": self.newest.isoformat(),
            "built_at": self.built_at,
            "scene_ids": list(self.scene_ids),
            "scene_origins": dict(self.scene_origins),
            "usual": self.usual,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Provenance:
        """Inverse of :meth:`as_json`.

        Raises:
            KeyError: a field is missing.
            ValueError: a date is malformed.
        """
        return cls(
            key=ReferenceKey.from_json(doc["key"]),
            reference_id=str(doc["reference_id"]),
            available=int(doc["available"]),
            newest=date.fromisoformat(doc["newest"]),
            built_at=str(doc["built_at"]),
            scene_ids=tuple(str(s) for s in doc.get("scene_ids", ())),
            scene_origins={str(k): str(v) for k, v in doc.get("scene_origins", {}).items()},
            usual=str(doc.get("usual", "")),
        )

    def summary(self) -> str:
        """One line for logs and the store's provenance."""
        return (
            f"reference {self.reference_id} built {self.built_at} from "
            f"{len(self.scene_ids)} of {self.available} scenes of "
            f"{format_period(self.key.period)}"
            + (
                f" without {', '.join(format_period(w) for w in self.key.excluded)}"
                if self.key.excluded
                else ""
            )
            + (f"; {self.usual}" if self.usual else "")
        )


@dataclass(frozen=True, eq=False)
class StoredReference:
    """A reference with its provenance."""

    reference: Reference
    """The arrays."""
    provenance: Provenance
    """Where they came from."""


def reference_path(references_dir: Path, key: ReferenceKey) -> Path:
    """``<references_dir>/<aoi id>/<key digest>.npz``, never outside ``references_dir``.

    Raises:
        UnsafePathError: the AOI id cannot be a folder name.
    """
    return join_inside(
        references_dir,
        check_name(key.aoi_id, what="AOI id"),
        f"{key.digest}.npz",
        what="AOI id",
    )


def saved_references(references_dir: Path, aoi_id: str) -> list[StoredReference]:
    """Every readable reference saved for ``aoi_id``, newest build last.

    Raises:
        UnsafePathError: the AOI id cannot be a folder name.
    """
    folder = join_inside(references_dir, check_name(aoi_id, what="AOI id"), what="AOI id")
    found = [load_reference(path) for path in sorted(folder.glob("*.npz"))]
    return sorted((s for s in found if s is not None), key=lambda s: s.provenance.built_at)


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
    key: ReferenceKey,
    *,
    available: int,
    origins: Mapping[str, str],
) -> str | None:
    """Why ``stored`` must be rebuilt, or None when it is fresh (see the module docstring).

    Args:
        stored: the saved reference, if any.
        key: the key it was looked up by.
        available: scenes the period holds now.
        origins: scene id -> pixel origin, for the scenes the period holds now.
    """
    if stored is None:
        return "no saved reference"
    p = stored.provenance
    if p.key != key:
        return "the saved file was built for another AOI outline, source, period or detector"
    if p.reference_id != stored.reference.reference_id:
        return "its content does not match its provenance"
    changed = [s for s in p.scene_ids if s in origins and origins[s] != p.scene_origins.get(s)]
    if changed:
        return f"{len(changed)} of its scenes have other pixels at the source now ({changed[0]})"
    if available >= max(GROWTH_FACTOR * p.available, p.available + GROWTH_MIN_SCENES):
        return f"built from a survey of {p.available} scenes, {available} available now"
    return None
