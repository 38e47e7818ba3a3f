"""The simulator writes what providers had (issue 17): Level-1C only before 2018-12-01,
Level-2A from then on, both in an overlap; archives that start later are unchanged."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from small_scenarios import THREE_SCENES_2022

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.errors import SceneMetadataError
from pipeline.geo.aoi import load_aoi
from pipeline.simulate import parse_scenario, write_archive
from pipeline.simulate.toa import (
    L2A_FROM,
    OVERLAP_UNTIL,
    atmosphere,
    products_of,
    to_surface,
    to_toa,
)
from pipeline.sources.normalise import normalise_item

EARLY = """
seed = 7
start = "2018-11-25"
end = "2018-12-05"
revisit_days = 5
cloud_probability = 0.2
[[aoi]]
id = "rajin-port"
activity = [ { from = "2018-11-25", ships = 3.0 } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2018-11-25", railcars = 20 } ]
"""
#: test_simulate_archive.py's three-scene scenario (2022), and the SHA-256 of every file its
#: archive holds but catalog.json (which names the renderer's code digest), as written by
#: the simulator before issue 17. Regenerate only for a deliberate change of the pixels.
LATE = THREE_SCENES_2022
AOI_PORT = load_aoi(DEFAULT_AOI_DIR / "rajin-port.geojson")
LATE_DIGEST = "e07ab05cda13f3a93e4536438b04eb941e91edfc405fd605dbdf94057294303b"


def test_products_follow_what_esa_produced() -> None:
    early = date(2017, 3, 1)
    assert products_of(date(2018, 11, 30), scenario_start=early) == ("L1C",)
    assert products_of(L2A_FROM, scenario_start=early) == ("L2A", "L1C")
    assert products_of(OVERLAP_UNTIL, scenario_start=early) == ("L2A",)
    # an archive that starts with Level-2A is exactly what it was: no overlap
    assert products_of(L2A_FROM, scenario_start=L2A_FROM) == ("L2A",)


def test_the_atmosphere_brightens_blue_most_and_winter_more() -> None:
    summer_path, summer_trans = atmosphere(65.0)
    winter_path, _ = atmosphere(25.0)
    assert summer_path[0] > 5 * summer_path[3] > 0
    assert 0.05 < summer_path[0] < 0.15
    assert winter_path[0] > summer_path[0]
    assert summer_trans[0] < summer_trans[4] < 1.0
    surface = np.full((5, 2, 2), 0.03, np.float32)
    assert np.allclose(to_surface(to_toa(surface, 40.0), 40.0), surface, atol=1e-6)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "catalog.json":
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.mark.slow
def test_an_archive_starting_after_2018_is_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "late"
    write_archive(parse_scenario(LATE, where="late.toml"), out, workers=1)
    assert not (out / "sentinel-2-l1c").exists()
    assert _digest(out) == LATE_DIGEST


@pytest.fixture(scope="module")
def early(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("early") / "archive"
    write_archive(parse_scenario(EARLY, where="early.toml"), out, workers=1)
    return out


@pytest.mark.slow
def test_before_december_2018_only_level_1c_then_both(early: Path) -> None:
    l1c = sorted(p.name for p in (early / "sentinel-2-l1c").iterdir() if p.is_dir())
    l2a = sorted(p.name for p in (early / "sentinel-2-c1-l2a").iterdir() if p.is_dir())
    assert l1c == [
        "S2A_52TFM_20181125_0_L1C",
        "S2A_52TFM_20181205_0_L1C",
        "S2B_52TFM_20181130_0_L1C",
    ]
    assert l2a == ["S2A_T52TFM_20181205T021601_L2A"]
    catalog = json.loads((early / "catalog.json").read_text())
    children = [link["href"] for link in catalog["links"] if link["rel"] == "child"]
    assert children == ["./sentinel-2-c1-l2a/collection.json", "./sentinel-2-l1c/collection.json"]
    with (early / "truth.csv").open() as f:
        ids = {row["scene_id"] for row in csv.DictReader(f)}
    assert ids == {*l1c, *l2a}


@pytest.mark.slow
def test_level_1c_items_have_toa_bands_and_no_scl(early: Path) -> None:
    folder = early / "sentinel-2-l1c" / "S2A_52TFM_20181205_0_L1C"
    doc = json.loads((folder / "S2A_52TFM_20181205_0_L1C.json").read_text())
    assert doc["collection"] == "sentinel-2-l1c"
    assert sorted(doc["assets"]) == ["blue", "green", "nir", "red", "swir16"]
    props = doc["properties"]
    assert props["s2:product_type"] == "S2MSI1C"
    assert props["s2:processing_baseline"] == "02.07"
    assert props["rasonwatch:simulated"] is True
    assert not any(k.endswith("_percentage") for k in props)
    with pytest.raises(SceneMetadataError, match="Level-1C"):
        normalise_item(doc, source="local")
    l2a = early / "sentinel-2-c1-l2a" / "S2A_T52TFM_20181205T021601_L2A"
    with rasterio.open(folder / "B02.tif") as t, rasterio.open(l2a / "B02.tif") as s:
        toa, surface = t.read(1).astype(float), s.read(1).astype(float)
    painted = surface > 0
    assert np.array_equal(toa > 0, painted)
    path, trans = atmosphere(float(props["view:sun_elevation"]))
    expected = np.rint(surface[painted] * trans[0] + path[0] * 10000)
    assert np.abs(toa[painted] - expected).max() <= 1.0
    assert np.median(toa[painted] - surface[painted]) > 500  # blue path over dark water


@pytest.mark.slow
def test_level_1c_is_read_only_when_asked_and_masked_without_scl(early: Path) -> None:
    """The TOA cloud mask against SCL on the Level-2A item of the same date (SIMULATED)."""
    from pipeline.config import Settings
    from pipeline.detect.masks import clear_fraction, clear_mask
    from pipeline.errors import ReadError
    from pipeline.read.chips import read_chip
    from pipeline.sources.local import LocalSource

    scenes = {
        s.level: s
        for s in LocalSource(early).search(AOI_PORT, date(2018, 12, 5), date(2018, 12, 5))
    }
    assert set(scenes) == {"L2A"}  # the best product of the date
    items = {i["id"]: i for i in LocalSource(early).items()}
    l1c = normalise_item(items["S2A_52TFM_20181205_0_L1C"], source="local", allow_l1c=True)
    aoi = AOI_PORT
    with pytest.raises(ReadError, match="pass allow_l1c=True"):
        read_chip(l1c, aoi, settings=Settings())
    toa = read_chip(l1c, aoi, settings=Settings(), allow_l1c=True)
    surface = read_chip(scenes["L2A"], aoi, settings=Settings())
    inside = toa.valid & surface.valid
    by_toa = clear_fraction(clear_mask(toa.scl), inside)
    by_scl = clear_fraction(clear_mask(surface.scl), inside)
    assert abs(by_toa - by_scl) < 0.15
    assert float(np.nanmedian(toa.band("blue") - surface.band("blue"))) > 0.05
