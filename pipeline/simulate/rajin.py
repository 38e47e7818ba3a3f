"""Rajin (Najin) port: bay, inner harbour with three piers, breakwaters, anchorage, town.

Layout (UTM 52N metres), loosely after the real port and the AOI file:

- the mainland lies to the north and west; the harbour's north shore is a straight
  concrete quay from x=606250 to 609750 near y=4678000;
- three piers project south-south-east into the basin (x 606800-608800, y 4676700-4678000):
  pier 1 handles coal, pier 2 general cargo (sheds), pier 3 containers;
- an eastern breakwater runs from the headland SSW for 2 km, a western one shelters the
  basin's south-west corner; the outer bay and anchorage lie to the south;
- the town and the station lie north-west of the harbour; vegetated hills behind.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from scipy import ndimage

from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import GEOGRAPHY_SEED, Berth, Canvas, SiteMap, register
from pipeline.simulate.grid import aoi_utm, region
from pipeline.simulate.noise import (
    F32,
    block_mean,
    cell_hash,
    fractal_field,
    oriented_coords,
    polygon_coverage,
    polygon_mask,
    smoothstep,
)

AOI: Final = "rajin-port"
QUAY_WEST: Final = (606250.0, 4678000.0)
QUAY_EAST: Final = (609750.0, 4678080.0)
PIER_HEADING: Final = 168.0
#: (base easting, length m, width m, use)
PIERS: Final = (
    (607000.0, 1100.0, 140.0, "coal"),
    (607750.0, 1200.0, 160.0, "general"),
    (608500.0, 1050.0, 180.0, "containers"),
)
MAINLAND: Final = (
    (603700.0, 4672200.0), (604650.0, 4672200.0), (604820.0, 4672900.0),
    (605050.0, 4673600.0), (605150.0, 4674400.0), (604980.0, 4675100.0),
    (605250.0, 4675700.0), (605500.0, 4676300.0), (605800.0, 4676900.0),
    (606000.0, 4677500.0), (606250.0, 4678006.0), (609750.0, 4678086.0),
    (610000.0, 4678200.0), (610250.0, 4678250.0), (610500.0, 4678050.0),
    (610900.0, 4677700.0), (611300.0, 4677500.0), (611900.0, 4677450.0),
    (611900.0, 4680400.0), (603700.0, 4680400.0),
)  # fmt: skip
TOWN: Final = (
    (604400.0, 4678350.0), (605700.0, 4678200.0), (606250.0, 4678480.0),
    (607500.0, 4678650.0), (608200.0, 4679300.0), (608000.0, 4680400.0),
    (604400.0, 4680400.0),
)  # fmt: skip
#: (root, tip, width m)
BREAKWATERS: Final = (
    ((610250.0, 4678250.0), (609450.0, 4676350.0), 35.0),
    ((605520.0, 4676330.0), (606600.0, 4676200.0), 28.0),
)
ROADS: Final = (
    [(606400.0, 4679400.0), (606600.0, 4678700.0), (607300.0, 4678430.0)],
    [(605900.0, 4678400.0), (605400.0, 4677300.0), (605000.0, 4676300.0),
     (604700.0, 4675000.0), (604450.0, 4673500.0), (604200.0, 4672300.0)],
    [(608300.0, 4678500.0), (609500.0, 4679000.0), (611000.0, 4679600.0), (611800.0, 4679700.0)],
    [(606000.0, 4679500.0), (605600.0, 4680300.0)],
)  # fmt: skip


def quay_y(x: float) -> float:
    """Northing of the harbour's north quay edge at easting ``x``."""
    (x0, y0), (x1, y1) = QUAY_WEST, QUAY_EAST
    return y0 + (x - x0) * (y1 - y0) / (x1 - x0)


def _unit(heading: float) -> tuple[float, float]:
    rad = math.radians(heading)
    return math.sin(rad), math.cos(rad)


def _land(canvas: Canvas, rng: np.random.Generator) -> tuple[F32, F32]:
    """Land fraction and signed distance to the coast (m, > 0 on land), both at 10 m."""
    reg = canvas.region
    factor = 2
    shape = (reg.height * factor, reg.width * factor)

    def to_rc(
        points: tuple[tuple[float, float], ...] | list[tuple[float, float]],
    ) -> tuple[list[float], list[float]]:
        return [(reg.north - y) / 10 for _, y in points], [(x - reg.west) / 10 for x, _ in points]

    rows, cols = to_rc(MAINLAND)
    fine = polygon_mask(shape, [r * factor for r in rows], [c * factor for c in cols])
    # Taecho-like island at the mouth of the bay, south-east of the AOI.
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    ex = (reg.west + (xx + 0.5) * 5 - 611500) / 430
    ey = (reg.north - (yy + 0.5) * 5 - 4674200) / 700
    fine |= ex * ex + ey * ey < 1
    step = 10.0 / factor
    dist = (ndimage.distance_transform_edt(fine) - ndimage.distance_transform_edt(~fine)) * step
    gx = reg.west + (xx + 0.5) * step
    gy = reg.north - (yy + 0.5) * step
    quays = smoothstep(np.abs(gy - 4678040) - 180, 0, 150)
    quays = np.maximum(quays, smoothstep(np.abs(gx - 608000) - 1900, 0, 150))
    wiggle = fractal_field(shape, rng, beta=2.6) * 45 * quays
    land_fine = (dist + wiggle > 0).astype(np.float32)
    land = block_mean(land_fine, factor)
    signed = block_mean((dist + wiggle).astype(np.float32), factor)
    return land, signed


def _town(canvas: Canvas, town: F32) -> None:
    """Streets, lines of apartment slabs, house quarters and trees, on a 5 m sub-grid.

    Blocks vary in size (two interleaved street spacings) and each block is its own mix, so
    the town reads as a town at 10 m rather than as a checkerboard.
    """
    window = canvas.patch(604300, 4678100, 608300, 4680300)
    factor = 2
    gx, gy = canvas.fine_coords(window, factor)
    u, v = oriented_coords(gx, gy, 604300.0, 4678100.0, 78.0)
    warp = 6 * np.sin(v / 97) + 5 * np.sin(u / 131)
    u = u + warp
    bu = np.where(np.floor(v / 260) % 2 == 0, 170.0, 125.0)
    bv = 105.0
    bi, bj = np.floor(u / bu).astype(np.int64), np.floor(v / bv).astype(np.int64)
    fu, fv = u - bi * bu, v - bj * bv
    main = (np.abs(((v + 30) % 520) - 260) < 9) | (np.abs(((u + 40) % 600) - 300) < 8)
    street = ((fu < 7) | (fv < 6)) & (cell_hash(bi, bj, 5) < 0.75) | main
    kind = cell_hash(bi, bj, 1)
    segment = cell_hash(bi * 7 + np.floor(fu / 36).astype(np.int64), bj, 4) < 0.75
    rows_ = ((fv > 20) & (fv < 32)) | ((fv > 58) & (fv < 70)) | ((fv > 86) & (fv < 97))
    slabs = (kind < 0.5) & rows_ & (fu > 16) & (fu < bu - 12) & segment
    quarter = (kind >= 0.5) & (kind < 0.9) & ~street
    factory = (kind >= 0.9) & (fu > 20) & (fu < bu - 20) & (fv > 20) & (fv < 85)
    tmask = np.repeat(np.repeat(town[window], factor, 0), factor, 1)
    cell = cell_hash(np.floor(u / 8).astype(np.int64), np.floor(v / 8).astype(np.int64), 3)
    houses = quarter & (cell < 0.4)
    trees = ~street & ~slabs & ~factory & ~houses & (cell > 0.55)
    canvas.paint_class("grass", town[window] * 0.8, window)
    canvas.paint_class("forest", block_mean(trees * tmask, factor) * 0.85, window)
    canvas.paint_fixed(
        sp.SOIL, block_mean((quarter & ~houses & ~trees) * tmask, factor) * 0.5, window
    )
    canvas.paint_fixed(sp.ASPHALT, block_mean(street * tmask, factor) * 0.85, window)
    roof = cell_hash(bi * 5 + np.floor(fu / 36).astype(np.int64), bj * 3 + (fv > 45), 2)
    house_roof = cell_hash(np.floor(u / 8).astype(np.int64), np.floor(v / 8).astype(np.int64), 9)
    palette = (
        (sp.ROOF_DARK, 0.0, 0.3),
        (sp.ROOF_GREY, 0.3, 0.7),
        (sp.ROOF_BLUE, 0.7, 0.82),
        (sp.ROOF_GREEN, 0.82, 0.9),
        (sp.ROOF_RED, 0.9, 0.97),
        (sp.ROOF_WHITE, 0.97, 1.01),
    )
    parts = [
        (
            colour,
            block_mean(
                (
                    ((slabs | factory) & (roof >= lo) & (roof < hi))
                    | (houses & (house_roof >= lo) & (house_roof < min(hi, 0.97)))
                )
                * tmask,
                factor,
            ),
        )
        for colour, lo, hi in palette
    ]
    canvas.paint_mixture(parts, window)
    for building, height in ((slabs, 18.0), (houses, 5.0), (factory, 10.0)):
        cover = block_mean(building * tmask, factor)
        canvas.heights[window] = np.maximum(canvas.heights[window], height * (cover > 0.5))
    canvas.bright[window] |= block_mean((factory & (roof >= 0.97)) * tmask, factor) > 0.6


def _pier(
    canvas: Canvas, base_x: float, length: float, width: float, use: str, rng: np.random.Generator
) -> list[Berth]:
    bx, by = base_x, quay_y(base_x)
    dx, dy = _unit(PIER_HEADING)
    ex, ey = _unit(PIER_HEADING - 90)  # towards the east face
    cx, cy = bx + dx * (length - 60) / 2, by + dy * (length - 60) / 2
    canvas.rect(sp.CONCRETE, cx, cy, length + 60, width, PIER_HEADING)

    def at(s: float, t: float) -> tuple[float, float]:
        return bx + dx * s + ex * t, by + dy * s + ey * t

    # A rail spur down the pier axis and portal cranes along both faces.
    canvas.line(sp.BALLAST, [at(-60, 0), at(length - 60, 0)], 4.5)
    for side in (-1, 1):
        for s in np.arange(120, length - 40, 95):
            x, y = at(float(s), side * (width / 2 - 9))
            canvas.rect((0.30, 0.33, 0.30, 0.36, 0.33), x, y, 14, 9, PIER_HEADING, height=32)
    if use == "coal":
        x, y = at(length / 2, -width / 4)
        cover, window = canvas.rect_cover(x, y, length - 120, width / 2 - 10, PIER_HEADING)
        canvas.paint_fixed(sp.COAL, cover * 0.45, window)
        for s in (220.0, 480.0, 760.0):
            x, y = at(s, -width / 4)
            canvas.rect(sp.COAL, x, y, 210, 42, PIER_HEADING + float(rng.normal(0, 1.5)), height=9)
        canvas.line((0.18, 0.19, 0.2, 0.22, 0.24), [at(100, 8), at(length - 80, 8)], 3.0)
    elif use == "general":
        for s, length_shed in ((220.0, 260.0), (560.0, 240.0), (880.0, 200.0)):
            x, y = at(s, 18)
            colour = sp.ROOF_BLUE if s < 500 else sp.ROOF_GREY
            canvas.rect(colour, x, y, length_shed, 42, PIER_HEADING, height=14)
        for s in np.arange(150, length - 100, 60):
            x, y = at(float(s), -width / 4)
            canvas.rect(
                sp.DECK_RUST if rng.random() < 0.5 else sp.DECK_GREY, x, y, 30, 18, PIER_HEADING
            )
    else:
        _containers(canvas, at(length / 2 + 10, 0), length - 180, width - 50)
    berths = []
    for side, name in ((1, "east"), (-1, "west")):
        x0, y0 = at(60, side * width / 2)
        x1, y1 = at(length - 15, side * width / 2)
        berths.append(
            Berth(
                f"pier-{PIERS.index((base_x, length, width, use)) + 1}-{name}",
                x0,
                y0,
                x1,
                y1,
                side * ex,
                side * ey,
            )
        )
    return berths


def _containers(canvas: Canvas, centre: tuple[float, float], length: float, width: float) -> None:
    """Container stacks: rows of 40 ft boxes in blocks with aisles, colours per box."""
    factor = 8
    cover, window = canvas.rect_cover(centre[0], centre[1], length, width, PIER_HEADING, factor=1)
    gx, gy = canvas.fine_coords(window, factor)
    u, v = oriented_coords(gx, gy, centre[0], centre[1], PIER_HEADING)
    inside = (np.abs(u) < length / 2) & (np.abs(v) < width / 2)
    bays = ((u + length / 2) % 72 < 62) & ((v + width / 2) % 17 < 12.5)
    ci = np.floor((u + length / 2) / 12.4).astype(np.int64)
    cj = np.floor((v + width / 2) / 2.5).astype(np.int64)
    filled = inside & bays & (cell_hash(ci, cj, 7) < 0.85)
    colour = np.minimum((cell_hash(ci, cj, 8) ** 1.3 * len(sp.CONTAINER_COLOURS)).astype(int), 7)
    del cover
    parts = [
        (spectrum, block_mean((filled & (colour == k)).astype(np.float32), factor))
        for k, spectrum in enumerate(sp.CONTAINER_COLOURS)
    ]
    total = canvas.paint_mixture(parts, window)
    canvas.bright[window] |= total > 0.55
    canvas.heights[window] = np.maximum(canvas.heights[window], 8.0 * (total > 0.5))


def _apron(canvas: Canvas, rng: np.random.Generator) -> None:
    """The port's land side: concrete, sheds, open storage, dirt and stockpiles."""
    mid = (QUAY_WEST[0] + QUAY_EAST[0]) / 2
    canvas.rect(sp.CONCRETE, mid, quay_y(mid) + 190, 3500, 380, 88.7)
    window = canvas.patch(
        QUAY_WEST[0], quay_y(QUAY_WEST[0]), QUAY_EAST[0], quay_y(QUAY_EAST[0]) + 380
    )
    rows = window[0].stop - window[0].start, window[1].stop - window[1].start
    grime = np.clip(fractal_field(rows, rng, beta=2.2) * 0.35, 0, 0.6)
    apron = canvas.fixed_fraction[window] > 0.99
    canvas.paint_fixed(sp.SOIL_WET, grime * apron, window)
    x = QUAY_WEST[0] + 120.0
    while x < QUAY_EAST[0] - 150:
        length, width = float(rng.uniform(110, 230)), float(rng.uniform(28, 50))
        colour = (sp.ROOF_GREY, sp.ROOF_BLUE, sp.ROOF_GREY, sp.ROOF_WHITE, sp.ROOF_RED)[
            int(rng.integers(5))
        ]
        canvas.rect(
            colour,
            x + length / 2,
            quay_y(x) + float(rng.uniform(110, 150)),
            length,
            width,
            88.7,
            height=14,
            bright=colour == sp.ROOF_WHITE,
        )
        if rng.random() < 0.7:
            stock = (sp.ROCK, sp.DECK_RUST, sp.COAL, sp.SOIL)[int(rng.integers(4))]
            canvas.rect(
                stock,
                x + length / 2,
                quay_y(x) + float(rng.uniform(230, 320)),
                length * 0.8,
                float(rng.uniform(30, 60)),
                88.7 + float(rng.normal(0, 2)),
            )
        x += length + float(rng.uniform(40, 120))


@register(AOI)
def build() -> SiteMap:
    """The static map of Rajin port."""
    rng = np.random.default_rng(GEOGRAPHY_SEED + 1)
    reg = region(AOI)
    canvas = Canvas(reg)
    shape = canvas.shape
    land, dist = _land(canvas, rng)
    gx, gy = canvas.gx, canvas.gy
    rows, cols = [(reg.north - y) / 10 for _, y in TOWN], [(x - reg.west) / 10 for x, _ in TOWN]
    outline = ndimage.gaussian_filter(polygon_coverage(shape, rows, cols), 18)
    edge = outline + 0.22 * fractal_field(shape, rng, beta=2.6)
    town = (smoothstep(edge, 0.42, 0.58) * land).astype(np.float32)
    hills = fractal_field(shape, rng, beta=3.2)
    ridges = fractal_field(shape, rng, beta=3.0)
    flat = np.clip(town + smoothstep(4678500 - gy, 0, 200) * smoothstep(gx, 606000, 606300), 0, 1)
    elevation = 300 * (1 - np.exp(-np.maximum(dist, 0) / 1300)) * (
        0.55 + 0.25 * hills
    ) + 35 * ridges * smoothstep(dist, 0, 300)
    elevation = np.maximum(elevation, 0) * (1 - 0.9 * flat)
    forest_s = smoothstep(fractal_field(shape, rng, beta=2.8) + (elevation - 90) / 160, -0.3, 0.6)
    field_s = (1 - forest_s) * smoothstep(55 - elevation, 0, 25) * (1 - town)
    plume = 250 * fractal_field(shape, rng, beta=3.0)
    harbour = (
        smoothstep(gy + plume, 4675900, 4676900)
        * smoothstep(gx, 605300, 605700)
        * (1 - smoothstep(gx + plume, 609500, 610300))
    ) * 0.75
    near_shore = np.exp(-np.maximum(-dist, 0) / np.maximum(250 + plume * 0.4, 80)) * 0.45
    water = 1 - land
    share = np.clip(harbour + near_shore, 0, 1)
    canvas.layers["sea"][:] = water * (1 - share)
    canvas.layers["harbour"][:] = water * share
    canvas.layers["forest"][:] = land * forest_s
    parcels = cell_hash(
        np.floor((gx - gy * 0.3) / 160).astype(np.int64),
        np.floor((gy + gx * 0.3) / 110).astype(np.int64),
        11,
    )
    canvas.layers["crop_early"][:] = land * field_s * (parcels < 0.5)
    canvas.layers["crop_late"][:] = land * field_s * (parcels >= 0.5)
    canvas.layers["grass"][:] = land * (1 - forest_s - field_s)
    beach = (
        land
        * np.exp(-np.maximum(dist, 0) / 14)
        * (1 - smoothstep(gy, 4677600, 4677900) * smoothstep(gx, 605900, 606200))
    )
    canvas.paint_fixed(sp.SAND, (beach * 0.7 * (ridges > -0.2)).astype(np.float32))
    canvas.paint_fixed(sp.ROCK, (beach * 0.8 * (ridges <= -0.2)).astype(np.float32))
    quarry = land * smoothstep(fractal_field(shape, rng, beta=3.0), 1.8, 2.2) * (1 - town)
    canvas.paint_fixed(sp.SOIL, quarry)
    _town(canvas, town)
    for road in ROADS:
        canvas.line(sp.ASPHALT, road, 10.0)
    _apron(canvas, rng)
    for offset in (55.0, 62.0, 69.0):
        canvas.line(
            sp.BALLAST,
            [(606300.0, quay_y(606300) + offset), (609700.0, quay_y(609700) + offset)],
            4.5,
        )
    for k in range(5):
        canvas.rect(sp.BALLAST, 605750.0, 4678520.0 - 5.3 * k, 700, 4.5, 98.0)
    canvas.line(
        sp.BALLAST, [(605400.0, 4678560.0), (604600.0, 4679600.0), (604300.0, 4680300.0)], 5.0
    )
    berths: list[Berth] = []
    for base_x, length, width, use in PIERS:
        berths += _pier(canvas, base_x, length, width, use, rng)
    edges = (
        [QUAY_WEST[0] + 100]
        + [v for b, _, w, _ in PIERS for v in (b - w / 2 - 50, b + w / 2 + 50)]
        + [QUAY_EAST[0] - 100]
    )
    for k in range(0, len(edges), 2):
        x0, x1 = edges[k], edges[k + 1]
        berths.append(Berth(f"quay-{k // 2 + 1}", x0, quay_y(x0), x1, quay_y(x1), 0.0, -1.0))
    for (x0, y0), (x1, y1), width in BREAKWATERS:
        heading = math.degrees(math.atan2(x1 - x0, y1 - y0))
        cx, cy, length = (x0 + x1) / 2, (y0 + y1) / 2, math.hypot(x1 - x0, y1 - y0)
        canvas.rect(sp.ROCK, cx, cy, length + 40, width + 16, heading)
        canvas.rect(sp.CONCRETE, cx, cy, length, width * 0.45, heading)
        canvas.rect(sp.PAINT_WHITE, x1, y1, 12, 12, heading, height=20)
    texture = (
        1 + 0.035 * fractal_field(shape, rng, beta=1.8) + 0.06 * fractal_field(shape, rng, beta=2.6)
    )
    snow = 1 - 0.6 * canvas.layers["forest"] - 0.6 * canvas.fixed_fraction
    anchorage = aoi_utm(AOI, "anchorage").buffer(-150)
    return canvas.build(
        texture=texture.astype(np.float32),
        elevation=elevation.astype(np.float32),
        snow_affinity=snow.astype(np.float32),
        berths=tuple(berths),
        anchorage=anchorage,
        notes={"piers": "pier 1 coal, pier 2 general cargo (sheds), pier 3 containers"},
    )
