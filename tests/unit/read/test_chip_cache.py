"""The chip cache: exact round trip, keys, corruption, size report and pruning."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from shapely.affinity import translate

from pipeline.cli.app import main
from pipeline.config import BANDS, Settings
from pipeline.errors import UnsafePathError
from pipeline.geo.aoi import resolve_aoi
from pipeline.read.chip_cache import ChipCache, aoi_key
from pipeline.read.pixel_origin import scene_origin
from pipeline.types import Aoi, BandAsset, Chip, Scene

#: The identity of a chip's pixels (``pipeline.read.pixel_origin.scene_origin``).
ORIGIN = "0123456789abcdef"


@pytest.fixture(scope="module")
def aoi() -> Aoi:
    return resolve_aoi("rajin-port", Settings().aoi_dir)


def _chip(scene_id: str = "S2A_T52TFM_20230101T021601_L2A", seed: int = 0) -> Chip:
    rng = np.random.default_rng(seed)
    reflectance = rng.normal(0.1, 0.05, (5, 37, 41)).astype(np.float32)
    reflectance[:, :3, :] = np.nan  # no data along the top
    reflectance[2, 10, 10] = np.float32(-0.0999)  # negative reflectance survives too
    scl = rng.integers(0, 12, (37, 41), dtype=np.uint8)
    valid = rng.random((37, 41)) > 0.2
    transform = Affine(10.0, 0.0, 699960.0 + 10 * seed, 0.0, -10.0, 4700040.0)
    return Chip(scene_id, "rajin-port", reflectance, scl, valid, transform, 32652)


def test_round_trip_is_exact(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path / "chips")
    chip = _chip()
    assert cache.get(chip.scene_id, ORIGIN, aoi) is None
    path = cache.put(chip, ORIGIN, aoi)
    assert path.suffix == ".tif"
    assert path.is_relative_to(tmp_path / "chips" / "rajin-port")
    back = cache.get(chip.scene_id, ORIGIN, aoi)
    assert back is not None
    assert back.reflectance.dtype == np.float32
    assert np.array_equal(back.reflectance, chip.reflectance, equal_nan=True)
    assert back.scl.dtype == np.uint8
    assert np.array_equal(back.scl, chip.scl)
    assert np.array_equal(back.valid, chip.valid)
    assert back.transform == chip.transform
    assert back.epsg == chip.epsg
    assert (back.scene_id, back.aoi_id) == (chip.scene_id, chip.aoi_id)


def test_file_is_a_compressed_georeferenced_tiff(tmp_path: Path, aoi: Aoi) -> None:
    import rasterio

    chip = _chip()
    path = ChipCache(tmp_path).put(chip, ORIGIN, aoi)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32652
        assert src.transform == chip.transform
        assert src.profile["compress"].lower() == "zstd"
        assert src.profile["tiled"]
        assert src.descriptions[-2:] == ("scl", "valid")


def test_key_follows_the_aoi_outline(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path)
    chip = _chip()
    cache.put(chip, ORIGIN, aoi)
    moved = replace(aoi, geometry=translate(aoi.geometry, xoff=0.001))
    assert aoi_key(moved) != aoi_key(aoi)
    assert cache.get(chip.scene_id, ORIGIN, moved) is None  # an edited AOI never gets stale pixels
    assert cache.get("S2B_other", ORIGIN, aoi) is None


def test_odd_scene_ids_stay_inside_the_cache(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path / "chips")
    chip = _chip("../../etc/passwd?x=1")
    path = cache.put(chip, ORIGIN, aoi)
    assert path.is_relative_to(tmp_path / "chips")
    back = cache.get(chip.scene_id, ORIGIN, aoi)
    assert back is not None
    assert back.scene_id == chip.scene_id


def test_a_corrupt_file_is_a_miss_and_is_removed(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path)
    chip = _chip()
    path = cache.put(chip, ORIGIN, aoi)
    path.write_bytes(path.read_bytes()[:500])
    assert cache.get(chip.scene_id, ORIGIN, aoi) is None
    assert not path.exists()


def test_stats_and_prune_by_age_size_and_all(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path)
    paths = [cache.put(_chip(f"S{i}", seed=i), ORIGIN, aoi) for i in range(4)]
    now = time.time()
    for age_days, path in zip((40, 20, 1, 0), paths, strict=True):
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    stats = cache.stats()
    assert stats.files == 4
    assert stats.bytes == sum(p.stat().st_size for p in paths)
    assert stats.per_aoi == {"rajin-port": (4, stats.bytes)}

    oldest = paths[0].stat().st_size
    assert cache.prune(older_than_s=30 * 86400) == (1, oldest)
    assert not paths[0].exists()
    assert all(p.exists() for p in paths[1:])

    keep = paths[3].stat().st_size
    files, freed = cache.prune(max_bytes=keep)
    assert files == 2  # least recently used first: the 20-day and the 1-day chip
    assert freed > 0
    assert [p.exists() for p in paths[1:]] == [False, False, True]

    assert cache.prune() == (1, keep)
    assert cache.stats().files == 0
    assert list(tmp_path.iterdir()) == []  # empty folders removed too


def test_a_hit_marks_the_chip_as_used(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path)
    path = cache.put(_chip(), ORIGIN, aoi)
    os.utime(path, (1, 1))
    assert cache.get(_chip().scene_id, ORIGIN, aoi) is not None
    assert path.stat().st_mtime > 1e9


def test_cache_command_reports_and_prunes(
    tmp_path: Path, aoi: Aoi, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ChipCache(tmp_path / "chips")
    for i in range(3):
        cache.put(_chip(f"S{i}", seed=i), ORIGIN, aoi)
    assert main(["cache", "--data-dir", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 3
    assert report["aois"]["rajin-port"]["files"] == 3

    assert main(["cache", "--data-dir", str(tmp_path), "--prune", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pruned"]["files"] == 3
    assert report["files"] == 0

    assert main(["cache", "--data-dir", str(tmp_path), "--older-than", "3"]) == 2
    assert "--prune" in capsys.readouterr().err


def _scene(hrefs: dict[str, str], **changes: object) -> Scene:
    scene = Scene(
        id="S2A_52TFM_20230801_0_L2A",
        datetime=datetime(2023, 8, 1, 2, 16, tzinfo=UTC),
        platform="sentinel-2a",
        tile="52TFM",
        epsg=32652,
        processing_baseline="05.09",
        assets={band: BandAsset(href, offset=-0.1) for band, href in hrefs.items()},
        cloud_cover=1.0,
        source="earth-search",
        collection="sentinel-2-c1-l2a",
        properties={"updated": "2023-08-01T09:00:00Z"},
    )
    return replace(scene, **changes)  # type: ignore[arg-type]


REMOTE = {b: f"https://bucket.example/52TFM/{b}.tif" for b in BANDS}


def test_the_origin_names_the_bytes_not_the_scene_id(tmp_path: Path) -> None:
    base = scene_origin(_scene(REMOTE), BANDS)
    signed = {b: f"{h}?sv=2024&sig=SECRET" for b, h in REMOTE.items()}
    assert scene_origin(_scene(signed), BANDS) == base  # the signature is not the file
    other_host = {b: h.replace("bucket.example", "mirror.example") for b, h in REMOTE.items()}
    variants = [
        _scene(other_host),
        _scene(REMOTE, source="planetary-computer"),
        _scene(REMOTE, collection="sentinel-2-l2a"),
        _scene(REMOTE, processing_baseline="04.00"),
        _scene(REMOTE, properties={"updated": "2024-02-01T00:00:00Z"}),
        _scene({**REMOTE, "red": REMOTE["red"].replace("red", "B04")}),
        _scene(REMOTE, assets={b: BandAsset(h, offset=0.0) for b, h in REMOTE.items()}),
    ]
    origins = {scene_origin(v, BANDS) for v in variants}
    assert len(origins) == len(variants)
    assert base not in origins


def test_a_local_file_rewritten_in_place_is_another_origin(tmp_path: Path) -> None:
    files = {b: tmp_path / f"{b}.tif" for b in BANDS}
    for path in files.values():
        path.write_bytes(b"first")
    scene = _scene({b: str(p) for b, p in files.items()})
    first = scene_origin(scene, BANDS)
    assert scene_origin(scene, BANDS) == first
    files["nir"].write_bytes(b"second!")  # other size
    second = scene_origin(scene, BANDS)
    assert second != first
    os.utime(files["nir"], ns=(1, 1))  # same size, other time
    assert scene_origin(scene, BANDS) not in (first, second)


def test_two_origins_of_one_scene_are_two_chips(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path)
    one, two = _chip(seed=1), _chip(seed=2)
    path_one = cache.put(one, "aaaaaaaaaaaaaaaa", aoi)
    path_two = cache.put(two, "bbbbbbbbbbbbbbbb", aoi)
    assert path_one != path_two
    back_one = cache.get(one.scene_id, "aaaaaaaaaaaaaaaa", aoi)
    back_two = cache.get(one.scene_id, "bbbbbbbbbbbbbbbb", aoi)
    assert back_one is not None
    assert back_two is not None
    assert np.array_equal(back_one.reflectance, one.reflectance, equal_nan=True)
    assert np.array_equal(back_two.reflectance, two.reflectance, equal_nan=True)
    assert cache.get(one.scene_id, "cccccccccccccccc", aoi) is None
    assert cache.stats().files == 2


def test_an_entry_of_another_origin_is_a_miss_and_is_removed(tmp_path: Path, aoi: Aoi) -> None:
    cache = ChipCache(tmp_path)
    chip = _chip()
    wrong = cache.put(chip, "aaaaaaaaaaaaaaaa", aoi)
    target = cache.path_for(chip.scene_id, "bbbbbbbbbbbbbbbb", aoi)
    wrong.rename(target)  # a file whose tags name another origin than its key
    assert cache.get(chip.scene_id, "bbbbbbbbbbbbbbbb", aoi) is None
    assert not target.exists()


def test_an_origin_cannot_name_a_path(tmp_path: Path, aoi: Aoi) -> None:
    with pytest.raises(UnsafePathError):
        ChipCache(tmp_path).path_for("S2A_1", "../x", aoi)
