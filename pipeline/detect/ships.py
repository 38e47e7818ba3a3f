"""Ship detection on one Sentinel-2 chip: single-date mode and reference mode.

The learned single-date detector (:mod:`pipeline.detect.cnn`, a small heatmap CNN run in
numpy: :func:`detect_ships_learned`); :func:`detect_ships` uses it, when
:data:`LEARNED_IN_PRODUCT` is on, for chips without a reference and on berths the reference
flags as usually occupied.

The older single-date pipeline (:func:`detect_ships_in_arrays` without a reference; kept
for comparison, ``rasonwatch bench ships --detector legacy``), all pure numpy/scipy:

1. masks: open water (NDWI), the sea (large water bodies, ship-sized holes filled);
2. offshore hulls: holes and NIR anomalies wholly inside the sea (CFAR, size rules),
   then a small logistic model over object features (size, colour of the excess,
   land and clutter nearby: :mod:`pipeline.detect.offshore`) drops small craft, wakes
   and breakwater fragments;
3. moored hulls: a per-pixel MLP scores the waterline band (non-water pixels within
   20 m of open water) from cheap coarse-grid features (:mod:`pipeline.detect.features`),
   and peaks of that score, one per :data:`~pipeline.detect.candidates.SHORE_PEAK_SPACING_M`
   or as the model file says, are ships (:mod:`pipeline.detect.candidates`);
4. clouds: detections whose centroid is not clear are dropped;
5. each detection is measured: oriented length, width, heading, outline.

In *reference mode* (:mod:`pipeline.detect.reference_mode`) a low-percentile composite
of clear scenes stands in for empty water: its water mask defines the basin (so a
berth that is usually empty is water), and a hull is a ship-sized, hull-coloured NIR
excess over the composite there; hulls abreast are split.

The model file (``ship_model.json``) holds both models, the grouping settings chosen
leave-one-port-out, and its provenance.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.detect.candidates import (
    SHORE_PEAK_SPACING_M,
    SHORE_SMOOTH_M,
    Candidate,
    offshore_candidates,
    shore_candidates,
    waterline_band,
)
from pipeline.detect.classifier import Logistic, Mlp
from pipeline.detect.cnn import (
    LEARNED_IN_PRODUCT,
    ShipCnn,
    load_cnn,
    predict_maps,
)
from pipeline.detect.cnn_scale import to_working_scale
from pipeline.detect.detection import (
    Detection,
    checked_shape,
    detections_from_maps,
    finite,
    measure,
    with_lonlat,
)
from pipeline.detect.features import band_features
from pipeline.detect.masks import clear_mask, dilate_cross, sea_mask, water_mask
from pipeline.detect.offshore import offshore_features
from pipeline.detect.reference_mode import (
    PreparedReference,
    prepare_reference,
    reference_candidates,
)
from pipeline.types import REFLECTANCE_BANDS, Chip

#: The committed shore model (see its ``meta.provenance`` for how it was trained).
DEFAULT_MODEL_PATH: Final = Path(__file__).with_name("ship_model.json")
#: Shore-peak threshold used when the model file does not carry one.
DEFAULT_SHORE_THRESHOLD: Final = 0.5
#: A learned detection on a usually occupied berth within this distance of a
#: reference-mode detection is the same hull (half a 110 m trader).
BERTH_MERGE_M: Final = 60.0
_NIR: Final = REFLECTANCE_BANDS.index("nir")


@lru_cache(maxsize=4)
def load_model(path: Path = DEFAULT_MODEL_PATH) -> Mlp:
    """The shore model, read once per path."""
    return Mlp.load(path)


def detect_ships_learned(
    reflectance: NDArray[np.float32],
    *,
    valid: NDArray[np.bool_] | None = None,
    clear: NDArray[np.bool_] | None = None,
    pixel_size_m: float = 10.0,
    cnn: ShipCnn | None = None,
) -> list[Detection]:
    """Single-date ships from the learned detector (:mod:`pipeline.detect.cnn`).

    Args:
        reflectance: ``(5, rows, cols)`` surface reflectance: blue, green, red, nir, swir16.
        valid: Pixels with data (default: all).
        clear: Pixels seen clear (default: all); detections whose centroid is not are dropped.
        pixel_size_m: Ground size of one pixel, metres: a chip on another grid than 10 m
            is read resampled to 10 m (:mod:`pipeline.detect.cnn_scale`).
        cnn: The network (default: the committed :data:`~pipeline.detect.cnn.DEFAULT_CNN_PATH`).

    Returns:
        Detections sorted by decreasing score, ``source`` "learned".

    Raises:
        ValueError: When array shapes disagree or the pixel size is not positive.
    """
    shape = checked_shape(reflectance, pixel_size_m, valid, clear)
    net = cnn if cnn is not None else load_cnn()
    work = to_working_scale(reflectance, valid, pixel_size_m)
    dets = detections_from_maps(
        predict_maps(net, work.reflectance, work.valid),
        threshold=net.threshold,
        peak_cells=net.peak_cells,
        valid=work.valid,
        pixel_size_m=pixel_size_m,
        shape=shape,
        factor=work.factor,
    )
    if clear is not None:
        dets = [
            d
            for d in dets
            if clear[min(round(d.row), shape[0] - 1), min(round(d.col), shape[1] - 1)]
        ]
    return dets


def detect_ships_in_arrays(
    reflectance: NDArray[np.float32],
    *,
    valid: NDArray[np.bool_] | None = None,
    clear: NDArray[np.bool_] | None = None,
    reference: NDArray[np.float32] | PreparedReference | None = None,
    pixel_size_m: float = 10.0,
    model: Mlp | None = None,
    shore_threshold: float | None = None,
    use_shore: bool = True,
) -> list[Detection]:
    """Detect ships in plain arrays (no SCL needed).

    Args:
        reflectance: ``(5, rows, cols)`` surface reflectance: blue, green, red, nir, swir16.
        valid: Pixels with data (default: all).
        clear: Pixels seen clear of cloud and shadow (default: all). Detections whose
            centroid is not clear are dropped.
        reference: Optional ``(5, rows, cols)`` empty-water composite of the same AOI
            (reference mode), as an array or, to compute its basin once for many scenes,
            a :class:`PreparedReference`; ``None`` for single-date mode.
        pixel_size_m: Ground size of one pixel, metres.
        model: Shore pixel model (default: the committed :data:`DEFAULT_MODEL_PATH`).
        shore_threshold: Minimum smoothed shore probability of a moored-ship peak
            (default: the model's ``meta.shore_threshold``).
        use_shore: Run the moored-ship detector (off: offshore hulls only).

    Returns:
        Detections sorted by decreasing score.

    Raises:
        ValueError: When array shapes disagree or the pixel size is not positive.
    """
    shape = checked_shape(reflectance, pixel_size_m, valid, clear)
    refl = finite(reflectance)
    ok = np.ones(shape, dtype=bool) if valid is None else valid.astype(bool)

    if reference is not None:
        prepared = (
            reference
            if isinstance(reference, PreparedReference)
            else prepare_reference(reference, pixel_size_m=pixel_size_m)
        )
        if prepared.values.shape != refl.shape:
            raise ValueError(f"reference {prepared.values.shape} does not match {refl.shape}")
        if prepared.pixel_size_m != pixel_size_m:
            raise ValueError(
                f"reference basin was computed for {prepared.pixel_size_m} m pixels, "
                f"not {pixel_size_m} m; call prepare_reference with the chip's pixel size"
            )
        cands = reference_candidates(refl, prepared, ok, pixel_size_m=pixel_size_m)
    else:
        water = water_mask(refl, ok)
        sea = sea_mask(water, pixel_size_m=pixel_size_m)
        mlp = model if model is not None else load_model()
        cands = []
        if not use_shore or bool(mlp.meta.get("offshore_cfar", True)):
            cands = offshore_candidates(refl[_NIR], water, sea, ok, pixel_size_m=pixel_size_m)
            cands = _classify_offshore(refl, water, sea, cands, pixel_size_m, mlp)
        if use_shore:
            cands += _shore(refl, water, sea, ok, cands, pixel_size_m, mlp, shore_threshold)
    dets = [measure(c, pixel_size_m=pixel_size_m, shape=shape) for c in cands]
    if clear is not None:
        dets = [d for d in dets if clear[round(d.row), round(d.col)]]
    return sorted(dets, key=lambda d: -d.score)


def _classify_offshore(
    refl: NDArray[np.float32],
    water: NDArray[np.bool_],
    sea: NDArray[np.bool_],
    cands: list[Candidate],
    pixel_size_m: float,
    mlp: Mlp,
) -> list[Candidate]:
    """Keep the offshore objects the model file's ``offshore_model`` calls ships."""
    doc = mlp.meta.get("offshore_model")
    if not doc or not cands:
        return cands
    clf = Logistic.from_json(doc)
    prob = clf.predict(offshore_features(refl, water, sea, cands, pixel_size_m=pixel_size_m))
    return [
        replace(c, score=float(p)) for c, p in zip(cands, prob, strict=True) if p >= clf.threshold
    ]


def _shore(
    refl: NDArray[np.float32],
    water: NDArray[np.bool_],
    sea: NDArray[np.bool_],
    valid: NDArray[np.bool_],
    offshore: list[Candidate],
    pixel_size_m: float,
    mlp: Mlp,
    threshold: float | None,
) -> list[Candidate]:
    """Moored-ship candidates from the shore model, away from offshore detections."""
    if threshold is None:
        threshold = float(mlp.meta.get("shore_threshold", DEFAULT_SHORE_THRESHOLD))
    band = waterline_band(sea, water, valid, pixel_size_m=pixel_size_m)
    rows, cols = np.nonzero(band)
    prob = np.zeros(band.shape, dtype=np.float32)
    if len(rows):
        feats = band_features(refl, water, sea, rows, cols, pixel_size_m=pixel_size_m)
        prob[rows, cols] = mlp.predict(feats)
    taken = np.zeros(band.shape, dtype=bool)
    for c in offshore:
        taken[c.rows, c.cols] = True
    if offshore:
        taken = dilate_cross(taken, max(1, round(30 / pixel_size_m)))
    return shore_candidates(
        prob,
        band,
        pixel_size_m=pixel_size_m,
        threshold=threshold,
        exclude=taken,
        smooth_m=float(mlp.meta.get("shore_smooth_m", SHORE_SMOOTH_M)),
        spacing_m=float(mlp.meta.get("shore_spacing_m", SHORE_PEAK_SPACING_M)),
    )


def detect_ships(
    chip: Chip,
    *,
    reference: NDArray[np.float32] | PreparedReference | None = None,
    pixel_size_m: float | None = None,
    model: Mlp | None = None,
    cnn: ShipCnn | None = None,
    learned: bool = LEARNED_IN_PRODUCT,
) -> list[Detection]:
    """Detect ships in a chip, drop those under cloud, and give each its lon/lat.

    With ``learned``, chips without a reference are counted by the learned single-date
    detector (:mod:`pipeline.detect.cnn`), and in reference mode its ships on the berths
    the reference flags as usually occupied are added, unless reference mode already found
    a hull within :data:`BERTH_MERGE_M` (:func:`add_berth_ships`). Without it, the older
    single-date detector and reference mode alone, as before issue 16.

    Args:
        chip: Reflectance, SCL and validity on the scene's UTM grid.
        reference: Optional empty-water composite ``(5, rows, cols)`` (reference mode),
            or a :class:`PreparedReference` built from one.
        pixel_size_m: Ground pixel size (default: from the chip's transform).
        model: Shore pixel model of the older detector.
        cnn: The learned detector (default: the committed one).
        learned: Use the learned detector (default :data:`LEARNED_IN_PRODUCT`).

    Returns:
        Detections sorted by decreasing score, with ``lon``/``lat`` filled.
    """
    size = pixel_size_m if pixel_size_m is not None else abs(float(chip.transform.a))
    clear = clear_mask(chip.scl, pixel_size_m=size)
    if reference is None and learned:
        dets = detect_ships_learned(
            chip.reflectance, valid=chip.valid, clear=clear, pixel_size_m=size, cnn=cnn
        )
        return with_lonlat(dets, chip.transform, chip.epsg)
    dets = detect_ships_in_arrays(
        chip.reflectance,
        valid=chip.valid,
        clear=clear,
        reference=reference,
        pixel_size_m=size,
        model=model,
    )
    berths = reference.berths if isinstance(reference, PreparedReference) else None
    if learned and berths is not None and berths.any():
        found = detect_ships_learned(
            chip.reflectance, valid=chip.valid, clear=clear, pixel_size_m=size, cnn=cnn
        )
        dets = add_berth_ships(dets, found, berths, pixel_size_m=size)
    return with_lonlat(dets, chip.transform, chip.epsg)


def add_berth_ships(
    found: list[Detection],
    learned: list[Detection],
    berths: NDArray[np.bool_],
    *,
    pixel_size_m: float,
) -> list[Detection]:
    """Reference-mode detections plus the learned ones on usually occupied berths.

    A learned detection counts when its centroid lies on a berth and no detection kept so
    far lies within :data:`BERTH_MERGE_M` of it (the same hull seen by both detectors).
    """
    out = list(found)
    reach = BERTH_MERGE_M / pixel_size_m
    rows, cols = berths.shape
    for d in learned:
        r, c = min(max(round(d.row), 0), rows - 1), min(max(round(d.col), 0), cols - 1)
        if not berths[r, c]:
            continue
        if any(math.hypot(d.row - o.row, d.col - o.col) < reach for o in out):
            continue
        out.append(d)
    return sorted(out, key=lambda d: -d.score)
