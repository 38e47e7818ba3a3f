"""Keep signed URLs' secrets (SAS tokens, presigned signatures, access keys) out of logs.

A signed URL carries its secret in the query string: ``?sv=...&sig=...`` (Planetary
Computer), ``?X-Amz-Credential=<access key>/...&X-Amz-Security-Token=...&X-Amz-Signature=``
(CDSE). Our own messages name unsigned hrefs, but libraries log the URLs they are given:
rasterio logs GDAL's messages (a failed open names the full ``/vsicurl/`` path;
``rasterio._env``, at INFO and DEBUG), and urllib3 logs each request line at DEBUG
(``"GET /path?query HTTP/1.1"``). :func:`install_log_redaction` puts
:class:`RedactingFilter` on those loggers; the sources that sign call it before handing out
a signed URL.

Leaf module: imports nothing from the package, so any module may use it.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Final

_QUERY: Final = re.compile(r"(https?://[^\s'\"?]+)\?[^\s'\"]*")
#: A request line as urllib3 logs it: the path and query without the scheme and host.
_REQUEST_QUERY: Final = re.compile(
    r"((?:GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS) /[^\s'\"?]*)\?[^\s'\"]*"
)
#: Loggers that may carry a signed URL: rasterio's GDAL handler, urllib3's request log.
LOGGERS: Final = (
    "rasterio",
    "rasterio._env",
    "rasterio._err",
    "rasterio._base",
    "rasterio.env",
    "urllib3",
    "urllib3.connectionpool",
)
#: Packages whose every imported module's logger gets the filter too.
_PACKAGES: Final = ("rasterio.", "urllib3.")
_LOCK: Final = threading.Lock()


def redact(text: str) -> str:
    """``text`` with every URL query string (tokens, signatures) replaced by ``<redacted>``.

    Both full URLs and HTTP request lines (``GET /path?query``) are redacted.
    """
    return _REQUEST_QUERY.sub(r"\1?<redacted>", _QUERY.sub(r"\1?<redacted>", text))


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with :func:`redact`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place (its handlers then only ever see the redacted text)."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def _has_filter(logger: logging.Logger) -> bool:
    return any(isinstance(f, RedactingFilter) for f in logger.filters)


def install_log_redaction() -> None:
    """Put a :class:`RedactingFilter` on rasterio's and urllib3's loggers (idempotent).

    Logger filters do not apply to records propagated from child loggers, so every module's
    logger of those packages gets one: the known ones and any already imported.
    """
    names = {*LOGGERS, *(m for m in list(sys.modules) if m.startswith(_PACKAGES))}
    with _LOCK:
        for name in sorted(names):
            logger = logging.getLogger(name)
            if not _has_filter(logger):
                logger.addFilter(RedactingFilter())
