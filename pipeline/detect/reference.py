"""Per-AOI temporal references: what the AOI looks like when nothing is there.

Pure numpy. A reference is built from the clear pixels of many scenes on one grid:

- ``low``: a low percentile (default the 10th) per pixel and band. Ships come and go
  and are brighter than water in NIR/SWIR, so the low percentile approximates *empty
  water* even at berths that are often occupied (Rajin's ship detector uses it).
- ``median``: the per-pixel median. Trains in a yard can be darker (coal, tank cars) or
  brighter (containers) than ballast, so the median is the empty yard as long as each
  track is empty in more than half of the clear scenes (the railcar estimator uses it).

The chips are co-registered to their mean frame first
(:func:`pipeline.detect.coregister.register_stack`): a composite of misregistered scenes is
blurred, and its low percentile eats into every quay.

Saving and loading (``.npz`` under ``data/references/``) is done by the flows; this
module only computes.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np
from affine import Affine
from numpy.typing import NDArray

from pipeline.detect.berths import describe, empty_scene, occupancy_map
from pipeline.detect.coregister import register_stack
from pipeline.detect.tracks import TrackSegment, track_bed
from pipeline.detect.yard_model import (
    bare_level,
    conditions_seen,
    fit_response,
    level_pixels,
    shadow_scale,
)
from pipeline.types import Chip

#: Percentile that stands in for empty water (see the module docstring).
LOW_PERCENTILE: Final = 10.0
#: Percentile of NDVI that tells whether a pixel ever carries vegetation.
HIGH_PERCENTILE: Final = 90.0
#: Fewest clear looks at a pixel for its reference to count: fewer and one ship or one
#: train decides the percentile.
MIN_CLEAR_LOOKS: Final = 5
#: Most scenes a reference is built from: spread evenly over the archive, they bound the
#: memory (5 bands × rows × cols × float32 each) whatever the length of the archive.
MAX_SCENES: Final = 40


@dataclass(frozen=True, eq=False)
class Reference:
    """A per-AOI temporal reference on one pixel grid."""

    aoi_id: str
    """The AOI it belongs to."""
    epsg: int
    """EPSG code of the grid."""
    transform: Affine
    """Pixel-to-map transform of the grid (same as the chips it was built from)."""
    low: NDArray[np.float32]
    """``(5, rows, cols)`` low-percentile reflectance (NaN where too few clear looks)."""
    median: NDArray[np.float32]
    """``(5, rows, cols)`` median reflectance (NaN where too few clear looks)."""
    ndvi_high: NDArray[np.float32]
    """``(rows, cols)`` high percentile of NDVI: whether a pixel ever greens up (a
    field or a verge does in summer; ballast and concrete never do)."""
    spread: NDArray[np.float32]
    """``(rows, cols)`` interquartile range over time of the brightness (mean of the five
    bands): low on surfaces that never change, high on verges, fields and water."""
    looks: NDArray[np.int16]
    """``(rows, cols)`` number of clear looks behind each pixel."""
    occupancy: NDArray[np.float32]
    """``(rows, cols)`` share of clear looks in which an object lay on the pixel, over the
    long-term water extent (NaN elsewhere; :mod:`pipeline.detect.berths`)."""
    usual: NDArray[np.int16]
    """``(rows, cols)`` label of the usually occupied berth or structure a pixel belongs
    to, 0 elsewhere; :attr:`low` there is what the patch looks like when empty."""
    usual_note: str
    """The usually occupied berths and structures, named (provenance)."""
    scene_ids: tuple[str, ...]
    """Scenes the reference was built from (provenance)."""
    response: NDArray[np.float32] | None = None
    """``(3, 5, rows, cols)`` per-pixel model of the empty ground by the day's track-bed
    level and sun (:mod:`pipeline.detect.yard_model`); built for rail yards, None elsewhere."""
    response_seen: NDArray[np.float32] | None = None
    """``(2, 6)`` lowest and highest bed level per band and shadow scale the model was
    fitted on (:func:`pipeline.detect.yard_model.conditions_seen`)."""

    def __post_init__(self) -> None:
        if self.low.shape != self.median.shape or self.low.shape[1:] != self.looks.shape:
            raise ValueError("reference arrays disagree in shape")

    @cached_property
    def reference_id(self) -> str:
        """A 16-hex-digit hash of the reference's content: grid, arrays and scenes.

        Two references with this id measure alike; every observation keeps the id of the
        reference it was measured against, so a series never mixes instruments unseen.
        """
        digest = hashlib.sha256(f"{self.aoi_id}|{self.epsg}|{tuple(self.transform)}".encode())
        arrays: list[NDArray[np.generic]] = [
            self.low,
            self.median,
            self.ndvi_high,
            self.spread,
            self.looks,
            self.usual,
        ]
        if self.response is not None and self.response_seen is not None:
            arrays += [self.response, self.response_seen]
        for array in arrays:
            digest.update(str((array.dtype.str, array.shape)).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update("|".join(self.scene_ids).encode())
        return digest.hexdigest()[:16]

    def fits(self, chip: Chip) -> bool:
        """Whether ``chip`` lies on exactly this grid (same CRS, transform and shape)."""
        return (
            chip.epsg == self.epsg
            and chip.shape == self.looks.shape
            and chip.transform.almost_equals(self.transform, precision=1e-6)
        )


def nanpercentile0(stack: NDArray[np.float32], q: float | Sequence[float]) -> NDArray[np.float32]:
    """``np.nanpercentile(stack, q, axis=0).astype(float32)`` bit for bit, but vectorised.

    NumPy's ``nanpercentile`` falls back to a Python loop over every pixel when NaNs are
    present (about a minute for 20 scenes of 600 x 600 x 5); one sort along the stack axis
    does the same in well under a second. All-NaN pixels give NaN. Like NumPy, a scalar
    ``q`` interpolates in float32 and a sequence of ``q`` in float64.

    Args:
        stack: ``(n, ...)`` float32 values, NaN where missing.
        q: one percentile (result ``(...)``) or several (result ``(len(q), ...)``), 0-100.
    """
    ordered = np.sort(stack, axis=0)  # NaN sorts last
    count = np.sum(~np.isnan(stack), axis=0)
    last = np.maximum(count - 1, 0)
    scalar = isinstance(q, int | float)
    wide = np.float32 if scalar else np.float64
    out = []
    for pct in [q] if isinstance(q, int | float) else q:
        virtual = last.astype(np.float64) * (float(pct) / 100.0)
        below = np.floor(virtual)
        gamma = virtual - below
        lo = below.astype(np.intp)[None]
        hi = np.minimum(lo + 1, last[None])
        a = np.take_along_axis(ordered, lo, axis=0)[0]
        b = np.take_along_axis(ordered, hi, axis=0)[0]
        diff = b - a
        # numpy's two-sided lerp, with numpy's roundings.
        value = np.where(
            gamma >= 0.5,
            b - diff * (1.0 - gamma).astype(wide),
            a + diff * gamma.astype(wide),
        ).astype(np.float32)
        value[count == 0] = np.nan
        out.append(value)
    return out[0] if scalar else np.stack(out)


def nanmedian0(stack: NDArray[np.float32]) -> NDArray[np.float32]:
    """``np.nanmedian(stack, axis=0)`` bit for bit, vectorised, in a fraction of its memory.

    NumPy's ``nanmedian`` goes through masked arrays for short axes: several seconds and
    over a gigabyte for 40 scenes of 600 x 600 x 5. Even counts average the two middle
    values in float32, as NumPy does. All-NaN pixels give NaN.
    """
    ordered = np.sort(stack, axis=0)  # NaN sorts last
    count = np.sum(~np.isnan(stack), axis=0)
    upper = (count // 2)[None]
    lower = np.maximum((count - 1) // 2, 0)[None]
    a = np.take_along_axis(ordered, lower, axis=0)[0]
    b = np.take_along_axis(ordered, upper.clip(max=max(stack.shape[0] - 1, 0)), axis=0)[0]
    median: NDArray[np.float32] = ((a + b) / np.float32(2)).astype(np.float32)
    median[count == 0] = np.nan
    return median


def pick_evenly(items: Sequence[str], limit: int = MAX_SCENES) -> list[int]:
    """Indices of at most ``limit`` items spread evenly over ``items`` (first and last kept)."""
    if len(items) <= limit:
        return list(range(len(items)))
    return sorted({round(i) for i in np.linspace(0, len(items) - 1, limit)})


def build_reference(
    chips: Sequence[Chip],
    clear: Sequence[NDArray[np.bool_]],
    *,
    percentile: float = LOW_PERCENTILE,
    sun_elevations: Sequence[float] | None = None,
    yards: NDArray[np.bool_] | None = None,
    tracks: Sequence[TrackSegment] | None = None,
) -> Reference:
    """Composite clear pixels of chips on one grid into a :class:`Reference`.

    Args:
        chips: Chips of one AOI, all on the same grid, in time order (the occupancy map
            tells a structure built during the period from a berth by the order of looks).
        clear: For each chip, True where the pixel is valid and seen clear.
        percentile: Percentile for :attr:`Reference.low`.
        sun_elevations: The sun's elevation (degrees) at each chip's sensing time. Given,
            the reference also models the empty ground by the day
            (:attr:`Reference.response`, for rail yards).
        yards: Pixels of the yard zones, whose track bed gives each look's level (the
            whole chip without).
        tracks: The AOI's surveyed track lines on the chips' grid
            (:func:`pipeline.detect.tracks.aoi_track_segments`); without them, the lines
            are derived from the composite
            (:func:`pipeline.detect.tracks.derive_track_lines`). The level is measured on
            the steady pixels on the tracks (:func:`pipeline.detect.yard_model.level_pixels`).

    Raises:
        ValueError: no chips, chips on different grids, masks of the wrong shape, or a
            number of sun elevations other than the number of chips.
    """
    if not chips or len(chips) != len(clear):
        raise ValueError("build_reference needs one clear mask per chip, and at least one chip")
    if sun_elevations is not None and len(sun_elevations) != len(chips):
        raise ValueError(f"{len(sun_elevations)} sun elevations for {len(chips)} chips")
    first = chips[0]
    for chip, mask in zip(chips, clear, strict=True):
        if (
            chip.aoi_id != first.aoi_id
            or chip.epsg != first.epsg
            or chip.shape != first.shape
            or not chip.transform.almost_equals(first.transform, precision=1e-6)
        ):
            raise ValueError(f"chip {chip.scene_id} is not on the grid of {first.scene_id}")
        if mask.shape != chip.shape:
            raise ValueError(f"clear mask of {chip.scene_id} has shape {mask.shape}")
    cubes, seen_masks, _shifts = register_stack(
        [c.reflectance for c in chips], [m & c.valid for c, m in zip(chips, clear, strict=True)]
    )
    stack = np.stack(cubes).astype(np.float32, copy=False)  # (n, 5, r, c)
    seen = np.stack(seen_masks)[:, None, :, :]
    stack[~np.broadcast_to(seen, stack.shape)] = np.nan
    looks = np.asarray(np.stack(seen_masks).sum(axis=0), dtype=np.int16)
    with warnings.catch_warnings():
        # All-NaN pixels (never clear) are expected; they are masked just below.
        warnings.simplefilter("ignore", RuntimeWarning)
        low = nanpercentile0(stack, percentile)
        median = nanmedian0(stack)
        red, nir = stack[:, 2], stack[:, 3]
        ndvi = (nir - red) / np.maximum(nir + red, 1e-4)
        ndvi_high = nanpercentile0(ndvi.astype(np.float32), HIGH_PERCENTILE)
        q25, q75 = nanpercentile0(stack.mean(axis=1), [25.0, 75.0])
        spread = (q75 - q25).astype(np.float32)
        occupancy = occupancy_map(stack, seen[:, 0], pixel_size_m=abs(float(first.transform.a)))
        low = empty_scene(low, stack, occupancy)
        response = seen_conditions = None
        if sun_elevations is not None:
            area = np.ones(looks.shape, dtype=bool) if yards is None else yards
            size = abs(float(first.transform.a))
            bed = track_bed(median, ndvi_high, area, given=tracks, pixel_size_m=size)
            bed = level_pixels(bed, spread)
            response, seen_conditions = _ground_response(stack, bed, sun_elevations)
    thin = looks < MIN_CLEAR_LOOKS
    low[:, thin] = np.nan
    median[:, thin] = np.nan
    ndvi_high[thin] = np.nan
    spread[thin] = np.nan
    return Reference(
        aoi_id=first.aoi_id,
        epsg=first.epsg,
        transform=first.transform,
        low=low,
        median=median,
        ndvi_high=ndvi_high,
        spread=spread,
        looks=looks,
        occupancy=occupancy.share,
        usual=occupancy.labels,
        usual_note=describe(occupancy.objects),
        scene_ids=tuple(c.scene_id for c in chips),
        response=response,
        response_seen=seen_conditions,
    )


def _ground_response(
    stack: NDArray[np.float32], bed: NDArray[np.bool_], sun_elevations: Sequence[float]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The per-pixel empty-ground model of :mod:`pipeline.detect.yard_model`, and the
    conditions it was fitted on."""
    levels = np.stack([bare_level(look, bed) for look in stack])
    scales = np.array([shadow_scale(e) for e in sun_elevations])
    return fit_response(stack, levels, scales), conditions_seen(levels, scales)
