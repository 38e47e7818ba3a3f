"""The ``rasonwatch`` command line, its console tables and the demo.

See docs/ARCHITECTURE.md for what this package may import.
"""

from pipeline.cli.app import app, main, run

__all__ = ["app", "main", "run"]
