"""Reading chips for a run, wherever it runs (a thread, a Dask worker): search, survey,
reference chips, and one scene's chips for all its AOIs at once.

Plain Python: the Prefect tasks in :mod:`pipeline.flows.tasks` call these functions, and the
inline steps (:mod:`pipeline.run.inline`) call the same functions without Prefect. Reads
touch the network and may be retried; :mod:`pipeline.run.analysis` turns what was read into
outcomes.

A read that fails in a way that may pass (a timeout, HTTP 5xx, after the reader's own
retries) is kept aside while the rest of the batch is read and cached; then
:class:`TransientReadError` is raised so that the task is retried, and the retry finds the
good chips in the cache. On the last attempt (``final=True``) such scenes come back as
failures instead, to be retried by a later run.

What may pass later
    A remote read that timed out, got a 5xx, or got a 401/403 may pass: every attempt signs
    the href afresh, which cures an expired SAS token or presigned URL. A file on this
    machine reads the same every time, so whatever failed there (a truncated or corrupt
    file) is never retried within the run. Neither is a scene whose STAC item lacks a band
    asset, nor an AOI outside the scene's raster. Every failed scene is tried again by the
    next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.config import BANDS, Settings
from pipeline.detect.analyse import clear_pixels
from pipeline.detect.masks import clear_fraction
from pipeline.detect.reference import Reference
from pipeline.detect.reference_looks import aoi_reference, is_snowy_look
from pipeline.errors import ReadError
from pipeline.read.chip_cache import ChipCache
from pipeline.read.chips import read_chip, read_chips
from pipeline.read.pixel_origin import local_path, scene_origin
from pipeline.run.stage_timer import stage
from pipeline.sources import SceneSource
from pipeline.types import Aoi, Chip, Scene


class TransientReadError(ReadError):
    """Some chips of a batch could not be read for now (timeouts, 5xx); retry the batch."""

    def __init__(self, message: str, *, kind: str = "transient") -> None:
        super().__init__(message, kind=kind)


class MissingAssetError(ReadError):
    """The scene's STAC item has no usable asset (or href) for a band every chip needs."""


@dataclass(frozen=True)
class ReadSpec:
    """How a worker reads chips: from which source, with which settings, cached where."""

    source: SceneSource
    """The run's source, opened once (its ``sign`` is applied just before each read)."""
    settings: Settings
    """Run-wide settings (GDAL options, reader retries)."""
    cache_dir: Path | None
    """Chip cache folder, or None with ``--no-cache``."""


@dataclass(frozen=True, eq=False)
class ChipRead:
    """One scene's chip, or why it could not be read."""

    scene_id: str
    """The scene."""
    chip: Chip | None
    """The pixels, when read."""
    error: str | None = None
    """One-line reason, when not."""
    transient: bool = False
    """The failure may pass if the scene is read again in this run."""
    origin: str | None = None
    """Identity of the pixels read (:func:`pipeline.read.pixel_origin.scene_origin`), when
    known."""


@dataclass(frozen=True, eq=False)
class Survey:
    """What reading some scenes for a reference found: clear fractions, and failures."""

    fractions: tuple[tuple[str, float], ...] = ()
    """``(scene id, clear fraction over the AOI)`` of each scene read, in the order read."""
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Scene id -> reason, for reads that would fail again (corrupt, missing, outside)."""
    for_now: Mapping[str, str] = field(default_factory=dict)
    """Scene id -> reason, for reads that may pass later (timeouts, 5xx)."""
    snowy: frozenset[str] = frozenset()
    """Scene ids of looks under snow or ice, which the AOI's reference leaves out
    (:func:`pipeline.detect.reference_looks.is_snowy_look`)."""

    def plus(self, other: Survey) -> Survey:
        """This survey and ``other``, a survey of other scenes."""
        return Survey(
            self.fractions + other.fractions,
            {**self.unreadable, **other.unreadable},
            {**self.for_now, **other.for_now},
            self.snowy | other.snowy,
        )

    def then(self, again: Survey) -> Survey:
        """This survey once its :attr:`for_now` scenes were surveyed ``again``."""
        return Survey(
            self.fractions + again.fractions,
            {**self.unreadable, **again.unreadable},
            dict(again.for_now),
            self.snowy | again.snowy,
        )


def search(spec: ReadSpec, aoi: Aoi, start: date, end: date) -> list[Scene]:
    """The scenes the run's source lists over ``aoi`` on ``start..end`` (the ``search`` stage).

    Raises:
        InvalidDateRangeError: ``end`` is before ``start``.
        SourceError: the source is unreachable or answers something unusable.
    """
    with stage("search"):
        return spec.source.search(aoi, start, end)


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, for the ``error`` column."""
    text = " ".join(str(exc).split()) or "no message"
    return text if isinstance(exc, ReadError) else f"{type(exc).__name__}: {text}"


def is_transient(exc: BaseException) -> bool:
    """Whether a failed chip read may succeed if tried again later (its ``kind`` says)."""
    return isinstance(exc, TransientReadError) or (isinstance(exc, ReadError) and exc.transient)


def is_local(scene: Scene) -> bool:
    """Whether every asset of ``scene`` is a file on this machine (no URL, no ``/vsi`` path)."""
    return all(local_path(asset.href) is not None for asset in scene.assets.values())


def may_pass(exc: BaseException, scene: Scene) -> bool:
    """Whether reading ``scene`` again in this run may succeed where it failed with ``exc``.

    Only remote reads may: after a timeout, a 5xx, or a 401/403 (the next attempt signs the
    href afresh).
    """
    if is_local(scene):
        return False
    return is_transient(exc) or (isinstance(exc, ReadError) and exc.kind == "refused")


def describe(exc: BaseException, scene: Scene) -> str:
    """Why reading ``scene`` failed, in one line, naming the file's problem first."""
    text = one_line(exc)
    kind = exc.kind if isinstance(exc, ReadError) else "permanent"
    if kind == "truncated":
        return f"{'truncated file' if is_local(scene) else 'truncated read'}: {text}"
    if kind == "not-tiff":
        return f"not a TIFF: {text}"
    return text


def check_assets(scene: Scene) -> None:
    """Fail when ``scene`` lacks a band every chip needs.

    A Level-1C scene has no SCL asset of its own (its mask is computed from its bands when
    it is read, :mod:`pipeline.detect.toa_mask`), so only its five bands are required.

    Raises:
        MissingAssetError: an asset, or its href, is missing (named in the message).
    """
    needed = BANDS if scene.level == "L2A" else tuple(b for b in BANDS if b != "scl")
    missing = [band for band in needed if band not in scene.assets or not scene.assets[band].href]
    if missing:
        raise MissingAssetError(
            f"missing asset {', '.join(missing)}: the STAC item of {scene.id} has no usable "
            "href for it"
        )


def read_one(scene: Scene, aoi: Aoi, spec: ReadSpec) -> Chip:
    """The chip of ``scene`` over ``aoi``: from the cache, else from the source (then cached).

    Timed as the ``read`` stage.

    Raises:
        MissingAssetError: the scene lacks a band asset.
        ReadError: the source cannot be read (see :func:`pipeline.read.chips.read_chip`).
    """
    with stage("read"):
        check_assets(scene)
        if spec.cache_dir is None:
            return read_chip(
                scene, aoi, settings=spec.settings, sign=spec.source.sign, allow_l1c=True
            )
        cache, origin = ChipCache(spec.cache_dir), scene_origin(scene, BANDS)
        cached = cache.get(scene.id, origin, aoi)
        if cached is not None:
            return cached
        chip = read_chip(scene, aoi, settings=spec.settings, sign=spec.source.sign, allow_l1c=True)
        cache.put(chip, origin, aoi)
        return chip


def _failure(scene: Scene, exc: BaseException) -> ChipRead:
    return ChipRead(scene.id, None, describe(exc, scene), transient=may_pass(exc, scene))


def read_scene(scene: Scene, aois: Sequence[Aoi], spec: ReadSpec) -> list[ChipRead]:
    """The chips of ``scene`` over each of ``aois`` (in order), from the cache or the source.

    The AOIs the cache does not hold are read together (:func:`pipeline.read.chips.read_chips`),
    so each band file's header is fetched once for all of them. When that joint read fails,
    each AOI is read alone, so that a failure is only the failure of the AOI it belongs to.
    Timed as the ``read`` stage. Never raises for a read: failures come back as reads.
    """
    with stage("read"):
        try:
            check_assets(scene)
        except MissingAssetError as exc:
            return [_failure(scene, exc) for _ in aois]
        cache = ChipCache(spec.cache_dir) if spec.cache_dir is not None else None
        origin = scene_origin(scene, BANDS)
        chips = {a.id: cache.get(scene.id, origin, a) if cache else None for a in aois}
        missing = [a for a in aois if chips[a.id] is None]
        if len(missing) > 1:
            try:
                read = read_chips(
                    scene, missing, settings=spec.settings, sign=spec.source.sign, allow_l1c=True
                )
            except Exception:  # each AOI alone below, to tell whose the failure is
                read = []
            for aoi, chip in zip(missing, read, strict=False):
                chips[aoi.id] = chip
                if cache is not None:
                    cache.put(chip, origin, aoi)
    reads = []
    for aoi in aois:
        cached = chips[aoi.id]
        if cached is not None:
            reads.append(ChipRead(scene.id, cached, origin=origin))
            continue
        try:
            reads.append(ChipRead(scene.id, read_one(scene, aoi, spec), origin=origin))
        except Exception as exc:
            reads.append(_failure(scene, exc))
    return reads


def read_batch(
    scenes: Sequence[Scene], aoi: Aoi, spec: ReadSpec, *, final: bool = True
) -> list[ChipRead]:
    """Read every scene's chip; failures come back as :class:`ChipRead` with a reason.

    Raises:
        TransientReadError: some reads may pass later and this is not the ``final`` attempt.
    """
    reads: list[ChipRead] = []
    transient: list[str] = []
    for scene in scenes:
        try:
            reads.append(ChipRead(scene.id, read_one(scene, aoi, spec)))
        except Exception as exc:
            reads.append(_failure(scene, exc))
            if reads[-1].transient and not final:
                transient.append(f"{scene.id}: {reads[-1].error}")
    if transient:
        raise TransientReadError(
            f"{len(transient)} of {len(scenes)} chips over {aoi.id} failed for now; "
            f"first: {transient[0]}"
        )
    return reads


def survey_batch(scenes: Sequence[Scene], aoi: Aoi, spec: ReadSpec) -> Survey:
    """Clear fraction of each scene that can be read (chips land in the cache).

    Never raises for a scene: each failure is kept in the :class:`Survey`, as ``for_now``
    when a later read may pass, as ``unreadable`` otherwise.
    """
    fractions: list[tuple[str, float]] = []
    unreadable: dict[str, str] = {}
    for_now: dict[str, str] = {}
    snowy: set[str] = set()
    for read in read_batch(scenes, aoi, spec, final=True):
        if read.chip is None:
            failures = for_now if read.transient else unreadable
            failures[read.scene_id] = read.error or "chip was not read"
            continue
        try:
            clear = clear_fraction(clear_pixels(read.chip), read.chip.valid)
            if is_snowy_look(read.chip):
                snowy.add(read.scene_id)
        except Exception as exc:  # a pathological chip: keep it out of the reference
            unreadable[read.scene_id] = f"survey failed: {one_line(exc)}"
            continue
        fractions.append((read.scene_id, clear))
    return Survey(tuple(fractions), unreadable, for_now, frozenset(snowy))


def build_reference(scenes: Sequence[Scene], aoi: Aoi, spec: ReadSpec) -> Reference | None:
    """Read the chosen scenes' chips and composite them.

    A chip that cannot be read at all is left out; one that failed for now raises, so that a
    reference is never built from whichever chips happened to be readable.

    Returns None when too few of them are clear (see
    :func:`pipeline.detect.reference_looks.reference_from_chips`).

    Raises:
        TransientReadError: some chips may be readable later.
    """
    chips = [r.chip for r in read_batch(scenes, aoi, spec, final=False) if r.chip is not None]
    return aoi_reference(aoi, chips, scenes) if chips else None
