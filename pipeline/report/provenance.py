"""The report's provenance section: store, detector version, runs, and every scene."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.claims.table import fmt_number
from pipeline.report.data import ReportData
from pipeline.report.html import Html, el


def _metadata(doc: Mapping[str, Any]) -> str:
    keys = ("platform", "tile", "processing_baseline", "collection", "offset_rule", "cloud_cover")
    parts = [f"{k}={doc[k]}" for k in keys if doc.get(k) not in (None, "")]
    if isinstance(doc.get("properties"), Mapping):
        parts.append("properties=" + json.dumps(doc["properties"], default=str)[:400])
    return " · ".join(parts)


def references_table(data: ReportData) -> Html:
    """Each reference the stored numbers were measured against: its AOI, id, rows, and how
    it was built (the reference period, the test windows left out, its scenes)."""
    used: dict[tuple[str, str], list[str]] = {}
    for o in data.evaluation.observations:
        if o.status == "ok":
            used.setdefault((o.aoi, o.reference_id or "unidentified"), []).append(o.scene_id)
    rows = []
    for (aoi, reference_id), scene_ids in sorted(used.items()):
        prov = data.provenance.get((aoi, scene_ids[-1]))
        note = prov.scene.get("reference") if prov is not None else None
        rows.append(
            el(
                "tr",
                el("td", aoi),
                el("td", el("code", reference_id)),
                el("td", str(len(scene_ids)), class_="num"),
                el("td", str(note or "not recorded")),
            )
        )
    if not rows:
        return el("p", "No observation was measured against a reference.", class_="sub")
    head = el("tr", *(el("th", h) for h in ("AOI", "reference", "rows", "built from")))
    return el("div", el("table", el("thead", head), el("tbody", *rows)), class_="scroll")


def provenance_section(data: ReportData) -> Html:
    """Runs, versions, sources, and every scene with its metadata."""
    ev = data.evaluation
    sources = sorted({o.source for o in ev.observations})
    runs = [
        el(
            "tr",
            el("td", r.get("started_at") or "", class_="num"),
            el("td", r.get("finished_at") or "unfinished", class_="num"),
            el("td", r.get("command") or ""),
            el("td", el("code", r.get("detector_version") or "")),
            el("td", f"{r.get('n_ok')} / {r.get('n_failed')} / {r.get('n_skipped')}", class_="num"),
            el("td", el("code", r.get("parameters_json") or "", class_="wrap")),
        )
        for r in data.runs
    ]
    run_table = el(
        "div",
        el(
            "table",
            el(
                "thead",
                el(
                    "tr",
                    *(
                        el("th", h)
                        for h in (
                            "started (UTC)",
                            "finished",
                            "command",
                            "detector",
                            "ok / failed / skipped",
                            "parameters",
                        )
                    ),
                ),
            ),
            el("tbody", *runs),
        ),
        class_="scroll",
    )
    scene_rows = []
    for o in ev.observations:
        prov = data.provenance.get((o.aoi, o.scene_id))
        doc = prov.scene if prov is not None else {}
        value = o.ships if o.ships is not None else o.railcar_equivalents
        scene_rows.append(
            el(
                "tr",
                el("td", f"{o.datetime:%Y-%m-%d %H:%M}", class_="num"),
                el("td", el("code", o.scene_id)),
                el("td", o.aoi),
                el("td", o.status if o.error is None else f"{o.status}: {o.error}"),
                el(
                    "td",
                    "" if o.clear_fraction is None else f"{o.clear_fraction:.2f}",
                    class_="num",
                ),
                el("td", "" if value is None else fmt_number(float(value), 1), class_="num"),
                el("td", o.source),
                el("td", _metadata(doc)),
                class_="failed" if o.status != "ok" else None,
            )
        )
    scenes = el(
        "details",
        el("summary", f"All {len(ev.observations)} observations with their scene metadata"),
        el(
            "div",
            el(
                "table",
                el(
                    "thead",
                    el(
                        "tr",
                        *(
                            el("th", h)
                            for h in (
                                "acquired (UTC)",
                                "scene id",
                                "AOI",
                                "status",
                                "clear",
                                "value",
                                "source",
                                "metadata",
                            )
                        ),
                    ),
                ),
                el("tbody", *scene_rows),
            ),
            class_="scroll",
        ),
        id="scene-list",
    )
    facts = el(
        "ul",
        el("li", el("b", "Store: "), el("code", str(ev.db))),
        el("li", el("b", "Detector version: "), el("code", ev.detector_version or "none")),
        el("li", el("b", "Sources: "), ", ".join(sources) or "none"),
        el("li", el("b", "Report drawn: "), f"{data.generated_at:%Y-%m-%d %H:%M UTC}"),
        class_="method",
    )
    return el(
        "section",
        el("h2", "Provenance"),
        facts,
        el("h3", "References"),
        el(
            "p",
            "Every number is measured against its AOI's temporal reference, built from the "
            "clear scenes of the reference period with every claim's test window left out. "
            "A series measured against more than one reference is not evaluated.",
            class_="sub",
        ),
        references_table(data),
        el("h3", "Runs"),
        run_table if runs else el("p", "No runs recorded.", class_="sub"),
        scenes,
        id="provenance",
    )
