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


#: What a failed read is, decided once where it failed (:mod:`pipeline.read.retry`):
#: ``transient`` (a timeout, HTTP 5xx/408/425/429, a reset), ``truncated`` (fewer bytes than
#: announced: a cut transfer, or a cut file), ``refused`` (HTTP 401/403: an expired signature,
#: or a real denial), ``not-tiff`` and ``permanent`` (everything else: 404, corrupt, missing).
READ_FAILURE_KINDS = ("transient", "truncated", "refused", "not-tiff", "permanent")


class ReadError(RasonWatchError, OSError):
    """Reading pixels failed after retries (network, missing or corrupt COG).

    :attr:`kind` says what the failure is (:data:`READ_FAILURE_KINDS`); nothing downstream
    reads the message to find out.
    """

    def __init__(self, message: str, *, kind: str = "permanent") -> None:
        super().__init__(message)
        if kind not in READ_FAILURE_KINDS:
            raise ValueError(f"unknown read failure kind {kind!r}")
        self.kind = kind

    def __reduce__(self) -> tuple[object, ...]:
        """Keep :attr:`kind` across processes (a Dask worker's failure reaches the flow)."""
        return (_read_error, (type(self), str(self), self.kind))

    @property
    def transient(self) -> bool:
        """Whether the same read may succeed later (a cut transfer included)."""
        return self.kind in ("transient", "truncated")


def _read_error(cls: type[ReadError], message: str, kind: str) -> ReadError:
    error = cls.__new__(cls)
    ReadError.__init__(error, message, kind=kind)
    return error


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
