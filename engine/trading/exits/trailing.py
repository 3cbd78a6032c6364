"""Trailing stops: a strategy's (its `trailing_stop` limit, on every position it holds) and the manual
ticket's (the operator's, on what the manual book holds of one outcome).

A trailing stop trails **the best bid** of the token held (the price a sale of it meets; live, without
the desk's own orders: `marks`) by a **distance in price units** (0.05 is five cents below the high, never
a fraction of it). Its high-water mark starts at the best bid when it starts and rises with it, never
falls. Once the best bid is at or below the mark less the distance, it fires: once, kept as TRIGGERED,
and from then on its position is sold through the exits' one way out (strategy_exits.take_exit, the
way a stop loss sells: the book's orders in that market withdrawn first, then a fill-and-kill at the mid
less the max slippage, or at the floor the operator confirmed when that is higher), tried again with the
exits' back-off until what it sells is sold. It never fires, nor moves its mark, on a stale or
one-sided book: only a book of both sides within the max data age counts (fail closed: a quiet feed is
not a price). Its mark, its state and what it leaves held live in `trailing_stops`
(storage/engine_stores/standing_orders.py): a restart or a crash goes on from the same mark.

Read at each timed pass, before the exits start (engine/trading/passes/ledger_pass.py), on every ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from contracts.domain import Book, Outcome, fmt
from contracts.strategy_limits import DEFAULTS
from engine.execution.executor import OPERATOR_BOOKS
from engine.risk.gate import Reason
from engine.trading.exits.selling import is_dust
from engine.trading.exits.strategy_exits import Exit
from storage.engine_stores import standing_orders as store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Connection

    from contracts.limits import Limits
    from engine.trading.exits.exit_book import Key
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.exits.trailing")
ACTIVE, TRIGGERED = "ACTIVE", "TRIGGERED"


@dataclass
class Trail:
    id: int
    strategy: str  # the book it guards: a strategy's, or the manual ticket's
    condition_id: str
    token: str
    outcome: Outcome
    distance: int
    high: int  # the best bid's high since it started (micro-probability)
    status: str = ACTIVE
    floor: int | None = None  # the lowest price its sale accepts (the operator's)
    shares: int | None = None  # a manual one: what it sells (None: all held)
    leave: int = 0  # once fired: what it leaves held
    detail: str = ""  # once fired: what fired it

    @property
    def key(self) -> Key:
        return self.strategy, self.token

    @property
    def stop(self) -> int:
        return self.high - self.distance


def two_sided_bid(book: Book | None, now: int, max_age_ms: int) -> int | None:
    """The best bid a trailing stop reads, or None when the book does not count: missing, one-sided or
    older than the max data age."""
    if book is None or book.best_bid is None or book.best_ask is None or book.age_ms(now) > max_age_ms:
        return None
    return book.best_bid.price


class TrailBook:
    """One ledger's trailing stops, as kept in the database."""

    def __init__(self) -> None:
        self.trails: dict[Key, Trail] = {}
        self._for: tuple[str, str] | None = None  # the (venue, mode) loaded

    def load(self, site: TradingSite) -> None:
        """Its rows, read again when its ledger's (venue, mode) is not the one read (a start, a mode switch)."""
        here = (site.executor.venue_name, site.executor.mode)
        if here == self._for:
            return
        with site.db.read() as conn:
            rows = store.open_trails(conn, *here)
        self.trails = {(r["strategy"], r["token_id"]): Trail(
            int(r["id"]), r["strategy"], r["condition_id"], r["token_id"], Outcome(r["outcome"]), int(r["distance"]),
            int(r["high_water"]), r["status"], r["floor"], r["shares"], int(r["leave"] or 0), r["detail"] or "")
            for r in rows}
        self._for = here

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) With a trail standing it cannot tell (it follows and fires on the books it reads
        at each pass); with none, nothing starts one without new data or a write (a held position, a fresh
        bid, a strategy's limit), which runs the pass anyway."""
        return now if self.trails else None

    def observe(self, site: TradingSite, limits: Mapping[str, Limits], max_age_ms: int, now: int) -> None:
        """One pass: strategies' trails started where they hold a position (and ended where they no longer do),
        every mark raised to a higher fresh best bid, those crossed fired, those sold done; what changed written
        in one transaction (none when nothing did)."""
        self.load(site)
        state = site.executor.state
        writes: list[Callable[[Connection], object]] = []
        for key, trail in list(self.trails.items()):
            held = state.totals(*key).size
            market = site.catalog.get(trail.condition_id)
            if trail.status == TRIGGERED:
                if held <= trail.leave or (market is not None and is_dust(held - trail.leave, market)):
                    writes.append(self._end(trail, "DONE", f"{trail.detail}; sold", now))
                continue
            if held <= 0:
                writes.append(self._end(trail, "DONE", "nothing held any more: it ends unfired", now))
                continue
            if trail.strategy not in OPERATOR_BOOKS:
                distance = limits.get(trail.strategy, DEFAULTS).probability("trailing_stop")
                if distance <= 0:
                    writes.append(self._end(trail, "CANCELLED", "the strategy's trailing stop was switched off", now))
                    continue
                if distance != trail.distance:
                    trail.distance = distance
                    writes.append(partial(store.set_trail_distance, trail_id=trail.id, distance=distance, now=now))
            bid = two_sided_bid(site.marks(trail.token), now, max_age_ms)
            if bid is not None:
                writes += self._follow(trail, bid, held, now)
        starts = self._starts(site, limits, max_age_ms, now)
        if not writes and not starts:
            return
        with site.db.write() as conn:
            for write in writes:
                write(conn)
            for strategy, token, distance, bid in starts:
                cid, outcome = state.position_market[(strategy, token)]
                self.add(conn, site, strategy=strategy, condition_id=cid, token=token, outcome=outcome,
                         distance=distance, high=bid, now=now, by="engine")

    def _starts(self, site: TradingSite, limits: Mapping[str, Limits], max_age_ms: int,
                now: int) -> list[tuple[str, str, int, int]]:
        """(strategy, token, distance, best bid) of each position a strategy with a trailing stop holds that has
        none yet, where a fresh two-sided book gives its start (none yet: it starts at the first)."""
        armed = {name: distance for name, lim in limits.items()
                 if (distance := lim.probability("trailing_stop")) > 0 and name not in OPERATOR_BOOKS}
        if not armed:
            return []
        out = []
        for (strategy, token), totals in site.executor.state.positions.items():
            if strategy in armed and totals.size > 0 and (strategy, token) not in self.trails:
                bid = two_sided_bid(site.marks(token), now, max_age_ms)
                if bid is not None:
                    out.append((strategy, token, armed[strategy], bid))
        return sorted(out)

    def add(self, conn: Connection, site: TradingSite, *, strategy: str, condition_id: str, token: str,
            outcome: Outcome, distance: int, high: int, now: int, by: str, floor: int | None = None,
            shares: int | None = None) -> Trail:
        """A new trailing stop from `high`, written on `conn` (the caller's transaction)."""
        trail_id = store.insert_trail(conn, venue=site.executor.venue_name, mode=site.executor.mode,
                                      strategy=strategy, condition_id=condition_id, token_id=token,
                                      outcome=outcome.value, distance=distance, floor=floor, shares=shares,
                                      high_water=high, now=now, by=by)
        self.trails[(strategy, token)] = trail = Trail(trail_id, strategy, condition_id, token, outcome, distance,
                                                       high, floor=floor, shares=shares)
        return trail

    def _follow(self, trail: Trail, bid: int, held: int, now: int) -> list[Callable[[Connection], object]]:
        """A fresh best bid: the mark rises to it, or the stop fires when it is at or below the mark less the
        distance. Returns what to write."""
        if bid > trail.high:
            trail.high = bid
            return [partial(store.raise_high_water, trail_id=trail.id, high=bid, now=now)]
        if bid > trail.stop:
            return []
        trail.status = TRIGGERED
        trail.leave = 0 if trail.shares is None else max(0, held - trail.shares)
        trail.detail = (f"best bid {fmt(bid)} at or below its stop {fmt(trail.stop)} ({fmt(trail.distance)} "
                        f"under its high {fmt(trail.high)})")
        log.warning("trailing stop fired", extra={"strategy": trail.strategy, "token": trail.token, "bid": bid,
                                                  "high": trail.high, "trail": trail.id})
        return [partial(store.trigger_trail, trail_id=trail.id, bid=bid, leave=trail.leave, detail=trail.detail,
                        now=now)]

    def _end(self, trail: Trail, status: str, detail: str, now: int) -> Callable[[Connection], object]:
        self.trails.pop(trail.key, None)
        return partial(store.end_trail, trail_id=trail.id, status=status, detail=detail, now=now)

    def exits(self, site: TradingSite) -> list[Exit]:
        """The fired ones' sales: what each still has to sell (all but what it leaves held), at no less than its
        floor."""
        state = site.executor.state
        out = []
        for trail in self.trails.values():
            if trail.status != TRIGGERED:
                continue
            totals = state.totals(*trail.key)
            to_sell = totals.size - trail.leave
            if to_sell <= 0:
                continue
            book = site.marks(trail.token)
            mid = book.mid if book is not None and book.mid is not None else trail.stop
            out.append(Exit(trail.strategy, trail.condition_id, trail.token, Reason.TRAILING_STOP, trail.detail,
                            min(totals.sellable, to_sell), mid, to_sell, trail.floor))
        return out

    def cancel(self, site: TradingSite, trail_id: int, detail: str) -> Trail | None:
        """The operator's cancel of a manual one; None when it is not one of this ledger's."""
        self.load(site)
        found = next((t for t in self.trails.values() if t.id == trail_id), None)
        if found is None:
            return None
        with site.db.write() as conn:
            self._end(found, "CANCELLED", detail, site.clock())(conn)
        return found


def with_trails(due: list[Exit], trails: list[Exit]) -> list[Exit]:
    """The exits due with the fired trailing stops' sales: the operator's own first (OPERATOR_EXIT), then the
    trailing stops', then the strategies' other exits for positions no earlier one sells."""
    if not trails:
        return due
    operator = [e for e in due if e.reason is Reason.OPERATOR_EXIT]
    taken = {e.key for e in operator}
    trails = [e for e in trails if e.key not in taken]
    taken |= {e.key for e in trails}
    return operator + trails + [e for e in due if e.key not in taken]
