"""Claims → verdicts: which claims the stored observations support, contradict or leave open.

Pure: takes parsed claims and :class:`~pipeline.types.Observation` rows, returns
:class:`Verdict` objects. Imports neither rasterio nor prefect; the statistics live in
:mod:`pipeline.claims.stats` and :mod:`pipeline.claims.changepoint`. The claims file format is
read by :func:`load_claims` (see ``seeds/claims.toml`` for an annotated example).

What is compared
    Only **clear** scenes count: status ``ok``, a value for the metric, and
    ``clear_fraction >= min_clear_fraction`` (set per claim). One scene per UTC date and
    AOI (the clearest), so overlapping tiles never count twice. The *rate* is the mean of
    the metric per clear scene; the *rate ratio* is test-window rate over baseline rate.

One instrument
    A series whose rows stored ``ok`` were measured against different temporal references
    (their ``reference_id`` differs) is not evaluated: the verdict is **inconclusive** and
    its notes name the mix (:func:`refuse_mixed_references`).

Verdict rules for ``test = "rate-ratio"`` (a claimed spike): rule 2 of issue 15, in
:mod:`pipeline.claims.robust`: the window against the same calendar days of the baseline
years, intervals and p from blocks of consecutive scenes, a window-scan false-alarm rate,
and a change point whose interval overlaps the baseline's end to the window's end. The
contract fields of the verdict (``baseline_mean``, ``ratio``, ``ci_low``... ``n_baseline``)
describe that season-matched comparison; the full and 2019 baselines are sensitivity
lines in ``rule.baselines``. Rule 1 (scenes as independent draws) is kept in
:mod:`pipeline.claims.legacy` for ``bench verdicts``.

Verdict rules for ``test = "visits"`` ("the first time since 2018", issue 17; the seed's
claim): ships of ``min_ship_length_m`` in ``harbour_zone`` linked into visits at the piers,
with the chance of having seen a visit in every quarter; the rules are in
:mod:`pipeline.claims.visits`.

Verdict rules for ``test = "presence"`` (the rule before issue 17): a scene *shows*
the thing when its metric reaches ``presence_min`` (default 1 ship). Scenes are grouped in
blocks as rule 2 groups them (:mod:`pipeline.claims.presence`): p is a block-permutation
test and each share's exact 95 % interval is taken on its effective number of looks. With
those intervals on the share of clear scenes showing it, tolerance T (``max_baseline_presence``,
default 0.10, the share a detector's false alarms and brief visits can explain) and
baseline coverage C (share of the baseline's calendar months with at least one clear
scene, default minimum 0.8):

1. fewer than ``min_n`` clear scenes on either side → **inconclusive**;
2. the baseline share's lower bound > T (ships were seen there regularly before) →
   **contradicted**;
3. at least two test scenes show it, the block-permutation p < alpha, the baseline share's
   upper bound ≤ T and C ≥ ``min_baseline_coverage`` → **supported**;
4. otherwise → **inconclusive**, with the reason; in particular an archive that starts
   after the baseline does (the demo starts in 2021) cannot show absence in the years it
   never saw, so "since 2018" can at most be tested from its first scene.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from pipeline.claims.changepoint import Onset
from pipeline.claims.evidence import Evidence
from pipeline.claims.groups import with_joint_verdicts
from pipeline.claims.instruments import (
    levels_of,
    note_levels,
    references_of,
    refuse_mixed_levels,
    refuse_mixed_references,
)
from pipeline.claims.legacy import scene_ratio
from pipeline.claims.parse import Claim
from pipeline.claims.presence import block_presence_test
from pipeline.claims.registration import Registration
from pipeline.claims.robust import RULE_VERSION, memory_days, robust_rate_ratio, series_onset
from pipeline.claims.seasons import matched_ranges
from pipeline.claims.series import Series, clear_series, month_coverage
from pipeline.claims.stats import Proportion, RatioEstimate
from pipeline.claims.verdict import Verdict, VerdictLabel
from pipeline.claims.visit_chances import months_between
from pipeline.claims.visits import (
    VISITS_RULE_VERSION,
    ShipMark,
    VisitsParams,
    measure_visits,
    visits_rule,
)
from pipeline.types import Observation

FloatArray = NDArray[np.float64]
#: Version of the presence rule (2: issue 15's blocks instead of scenes).
PRESENCE_RULE_VERSION: Final = (
    "presence 2 (block permutation, exact shares on effective looks, month coverage)"
)
#: Seed of every bootstrap, so a verdict never changes between runs.
SEED: Final = 20231129


def evaluate_claims(
    claims: Iterable[Claim],
    observations: Sequence[Observation],
    *,
    seed: int = SEED,
    ships: Sequence[ShipMark] = (),
    aoi_zones: Mapping[str, frozenset[str]] | None = None,
) -> list[Verdict]:
    """A verdict for each claim, from the stored observations, with the joint verdict of
    each ``group`` on its parts (:mod:`pipeline.claims.groups`).

    ``ships`` are the ship detections the visits test links into visits; ``aoi_zones``
    names each AOI's zones (None: not checked), so a visits claim naming a zone its AOI
    does not have is inconclusive rather than silently empty.
    """
    claims = tuple(claims)
    verdicts = [
        evaluate_claim(c, observations, seed=seed, ships=ships, aoi_zones=aoi_zones) for c in claims
    ]
    return with_joint_verdicts(claims, verdicts)


def evaluate_claim(
    claim: Claim,
    observations: Sequence[Observation],
    *,
    seed: int = SEED,
    ships: Sequence[ShipMark] = (),
    aoi_zones: Mapping[str, frozenset[str]] | None = None,
) -> Verdict:
    """Test one claim against the observations (the rules are in the module docstring);
    never on a series whose rows were measured against different references."""
    if claim.test == "visits":
        verdict = _evaluate_visits(claim, observations, ships, aoi_zones)
    else:
        verdict = _evaluate(claim, observations, seed=seed)
    references = references_of(observations, claim.aoi)
    versions = {"rate-ratio": RULE_VERSION, "visits": VISITS_RULE_VERSION}
    registration = Registration(
        rule_version=versions.get(claim.test, PRESENCE_RULE_VERSION),
        baseline=claim.baseline,
        window=claim.window,
        season_matched=matched_ranges(claim.window, claim.baseline),
        reference_ids=tuple(sorted(str(r) for r in references if r is not None)),
    )
    verdict = replace(verdict, registration=registration)
    verdict = refuse_mixed_references(verdict, references)
    if claim.test == "visits":
        return note_levels(verdict, levels_of(observations, claim.aoi))
    # A rate or presence test pools the rows of its baseline and window: those must share
    # one level (Level-1C rows before 2019 outside them do not enter the statistic).
    periods = (claim.baseline, claim.window)
    return refuse_mixed_levels(verdict, levels_of(observations, claim.aoi, periods))


def _evaluate(claim: Claim, observations: Sequence[Observation], *, seed: int) -> Verdict:
    """Test one claim against the observations, whatever references they came from."""
    series = clear_series(
        observations,
        aoi=claim.aoi,
        metric=claim.metric,
        min_clear_fraction=claim.min_clear_fraction,
        zone=claim.zone,
    )
    rng = np.random.default_rng([seed, _stable_hash(claim.id)])
    onset = series_onset(claim, series)
    if claim.test == "rate-ratio":
        label, reason, evidence, estimate, p_value = robust_rate_ratio(
            claim, series, onset=onset, rng=rng
        )
        test = series.values[series.between(*claim.window)]
        common = _common_fields(claim, series, onset, evidence.primary.n, test, estimate)
        common["notes"] = (*common["notes"], *_evidence_notes(evidence))
        return Verdict(
            **common,
            verdict=label,
            p_value=None if math.isnan(p_value) else p_value,
            reason=reason,
            evidence=evidence,
        )
    base, test, estimate = scene_ratio(claim, series, rng=rng)
    common = _common_fields(claim, series, onset, base.size, test, estimate)
    blocks = block_presence_test(
        series.dates,
        series.values >= claim.presence_min,
        baseline=series.between(*claim.baseline),
        window=series.between(*claim.window),
        memory_days=memory_days(series, claim.baseline, onset),
        rng=rng,
    )
    common["notes"] = (
        *common["notes"],
        f"presence tested in blocks of {blocks.block_days:.0f} days (series memory "
        f"{blocks.memory_days:.0f} days): {blocks.baseline.n_effective:.1f} and "
        f"{blocks.test.n_effective:.1f} independent looks in the baseline and the window",
    )
    coverage = month_coverage(series.dates, *claim.baseline)
    label, reason = presence_rule(claim, blocks.baseline, blocks.test, blocks.p_value, coverage)
    return Verdict(
        **common,
        verdict=label,
        p_value=blocks.p_value,
        reason=reason,
        presence_baseline=blocks.baseline,
        presence_test=blocks.test,
    )


def _evaluate_visits(
    claim: Claim,
    observations: Sequence[Observation],
    ships: Sequence[ShipMark],
    aoi_zones: Mapping[str, frozenset[str]] | None,
) -> Verdict:
    """The visits test (:mod:`pipeline.claims.visits`) on the claim's clear scenes."""
    series = clear_series(
        observations,
        aoi=claim.aoi,
        metric="ships",
        min_clear_fraction=claim.min_clear_fraction,
    )
    absence = (claim.baseline[0], claim.window[0] - timedelta(days=1))
    params = VisitsParams(
        absence=absence,
        window=claim.window,
        zone=claim.harbour_zone,
        min_length_m=claim.min_ship_length_m,
        min_detection_chance=claim.min_detection_chance,
        visit_days=claim.visit_days,
        visits_per_month=claim.visits_per_month,
    )
    marks = [m for m in ships if m.aoi == claim.aoi]
    evidence = measure_visits(series.dates, series.scene_ids, marks, params)
    label, reason = visits_rule(evidence, min_detection_chance=claim.min_detection_chance)
    known = None if aoi_zones is None else aoi_zones.get(claim.aoi, frozenset())
    if known is not None and claim.harbour_zone not in known:
        label, reason = (
            "inconclusive",
            (
                f"AOI {claim.aoi!r} has no zone {claim.harbour_zone!r} "
                f"(zones: {', '.join(sorted(known)) or 'none'}); set harbour_zone"
            ),
        )
    n_absence = int(np.count_nonzero(series.between(*absence)))
    test = series.values[series.between(*claim.window)]
    common = _common_fields(claim, series, series_onset(claim, series), n_absence, test, None)
    months_absence = len(months_between(*absence))
    months_window = len(months_between(*claim.window))
    common["baseline_mean"] = len(evidence.arrivals(*absence)) / months_absence
    common["test_mean"] = len(evidence.in_period(*claim.window)) / months_window
    notes = list(common["notes"])
    if evidence.n_small or evidence.n_outside:
        notes.append(
            f"ships left out: {evidence.n_small} in the {claim.harbour_zone} shorter than "
            f"{claim.min_ship_length_m:.0f} m, {evidence.n_outside} of that length outside it"
        )
    common["notes"] = tuple(notes)
    return Verdict(**common, verdict=label, p_value=None, reason=reason, visits=evidence)


def _evidence_notes(evidence: Evidence) -> list[str]:
    """Caveats from the rule's evidence: months without clear scenes, disagreeing lines."""
    notes = []
    for name, months in (
        ("test window", evidence.window.empty_months),
        ("season-matched baseline", evidence.primary.empty_months),
    ):
        if months:
            notes.append(f"the {name} has no clear scene in {', '.join(months)}")
    return notes


def _stable_hash(text: str) -> int:
    """A small integer from ``text``, the same in every process (unlike ``hash``)."""
    return sum((i + 1) * b for i, b in enumerate(text.encode())) % (2**31)


def _common_fields(
    claim: Claim,
    series: Series,
    onset: Onset,
    n_base: int,
    test: FloatArray,
    estimate: RatioEstimate | None,
) -> dict[str, Any]:
    notes = []
    if claim.zone is not None:
        notes.append(f"tested on the {claim.zone} zone's own series, not the AOI total")
    if series.n_cloudy:
        notes.append(
            f"{series.n_cloudy} scenes less than {claim.min_clear_fraction:.0%} clear left out"
        )
    if series.n_low_confidence:
        notes.append(
            f"{series.n_low_confidence} clear scenes left out as low confidence "
            "(their co-registration to the reference was not reliable)"
        )
    if series.n_failed:
        notes.append(f"{series.n_failed} scenes failed processing and are left out")
    if series.dates and series.dates[0] > claim.baseline[0]:
        notes.append(
            f"the first clear scene is {series.dates[0].isoformat()}: the baseline from "
            f"{claim.baseline[0].isoformat()} is only seen from then on"
        )
    return {
        "claim": claim.id,
        "aoi": claim.aoi,
        "metric": claim.metric,
        "baseline_mean": None if estimate is None else estimate.baseline_mean,
        "test_mean": None if estimate is None else estimate.test_mean,
        "ratio": None if estimate is None or math.isnan(estimate.ratio) else estimate.ratio,
        "ci_low": None if estimate is None else estimate.ci_low,
        "ci_high": None if estimate is None else estimate.ci_high,
        "n_baseline": int(n_base),
        "n_test": int(test.size),
        "onset": onset.date,
        "onset_low": onset.low,
        "onset_high": onset.high,
        "simulated": series.simulated,
        "test": claim.test,
        "notes": tuple(notes),
        "onset_detail": onset,
    }


def presence_rule(
    claim: Claim,
    base: Proportion,
    test: Proportion,
    p_value: float,
    coverage: float,
) -> tuple[VerdictLabel, str]:
    """Apply the presence rules (module docstring) and say which one decided."""
    few = claim.too_few(base.n, test.n)
    if few is not None:
        return "inconclusive", few
    tolerance = claim.max_baseline_presence
    seen_before = f"{base.k} of {base.n} clear baseline scenes ({base.low:.0%}-{base.high:.0%})"
    if base.low > tolerance:
        return "contradicted", (
            f"{claim.metric} present in {seen_before}: more than the {tolerance:.0%} "
            "that false detections or brief visits could explain"
        )
    failed = []
    if test.k < 2:
        failed.append(f"only {test.k} of {test.n} test scenes show {claim.metric}")
    elif not p_value < claim.alpha:
        failed.append(f"presence not more common in the test window (p = {p_value:.2g})")
    if base.high > tolerance:
        failed.append(f"absence before is not shown ({seen_before}; need <= {tolerance:.0%})")
    if coverage < claim.min_baseline_coverage:
        failed.append(
            f"clear scenes cover only {coverage:.0%} of the baseline's months "
            f"(need {claim.min_baseline_coverage:.0%}); absence in unseen months cannot be shown"
        )
    if failed:
        return "inconclusive", "; ".join(failed)
    return "supported", (
        f"present in {test.k} of {test.n} test scenes (p = {p_value:.2g}) against "
        f"{seen_before} before"
    )
