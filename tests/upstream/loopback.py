"""A scripted HTTP server on 127.0.0.1 for the connector tests: each path answers from a queue of
behaviours (serve bytes with an ETag, a status, a stall, a cut-short body, ...)."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Behaviour = Callable[[http.server.BaseHTTPRequestHandler], None]


def serve(body: bytes, content_type: str = "text/csv", etag: bool = True) -> Behaviour:
    """200 with the body (and a strong ETag); 304 when the request's If-None-Match matches."""
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    def behave(handler):
        if etag and handler.headers.get("If-None-Match") == tag:
            handler.send_response(304)
            handler.send_header("ETag", tag)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Last-Modified", "Tue, 01 Dec 2026 00:00:00 GMT")
        if etag:
            handler.send_header("ETag", tag)
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def status(code: int, body: bytes = b"error", content_type: str = "text/plain") -> Behaviour:
    """A bare status with a short body."""

    def behave(handler):
        handler.send_response(code)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def stall(seconds: float) -> Behaviour:
    """Sends nothing for a while (longer than the client's timeout), then gives up."""

    def behave(handler):
        time.sleep(seconds)
        handler.close_connection = True

    return behave


def cut_short(body: bytes, keep: int) -> Behaviour:
    """Declares the full length but sends only the first `keep` bytes, then closes."""

    def behave(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/csv")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[:keep])
        handler.wfile.flush()
        handler.close_connection = True

    return behave


def unsized(body: bytes) -> Behaviour:
    """200 without Content-Length: the body ends when the connection closes."""

    def behave(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/csv")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    return behave


@dataclass
class Loopback:
    """The running server: its base URL, the scripted behaviours and the requests it saw."""

    url: str = ""
    script: dict[str, list[Behaviour]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def on(self, path: str, *behaviours: Behaviour) -> None:
        """Queues behaviours for a path; the last one repeats."""
        self.script[path] = list(behaviours)

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of every request for a path."""
        return [headers for seen, headers in self.requests if seen == path]


def start() -> tuple[Loopback, Callable[[], None]]:
    """Starts a server on a free loopback port; returns it and its stop function."""
    state = Loopback()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            state.requests.append((self.path, dict(self.headers)))
            queue = state.script.get(self.path)
            if not queue:
                status(404, b"not found")(self)
                return
            behaviour = queue.pop(0) if len(queue) > 1 else queue[0]
            behaviour(self)

        def log_message(self, *args):
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return state, stop
