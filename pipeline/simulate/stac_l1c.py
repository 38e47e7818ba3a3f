"""STAC items of SIMULATED Level-1C scenes, shaped like Earth Search ``sentinel-2-l1c``.

Same asset keys as Level-2A for the five bands (no ``scl``: Level-1C has no scene
classification), ``s2:product_type`` ``S2MSI1C``, the Level-1C processing baseline of the
date (02.06/02.07: no DN offset), ids like ``S2A_52TFM_20171103_0_L1C``. Pixels are TOA
reflectance (:mod:`pipeline.simulate.toa`) written as COGs (Earth Search's real L1C assets are
JPEG 2000 in a requester-pays bucket; rason-watch reads both layouts the same way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from pipeline.simulate.render import RenderedScene
from pipeline.simulate.stac import ASSETS, asset_doc, item
from pipeline.simulate.toa import l1c_baseline

L1C_COLLECTION: Final = "sentinel-2-l1c"
#: The Level-1C item's bands: every Level-2A asset but the scene classification.
L1C_ASSETS: Final = {k: v for k, v in ASSETS.items() if k != "scl"}


def l1c_id(scene: RenderedScene) -> str:
    """``S2A_52TFM_20171103_0_L1C``."""
    info = scene.info
    return f"S2{info.platform[-1].upper()}_52TFM_{info.date:%Y%m%d}_0_L1C"


def l1c_item(
    scene: RenderedScene, hrefs: Mapping[str, str], *, links: Sequence[Mapping[str, str]] = ()
) -> dict[str, Any]:
    """The Level-1C STAC item of a rendered scene, with the given asset hrefs."""
    doc = item(scene, {**hrefs, "scl": "unused"}, links=links)
    info = scene.info
    baseline = l1c_baseline(info.date)
    start = info.item_id.split("_")[2]
    props = {
        k: v
        for k, v in doc["properties"].items()
        if not (k.startswith("s2:") and k.endswith("_percentage"))
    }
    props["eo:cloud_cover"] = round(100 * scene.tile_cloud, 6)
    props["s2:product_type"] = "S2MSI1C"
    props["s2:processing_baseline"] = baseline
    props["s2:product_uri"] = (
        f"S2{info.platform[-1].upper()}_MSIL1C_{start}_N{baseline.replace('.', '')}_R031_T52TFM_"
        f"{(info.datetime + timedelta(hours=2)):%Y%m%dT%H%M%S}.SAFE"
    )
    props["processing:level"] = "L1C"
    doc["properties"] = props
    doc["id"] = l1c_id(scene)
    doc["collection"] = L1C_COLLECTION
    doc["assets"] = {key: asset_doc(key, hrefs[key], scene, offset=False) for key in L1C_ASSETS}
    return doc


def l1c_collection(collection_doc: Mapping[str, Any]) -> dict[str, Any]:
    """The Level-1C collection document, from the Level-2A one's shape."""
    out = dict(collection_doc)
    out["id"] = L1C_COLLECTION
    out["title"] = "SIMULATED Sentinel-2 Level-1C (rason-watch)"
    return out
