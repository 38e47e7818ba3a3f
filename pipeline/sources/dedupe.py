"""De-duplicate scenes from overlapping MGRS tiles over one AOI (pure; shapely only).

Over Rason, tiles 52TEM, 52TFM and 52TFN overlap, so one overpass can yield two or three
items over the same AOI. Counting both would count every ship twice. The rule, per AOI and
per UTC acquisition date, keeps exactly one scene, ranked by:

0. **completeness** - a scene with every band asset beats one whose STAC item lacks some
   (such a scene is kept only to be stored failed, when nothing better covers that date);
1. **coverage** - the share of the AOI inside the item footprint (its GeoJSON geometry when
   the source passes it, else its bbox), rounded to 0.1 % so that float noise never outranks
   the next criterion; more is better;
2. **cloud cover** - ``eo:cloud_cover`` of the tile, lower is better (unknown ranks last);
3. **processing baseline** - newer is better (a reprocessed product beats the original);
4. **offset trust** - a scene whose offset rule is not suspect beats one that is;
5. **id** - lexicographic, so the choice is deterministic.

Scenes whose known footprint does not touch the AOI at all are dropped: they are not over it.
Coverage is computed in lon/lat degrees, which is exact enough for a ratio over AOIs of at
most a few tens of kilometres.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import groupby

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from pipeline.sources.offsets import SUSPECT_RULES, parse_baseline
from pipeline.types import REFLECTANCE_BANDS, Aoi, Scene

#: Coverage is compared after rounding to this many decimals (0.1 %).
COVERAGE_DECIMALS = 3


def footprint_of(
    scene: Scene, footprints: Mapping[str, BaseGeometry] | None = None
) -> BaseGeometry | None:
    """The scene's footprint: the given geometry, else its bbox as a box, else None."""
    if footprints and scene.id in footprints:
        return footprints[scene.id]
    if scene.bbox is not None:
        return box(*scene.bbox)
    return None


def coverage(
    scene: Scene, aoi: Aoi, footprints: Mapping[str, BaseGeometry] | None = None
) -> float | None:
    """Share (0-1) of the AOI inside the scene footprint; None when the footprint is unknown.

    For a zero-area AOI (a point or a line) the share is 1.0 when it touches the footprint.
    """
    footprint = footprint_of(scene, footprints)
    if footprint is None:
        return None
    if aoi.geometry.area == 0:
        return 1.0 if footprint.intersects(aoi.geometry) else 0.0
    return float(footprint.intersection(aoi.geometry).area / aoi.geometry.area)


def rank_key(
    scene: Scene, aoi: Aoi, footprints: Mapping[str, BaseGeometry] | None = None
) -> tuple[int, float, float, tuple[int, int], int, str]:
    """Sort key of one scene within its date group: the smallest key wins."""
    cov = coverage(scene, aoi, footprints)
    cloud = scene.cloud_cover if scene.cloud_cover is not None else float("inf")
    baseline = parse_baseline(scene.processing_baseline) or (0, 0)
    missing = sum(band not in scene.assets for band in (*REFLECTANCE_BANDS, "scl"))
    return (
        missing,
        -round(cov if cov is not None else 0.0, COVERAGE_DECIMALS),
        cloud,
        (-baseline[0], -baseline[1]),
        1 if scene.offset_rule in SUSPECT_RULES else 0,
        scene.id,
    )


def dedupe(
    scenes: Iterable[Scene],
    aoi: Aoi,
    *,
    footprints: Mapping[str, BaseGeometry] | None = None,
) -> list[Scene]:
    """One scene per UTC date over ``aoi``, sorted by datetime (see the module rule).

    Args:
        scenes: candidate scenes, any order, any dates.
        aoi: the AOI they were searched over.
        footprints: item geometries by scene id (WGS84); bboxes are used where missing.
    """
    over = [s for s in scenes if coverage(s, aoi, footprints) != 0.0]
    kept: list[Scene] = []
    for _, group in groupby(sorted(over, key=lambda s: s.date_key), key=lambda s: s.date_key):
        kept.append(min(group, key=lambda s: rank_key(s, aoi, footprints)))
    return sorted(kept, key=lambda s: (s.datetime, s.id))
