"""A fault-injecting HTTP proxy on 127.0.0.1, for tests of behaviour under a flaky network.

:class:`FaultProxy` sits in front of any loopback HTTP server (usually the Range file server
of :mod:`servers`, by composition) and, for each request, draws whether to
pass it through or to inject one fault. The draw is a hash of the seed, the request
(method, path, Range) and how many times that request was made before, so concurrent
clients get the same faults whatever order their requests arrive in:

``server_error``
    a 5xx (500, 502 or 503) with a short body;
``slow``
    the right answer, after ``slow_s`` seconds (below the client's timeout);
``timeout``
    nothing at all for ``hang_s`` seconds (beyond the client's timeout), then the
    connection is closed; bounded, and cut short when the proxy stops;
``reset``
    the connection is reset (``SO_LINGER`` 0, then close: a TCP RST) before any answer;
``truncated``
    the upstream status and headers with the full ``Content-Length``, then fewer body
    bytes, then close (a HEAD has no body to cut, so it gets a reset instead);
``expired_token``
    a 403 with the body and ``x-ms-error-code`` header Azure Blob Storage sends when a
    SAS token has expired (``AuthenticationFailed``).

Requests and injected faults are counted by kind. Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from servers import RangeFileServer

from pipeline.bench.loopback import LoopbackServer

#: The fault kinds, in the order the RNG draw is mapped onto them.
KINDS: Final = ("server_error", "slow", "timeout", "reset", "truncated", "expired_token")
_SERVER_ERRORS: Final = (500, 502, 503)
_HOP_BY_HOP: Final = frozenset({"connection", "keep-alive", "transfer-encoding", "server", "date"})
#: What Azure Blob Storage answers to a request signed with an expired SAS token.
EXPIRED_SAS_BODY: Final = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
    b"<Message>Server failed to authenticate the request. Make sure the value of "
    b"Authorization header is formed correctly including the signature.\n"
    b"RequestId:00000000-0000-0000-0000-000000000000\nTime:2026-01-01T00:00:00.0000000Z"
    b"</Message><AuthenticationErrorDetail>Signed expiry time [Thu, 01 Jan 2026 00:00:00 GMT] "
    b"must be after signed start time [Thu, 01 Jan 2026 00:00:00 GMT]"
    b"</AuthenticationErrorDetail></Error>"
)


@dataclass(frozen=True)
class FaultRates:
    """Probability, per request, of each fault kind (their sum is at most 1)."""

    server_error: float = 0.0
    """A 500/502/503 answer."""
    slow: float = 0.0
    """A correct answer after ``slow_s``."""
    timeout: float = 0.0
    """No answer for ``hang_s``, then close."""
    reset: float = 0.0
    """A TCP reset before any answer."""
    truncated: float = 0.0
    """Fewer body bytes than ``Content-Length``, then close."""
    expired_token: float = 0.0
    """A 403 ``AuthenticationFailed``, like an expired SAS token."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rate {f.name}={value} is not within [0, 1]")
        if self.total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {self.total:.3f}; they must be at most 1")

    @property
    def total(self) -> float:
        """Probability that a request gets any fault."""
        return sum(float(getattr(self, kind)) for kind in KINDS)

    @classmethod
    def only(cls, kind: str, rate: float = 1.0) -> FaultRates:
        """Rates with ``rate`` for one ``kind`` and 0 for the rest.

        Raises:
            ValueError: ``kind`` is not one of :data:`KINDS`.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        return cls(**{kind: rate})

    @classmethod
    def mixed(cls, total: float) -> FaultRates:
        """``total`` split over the kinds: errors, resets and truncations more than hangs."""
        weights = {
            "server_error": 0.25,
            "slow": 0.15,
            "timeout": 0.10,
            "reset": 0.20,
            "truncated": 0.20,
            "expired_token": 0.10,
        }
        return cls(**{kind: total * weight for kind, weight in weights.items()})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Forward a GET, or fault it."""
        self._handle("GET")

    def do_HEAD(self) -> None:
        """Forward a HEAD, or fault it."""
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        proxy = self.server.owner
        key = f"{method} {self.path} {self.headers.get('Range', '')}"
        kind = proxy.draw(key, has_body=method == "GET")
        if kind == "reset":
            self._reset()
        elif kind == "timeout":
            proxy.hang()
            self.close_connection = True
        elif kind == "server_error":
            self._answer(proxy.pick_server_error(key), b"injected server error\n", "text/plain")
        elif kind == "expired_token":
            self._answer(
                HTTPStatus.FORBIDDEN,
                EXPIRED_SAS_BODY,
                "application/xml",
                extra={"x-ms-error-code": "AuthenticationFailed"},
            )
        else:
            if kind == "slow":
                proxy.pause()
            self._forward(method, truncate=kind == "truncated")

    def _answer(
        self, status: int, body: bytes, content_type: str, *, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        """Close with SO_LINGER 0, so that the client sees a TCP RST."""
        self.close_connection = True
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        fd = sock.detach()
        socket.close(fd)

    def _forward(self, method: str, *, truncate: bool) -> None:
        status, headers, body = self.server.owner.fetch_upstream(method, self.path, self.headers)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if method == "HEAD":
            return
        if truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultProxy

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client drops a connection; report the rest."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class FaultProxy(LoopbackServer):
    """A threaded HTTP/1.1 proxy on 127.0.0.1 that injects faults into a loopback upstream."""

    thread_name = "fault-http"

    def __init__(
        self,
        upstream: str,
        rates: FaultRates,
        *,
        seed: int = 0,
        slow_s: float = 0.3,
        hang_s: float = 2.0,
        upstream_timeout_s: float = 10.0,
    ) -> None:
        """Args:
            upstream: base URL of the server to forward to (``http://127.0.0.1:PORT``).
            rates: per-request fault probabilities.
            seed: seed of the RNG that draws faults.
            slow_s: delay of a ``slow`` answer (keep it below the client's timeout).
            hang_s: how long a ``timeout`` holds the connection (keep it above the client's
                timeout; the hang ends early when the proxy stops).
            upstream_timeout_s: timeout of the forwarded request.

        Raises:
            ValueError: the upstream is not on the loopback interface, or a delay is negative.
        """
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname not in {"127.0.0.1", "localhost"}:
            raise ValueError(f"upstream {upstream!r} must be http://127.0.0.1:PORT")
        if slow_s < 0 or hang_s < 0:
            raise ValueError("slow_s and hang_s must not be negative")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.rates = rates
        self.slow_s = slow_s
        self.hang_s = hang_s
        self.upstream_timeout_s = upstream_timeout_s
        self.seed = seed
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._requests = 0
        self._faults: Counter[str] = Counter()

    # --- lifecycle ----------------------------------------------------------------------

    def href(self, relative: str | Path) -> str:
        """The proxied URL of a path on the upstream."""
        return f"{self.url}/{Path(relative).as_posix().lstrip('/')}"

    def _make_server(self) -> _Server:
        self._stopping.clear()
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        return httpd

    def stop(self) -> None:
        """Wake hanging handlers, then shut the server down and close its socket."""
        self._stopping.set()
        super().stop()

    # --- configuration and accounting ---------------------------------------------------
    def set_rates(self, rates: FaultRates) -> None:
        """Change the fault rates from the next request on."""
        with self._lock:
            self.rates = rates

    @property
    def requests(self) -> int:
        """Requests received (faulted or not)."""
        with self._lock:
            return self._requests

    def faults(self) -> dict[str, int]:
        """Faults injected so far, by kind (every kind present, 0 when none)."""
        with self._lock:
            return {kind: self._faults[kind] for kind in KINDS}

    @property
    def faults_total(self) -> int:
        """Faults injected so far, all kinds."""
        return sum(self.faults().values())

    def reset_counts(self) -> None:
        """Forget every counter, including the per-key attempts the draws depend on."""
        with self._lock:
            self._requests = 0
            self._attempts.clear()
            self._faults.clear()

    # --- called by the handler ----------------------------------------------------------
    def draw(self, key: str, *, has_body: bool) -> str | None:
        """Count one request and pick its fault kind (``None``: pass it through).

        The draw depends only on the seed, ``key`` (method, path and Range) and how many
        times that key was asked for before, not on the order in which concurrent requests
        arrive: a run with the same requests gets the same faults.
        """
        with self._lock:
            self._requests += 1
            attempt = self._attempts[key]
            self._attempts[key] += 1
            roll = random.Random(f"{self.seed}|{key}|{attempt}").random()
            kind: str | None = None
            edge = 0.0
            for name in KINDS:
                edge += float(getattr(self.rates, name))
                if roll < edge:
                    kind = name
                    break
            if kind == "truncated" and not has_body:
                kind = "reset"
            if kind is not None:
                self._faults[kind] += 1
            return kind

    def pick_server_error(self, key: str) -> int:
        """One of 500, 502, 503, drawn like :meth:`draw` (seed, key, attempt)."""
        with self._lock:
            attempt = self._attempts[key]
        return random.Random(f"{self.seed}|{key}|{attempt}|status").choice(_SERVER_ERRORS)

    def pause(self) -> None:
        """Wait ``slow_s`` (shorter if the proxy stops)."""
        self._stopping.wait(self.slow_s)

    def hang(self) -> None:
        """Wait ``hang_s`` (shorter if the proxy stops)."""
        self._stopping.wait(self.hang_s)

    def fetch_upstream(
        self, method: str, path: str, headers: Message
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, end-to-end headers and whole body of the upstream's answer."""
        conn = http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=self.upstream_timeout_s
        )
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() in {"range", "accept"}}
            conn.request(method, path, headers=forwarded)
            resp = conn.getresponse()
            body = resp.read()
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
            return resp.status, kept, body
        finally:
            conn.close()


@contextlib.contextmanager
def faulty_serving(
    root: Path, rates: FaultRates, *, seed: int = 0, slow_s: float = 0.3, hang_s: float = 2.0
) -> Iterator[tuple[FaultProxy, RangeFileServer]]:
    """Serve ``root`` with a :class:`~servers.RangeFileServer` behind a :class:`FaultProxy`."""
    with (
        RangeFileServer(root) as upstream,
        FaultProxy(upstream.url, rates, seed=seed, slow_s=slow_s, hang_s=hang_s) as proxy,
    ):
        yield proxy, upstream
