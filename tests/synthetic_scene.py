"""Small real COG scenes with known pixels, and STAC items for them, for reader tests.

Each scene is one fake MGRS tile in EPSG:32652 (UTM 52N, like 52TFM): four 10 m bands and
two 20 m bands (swir16, scl) written with GDAL's COG driver (tiled 256 x 256, DEFLATE,
overviews), all sharing the tile's upper-left corner like Sentinel-2. The left part of the
tile is water (SCL 6, dark in NIR/SWIR), the rest land; a rectangle of ``red`` can be set
to nodata. Items come in three flavours: Earth Search ``sentinel-2-c1-l2a`` (raster:bands),
Planetary Computer (``B02``... keys, no raster:bands) and Earth Search ``sentinel-2-l2a``
(with ``earthsearch:boa_offset_applied``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from shapely.geometry import Polygon, box, mapping

from pipeline.geo.projection import reproject

EPSG: Final = 32652
ORIGIN: Final = (600000.0, 4700040.0)
BLOCK: Final = 256
KEYS: Final = {
    "c1": {
        "blue": "blue",
        "green": "green",
        "red": "red",
        "nir": "nir",
        "swir16": "swir16",
        "scl": "scl",
    },
    "es-l2a": {
        "blue": "blue",
        "green": "green",
        "red": "red",
        "nir": "nir",
        "swir16": "swir16",
        "scl": "scl",
    },
    "pc": {
        "blue": "B02",
        "green": "B03",
        "red": "B04",
        "nir": "B08",
        "swir16": "B11",
        "scl": "SCL",
    },
}
FILES: Final = {
    "blue": "B02",
    "green": "B03",
    "red": "B04",
    "nir": "B08",
    "swir16": "B11",
    "scl": "SCL",
}
#: Mean land / water reflectance per band.
LAND: Final = {"blue": 0.06, "green": 0.09, "red": 0.11, "nir": 0.28, "swir16": 0.22}
WATER: Final = {"blue": 0.05, "green": 0.04, "red": 0.025, "nir": 0.012, "swir16": 0.006}


@dataclass
class SyntheticScene:
    """A written scene: its files, the DNs in them, and how to describe it in STAC."""

    scene_id: str
    folder: Path
    """Absolute folder holding the six ``.tif`` files."""
    dn: dict[str, NDArray[Any]]
    """DN arrays exactly as written, per band (10 m or 20 m grid)."""
    offset_dn: int
    """DN added to reflectance x 10000 in the files (1000 or 0)."""
    size10: int
    when: datetime
    baseline: str
    flavour: str
    cloud_cover: float = 10.0
    extra_properties: dict[str, Any] = field(default_factory=dict)

    @property
    def transform10(self) -> Affine:
        return Affine(10.0, 0.0, ORIGIN[0], 0.0, -10.0, ORIGIN[1])

    @property
    def transform20(self) -> Affine:
        return Affine(20.0, 0.0, ORIGIN[0], 0.0, -20.0, ORIGIN[1])

    def path(self, band: str) -> Path:
        return self.folder / f"{FILES[band]}.tif"

    def footprint_wgs84(self) -> Polygon:
        west, north = ORIGIN
        east, south = west + 10.0 * self.size10, north - 10.0 * self.size10
        poly = reproject(box(west, south, east, north), src_epsg=EPSG, dst_epsg=4326)
        assert isinstance(poly, Polygon)
        return poly

    def item(self, href_for: Any, *, footprint: Polygon | None = None) -> dict[str, Any]:
        """A STAC item dict; ``href_for(path)`` maps each file to its asset href."""
        shape = footprint if footprint is not None else self.footprint_wgs84()
        props: dict[str, Any] = {
            "datetime": self.when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "platform": "sentinel-2b",
            "constellation": "sentinel-2",
            "eo:cloud_cover": self.cloud_cover,
            "proj:epsg": EPSG,
            "s2:processing_baseline": self.baseline,
        }
        collection = "sentinel-2-c1-l2a"
        if self.flavour == "pc":
            props["s2:mgrs_tile"] = "52TFM"
            props["platform"] = "Sentinel-2B"
            collection = "sentinel-2-l2a"
        else:
            props["grid:code"] = "MGRS-52TFM"
        if self.flavour == "es-l2a":
            collection = "sentinel-2-l2a"
            props["earthsearch:payload_id"] = "synthetic"
        props.update(self.extra_properties)
        assets: dict[str, Any] = {}
        for band, key in KEYS[self.flavour].items():
            res = 20 if band in ("swir16", "scl") else 10
            asset: dict[str, Any] = {
                "href": href_for(self.path(band)),
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "gsd": res,
            }
            if self.flavour != "pc":
                rb: dict[str, Any] = {"nodata": 0, "data_type": "uint16", "spatial_resolution": res}
                if band != "scl":
                    rb |= {"scale": 0.0001, "offset": -0.1}
                else:
                    rb["data_type"] = "uint8"
                asset["raster:bands"] = [rb]
            assets[key] = asset
        return {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": self.scene_id,
            "collection": collection,
            "bbox": list(shape.bounds),
            "geometry": mapping(shape),
            "properties": props,
            "assets": assets,
            "links": [],
        }


def _write_cog(path: Path, data: NDArray[Any], transform: Affine) -> None:
    profile = {
        "driver": "COG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": f"EPSG:{EPSG}",
        "transform": transform,
        "nodata": 0,
        "blocksize": BLOCK,
        "compress": "deflate",
        "overview_resampling": "nearest",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def write_scene(
    root: Path,
    scene_id: str,
    *,
    when: datetime,
    size10: int = 1024,
    flavour: str = "c1",
    baseline: str = "05.10",
    offset_dn: int = 1000,
    water_cols: int | None = None,
    nodata_red: tuple[int, int, int, int] | None = None,
    seed: int = 0,
    cloud_cover: float = 10.0,
) -> SyntheticScene:
    """Write six COGs under ``root/scene_id`` and return what is in them.

    Args:
        root: archive folder.
        scene_id: item id, also the folder name.
        when: acquisition time (UTC).
        size10: side of the 10 m bands in pixels (the 20 m bands are half).
        flavour: ``c1``, ``pc`` or ``es-l2a`` (item shape, see :meth:`SyntheticScene.item`).
        baseline: ``s2:processing_baseline``.
        offset_dn: DN added to ``reflectance * 10000`` (1000 from baseline 04.00; 0 for
            older baselines, or for Earth Search items whose offset was already removed).
        water_cols: 10 m columns left of this are water (default: 55 % of the tile).
        nodata_red: ``(row0, row1, col0, col1)`` of ``red`` set to nodata.
        seed: noise seed.
        cloud_cover: ``eo:cloud_cover``.
    """
    rng = np.random.default_rng(seed)
    folder = root / scene_id
    folder.mkdir(parents=True, exist_ok=True)
    water10 = water_cols if water_cols is not None else int(size10 * 0.55)
    size20 = size10 // 2
    cols10 = np.arange(size10)[None, :]
    cols20 = np.arange(size20)[None, :]
    dn: dict[str, NDArray[Any]] = {}
    for band in ("blue", "green", "red", "nir", "swir16"):
        n = size20 if band == "swir16" else size10
        cols = cols20 if band == "swir16" else cols10
        limit = water10 // 2 if band == "swir16" else water10
        mean = np.where(cols < limit, WATER[band], LAND[band])
        refl = mean + rng.normal(0.0, 0.004, (n, n)) * np.where(cols < limit, 1.0, 5.0)
        values = np.clip(np.round(refl * 10000.0) + offset_dn, 1, 65535).astype(np.uint16)
        dn[band] = values
    if nodata_red is not None:
        r0, r1, c0, c1 = nodata_red
        dn["red"][r0:r1, c0:c1] = 0
    rows20 = np.arange(size20)[:, None]
    land_class = np.where((rows20 // 16 + cols20 // 16) % 5 == 0, 5, 4)
    dn["scl"] = np.where(cols20 < water10 // 2, 6, land_class).astype(np.uint8)
    for band, values in dn.items():
        transform = (
            Affine(20.0, 0.0, ORIGIN[0], 0.0, -20.0, ORIGIN[1])
            if band in ("swir16", "scl")
            else Affine(10.0, 0.0, ORIGIN[0], 0.0, -10.0, ORIGIN[1])
        )
        _write_cog(folder / f"{FILES[band]}.tif", values, transform)
    return SyntheticScene(
        scene_id=scene_id,
        folder=folder,
        dn=dn,
        offset_dn=offset_dn,
        size10=size10,
        when=when,
        baseline=baseline,
        flavour=flavour,
        cloud_cover=cloud_cover,
    )


def write_ndjson(path: Path, items: list[dict[str, Any]]) -> Path:
    """Write items one per line (what ``rustac serve`` and the local source read)."""
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def utm_polygon_to_wgs84(coords: list[tuple[float, float]]) -> Polygon:
    """A WGS84 polygon from UTM 52N corner coordinates."""
    poly = reproject(Polygon(coords), src_epsg=EPSG, dst_epsg=4326)
    assert isinstance(poly, Polygon)
    return poly


def expected_bilinear_2x(dn20: NDArray[Any], rows: slice, cols: slice) -> NDArray[np.float64]:
    """Bilinear upsampling of a 20 m array onto the co-registered 10 m grid (interior only).

    A 10 m pixel centre (r, c) lies at 20 m pixel coordinate ``(r/2 - 0.25, c/2 - 0.25)``.
    """
    r = np.arange(rows.start, rows.stop)[:, None] / 2.0 - 0.25
    c = np.arange(cols.start, cols.stop)[None, :] / 2.0 - 0.25
    r0, c0 = np.floor(r).astype(int), np.floor(c).astype(int)
    fr, fc = r - r0, c - c0
    a = dn20.astype(np.float64)
    out: NDArray[np.float64] = (
        a[r0, c0] * (1 - fr) * (1 - fc)
        + a[r0, c0 + 1] * (1 - fr) * fc
        + a[r0 + 1, c0] * fr * (1 - fc)
        + a[r0 + 1, c0 + 1] * fr * fc
    )
    return out
