"""Corrupt inputs: every bad scene is stored failed with a reason, and the run carries on.

A copy of the small SIMULATED archive (COGs symlinked, item JSON copied) gets one fault per
scene over ``rajin-port``: a COG cut in half, a COG of random bytes, a text file named
``SCL.tif``, an item without its ``nir`` asset, an item whose ``scl`` asset has no href,
and a scene whose raster lies away from the AOI (its footprint still covers it). A third
AOI lies outside every footprint. The backfill must return normally, store the good
scenes ``ok`` and each bad one ``failed`` with a reason naming its problem, build the
reference from the readable scenes only, and a re-run must neither duplicate nor lose a row.

What happens to an item the normaliser cannot fully read
    An item that lacks a band asset (or its href) is kept by the search as a scene without
    that band (see ``pipeline.sources.stac_api.collect``); its read fails with ``missing
    asset <band>``, so it is stored failed like any unreadable scene instead of vanishing
    with a log line. Items that are not Sentinel-2 L2A at all (Level-1C, Landsat) are still
    skipped with a warning: they are not scenes of this pipeline.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import pytest
import rasterio
from affine import Affine
from flow_helpers import END, START, duplicates, rows

from pipeline.config import Settings
from pipeline.detect.reference import Reference
from pipeline.errors import ReadError
from pipeline.geo.aoi import resolve_aoi
from pipeline.read.retry import failure_kind
from pipeline.run import reference_choice, scene_work
from pipeline.run.analysis import SceneTask
from pipeline.run.job import Job
from pipeline.run.options import RunOptions
from pipeline.run.scene_work import ReadSpec, Survey
from pipeline.run.steps import Handle, Steps, batches
from pipeline.sources import open_source
from pipeline.store.references import saved_references
from pipeline.types import Aoi, Scene

pytestmark = pytest.mark.slow

AOI: Final = "rajin-port"
#: Fault kind -> index of the scene (in time order) that gets it: the four cloudier scenes
#: and two clear ones, so that enough clear scenes are left for the reference.
FAULTS: Final = {
    "truncated": 0,
    "garbage": 2,
    "text": 4,
    "no-nir": 5,
    "no-href": 9,
    "outside": 12,
}
#: What each fault's stored reason must say.
REASONS: Final = {
    "truncated": ("truncated file", "B08.tif"),
    "garbage": ("not a TIFF", "B04.tif"),
    "text": ("not a TIFF", "SCL.tif"),
    "no-nir": ("missing asset nir",),
    "no-href": ("missing asset scl",),
    "outside": ("outside", "B02.tif"),
}
#: A small box in central Europe: no scene of the archive comes near it.
ELSEWHERE: Final = {
    "type": "Polygon",
    "coordinates": [[[10.0, 50.0], [10.02, 50.0], [10.02, 50.02], [10.0, 50.02], [10.0, 50.0]]],
}


def _scenes(archive: Path) -> list[Scene]:
    settings = Settings()
    return open_source(str(archive), settings).search(
        resolve_aoi(AOI, settings.aoi_dir), START, END
    )


def _linked_copy(archive: Path, out: Path) -> Path:
    """A copy of ``archive`` whose JSON is copied and whose COGs are symlinks."""

    def link_or_copy(src: str, dst: str) -> None:
        if src.endswith(".tif"):
            os.symlink(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(archive, out, copy_function=link_or_copy)
    return out


def _own(path: Path) -> bytes:
    """Replace the symlink ``path`` by nothing (the original stays intact); its bytes."""
    data = path.read_bytes()
    path.unlink()
    return data


def _edit_item(folder: Path, edit: Any) -> None:
    item_file = folder / f"{folder.name}.json"
    item = json.loads(item_file.read_text())
    edit(item["assets"])
    item_file.write_text(json.dumps(item))


def _break(folder: Path, kind: str) -> None:
    """Give the scene in ``folder`` the fault ``kind``."""
    if kind == "truncated":
        data = _own(folder / "B08.tif")
        (folder / "B08.tif").write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        size = len(_own(folder / "B04.tif"))
        (folder / "B04.tif").write_bytes(random.Random(6).randbytes(size))
    elif kind == "text":
        _own(folder / "SCL.tif")
        (folder / "SCL.tif").write_text("<html>503 Service Unavailable</html>\n")
    elif kind == "no-nir":
        _edit_item(folder, lambda assets: assets.pop("nir"))
    elif kind == "no-href":
        _edit_item(folder, lambda assets: assets["scl"].pop("href"))
    elif kind == "outside":
        (folder / "B02.tif").write_bytes(_own(folder / "B02.tif"))
        with rasterio.open(folder / "B02.tif", "r+", IGNORE_COG_LAYOUT_BREAK="YES") as band:
            band.transform = band.transform @ Affine.translation(30_000, 0)  # 300 km east
    else:
        raise AssertionError(kind)


@dataclass(frozen=True)
class CorruptRun:
    """A backfill of the corrupted archive, then a re-run of the same range."""

    scenes: list[Scene]
    """The scenes over ``rajin-port``, in time order, as listed before the damage."""
    listed: list[Scene]
    """The same, as the search lists them after the damage."""
    broken: dict[str, str]
    """Fault kind -> scene id."""
    data: Path
    """The data folder."""
    first: dict[str, Any]
    """What the first run returned."""
    stored: dict[str, tuple[str, str | None]]
    """Scene id -> (status, error) after the first run."""
    rerun: dict[str, Any]
    """What the re-run returned."""
    stored_again: dict[str, tuple[str, str | None]]
    """Scene id -> (status, error) after the re-run."""
    rows_after_first: int
    """Observations after the first run."""
    rows_after_rerun: int
    """Observations after the re-run."""
    duplicates: int
    """Duplicate keys after the re-run."""


def _stored(db: Path) -> dict[str, tuple[str, str | None]]:
    return {
        r[0]: (r[1], r[2]) for r in rows(db, "SELECT scene_id, status, error FROM observations")
    }


@pytest.fixture(scope="module")
def corrupt_run(
    prefect_api: str, small_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> CorruptRun:
    from pipeline.flows import backfill_flow

    tmp = tmp_path_factory.mktemp("corrupt")
    archive = _linked_copy(small_archive, tmp / "archive")
    scenes = _scenes(archive)
    broken = {kind: scenes[index].id for kind, index in FAULTS.items()}
    for kind, scene_id in broken.items():
        _break(archive / "sentinel-2-c1-l2a" / scene_id, kind)
    listed = _scenes(archive)
    elsewhere = tmp / "elsewhere.geojson"
    elsewhere.write_text(json.dumps(ELSEWHERE))
    data = tmp / "data"
    db = data / "rasonwatch.sqlite"

    def run() -> dict[str, Any]:
        return backfill_flow(
            start=START,
            end=END,
            aois=[AOI, str(elsewhere)],
            source=str(archive),
            data_dir=str(data),
            use_cache=False,
            batch_size=4,
        )

    first = run()
    stored, rows_after_first = _stored(db), len(rows(db, "SELECT * FROM observations"))
    rerun = run()
    return CorruptRun(
        scenes=scenes,
        listed=listed,
        broken=broken,
        data=data,
        first=first,
        stored=stored,
        rerun=rerun,
        stored_again=_stored(db),
        rows_after_first=rows_after_first,
        rows_after_rerun=len(rows(db, "SELECT * FROM observations")),
        duplicates=duplicates(db),
    )


def test_the_search_still_lists_items_with_missing_assets(corrupt_run: CorruptRun) -> None:
    listed = {s.id: s for s in corrupt_run.listed}
    assert list(listed) == [s.id for s in corrupt_run.scenes]  # nothing dropped
    assert "nir" not in listed[corrupt_run.broken["no-nir"]].assets
    assert "scl" not in listed[corrupt_run.broken["no-href"]].assets


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_each_corrupt_scene_is_stored_failed_with_its_reason(
    corrupt_run: CorruptRun, kind: str
) -> None:
    status, error = corrupt_run.stored[corrupt_run.broken[kind]]
    assert status == "failed"
    assert error is not None
    assert "\n" not in error
    for words in REASONS[kind]:
        assert words in error, error


def test_the_other_scenes_are_ok_and_the_run_returns_normally(corrupt_run: CorruptRun) -> None:
    run = corrupt_run
    bad = set(run.broken.values())
    assert {sid for sid, (status, _) in run.stored.items() if status == "ok"} == {
        s.id for s in run.scenes if s.id not in bad
    }
    assert len(run.stored) == len(run.scenes)
    assert (run.first["ok"], run.first["failed"]) == (len(run.scenes) - len(bad), len(bad))
    assert {f["scene_id"] for f in run.first["failures"]} == bad


def test_the_reference_is_built_from_readable_scenes_only(corrupt_run: CorruptRun) -> None:
    (stored,) = saved_references(corrupt_run.data / "references", AOI)
    assert not set(stored.reference.scene_ids) & set(corrupt_run.broken.values())
    (row,) = [a for a in corrupt_run.first["aois"] if a["aoi"].startswith(AOI)]
    assert row["reference"].startswith("built")


def test_an_aoi_outside_every_footprint_has_no_scene_and_no_row(corrupt_run: CorruptRun) -> None:
    (row,) = [a for a in corrupt_run.first["aois"] if a["aoi"].startswith("elsewhere")]
    assert (row["scenes"], row["ok"], row["failed"]) == (0, 0, 0)
    stored_aois = rows(
        corrupt_run.data / "rasonwatch.sqlite", "SELECT DISTINCT aoi FROM observations"
    )
    assert stored_aois == [(AOI,)]


def test_a_rerun_retries_the_failed_scenes_without_duplicating_rows(
    corrupt_run: CorruptRun,
) -> None:
    run = corrupt_run
    bad = len(run.broken)
    assert (run.rerun["ok"], run.rerun["failed"]) == (0, bad)
    assert run.rerun["skipped"] == len(run.scenes) - bad
    assert run.rows_after_rerun == run.rows_after_first == len(run.scenes)
    assert run.duplicates == 0
    assert run.stored_again == run.stored
    (row,) = [a for a in run.rerun["aois"] if a["aoi"].startswith(AOI)]
    assert row["reference"].startswith("saved")  # a corrupt scene does not force a rebuild


# --- the survey's rule, without Prefect: retry what failed for now, never build on a gap -----
class _Done:
    """A finished :class:`~pipeline.run.steps.Handle`."""

    def __init__(self, value: Survey) -> None:
        self.value = value

    def result(self) -> Survey:
        return self.value


class _FlakySurvey:
    """Steps whose survey fails one scene for now, every time; counts the rounds."""

    def __init__(self, flaky: str) -> None:
        self.flaky = flaky
        self.surveyed: list[list[str]] = []
        self.built = 0

    def steps(self) -> Steps:
        def search(spec: ReadSpec, aoi: Aoi, start: date, end: date) -> list[Scene]:
            raise AssertionError("the reference period is the range itself: no second search")

        def survey(scenes: list[Scene], aoi: Aoi, spec: ReadSpec) -> Handle[Survey]:
            self.surveyed.append([s.id for s in scenes])
            fractions = tuple((s.id, 1.0) for s in scenes if s.id != self.flaky)
            for_now = {s.id: "HTTP response code: 503" for s in scenes if s.id == self.flaky}
            return _Done(Survey(fractions, {}, for_now))

        def build(scenes: list[Scene], aoi: Aoi, spec: ReadSpec) -> Reference | None:
            self.built += 1
            return None

        def process(tasks: list[SceneTask], spec: ReadSpec, shared: Any) -> Any:
            raise AssertionError("not reached")

        return Steps(
            search=search,
            survey=survey,
            build_reference=build,
            share=lambda instruments: instruments,
            process=process,
            logger=lambda: logging.getLogger("test"),
        )


@pytest.fixture
def no_survey_delays() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reference_choice, "SURVEY_RETRY_DELAYS", [0.0, 0.0])  # two more rounds
        yield


@pytest.mark.usefixtures("no_survey_delays")
def test_a_survey_gap_for_now_is_retried_then_no_reference_is_built(
    small_archive: Path, tmp_path: Path
) -> None:
    start, end = date(2022, 1, 1), date(2022, 12, 31)  # the reference period is the range
    options = RunOptions(
        source=str(small_archive),
        data_dir=str(tmp_path),
        aois=(AOI,),
        reference_period=(start, end),
    )
    job = Job.create(options)
    scenes = _scenes(small_archive)
    flaky = _FlakySurvey(flaky=scenes[2].id)
    choice = reference_choice.choose_reference(job, flaky.steps(), job.aois[0], scenes, start, end)
    assert choice.reference is None
    assert choice.label == "none (1 scenes unreadable for now)"
    assert flaky.built == 0  # never built from whichever scenes happened to be readable
    first_round = len(batches(scenes, options.batch_size))
    assert flaky.surveyed[first_round:] == [[scenes[2].id]] * 2  # two more rounds, that scene
    assert not (tmp_path / "references").exists()


def test_local_failures_never_wait_for_a_retry(small_archive: Path) -> None:
    scene = _scenes(small_archive)[0]
    words = "TIFFFillTile:Read error; got 0 bytes, expected 363160"
    kind, _ = failure_kind(OSError(words))  # as the reader classifies it where it fails
    cut = ReadError(f"cannot read /a/B08.tif after 3 attempts: {words}", kind=kind)
    assert scene_work.is_transient(cut)  # over HTTP the same words are a cut transfer
    assert not scene_work.may_pass(cut, scene)  # a local file reads the same next time
    assert scene_work.describe(cut, scene).startswith("truncated file: ")
