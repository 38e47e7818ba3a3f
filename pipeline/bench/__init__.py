"""Benchmarks of the detectors against labelled data (these modules may read files).

- :mod:`pipeline.bench.sen2ships`: ``run_ship_bench(dataset_dir)`` for
  ``rasonwatch bench ships DATASET_DIR --json``.
- :mod:`pipeline.bench.matching`: the centroid-in-grown-bbox, one-to-one matching it scores by.
- :mod:`pipeline.bench.train_ships`: ``python -m pipeline.bench.train_ships DATASET_DIR``
  re-trains the shore model with leave-one-port-out scores.
- :mod:`pipeline.bench.overlays`: PNG overlays of hits, misses and false alarms.
- :mod:`pipeline.bench.simulated`: ``rasonwatch bench sim``, the detectors against a
  SIMULATED archive's truth.
- :mod:`pipeline.bench.io`: ``rasonwatch bench io``, our windowed reader against odc-stac.
- :mod:`pipeline.bench.backfill`: ``rasonwatch bench backfill``, what a backfill costs; each
  measurement runs in :mod:`pipeline.bench.backfill_measure`, and
  :mod:`pipeline.bench.backfill_result` puts the figures together and prints them.

See docs/ARCHITECTURE.md for what this package may import.
"""
