"""Railcars at Tumangang-Khasan: strings of cars on the yard tracks, and how they look.

A Russian four-axle gondola is 13.92 m over couplers and 3.2 m wide, so at 10 m a car is
about 1.4 x 0.3 pixels: single cars cannot be counted, but a string darkens (coal, tank
cars) or tints (ore, containers) its track. The count drawn each scene is negative binomial
with the scenario's mean and dispersion ``k = RAILCAR_DISPERSION`` (variance
``mu + mu**2 / k``): trains arrive in batches, so railcar counts are over-dispersed. The cars
are split into strings of about 28 (a gamma draw), each put on a free stretch of track. In a
snowy scene some strings carry snow on their roofs and loads
(:mod:`pipeline.simulate.weathering`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import SiteMap, Track
from pipeline.simulate.grid import fine_coords, pixel_window
from pipeline.simulate.noise import F32, SUB, cell_hash, composite, oriented_coords, weighted_choice
from pipeline.simulate.weathering import cells, lay_snow, snow_patches

#: Negative-binomial dispersion of railcar counts (variance = mu + mu^2 / k).
RAILCAR_DISPERSION: Final = 2.5
#: Length over couplers of a Russian 4-axle gondola (m); the body is a little shorter.
CAR_PITCH: Final = 13.92
CAR_BODY: Final = 12.7
CAR_WIDTH: Final = 3.2
CAR_KINDS: Final = (("coal-gondola", 0.25), ("empty-gondola", 0.15), ("ore", 0.2),
                    ("tank", 0.2), ("box", 0.1), ("container-flat", 0.1))  # fmt: skip


@dataclass(frozen=True)
class RailcarString:
    """A string of coupled railcars standing on one track, as truth."""

    zone: str
    """AOI zone (``tumangang-yard`` or ``khasan-yard``)."""
    track: str
    """Track id."""
    x0: float
    """Start easting (UTM m)."""
    y0: float
    """Start northing."""
    x1: float
    """End easting."""
    y1: float
    """End northing."""
    n_cars: int
    """Number of cars."""
    kind: str
    """Car type (``coal-gondola``, ``tank``...)."""
    object_id: str = ""
    """The train's id, persisting across the scenes of its stay (issue 13); empty per scene."""


def place_railcars(
    site: SiteMap, count: int, rng: np.random.Generator
) -> tuple[RailcarString, ...]:
    """Split ``count`` railcars into strings (trains of ~28 cars) on free yard tracks."""
    tracks: tuple[Track, ...] = site.tracks
    used: dict[str, list[tuple[float, float]]] = {t.name: [] for t in tracks}
    strings: list[RailcarString] = []
    remaining = count
    size = 0
    while remaining > 0 and tracks:
        size = min(remaining, max(1, round(float(rng.gamma(2.0, 14.0))))) if size == 0 else size
        spot = free_spot(rng, tracks, used, size * CAR_PITCH)
        if spot is None:
            if size == 1:
                break
            size = max(1, size // 2)
            continue
        track, s0 = spot
        strings.append(string_on(track, s0, size, weighted_choice(rng, CAR_KINDS)))
        remaining -= size
        size = 0
    return tuple(strings)


def free_spot(
    rng: np.random.Generator,
    tracks: Sequence[Track],
    used: dict[str, list[tuple[float, float]]],
    span: float,
) -> tuple[Track, float] | None:
    """A free stretch of ``span`` metres on one of ``tracks`` (tried in random order), kept
    25 m clear of the stretches in ``used``, which it joins; None when none is free."""
    for k in rng.permutation(len(tracks)):
        track = tracks[int(k)]
        if track.length < span + 20:
            continue
        s0 = float(rng.uniform(10, track.length - span - 10))
        if any(s0 < b + 25 and s0 + span > a - 25 for a, b in used[track.name]):
            continue
        used[track.name].append((s0, s0 + span))
        return track, s0
    return None


def string_on(track: Track, s0: float, size: int, kind: str, object_id: str = "") -> RailcarString:
    """A string of ``size`` cars on ``track`` from ``s0`` metres along it."""
    span = size * CAR_PITCH
    ux, uy = (track.x1 - track.x0) / track.length, (track.y1 - track.y0) / track.length
    return RailcarString(
        zone=track.zone,
        track=track.name,
        x0=track.x0 + ux * s0,
        y0=track.y0 + uy * s0,
        x1=track.x0 + ux * (s0 + span),
        y1=track.y0 + uy * (s0 + span),
        n_cars=size,
        kind=kind,
        object_id=object_id,
    )


_CAR_COLOURS: Final = {
    "coal-gondola": sp.CAR_COAL,
    "empty-gondola": sp.CAR_RUST,
    "ore": sp.CAR_ORE,
    "tank": sp.CAR_TANK,
    "box": sp.CAR_BOX,
}


def _cars(
    gx: F32, gy: F32, string: RailcarString
) -> tuple[F32, NDArray[np.int64], F32, NDArray[np.bool_]]:
    """Across-track position, car number, position along the car and body mask per sub-pixel."""
    heading = math.degrees(math.atan2(string.x1 - string.x0, string.y1 - string.y0))
    u, v = oriented_coords(gx, gy, string.x0, string.y0, heading)
    car = np.floor(u / CAR_PITCH).astype(np.int64)
    within = u - car * CAR_PITCH
    body = (car >= 0) & (car < string.n_cars) & (np.abs(v) <= CAR_WIDTH / 2)
    body &= (within > (CAR_PITCH - CAR_BODY) / 2) & (within < (CAR_PITCH + CAR_BODY) / 2)
    return v, car, within, body


def car_bodies(gx: F32, gy: F32, string: RailcarString) -> NDArray[np.bool_]:
    """Sub-pixels (eastings ``gx``, northings ``gy``) covered by the string's car bodies."""
    return _cars(gx, gy, string)[3]


def paint_railcars(
    refl: F32,
    site: SiteMap,
    strings: tuple[RailcarString, ...],
    light_share: float = 0.0,
    roof_snow: tuple[float, ...] | None = None,
) -> None:
    """Draw railcar strings into ``refl`` (in place).

    With ``light_share`` > 0 (the AOI's ``light_car_share``), that share of the cars (a hash of
    car and string, so no random draw moves) is a light box or tank car, brighter than the
    ballast, whatever the string's kind. ``roof_snow`` gives per string the share of its roofs
    and open loads under snow (:func:`pipeline.simulate.weathering.object_snow`).
    """
    for i, string in enumerate(strings):
        window = pixel_window(site.region, string.x0, string.y0, string.x1, string.y1)
        gx, gy = fine_coords(site.region, window, SUB)
        v, car, within, body = _cars(gx, gy, string)
        jitter = 0.85 + 0.3 * cell_hash(car, np.zeros_like(car), i)
        colour = np.zeros((5, *v.shape), np.float32)
        if string.kind == "container-flat":
            pick = np.minimum(
                (cell_hash(car, (within > CAR_PITCH / 2).astype(np.int64), i + 5) * 8).astype(
                    np.int64
                ),
                7,
            )
            for k, spectrum in enumerate(sp.CONTAINER_COLOURS):
                colour += sp.spec(spectrum) * (body & (pick == k))
        else:
            colour += sp.spec(_CAR_COLOURS[string.kind]) * body * jitter
            if string.kind == "tank":
                colour += np.float32(0.05) * (body & (np.abs(v) < 0.4))
        if light_share > 0:
            _paint_light(colour, body, car, i, light_share)
        if roof_snow is not None and roof_snow[i] > 0:
            _paint_snow(colour, body, v, car, within, i, roof_snow[i])
        composite(refl, window, body.astype(np.float32), colour, SUB)


def _paint_light(
    colour: F32,
    body: NDArray[np.bool_],
    car: NDArray[np.int64],
    string: int,
    share: float,
) -> None:
    """Repaint a ``share`` of the cars as light box cars and light tank cars (in place)."""
    light = body & (cell_hash(car, np.ones_like(car), string + 11) < share)
    tank = cell_hash(car, np.full_like(car, 2), string + 13) < 0.5
    colour[:, light] = 0.0
    colour += sp.spec(sp.CAR_LIGHT_BOX) * (light & ~tank)
    colour += sp.spec(sp.CAR_LIGHT_TANK) * (light & tank)


def _paint_snow(
    colour: F32,
    body: NDArray[np.bool_],
    v: F32,
    car: NDArray[np.int64],
    within: F32,
    string: int,
    share: float,
) -> None:
    """Lay snow on a ``share`` of the string's roofs and loads, inside the sides (in place)."""
    roof = body & (np.abs(v) < CAR_WIDTH / 2 - 0.3)
    along = car * 16 + cells(within)
    lay_snow(colour, snow_patches(roof, along, cells(v), share, string + 17))
