"""The followed wallets' public trades, each kept once: heard on the venue's real-time trade stream
(stream.py, within a second or two of the trade) and reconciled from the Data API.

Following a wallet starts its cursor (`follow_cursors`): what it did before is history, not a
signal. Every second (`watch`) the follower gives the stream the wallets followed now, starts the
stream while any is followed and stops it when none is, and alerts once when it has been down
FOLLOW_STREAM_DOWN_S (FOLLOW_STREAM_DOWN, FOLLOW_STREAM_OK). Every FOLLOW_POLL_S, and at once after
the stream reconnects, `poll` reads each wallet's Data API v1 `/trades` (`user`, `takerOnly=false`:
its maker fills too), newest first, page after page (PAGE a page, as deep as the API's offset
allows; each page re-reads the end of the one before, so a trade listed while the read goes on
pushes nothing into it twice: engine/feeds/newest_first.py), back to the trades it had already
read (less OVERLAP_S, for trades the API lists late): every trade of a busy wallet, what the stream
missed, and what it did while the desk was stopped (the cursor is stored; the copy_trading
strategy's `max_age_s` decides whether an old one is still worth copying). A wallet with more
trades since than the API's offset reaches is alerted (FOLLOW_GAP). Both sources key a trade alike
(trades.py), so each is kept once. A row that is not a trade the desk can read (a size of 1e300 or
Infinity, a time of 10^20 s) is counted and left out, the good rows beside it kept, and alerted
once a wallet (FOLLOW_RECORD_REFUSED), from either source; a wallet whose read fails (or whose
listing moves faster than a page between two reads) is tried again next time and alerted once
(FOLLOW_FAILED, FOLLOW_OK).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Literal

from contracts.followed_wallets import FollowedWallet
from engine.feeds.newest_first import read_newest_first
from engine.venues.market_data import FOLLOW_POLL_S, FOLLOW_STREAM_CHECK_S
from engine.venues.polymarket.follow.stream import TradeStream, Watched
from engine.venues.polymarket.follow.trades import Occurrences, at_ms, base_key, followed, unreadable
from engine.venues.polymarket.rest import RestClient
from storage.desk.audit import raise_alert
from storage.engine_stores import follow_store
from storage.engine_stores.follow_store import Cursor, Followed, add_trades
from storage.sqlite.db import Database, now_ms

__all__ = ["FOLLOW_POLL_S", "FOLLOW_STREAM_CHECK_S", "WalletFollower", "unreadable"]

log = logging.getLogger("engine.follow")
FOLLOW_STREAM_DOWN_S = 60  # a stream down this long while wallets are followed is alerted
PAGE = 500
MAX_OFFSET = 10_000  # the Data API's deepest offset for /trades
OVERLAP_S = 300  # re-read this far behind the newest trade already read (the API lists some late)


class WalletFollower:
    def __init__(self, db: Database, data_api_host: str, rtds_host: str | None = None, *,
                 clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock
        self.rest = RestClient(data_api_host)
        self.kept = 0  # trades kept since start, by either source (what wakes the copies)
        self.stream = None if not rtds_host else TradeStream(rtds_host, db, on_kept=self._note_kept)
        self.cursors: dict[str, Cursor] = {}
        self.watching: tuple[tuple[str, str], ...] | None = None
        self.down_since: int | None = None
        self.down_alerted = False
        self.failing: set[str] = set()
        self.refused_told: set[str] = set()  # wallets whose refused rows were alerted (once a run)
        self.gapped: set[str] = set()
        self.bad: Counter[str] = Counter()

    def _note_kept(self, n: int) -> None:
        self.kept += n

    # -- the wallets and the stream ------------------------------------------------------

    def follow(self, wallets: Iterable[FollowedWallet], now: int) -> dict[str, Cursor]:
        """The cursors of the enabled wallets (new ones followed from `now`), given to the stream."""
        enabled = tuple(sorted((w.address, w.label) for w in wallets if w.enabled))
        if enabled != self.watching:
            self.cursors = follow_store.follow(self.db, [a for a, _ in enabled], now)
            self.watching = enabled
            if self.stream is not None:
                self.stream.wallets = {a: Watched(label, self.cursors[a].since_ms) for a, label in enabled}
        return self.cursors

    async def watch(self, wallets: Iterable[FollowedWallet]) -> bool:
        """Every FOLLOW_STREAM_CHECK_S: the stream follows the wallets followed now, runs while any
        is, and is alerted when down too long. True when the poll should reconcile now."""
        now = self.clock()
        cursors = self.follow(wallets, now)
        stream = self.stream
        if stream is None:
            return False
        if not cursors:
            if stream.running:
                await stream.close()
            self.down_since = None
            return False
        if not stream.running:
            await stream.start()
        self._health(stream.stats.connected, now)
        for address, label in self.watching or ():
            if address in stream.refused_wallets:
                self._refused(address, label, dict(stream.rejected))
        resync, stream.resync = stream.resync, False
        return resync

    def _health(self, connected: bool, now: int) -> None:
        if connected:
            if self.down_alerted:
                self._alert("info", "FOLLOW_STREAM_OK", "the venue's trade stream",
                            "the followed wallets' trades are heard as they happen again")
            self.down_since, self.down_alerted = None, False
            return
        self.down_since = self.down_since or now
        if not self.down_alerted and now - self.down_since >= FOLLOW_STREAM_DOWN_S * 1000:
            self.down_alerted = True
            error = (self.stream.stats.last_error or "no connection") if self.stream else ""
            self._alert("warning", "FOLLOW_STREAM_DOWN", "the venue's trade stream",
                        f"the venue's real-time trade stream has been down for {FOLLOW_STREAM_DOWN_S} s "
                        f"({error[:200]}): followed wallets' trades are read from the Data API every "
                        f"{FOLLOW_POLL_S} s until it is back, so copies come later")

    # -- the Data API's reconciliation ---------------------------------------------------

    async def poll(self, wallets: Iterable[FollowedWallet], now: int) -> int:
        """Read each enabled wallet's trades since its cursor; returns how many new trades were kept."""
        wallets = [w for w in wallets if w.enabled]
        cursors = self.follow(wallets, now)
        kept = 0
        for wallet in wallets:
            kept += await self._reconcile(wallet, cursors[wallet.address], now)
        if kept:
            self._note_kept(kept)
        return kept

    async def _reconcile(self, wallet: FollowedWallet, cursor: Cursor, now: int) -> int:
        since_s = cursor.since_ms // 1000  # its trades in that second and before are history
        back_to = max(since_s, (cursor.reconciled_s or 0) - OVERLAP_S)

        async def page(offset: int) -> list[Any]:
            rows = await self.rest.get_json("/trades", {"user": wallet.address, "takerOnly": "false", "limit": PAGE,
                                                        "offset": offset}, family="data_api")
            if not isinstance(rows, list):
                raise ValueError("the Data API answered something that is not a list of trades")
            return rows

        def far_enough(rows: list[Any]) -> bool:
            times = [at_ms(r) // 1000 for r in rows if not unreadable(r)]
            return bool(times) and min(times) <= back_to

        try:
            listing = await read_newest_first(page, PAGE, MAX_OFFSET, far_enough)
        except Exception as exc:  # the Data API's words, or a listing moving too fast: tried again next time
            self._failed(wallet, str(exc))
            return 0
        self._ok(wallet)
        rows = listing.rows
        if not listing.complete:
            self._gap(wallet, len(rows))
        trades = self._trades(wallet, rows, since_s)
        kept = add_trades(self.db, trades, now)
        newest = max((at_ms(r) // 1000 for r in rows if not unreadable(r)), default=None)
        if newest is not None:
            follow_store.reconciled(self.db, wallet.address, newest, now)
        return kept

    def _trades(self, wallet: FollowedWallet, rows: list[Any], since_s: int) -> list[Followed]:
        """The readable rows newer than the following, oldest first, identical fills numbered."""
        occurrences = Occurrences()
        out, refused = [], False
        for row in reversed(rows):
            problem = unreadable(row)
            if problem:
                self.bad[problem] += 1
                refused = True
                continue
            occurrence = occurrences.next(base_key(row))
            if at_ms(row) // 1000 > since_s:
                out.append(followed(row, wallet.address, wallet.label, occurrence))
        if refused:
            self._refused(wallet.address, wallet.label, dict(self.bad))
        return out

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.close()
        await self.rest.close()

    # -- alerts ----------------------------------------------------------------------------

    def _alert(self, level: Literal["info", "warning"], code: str, subject: str, message: str) -> None:
        with self.db.write() as conn:
            raise_alert(conn, level=level, source="engine", code=code, subject=subject, message=message)

    def _once(self, alerted: set[str], address: str, label: str, code: str, message: str) -> None:
        """A warning about a wallet, raised once until `alerted` forgets it."""
        if address in alerted:
            return
        alerted.add(address)
        self._alert("warning", code, label, message)

    def _refused(self, address: str, label: str, reasons: dict[str, int]) -> None:
        log.info("followed wallet rows refused", extra={"wallet": label, "refused": reasons})
        self._once(self.refused_told, address, label, "FOLLOW_RECORD_REFUSED",
                   f"trades of the followed wallet {label} came that the desk cannot read "
                   f"({', '.join(sorted(reasons))[:300]}): they are left out and counted, its other trades are "
                   "kept; said once a run")

    def _failed(self, wallet: FollowedWallet, error: str) -> None:
        log.warning("followed wallet could not be read", extra={"wallet": wallet.label, "error": error[:200]})
        self._once(self.failing, wallet.address, wallet.label, "FOLLOW_FAILED",
                   f"the followed wallet {wallet.label}'s trades could not be read from the Data API "
                   f"({error[:200]}); tried again every {FOLLOW_POLL_S} s")

    def _ok(self, wallet: FollowedWallet) -> None:
        if wallet.address not in self.failing:
            return
        self.failing.discard(wallet.address)
        self._alert("info", "FOLLOW_OK", wallet.label, f"the followed wallet {wallet.label}'s trades are read again")

    def _gap(self, wallet: FollowedWallet, read: int) -> None:
        log.warning("followed wallet traded past the Data API's reach", extra={"wallet": wallet.label, "read": read})
        self._once(self.gapped, wallet.address, wallet.label, "FOLLOW_GAP",
                   f"the followed wallet {wallet.label} made more trades since the last read than the Data API "
                   f"lists ({read} read, its deepest page): older ones the stream did not hear are not kept")
