"""Per-pixel features for the shore ship classifier.

Each feature is a full-chip float32 image. Scales are in metres and converted with the
grid's pixel size, so a model trained on 6–9 m crops applies to a 10 m UTM chip. The
features describe three things a photo-interpreter uses at a quay:

- *spectrum*: raw reflectance, normalised indices, and each band minus the local water
  background (so hazy and clear scenes look alike);
- *context*: how much water lies within 30–300 m, and how far the nearest water is;
- *shape*: band-pass (difference of Gaussians) and Hessian ridge responses at hull
  scales, which answer "is this a bright bar 10–60 m wide?" rather than "is this an
  edge?" (a quay is an edge, a moored hull is a bar).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

F32 = NDArray[np.float32]

#: Neighbourhoods over which the share of water is measured: a hull beam (30 m), a
#: berth's width (70 m), a basin (150 m) and a harbour (300 m).
WATER_FRACTION_SCALES_M: Final = (30.0, 70.0, 150.0, 300.0)
#: Radius over which the water background of each band is averaged: wide enough to
#: hold water even beside a 300 m terminal, small enough to follow haze and turbidity.
WATER_BACKGROUND_M: Final = 300.0
#: Distances to water beyond this are all "deep inland" for the classifier.
MAX_WATER_DISTANCE_M: Final = 200.0
#: Gaussian scales of the band-pass features: a beam of 10–60 m is a bar at 10–40 m.
DOG_SCALES_M: Final = (10.0, 20.0, 40.0)
#: Hessian scales: half a small hull's beam (10 m) and half a large one's (25 m).
HESSIAN_SCALES_M: Final = (10.0, 25.0)
_EPS: Final = np.float32(1e-4)

FEATURE_NAMES: Final = (
    "blue",
    "green",
    "red",
    "nir",
    "swir",
    "ndwi",
    "mndwi",
    "ndvi",
    "nir_swir",
    "d_blue",
    "d_green",
    "d_red",
    "d_nir",
    "d_swir",
    "water_30",
    "water_70",
    "water_150",
    "water_300",
    "dist_water",
    "br_dog_10_20",
    "br_dog_20_40",
    "nir_dog_10_20",
    "nir_dog_20_40",
    "br_hess_10_min",
    "br_hess_10_max",
    "br_hess_25_min",
    "br_hess_25_max",
    "ndwi_hess_10_min",
    "ndwi_hess_10_max",
    "br_grad_10",
    "br_texture",
)


def _odd_window(metres: float, pixel_size_m: float) -> int:
    """Odd window width in pixels covering ``metres``, at least 3."""
    return max(3, round(metres / pixel_size_m) | 1)


def _nd(a: F32, b: F32) -> F32:
    out: F32 = ((a - b) / (a + b + _EPS)).astype(np.float32)
    return out


def _hessian_eigs(image: F32, sigma_px: float) -> tuple[F32, F32]:
    """Scale-normalised Hessian eigenvalues ``(min, max)``; a bright bar has min ≪ 0."""
    hrr = ndi.gaussian_filter(image, sigma_px, order=(2, 0))
    hcc = ndi.gaussian_filter(image, sigma_px, order=(0, 2))
    hrc = ndi.gaussian_filter(image, sigma_px, order=(1, 1))
    half_trace = (hrr + hcc) / 2
    root = np.sqrt(((hrr - hcc) / 2) ** 2 + hrc**2)
    norm = np.float32(sigma_px * sigma_px)
    return (
        ((half_trace - root) * norm).astype(np.float32),
        ((half_trace + root) * norm).astype(np.float32),
    )


def pixel_features(
    reflectance: NDArray[np.float32], water: NDArray[np.bool_], *, pixel_size_m: float
) -> dict[str, F32]:
    """Compute every feature of :data:`FEATURE_NAMES` as a full-chip image.

    Args:
        reflectance: ``(5, rows, cols)`` blue, green, red, nir, swir16.
        water: Open-water mask (:func:`pipeline.masks.water_mask`).
        pixel_size_m: Ground size of one pixel.

    Returns:
        Feature name to float32 image, in :data:`FEATURE_NAMES` order.
    """
    refl = reflectance.astype(np.float32, copy=False)
    blue, green, red, nir, swir = refl
    feats: dict[str, F32] = {"blue": blue, "green": green, "red": red, "nir": nir, "swir": swir}
    ndwi_img = _nd(green, nir)
    feats["ndwi"] = ndwi_img
    feats["mndwi"] = _nd(green, swir)
    feats["ndvi"] = _nd(nir, red)
    feats["nir_swir"] = _nd(nir, swir)

    wf = water.astype(np.float32)
    k_bg = _odd_window(WATER_BACKGROUND_M, pixel_size_m)
    water_share = ndi.uniform_filter(wf, k_bg) + _EPS
    for name, band in zip(("blue", "green", "red", "nir", "swir"), refl, strict=True):
        background = ndi.uniform_filter(band * wf, k_bg) / water_share
        feats[f"d_{name}"] = (band - background).astype(np.float32)
    for scale in WATER_FRACTION_SCALES_M:
        feats[f"water_{int(scale)}"] = ndi.uniform_filter(wf, _odd_window(scale, pixel_size_m))
    dist = ndi.distance_transform_edt(~water) * pixel_size_m
    feats["dist_water"] = np.minimum(dist, MAX_WATER_DISTANCE_M).astype(np.float32)

    bright = ((blue + green + red + nir) / 4).astype(np.float32)
    s10, s20, s40 = (s / pixel_size_m for s in DOG_SCALES_M)
    b10, b20, b40 = (ndi.gaussian_filter(bright, s) for s in (s10, s20, s40))
    n10, n20, n40 = (ndi.gaussian_filter(nir, s) for s in (s10, s20, s40))
    feats["br_dog_10_20"] = b10 - b20
    feats["br_dog_20_40"] = b20 - b40
    feats["nir_dog_10_20"] = n10 - n20
    feats["nir_dog_20_40"] = n20 - n40
    for scale in HESSIAN_SCALES_M:
        lo, hi = _hessian_eigs(bright, scale / pixel_size_m)
        feats[f"br_hess_{int(scale)}_min"] = lo
        feats[f"br_hess_{int(scale)}_max"] = hi
    lo, hi = _hessian_eigs(ndwi_img, HESSIAN_SCALES_M[0] / pixel_size_m)
    feats["ndwi_hess_10_min"] = lo
    feats["ndwi_hess_10_max"] = hi
    feats["br_grad_10"] = ndi.gaussian_gradient_magnitude(bright, s10).astype(np.float32)
    mean3 = ndi.uniform_filter(bright, 3)
    var3 = ndi.uniform_filter(bright * bright, 3) - mean3 * mean3
    feats["br_texture"] = np.sqrt(np.maximum(var3, 0)).astype(np.float32)
    return {name: feats[name] for name in FEATURE_NAMES}


def feature_matrix(features: dict[str, F32], index: NDArray[np.intp]) -> F32:
    """Stack features at flat pixel indices into an ``(n, n_features)`` matrix."""
    return np.stack([features[name].ravel()[index] for name in FEATURE_NAMES], axis=1)
