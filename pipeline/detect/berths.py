"""Where something usually lies on the water: the occupancy map of a reference's looks.

Pure numpy/scipy. A low-percentile composite stands in for empty water only where the
water is empty in more than a tenth of the looks. A berth where a laid-up or regular ship
lies 90 % of the time is a ship in that composite: the ship is absorbed into "empty" and
never counted, and the basin (the composite's water) stops short of the quay. A pier built
while the reference's scenes were taken is water in some looks and concrete in the rest.

So, from the co-registered looks of the reference:

1. each look marks where an object lies on what is sometimes water: the pixel's NDWI is
   not water's in that look, and in at least :data:`MIN_WATER_LOOKS` looks it was
   (the long-term maximum-water extent, so a hull flush against a quay stays in it);
2. the **occupancy map** is, per pixel, the share of its clear looks with an object;
3. ship-sized patches beside the composite's sea, where that share exceeds
   :data:`USUALLY_OCCUPIED`, are *usually occupied*. Each patch's looks are sorted into
   *empty* (most of its pixels water) and *occupied*, leaving out looks in which shores
   turn dark wholesale (a low winter sun); a patch never seen empty is not a berth we can
   see behind;
4. a patch whose empty looks all come before its occupied ones (at least
   :data:`MIN_LOOKS_BEFORE` and :data:`MIN_LOOKS_AFTER` of them), where an object lay in
   more than :data:`STRUCTURE_MIN_SHARE` of the looks, is a **structure** built during the
   period: its "empty" state is the new structure, the median of the looks after it
   appeared. Any other patch is a **berth**: its "empty" state is the median of the looks
   in which it was seen empty.

:func:`empty_scene` returns the composite with those patches replaced, so that a ship at
the berth is new against the reference (counted in reference mode, ``source`` "berth")
and a finished pier is not.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from pipeline.detect.candidates import MIN_LENGTH_M, extent_px
from pipeline.detect.masks import MAX_SHIP_AREA_M2, dilate_cross, sea_mask

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]

#: A pixel is part of the long-term water extent when it was water in this many looks: a
#: berth occupied 96 % of the time is seen empty in one or two of 40 looks. (A look of
#: water on land, a shadow, makes no usual patch: a patch needs a look in which most of
#: it is water at once, and a ship's size.)
MIN_WATER_LOOKS: Final = 1
#: Water is dark in NIR; snow on land has water's NDWI (green above NIR) but is bright.
WATER_MAX_NIR: Final = 0.1
#: ... and darker still at 1.6 µm (under 0.02 even when turbid); ground in a cliff's or a
#: building's shadow, dark and often with water's NDWI, keeps a few hundredths.
WATER_MAX_SWIR: Final = 0.04
#: A look in which this many times the usual number of pixels that are mostly land turn
#: to water is a look of shadowed shores, not of departed ships (see :func:`_dark_looks`).
DARK_LOOK_FACTOR: Final = 2.0
#: A pixel on the water extent with an object in more than this share of its looks is
#: usually occupied (issue 14: "occupied in more than half the reference scenes").
USUALLY_OCCUPIED: Final = 0.5
#: A patch is seen empty in a look when at least this share of its seen pixels is water.
EMPTY_SHARE: Final = 0.7
#: ... and occupied in a look when at most this share is.
OCCUPIED_SHARE: Final = 0.3
#: A structure needs this many looks before it appeared: fewer, and a berth whose only
#: empty looks happen to open the period would be taken for one.
MIN_LOOKS_BEFORE: Final = 3
#: ... and this many after: fewer, and a ship that arrived late in the period and stayed
#: would be (with 40 looks over a year, six are about six weeks).
MIN_LOOKS_AFTER: Final = 6
#: A structure built during the period is looked for where an object lay in more than this
#: share of the looks (a pier finished two thirds of the way through is there in a third).
STRUCTURE_MIN_SHARE: Final = 0.2
#: Narrowest patch (pixels across, after the second-moment estimate): a strip one pixel
#: wide along a shore is mixed land and water, not a hull.
MIN_WIDTH_PX: Final = 1.5

_GREEN, _NIR, _SWIR = 1, 3, 4

Kind = Literal["berth", "structure"]


@dataclass(frozen=True)
class UsualObject:
    """A usually occupied patch of the water extent."""

    label: int
    """Its value in :attr:`Occupancy.labels`."""
    kind: Kind
    """``berth`` (seen empty now and then) or ``structure`` (appeared once and stayed)."""
    row: float
    """Centroid row, pixels."""
    col: float
    """Centroid column, pixels."""
    pixels: int
    """Area, pixels."""
    occupancy: float
    """Share of its looks in which it was occupied."""
    empty_looks: int
    """Looks in which it was seen empty (for a structure: before it appeared)."""
    looks: int
    """Looks in which it was seen empty or occupied."""
    empty_state: tuple[int, ...]
    """Indices of the looks that show it empty: for a berth the looks in which it was seen
    empty, for a structure those after it appeared."""


@dataclass(frozen=True, eq=False)
class Occupancy:
    """The occupancy map of a stack of looks and the usually occupied patches in it."""

    share: F32
    """``(rows, cols)`` share of clear looks with an object, NaN off the water extent."""
    labels: NDArray[np.int16]
    """``(rows, cols)`` patch label (:attr:`UsualObject.label`), 0 elsewhere."""
    objects: tuple[UsualObject, ...]
    """The usually occupied patches (berths and structures)."""


def _object_looks(stack: F32, seen: Mask) -> tuple[Mask, Mask]:
    """Per look, where the pixel is water and where something else lies on it."""
    green, nir = stack[:, _GREEN], stack[:, _NIR]
    with np.errstate(invalid="ignore", divide="ignore"):
        wet = (green - nir) / (green + nir + np.float32(1e-4)) > 0.0
    wet &= (nir < WATER_MAX_NIR) & (stack[:, _SWIR] < WATER_MAX_SWIR)
    water = seen & wet
    return water, seen & ~wet


def occupancy_map(stack: F32, seen: Mask, *, pixel_size_m: float) -> Occupancy:
    """Occupancy of the long-term water extent and its usually occupied patches.

    Args:
        stack: ``(n, 5, rows, cols)`` co-registered reflectance of ``n`` looks, in time order.
        seen: ``(n, rows, cols)`` True where each look is clear and valid.
        pixel_size_m: Ground size of one pixel.
    """
    water, filled = _object_looks(stack, seen)
    looks = seen.sum(axis=0)
    usual_water = water.sum(axis=0) > 0.5 * looks
    dark = _dark_looks(water, usual_water, pixel_size_m)
    water[dark] = False
    seen = seen & ~dark[:, None, None]
    extent = water.sum(axis=0) >= MIN_WATER_LOOKS
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(extent, filled.sum(axis=0) / np.maximum(looks, 1), np.nan)
    share = share.astype(np.float32)
    labels = np.zeros(share.shape, dtype=np.int16)
    objects: list[UsualObject] = []
    occupied = np.nan_to_num(share)
    shore = dilate_cross(sea_mask(usual_water, pixel_size_m=pixel_size_m))
    for threshold, wanted in ((USUALLY_OCCUPIED, "berth"), (STRUCTURE_MIN_SHARE, "structure")):
        patches, _ = ndi.label(
            extent & (occupied > threshold) & (labels == 0), structure=np.ones((3, 3), dtype=bool)
        )
        for rr, cc in _ship_sized(patches, pixel_size_m):
            if not shore[rr, cc].any():  # a berth lies on the sea's edge
                continue
            found = _classify(water[:, rr, cc], seen[:, rr, cc], len(objects) + 1, rr, cc)
            if found is None or found.kind != wanted:
                continue
            labels[rr, cc] = found.label
            objects.append(found)
    return Occupancy(share, labels, tuple(objects))


def _dark_looks(water: Mask, usual_water: Mask, pixel_size_m: float) -> NDArray[np.bool_]:
    """Looks in which land turns "water" wholesale: a low winter sun puts cliffs and quays
    in shadow, dark in every band. A berth seen empty adds a ship's area of water to a look;
    such a look adds many times the usual count, and more than the largest ship."""
    new_water = (water & ~usual_water).sum(axis=(1, 2))
    typical = float(np.median(new_water)) if new_water.size else 0.0
    largest_ship = MAX_SHIP_AREA_M2 / pixel_size_m**2
    dark: NDArray[np.bool_] = (new_water > DARK_LOOK_FACTOR * typical) & (new_water > largest_ship)
    return dark


def _ship_sized(
    patches: NDArray[np.int32], pixel_size_m: float
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Pixels of each labelled patch at least a short hull long, more than a strip wide, and
    with a short hull's area."""
    out = []
    for i, sl in enumerate(ndi.find_objects(patches), start=1):
        if sl is None:
            continue
        rr, cc = np.nonzero(patches[sl] == i)
        rr, cc = rr + sl[0].start, cc + sl[1].start
        length, width = extent_px(rr, cc)
        hull_px = MIN_LENGTH_M / pixel_size_m
        if length >= hull_px and width >= MIN_WIDTH_PX and rr.size >= MIN_WIDTH_PX * hull_px:
            out.append((rr, cc))
    return out


def _look_states(water: Mask, seen: Mask) -> NDArray[np.int8]:
    """Per look: 1 empty, -1 occupied, 0 unclear or unseen (pixels along axis 1)."""
    n_seen = seen.sum(axis=1)
    wet = water.sum(axis=1) / np.maximum(n_seen, 1)
    half_seen = n_seen >= 0.5 * seen.shape[1]
    state = np.zeros(len(wet), dtype=np.int8)
    state[half_seen & (wet >= EMPTY_SHARE)] = 1
    state[half_seen & (wet <= OCCUPIED_SHARE)] = -1
    return state


def _classify(
    water: Mask, seen: Mask, label: int, rr: NDArray[np.intp], cc: NDArray[np.intp]
) -> UsualObject | None:
    """A patch's kind from the order of its empty and occupied looks; None if never empty."""
    state = _look_states(water, seen)
    empty = np.flatnonzero(state == 1)
    occupied = np.flatnonzero(state == -1)
    if empty.size == 0 or occupied.size == 0:
        return None
    one_way = empty.max() < occupied.min()
    built = empty.size >= MIN_LOOKS_BEFORE and occupied.size >= MIN_LOOKS_AFTER
    kind: Kind = "structure" if one_way and built else "berth"
    decided = empty.size + occupied.size
    return UsualObject(
        label=label,
        kind=kind,
        row=float(rr.mean()),
        col=float(cc.mean()),
        pixels=int(rr.size),
        occupancy=float(occupied.size / decided),
        empty_looks=int(empty.size),
        looks=int(decided),
        empty_state=tuple(int(i) for i in (occupied if kind == "structure" else empty)),
    )


def empty_scene(low: F32, stack: F32, occupancy: Occupancy, *, dilate_px: int = 1) -> F32:
    """``low`` with each usually occupied patch replaced by what it looks like when empty.

    A berth takes the median of the looks in which it was seen empty; a structure the
    median of the looks after it appeared. The patch is widened by ``dilate_px`` so that
    the mixed pixels around a hull change with it.

    Args:
        low: ``(5, rows, cols)`` low-percentile composite of ``stack``.
        stack: ``(n, 5, rows, cols)`` the looks, in time order, NaN where unseen.
        occupancy: :func:`occupancy_map` of the same looks.
    """
    out: F32 = low.copy()
    for obj in occupancy.objects:
        patch = occupancy.labels == obj.label
        grown = ndi.binary_dilation(patch, iterations=dilate_px) if dilate_px else patch
        gr, gc = np.nonzero(grown)
        values = stack[list(obj.empty_state)][:, :, gr, gc]  # (k, 5, m)
        with warnings.catch_warnings():  # pixels never seen in those looks stay as they were
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(values, axis=0) if values.size else np.full((5, gr.size), np.nan)
        fill = np.isfinite(median)
        current = out[:, gr, gc]
        out[:, gr, gc] = np.where(fill, median, current)
    return out


def describe(objects: Sequence[UsualObject]) -> str:
    """One line naming the usually occupied patches, for logs and provenance."""
    if not objects:
        return "no usually occupied berth"
    return "; ".join(
        f"{o.kind} {o.label} at row {o.row:.0f} col {o.col:.0f} ({o.pixels} px, occupied "
        f"{o.occupancy:.0%} of {o.looks} looks, {o.empty_looks} empty)"
        for o in objects
    )
