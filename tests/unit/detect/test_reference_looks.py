"""Which looks a reference is composited from: not the snowy ones (issue 14, winter)."""

from __future__ import annotations

import numpy as np
from affine import Affine

from pipeline.detect.masks import snow_share
from pipeline.detect.reference_looks import (
    SNOWY_LOOK_SHARE,
    reference_candidates,
    reference_from_chips,
)
from pipeline.types import Chip

SHAPE = (80, 80)
#: Water, green-ish land, and land under snow (bright in the green, dark at 1.6 um).
WATER = (0.05, 0.045, 0.02, 0.012, 0.008)
LAND = (0.06, 0.08, 0.07, 0.25, 0.2)
SNOW = (0.8, 0.8, 0.78, 0.7, 0.1)


def _look(day: int, *, snowy: bool, scl_says: bool = True) -> Chip:
    refl = np.empty((5, *SHAPE), np.float32)
    land = np.zeros(SHAPE, bool)
    land[:, :40] = True
    texture = np.random.default_rng(0).uniform(
        0.8, 1.2, SHAPE
    )  # fields, roofs: something to register on
    for band in range(5):
        refl[band] = np.where(land, (SNOW if snowy else LAND)[band] * texture, WATER[band])
    scl = np.where(land, 11 if snowy and scl_says else 5, 6).astype(np.uint8)
    return Chip(
        scene_id=f"S2A_T52TFM_202301{day:02d}T021601_L2A",
        aoi_id="rajin-port",
        reflectance=refl,
        scl=scl,
        valid=np.ones(SHAPE, bool),
        transform=Affine(10.0, 0.0, 600000.0, 0.0, -10.0, 4680000.0),
        epsg=32652,
    )


def test_snow_share_counts_what_scl_says_and_what_it_misses() -> None:
    clear = np.ones(SHAPE, bool)
    for scl_says in (True, False):  # SCL's class 11, or the NDSI when SCL calls it land
        look = _look(1, snowy=True, scl_says=scl_says)
        share = snow_share(look.scl, look.band("green"), look.band("swir16"), clear)
        assert share == 0.5
    bare = _look(1, snowy=False)
    assert snow_share(bare.scl, bare.band("green"), bare.band("swir16"), clear) == 0.0
    assert SNOWY_LOOK_SHARE < 0.5


def test_a_reference_leaves_out_snowy_looks_while_enough_remain() -> None:
    looks = [_look(d, snowy=d % 3 == 0) for d in range(1, 13)]  # 4 snowy of 12
    port = reference_from_chips(looks, leave_out_snow=True)
    assert port is not None
    assert len(port.scene_ids) == 8
    assert all(not s.endswith(("03T021601_L2A", "06T021601_L2A")) for s in port.scene_ids)
    assert float(np.nanmedian(port.median[1][:, :40])) < 0.1  # the land is land, not snow
    kept = reference_from_chips(looks)  # asked to keep them, it does
    assert kept is not None
    assert len(kept.scene_ids) == 12


def test_too_few_bare_looks_keeps_them_all() -> None:
    looks = [_look(d, snowy=d > 3) for d in range(1, 10)]  # 3 bare, fewer than 5
    reference = reference_from_chips(looks, leave_out_snow=True)
    assert reference is not None
    assert len(reference.scene_ids) == 9


def test_candidates_leave_out_snowy_looks_before_picking() -> None:
    fractions = [(f"s{i:02d}", 1.0) for i in range(60)]
    snowy = {f"s{i:02d}" for i in range(60) if i % 3 == 0}  # 20 snowy, 40 bare
    picked = reference_candidates(fractions, snowy)
    assert len(picked) == 40  # still a full reference, of bare looks only
    assert not set(picked) & snowy
    few_bare = {f"s{i:02d}" for i in range(56)}  # 4 bare: too few, keep them all
    assert len(set(reference_candidates(fractions, few_bare)) & few_bare) > 0
