"""Pure rules for the processing-baseline 04.00 reflectance offset, and a dark-water check.

Reflectance is ``DN * scale + offset``. From processing baseline 04.00 (2022-01-25) ESA adds
1000 to every L2A DN, so ``offset = -0.1`` with ``scale = 1e-4``. Which offset an item needs
depends on the provider; :func:`decide_offset` writes down the rule it used (it ends up in
:attr:`pipeline.types.Scene.offset_rule`):

``raster-metadata``
    The item's raster metadata (STAC 1.0 ``raster:bands`` or STAC 1.1 ``raster:scale`` /
    ``raster:offset``) states an offset, and the pixels are untouched: it is used as it is.
    Earth Search ``sentinel-2-c1-l2a``, CDSE, our simulator from 04.00. Trusted.
``baseline>=04.00`` / ``baseline<04.00``
    No offset in the metadata (Planetary Computer, Earth Search v0, CDSE without it, a
    scale alone): ``offset = -0.1`` iff ``s2:processing_baseline >= 04.00``; the scale is
    the metadata's or ``1e-4``. Trusted. (A missing offset is read as "not stated", not as
    zero: a catalog that forgot it after 2022-01-25 still gets -0.1.)
``earthsearch-flag:applied`` / ``earthsearch-flag:not-applied``
    Earth Search ``sentinel-2-l2a`` at baseline >= 04.00. Element84 subtracted the 1000
    from the pixels of some items and says so in ``earthsearch:boa_offset_applied``
    (``sentinel:boa_offset_applied`` in v0); its ``raster:bands`` offset is ``-0.1`` either
    way and is ignored. Flag true -> offset 0; flag false or missing -> offset -0.1. Both the
    flag and the metadata are known to be wrong on some 2022 and 2025 items
    (Element84/earth-search#66, #71; cirrus-geo/cirrus-earth-search#33), so these two
    rules are *suspect*: the reader runs :func:`check_dark_water` and corrects them.

Nothing here does I/O; only numpy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

#: The DN offset of baseline 04.00 expressed in reflectance (-1000 DN x 1e-4).
BASELINE_04_OFFSET: Final = -0.1
#: L2A quantification: reflectance per DN.
L2A_SCALE: Final = 1e-4
#: First baseline that adds 1000 to the DNs.
OFFSET_BASELINE: Final = (4, 0)

RULE_RASTER: Final = "raster-metadata"
RULE_BASELINE_NEW: Final = "baseline>=04.00"
RULE_BASELINE_OLD: Final = "baseline<04.00"
RULE_FLAG_APPLIED: Final = "earthsearch-flag:applied"
RULE_FLAG_NOT_APPLIED: Final = "earthsearch-flag:not-applied"
#: Rules whose metadata is known to be wrong sometimes: the reader may correct them.
SUSPECT_RULES: Final = frozenset({RULE_FLAG_APPLIED, RULE_FLAG_NOT_APPLIED})

# --- dark-water check thresholds (reflectance units) ----------------------------------------
#: SCL class "water".
SCL_WATER: Final = 6
#: SCL classes never used as dark references: nodata, saturated, clouds, cirrus, snow.
SCL_NOT_REFERENCE: Final = frozenset({0, 1, 8, 9, 10, 11})
#: Percentile of the NIR and SWIR16 reflectance of the reference pixels that is tested.
DARK_PERCENTILE: Final = 2.0
#: Fewest reference pixels for a verdict; fewer -> no verdict.
MIN_REFERENCE_PIXELS: Final = 25
#: Dark water is about 0.00-0.03 in NIR and SWIR; with a correct offset its 2nd percentile
#: is rarely below -0.02. An offset applied twice puts it near -0.1 + 0.01: below -0.05 is
#: half-way and unambiguous.
TOO_DARK: Final = -0.05
#: A forgotten offset puts water near +0.1; above 0.07 (SCL water only, both bands) is not
#: water any more. Not tested on non-water references: bright land is legitimately > 0.07.
TOO_BRIGHT: Final = 0.07

_BASELINE_RE: Final = re.compile(r"^\D*?(\d{1,2})\.(\d{2})$")
_BASELINE_N_RE: Final = re.compile(r"N(\d{2})\.?(\d{2})(?![0-9])")


def parse_baseline(text: str) -> tuple[int, int] | None:
    """``"04.00"``, ``"4.0"``, ``"N0400"``, ``"..._N0511_..."`` -> ``(major, minor)``; else None."""
    text = text.strip()
    match = _BASELINE_RE.match(text)
    if match:
        return (int(match.group(1)), int(match.group(2)))
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(value) and value >= 0:
            major = int(value)
            return (major, round((value - major) * 100))
    match = _BASELINE_N_RE.search(text)
    if match:
        return (int(match.group(1)), int(match.group(2)))
    return None


def format_baseline(baseline: tuple[int, int]) -> str:
    """``(4, 0)`` -> ``"04.00"``."""
    return f"{baseline[0]:02d}.{baseline[1]:02d}"


@dataclass(frozen=True)
class OffsetDecision:
    """How the DNs of one item's reflectance bands become reflectance."""

    scale: float
    """Reflectance per DN."""
    offset: float
    """Added after scaling."""
    rule: str
    """Which rule decided (one of the ``RULE_*`` constants)."""

    @property
    def suspect(self) -> bool:
        """True when the provider's metadata is known to be unreliable for this rule."""
        return self.rule in SUSPECT_RULES


def decide_offset(
    *,
    baseline: tuple[int, int] | None,
    raster_scale: float | None,
    raster_offset: float | None,
    earthsearch_flag: bool | None,
    earthsearch_l2a: bool,
) -> OffsetDecision:
    """Decide scale and offset for one item's reflectance bands.

    Args:
        baseline: ``(major, minor)`` processing baseline, if known.
        raster_scale: scale from the raster metadata of the reflectance assets, if any.
        raster_offset: offset from the raster metadata, if any.
        earthsearch_flag: ``earthsearch:boa_offset_applied`` (or the v0 name), if present.
        earthsearch_l2a: the item comes from Earth Search's ``sentinel-2-l2a`` (or v0) COGs,
            whose raster metadata is not trusted.

    Raises:
        ValueError: neither raster metadata nor a baseline is available to decide from.
    """
    if earthsearch_l2a or earthsearch_flag is not None:
        scale = raster_scale if raster_scale is not None else L2A_SCALE
        if baseline is None:
            raise ValueError("an Earth Search sentinel-2-l2a item needs s2:processing_baseline")
        if baseline < OFFSET_BASELINE:
            return OffsetDecision(scale, 0.0, RULE_BASELINE_OLD)
        if earthsearch_flag:
            return OffsetDecision(scale, 0.0, RULE_FLAG_APPLIED)
        return OffsetDecision(scale, BASELINE_04_OFFSET, RULE_FLAG_NOT_APPLIED)
    scale = raster_scale if raster_scale is not None else L2A_SCALE
    if raster_offset is not None:
        return OffsetDecision(scale, raster_offset, RULE_RASTER)
    if baseline is None:
        if raster_scale is not None:  # a scale and no offset, nothing else to go by
            return OffsetDecision(scale, 0.0, RULE_RASTER)
        raise ValueError("no raster scale/offset and no processing baseline to decide the offset")
    if baseline >= OFFSET_BASELINE:
        return OffsetDecision(scale, BASELINE_04_OFFSET, RULE_BASELINE_NEW)
    return OffsetDecision(scale, 0.0, RULE_BASELINE_OLD)


@dataclass(frozen=True)
class DarkWaterVerdict:
    """What the darkest reference pixels of a chip say about its offset."""

    verdict: str
    """``ok``, ``too-dark`` (offset applied twice), ``too-bright`` (offset missing) or
    ``no-reference`` (too few usable pixels to tell)."""
    nir: float
    """The tested percentile of NIR reflectance (NaN without a verdict)."""
    swir16: float
    """The tested percentile of SWIR16 reflectance (NaN without a verdict)."""
    reference: str
    """``water`` (SCL class 6), ``dark`` (every usable pixel) or ``none``."""
    pixels: int
    """Reference pixels used."""


def check_dark_water(
    nir: NDArray[np.float32],
    swir16: NDArray[np.float32],
    scl: NDArray[np.uint8],
    has_data: NDArray[np.bool_],
) -> DarkWaterVerdict:
    """Test whether the darkest water (or darkest pixels) of a chip is physically plausible.

    Reference pixels are those with data whose SCL is water (6), when there are at least
    :data:`MIN_REFERENCE_PIXELS`; otherwise every pixel with data that is not cloud, cirrus,
    snow, saturated or nodata. The :data:`DARK_PERCENTILE` of NIR and of SWIR16 is taken:

    - both below :data:`TOO_DARK` -> ``too-dark``: the offset was subtracted twice;
    - water reference and both above :data:`TOO_BRIGHT` -> ``too-bright``: offset missing;
    - otherwise ``ok``.
    """
    base = has_data & np.isfinite(nir) & np.isfinite(swir16)
    water = base & (scl == SCL_WATER)
    if int(water.sum()) >= MIN_REFERENCE_PIXELS:
        ref, kind = water, "water"
    else:
        ref = base & ~np.isin(scl, list(SCL_NOT_REFERENCE))
        kind = "dark"
    count = int(ref.sum())
    if count < MIN_REFERENCE_PIXELS:
        return DarkWaterVerdict("no-reference", math.nan, math.nan, "none", count)
    p_nir = float(np.percentile(nir[ref], DARK_PERCENTILE))
    p_swir = float(np.percentile(swir16[ref], DARK_PERCENTILE))
    if p_nir < TOO_DARK and p_swir < TOO_DARK:
        verdict = "too-dark"
    elif kind == "water" and p_nir > TOO_BRIGHT and p_swir > TOO_BRIGHT:
        verdict = "too-bright"
    else:
        verdict = "ok"
    return DarkWaterVerdict(verdict, p_nir, p_swir, kind, count)


def correction_for(verdict: DarkWaterVerdict, *, rule: str, offset: float) -> float:
    """The reflectance shift that repairs a suspect decision, or 0.0 to leave pixels alone.

    Only suspect rules are corrected, and only in the direction the verdict proves:
    ``too-dark`` with ``-0.1`` applied -> ``+0.1``; ``too-bright`` with ``0`` applied ->
    ``-0.1``. Trusted rules are never changed (the caller warns instead).
    """
    if rule not in SUSPECT_RULES:
        return 0.0
    if verdict.verdict == "too-dark" and math.isclose(offset, BASELINE_04_OFFSET):
        return -BASELINE_04_OFFSET
    if verdict.verdict == "too-bright" and offset == 0.0:
        return BASELINE_04_OFFSET
    return 0.0
