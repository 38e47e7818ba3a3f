"""Write a SIMULATED archive: a self-contained STAC catalog of COGs, plus the truth.

Layout of ``out/``::

    catalog.json                      root catalog ("rasonwatch:simulated": true)
    sentinel-2-c1-l2a/collection.json
    sentinel-2-c1-l2a/<id>/<id>.json  one item per scene, asset hrefs relative ("B02.tif")
    sentinel-2-c1-l2a/<id>/B02.tif    blue, B03 green, B04 red, B08 nir, B11 swir16, SCL scl
    items.ndjson                      the same items, hrefs relative to out/, no links
    truth.csv                         scene_id, aoi, datetime, ships, railcars, clear_fraction
    truth-objects.ndjson              every ship and railcar string, per scene and AOI
    truth_zones.csv                   scene_id, aoi, zone, ships, railcars
    truth_objects.csv                 scene_id, aoi, kind, object_id, zone, length_m, x, y
    truth_scenes.csv                  scene_id, date, cloud_probability, snow, sea_ice, shift, haze
    scenario.toml, README.txt

Nothing is ever half-written: everything goes to a temporary folder beside ``out`` which
replaces ``out`` only once complete. An existing ``out`` must be empty or a previous archive.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pipeline.errors import RasonWatchError
from pipeline.geo.safe_paths import check_output_dir, join_inside
from pipeline.simulate.cog import write_cog
from pipeline.simulate.conditions import SCENE_COLUMNS, scene_conditions
from pipeline.simulate.render import RenderedScene, render_scene
from pipeline.simulate.scenario import Scenario
from pipeline.simulate.stac import ASSETS, COLLECTION, catalog, collection, item
from pipeline.simulate.stac_l1c import (
    L1C_ASSETS,
    L1C_COLLECTION,
    l1c_collection,
    l1c_id,
    l1c_item,
)
from pipeline.simulate.toa import l1c_dn, products_of
from pipeline.simulate.truth import (
    OBJECT_COLUMNS,
    TRUTH_COLUMNS,
    ZONE_COLUMNS,
    object_records,
    object_rows,
    readme,
    truth_rows,
    zone_rows,
)

Progress = Callable[[int, int], None]


class ArchiveOutputError(RasonWatchError, FileExistsError):
    """The output folder exists, is not empty, and is not a previous simulated archive."""


@dataclass(frozen=True)
class ArchiveSummary:
    """What :func:`write_archive` wrote."""

    out: Path
    """The archive folder."""
    scenes: int
    """Scenes (STAC items) written."""
    start: date
    """First acquisition date."""
    end: date
    """Last acquisition date."""
    bytes: int
    """Total size of the archive."""
    seconds: float
    """Wall-clock time taken."""

    def __str__(self) -> str:
        return (
            f"{self.scenes} scenes {self.start}..{self.end} in {self.out} "
            f"({self.bytes / 1e6:.0f} MB, {self.seconds:.0f} s)"
        )


def is_archive(folder: Path) -> bool:
    """True if ``folder`` holds a previous simulated archive (its catalog says so)."""
    try:
        doc = json.loads((folder / "catalog.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("rasonwatch:simulated") is True


def check_out(out: Path) -> None:
    """Refuse an ``--out`` that cannot hold an archive, before anything is rendered.

    The archive is built in a temporary folder next to ``out``, then renamed: that folder
    (or the nearest existing one it would be created in) must be writable.

    Raises:
        ArchiveOutputError: ``out`` is a file, or a non-empty folder that is not an archive.
        OutputPathError: ``out`` lies under a file or in a read-only folder.
    """
    if out.exists() and not out.is_dir():
        raise ArchiveOutputError(f"output {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not is_archive(out):
        raise ArchiveOutputError(
            f"output folder {str(out)!r} is not empty and is not a previous simulated archive; "
            "choose a new or empty folder"
        )
    check_output_dir(out.parent, what=f"the folder of --out {str(out)!r},")


def _write_item(
    scene: RenderedScene, root: str, *, collection_id: str, level: str
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Write one item's COGs and JSON; return the item, its flat copy and the bytes."""
    assets = ASSETS if level == "L2A" else L1C_ASSETS
    item_id = scene.info.item_id
    folder = join_inside(root, collection_id, item_id, what="item id")
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for key, (stem, *_rest) in assets.items():
        transform = scene.transform if _rest[-1] == 10 else scene.transform_20m
        size += write_cog(
            folder / f"{stem}.tif",
            scene.dn(key) if level == "L2A" else l1c_dn(scene, key),
            transform,
            epsg=scene.epsg,
            categorical=key == "scl",
        )
    local = {key: f"./{stem}.tif" for key, (stem, *_r) in assets.items()}
    links = [
        {"rel": "root", "href": "../../catalog.json", "type": "application/json"},
        {"rel": "parent", "href": "../collection.json", "type": "application/json"},
        {"rel": "collection", "href": "../collection.json", "type": "application/json"},
    ]
    make = item if level == "L2A" else l1c_item
    doc = make(scene, local, links=links)
    path = folder / f"{item_id}.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    flat = make(
        scene, {k: f"{collection_id}/{item_id}/{stem}.tif" for k, (stem, *_r) in assets.items()}
    )
    return doc, flat, size + path.stat().st_size


def _scene_job(scenario: Scenario, index: int, root: str) -> dict[str, Any]:
    """Render one scene and write its COGs and items (runs in a worker process): Level-2A,
    Level-1C or both, as providers had them on its date (:func:`products_of`)."""
    rendered = render_scene(scenario, index)
    levels = products_of(rendered.info.date, scenario_start=scenario.start)
    out: dict[str, Any] = {"index": index, "bytes": 0, "scene": [], "levels": levels}
    for key in ("items", "flats", "truth", "objects", "zones", "object_rows"):
        out[key] = []
    for level in levels:
        if level == "L2A":
            scene, collection_id = rendered, COLLECTION
        else:
            info = replace(rendered.info, item_id=l1c_id(rendered))
            scene, collection_id = replace(rendered, info=info), L1C_COLLECTION
        doc, flat, size = _write_item(scene, root, collection_id=collection_id, level=level)
        out["items"].append((collection_id, doc))
        out["flats"].append(flat)
        out["bytes"] += size
        out["truth"] += truth_rows(scene)
        out["objects"] += object_records(scene)
        out["zones"] += zone_rows(scene)
        out["object_rows"] += object_rows(scene)
        out["scene"].append(scene_conditions(scenario, index).row(scene.info.date.isoformat()))
    return out


def _run(
    scenario: Scenario, root: Path, workers: int, progress: Progress | None
) -> list[dict[str, Any]]:
    total = len(scenario.dates)
    results: list[dict[str, Any]] = []
    if workers <= 1:
        for index in range(total):
            results.append(_scene_job(scenario, index, str(root)))
            if progress:
                progress(len(results), total)
        return results
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    try:
        pending: list[Future[dict[str, Any]]] = [
            pool.submit(_scene_job, scenario, index, str(root)) for index in range(total)
        ]
        for future in pending:
            results.append(future.result())
            if progress:
                progress(len(results), total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _replace(tmp: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_archive(
    scenario: Scenario,
    out: Path,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ArchiveSummary:
    """Simulate every scene of a scenario and write the archive to ``out``.

    Args:
        scenario: The validated scenario.
        out: Archive folder: new, empty, or a previous archive (which is replaced).
        progress: Called with ``(done, total)`` after each scene.
        workers: Processes to render with; default one per core, at most 2.

    Returns:
        A summary of what was written.

    Raises:
        ArchiveOutputError: ``out`` is a file, or a non-empty folder that is not an archive.
    """
    started = time.perf_counter()
    out = Path(out)
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    total = len(scenario.dates)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if total > 2 else 1
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        (tmp / COLLECTION).mkdir()
        (tmp / L1C_COLLECTION).mkdir()
        results = sorted(_run(scenario, tmp, workers, progress), key=lambda r: int(r["index"]))
        _write_indexes(scenario, tmp, results)
        if not any((tmp / L1C_COLLECTION).iterdir()):
            (tmp / L1C_COLLECTION).rmdir()  # archives that start after Level-1C-only years
        size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
        tmp.chmod(0o755)  # mkdtemp made it private; the archive is meant to be served
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ArchiveSummary(
        out=out,
        scenes=total,
        start=scenario.dates[0],
        end=scenario.dates[-1],
        bytes=size,
        seconds=time.perf_counter() - started,
    )


def _write_indexes(scenario: Scenario, root: Path, results: list[dict[str, Any]]) -> None:
    description = (
        "SIMULATED Sentinel-2 L2A scenes over Rajin port and the Tumangang-Khasan railhead, "
        f"written by `rasonwatch simulate` (seed {scenario.seed}). Not real imagery."
    )
    by_collection: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        for cid, doc in r["items"]:
            by_collection.setdefault(cid, []).append(doc)
    names = [c for c in (COLLECTION, L1C_COLLECTION) if c in by_collection]
    (root / "catalog.json").write_text(
        json.dumps(catalog(description, scenario.seed, collections=names), indent=1)
    )
    for cid in names:
        doc = collection(by_collection[cid], description)
        (root / cid / "collection.json").write_text(
            json.dumps(doc if cid == COLLECTION else l1c_collection(doc), indent=1)
        )
    with (root / "items.ndjson").open("w", encoding="utf-8") as f:
        for r in results:
            for flat in r["flats"]:
                f.write(json.dumps(flat, separators=(",", ":")) + "\n")
    with (root / "truth.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(TRUTH_COLUMNS))
        writer.writeheader()
        for r in results:
            writer.writerows(r["truth"])
    for name, columns, key in (
        ("truth_zones.csv", ZONE_COLUMNS, "zones"),
        ("truth_objects.csv", OBJECT_COLUMNS, "object_rows"),
        ("truth_scenes.csv", SCENE_COLUMNS, "scene"),
    ):
        with (root / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns))
            writer.writeheader()
            for r in results:
                writer.writerows(r[key])
    with (root / "truth-objects.ndjson").open("w", encoding="utf-8") as f:
        for r in results:
            for record in r["objects"]:
                f.write(json.dumps(record, separators=(",", ":")) + "\n")
    (root / "scenario.toml").write_text(
        scenario.source_text or scenario.to_toml(), encoding="utf-8"
    )
    (root / "README.txt").write_text(readme(scenario, len(results)), encoding="utf-8")
