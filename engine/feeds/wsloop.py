"""One reconnecting WebSocket with the discipline every feed shares.

- Reconnect forever with `Backoff`: growing delays, a floor for connections that close
  at once (websockets' own backoff resets after every handshake, so we keep our own).
- After every (re)connect the session's `on_open` runs before any frame is handled: it
  subscribes and resyncs from REST, since whatever was sent while we were away is lost.
- An application `PING` every `ping_interval_s` (the venue drops silent clients and
  answers `PONG`), on top of the protocol keepalive.
- A silence watchdog: a connection with no frame at all for `silence_s` is closed and
  reopened. Protocol pings do not catch a server that is connected but silent. Any frame
  counts here, a PONG included: this is the socket's liveness, not the data's (a session
  that needs data judges that itself: the market channel's spot checks, spot_check.py).
- A handshake redirect is followed only on the configured origin (origin.py): a source that
  answers 302 to another host, port or a private address is refused with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI, SecurityError

from contracts.jsonsafe import FEED_BYTES
from engine.feeds.origin import OriginRefused, check_redirect
from engine.feeds.pacing import Backoff

log = logging.getLogger("engine.feeds.ws")


class guarded_connect(connect):  # noqa: N801 (used like websockets' own `connect`)
    """websockets' connect, following a redirect only where the configured URL's origin allows."""

    def __init__(self, uri: str, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self.configured_url = uri

    def process_redirect(self, exc: Exception) -> Exception | str:
        target = super().process_redirect(exc)
        if isinstance(target, Exception):
            return target
        try:
            check_redirect(self.configured_url, target)
        except OriginRefused as refused:
            return SecurityError(f"refused: {refused}")
        return target


class SocketSession(Protocol):
    name: str

    async def on_open(self, ws: ClientConnection) -> None:
        """Subscribe and resync; runs after every successful handshake."""

    def on_text(self, text: str) -> None:
        """Handle one text frame (PONG included). Must not block."""

    def on_closed(self) -> None:
        """The connection is gone (its data is now ageing)."""


@dataclass(frozen=True)
class SocketOptions:
    ping_interval_s: float | None = 10.0
    ping_text: str = "PING"
    silence_s: float | None = 30.0
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    protocol_ping_s: float | None = 20.0
    # The largest frame accepted; a bigger one closes the connection (1009) before it is read
    # whole. The market and user channels send nothing near it (a full book is well under).
    max_size: int = FEED_BYTES


@dataclass
class SocketStats:
    connects: int = 0
    disconnects: int = 0
    silent_closes: int = 0
    reconnects_asked: int = 0  # closed because the session asked (e.g. a frozen market channel)
    frames: int = 0
    last_error: str | None = None
    connected: bool = False


class ReconnectingSocket:
    def __init__(self, url: str, session: SocketSession, options: SocketOptions | None = None,
                 backoff: Backoff | None = None, clock: Callable[[], float] = time.monotonic,
                 headers: Callable[[], dict[str, str]] | None = None):
        """`headers`: the handshake's extra headers, made afresh for every connection (a
        signature over the time of the handshake)."""
        self.url = url
        self.headers = headers
        self.session = session
        self.options = options or SocketOptions()
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.stats = SocketStats()
        self.ws: ClientConnection | None = None
        self._stop = asyncio.Event()
        self._last_rx = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Started in the background and not yet closed."""
        return self._task is not None

    def start(self) -> None:
        """Run in the background until `close()` (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name=f"{self.session.name}-socket")

    async def close(self) -> None:
        """Stop and wait for the background run to end; `start()` may be called again."""
        await self.stop()
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self._task = None

    async def run(self) -> None:
        """Connect, serve, reconnect, until `stop()` (a stopped socket may run again)."""
        self._stop.clear()
        while not self._stop.is_set():
            lasted = await self._serve_once()
            if self._stop.is_set():
                break
            delay = self.backoff.after_connection(lasted)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def stop(self) -> None:
        self._stop.set()
        ws = self.ws
        if ws is not None:
            await ws.close()

    async def reconnect(self, why: str) -> None:
        """Close the live connection so it is opened again (subscribed and resynced afresh)."""
        ws = self.ws
        if ws is not None:
            self.stats.reconnects_asked += 1
            await ws.close(code=4000, reason=why[:120])

    async def send(self, text: str) -> bool:
        """Send on the live connection; False when there is none (on_open will catch up)."""
        ws = self.ws
        if ws is None:
            return False
        try:
            await ws.send(text)
        except ConnectionClosed:
            return False
        return True

    async def _serve_once(self) -> float:
        """One connection's life; returns how long it was open (0 if it never opened)."""
        opts = self.options
        opened = None
        try:
            async with guarded_connect(self.url, open_timeout=opts.open_timeout_s, close_timeout=opts.close_timeout_s,
                               ping_interval=opts.protocol_ping_s, max_size=opts.max_size,
                               additional_headers=self.headers() if self.headers else None) as ws:
                opened = self.clock()
                self._last_rx = opened
                self.stats.connects += 1
                await self.session.on_open(ws)
                self.ws = ws
                self.stats.connected = True
                await self._pump(ws)
        except (ConnectionClosed, OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("%s socket closed", self.session.name, extra={"error": self.stats.last_error})
        except Exception as exc:  # a session bug must not end the feed: log it and reconnect
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("%s socket failed", self.session.name)
        finally:
            self.ws = None
            if opened is not None:
                self.stats.connected = False
                self.stats.disconnects += 1
                self.session.on_closed()
        return 0.0 if opened is None else self.clock() - opened

    async def _pump(self, ws: ClientConnection) -> None:
        helpers = [asyncio.create_task(self._watchdog(ws))]
        if self.options.ping_interval_s:
            helpers.append(asyncio.create_task(self._pinger(ws)))
        try:
            async for message in ws:
                self._last_rx = self.clock()
                self.stats.frames += 1
                if isinstance(message, str):
                    self._deliver(message)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    def _deliver(self, text: str) -> None:
        try:
            self.session.on_text(text)
        except Exception:  # one bad frame must not drop a healthy connection
            log.exception("%s frame could not be handled", self.session.name, extra={"frame": text[:200]})

    async def _pinger(self, ws: ClientConnection) -> None:
        interval = self.options.ping_interval_s or 10.0
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(ConnectionClosed):
                await ws.send(self.options.ping_text)

    async def _watchdog(self, ws: ClientConnection) -> None:
        silence = self.options.silence_s
        if not silence:
            return
        while True:
            await asyncio.sleep(min(1.0, silence / 4))
            if self.clock() - self._last_rx > silence:
                self.stats.silent_closes += 1
                log.warning("%s feed silent for %.1f s: reconnecting", self.session.name, silence)
                await ws.close(code=1001, reason="silent feed")
                return


class SocketFeed:
    """A session that owns one ReconnectingSocket (`socket`, set by the subclass): started and
    closed with it, its stats read through it, and on every open the subscription it names (none:
    nothing is sent). The reference, spot and user feeds share it; each handles its own text."""

    socket: ReconnectingSocket
    subscribe_message: str | None = None

    @property
    def stats(self) -> SocketStats:
        return self.socket.stats

    async def start(self) -> None:
        self.socket.start()

    async def close(self) -> None:
        await self.socket.close()

    async def on_open(self, ws: ClientConnection) -> None:
        if self.subscribe_message:
            await ws.send(self.subscribe_message)

    def on_closed(self) -> None:
        return None
