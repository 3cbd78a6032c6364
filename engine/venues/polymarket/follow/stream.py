"""The followed wallets' trades the moment the venue reports them: Polymarket's real-time trade
stream (RTDS, `wss://ws-live-data.polymarket.com`, engine/venues/polymarket/rtds.py), topic `activity`, type
`trades`.

Facts (the venue's `real-time-data-client` README): a trade message's payload is the Data API's
trade row with the trader's profile beside it (`proxyWallet`, `conditionId`, `asset`, `side`,
`price`, `size`, `timestamp`, `transactionHash`, `name`, `pseudonym`, ...), and the envelope's
`timestamp` (ms) is when the venue sent it. The topic's documented filters (`event_slug`,
`market_slug`) cannot name a wallet, and have been reported to deliver nothing
(real-time-data-client #34), so the desk subscribes to every trade and keeps those of the wallets
it follows (a few hundred bytes a trade; the venue's whole flow is well within one socket).

Each followed trade is read as the Data API's (trades.py: the same key from either source, so the
reconciling poll never keeps it twice), kept only if it is newer than the wallet's following, and
written at once by a writer task, in batches (a burst of a thousand is a few transactions), with
`reported_at` = the envelope's time, so `seen_at - reported_at` is how late it reached the desk.
A message that is not a readable trade of a followed wallet is counted by why (`rejected`), never
guessed at; another wallet's trade is not looked at. A reconnection asks the poller to reconcile
at once (`resync`): what the venue sent while the desk was away is only in the Data API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from websockets.asyncio.client import ClientConnection

from engine.feeds.pacing import Backoff
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed
from engine.venues.polymarket import rtds
from engine.venues.polymarket.follow.trades import Occurrences, at_ms, base_key, followed, unreadable, wallet_of
from storage.engine_stores.follow_store import Followed, add_trades
from storage.sqlite.db import Database, now_ms

log = logging.getLogger("engine.follow")
TOPIC, TYPE = "activity", "trades"
BATCH = 500  # trades written in one transaction, at most


@dataclass(frozen=True)
class Watched:
    label: str
    since_ms: int  # trades before are history


class TradeStream(SocketFeed):
    name = "follow-stream"

    def __init__(self, url: str, db: Database, *, on_kept: Callable[[int], None] = lambda n: None,
                 clock_ms: Callable[[], int] = now_ms, backoff: Backoff | None = None) -> None:
        self.url, self.db, self.on_kept, self.clock_ms = url, db, on_kept, clock_ms
        self.wallets: dict[str, Watched] = {}
        self.rejected: Counter[str] = Counter()
        self.refused_wallets: set[str] = set()  # followed wallets with a trade refused (the follower alerts)
        self.heard = 0  # trades of followed wallets read off the stream
        self.kept = 0  # of them, new to the desk
        self.resync = False  # (re)connected: the poller should reconcile now
        self.occurrences = Occurrences()
        self.pending: list[Followed] = []
        self.arrived = asyncio.Event()
        self.writer: asyncio.Task[None] | None = None
        self.subscribe_message = rtds.subscribe_message([rtds.Subscription(TOPIC, TYPE, "")])
        self.socket = ReconnectingSocket(url, self, rtds.OPTIONS, backoff)

    async def start(self) -> None:
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write(), name="follow-stream-writer")
        await super().start()

    async def close(self) -> None:
        await super().close()
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
            self.writer = None
        self._flush()  # what was heard and not yet written is kept

    @property
    def running(self) -> bool:
        return self.socket.running

    async def on_open(self, ws: ClientConnection) -> None:
        await super().on_open(ws)
        self.resync = True

    def on_text(self, text: str) -> None:
        if rtds.is_pong(text):
            return
        message = rtds.parse(text)
        if message is None:
            self.rejected["not an RTDS message"] += 1
            return
        if message.topic != TOPIC or message.type != TYPE:
            return
        row = message.payload
        watched = self.wallets.get(wallet_of(row))
        if watched is None:
            return  # another wallet's: not looked at
        problem = unreadable(row)
        if problem:
            self.rejected[problem] += 1
            self.refused_wallets.add(wallet_of(row))
            return
        self.heard += 1
        occurrence = self.occurrences.next(base_key(row))
        if at_ms(row) // 1000 * 1000 < watched.since_ms // 1000 * 1000:
            return  # before the desk followed them: history
        trade = followed(row, wallet_of(row), watched.label, occurrence)
        self.pending.append(replace(trade, reported_at=message.timestamp))
        self.arrived.set()

    async def _write(self) -> None:
        while True:
            await self.arrived.wait()
            self.arrived.clear()
            try:
                self._flush()
            except Exception:  # the database busy or failing: the poll reconciles what is lost
                log.exception("followed trades from the stream could not be kept")
            await asyncio.sleep(0)  # let the socket read what came meanwhile

    def _flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:BATCH], self.pending[BATCH:]
            kept = add_trades(self.db, batch, self.clock_ms(), "stream")
            self.kept += kept
            if kept:
                self.on_kept(kept)

