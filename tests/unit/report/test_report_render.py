"""The HTML report: self-contained, escaped, and rendered by headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from claims_fixtures import demo_like, fill_store, pixels_of, scene_doc
from PIL import Image

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.geo.aoi import load_aois
from pipeline.geo.projection import reproject
from pipeline.read.chip_cache import ChipCache
from pipeline.report import write_report
from pipeline.report.quicklooks import pick_scenes
from pipeline.types import Chip, Observation

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
EVIL_ID = 'S2X_<script>alert("id")</script>_L2A'
EVIL_COLLECTION = '"><img src=x onerror=alert("collection")>'
EVIL_PROPERTY = '<script>alert("stac")</script><svg onload=alert(1)>'
EVIL_QUOTE = '<script>alert("quote")</script> a spike'
EVIL_OSINT = "<img src=x onerror=alert('osint')> ~73 railcars"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **want: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in want.items())]


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def _hostile(obs: list[Observation]) -> list[Observation]:
    """Give one rail scene an id full of markup."""
    rail = [i for i, o in enumerate(obs) if o.aoi == "tumangang-rail"]
    obs[rail[3]] = replace(obs[rail[3]], scene_id=EVIL_ID)
    return obs


def _doc(obs: Observation, archive: Path) -> dict[str, Any]:
    doc = scene_doc(obs, archive)
    scene = doc["scene"]
    assert isinstance(scene, dict)
    scene["collection"] = EVIL_COLLECTION
    scene["properties"] = {"title": EVIL_PROPERTY, "constellation": "sentinel-2"}
    return doc


def _cache_chips(folder: Path, observations: list[Observation]) -> None:
    """Cached chips for the Rajin quicklooks, so they render without any COG."""
    aoi = next(a for a in load_aois(DEFAULT_AOI_DIR) if a.id == "rajin-port")
    west, _, _, north = reproject(aoi.geometry, dst_epsg=32652).bounds
    rng = np.random.default_rng(0)
    cache = ChipCache(folder / "chips")
    picks = pick_scenes(
        observations,
        aoi="rajin-port",
        metric="ships",
        min_clear_fraction=0.8,
        baseline=(date(2019, 1, 1), date(2023, 6, 30)),
    )
    for pick in picks:
        shape = (120, 120)
        reflectance = rng.uniform(0.02, 0.3, size=(5, *shape)).astype(np.float32)
        chip = Chip(
            scene_id=pick.observation.scene_id,
            aoi_id=aoi.id,
            reflectance=reflectance,
            scl=np.full(shape, 6, dtype=np.uint8),
            valid=np.ones(shape, dtype=bool),
            transform=Affine(50.0, 0.0, west, 0.0, -50.0, north),
            epsg=32652,
        )
        cache.put(chip, pixels_of(chip.scene_id), aoi)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report drawn from a simulated store laced with markup in every user-facing field."""
    folder = tmp_path_factory.mktemp("report")
    observations = _hostile(demo_like())
    db = fill_store(
        folder / "rasonwatch.sqlite", observations, doc=lambda o: _doc(o, folder / "none")
    )
    _cache_chips(folder, observations)
    claims = (REPO / "seeds" / "claims.toml").read_text()
    claims = claims.replace(
        'quote = "ships docking there for the first time since 2018"',
        f"quote = {json.dumps(EVIL_QUOTE)}",
    )
    (folder / "claims.toml").write_text(claims)
    osint = (REPO / "seeds" / "osint.csv").read_text().replace("~73 railcars", EVIL_OSINT)
    (folder / "osint.csv").write_text(osint)
    result = write_report(
        db, folder / "out", claims_path=folder / "claims.toml", osint_path=folder / "osint.csv"
    )
    return result.path


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text()
    tags = parse(html)
    assert not tags.find("script"), "the report must run no scripts"
    assert not tags.find("link"), "no external stylesheets or fonts"
    images = tags.find("img")
    assert len(images) >= 2 + 3 + 1  # two time series, Rajin quicklooks, the map
    for attrs in images:
        assert (attrs.get("src") or "").startswith(("data:image/png;base64,", "data:image/jpeg"))
    assert "http://" not in html.replace("http-equiv", "")
    assert "https://" not in html


def test_markup_from_metadata_and_user_files_is_escaped(report: Path) -> None:
    html = report.read_text()
    tags = parse(html)
    for tag, attrs in tags.tags:
        for name in attrs:
            assert not name.startswith("on"), f"live event handler on <{tag}>: {name}"
    assert [t for t, _ in tags.tags].count("svg") == 0
    text = "".join(tags.text)
    # The hostile strings survive as text a reader can see, and only as text.
    for evil in (EVIL_ID, EVIL_COLLECTION, EVIL_QUOTE):
        assert evil in text, evil
    assert EVIL_PROPERTY in text.replace('\\"', '"')
    # OSINT labels go into the plots, and the per-yard table's as escaped text only.
    assert "onerror=alert('osint')" not in html
    assert EVIL_OSINT in text
    assert "&lt;script&gt;" in html
    assert '<script>alert("quote")' not in html


def test_report_shows_verdicts_banner_and_provenance(report: Path) -> None:
    tags = parse(report.read_text())
    assert tags.find("div", id="simulated-banner")
    cards = [a for t, a in tags.tags if t == "article" and a.get("data-claim")]
    assert [c["data-claim"] for c in cards] == [
        "port-spike-2023",
        "rail-spike-2023",
        "port-first-ships-since-2018",
    ]
    assert cards[0]["data-verdict"] == "supported"
    for section in ("verdicts", "series", "quicklooks", "where", "method", "provenance"):
        assert tags.find("section", id=section), section
    text = " ".join(tags.text)
    assert "test-1" in text  # detector version
    assert "S2X_T52TFM_20230804T021601_L2A" in text  # scene ids listed
    assert "test reference" in text  # how each reference was built (its period)


def test_unreadable_chip_is_reported_not_fatal(report: Path) -> None:
    text = " ".join(parse(report.read_text()).text)
    assert "chip could not be read" in text  # the rail scenes have no cached chip, no COG


def test_no_banner_without_simulated_scenes(tmp_path: Path) -> None:
    observations = [replace(o, simulated=False) for o in demo_like()]
    db = fill_store(tmp_path / "real.sqlite", observations)
    html = write_report(db, tmp_path / "out").path.read_text()
    assert not parse(html).find("div", id="simulated-banner")
    assert "SIMULATED" not in html


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None,
    reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
)
def test_chromium_renders_the_report(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    url = report.resolve().as_uri()
    done = _chromium(
        f"--screenshot={shot}", "--window-size=1280,2400", url, profile=tmp_path / "p1"
    )
    assert shot.is_file(), done.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float64)
    assert image.shape[:2] == (2400, 1280)
    assert image.std() > 20, "the screenshot is blank"
    red, green, blue = image[8, 640]  # the sticky SIMULATED banner at the top
    assert red > 150, (red, green, blue)
    assert max(green, blue) < 80, (red, green, blue)
    dom = _chromium("--dump-dom", url, profile=tmp_path / "p2")
    assert dom.returncode == 0, dom.stderr[-2000:]
    tags = parse(dom.stdout)
    assert tags.find("div", id="simulated-banner")
    assert len([a for t, a in tags.tags if t == "article" and a.get("data-claim")]) == 3
    assert not tags.find("script")
    assert len(tags.find("img")) >= 6


def test_html_builder_refuses_scripts_and_handlers() -> None:
    from pipeline.report.html import el

    with pytest.raises(ValueError, match="script"):
        el("script", "alert(1)")
    with pytest.raises(ValueError, match="onclick"):
        el("div", "x", onclick="alert(1)")
    assert el("p", "<b>", title='"x"') == '<p title="&quot;x&quot;">&lt;b&gt;</p>'


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("start,end,aoi,metric,value,reported\n", "columns must be"),
        ("start,end,aoi,metric,value,reported,source,extra\n", "columns must be"),
        (
            "start,end,aoi,metric,value,reported,source\n"
            "2023-10-05,2023-10-05,tumangang-rail,cars,73,x,CSIS\n",
            "metric",
        ),
        (
            "start,end,aoi,metric,value,reported,source\n"
            "2023-10-05,2023-10-01,tumangang-rail,ships,1,x,CSIS\n",
            "end is before start",
        ),
        (
            "start,end,aoi,metric,value,reported,source\n"
            "2023-10-05,2023-10-05,tumangang-rail,ships,many,x,CSIS\n",
            "not a number",
        ),
    ],
)
def test_bad_osint_table(tmp_path: Path, text: str, needle: str) -> None:
    from pipeline.report.osint import InvalidOsintError, load_osint

    path = tmp_path / "osint.csv"
    path.write_text(text)
    with pytest.raises(InvalidOsintError, match=needle):
        load_osint(path)


def test_seed_osint_table_loads() -> None:
    from pipeline.report.osint import load_osint

    points = load_osint(REPO / "seeds" / "osint.csv")
    assert {p.source for p in points} == {"CSIS Beyond Parallel", "RUSI"}
    assert any(p.value == 73 and p.start == date(2023, 10, 5) for p in points)


def test_empty_store_still_draws_a_report(tmp_path: Path) -> None:
    db = fill_store(tmp_path / "empty.sqlite", [])
    result = write_report(db, tmp_path / "out")
    tags = parse(result.path.read_text())
    assert {v.verdict for v in result.evaluation.verdicts} == {"inconclusive"}
    assert len([a for t, a in tags.tags if t == "article" and a.get("data-claim")]) == 3
    assert not tags.find("div", id="simulated-banner")


def test_counts_per_yard_are_tabled_and_labelled_simulated(report: Path) -> None:
    html = report.read_text()
    tags = parse(html)
    assert tags.find("section", id="yards")
    assert tags.find("figure", id="series-tumangang-rail-tumangang-yard")
    assert tags.find("figure", id="series-tumangang-rail-khasan-yard")
    table = html[html.index('<section id="yards">') :]
    table = table[: table.index("</section>")]
    assert "CSIS counts per yard vs this tool (SIMULATED)" in table
    # The seed's three counts of one image and one yard; the store holds no yard rows.
    assert [a.get("data-zone") for a in parse(table).find("tr") if a.get("data-zone")] == [
        "tumangang-yard",
        "tumangang-yard",
        "khasan-yard",
    ]
    assert table.count("no clear scene within 5 days") == 3
