"""A number comes only from its own pixels: caches and references keyed by source, one
reference per series.

Two SIMULATED archives with the same scene ids and other pixels stand for two providers'
copies of one scene (or an archive simulated again): sharing one ``--data-dir`` must never
let one archive's chips or references serve the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from claims_fixtures import series
from conftest import SMALL_SCENARIO
from flow_helpers import END, START, detections, observations, rows

from pipeline.claims.parse import Claim
from pipeline.claims.rules import evaluate_claim
from pipeline.config import Settings
from pipeline.geo.aoi import resolve_aoi
from pipeline.read.chip_cache import ChipCache
from pipeline.read.chips import read_chip
from pipeline.run.scene_work import ReadSpec, read_one
from pipeline.sources.local import LocalSource
from pipeline.store.references import saved_references
from pipeline.types import Scene

#: The small archive's world with other activity: same seed, dates and scene ids.
OTHER_SCENARIO = SMALL_SCENARIO.replace("ships = 3 }", "ships = 0.3 }").replace(
    "railcars = 40 }", "railcars = 5 }"
)
#: The reference period of these tests: the small archives' whole range.
PERIOD = (START, END)


@pytest.fixture(scope="module")
def other_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SIMULATED archive with the small archive's scene ids and other pixels."""
    from pipeline.simulate import parse_scenario, write_archive

    out = tmp_path_factory.mktemp("other") / "archive"
    write_archive(parse_scenario(OTHER_SCENARIO, where="other.toml"), out)
    return out


def _first_scene(archive: Path, aoi_id: str) -> Scene:
    aoi = resolve_aoi(aoi_id, Settings().aoi_dir)
    return LocalSource(archive).search(aoi, START, END)[0]


@pytest.mark.slow
def test_the_two_archives_share_scene_ids(small_archive: Path, other_archive: Path) -> None:
    assert "ships = 0.3" in OTHER_SCENARIO
    assert "railcars = 5 }" in OTHER_SCENARIO
    aoi = resolve_aoi("rajin-port", Settings().aoi_dir)
    ids = [s.id for s in LocalSource(small_archive).search(aoi, START, END)]
    assert ids == [s.id for s in LocalSource(other_archive).search(aoi, START, END)]


@pytest.mark.slow
def test_one_scene_from_two_sources_is_two_cache_entries(
    small_archive: Path, other_archive: Path, tmp_path: Path
) -> None:
    settings = Settings()
    aoi = resolve_aoi("rajin-port", settings.aoi_dir)
    one, two = _first_scene(small_archive, aoi.id), _first_scene(other_archive, aoi.id)
    assert one.id == two.id
    cache = tmp_path / "chips"
    first = read_one(one, aoi, ReadSpec(LocalSource(small_archive), settings, cache))
    second = read_one(two, aoi, ReadSpec(LocalSource(other_archive), settings, cache))
    direct = read_chip(two, aoi, settings=settings, sign=lambda href: href)
    assert np.array_equal(second.reflectance, direct.reflectance, equal_nan=True)
    assert not np.array_equal(first.reflectance, second.reflectance, equal_nan=True)
    assert ChipCache(cache).stats().files == 2
    again = read_one(one, aoi, ReadSpec(LocalSource(small_archive), settings, cache))  # a cache hit
    assert np.array_equal(again.reflectance, first.reflectance, equal_nan=True)


@pytest.mark.slow
def test_an_archive_simulated_again_in_place_is_not_served_from_the_cache(
    small_archive: Path, other_archive: Path, tmp_path: Path
) -> None:
    import shutil

    settings = Settings()
    aoi = resolve_aoi("rajin-port", settings.aoi_dir)
    archive = tmp_path / "archive"
    shutil.copytree(small_archive, archive)
    spec = ReadSpec(LocalSource(archive), settings, tmp_path / "chips")
    before = read_one(_first_scene(archive, aoi.id), aoi, spec)
    shutil.rmtree(archive)
    shutil.copytree(other_archive, archive)  # same paths, same ids, other pixels
    after = read_one(_first_scene(archive, aoi.id), aoi, spec)
    direct = read_chip(_first_scene(archive, aoi.id), aoi, settings=settings, sign=str)
    assert np.array_equal(after.reflectance, direct.reflectance, equal_nan=True)
    assert not np.array_equal(after.reflectance, before.reflectance, equal_nan=True)


# --- whole backfills (Prefect) ---------------------------------------------------------------
@dataclass(frozen=True)
class SharedDataDir:
    """Two archives backfilled into two stores with one data folder, and a control."""

    data_dir: Path
    first_db: Path
    second_db: Path
    fresh_db: Path
    fresh_dir: Path


def _backfill(archive: Path, data_dir: Path, db: Path, **options: Any) -> dict[str, Any]:
    from pipeline.flows import backfill_flow

    result: dict[str, Any] = backfill_flow(
        start=START,
        end=END,
        source=str(archive),
        data_dir=str(data_dir),
        db=str(db),
        batch_size=4,
        reference_period=options.pop("reference_period", PERIOD),
        **options,
    )
    return result


@pytest.fixture(scope="module")
def shared(
    prefect_api: str,
    small_archive: Path,
    other_archive: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> SharedDataDir:
    root = tmp_path_factory.mktemp("shared")
    run = SharedDataDir(
        data_dir=root / "data",
        first_db=root / "first.sqlite",
        second_db=root / "second.sqlite",
        fresh_db=root / "fresh.sqlite",
        fresh_dir=root / "fresh-data",
    )
    _backfill(small_archive, run.data_dir, run.first_db)
    _backfill(other_archive, run.data_dir, run.second_db)
    _backfill(other_archive, run.fresh_dir, run.fresh_db)
    return run


@pytest.mark.slow
def test_a_second_archive_in_the_same_data_dir_equals_a_fresh_run(shared: SharedDataDir) -> None:
    second, fresh = observations(shared.second_db), observations(shared.fresh_db)
    assert second
    assert second == fresh
    assert detections(shared.second_db) == detections(shared.fresh_db)
    assert observations(shared.first_db) != second  # other pixels: other numbers


@pytest.mark.slow
def test_each_archive_has_its_own_references_in_the_shared_data_dir(
    shared: SharedDataDir, small_archive: Path, other_archive: Path
) -> None:
    for aoi in ("rajin-port", "tumangang-rail"):
        found = saved_references(shared.data_dir / "references", aoi)
        sources = {s.provenance.key.source for s in found}
        assert sources == {f"local:{small_archive.resolve()}", f"local:{other_archive.resolve()}"}
        for stored in found:
            assert stored.provenance.key.period == PERIOD
            assert stored.provenance.scene_ids
            assert set(stored.provenance.scene_origins) == set(stored.provenance.scene_ids)
    ids = {r[0] for r in rows(shared.second_db, "SELECT reference_id FROM observations")}
    first = {r[0] for r in rows(shared.first_db, "SELECT reference_id FROM observations")}
    assert len(ids) == len(first) == 2  # one per AOI
    assert not ids & first


@pytest.mark.slow
def test_a_new_reference_mid_series_reprocesses_the_whole_series(
    prefect_api: str, small_archive: Path, tmp_path: Path
) -> None:
    db, data = tmp_path / "rw.sqlite", tmp_path / "data"
    _backfill(small_archive, data, db)
    sql = "SELECT aoi, COUNT(*), COUNT(DISTINCT reference_id) FROM observations GROUP BY aoi"
    before = rows(db, "SELECT aoi, scene_id, reference_id FROM observations ORDER BY 1, 2")
    # A later run over June only, with another reference period: May's rows were measured
    # against the old reference, and are processed again against the new one.
    from pipeline.flows import backfill_flow

    summary = backfill_flow(
        start=date(2022, 6, 1),
        end=END,
        source=str(small_archive),
        data_dir=str(data),
        db=str(db),
        batch_size=4,
        # Ends before 2022-06-25, the last clear look of both AOIs: each reference loses a
        # scene and still has the five clear looks it needs.
        reference_period=(START, date(2022, 6, 22)),
    )
    after = rows(db, "SELECT aoi, scene_id, reference_id FROM observations ORDER BY 1, 2")
    assert [r[:2] for r in after] == [r[:2] for r in before]  # the same rows, nothing added
    assert summary["ok"] == len(before)  # every row processed again, May's included
    assert all(n_refs == 1 for _, _, n_refs in rows(db, sql))
    old = {r[2] for r in before}
    assert not old & {r[2] for r in after}


# --- evaluate never pools references ------------------------------------------------------------
PORT = Claim(id="port", quote="q", source="s", aoi="rajin-port", metric="ships")


def test_evaluate_refuses_a_series_that_mixes_references() -> None:
    obs = series([(date(2021, 1, 1), 0.5), (date(2023, 8, 1), 4.0)], seed=4)
    one = [replace(o, reference_id="aaaa") for o in obs]
    assert evaluate_claim(PORT, one).verdict == "supported"
    half = len(one) // 2
    mixed = [*one[:half], *(replace(o, reference_id="bbbb") for o in one[half:])]
    verdict = evaluate_claim(PORT, mixed)
    assert verdict.verdict == "inconclusive"
    assert "mixes 2 references" in verdict.reason
    (note,) = [n for n in verdict.notes if "references" in n]
    assert "aaaa" in note
    assert "bbbb" in note
    unknown = [*one[:half], *(replace(o, reference_id=None) for o in one[half:])]
    assert evaluate_claim(PORT, unknown).verdict == "inconclusive"
