"""Retrying GDAL reads: what failed, whether it may pass later, and which caches to bypass.

A failure is *transient* when a later attempt may succeed (HTTP 5xx/408/425/429, timeouts,
resets, truncated reads) and *permanent* otherwise (4xx, "not a TIFF", a missing file).
:func:`with_retries` retries transient failures with exponential back-off and turns every
failure into a :class:`~pipeline.errors.ReadError` whose message names the unsigned href and
never carries a query string (SAS tokens, presigned signatures; :func:`redact`).

GDAL's caches
    ``/vsicurl/`` caches file sizes, headers and blocks per URL for the whole process, which
    is what lets the second AOI of a scene, or a re-read, skip the header request. It also
    remembers a *failed* open and would answer a retry from that memory. So the attempt
    after a failure (:func:`read_env`) sets ``CPL_VSIL_CURL_NON_CACHED`` to the file's path:
    the handle bypasses the caches and closing it drops what GDAL cached about the URL.
    GDAL splits that option on ``:``, so in practice it bypasses the cross-handle cache for
    the reading thread while the Env is active; only reads after a failure pay for that.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Final, TypeVar

import rasterio
from rasterio.errors import RasterioError

from pipeline.config import Settings
from pipeline.errors import RasonWatchError, ReadError
from pipeline.geo.redaction import redact

log = logging.getLogger(__name__)

_HTTP_CODE: Final = re.compile(r"HTTP response code: (\d{3})")
_NOT_TIFF: Final = (
    "not recognized as being in a supported file format",
    "not recognized as a supported dataset name",
    "not a tiff",
)
_PERMANENT: Final = ("no such file or directory", "permission denied")
#: A tile or a body that ends before the bytes it announced (a cut file or transfer).
_TRUNCATED: Final = re.compile(r"got \d+ bytes, expected \d+|truncated body")
_TRANSIENT_HTTP: Final = frozenset({408, 425, 429})
_REFUSED_HTTP: Final = frozenset({401, 403})
try:  # GDAL errors that rasterio raises without wrapping (e.g. from WarpedVRT)
    from rasterio._err import CPLE_BaseError as _CpleError
except ImportError:  # pragma: no cover - a rasterio without the private module
    _CpleError = RasterioError
#: What a failed GDAL read raises; anything else is a bug and propagates untouched.
GDAL_ERRORS: Final = (RasterioError, _CpleError, OSError)
T = TypeVar("T")
#: Unsigned hrefs whose last read failed: their next attempt bypasses GDAL's caches.
_FAILED: set[str] = set()


def identity(href: str) -> str:
    """The default ``sign``: read the href as it is."""
    return href


def gdal_path(href: str) -> str:
    """The GDAL path of an href: ``/vsicurl/`` for HTTP(S), ``/vsis3/`` for ``s3://``."""
    if href.startswith("/vsi"):
        return href
    if href.startswith(("http://", "https://")):
        return f"/vsicurl/{href}"
    if href.startswith("s3://"):
        return f"/vsis3/{href[len('s3://') :]}"
    if href.startswith("file://"):
        return href[len("file://") :]
    return href


@contextmanager
def read_env(
    href: str, path: str, settings: Settings, extra: Mapping[str, str] | None = None
) -> Iterator[None]:
    """The GDAL options of one read attempt of ``href`` (opened as ``path``), plus ``extra``
    (the options of its bucket, :func:`pipeline.read.s3_access.s3_read_options`).

    Caches are shared across handles, except on the first attempt after a failure of the
    same href, which bypasses them (see the module docstring).
    """
    fresh = {"CPL_VSIL_CURL_NON_CACHED": path} if href in _FAILED else {}
    try:
        with rasterio.Env(**{**settings.gdal_env, **(extra or {}), **fresh}):
            yield
    except GDAL_ERRORS:
        _FAILED.add(href)
        raise
    _FAILED.discard(href)


def classify(exc: BaseException) -> tuple[bool, str]:
    """``(transient, reason)`` of a GDAL/rasterio/HTTP failure, from the whole exception chain."""
    kind, reason = failure_kind(exc)
    return kind in ("transient", "truncated"), reason


def failure_kind(exc: BaseException) -> tuple[str, str]:
    """``(kind, reason)`` of a failure (:data:`pipeline.errors.READ_FAILURE_KINDS`): the one
    place where a failure's words are read."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 5:
        text = str(seen).strip()
        if text and text not in messages:
            messages.append(text)
        seen = seen.__cause__ or seen.__context__
    reason = redact(" <- ".join(messages) or type(exc).__name__)
    code = _HTTP_CODE.search(reason)
    if code:
        status = int(code.group(1))
        if status in _REFUSED_HTTP:
            return "refused", reason
        transient = status >= 500 or status in _TRANSIENT_HTTP
        return ("transient" if transient else "permanent"), reason
    lowered = reason.lower()
    if _TRUNCATED.search(lowered):
        return "truncated", reason
    if any(p in lowered for p in _NOT_TIFF):
        return "not-tiff", reason
    if any(p in lowered for p in _PERMANENT):
        return "permanent", reason
    return "transient", reason


def refused_signature(reason: str) -> bool:
    """Whether the server refused the request's credentials (HTTP 401 or 403).

    An expired SAS token or presigned URL looks like this; so does a real denial. Signing
    afresh cures the first, so :func:`with_retries` retries it once.
    """
    code = _HTTP_CODE.search(reason)
    return code is not None and int(code.group(1)) in _REFUSED_HTTP


def with_retries(fn: Callable[[], T], *, href: str, settings: Settings) -> T:
    """Call ``fn`` until it succeeds, a permanent failure, or ``settings.read_retries`` attempts.

    ``fn`` signs the href afresh on every call, so a first refusal of the signature (HTTP
    401/403, :func:`refused_signature`) is retried once; other permanent failures are not.

    Raises:
        ReadError: a permanent failure, or the last transient one (href redacted).
        RasonWatchError: raised by ``fn`` itself (never retried).
    """
    attempts = max(1, settings.read_retries)
    delay = settings.retry_backoff_s
    shown = redact(href)
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except RasonWatchError:
            raise
        except GDAL_ERRORS as exc:
            kind, reason = failure_kind(exc)
            transient = kind in ("transient", "truncated")
            if not transient and not (attempt == 1 and kind == "refused"):
                raise ReadError(f"cannot read {shown}: {reason}", kind=kind) from None
            if attempt == attempts:
                raise ReadError(
                    f"cannot read {shown} after {attempts} attempts: {reason}", kind=kind
                ) from None
            log.warning("read %s failed (%s); retry %d/%d", shown, reason, attempt, attempts - 1)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
