"""Real local servers for tests: a Range-capable HTTP file server and ``rustac serve``.

Both bind to 127.0.0.1 on a free port and are stopped on exit. Nothing here reaches the
internet.

- :class:`RangeFileServer` serves a folder over HTTP/1.1 with single-range support
  (``206 Partial Content`` + ``Content-Range``), counts requests and body bytes per path,
  and can be told to fail the next requests for a path (``503``, ``404``...), so that
  GDAL's ``/vsicurl/`` really runs and retries can be exercised.
- :func:`serving_in_process` runs a :class:`RangeFileServer` in a child process, for tests
  of GDAL's own ``/vsicurl/`` reads (some GDAL calls hold the GIL while they wait for HTTP).
- :class:`RustacServer` runs ``rustac serve`` (the PyPI package ``rustac``) as a subprocess,
  loading item collections or ndjson files, and waits until the API answers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from pipeline.bench.loopback import FileRangeHandler, LoopbackServer, send_file_range

_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")
_COPY_CHUNK: Final = 64 * 1024


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PathStats:
    """What one path has been asked for and what it sent."""

    requests: int = 0
    """GET and HEAD requests, including failed ones."""
    bytes_sent: int = 0
    """Body bytes written (headers excluded)."""
    ranges: list[tuple[int, int]] = field(default_factory=list)
    """Inclusive byte ranges served with 206, in arrival order."""
    full_gets: int = 0
    """GETs answered with the whole file (no or unusable Range header)."""


class _Handler(FileRangeHandler):
    server: _Server

    def serve(self, *, send_body: bool) -> None:
        """Answer from the owner's folder, counting what was asked for and sent."""
        owner = self.server.owner
        url_path = unquote(urlsplit(self.path).path)
        stats = owner.record_request(url_path)
        failure = owner.take_failure(url_path)
        if failure is not None:
            self._send_empty(failure)
            return
        file = owner.resolve(url_path)
        if file is None:
            self._send_empty(HTTPStatus.NOT_FOUND)
            return
        content_type = "image/tiff" if file.suffix == ".tif" else "application/json"
        served = send_file_range(self, file, send_body=send_body, content_type=content_type)
        if served is not None and send_body:
            owner.record_body(
                stats, served.start, served.end, partial=served.partial, sent=served.sent
            )

    def _send_empty(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: RangeFileServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client (GDAL) drops a keep-alive connection; report the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class RangeFileServer(LoopbackServer):
    """A threaded HTTP file server on 127.0.0.1 with Range support and accounting."""

    thread_name = "range-http"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._stats: dict[str, PathStats] = {}
        self._failures: dict[str, list[int]] = {}

    def href(self, relative: str | Path) -> str:
        """The URL of a file under :attr:`root`."""
        return f"{self.url}/{Path(relative).as_posix().lstrip('/')}"

    def _make_server(self) -> _Server:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        return httpd

    # --- accounting -------------------------------------------------------------------
    def stats(self, url_path: str) -> PathStats:
        """A copy of the counters for one path (``/scene/B02.tif``)."""
        with self._lock:
            found = self._stats.get(url_path, PathStats())
            return PathStats(found.requests, found.bytes_sent, list(found.ranges), found.full_gets)

    def bytes_sent(self, prefix: str = "/") -> int:
        """Body bytes sent for every path starting with ``prefix``."""
        with self._lock:
            return sum(s.bytes_sent for p, s in self._stats.items() if p.startswith(prefix))

    def requests(self, prefix: str = "/") -> int:
        """Requests received for every path starting with ``prefix``."""
        with self._lock:
            return sum(s.requests for p, s in self._stats.items() if p.startswith(prefix))

    def reset_stats(self) -> None:
        """Forget every counter (failures still pending stay pending)."""
        with self._lock:
            self._stats.clear()

    def fail_next(self, url_path: str, status: int, *, times: int = 1) -> None:
        """Answer the next ``times`` requests for ``url_path`` with ``status`` and no body."""
        with self._lock:
            self._failures.setdefault(url_path, []).extend([status] * times)

    def clear_failures(self) -> None:
        """Drop every queued failure."""
        with self._lock:
            self._failures.clear()

    def record_request(self, url_path: str) -> PathStats:
        """Count one request (called by the handler)."""
        with self._lock:
            stats = self._stats.setdefault(url_path, PathStats())
            stats.requests += 1
            return stats

    def record_body(
        self, stats: PathStats, start: int, end: int, *, partial: bool, sent: int
    ) -> None:
        """Count the body bytes of one answer (called by the handler)."""
        with self._lock:
            stats.bytes_sent += sent
            if partial:
                stats.ranges.append((start, end))
            else:
                stats.full_gets += 1

    def take_failure(self, url_path: str) -> int | None:
        """The status to fail this request with, if one is queued (called by the handler)."""
        with self._lock:
            queued = self._failures.get(url_path)
            return queued.pop(0) if queued else None

    def resolve(self, url_path: str) -> Path | None:
        """The file a URL path names, never outside :attr:`root`."""
        candidate = (self.root / url_path.lstrip("/")).resolve()
        if self.root not in candidate.parents or not candidate.is_file():
            return None
        return candidate


def rustac_executable() -> Path | None:
    """The ``rustac`` console script of the running interpreter's environment, if any."""
    beside = Path(sys.executable).parent / "rustac"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("rustac")
    return Path(found) if found else None


class RustacServer:
    """``rustac serve`` on 127.0.0.1:<free port>, loaded with item files, as a subprocess."""

    def __init__(
        self, hrefs: Sequence[Path], *, log: Path, startup_timeout_s: float = 30.0
    ) -> None:
        self.hrefs = [Path(h) for h in hrefs]
        self.log = Path(log)
        self.startup_timeout_s = startup_timeout_s
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """API root, e.g. ``http://127.0.0.1:40111``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RustacServer:
        """Start the subprocess and wait until ``GET /`` answers 200.

        Raises:
            RuntimeError: rustac is not installed, exits early, or does not answer in time.
        """
        exe = rustac_executable()
        if exe is None:
            raise RuntimeError("the rustac console script is not installed in this environment")
        self.port = free_port()
        cmd = [str(exe), "serve", "--addr", f"127.0.0.1:{self.port}", "--create-collections"]
        cmd += [str(h) for h in self.hrefs]
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"rustac serve exited with {self._proc.returncode}: "
                    f"{self.log.read_text(errors='replace')[-2000:]}"
                )
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as resp:
                    if resp.status == HTTPStatus.OK:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"rustac serve did not answer on {self.url} within {self.startup_timeout_s}s"
        )

    def stop(self) -> None:
        """Terminate the subprocess (kill it if it does not exit)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> RustacServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RustacFactory:
    """Starts ``rustac serve`` instances on demand and stops them all at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = Path(log_dir)
        self.started: list[RustacServer] = []

    def start(self, hrefs: Sequence[Path]) -> RustacServer:
        """A running server loaded with ``hrefs`` (item collections or ndjson files)."""
        log = self.log_dir / f"rustac-{len(self.started)}.log"
        server = RustacServer(hrefs, log=log).start()
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        """Stop every server this factory started."""
        for server in self.started:
            server.stop()
        self.started.clear()


def _serve_until_killed(root: str, urls: Any) -> None:
    """Child-process body of :func:`serving_in_process`."""
    server = RangeFileServer(Path(root)).start()
    urls.put(server.url)
    threading.Event().wait()


@contextlib.contextmanager
def serving_in_process(root: Path, *, startup_timeout_s: float = 60.0) -> Iterator[str]:
    """Serve ``root`` from a child process for a ``with`` block; yields the base URL.

    For GDAL's own ``/vsicurl/`` reads: some GDAL calls (scanning the IFDs of overviews
    that lie past the first bytes, for one) wait for HTTP while holding the GIL, so a
    server thread of the *same* process cannot answer until curl times out. No accounting.
    """
    context = multiprocessing.get_context("spawn")
    urls = context.Queue()
    child = context.Process(target=_serve_until_killed, args=(str(root), urls), daemon=True)
    child.start()
    try:
        yield str(urls.get(timeout=startup_timeout_s))
    finally:
        child.terminate()
        child.join(timeout=5)
        urls.close()


@contextlib.contextmanager
def serving(root: Path) -> Iterator[RangeFileServer]:
    """Serve ``root`` over HTTP for the duration of a ``with`` block."""
    server = RangeFileServer(root).start()
    try:
        yield server
    finally:
        server.stop()
