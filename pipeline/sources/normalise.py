"""STAC item (a plain dict) -> :class:`~pipeline.types.Scene`, for every provider flavour.

Pure: no I/O. One function, :func:`normalise_item`, recognises the flavours by their
metadata rather than by URL, so the generic STAC API and local sources handle any of them:

=====================  ==========================  =========================================
flavour                band asset keys             offset rule (see :mod:`.offsets`)
=====================  ==========================  =========================================
Earth Search c1-l2a    blue green red nir swir16   ``raster:bands`` scale/offset
                       scl
Earth Search l2a / v0  same (v0: B02... SCL)       ``earthsearch:boa_offset_applied`` +
                                                   baseline, checked against dark water
Planetary Computer     B02 B03 B04 B08 B11 SCL     baseline (no ``raster:bands``)
CDSE (STAC 1.1)        B02_10m ... B11_20m SCL_20m ``raster:scale``/``raster:offset``, else
                                                   baseline
simulator              Earth Search c1 keys        ``raster:bands``
=====================  ==========================  =========================================

Level-1C items become :class:`Scene` objects with ``level="L1C"`` only when asked
(``allow_l1c``, for the dates where no Level-2A exists); otherwise they are refused naming
what they lack (an SCL asset and surface reflectance). Non-Sentinel-2 items and items
missing a band, a datetime or a projection raise :class:`~pipeline.errors.SceneMetadataError`
naming the item and what is missing.
With ``incomplete=True`` an item whose only fault is a missing band asset (or href) still
becomes a :class:`Scene`, without that band: reading it then fails with the reason, so the
scene is stored ``failed`` instead of vanishing from the search.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from pipeline.errors import SceneMetadataError
from pipeline.sources.offsets import (
    OffsetDecision,
    decide_offset,
    format_baseline,
    parse_baseline,
)
from pipeline.types import REFLECTANCE_BANDS, BandAsset, Scene

#: Asset keys tried for each band, in order: Earth Search v1, PC / Earth Search v0, CDSE.
BAND_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "blue": ("blue", "B02", "B02_10m"),
    "green": ("green", "B03", "B03_10m"),
    "red": ("red", "B04", "B04_10m"),
    "nir": ("nir", "B08", "B08_10m"),
    "swir16": ("swir16", "B11", "B11_20m"),
    "scl": ("scl", "SCL", "SCL_20m"),
}
#: Native resolution when the item does not say.
DEFAULT_RESOLUTION_M: Final[Mapping[str, float]] = {
    "blue": 10.0,
    "green": 10.0,
    "red": 10.0,
    "nir": 10.0,
    "swir16": 20.0,
    "scl": 20.0,
}
SIMULATED_PROPERTY: Final = "rasonwatch:simulated"
_EARTHSEARCH_FLAGS: Final = ("earthsearch:boa_offset_applied", "sentinel:boa_offset_applied")
_EARTHSEARCH_L2A_COLLECTIONS: Final = frozenset({"sentinel-2-l2a", "sentinel-s2-l2a-cogs"})
_TILE_RE: Final = re.compile(r"(?:^|[_-])T?(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(?=$|[_-])")
_PLATFORM_RE: Final = re.compile(r"^S2([A-D])_", re.IGNORECASE)
#: Longest item id accepted (real ones are under 80 characters).
MAX_ID_LENGTH: Final = 256
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def _fail(item_id: str, what: str) -> SceneMetadataError:
    return SceneMetadataError(f"STAC item {item_id!r}: {what}")


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def _item_id(item: Mapping[str, Any]) -> str:
    """The item's id, which becomes a store key, a log word and (sanitised) a file name.

    Raises:
        SceneMetadataError: no id, or one that is not a short printable string.
    """
    raw = item.get("id")
    if not isinstance(raw, str) or not raw.strip():
        raise _fail("<no id>", f"has no usable id (got {type(raw).__name__})")
    if len(raw) > MAX_ID_LENGTH or _CONTROL.search(raw):
        raise _fail(raw[:60], f"id is longer than {MAX_ID_LENGTH} or holds control characters")
    return raw


def _parse_datetime(props: Mapping[str, Any], item_id: str) -> datetime:
    raw = props.get("datetime") or props.get("start_datetime")
    if not isinstance(raw, str):
        raise _fail(item_id, "has no datetime (properties.datetime or start_datetime)")
    text = raw.strip().replace("z", "Z")
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # also a UTC offset that leaves years 1-9999
        raise _fail(item_id, f"datetime {raw!r} is not ISO 8601") from None


def _tile(item: Mapping[str, Any], props: Mapping[str, Any]) -> str | None:
    grid = props.get("grid:code")
    if isinstance(grid, str) and grid.upper().startswith("MGRS-"):
        return _norm_tile(grid[5:])
    zone, band, square = (
        props.get("mgrs:utm_zone"),
        props.get("mgrs:latitude_band"),
        props.get("mgrs:grid_square"),
    )
    if zone is not None and band and square:
        return _norm_tile(f"{zone}{band}{square}")
    for key in ("s2:mgrs_tile", "sentinel:mgrs_tile"):
        if isinstance(props.get(key), str):
            return _norm_tile(str(props[key]))
    zone, band, square = (
        props.get("sentinel:utm_zone"),
        props.get("sentinel:latitude_band"),
        props.get("sentinel:grid_square"),
    )
    if zone is not None and band and square:
        return _norm_tile(f"{zone}{band}{square}")
    for text in (str(item.get("id", "")), str(props.get("s2:product_uri", ""))):
        match = _TILE_RE.search(text)
        if match:
            return _norm_tile("".join(match.groups()))
    return None


def _norm_tile(text: str) -> str | None:
    match = _TILE_RE.fullmatch(text.strip().upper()) or _TILE_RE.search(text.strip().upper())
    if not match:
        return None
    zone, band, square = match.groups()
    return f"{int(zone):02d}{band}{square}"


def _epsg(
    props: Mapping[str, Any], assets: Mapping[str, Mapping[str, Any]], tile: str | None
) -> int | None:
    for where in (props, *(a for a in assets.values() if isinstance(a, Mapping))):
        epsg = where.get("proj:epsg")
        if isinstance(epsg, int) and not isinstance(epsg, bool):
            return epsg
        code = where.get("proj:code")
        if isinstance(code, str) and code.upper().startswith("EPSG:") and code[5:].isdigit():
            return int(code[5:])
    if tile:  # UTM zone and hemisphere are in the MGRS tile name
        return (32600 if tile[2] >= "N" else 32700) + int(tile[:2])
    return None


def _baseline(item: Mapping[str, Any], props: Mapping[str, Any]) -> tuple[int, int] | None:
    for key in ("s2:processing_baseline", "processing:version", "sentinel:processing_baseline"):
        value = props.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            parsed = parse_baseline(str(value))
            if parsed:
                return parsed
    for key in ("s2:product_uri", "sentinel:product_id", "s2:datatake_id"):
        value = props.get(key)
        if isinstance(value, str) and (parsed := parse_baseline(value)):
            return parsed
    return parse_baseline(str(item.get("id", "")))


def _platform(item_id: str, props: Mapping[str, Any]) -> str | None:
    raw = props.get("platform")
    if isinstance(raw, str) and raw.strip():
        return raw.strip().lower().replace(" ", "-")
    match = _PLATFORM_RE.match(item_id)
    return f"sentinel-2{match.group(1).lower()}" if match else None


def _is_l1c(item: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    kinds = {str(props.get("s2:product_type", "")), str(props.get("product:type", ""))}
    level = str(props.get("processing:level", "")).upper()
    return (
        "S2MSI1C" in kinds
        or level in {"L1", "L1C"}
        or "l1c" in str(item.get("collection", "")).lower()
        or str(item.get("id", "")).upper().endswith("_L1C")
    )


def _raster(
    asset: Mapping[str, Any],
) -> tuple[float | None, float | None, float | None, float | None]:
    """``(scale, offset, nodata, resolution)`` from STAC 1.0 raster:bands or STAC 1.1 fields."""
    bands = asset.get("raster:bands")
    first: Mapping[str, Any] = (
        bands[0] if isinstance(bands, list) and bands and isinstance(bands[0], Mapping) else {}
    )
    scale = _float(first.get("scale", asset.get("raster:scale")))
    offset = _float(first.get("offset", asset.get("raster:offset")))
    nodata = _float(first.get("nodata", asset.get("nodata")))
    res = _float(first.get("spatial_resolution", asset.get("gsd")))
    if res is None:
        transform = asset.get("proj:transform")
        if isinstance(transform, list) and transform:
            res = _float(transform[0])
    return scale, offset, nodata, res


def _href(asset: Mapping[str, Any]) -> str | None:
    """The asset's href when it is a non-empty string."""
    href = asset.get("href")
    return href if isinstance(href, str) and href.strip() else None


def _band_assets(
    item_id: str,
    assets: Mapping[str, Mapping[str, Any]],
    *,
    incomplete: bool = False,
    l1c: bool = False,
) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    missing = []
    for band, keys in BAND_KEYS.items():
        if l1c and band == "scl":
            continue  # Level-1C has no scene classification
        key = next(
            (k for k in keys if isinstance(assets.get(k), Mapping) and _href(assets[k])), None
        )
        if key is None:
            missing.append(f"{band} ({' / '.join(keys)})")
        else:
            found[band] = assets[key]
    if missing and not incomplete:
        raise _fail(item_id, f"lacks the asset(s) {', '.join(missing)}; it cannot make a chip")
    return found


def _decide(
    item: Mapping[str, Any],
    props: Mapping[str, Any],
    bands: Mapping[str, Mapping[str, Any]],
    baseline: tuple[int, int] | None,
) -> OffsetDecision:
    rasters = [_raster(bands[b]) for b in REFLECTANCE_BANDS if b in bands]
    scales = {r[0] for r in rasters if r[0] is not None}
    offsets = {r[1] for r in rasters if r[1] is not None}
    if len(scales) > 1 or len(offsets) > 1:
        raise _fail(
            str(item.get("id")), f"reflectance bands disagree on scale {scales} / offset {offsets}"
        )
    flag = next((props[k] for k in _EARTHSEARCH_FLAGS if isinstance(props.get(k), bool)), None)
    earthsearch_l2a = str(item.get("collection", "")) in _EARTHSEARCH_L2A_COLLECTIONS and any(
        str(k).startswith(("earthsearch:", "sentinel:")) for k in props
    )
    try:
        return decide_offset(
            baseline=baseline,
            raster_scale=next(iter(scales), None),
            raster_offset=next(iter(offsets), None),
            earthsearch_flag=flag,
            earthsearch_l2a=earthsearch_l2a,
        )
    except ValueError as exc:
        raise _fail(str(item.get("id")), f"cannot decide the reflectance offset: {exc}") from None


def _bbox(raw: Any) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` of a 2D or 3D STAC bbox; None when absent or malformed."""
    if not isinstance(raw, list) or len(raw) not in (4, 6):
        return None
    values = [_float(x) for x in raw]
    v = [x for x in values if x is not None]
    if len(v) != len(raw):
        return None
    return (v[0], v[1], v[3], v[4]) if len(v) == 6 else (v[0], v[1], v[2], v[3])


def item_footprint(item: Mapping[str, Any]) -> BaseGeometry | None:
    """The item's GeoJSON geometry as shapely (WGS84), or None when absent or invalid."""
    geometry = item.get("geometry")
    if not isinstance(geometry, Mapping):
        return None
    try:
        geom = shape(dict(geometry))
    except (ValueError, TypeError, AttributeError):
        return None
    return None if geom.is_empty else geom


def normalise_item(
    item: Mapping[str, Any], *, source: str, incomplete: bool = False, allow_l1c: bool = False
) -> Scene:
    """Build a :class:`Scene` from one STAC item dict (asset hrefs must already be absolute).

    Args:
        item: the STAC item.
        source: recorded in ``Scene.source``.
        incomplete: leave a missing band asset out of ``Scene.assets`` instead of raising.
        allow_l1c: accept a Level-1C item as a ``level="L1C"`` scene (its five bands, no
            SCL); without it a Level-1C item is refused.

    Raises:
        SceneMetadataError: the item is Level-1C (unless ``allow_l1c``), not Sentinel-2, or
            lacks a band asset (unless ``incomplete``), datetime, tile, projection or what the
            offset rule needs.
    """
    item_id = _item_id(item)
    props = item.get("properties")
    assets = item.get("assets")
    if not isinstance(props, Mapping) or not isinstance(assets, Mapping):
        raise _fail(item_id, "is not a STAC item (no properties or no assets)")
    l1c = _is_l1c(item, props)
    if l1c and not allow_l1c:
        raise _fail(
            item_id,
            "is Level-1C (top-of-atmosphere): it has no scene classification (SCL) asset and "
            "no surface reflectance, which the Level-2A path needs (use collection "
            "sentinel-2-l2a / sentinel-2-c1-l2a, or a source's per-date Level-1C fill)",
        )
    platform = _platform(item_id, props)
    if not platform or not platform.startswith("sentinel-2"):
        raise _fail(item_id, f"is not a Sentinel-2 item (platform {props.get('platform')!r})")
    when = _parse_datetime(props, item_id)
    bands = _band_assets(item_id, assets, incomplete=incomplete, l1c=l1c)
    tile = _tile(item, props)
    if tile is None:
        raise _fail(item_id, "has no MGRS tile (grid:code, mgrs:*, s2:mgrs_tile or the id)")
    epsg = _epsg(props, assets, tile)
    if epsg is None:
        raise _fail(item_id, "has no projection (proj:epsg / proj:code)")
    baseline = _baseline(item, props)
    decision = _decide(item, props, bands, baseline)
    band_assets = {}
    for band, asset in bands.items():
        _, _, nodata, res = _raster(asset)
        reflectance = band in REFLECTANCE_BANDS
        band_assets[band] = BandAsset(
            href=str(asset["href"]),
            scale=decision.scale if reflectance else 1.0,
            offset=decision.offset if reflectance else 0.0,
            nodata=nodata if nodata is not None else 0,
            resolution_m=res if res is not None else DEFAULT_RESOLUTION_M[band],
        )
    return Scene(
        id=item_id,
        datetime=when,
        platform=platform,
        tile=tile,
        epsg=epsg,
        processing_baseline=format_baseline(baseline) if baseline else "",
        assets=band_assets,
        cloud_cover=_float(props.get("eo:cloud_cover")),
        source=source,
        collection=str(item.get("collection") or ""),
        offset_rule=decision.rule,
        bbox=_bbox(item.get("bbox")),
        simulated=bool(props.get(SIMULATED_PROPERTY, False)),
        properties=dict(props),
        level="L1C" if l1c else "L2A",
    )
