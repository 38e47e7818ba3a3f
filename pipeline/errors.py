"""One exception root, named subclasses, and warnings for data-quality problems.

Every message says what failed, for which input, and how to fix it. The CLI turns any
:class:`RasonWatchError` into one line on stderr and exit code 2.
"""

from __future__ import annotations


class RasonWatchError(Exception):
    """Root of every error rason-watch raises on purpose."""


class InvalidAoiError(RasonWatchError, ValueError):
    """An AOI file is malformed, invalid, or its id is unknown."""


class InvalidScenarioError(RasonWatchError, ValueError):
    """A simulation scenario file is malformed or holds unknown keys."""


class InvalidSettingError(RasonWatchError, ValueError):
    """An environment setting (``RASONWATCH_*``) has a value the tool cannot use."""


class InvalidDateRangeError(RasonWatchError, ValueError):
    """A date is unparseable, or a range ends before it starts."""


class SourceError(RasonWatchError):
    """A scene source is unknown, unreachable or returned something unusable."""


class SceneMetadataError(SourceError, ValueError):
    """A STAC item lacks what a Scene needs (assets, projection, datetime)."""


class ReadError(RasonWatchError, OSError):
    """Reading pixels failed after retries (network, missing or corrupt COG)."""


class AoiOutsideSceneError(ReadError):
    """The AOI does not intersect the scene's raster footprint."""


class RasonWatchWarning(UserWarning):
    """Root of data-quality warnings: never a silent skip, never fatal by default."""


class OffsetWarning(RasonWatchWarning):
    """The processing-baseline offset metadata looks inconsistent with the pixels."""


class StoreError(RasonWatchError):
    """The results store cannot be opened, created or written."""


class StoreVersionError(StoreError):
    """The store was written by a newer rason-watch (its schema is ahead of ours)."""


class UnsafePathError(RasonWatchError, ValueError):
    """An id cannot become a file or folder name (it could escape its folder)."""


class OutputPathError(RasonWatchError):
    """An output folder cannot be created or written (under a file, read-only...)."""


class InvalidOptionError(RasonWatchError, ValueError):
    """A command-line option has a value that cannot work (a cron string, a size...)."""
