"""CDSE STAC items for tests: the recorded real Level-2A item, moved in time and place, and
Level-1C items hand-built from it.

No real CDSE ``sentinel-2-l1c`` item is recorded in ``../shared/datasets/stac-recorded/``.
The Level-1C items here keep everything the recorded ``sentinel-2-l2a`` item shares with
its Level-1C sibling on CDSE's STAC (STAC 1.1, ``raster:scale``/``raster:offset`` per asset,
``proj:code`` on assets, ``s3://eodata`` hrefs) and change what differs, as CDSE documents
it: collection ``sentinel-2-l1c``, ``product:type`` ``S2MSI1C``, ``processing:level`` ``L1``,
ids ``S2X_MSIL1C_...``, and one asset per band keyed ``B01`` ... ``B12`` (no resolution
suffix, no SCL/AOT/WVP) whose hrefs are the SAFE's
``GRANULE/L1C_<tile>_.../IMG_DATA/<tile>_<sensing>_B02.jp2``.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shapely.affinity import translate
from shapely.geometry import mapping, shape

RECORDED_L2A = (
    "odc-stac/S2C_MSIL2A_20250330T100051_N0511_R122_T33UWP_20250330T145914_cdse_stac_v110.json"
)
#: The Level-1C bands a scene needs, as CDSE keys them, at their native resolution (m).
L1C_BANDS = {"B02": 10, "B03": 10, "B04": 10, "B08": 10, "B11": 20}


def load_l2a(stac_recorded: Path) -> dict[str, Any]:
    """The recorded real CDSE ``sentinel-2-l2a`` item."""
    item: dict[str, Any] = json.loads((stac_recorded / RECORDED_L2A).read_text(encoding="utf-8"))
    return item


def _l1c_href(href: str) -> str:
    return href.replace("/L2A/", "/L1C/").replace("MSIL2A", "MSIL1C").replace("/L2A_T", "/L1C_T")


def to_l1c(l2a: dict[str, Any]) -> dict[str, Any]:
    """The Level-1C sibling of a CDSE Level-2A item (same acquisition, tile and baseline)."""
    item = copy.deepcopy(l2a)
    item["id"] = item["id"].replace("MSIL2A", "MSIL1C")
    item["collection"] = "sentinel-2-l1c"
    props = item["properties"]
    props["product:type"] = "S2MSI1C"
    props["processing:level"] = "L1"
    props.pop("statistics", None)  # the scene classification's shares: Level-2A only
    for link in item["links"]:
        link["href"] = link["href"].replace("sentinel-2-l2a", "sentinel-2-l1c")
        link["href"] = link["href"].replace("MSIL2A", "MSIL1C")
    assets: dict[str, Any] = {}
    for key in ("product_metadata", "granule_metadata", "safe_manifest"):
        assets[key] = {**l2a["assets"][key], "href": _l1c_href(l2a["assets"][key]["href"])}
    for band, res in L1C_BANDS.items():
        asset = l2a["assets"][f"{band}_{res}m"]
        href = _l1c_href(asset["href"]).replace(f"/R{res}m/", "/")
        assets[band] = {**copy.deepcopy(asset), "href": href.replace(f"_{res}m.jp2", ".jp2")}
    item["assets"] = assets
    return item


def moved(item: dict[str, Any], *, days: int, dx: float = 0.0, dy: float = 0.0) -> dict[str, Any]:
    """``item`` ``days`` later (id, datetimes) and shifted by ``dx``/``dy`` degrees."""
    out = copy.deepcopy(item)
    props = out["properties"]
    when = datetime.fromisoformat(props["datetime"].replace("Z", "+00:00")) + timedelta(days=days)
    stamp = when.strftime("%Y%m%dT%H%M%S")
    out["id"] = re.sub(r"_\d{8}T\d{6}_", f"_{stamp}_", out["id"], count=1)
    for key in ("datetime", "start_datetime", "end_datetime"):
        if key in props:
            props[key] = when.isoformat().replace("+00:00", "Z")
    geometry = translate(shape(out["geometry"]), xoff=dx, yoff=dy)
    out["geometry"] = mapping(geometry)
    out["bbox"] = list(geometry.bounds)
    return out


def with_baseline(item: dict[str, Any], baseline: str, *, raster_metadata: bool) -> dict[str, Any]:
    """``item`` at another processing baseline (``"02.05"``), with or without raster
    scale/offset on its assets."""
    out = copy.deepcopy(item)
    props = out["properties"]
    props["processing:version"] = baseline
    tag = "N" + baseline.replace(".", "")
    out["id"] = re.sub(r"_N\d{4}_", f"_{tag}_", out["id"])
    for key in ("eopf:datatake_id", "eopf:datastrip_id"):
        if key in props:
            props[key] = re.sub(r"N\d\d\.\d\d", tag[0] + baseline, props[key])
    for asset in out["assets"].values():
        asset["href"] = re.sub(r"_N\d{4}_", f"_{tag}_", asset["href"])
        if not raster_metadata:
            asset.pop("raster:scale", None)
            asset.pop("raster:offset", None)
    return out
