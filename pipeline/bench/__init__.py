"""Benchmarks of the detectors against labelled data (these modules may read files).

- :mod:`pipeline.bench.sen2ships`: ``run_ship_bench(dataset_dir)`` for
  ``rasonwatch bench ships DATASET_DIR --json``.
- :mod:`pipeline.bench.matching`: DESIGN.md's centroid-in-grown-bbox, one-to-one matching.
- :mod:`pipeline.bench.train_ships`: ``python -m pipeline.bench.train_ships DATASET_DIR``
  re-trains the shore model with leave-one-port-out scores.
- :mod:`pipeline.bench.overlays`: PNG overlays of hits, misses and false alarms.
"""
