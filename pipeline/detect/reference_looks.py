"""Which looks a temporal reference is composited from, and building it for an AOI.

Pure numpy. A look joins a reference when :data:`REFERENCE_MIN_CLEAR` of the AOI is seen
clear; at most :data:`pipeline.detect.reference.MAX_SCENES` of them, spread evenly over time,
are composited. A reference also leaves out looks under snow or ice
(:data:`SNOWY_LOOK_SHARE`) while enough others remain: clear skies are commonest in snowy
winters, and a port's reference that holds them sees every summer shore and quay edge as
new, a rail yard's empty ground model bends to snow it then expects on bare days.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Final, TypeVar

import numpy as np
from numpy.typing import NDArray

from pipeline.detect.analyse import clear_pixels, scene_sun, yard_areas
from pipeline.detect.masks import clear_fraction, snow_share
from pipeline.detect.rail import zone_mask
from pipeline.detect.reference import MIN_CLEAR_LOOKS, Reference, build_reference, pick_evenly
from pipeline.detect.tracks import TrackSegment, aoi_tracks
from pipeline.types import Aoi, Chip, Scene

#: A scene joins a temporal reference only when this much of the AOI is seen clear:
#: a partly cloudy scene adds cloud edges and shadows to the composite.
REFERENCE_MIN_CLEAR: Final = 0.9
#: A look with more of its clear pixels under snow or ice than this is left out of a
#: reference while enough others remain. SIMULATED: in a year whose port reference held 10
#: snowy looks of 22, summer scenes read 8-26 ships (truth 1-4), with false hulls along every
#: shore and quay; without them, within one of the truth. Rail: the empty yard's highest
#: reading fell from 7.9 / 46 / 36 / 25 to 5.1 / 22 / 12 / 8.7 (fresh, stress, demo, unseen).
SNOWY_LOOK_SHARE: Final = 0.02

T = TypeVar("T")


def _bare_if_enough(items: list[T], snowy: Callable[[T], bool]) -> list[T]:
    """``items`` without the snowy ones, unless fewer than :data:`MIN_CLEAR_LOOKS` remain."""
    bare = [item for item in items if not snowy(item)]
    return bare if len(bare) >= MIN_CLEAR_LOOKS else items


def _snow_share(chip: Chip, clear: NDArray[np.bool_]) -> float:
    return snow_share(chip.scl, chip.band("green"), chip.band("swir16"), clear)


def reference_candidates(
    fractions: Sequence[tuple[str, float]], snowy: Collection[str] = ()
) -> list[str]:
    """Scene ids to build a reference from, given each scene's clear fraction over the AOI.

    Scenes at least :data:`REFERENCE_MIN_CLEAR` clear qualify, less the ``snowy`` ones
    (:func:`is_snowy_look`) while :data:`MIN_CLEAR_LOOKS` others remain; at most
    :data:`pipeline.detect.reference.MAX_SCENES` of them are taken, spread evenly over time
    (``fractions`` in time order), so the reference reads a bounded number of chips. Leaving
    the snowy looks out *before* picking keeps the reference at its full number of looks: a
    reference rebuilt from fewer looks moves the counts more.
    """
    qualifying = [sid for sid, fraction in fractions if fraction >= REFERENCE_MIN_CLEAR]
    qualifying = _bare_if_enough(qualifying, lambda sid: sid in snowy)
    return [qualifying[i] for i in pick_evenly(qualifying)]


def snowy_looks(aoi: Aoi, chips: Iterable[Chip]) -> frozenset[str]:
    """The scene ids of ``chips`` a reference of ``aoi`` leaves out as snowy."""
    return frozenset(c.scene_id for c in chips if is_snowy_look(c))


def is_snowy_look(chip: Chip) -> bool:
    """Whether more than :data:`SNOWY_LOOK_SHARE` of the chip's clear pixels are snow or ice."""
    return _snow_share(chip, clear_pixels(chip)) > SNOWY_LOOK_SHARE


def aoi_reference(aoi: Aoi, chips: Sequence[Chip], scenes: Sequence[Scene]) -> Reference | None:
    """:func:`reference_from_chips` for ``aoi``; a rail AOI's also models the empty ground by
    the day, from each chip's sun (``scenes`` hold the chips' sensing times)."""
    if aoi.kind != "rail" or not chips:
        return reference_from_chips(chips, leave_out_snow=True)
    by_id = {s.id: s for s in scenes}
    first = chips[0]
    return reference_from_chips(
        chips,
        [scene_sun(by_id[c.scene_id], aoi).elevation for c in chips],
        yards=zone_mask(
            yard_areas(aoi), transform=first.transform, epsg=first.epsg, shape=first.shape
        ),
        tracks=aoi_tracks(aoi, first.transform, first.epsg),
        leave_out_snow=True,
    )


def reference_from_chips(
    chips: Sequence[Chip],
    sun_elevations: Sequence[float] | None = None,
    *,
    yards: NDArray[np.bool_] | None = None,
    tracks: Sequence[TrackSegment] | None = None,
    leave_out_snow: bool = False,
) -> Reference | None:
    """Build an AOI's temporal reference from the clearest chips, spread over time.

    Chips at least :data:`REFERENCE_MIN_CLEAR` clear are candidates; at most
    :data:`pipeline.detect.reference.MAX_SCENES` of them, evenly spread, are composited.
    ``sun_elevations`` (one per chip; rail yards) adds the model of the empty ground by
    the day (:mod:`pipeline.detect.yard_model`), its level measured on the track bed of
    ``yards`` (near ``tracks``, the AOI's given lines, or near lines derived from the
    composite). ``leave_out_snow`` drops looks under snow or ice
    (:data:`SNOWY_LOOK_SHARE`) while enough others qualify. Returns None when fewer than
    :data:`pipeline.detect.reference.MIN_CLEAR_LOOKS` qualify.
    """
    suns: Sequence[float | None] = [None] * len(chips) if sun_elevations is None else sun_elevations
    candidates = []
    for chip, sun in zip(chips, suns, strict=True):
        clear = clear_pixels(chip)
        if clear_fraction(clear, chip.valid) >= REFERENCE_MIN_CLEAR:
            candidates.append((chip, clear, sun))
    if leave_out_snow:
        candidates = _bare_if_enough(
            candidates, lambda c: _snow_share(c[0], c[1]) > SNOWY_LOOK_SHARE
        )
    if len(candidates) < MIN_CLEAR_LOOKS:
        return None
    picked = [candidates[i] for i in pick_evenly([c.scene_id for c, _, _ in candidates])]
    elevations = [e for _, _, e in picked if e is not None]
    return build_reference(
        [c for c, _, _ in picked],
        [m for _, m, _ in picked],
        sun_elevations=elevations if sun_elevations is not None else None,
        yards=yards,
        tracks=tracks,
    )
