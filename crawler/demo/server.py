"""``serve``: the demo site on a local ``ThreadingHTTPServer`` in a daemon thread."""

from __future__ import annotations

import collections
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from .site import DemoSite

__all__ = ["DemoServer", "serve"]

logger = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up close()


class DemoServer:
    """A running demo site: ``base_url``, ``port``, per-path ``hits``; ``close()`` or use as a context manager."""

    def __init__(self, site: DemoSite, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> None:
        self.site = site
        self.verbose = verbose
        self.hits: collections.Counter[str] = collections.Counter()
        self.requests = 0
        # Called with the running request count after each request is counted (tests use it to
        # inject faults at a given point of a crawl); runs on the server's request thread.
        self.on_request: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), self._handler_class())
        self.host, self.port = self._httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"demo-site:{self.port}", daemon=True)
        self._thread.start()
        logger.info("Demo site serving at %s", self.base_url)

    def _count(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1
            self.requests += 1
            count = self.requests
        if self.on_request is not None:
            self.on_request(count)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "Ghost/5.96"
            sys_version = ""
            timeout = 30

            def date_time_string(self, timestamp: float | None = None) -> str:
                return format_datetime(server.site.now, usegmt=True)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                if server.verbose:
                    super().log_message(format, *args)

            def do_GET(self) -> None:
                self._respond(head=False)

            def do_HEAD(self) -> None:
                self._respond(head=True)

            def _respond(self, head: bool) -> None:
                path = urlsplit(self.path).path or "/"
                server._count(path)
                base = f"http://{self.headers.get('Host') or f'{server.host}:{server.port}'}"
                page = server.site.render(path, base) or server.site.not_found(path, base)
                # Conditional GET, as a real news CMS behind a CDN answers it: a strong ETag of
                # the body, and 304 without a body when the client already has that version.
                etag = f'"{hashlib.sha1(page.body).hexdigest()[:20]}"' if page.status == 200 else None
                if etag and etag in _etags(self.headers.get("If-None-Match")):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(page.status)
                for name, value in page.headers.items():
                    self.send_header(name, value)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                if not head:
                    self.wfile.write(page.body)

        return Handler

    def wait(self) -> None:
        """Block until the server stops (``newsmon demo --serve``; Ctrl-C interrupts it: a plain
        sleep between looks, which an interrupt leaves clean)."""
        while self._thread.is_alive():
            time.sleep(0.5)

    def close(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _etags(header: str | None) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare equal, RFC 9110)."""
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def serve(site: DemoSite, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> DemoServer:
    """Start serving ``site`` (port 0 picks a free port); returns the running ``DemoServer``."""
    return DemoServer(site, host, port, verbose)
