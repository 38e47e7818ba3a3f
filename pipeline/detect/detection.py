"""One detected ship, how a detector's pixels become one, and where it lies on Earth.

Shared by every ship detector (:mod:`pipeline.detect.ships`): the :class:`Detection` type,
its measurement from a candidate's pixels or a learned peak, the input checks, and the
pixel-to-WGS84 conversion. Pure numpy (and pyproj for the conversion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import Transformer

from pipeline.detect.candidates import Candidate, extent_px
from pipeline.detect.cnn import Peak, decode
from pipeline.detect.cnn_scale import peak_to_input
from pipeline.types import REFLECTANCE_BANDS


@dataclass(frozen=True)
class Detection:
    """One detected ship, in the chip's pixel grid (lon/lat filled by :func:`with_lonlat`)."""

    row: float
    """Centroid row, pixels from the top of the chip."""
    col: float
    """Centroid column, pixels from the left of the chip."""
    bbox: tuple[int, int, int, int]
    """Pixel bounds ``(col_min, row_min, col_max, row_max)``, max exclusive."""
    outline: tuple[tuple[float, float], ...]
    """Oriented rectangle around the hull, four ``(row, col)`` corners."""
    length_m: float
    """Length along the major axis, metres."""
    width_m: float
    """Width across it, metres."""
    heading_deg: float
    """Direction of the major axis, degrees clockwise from grid north, in ``[0, 180)``."""
    score: float
    """Confidence in ``[0, 1]``."""
    source: str = "offshore"
    """``learned`` (the single-date CNN, :mod:`pipeline.detect.cnn`), ``offshore`` (hull
    afloat), ``shore`` (moored against land: both the older single-date detector),
    ``reference`` (new against the temporal reference) or ``berth`` (new against the looks
    in which a usually occupied berth was seen empty, :mod:`pipeline.detect.berths`)."""
    lon: float | None = None
    """Centroid longitude (WGS84), when known."""
    lat: float | None = None
    """Centroid latitude (WGS84), when known."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"detection score must be in [0, 1], got {self.score}")
        if self.length_m < 0 or self.width_m < 0:
            raise ValueError("detection length and width must be non-negative")


def finite(values: NDArray[np.floating]) -> NDArray[np.float32]:
    """A float32 copy with NaN and infinities (no data) set to 0."""
    out = np.array(values, dtype=np.float32)
    out[~np.isfinite(out)] = 0
    return out


def measure(cand: Candidate, *, pixel_size_m: float, shape: tuple[int, int]) -> Detection:
    """Turn a candidate's pixels into a measured :class:`Detection`."""
    rr, cc = cand.rows, cand.cols
    length_px, width_px = extent_px(rr, cc)
    if len(rr) >= 2:
        cov = np.cov(np.vstack([rr, cc]).astype(np.float64))
        vals, vecs = np.linalg.eigh(cov)
        d_row, d_col = vecs[:, int(np.argmax(vals))]
    else:
        d_row, d_col = -1.0, 0.0
    # Heading clockwise from north: north is -row, east is +col.
    heading = math.degrees(math.atan2(d_col, -d_row)) % 180.0
    u = np.array([d_row, d_col]) * length_px / 2
    v = np.array([-d_col, d_row]) * width_px / 2
    centre = np.array([cand.row, cand.col])
    corners = tuple(
        (float(p[0]), float(p[1]))
        for p in (centre + u + v, centre + u - v, centre - u - v, centre - u + v)
    )
    rows, cols = shape
    bbox = (
        max(0, int(cc.min())),
        max(0, int(rr.min())),
        min(cols, int(cc.max()) + 1),
        min(rows, int(rr.max()) + 1),
    )
    return Detection(
        row=cand.row,
        col=cand.col,
        bbox=bbox,
        outline=corners,
        length_m=length_px * pixel_size_m,
        width_m=width_px * pixel_size_m,
        heading_deg=heading,
        score=float(min(1.0, max(0.0, cand.score))),
        source=cand.source,
    )


def peak_detection(peak: Peak, *, pixel_size_m: float, shape: tuple[int, int]) -> Detection:
    """A decoded CNN peak as a measured :class:`Detection` (``source`` "learned")."""
    th = math.radians(peak.heading_deg)
    axis = np.array([-math.cos(th), math.sin(th)])  # (row, col) along the hull
    across = np.array([axis[1], -axis[0]])
    u, v = axis * peak.length_px / 2, across * peak.width_px / 2
    centre = np.array([peak.row, peak.col])
    pts = [centre + u + v, centre + u - v, centre - u - v, centre - u + v]
    corners = tuple((float(p[0]), float(p[1])) for p in pts)
    rows, cols = shape
    rr = [p[0] for p in pts]
    cc = [p[1] for p in pts]
    bbox = (
        max(0, math.floor(min(cc) + 0.5)),
        max(0, math.floor(min(rr) + 0.5)),
        min(cols, max(math.floor(max(cc) + 0.5) + 1, math.floor(min(cc) + 0.5) + 1)),
        min(rows, max(math.floor(max(rr) + 0.5) + 1, math.floor(min(rr) + 0.5) + 1)),
    )
    return Detection(
        row=peak.row,
        col=peak.col,
        bbox=bbox,
        outline=corners,
        length_m=peak.length_px * pixel_size_m,
        width_m=peak.width_px * pixel_size_m,
        heading_deg=peak.heading_deg,
        score=float(min(1.0, max(0.0, peak.score))),
        source="learned",
    )


def detections_from_maps(
    maps: NDArray[np.float32],
    *,
    threshold: float,
    peak_cells: int,
    valid: NDArray[np.bool_] | None,
    pixel_size_m: float,
    shape: tuple[int, int],
    factor: float = 1.0,
) -> list[Detection]:
    """Detections from the learned detector's outputs (:func:`pipeline.detect.cnn.predict_maps`).

    Args:
        maps: Outputs for the chip on the network's working grid.
        valid: Pixels with data on that grid.
        pixel_size_m: Ground size of the input chip's pixels.
        shape: The input chip's ``(rows, cols)``.
        factor: Working pixels per input pixel (:mod:`pipeline.detect.cnn_scale`):
            detections are returned in the input chip's pixels.
    """
    peaks = decode(maps, threshold=threshold, peak_cells=peak_cells, valid=valid)
    return [
        peak_detection(peak_to_input(p, factor), pixel_size_m=pixel_size_m, shape=shape)
        for p in peaks
    ]


def checked_shape(
    reflectance: NDArray[np.float32],
    pixel_size_m: float,
    valid: NDArray[np.bool_] | None,
    clear: NDArray[np.bool_] | None,
) -> tuple[int, int]:
    """The chip's ``(rows, cols)``, once the inputs of a ship detector are checked.

    Raises:
        ValueError: When array shapes disagree or the pixel size is not positive.
    """
    if reflectance.ndim != 3 or reflectance.shape[0] != len(REFLECTANCE_BANDS):
        raise ValueError(f"reflectance must be (5, rows, cols), got {reflectance.shape}")
    if not pixel_size_m > 0:
        raise ValueError(f"pixel_size_m must be positive, got {pixel_size_m}")
    shape = (int(reflectance.shape[1]), int(reflectance.shape[2]))
    for name, arr in (("valid", valid), ("clear", clear)):
        if arr is not None and arr.shape != shape:
            raise ValueError(f"{name} mask {arr.shape} does not match reflectance {shape}")
    return shape


@lru_cache(maxsize=8)
def _to_wgs84(epsg: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)


def pixel_to_lonlat(row: float, col: float, transform: Affine, epsg: int) -> tuple[float, float]:
    """Longitude and latitude of a pixel position (``row``/``col`` at pixel centres
    are ``i + 0.5``; centroids from detections are already continuous coordinates of
    pixel indices, so 0.5 is added here)."""
    x, y = transform @ (col + 0.5, row + 0.5)
    lon, lat = _to_wgs84(epsg).transform(x, y)
    return float(lon), float(lat)


def with_lonlat(dets: list[Detection], transform: Affine, epsg: int) -> list[Detection]:
    """Copies of ``dets`` with ``lon``/``lat`` computed from the grid's transform."""
    out = []
    for d in dets:
        lon, lat = pixel_to_lonlat(d.row, d.col, transform, epsg)
        out.append(replace(d, lon=lon, lat=lat))
    return out
