"""The empty yard by the day: wet ballast and the sun's shadows, on a small synthetic yard."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.detect.yard_model import (
    bare_level,
    expected_empty,
    fit_response,
    shadow_scale,
)

BALLAST = np.array([0.135, 0.145, 0.155, 0.185, 0.215])
COAL = np.array([0.032, 0.034, 0.037, 0.045, 0.052])
#: Wet gravel loses a fifth to a third of its light, most in SWIR (pore water absorbs).
WET_LOSS = np.array([0.30, 0.30, 0.30, 0.28, 0.45])
SHAPE = (24, 40)


def _world(seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Each pixel's share of loose ground (0.3-1) and a strip a building shadows in winter."""
    rng = np.random.default_rng(seed)
    loose = rng.uniform(0.3, 1.0, SHAPE)
    shaded = np.zeros(SHAPE, dtype=bool)
    shaded[2:4, 5:30] = True
    return loose, shaded


def _empty_day(
    loose: NDArray[np.float64], shaded: NDArray[np.bool_], wet: float, elevation: float
) -> NDArray[np.float32]:
    cube = BALLAST[:, None, None] * (1 - wet * WET_LOSS[:, None, None] * loose[None])
    if elevation < 35:  # the building's shadow reaches the strip when the sun is low
        cube = np.where(shaded[None], cube * 0.3, cube)
    return cube.astype(np.float32)


def _looks(n: int = 30, seed: int = 1) -> tuple[NDArray[np.float32], list[float]]:
    rng = np.random.default_rng(seed)
    loose, shaded = _world()
    looks, elevations = [], []
    for k in range(n):
        elevation = float(rng.uniform(22, 70))
        wet = float(rng.choice([0.0, 0.0, 0.5, 1.0]))
        cube = _empty_day(loose, shaded, wet, elevation)
        if k % 4 == 0:  # a train on a track in a quarter of the looks
            row = int(rng.integers(6, 22))
            cube[:, row, 5:35] = 0.5 * cube[:, row, 5:35] + 0.5 * COAL[:, None]
        looks.append(cube + rng.normal(0, 0.002, cube.shape).astype(np.float32))
        elevations.append(elevation)
    return np.stack(looks), elevations


def _fit(stack: NDArray[np.float32], elevations: list[float]) -> NDArray[np.float32]:
    every = np.ones(SHAPE, dtype=bool)
    levels = np.stack([bare_level(look, every) for look in stack])
    return fit_response(stack, levels, np.array([shadow_scale(e) for e in elevations]))


def test_a_wet_winter_day_is_modelled_where_the_median_is_wrong() -> None:
    stack, elevations = _looks()
    response = _fit(stack, elevations)
    loose, shaded = _world()
    truth = _empty_day(loose, shaded, wet=1.0, elevation=25.0)
    median = np.median(stack, axis=0).astype(np.float32)
    day = expected_empty(
        response, bare_level(truth, np.ones(SHAPE, dtype=bool)), shadow_scale(25.0), median
    )
    model_error = np.abs(day - truth)
    median_error = np.abs(median * np.median(truth) / np.median(median) - truth)
    # The model is right to within a few noise levels everywhere, the median (even with
    # the day's overall gain) is wrong by a wet pixel's darkening, and badly on the strip.
    assert float(np.percentile(model_error, 95)) < 0.01
    assert float(np.percentile(median_error, 95)) > 0.02
    assert float(model_error[:, shaded].mean()) < 0.3 * float(median_error[:, shaded].mean())


def test_pixels_with_too_few_looks_fall_back_to_the_median() -> None:
    stack, elevations = _looks(n=20)
    stack[3:, :, 0, 0] = np.nan  # only three clear looks at one pixel
    response = _fit(stack, elevations)
    assert np.isnan(response[:, :, 0, 0]).all()
    assert np.isfinite(response[:, :, 5, 5]).all()
    fallback = np.full((5, *SHAPE), 0.5, dtype=np.float32)
    day = expected_empty(response, np.full(5, 0.14), shadow_scale(40.0), fallback)
    assert (day[:, 0, 0] == 0.5).all()
    unknown = expected_empty(response, np.full(5, np.nan), shadow_scale(40.0), fallback)
    assert unknown is fallback


def test_mismatched_looks_are_refused() -> None:
    stack, _elevations = _looks(n=10)
    with pytest.raises(ValueError, match="10 looks"):
        fit_response(stack, np.zeros((9, 5)), np.zeros(10))


def test_a_reference_built_with_the_sun_models_the_yard_by_the_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from affine import Affine

    from pipeline.detect import reference as reference_module
    from pipeline.detect.coregister import NO_SHIFT
    from pipeline.detect.reference import build_reference
    from pipeline.types import Chip

    # The synthetic looks are already on one frame (and too small to phase-correlate).
    monkeypatch.setattr(
        reference_module,
        "register_stack",
        lambda cubes, valid: (list(cubes), list(valid), [NO_SHIFT] * len(cubes)),
    )
    stack, elevations = _looks(n=24)
    # A field beside the bed greens up in summer: not bed, so not the day's level.
    stack[:, 3, :, 36:] = np.where(np.arange(24)[:, None, None] % 2 == 0, 0.35, 0.2)
    chips = [
        Chip(
            scene_id=f"S{k:02d}",
            aoi_id="tumangang-rail",
            reflectance=look,
            scl=np.full(SHAPE, 5, dtype=np.uint8),
            valid=np.ones(SHAPE, dtype=bool),
            transform=Affine(10, 0, 635000, 0, -10, 4699000),
            epsg=32652,
        )
        for k, look in enumerate(stack)
    ]
    clear = [np.ones(SHAPE, dtype=bool)] * len(chips)
    plain = build_reference(chips, clear)
    assert plain.response is None
    yards = np.zeros(SHAPE, dtype=bool)
    yards[:, :36] = True
    modelled = build_reference(chips, clear, sun_elevations=elevations, yards=yards)
    assert modelled.response is not None
    assert modelled.response.shape == (3, 5, *SHAPE)
    assert modelled.reference_id != plain.reference_id
    loose, shaded = _world()
    truth = _empty_day(loose, shaded, wet=1.0, elevation=25.0)
    level = bare_level(truth, yards)
    day = expected_empty(modelled.response, level, shadow_scale(25.0), modelled.median)
    model_error = float(np.percentile(np.abs(day - truth)[:, :, :36], 95))
    median_error = float(np.percentile(np.abs(modelled.median - truth)[:, :, :36], 95))
    assert model_error < 0.02
    assert model_error < 0.5 * median_error
    with pytest.raises(ValueError, match="sun elevations"):
        build_reference(chips, clear, sun_elevations=elevations[:-1])


@pytest.mark.xfail(
    strict=True,
    reason="known limit: a track occupied in most looks pulls the fitted empty ground to a car "
    "(README, 'What still limits it'); starting from the brightest looks fixed this test but "
    "worsened the fresh world (0.51 / 0.41), so it was not kept",
)
def test_a_track_busy_in_most_looks_is_still_modelled_empty() -> None:
    rng = np.random.default_rng(7)
    loose, shaded = _world()
    looks, elevations = [], []
    for k in range(30):
        elevation = float(rng.uniform(22, 70))
        cube = _empty_day(loose, shaded, float(rng.choice([0.0, 0.5, 1.0])), elevation)
        if k % 5 < 3:  # a string of cars on row 12 in three looks out of five
            cube[:, 12, 5:35] = 0.45 * cube[:, 12, 5:35] + 0.55 * COAL[:, None]
        looks.append(cube + rng.normal(0, 0.002, cube.shape).astype(np.float32))
        elevations.append(elevation)
    stack = np.stack(looks)
    response = _fit(stack, elevations)
    truth = _empty_day(loose, shaded, wet=0.5, elevation=40.0)
    day = expected_empty(
        response,
        bare_level(truth, np.ones(SHAPE, dtype=bool)),
        shadow_scale(40.0),
        np.median(stack, axis=0).astype(np.float32),
    )
    track = np.s_[:, 12, 5:35]
    assert float(np.abs(day[track] - truth[track]).mean()) < 0.01
