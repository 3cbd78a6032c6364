"""Feeds served from 127.0.0.1 for the news tests: a real HTTP server in a thread, with the
documents (and answers) each test sets."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    etag: str | None = None
    drip_s: float = 0.0  # seconds between bytes: a server that never quite finishes
    location: str | None = None  # a redirect (with a 3xx status) to here


@dataclass
class FeedServer:
    port: int
    pages: dict[str, Served] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    served = FeedServer(0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            served.hits[self.path] = served.hits.get(self.path, 0) + 1
            page = served.pages.get(self.path)
            if page is None:
                self.send_error(404)
                return
            if page.etag and self.headers.get("If-None-Match") == page.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if page.etag:
                self.send_header("ETag", page.etag)
            if page.location:
                self.send_header("Location", page.location)
            if not page.drip_s:
                self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            if page.drip_s:
                for byte in page.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(page.drip_s)
            else:
                self.wfile.write(page.body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def rss(*items: tuple[str, str, float | None], guid_prefix: str = "id") -> bytes:
    """An RSS 2.0 document of (title, description, published epoch seconds or None) items."""
    parts = []
    for n, (title, description, published) in enumerate(items):
        date = f"<pubDate>{email.utils.formatdate(published, usegmt=True)}</pubDate>" if published else ""
        parts.append(f"<item><title>{title}</title><description>{description}</description>"
                     f"<guid>{guid_prefix}-{n}</guid><link>http://example.invalid/{n}</link>{date}</item>")
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>wire</title>{"".join(parts)}'
            "</channel></rss>").encode()


def atom(*entries: tuple[str, str, str]) -> bytes:
    """An Atom document of (id, title, updated ISO time) entries."""
    body = "".join(f"<entry><id>{i}</id><title>{t}</title><updated>{u}</updated><summary>{t}</summary></entry>"
                   for i, t, u in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>'
            f"<id>urn:a</id><updated>2026-01-01T00:00:00Z</updated>{body}</feed>").encode()
