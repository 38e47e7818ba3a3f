"""CDSE's best product of each date over a real STAC API: ``rustac serve`` on 127.0.0.1
holding CDSE-shaped ``sentinel-2-l2a`` and ``sentinel-2-l1c`` items (:mod:`cdse_items`),
searched with pystac-client by :class:`~pipeline.sources.CdseSource` and by
``rasonwatch scenes --source cdse``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cdse_items import load_l2a, moved, to_l1c
from servers import RustacFactory, RustacServer
from shapely.geometry import box, mapping, shape
from synthetic_scene import write_ndjson

from pipeline.cli.app import main
from pipeline.sources import CdseSource
from pipeline.types import Aoi

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cdse_api(
    stac_recorded: Path, rustac: RustacFactory, tmp_path_factory: pytest.TempPathFactory
) -> tuple[RustacServer, dict[str, Any]]:
    """Day 0: Level-2A and Level-1C; day 5: Level-1C only; day 10: Level-2A only; day 40:
    Level-1C only (a month with nothing better)."""
    l2a = load_l2a(stac_recorded)
    l1c = to_l1c(l2a)
    items = [moved(l2a, days=d) for d in (0, 10)] + [moved(l1c, days=d) for d in (0, 5, 40)]
    root = tmp_path_factory.mktemp("cdse")
    return rustac.start([write_ndjson(root / "items.ndjson", items)]), l2a


def _area(item: dict[str, Any]) -> Any:
    centre = shape(item["geometry"]).representative_point()
    return box(centre.x - 0.02, centre.y - 0.01, centre.x + 0.02, centre.y + 0.01)


def test_a_date_with_only_l1c_gives_an_l1c_scene_and_both_give_l2a_only(
    cdse_api: tuple[RustacServer, dict[str, Any]],
) -> None:
    api, l2a = cdse_api
    aoi = Aoi(id="t", name="t", kind="port", geometry=_area(l2a))
    scenes = CdseSource({"CDSE_STAC_URL": api.url}).search(aoi, date(2025, 3, 1), date(2025, 5, 31))
    assert [(s.date_key, s.collection, s.level) for s in scenes] == [
        ("2025-03-30", "sentinel-2-l2a", "L2A"),
        ("2025-04-04", "sentinel-2-l1c", "L1C"),
        ("2025-04-09", "sentinel-2-l2a", "L2A"),
        ("2025-05-09", "sentinel-2-l1c", "L1C"),
    ]
    assert all(s.source == "cdse" for s in scenes)
    l1c = scenes[1]
    assert l1c.id.startswith("S2C_MSIL1C_")
    assert "scl" not in l1c.assets
    assert l1c.assets["red"].href.endswith("_B04.jp2")


def test_scenes_shows_cdse_products_and_gaps(
    cdse_api: tuple[RustacServer, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, l2a = cdse_api
    aoi_file = tmp_path / "cdse-test.geojson"
    feature = {"type": "Feature", "properties": {"kind": "port"}, "geometry": mapping(_area(l2a))}
    aoi_file.write_text(json.dumps(feature))
    monkeypatch.setenv("CDSE_STAC_URL", api.url)
    argv = ["scenes", "--aoi", str(aoi_file), "--start", "2025-02-01", "--end", "2025-05-31"]
    assert main([*argv, "--source", "cdse", "--json"]) == 0
    out, err = capsys.readouterr()
    listed = [(s["datetime"][:10], s["collection"], s["level"]) for s in json.loads(out)]
    assert listed == [
        ("2025-03-30", "sentinel-2-l2a", "L2A"),
        ("2025-04-04", "sentinel-2-l1c", "L1C"),
        ("2025-04-09", "sentinel-2-l2a", "L2A"),
        ("2025-05-09", "sentinel-2-l1c", "L1C"),
    ]
    assert err.splitlines() == [
        "cdse: sentinel-2-l1c (L1C) 2 dates 2025-04-04..2025-05-09",
        "cdse: sentinel-2-l2a (L2A) 2 dates 2025-03-30..2025-04-09",
        "cdse: months with no scene: 2025-02",
        "cdse: months with Level-1C only (no Level-2A): 2025-05",
    ]
    assert main([*argv, "--source", "cdse"]) == 0
    table = capsys.readouterr().out
    assert "L1C sentinel-2-l1c" in table
    assert "L2A sentinel-2-l2a" in table
    assert "cdse: months with Level-1C only (no Level-2A): 2025-05" in table
