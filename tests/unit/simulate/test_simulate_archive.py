"""The archive: real COGs, Earth-Search-shaped STAC items, the truth, and safe writing."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.windows import Window
from small_scenarios import THREE_SCENES_2022

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.errors import RasonWatchError
from pipeline.geo.aoi import load_aois
from pipeline.simulate import Scenario, parse_scenario, render_scene, write_archive
from pipeline.simulate import archive as archive_module
from pipeline.simulate.geography import site_map
from pipeline.simulate.grid import region

TEXT = THREE_SCENES_2022
KEYS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11", "scl": "SCL"}


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return parse_scenario(TEXT, where="three.toml")


@pytest.fixture(scope="module")
def out(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim") / "archive"
    calls: list[tuple[int, int]] = []
    summary = write_archive(scenario, folder, progress=lambda d, n: calls.append((d, n)), workers=1)
    assert summary.scenes == 3
    assert summary.bytes > 0
    assert calls[-1] == (3, 3)
    return folder


def _items(out: Path) -> list[pystac.Item]:
    paths = sorted((out / "sentinel-2-c1-l2a").glob("*/*.json"))
    return [pystac.Item.from_file(str(p)) for p in paths]


@pytest.mark.slow
def test_layout_and_catalog(out: Path) -> None:
    raw = json.loads(next((out / "sentinel-2-c1-l2a").glob("*/S2*.json")).read_text())
    assert raw["properties"]["proj:epsg"] == 32652
    assert raw["assets"]["blue"]["href"] == "./B02.tif"
    catalog = pystac.Catalog.from_file(str(out / "catalog.json"))
    assert catalog.extra_fields["rasonwatch:simulated"] is True
    items = list(catalog.get_items(recursive=True))
    assert len(items) == 3
    assert "SIMULATED" in (out / "README.txt").read_text()
    assert (out / "scenario.toml").read_text() == TEXT
    assert not list(out.parent.glob(".archive.*")), "temporary folders left behind"


@pytest.mark.slow
def test_cogs_are_tiled_compressed_with_overviews(out: Path) -> None:
    item = _items(out)[0]
    for key, stem in KEYS.items():
        href = item.assets[key].get_absolute_href()
        assert href is not None
        assert href.endswith(f"/{stem}.tif")
        with rasterio.open(href) as ds:
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert ds.profile["tiled"]
            assert ds.block_shapes[0] == (512, 512)
            assert ds.compression.name == "deflate"
            assert ds.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"
            assert ds.overviews(1), "no internal overviews"
            assert ds.nodata == 0
            assert ds.dtypes[0] == ("uint8" if key == "scl" else "uint16")
            assert ds.crs.to_epsg() == 32652
            asset = item.assets[key].extra_fields
            assert list(ds.transform)[:6] == asset["proj:transform"]
            assert [ds.height, ds.width] == asset["proj:shape"]


@pytest.mark.slow
def test_items_look_like_earth_search(out: Path) -> None:
    aois = load_aois(DEFAULT_AOI_DIR)
    for item in _items(out):
        assert set(KEYS) <= set(item.assets)
        props = item.properties
        assert props["rasonwatch:simulated"] is True
        # pystac migrates projection v1.1 (proj:epsg) to v2 (proj:code) on read.
        assert props.get("proj:code", f"EPSG:{props.get('proj:epsg')}") == "EPSG:32652"
        assert props["grid:code"] == "MGRS-52TFM"
        assert props["platform"] in ("sentinel-2a", "sentinel-2b")
        assert 0 <= props["eo:cloud_cover"] <= 100
        assert 15 < props["view:sun_elevation"] < 35  # January at 42 N, ~11:00 solar time
        assert item.id.startswith(("S2A_T52TFM_2022", "S2B_T52TFM_2022"))
        baseline = props["s2:processing_baseline"]
        assert baseline == ("04.00" if item.datetime and item.datetime.day >= 25 else "03.01")
        for key in KEYS:
            band = item.assets[key].extra_fields["raster:bands"][0]
            assert band["nodata"] == 0
            if key == "scl":
                assert band["data_type"] == "uint8"
                continue
            assert band["scale"] == 0.0001
            assert band.get("offset", 0) == (-0.1 if baseline == "04.00" else 0)
        west, south, east, north = item.bbox or (0, 0, 0, 0)
        for aoi in aois:  # the footprint holds both AOIs
            a_west, a_south, a_east, a_north = aoi.geometry.bounds
            assert west < a_west
            assert east > a_east
            assert south < a_south
            assert north > a_north


@pytest.mark.slow
def test_dark_water_dn_follow_the_baseline(out: Path) -> None:
    reg = region("rajin-port")
    sea = site_map("rajin-port").water_fraction > 0.99
    for item in _items(out):
        with rasterio.open(item.assets["nir"].get_absolute_href()) as ds:
            dn = ds.read(1, window=Window(reg.col0, reg.row0, reg.width, reg.height))
        with rasterio.open(item.assets["scl"].get_absolute_href()) as ds:
            scl = ds.read(
                1, window=Window(reg.col0 // 2, reg.row0 // 2, reg.width // 2, reg.height // 2)
            )
        clear_water = sea & np.repeat(np.repeat(scl == 6, 2, 0), 2, 1)
        assert clear_water.sum() > 1000
        # Thin cloud edges escape the SCL (as in real L2A): judge by the darker half.
        dark = float(np.percentile(dn[clear_water], 25))
        offset = 1000 if item.properties["s2:processing_baseline"] == "04.00" else 0
        assert offset + 50 < dark < offset + 350, (item.id, dark)


@pytest.mark.slow
def test_reader_gets_back_exactly_the_render(out: Path, scenario: Scenario) -> None:
    item = _items(out)[-1]
    scene = render_scene(scenario, item.datetime.date() if item.datetime else 0)
    assert scene.info.item_id == item.id
    for key in ("red", "swir16", "scl"):
        with rasterio.open(item.assets[key].get_absolute_href()) as ds:
            np.testing.assert_array_equal(ds.read(1), scene.dn(key))


@pytest.mark.slow
def test_truth_csv_and_objects(out: Path, scenario: Scenario) -> None:
    with (out / "truth.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [
            "scene_id",
            "aoi",
            "datetime",
            "ships",
            "railcars",
            "clear_fraction",
        ]
        rows = list(reader)
    assert len(rows) == 6
    scene = render_scene(scenario, 0)
    first = {r["aoi"]: r for r in rows if r["scene_id"] == scene.info.item_id}
    assert int(first["rajin-port"]["ships"]) == len(scene.truth["rajin-port"].ships)
    assert int(first["tumangang-rail"]["railcars"]) == scene.truth["tumangang-rail"].railcars
    assert float(first["rajin-port"]["clear_fraction"]) == scene.truth["rajin-port"].clear_fraction
    records = [json.loads(line) for line in (out / "truth-objects.ndjson").read_text().splitlines()]
    assert len(records) == 6
    ships = [s for r in records for s in r["ships"]]
    assert ships
    assert {
        "lon",
        "lat",
        "row",
        "col",
        "length_m",
        "width_m",
        "heading_deg",
        "at_berth",
    } <= set(ships[0])
    strings = [s for r in records for s in r["railcar_strings"]]
    assert all(s["zone"] in ("tumangang-yard", "khasan-yard") for s in strings)


@pytest.mark.slow
def test_items_ndjson_hrefs_are_relative_to_the_archive(out: Path) -> None:
    lines = (out / "items.ndjson").read_text().splitlines()
    assert len(lines) == 3
    for line in lines:
        doc: dict[str, Any] = json.loads(line)
        item = pystac.Item.from_dict(doc)
        for asset in item.assets.values():
            assert not asset.href.startswith(("/", "http"))
            assert (out / asset.href).is_file()


def test_refuses_a_folder_that_is_not_an_archive(tmp_path: Path, scenario: Scenario) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RasonWatchError, match="not empty"):
        write_archive(scenario, tmp_path, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_failure_leaves_nothing_and_an_archive_can_be_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = parse_scenario('start = "2023-08-06"\nend = "2023-08-06"\n')
    out = tmp_path / "archive"
    write_archive(one, out, workers=1)
    first = sorted(p.name for p in (out / "sentinel-2-c1-l2a").iterdir())

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(archive_module, "write_cog", broken)
    other = parse_scenario('start = "2023-08-11"\nend = "2023-08-11"\n')
    with pytest.raises(OSError, match="disk full"):
        write_archive(other, out, workers=1)
    assert sorted(p.name for p in (out / "sentinel-2-c1-l2a").iterdir()) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]
    monkeypatch.undo()
    write_archive(other, out, workers=1)
    assert sorted(p.name for p in (out / "sentinel-2-c1-l2a").iterdir()) != first
