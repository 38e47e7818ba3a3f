"""A scenario's SIMULATED archive under the data folder, simulated once and kept while it is
what simulating the scenario today would write (``rasonwatch demo``, ``bench sim --scenario``).

The packaged demo's archive is ``<data>/demo-archive``; any other scenario's is
``<data>/<stem>-<hash of the file>-archive``, so one data folder never serves one scenario's
archive for another. An archive is simulated again when its scenario changed (possible only
for the packaged demo's fixed folder) or when another version of the simulator wrote it.
"""

from __future__ import annotations

import hashlib
import json
import time
from importlib import resources
from pathlib import Path

from pipeline.config import Settings
from pipeline.geo.safe_paths import join_inside, safe_name
from pipeline.run.progress import STDERR, progress_callback


def demo_scenario_path() -> Path:
    """The packaged demo scenario TOML."""
    return Path(str(resources.files("pipeline") / "data" / "demo.toml"))


def archive_folder(settings: Settings, scenario: Path) -> Path:
    """Where the archive of ``scenario`` is simulated: ``<data>/demo-archive`` for the packaged
    scenario, ``<data>/<stem>-<hash of the file>-archive`` for any other, so that one data
    folder never serves one scenario's archive for another."""
    if scenario.resolve() == demo_scenario_path().resolve():
        return settings.data_dir / "demo-archive"
    digest = hashlib.sha256(scenario.read_bytes()).hexdigest()[:8]
    name = safe_name(f"{scenario.stem}-{digest}-archive")
    return join_inside(settings.data_dir, name, what="scenario")


def ensure_archive(settings: Settings, scenario: Path | None = None) -> Path:
    """Simulate the scenario's archive under the data folder unless a complete one is there.

    Raises:
        InvalidScenarioError: the scenario file is missing or invalid.
    """
    from pipeline.simulate import load_scenario, write_archive

    path = scenario or demo_scenario_path()
    spec = load_scenario(path)
    archive = archive_folder(settings, path)
    complete = (archive / "truth.csv").is_file() and (archive / "catalog.json").is_file()
    stale = _why_stale(archive, path.read_text(encoding="utf-8")) if complete else None
    if complete and stale is None:
        STDERR.print(f"Using the SIMULATED archive already at {archive}")
        return archive
    if complete:
        STDERR.print(f"The SIMULATED archive at {archive} {stale}; replacing it")
        _set_store_aside(settings.data_dir)
    with progress_callback(f"simulating {path.name} (SIMULATED)") as tick:
        write_archive(spec, archive, progress=tick)
    return archive


def _why_stale(archive: Path, scenario_text: str) -> str | None:
    """Why an archive is not what simulating ``scenario_text`` today would write, or None."""
    from pipeline.simulate.renderer import renderer_digest

    try:
        written = (archive / "scenario.toml").read_text(encoding="utf-8")
        catalog = json.loads((archive / "catalog.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "cannot be read back"
    if written != scenario_text:
        return "is of another scenario"
    if not isinstance(catalog, dict) or catalog.get("rasonwatch:renderer") != renderer_digest():
        return "was written by another version of the simulator"
    return None


def _set_store_aside(data_dir: Path) -> None:
    """Rename the data folder's store, whose rows came from the archive being replaced.

    Its rows carry the old archive's scene ids: a backfill of the new archive would take them
    for its own, or ``evaluate`` would refuse to pool two instruments. Nothing is deleted.
    """
    from pipeline.run.checks import default_db

    db = default_db(None, data_dir)
    if not db.exists():
        return
    aside = db.with_name(f"{db.stem}-before-{time.strftime('%Y%m%dT%H%M%S')}{db.suffix}")
    db.rename(aside)
    STDERR.print(f"Its observations were set aside in {aside}")
