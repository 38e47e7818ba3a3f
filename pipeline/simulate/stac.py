"""STAC JSON shaped like Earth Search ``sentinel-2-c1-l2a``, marked as simulated.

Items carry the same asset keys (``blue, green, red, nir, swir16, scl``), ``eo:bands``,
``gsd``, ``proj:*``, ``raster:bands`` (scale 0.0001; offset -0.1 only from baseline 04.00),
the MGRS/grid properties of 52TFM, the sun angles, ``s2:processing_baseline`` and
``"rasonwatch:simulated": true``. SCL statistics (``s2:*_percentage``) are computed over the
painted (valid) pixels, as ESA computes them over valid pixels. ``eo:cloud_cover`` stands for
the whole tile: 60 % a tile-wide weather draw (correlated with the AOIs' cloudiness) and 40 %
the cloud share of the painted pixels, so, as in real data, it is only a loose guide to
the cloud over an AOI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from pipeline.simulate.grid import EPSG, footprint_lonlat
from pipeline.simulate.render import RenderedScene
from pipeline.simulate.renderer import renderer_digest

COLLECTION: Final = "sentinel-2-c1-l2a"
STAC_VERSION: Final = "1.0.0"
EXTENSIONS: Final = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/grid/v1.1.0/schema.json",
    "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json",
    "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "https://stac-extensions.github.io/sentinel-2/v1.0.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
]
COG_TYPE: Final = "image/tiff; application=geotiff; profile=cloud-optimized"
#: asset key -> (file stem, title, ESA band, centre um, FWHM um, gsd m)
ASSETS: Final = {
    "blue": ("B02", "Blue - 10m", "B02", 0.49, 0.098, 10),
    "green": ("B03", "Green - 10m", "B03", 0.56, 0.045, 10),
    "red": ("B04", "Red - 10m", "B04", 0.665, 0.038, 10),
    "nir": ("B08", "NIR 1 - 10m", "B08", 0.842, 0.145, 10),
    "swir16": ("B11", "SWIR 1.6μm - 20m", "B11", 1.61, 0.143, 20),
    "scl": ("SCL", "Scene classification map (SCL)", "", 0.0, 0.0, 20),
}
_SCL_STATS: Final = {
    "s2:dark_features_percentage": (2,),
    "s2:cloud_shadow_percentage": (3,),
    "s2:vegetation_percentage": (4,),
    "s2:not_vegetated_percentage": (5,),
    "s2:water_percentage": (6,),
    "s2:unclassified_percentage": (7,),
    "s2:medium_proba_clouds_percentage": (8,),
    "s2:high_proba_clouds_percentage": (9,),
    "s2:thin_cirrus_percentage": (10,),
    "s2:snow_ice_percentage": (11,),
}
SOFTWARE: Final = {"rasonwatch-simulate": "1"}


def iso_time(when: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as Earth Search writes datetimes."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def scl_statistics(scl: NDArray[np.uint8]) -> dict[str, float]:
    """``s2:*_percentage`` over valid pixels, and the nodata share of the whole raster."""
    counts = np.bincount(scl.ravel(), minlength=12)
    valid = int(counts[1:].sum())
    stats = {
        key: round(100.0 * float(counts[list(classes)].sum()) / max(valid, 1), 6)
        for key, classes in _SCL_STATS.items()
    }
    stats["s2:nodata_pixel_percentage"] = round(100.0 * float(counts[0]) / scl.size, 6)
    return stats


def asset_doc(key: str, href: str, scene: RenderedScene, *, offset: bool) -> dict[str, Any]:
    """One asset of an item: href, type, eo/raster bands, grid (offset -0.1 if ``offset``)."""
    _, title, esa, centre, fwhm, gsd = ASSETS[key]
    rows, cols = scene.shape if gsd == 10 else (scene.shape[0] // 2, scene.shape[1] // 2)
    transform = scene.transform if gsd == 10 else scene.transform_20m
    band: dict[str, Any] = {
        "nodata": 0,
        "data_type": "uint8" if key == "scl" else "uint16",
        "spatial_resolution": gsd,
    }
    if key != "scl":
        band["scale"] = 0.0001
        if offset:
            band["offset"] = -0.1
    asset: dict[str, Any] = {"href": href, "type": COG_TYPE, "title": title}
    if esa:
        asset["eo:bands"] = [
            {
                "name": esa,
                "common_name": key,
                "center_wavelength": centre,
                "full_width_half_max": fwhm,
            }
        ]
    asset |= {
        "gsd": gsd,
        "proj:shape": [rows, cols],
        "proj:transform": [
            transform.a,
            transform.b,
            transform.c,
            transform.d,
            transform.e,
            transform.f,
        ],
        "raster:bands": [band],
        "roles": ["data"] if key == "scl" else ["data", "reflectance"],
    }
    return asset


def item(
    scene: RenderedScene, hrefs: Mapping[str, str], *, links: Sequence[Mapping[str, str]] = ()
) -> dict[str, Any]:
    """The STAC item of a rendered scene, with the given asset hrefs."""
    info = scene.info
    ring = footprint_lonlat()
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    stats = scl_statistics(scene.scl)
    painted_cloud = sum(
        stats[k]
        for k in (
            "s2:medium_proba_clouds_percentage",
            "s2:high_proba_clouds_percentage",
            "s2:thin_cirrus_percentage",
        )
    )
    cloud_cover = round(0.6 * 100 * scene.tile_cloud + 0.4 * painted_cloud, 6)
    offset = info.dn_offset > 0
    platform_letter = info.platform[-1].upper()
    start = info.item_id.split("_")[2]
    product_uri = (
        f"S2{platform_letter}_MSIL2A_{start}_N{info.baseline.replace('.', '')}_R031_T52TFM_"
        f"{(info.datetime + timedelta(hours=2)):%Y%m%dT%H%M%S}.SAFE"
    )
    created = iso_time(info.datetime + timedelta(hours=3))
    properties: dict[str, Any] = {
        "created": created,
        "platform": info.platform,
        "constellation": "sentinel-2",
        "instruments": ["msi"],
        "eo:cloud_cover": cloud_cover,
        "proj:epsg": EPSG,
        "mgrs:utm_zone": 52,
        "mgrs:latitude_band": "T",
        "mgrs:grid_square": "FM",
        "grid:code": "MGRS-52TFM",
        "view:sun_azimuth": round(info.sun_azimuth, 6),
        "view:sun_elevation": round(info.sun_elevation, 6),
        **stats,
        "s2:product_type": "S2MSI2A",
        "s2:processing_baseline": info.baseline,
        "s2:product_uri": product_uri,
        "datetime": iso_time(info.datetime),
        "processing:software": SOFTWARE,
        "updated": created,
        "rasonwatch:simulated": True,
    }
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "id": info.item_id,
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
        "links": [dict(link) for link in links],
        "assets": {key: asset_doc(key, hrefs[key], scene, offset=offset) for key in ASSETS},
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "stac_extensions": EXTENSIONS,
        "collection": COLLECTION,
    }


def collection(items: Sequence[Mapping[str, Any]], description: str) -> dict[str, Any]:
    """The collection document listing ``items`` (files ``./<id>/<id>.json``)."""
    times = sorted(str(i["properties"]["datetime"]) for i in items)
    ring = footprint_lonlat()
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    links = [
        {"rel": "root", "href": "../catalog.json", "type": "application/json"},
        {"rel": "parent", "href": "../catalog.json", "type": "application/json"},
    ] + [
        {"rel": "item", "href": f"./{i['id']}/{i['id']}.json", "type": "application/geo+json"}
        for i in items
    ]
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": COLLECTION,
        "title": "SIMULATED Sentinel-2 Level-2A (rason-watch)",
        "description": description,
        "license": "CC0-1.0",
        "keywords": ["simulated", "sentinel-2", "rason"],
        "extent": {
            "spatial": {"bbox": [[min(lons), min(lats), max(lons), max(lats)]]},
            "temporal": {"interval": [[times[0] if times else None, times[-1] if times else None]]},
        },
        "summaries": {
            "platform": sorted({str(i["properties"]["platform"]) for i in items}),
            "constellation": ["sentinel-2"],
            "instruments": ["msi"],
            "gsd": [10, 20],
        },
        "links": links,
        "rasonwatch:simulated": True,
    }


def catalog(
    description: str, seed: int, *, collections: Sequence[str] = (COLLECTION,)
) -> dict[str, Any]:
    """The root catalog (``catalog.json``); marks the folder as a rasonwatch archive and
    names the renderer that wrote it (:func:`pipeline.simulate.renderer.renderer_digest`)."""
    return {
        "type": "Catalog",
        "stac_version": STAC_VERSION,
        "id": "rasonwatch-simulated",
        "title": "SIMULATED Sentinel-2 archive (rason-watch)",
        "description": description,
        "links": [
            {"rel": "root", "href": "./catalog.json", "type": "application/json"},
            *(
                {"rel": "child", "href": f"./{c}/collection.json", "type": "application/json"}
                for c in collections
            ),
        ],
        "rasonwatch:simulated": True,
        "rasonwatch:seed": seed,
        "rasonwatch:renderer": renderer_digest(),
    }
