"""The demo's archive follows its scenario: a changed scenario is simulated again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.run import simulated_archive as archives
from pipeline.simulate.renderer import renderer_digest

TWO_SCENES = """\
seed = {seed}
start = "2022-06-02"
end = "2022-06-07"
revisit_days = 5
cloud_probability = 0.3
[[aoi]]
id = "rajin-port"
activity = [ {{ from = "2021-01-01", ships = 2.0 }} ]
[[aoi]]
id = "tumangang-rail"
activity = [ {{ from = "2021-01-01", railcars = 20 }} ]
"""


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Settings, Path]:
    """A two-scene demo scenario in place of the packaged one, simulated once."""
    scenario = tmp_path / "demo.toml"
    monkeypatch.setattr(archives, "demo_scenario_path", lambda: scenario)
    settings = Settings(data_dir=tmp_path / "data")
    scenario.write_text(TWO_SCENES.format(seed=1))
    return scenario, settings, archives.ensure_archive(settings)


@pytest.mark.slow  # ~4 s: simulates an archive twice (make test runs it)
def test_a_changed_scenario_is_simulated_again_and_the_old_rows_set_aside(
    demo: tuple[Path, Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The packaged demo's archive has a fixed folder, so an edited demo.toml meets it."""
    scenario, settings, archive = demo
    assert archive == settings.data_dir / "demo-archive"
    truth = (archive / "truth.csv").read_text()
    store = settings.data_dir / "rasonwatch.sqlite"
    store.write_bytes(b"rows of the first archive")

    assert archives.ensure_archive(settings) == archive
    assert "Using the SIMULATED archive already at" in capsys.readouterr().err
    assert store.read_bytes() == b"rows of the first archive"  # same scenario: kept

    scenario.write_text(TWO_SCENES.format(seed=2))
    assert archives.ensure_archive(settings) == archive
    assert "replacing it" in capsys.readouterr().err
    assert (archive / "scenario.toml").read_text() == scenario.read_text()
    assert (archive / "truth.csv").read_text() != truth
    assert not store.exists()
    (aside,) = settings.data_dir.glob("rasonwatch-before-*.sqlite")
    assert aside.read_bytes() == b"rows of the first archive"


@pytest.mark.slow  # ~2.5 s: simulates an archive twice (make test runs it)
def test_an_archive_of_an_older_simulator_is_simulated_again(
    demo: tuple[Path, Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Same scenario, other renderer (its digest in catalog.json): not reused."""
    _scenario, settings, archive = demo
    catalog = json.loads((archive / "catalog.json").read_text())
    assert catalog["rasonwatch:renderer"] == renderer_digest()
    catalog["rasonwatch:renderer"] = "0" * 16
    (archive / "catalog.json").write_text(json.dumps(catalog))
    capsys.readouterr()
    archives.ensure_archive(settings)
    assert "another version of the simulator; replacing it" in capsys.readouterr().err
    rewritten = json.loads((archive / "catalog.json").read_text())
    assert rewritten["rasonwatch:renderer"] == renderer_digest()
