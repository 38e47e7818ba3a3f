"""``python -m pipeline``: the ``rasonwatch`` command line."""

from pipeline.cli.app import run

run()
