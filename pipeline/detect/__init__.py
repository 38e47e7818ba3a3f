"""Detection core: pure numpy/scipy, imports neither rasterio nor prefect.

- :mod:`pipeline.detect.ships`: :func:`detect_ships` (a :class:`~pipeline.types.Chip`) and
  :func:`detect_ships_in_arrays` (plain arrays, no SCL), returning :class:`Detection`.
- :mod:`pipeline.detect.candidates`: offshore (CFAR) and shore (learned) candidates.
- :mod:`pipeline.detect.reference_mode`: hulls as new objects on the empty-water composite.
- :mod:`pipeline.detect.features`: per-pixel features of the shore model.
- :mod:`pipeline.detect.classifier`: the tiny MLP, its JSON form and its trainer.
- ``ship_model.json``: the committed shore model, with provenance in ``meta``.
- :mod:`pipeline.detect.cnn`: the learned single-date detector (a heatmap CNN run in
  numpy); ``ship_cnn.npz`` its weights, ``ship_cnn.md`` its model card.
"""

from pipeline.detect.detection import Detection, with_lonlat
from pipeline.detect.reference_mode import PreparedReference, prepare_reference
from pipeline.detect.ships import detect_ships, detect_ships_in_arrays

__all__ = [
    "Detection",
    "PreparedReference",
    "detect_ships",
    "detect_ships_in_arrays",
    "prepare_reference",
    "with_lonlat",
]
