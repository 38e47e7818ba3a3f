"""Railcar-equivalents per yard zone: the Tumangang yard (DPRK side) and the Khasan yard
(Russian side) are different series, and the seed's rail claim is about one of them.

The same method as the AOI total (:func:`pipeline.detect.analyse.analyse_chip`): the yard's
track bed from the reference, measurable pixels, the unmixing of
:func:`pipeline.detect.rail.estimate_railcars`; only the yard mask is the zone's. The chip must
already be registered to the reference (:func:`pipeline.detect.analyse.register_to`).

Pure numpy; imports neither rasterio nor prefect.
"""

from __future__ import annotations

from pipeline.detect.analyse import strict_clear_pixels, track_mask
from pipeline.detect.rail import RailEstimate, estimate_railcars, zone_mask
from pipeline.detect.reference import Reference
from pipeline.types import Aoi, Chip


def railcars_by_zone(chip: Chip, aoi: Aoi, reference: Reference) -> dict[str, RailEstimate]:
    """The railcar estimate of each ``yard`` zone of ``aoi`` in one registered chip."""
    measurable = strict_clear_pixels(chip)
    size = abs(float(chip.transform.a))
    out = {}
    for zone in aoi.zones:
        if zone.kind != "yard":
            continue
        mask = zone_mask(
            [zone.geometry], transform=chip.transform, epsg=chip.epsg, shape=chip.shape
        )
        tracks = track_mask(reference, mask & chip.valid)
        out[zone.name] = estimate_railcars(
            chip.reflectance, reference.median, yard=tracks, clear=measurable, pixel_size_m=size
        )
    return out
