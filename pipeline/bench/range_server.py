"""A loopback HTTP/1.1 Range file server with injected latency and per-lane accounting.

``rasonwatch bench io`` serves a simulated archive through it so that GDAL's ``/vsicurl/``
really runs, pays a round trip per request, and every byte it pulls is counted on the
server side, where no client-side cache can hide it.

Lanes
    The first path segment of every URL is a *lane* name and is not part of the file path:
    ``/ours/sentinel-2-c1-l2a/X/B02.tif`` and ``/odc/sentinel-2-c1-l2a/X/B02.tif`` are the
    same file. Each loader reads through its own lane, so the counters separate the loaders,
    and a warm-up lane gives a warm process without warming GDAL's per-URL caches for the
    timed lane.

Latency
    Every request (GET or HEAD) sleeps ``latency_s`` before it is answered. The server is
    threaded (one thread per connection), so concurrent requests wait concurrently, like
    round trips to a distant object store.

Only 127.0.0.1 is bound; nothing here reaches beyond the machine.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from pipeline.bench.loopback import FileRangeHandler, LoopbackServer, send_file_range

_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")
_COPY_CHUNK: Final = 256 * 1024


@dataclass
class LaneStats:
    """What one lane asked for and what it was sent."""

    requests: int = 0
    """GET and HEAD requests, including failed ones."""
    bytes_sent: int = 0
    """Body bytes written (HTTP headers excluded)."""
    full_gets: int = 0
    """GETs answered with a whole file (no usable Range header)."""


class _Handler(FileRangeHandler):
    server: _Server

    def serve(self, *, send_body: bool) -> None:
        """Answer from the owner's folder, counting what was asked for and sent."""
        owner = self.server.owner
        lane, _, rest = unquote(urlsplit(self.path).path).lstrip("/").partition("/")
        owner.record_request(lane)
        if owner.latency_s > 0:
            time.sleep(owner.latency_s)
        file = owner.resolve(rest)
        if file is None:
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        content_type = "image/tiff" if file.suffix == ".tif" else "text/plain"
        served = send_file_range(self, file, send_body=send_body, content_type=content_type)
        if served is not None and send_body:
            owner.record_body(lane, served.sent, full=not served.partial)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LatencyRangeServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client (GDAL) drops a keep-alive connection; report the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class LatencyRangeServer(LoopbackServer):
    """Serve ``root`` on 127.0.0.1 with ``latency_s`` per request, counted per lane.

    Args:
        root: folder to serve (files outside it are never served).
        latency_s: seconds every request waits before it is answered.

    Raises:
        ValueError: a negative latency.
    """

    thread_name = "bench-http"

    def __init__(self, root: Path, *, latency_s: float = 0.0) -> None:
        if latency_s < 0:
            raise ValueError(f"latency must be >= 0 s, got {latency_s}")
        self.root = Path(root).resolve()
        self.latency_s = latency_s
        self._lock = threading.Lock()
        self._lanes: dict[str, LaneStats] = {}

    def href(self, lane: str, relative: str) -> str:
        """The URL of ``relative`` (a path under :attr:`root`) in ``lane``."""
        return f"{self.url}/{lane}/{relative.lstrip('/')}"

    def _make_server(self) -> _Server:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        return httpd

    def lane(self, name: str) -> LaneStats:
        """A copy of the counters of one lane (zeros if it saw nothing)."""
        with self._lock:
            found = self._lanes.get(name, LaneStats())
            return LaneStats(found.requests, found.bytes_sent, found.full_gets)

    def record_request(self, lane: str) -> None:
        """Count one request (called by the handler)."""
        with self._lock:
            self._lanes.setdefault(lane, LaneStats()).requests += 1

    def record_body(self, lane: str, sent: int, *, full: bool) -> None:
        """Count the body bytes of one answer (called by the handler)."""
        with self._lock:
            stats = self._lanes.setdefault(lane, LaneStats())
            stats.bytes_sent += sent
            stats.full_gets += int(full)

    def resolve(self, relative: str) -> Path | None:
        """The file ``relative`` names under :attr:`root`, or None (never outside it)."""
        candidate = (self.root / relative.lstrip("/")).resolve()
        if self.root not in candidate.parents or not candidate.is_file():
            return None
        return candidate
