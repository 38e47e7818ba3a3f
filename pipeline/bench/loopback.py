"""The life cycle of a threaded HTTP server on 127.0.0.1, shared by benches and tests.

A subclass says how to build its server (:meth:`LoopbackServer._make_server`, which
binds port 0 and points the server back at its owner); this class starts it in a daemon
thread, gives its URL, and shuts it down cleanly, also as a context manager.
:func:`send_file_range` answers a GET or HEAD with a file, honouring one ``Range``, the way
object stores do; the servers that serve COGs use it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final, Self

_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")
_COPY_CHUNK: Final = 256 * 1024


@dataclass(frozen=True)
class ServedRange:
    """What :func:`send_file_range` answered."""

    start: int
    """First byte of the body."""
    end: int
    """Last byte of the body (inclusive)."""
    partial: bool
    """True for ``206 Partial Content``, False for the whole file (``200``)."""
    sent: int
    """Body bytes written (0 for HEAD)."""


class FileRangeHandler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler whose GET and HEAD both go to :meth:`serve`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        """Stay quiet (tests and benches print their own figures)."""

    def do_HEAD(self) -> None:
        """Answer HEAD like GET without a body."""
        self.serve(send_body=False)

    def do_GET(self) -> None:
        """Answer GET, honouring a single ``Range: bytes=a-b``."""
        self.serve(send_body=True)

    def serve(self, *, send_body: bool) -> None:
        """Answer the request (a subclass decides with what)."""
        raise NotImplementedError


def _requested(header: str | None, size: int) -> tuple[int, int, bool] | None:
    """``(start, end, partial)`` of a ``Range`` header; None when it cannot be satisfied."""
    match = _RANGE.match((header or "").strip())
    if not match or not (match.group(1) or match.group(2)):
        return 0, size - 1, False
    first, last = match.group(1), match.group(2)
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:  # suffix range: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        return None
    return start, end, True


def send_file_range(
    handler: BaseHTTPRequestHandler, file: Path, *, send_body: bool, content_type: str
) -> ServedRange | None:
    """Answer ``handler``'s request with ``file``, honouring a single ``Range: bytes=a-b``.

    Returns:
        What was sent, or None when the range could not be satisfied (a 416 was sent).
    """
    size = file.stat().st_size
    requested = _requested(handler.headers.get("Range"), size)
    if requested is None:
        handler.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
        handler.send_header("Content-Range", f"bytes */{size}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return None
    start, end, partial = requested
    length = end - start + 1
    handler.send_response(HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Accept-Ranges", "bytes")
    handler.send_header("Content-Length", str(length))
    if partial:
        handler.send_header("Content-Range", f"bytes {start}-{end}/{size}")
    handler.end_headers()
    sent = 0
    if send_body:
        with file.open("rb") as fh:
            fh.seek(start)
            while sent < length:
                chunk = fh.read(min(_COPY_CHUNK, length - sent))
                if not chunk:
                    break
                handler.wfile.write(chunk)
                sent += len(chunk)
    return ServedRange(start, end, partial, sent)


class LoopbackServer:
    """Start, address and stop one threaded HTTP server bound to 127.0.0.1."""

    thread_name = "loopback-http"
    """Name of the serving thread (shows in stack dumps)."""

    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def _make_server(self) -> ThreadingHTTPServer:
        """Bind ``("127.0.0.1", 0)`` and return the (not yet serving) server."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:43121``.

        Raises:
            RuntimeError: the server is not running.
        """
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        httpd = self._make_server()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and close its socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
