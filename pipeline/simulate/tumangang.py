"""Tumangang-Khasan railhead: the Tumen river, the Friendship bridge and two yards.

Layout (UTM 52N metres), loosely after the real sites and the AOI file:

- the Tumen runs NNW-SSE through x~634000-635600 between Tumangang (DPRK, west) and
  Khasan (Russia, east), 250-300 m wide, with sandbars and a reed floodplain;
- the Friendship rail bridge crosses it at (635023, 4697178), heading ENE;
- the Tumangang yard (zone ``tumangang-yard``) holds two groups of parallel tracks running
  east-west; the Khasan yard (zone ``khasan-yard``) runs north-north-east;
- villages at both stations, paddies and fields on the DPRK floodplain, hills behind.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from scipy import ndimage
from shapely.geometry import LineString

from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import GEOGRAPHY_SEED, Canvas, SiteMap, Track, register
from pipeline.simulate.grid import aoi_utm, region
from pipeline.simulate.noise import (
    block_mean,
    cell_hash,
    fractal_field,
    oriented_coords,
    segment_distance,
    smoothstep,
)

AOI: Final = "tumangang-rail"
RIVER: Final = (
    (633650.0, 4700300.0), (634100.0, 4699400.0), (634330.0, 4698700.0),
    (634640.0, 4698000.0), (634900.0, 4697520.0), (635030.0, 4697180.0),
    (635250.0, 4696700.0), (635700.0, 4696000.0), (636250.0, 4695100.0),
)  # fmt: skip
BRIDGE: Final = ((634733.0, 4697100.0), (635313.0, 4697256.0))
STEEL: Final = (0.085, 0.095, 0.100, 0.120, 0.130)
TRACK_SPACING: Final = 5.3
#: (zone, centre x, centre y, heading, number of tracks, longest track m, taper m/track)
YARDS: Final = (
    ("tumangang-yard", 632380.0, 4697770.0, 89.0, 10, 1750.0, 70.0),
    ("tumangang-yard", 632330.0, 4697965.0, 89.0, 6, 1250.0, 90.0),
    ("khasan-yard", 635330.0, 4698850.0, 7.0, 12, 940.0, 35.0),
)
LINES: Final = (
    [(630000.0, 4697800.0), (631400.0, 4697770.0)],
    [(633300.0, 4697785.0), (633850.0, 4697690.0), (634350.0, 4697330.0), BRIDGE[0]],
    [BRIDGE[1], (635560.0, 4697420.0), (635470.0, 4697900.0), (635300.0, 4698350.0)],
    [(635400.0, 4699350.0), (635470.0, 4699700.0), (635560.0, 4700100.0)],
)
ROADS: Final = (
    [(630000.0, 4697560.0), (631300.0, 4697640.0), (632200.0, 4697660.0), (633200.0, 4697560.0)],
    [(631900.0, 4697660.0), (631850.0, 4698700.0), (631600.0, 4700100.0)],
    [(636200.0, 4695300.0), (635900.0, 4696600.0), (635800.0, 4697600.0), (635950.0, 4698400.0),
     (636150.0, 4699400.0), (636300.0, 4700100.0)],
)  # fmt: skip
#: Graded ground around the yards: (west, south, east, north)
YARD_BOXES: Final = (
    (631350.0, 4697600.0, 633450.0, 4698050.0),
    (635050.0, 4698300.0, 635650.0, 4699400.0),
)
#: Villages: (west, south, east, north)
VILLAGES: Final = (
    (631150.0, 4698180.0, 632650.0, 4698750.0),
    (635850.0, 4698350.0, 636700.0, 4699350.0),
)


def _unit(heading: float) -> tuple[float, float]:
    rad = math.radians(heading)
    return math.sin(rad), math.cos(rad)


def _yards(canvas: Canvas) -> tuple[Track, ...]:
    tracks: list[Track] = []
    for group, (zone, cx, cy, heading, count, longest, taper) in enumerate(YARDS):
        dx, dy = _unit(heading)
        ex, ey = _unit(heading + 90)
        width = (count + 1) * TRACK_SPACING + 16
        canvas.rect(sp.YARD_GROUND, cx, cy, longest + 60, width, heading, loose=True)
        outline = aoi_utm(AOI, zone).buffer(-5)
        for k in range(count):
            offset = (k - (count - 1) / 2) * TRACK_SPACING
            length = longest - abs(k - (count - 1) / 2) * taper
            x, y = cx + ex * offset, cy + ey * offset
            x0, y0 = x - dx * length / 2, y - dy * length / 2
            x1, y1 = x + dx * length / 2, y + dy * length / 2
            canvas.line(sp.BALLAST, [(x0, y0), (x1, y1)], 3.4, loose=True)
            inside = LineString([(x0, y0), (x1, y1)]).intersection(outline)
            if inside.is_empty or inside.geom_type != "LineString":
                continue
            (ax, ay), (bx, by) = inside.coords[0], inside.coords[-1]
            tracks.append(Track(zone, f"{zone}-g{group + 1}-t{k + 1}", ax, ay, bx, by))
    return tuple(tracks)


def _village(canvas: Canvas, box: tuple[float, float, float, float], salt: int) -> None:
    """Houses among gardens (a roof mixture per 10 m cell) along a few lanes."""
    west, south, east, north = box
    window = canvas.patch(west - 200, south - 200, east + 200, north + 200)
    factor = 2
    gx, gy = canvas.fine_coords(window, factor)
    u, v = oriented_coords(gx, gy, west, south, 80.0 + salt)
    footprint = ((gx > west) & (gx < east) & (gy > south) & (gy < north)).astype(np.float32)
    ragged = fractal_field(gx.shape, np.random.default_rng(salt), beta=2.6)
    inside = ndimage.gaussian_filter(footprint, 14, mode="constant") + 0.22 * ragged > 0.5
    lane = ((u % 110) < 7) | ((v % 90) < 6)
    cell = cell_hash(np.floor(u / 10).astype(np.int64), np.floor(v / 10).astype(np.int64), salt + 1)
    house = inside & ~lane & (cell < 0.3)
    garden = inside & ~lane & ~house
    canvas.paint_class("crop_early", block_mean(garden.astype(np.float32), factor) * 0.85, window)
    canvas.paint_fixed(sp.SOIL, block_mean((inside & lane).astype(np.float32), factor), window)
    tone = cell_hash(np.floor(u / 10).astype(np.int64), np.floor(v / 10).astype(np.int64), salt + 2)
    parts = [
        (colour, block_mean((house & (tone >= lo) & (tone < hi)).astype(np.float32), factor))
        for colour, lo, hi in (
            (sp.ROOF_DARK, 0.0, 0.35),
            (sp.ROOF_GREY, 0.35, 0.8),
            (sp.ROOF_RED, 0.8, 0.88),
            (sp.ROOF_BLUE, 0.88, 0.95),
            (sp.ROOF_GREEN, 0.95, 1.01),
        )
    ]
    total = canvas.paint_mixture(parts, window)
    canvas.heights[window] = np.maximum(canvas.heights[window], 5.0 * (total > 0.5))


@register(AOI)
def build() -> SiteMap:
    """The static map of the Tumangang-Khasan railhead."""
    rng = np.random.default_rng(GEOGRAPHY_SEED + 2)
    reg = region(AOI)
    canvas = Canvas(reg, base="grass")
    shape = canvas.shape
    gx, gy = canvas.gx, canvas.gy
    meander = fractal_field(shape, rng, beta=3.4)
    dist = segment_distance(gx, gy, list(RIVER)) + 60 * meander
    east_bank = (gx - 634700) + (gy - 4697800) * 0.45 > 0
    half_width = 135 + 25 * fractal_field(shape, rng, beta=3.0)
    river = np.clip((half_width - dist) / 10 + 0.5, 0, 1).astype(np.float32)
    hills = fractal_field(shape, rng, beta=3.2)
    elevation = (
        8
        + 170 * smoothstep(dist, 900, 2600) * (0.6 + 0.4 * hills)
        + 12 * smoothstep(dist, 300, 900)
    )
    elevation = np.maximum(elevation + 25 * hills * smoothstep(dist, 600, 1500), 2)
    # Stations, yards and villages sit on graded, flat ground that blends into the hills.
    boxes = np.zeros(shape, np.float32)
    for west, south, east, north in (*VILLAGES, *YARD_BOXES):
        boxes[(gx > west) & (gx < east) & (gy > south) & (gy < north)] = 1.0
    flat = np.clip(ndimage.gaussian_filter(boxes, 30) * 2.2, 0, 1)
    elevation = elevation * (1 - flat) + 12 * flat
    flood = 1 - smoothstep(dist, 700, 1300)
    forest_s = smoothstep(
        fractal_field(shape, rng, beta=2.8) + (elevation - 60) / 120 + 0.4 * east_bank, -0.2, 0.7
    )
    forest_s *= 1 - flood
    parcels_u = np.floor((gx * 0.96 + gy * 0.28) / 140).astype(np.int64)
    parcels_v = np.floor((gy * 0.96 - gx * 0.28) / 90).astype(np.int64)
    pick = cell_hash(parcels_u, parcels_v, 5)
    fields = flood * (~east_bank)
    reed = flood * east_bank
    land = 1 - river
    canvas.layers["grass"][:] = land * (1 - forest_s) * (1 - flood)
    canvas.layers["forest"][:] = land * forest_s
    canvas.layers["reed"][:] = land * reed
    for k, name in enumerate(("paddy_early", "paddy_late", "crop_early", "crop_late")):
        canvas.layers[name][:] = land * fields * ((pick >= k / 4) & (pick < (k + 1) / 4))
    canvas.layers["river"][:] = river
    ponds = smoothstep(fractal_field(shape, rng, beta=3.0), 1.5, 1.8) * reed
    canvas.paint_class("lake", ponds.astype(np.float32))
    bend = 60 * np.sin((gx - 633500) / 160) + 25 * meander
    oxbow = ((gx - 633500) / 430) ** 2 + ((gy - 4696050 - (gx - 633500) * 0.5 - bend) / 95) ** 2
    canvas.paint_class("lake", np.clip((1 - oxbow) * 6, 0, 1).astype(np.float32) * land)
    bars = (
        river
        * smoothstep(fractal_field(shape, rng, beta=3.0), 1.1, 1.5)
        * smoothstep(dist, half_width - 90, half_width - 40)
    )
    canvas.paint_fixed(sp.SAND, bars.astype(np.float32))
    dykes = np.abs(dist - half_width - 60) < 6
    canvas.paint_fixed(sp.SOIL, (dykes * land * 0.6).astype(np.float32))
    for box, salt in zip(VILLAGES, (21, 31), strict=True):
        _village(canvas, box, salt)
    for road in ROADS:
        canvas.line(sp.ASPHALT, road, 7.0)
    tracks = _yards(canvas)
    for line in LINES:
        canvas.line(sp.BALLAST, line, 5.0, loose=True)
    canvas.rect(sp.ROOF_GREY, 632350.0, 4697712.0, 90.0, 22.0, 89.0, height=9)
    canvas.rect(sp.CONCRETE, 632350.0, 4697735.0, 300.0, 8.0, 89.0)
    canvas.rect(sp.ROOF_GREEN, 635400.0, 4698837.0, 70.0, 20.0, 7.0, height=10)
    canvas.rect(sp.CONCRETE, 635375.0, 4698837.0, 300.0, 8.0, 7.0)
    # The bridge: piers in the river and a steel truss deck, 14 m above the water.
    canvas.line(STEEL, list(BRIDGE), 9.0, height=14.0)
    texture = (
        1 + 0.035 * fractal_field(shape, rng, beta=1.8) + 0.05 * fractal_field(shape, rng, beta=2.6)
    )
    texture *= 1 + 0.22 * (pick - 0.5) * fields
    snow = 1 - 0.6 * canvas.layers["forest"] - 0.6 * canvas.fixed_fraction
    return canvas.build(
        texture=texture.astype(np.float32),
        elevation=elevation.astype(np.float32),
        snow_affinity=snow.astype(np.float32),
        tracks=tracks,
        notes={"yards": "Tumangang (DPRK) east-west, Khasan (RU) north-north-east"},
    )
