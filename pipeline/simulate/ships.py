"""Ships at Rajin: where they lie (the truth), and how they look at 10 m.

Placement is pure geometry: berths alongside the quays (some two abreast) and the
anchorage, where ships head into the wind. Painting renders each hull on a sub-pixel grid
(8 x 8 per 10 m pixel, 1.25 m), averages it to 10 m and composites it over the surface, so a
16 m beam covers 1.6 pixels exactly as it should; the hull and the bridge cast shadows on
the water away from the sun; in a snowy scene some decks carry snow
(:mod:`pipeline.simulate.weathering`). The PSF blur is applied later to the whole scene. The count
drawn each scene is Poisson with the scenario's mean (or, with the keys of issue 13, ships
stay: :mod:`pipeline.simulate.placement`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray

from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import Berth, SiteMap
from pipeline.simulate.grid import PIXEL_M, fine_coords, pixel_window
from pipeline.simulate.noise import (
    F32,
    SUB,
    block_mean,
    cell_hash,
    composite,
    oriented_coords,
    weighted_choice,
)
from pipeline.simulate.weathering import cells, lay_snow, snow_patches

#: Share of ships alongside a quay (the rest lie at anchor) when a berth is free.
SHARE_AT_BERTH: Final = 0.65
SHIP_KINDS: Final = (("general-cargo", 0.5), ("bulk", 0.2), ("container", 0.12),
                     ("tanker", 0.1), ("reefer", 0.08))  # fmt: skip
#: Heights above the water of the hull's side and of the bridge (for their shadows), m.
FREEBOARD_M: Final = 7.0
BRIDGE_M: Final = 22.0
#: Share of light lost in a ship's shadow on water.
SHIP_SHADOW_LOSS: Final = 0.6


@dataclass(frozen=True)
class Ship:
    """One ship, as truth."""

    x: float
    """Centre easting (UTM m)."""
    y: float
    """Centre northing."""
    length_m: float
    """Length overall."""
    width_m: float
    """Beam."""
    heading_deg: float
    """Bow direction, degrees clockwise from grid north."""
    at_berth: bool
    """True alongside a quay (or abreast of a ship that is); False at anchor."""
    berth: str | None
    """Quay face name when at berth."""
    abreast: bool
    """Moored outside another ship rather than at the quay itself."""
    kind: str
    """``general-cargo``, ``bulk``, ``container``, ``tanker`` or ``reefer``."""
    shade: float
    """Deck brightness multiplier (0.8-1.35)."""
    scl_as_cloud: bool
    """The scene's SCL labels this (bright) ship as cloud, as real SCL sometimes does."""
    object_id: str = ""
    """Persists across the scenes of one stay (issue 13 dynamics); empty when drawn per scene."""

    @property
    def zone(self) -> str:
        """AOI zone: ``harbour`` at berth, ``anchorage`` at anchor."""
        return "harbour" if self.at_berth else "anchorage"


def ship_length(rng: np.random.Generator) -> float:
    """Length overall: Rajin's regular ~110-115 m cargo ships, coasters, a few larger ships."""
    pick = rng.random()
    if pick < 0.5:
        length = rng.normal(112.5, 4.0)
    elif pick < 0.85:
        length = rng.lognormal(math.log(78), 0.28)
    else:
        length = rng.lognormal(math.log(150), 0.15)
    return float(np.clip(length, 40.0, 200.0))


def _on_water(
    site: SiteMap,
    x: float,
    y: float,
    length: float,
    width: float,
    heading: float,
    *,
    beam: bool = True,
) -> bool:
    reg = site.region
    water = site.water_fraction
    dx, dy = math.sin(math.radians(heading)), math.cos(math.radians(heading))
    for a in (-0.5, -0.25, 0.0, 0.25, 0.5):
        for b in (-0.6, 0.0, 0.6) if beam else (0.0,):
            px = x + dx * a * length + dy * b * width
            py = y + dy * a * length - dx * b * width
            col, row = int((px - reg.west) // PIXEL_M), int((reg.north - py) // PIXEL_M)
            if not (0 <= row < reg.height and 0 <= col < reg.width) or water[row, col] < 0.6:
                return False
    return True


def _at_berth(
    site: SiteMap, placed: list[Ship], length: float, width: float, rng: np.random.Generator
) -> tuple[float, float, float, str, bool] | None:
    berths: tuple[Berth, ...] = site.berths
    weights = np.asarray([b.length for b in berths])
    for _ in range(30):
        berth = berths[int(rng.choice(len(berths), p=weights / weights.sum()))]
        alongside = [s for s in placed if s.berth == berth.name and not s.abreast]
        if alongside and rng.random() < 0.3:
            inner = alongside[int(rng.integers(len(alongside)))]
            if any(
                s.berth == berth.name
                and s.abreast
                and math.hypot(s.x - inner.x, s.y - inner.y) < inner.length_m
                for s in placed
            ):
                continue
            gap = inner.width_m / 2 + width / 2 + 1.5
            x, y = inner.x + berth.nx * gap, inner.y + berth.ny * gap
            return x, y, inner.heading_deg, berth.name, True
        span = berth.length - length - 20
        if span <= 0:
            continue
        t = 10 + length / 2 + float(rng.uniform(0, span))
        if any(abs(t - _along(berth, s)) < (length + s.length_m) / 2 + 15 for s in alongside):
            continue
        frac = t / berth.length
        offset = width / 2 + 2.0
        x = berth.x0 + (berth.x1 - berth.x0) * frac + berth.nx * offset
        y = berth.y0 + (berth.y1 - berth.y0) * frac + berth.ny * offset
        heading = berth.heading if rng.random() < 0.5 else (berth.heading + 180) % 360
        return x, y, heading, berth.name, False
    return None


def _along(berth: Berth, ship: Ship) -> float:
    dx, dy = (berth.x1 - berth.x0) / berth.length, (berth.y1 - berth.y0) / berth.length
    return (ship.x - berth.x0) * dx + (ship.y - berth.y0) * dy


def place_ships(
    site: SiteMap, count: int, wind_from: float, rng: np.random.Generator
) -> tuple[Ship, ...]:
    """Put ``count`` ships at berths and at anchor (anchored ships head into the wind)."""
    placed: list[Ship] = []
    for _ in range(count):
        length = ship_length(rng)
        width = max(6.0, length / 7 * float(rng.uniform(0.9, 1.1)))
        kind = weighted_choice(rng, SHIP_KINDS)
        shade = float(rng.uniform(0.8, 1.35))
        spot: tuple[float, float, float, str | None, bool] | None = (
            _at_berth(site, placed, length, width, rng)
            if site.berths and rng.random() < SHARE_AT_BERTH
            else None
        )
        if spot is None:
            spot = _at_anchor(site, placed, length, width, wind_from, rng)
        if spot is None:
            continue
        x, y, heading, berth, abreast = spot
        if not _on_water(site, x, y, length, width, heading, beam=berth is None):
            continue
        bright = kind in ("reefer", "container") or shade > 1.2
        placed.append(
            Ship(
                x=x,
                y=y,
                length_m=length,
                width_m=width,
                heading_deg=heading,
                at_berth=berth is not None,
                berth=berth,
                abreast=abreast,
                kind=kind,
                shade=shade,
                scl_as_cloud=bright and rng.random() < 0.4,
            )
        )
    return tuple(placed)


def _at_anchor(
    site: SiteMap,
    placed: list[Ship],
    length: float,
    width: float,
    wind_from: float,
    rng: np.random.Generator,
) -> tuple[float, float, float, None, bool] | None:
    if site.anchorage is None:
        return None
    west, south, east, north = site.anchorage.bounds
    for _ in range(60):
        x, y = float(rng.uniform(west, east)), float(rng.uniform(south, north))
        if not shapely.contains_xy(site.anchorage, x, y):
            continue
        if any(math.hypot(x - s.x, y - s.y) < 350 for s in placed if not s.at_berth):
            continue
        heading = float((wind_from + rng.normal(0, 12)) % 360)
        if _on_water(site, x, y, length, width, heading):
            return x, y, heading, None, False
    return None


def _hull(u: F32, v: F32, ship: Ship) -> tuple[NDArray[np.bool_], F32]:
    """Sub-pixel hull mask (pointed bow, square stern) and position along it (-1 stern, 1 bow)."""
    a = u / (ship.length_m / 2)
    taper = np.sqrt(np.clip((1 - a) / 0.32, 0, 1)) * np.sqrt(np.clip((a + 1) / 0.05, 0, 1))
    half = ship.width_m / 2 * np.minimum(taper, 1.0)
    return (np.abs(v) <= half) & (np.abs(a) <= 1), a


def _ship_shadow(gx: F32, gy: F32, ship: Ship, sun: tuple[float, float]) -> F32:
    """Sub-pixel shadow the hull (freeboard) and the bridge cast on the water beside it."""
    azimuth, elevation = (math.radians(v) for v in sun)
    sx, sy = math.sin(azimuth), math.cos(azimuth)
    shadow = np.zeros(gx.shape, bool)
    for height, part in ((FREEBOARD_M, None), (BRIDGE_M, (-0.88, -0.64))):
        reach = height / math.tan(max(elevation, 0.1))
        u, v = oriented_coords(gx + sx * reach, gy + sy * reach, ship.x, ship.y, ship.heading_deg)
        hull, a = _hull(u, v, ship)
        if part is not None:
            hull &= (a > part[0]) & (a < part[1])
        shadow |= hull
    return shadow.astype(np.float32)


def paint_ships(
    refl: F32,
    site: SiteMap,
    ships: tuple[Ship, ...],
    sun: tuple[float, float],
    *,
    shadow_on_land: bool = False,
    deck_snow: tuple[float, ...] | None = None,
    snow: F32 | None = None,
) -> tuple[F32, F32]:
    """Draw ships and their shadows into ``refl`` (in place).

    Args:
        refl: Surface reflectance ``(5, rows, cols)`` of the site's region.
        site: The site's map.
        ships: Ships to draw.
        sun: Sun ``(azimuth, elevation)`` in degrees, for the shadows on the water.
        shadow_on_land: The shadows also fall on quays and moored ships (``shadows = true``).
        deck_snow: Per ship, the share of its open deck under snow
            (:func:`pipeline.simulate.weathering.object_snow`); None: no snow on decks.
        snow: The scene's snow/ice cover, which snowy decks join (in place).

    Returns:
        Ship coverage per pixel, and the coverage of ships this scene's SCL calls cloud.
    """
    shape = refl.shape[1:]
    total = np.zeros(shape, np.float32)
    cloudy = np.zeros(shape, np.float32)
    for i, ship in enumerate(ships):
        reach = ship.length_m / 2 + 15 + BRIDGE_M / math.tan(math.radians(max(sun[1], 10)))
        window = pixel_window(
            site.region, ship.x - reach, ship.y - reach, ship.x + reach, ship.y + reach
        )
        gx, gy = fine_coords(site.region, window, SUB)
        u, v = oriented_coords(gx, gy, ship.x, ship.y, ship.heading_deg)
        snow_share = deck_snow[i] if deck_snow is not None else 0.0
        cover, colour, snowy = _ship_pixels(u, v, ship, i, snow_share)
        shade = block_mean(_ship_shadow(gx, gy, ship, sun) * (1 - cover), SUB)
        ground = 1.0 if shadow_on_land else site.water_fraction[window]
        refl[(slice(None), *window)] *= 1 - SHIP_SHADOW_LOSS * shade * ground
        composite(refl, window, cover, colour, SUB)
        area = block_mean(cover, SUB)
        total[window] = np.maximum(total[window], area)
        if ship.scl_as_cloud:
            cloudy[window] = np.maximum(cloudy[window], area)
        if snow is not None and snow_share > 0:
            np.maximum(snow[window], block_mean(snowy, SUB), out=snow[window])
    return total, cloudy


def _ship_pixels(
    u: F32, v: F32, ship: Ship, salt: int, snow_share: float = 0.0
) -> tuple[F32, F32, F32]:
    """Sub-pixel hull coverage, premultiplied colour and snow cover of one ship.

    With ``snow_share`` > 0 that share of the open deck (hatch covers, containers, pipes and
    plating, not the bridge or the bulwark) lies under snow, in patches.
    """
    half_l, half_w = ship.length_m / 2, ship.width_m / 2
    hull, a = _hull(u, v, ship)
    taper = np.sqrt(np.clip((1 - a) / 0.32, 0, 1)) * np.sqrt(np.clip((a + 1) / 0.05, 0, 1))
    half = half_w * np.minimum(taper, 1.0)
    rim = hull & (np.abs(v) > half - 1.3)
    bridge = hull & ~rim & (a > -0.88) & (a < -0.64)
    cargo = hull & ~rim & ~bridge & (a > -0.6) & (a < 0.66)
    rng = np.random.default_rng(salt + int(ship.x * 10) + int(ship.y))
    hull_colour = (sp.HULL_DARK, sp.HULL_RED, sp.HULL_BLUE)[int(rng.integers(3))]
    deck = (sp.DECK_RUST, sp.DECK_GREEN, sp.DECK_RED, sp.DECK_GREY)[int(rng.integers(4))]
    colour = np.zeros((5, *u.shape), np.float32)
    colour += sp.spec(deck) * (hull & ~rim & ~bridge & ~cargo) * ship.shade
    colour += sp.spec(hull_colour) * rim
    colour += sp.spec(sp.PAINT_WHITE) * bridge * min(ship.shade, 1.0)
    if ship.kind == "container":
        ci = np.floor(u / 6.3).astype(np.int64)
        cj = np.floor(v / 2.5).astype(np.int64)
        pick = np.minimum((cell_hash(ci, cj, salt) * 8).astype(np.int64), 7)
        filled = cargo & (cell_hash(ci, cj, salt + 99) < 0.85)
        for k, spectrum in enumerate(sp.CONTAINER_COLOURS):
            colour += sp.spec(spectrum) * (filled & (pick == k))
        colour += sp.spec(deck) * (cargo & ~filled) * ship.shade
    elif ship.kind in ("general-cargo", "bulk"):
        hatch = (sp.DECK_GREEN, sp.DECK_RUST, sp.HULL_BLUE, sp.DECK_RED)[int(rng.integers(4))]
        bay = ship.length_m * (0.15 if ship.kind == "bulk" else 0.11)
        covers = cargo & ((u + half_l) % bay > 2.5) & (np.abs(v) < half - 2.0)
        colour += sp.spec(hatch) * covers * ship.shade
        colour += sp.spec(deck) * (cargo & ~covers) * ship.shade
    elif ship.kind == "tanker":
        pipes = cargo & (np.abs(v) < 1.0)
        colour += sp.spec(sp.DECK_RED if rng.random() < 0.6 else sp.DECK_GREEN) * (cargo & ~pipes)
        colour += sp.spec(sp.DECK_GREY) * pipes * 1.4
    else:
        colour += sp.spec(sp.PAINT_WHITE) * cargo * min(ship.shade, 1.0)
    snowy = np.zeros(hull.shape, bool)
    if snow_share > 0:
        snowy = snow_patches(hull & ~rim & ~bridge, cells(u), cells(v), snow_share, salt + 31)
        lay_snow(colour, snowy)
    return hull.astype(np.float32), colour, snowy.astype(np.float32)
