"""``python -m pipeline``: the ``rasonwatch`` command line."""

from pipeline.cli import run

run()
