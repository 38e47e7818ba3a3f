"""The life cycle of a threaded HTTP server on 127.0.0.1, shared by benches and tests.

A subclass says how to build its server (:meth:`LoopbackServer._make_server`, which
binds port 0 and points the server back at its owner); this class starts it in a daemon
thread, gives its URL, and shuts it down cleanly, also as a context manager.
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
