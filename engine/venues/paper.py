"""PaperVenue: the Venue protocol, filling against the live book the feed sees.

Fill model in engine/venues/paper_fills.py. Each placement and cancel takes the latency model's
time to act (engine/venues/paper_latency.py), as a call to the venue does: the answer reflects
the book it met on arrival, and an order whose cancel is on its way can still be filled. A taker on
a crypto market that would match at once is held the venue's taker delay first (`taker_hold`). Fills
go MATCHED -> MINED -> CONFIRMED on a clock (optionally FAILED, a ghost fill, at a seeded rate);
its refusals, fees and batches are its venue's (`PaperRules`, engine/venues/paper_rules.py). The
venue's own state (its resting orders with their queue positions, and its trades) lives in `paper_orders` /
`paper_trades`, so a restart in paper mode loses nothing and the executor recovers against it
exactly as it does against live.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from contracts.domain import Book, MarketInfo, Side, Tif
from contracts.order_status import covered
from contracts.updown import is_crypto
from contracts.venues import POLICIES, desk_venue, venue_of
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import BookChanged, MarketEvent, MarketResolved, MarketVoided, TradePrint
from engine.venues import paper_fills as fills
from engine.venues import paper_rules as rules
from engine.venues import paper_settlement as settled
from engine.venues.base import (
    Balances,
    CancelResult,
    EventSink,
    OrderEvent,
    OrderRejected,
    OrderRequest,
    PlaceResult,
    PreparedOrder,
    TradeEvent,
    TradeStatus,
    VenueEvent,
    VenueMode,
    VenueOrder,
    VenueOrderStatus,
    VenueTrade,
    venue_status,
)
from engine.venues.latency import DEFAULT_MODEL, LatencyModel
from engine.venues.paper_latency import Trips
from engine.venues.paper_wallet import PaperWallet, cash_flow
from engine.venues.registry import adapter_of
from storage.engine_stores import paper_book as book_store
from storage.sqlite.db import Database, is_locked, now_ms

# A placement on its way when the operator's cancel-all acted: refused on arrival (paper only; stricter).
OVERTAKEN = "order canceled: a cancel-all was sent while it was on its way"
GTD_LEAD_MS = 60_000  # the venue takes a GTD order off the book a minute before its expiry
EXPIRED = "CANCELED_EXPIRED_ORDER"  # the venue's status for a GTD it took off the book
SQLITE_MAX_INT = 2**63 - 1
_T = TypeVar("_T")


class BookSource(Protocol):
    def book(self, token_id: str, depth: int = 10) -> Book | None: ...

    def best_prices(self, token_id: str) -> tuple[int | None, int | None]: ...

    def level_size(self, token_id: str, is_bid: bool, price: int) -> int: ...


@dataclass(frozen=True)
class PaperConfig:
    mined_after_ms: int = 2_000
    confirmed_after_ms: int = 6_000
    fail_rate: float = 0.0
    seed: int = 0
    starting_cash: int = 10_000_000_000  # 10,000 pUSD
    # Persist moved queue positions every tick (for a restart). A backtest, which never
    # restarts its venue, saves them once when the venue closes.
    save_queues_each_tick: bool = True
    # How long its requests take to act (engine/venues/latency.py): realistic unless zero is chosen.
    latency: LatencyModel = DEFAULT_MODEL


@dataclass
class _Resting:
    venue_order_id: str
    condition_id: str
    token_id: str
    side: Side
    price: int
    size: int
    filled: int
    queue_ahead: int
    tif: str
    status: str
    created_ms: int
    expires_ms: int | None = None  # GTD: the venue takes it off the book GTD_LEAD_MS before its expiry
    # Memory only, unlike queue_ahead: it lives for SHRINK_CREDIT_MS, less than a restart
    # takes, and prints from before a restart are never replayed to use it up.
    credit: fills.ShrinkCredit = fills.NO_CREDIT

    @property
    def remaining(self) -> int:
        return self.size - self.filled

    def report(self) -> VenueOrder:
        status, reason = venue_status(self.status)
        return VenueOrder(self.venue_order_id, self.condition_id, self.token_id, self.side, self.price,
                          self.size, self.filled, status, self.created_ms, reason)


class PaperVenue:
    mode: VenueMode = "paper"

    def __init__(self, db: Database, books: BookSource, catalog: MarketCatalog, *,
                 config: PaperConfig | None = None, clock: Callable[[], int] = now_ms, venue_name: str | None = None):
        """`venue_name`: the venue it stands in for (contracts/venues/__init__.py; None: the desk's): its book and
        wallet are that venue's rows of the paper tables, its fees and order rules that venue's."""
        self.db = db
        self.venue_name = venue_name = venue_name or desk_venue()
        self.books = books
        self.catalog = catalog
        self.config = config or PaperConfig()
        self.clock = clock
        self.consumed = fills.Consumed()
        self.resting: dict[str, _Resting] = {}
        self.by_token: dict[str, dict[str, _Resting]] = {}  # the same orders, by token (hot path)
        self.dirty: set[str] = set()  # resting orders whose queue position moved since the last save
        self.next_settle_at: int | None = None  # the earliest pending settlement, to skip idle ticks
        # The venue's order rules, fees and batches (its adapter's, engine/venues/<venue>/paper_rules.py).
        self.rules: rules.PaperRules = adapter_of(venue_name).paper()
        # The shares and cash a SELL's and a BUY's balance checks see (engine/venues/paper_wallet.py).
        self.wallet = PaperWallet(self.config.starting_cash, catalog, clock, venue_name,
                                  credits_rebates=self.rules.credits_rebates)
        self.events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self.sink: EventSink = lambda event: None  # nowhere until started
        # Each request's trip (a wall-clock sleep; a backtest replays the recording up to its arrival).
        self.trips = Trips(self.config.latency, self.config.seed, clock)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self.sink = self.events.put_nowait
        with self.db.read() as conn:
            rows = book_store.live_orders(conn, self.venue_name)
            self.next_settle_at = book_store.next_settlement(conn, self.venue_name)
            self.wallet.load(conn)
        self.resting, self.by_token = {}, {}
        for r in rows:
            self._rest(_Resting(r["venue_order_id"], r["condition_id"], r["token_id"], Side(r["side"]), r["price"],
                                r["size"], r["filled"], r["queue_ahead"], r["tif"], r["status"], r["created_at"],
                                r["expires_at"]))

    async def close(self) -> None:
        self.save_queues()
        self.sink = lambda event: None

    # -- placing -----------------------------------------------------------------------

    async def prepare(self, request: OrderRequest) -> PreparedOrder:
        payload = order_record(request)
        return PreparedOrder(request, f"paper-{request.client_id}", payload, payload)

    async def submit(self, prepared: PreparedOrder) -> PlaceResult:
        if not await self.trips.place() or not await taker_hold(self, [prepared]):
            raise OrderRejected(OVERTAKEN)
        with self.db.write() as conn:
            result, events = self._place(conn, prepared)
        for event in events:
            self.sink(event)
        return result

    async def submit_many(self, prepared: Sequence[PreparedOrder]) -> list[PlaceResult]:
        """Like the venue's batch endpoint: each order accepted or refused on its own, one request a
        batch (standing in for Kalshi: batches of as many as a Basic account's write budget pays for
        at once, sent one after the other, as the live venue sends them)."""
        results: list[PlaceResult] = []
        for batch in _batches(self.rules, prepared, "batch_create"):
            if not await self.trips.place() or not await taker_hold(self, batch):  # one request (held whole)
                results += [PlaceResult(p.venue_order_id, VenueOrderStatus.INVALID, error=OVERTAKEN) for p in batch]
                continue
            events: list[VenueEvent] = []
            with self.db.write() as conn:
                for one in batch:
                    try:
                        result, emitted = self._place(conn, one)
                    except OrderRejected as exc:
                        result, emitted = PlaceResult(one.venue_order_id, VenueOrderStatus.INVALID, error=str(exc)), []
                    results.append(result)
                    events += emitted
            for event in events:
                self.sink(event)
        return results

    def _place(self, conn: Connection, prepared: PreparedOrder) -> tuple[PlaceResult, list[VenueEvent]]:
        req, venue_id = prepared.request, prepared.venue_order_id
        if venue_of(req.token_id) != self.venue_name:  # another venue's market: unknown here, as at that venue
            raise OrderRejected(rules.INVALID_PAYLOAD)
        market = self.catalog.by_token(req.token_id)
        wallet = self.wallet.for_order(conn, req, self._resting_on(req.token_id) if req.side is Side.SELL
                                       else self.resting.values())
        refused = rules.refusal(self.rules, req, market, self.clock() // 1000, wallet)
        if refused is not None:
            raise OrderRejected(refused)
        if book_store.order_exists(conn, venue_id):
            raise OrderRejected("order is invalid. Duplicated.")
        book = (self.books.book(req.token_id, depth=100)
                if rules.crosses(*self.books.best_prices(req.token_id), req.side, req.price) else None)
        reachable = fills.fillable(book, req.side, req.price, self.consumed) if book else 0
        refused = self.rules.book_refusal(req, reachable, self._fee(book, req, market), wallet)
        if refused is not None:
            raise OrderRejected(refused)
        executions = fills.walk(book, req.side, req.price, req.size, self.consumed) if book else []
        # Everything visible at our price is ahead of us, however deep the level (a depth-limited
        # book would put an order beyond its depth at the front of its queue).
        queue = self.books.level_size(req.token_id, req.side is Side.BUY, req.price)
        expires = (min(req.expires_at_s * 1000 - GTD_LEAD_MS, SQLITE_MAX_INT)
                   if req.tif is Tif.GTD and req.expires_at_s else None)
        order = _Resting(venue_id, req.condition_id, req.token_id, req.side, req.price, req.size, 0,
                         queue, req.tif.value, "LIVE", self.clock(), expires)
        self._save_order(conn, order)
        trades = [self._fill(conn, order, e.price, e.size, "TAKER") for e in executions]
        if req.tif not in (Tif.GTC, Tif.GTD) or order.status != "LIVE":
            order.status = "MATCHED" if covered(size=order.size, filled=order.filled) else "CANCELED"
            self._save_order(conn, order)
        if order.status == "LIVE":
            self._rest(order)
        status = VenueOrderStatus.MATCHED if executions else venue_status(order.status)[0]
        events: list[VenueEvent] = [OrderEvent(order.report()), *(TradeEvent(t) for t in trades)]
        return PlaceResult(venue_id, status, tuple(t.trade_id for t in trades), filled=order.filled), events

    # -- fills -------------------------------------------------------------------------

    def _fill(self, conn: Connection, order: _Resting, price: int, size: int, liquidity: str) -> VenueTrade:
        market = self.catalog.get(order.condition_id)
        now = self.clock()
        fee = self.rules.reported_fee(conn, order.venue_order_id, order.side is Side.BUY, market, price, size,
                                      self.rules.fill_fee(market, price, size, liquidity, now))
        order.filled += size
        self.wallet.traded(order.token_id, order.side, price, size, fee)
        seq = book_store.trade_count(conn, order.venue_order_id)
        trade = VenueTrade(f"{order.venue_order_id}-t{seq + 1}", order.venue_order_id, order.condition_id,
                           order.token_id, order.side, price, size, fee, TradeStatus.MATCHED, liquidity, now)  # type: ignore[arg-type]  # liquidity is MAKER or TAKER, as the venue reports it
        book_store.insert_trade(
            conn, trade_id=trade.trade_id, venue_order_id=order.venue_order_id, token_id=order.token_id,
            side=order.side.value, price=price, size=size, fee=fee, liquidity=liquidity, now=now,
            settle_at=now + self.config.mined_after_ms,
        )
        due = now + self.config.mined_after_ms
        self.next_settle_at = due if self.next_settle_at is None else min(self.next_settle_at, due)
        if covered(size=order.size, filled=order.filled):  # what rounding leaves is not kept, as at the venue
            order.status = "MATCHED"
        self._save_order(conn, order)
        return trade

    def _save_order(self, conn: Connection, order: _Resting) -> None:
        book_store.save_order(
            conn, venue_order_id=order.venue_order_id, token_id=order.token_id,
            condition_id=order.condition_id, side=order.side.value, price=order.price, size=order.size,
            filled=order.filled, queue_ahead=order.queue_ahead, tif=order.tif, status=order.status,
            created_at=order.created_ms, now=self.clock(), expires_at=order.expires_ms,
        )

    # -- the market moves --------------------------------------------------------------

    def on_market_event(self, event: MarketEvent) -> None:
        """Feed listener: trades and book changes may fill resting orders. While another
        process holds the database's write lock a fill cannot be recorded, so none happens
        (as if the print were missed: conservative, never a fill without its record)."""
        try:
            if isinstance(event, TradePrint):
                self._on_trade(event)
            elif isinstance(event, BookChanged):
                self.on_book_changed(event.token_id)
            elif isinstance(event, MarketResolved | MarketVoided):
                self._cancel_where(lambda o: o.condition_id == event.condition_id, "CANCELED_MARKET_RESOLVED")
        except Exception as exc:
            if not is_locked(exc):
                raise

    def _on_trade(self, event: TradePrint) -> None:
        updates = []
        now = self.clock()  # not event.at_ms: a print carries the venue's time, a book change our receipt time
        for order in self._resting_on(event.token_id):
            credit = order.credit.live(now)
            result = fills.on_trade(order.side, order.price, order.remaining, order.queue_ahead,
                                    event.price, event.size, event.side, credit)
            if result.credit != credit:
                order.credit = fills.ShrinkCredit(result.credit, order.credit.at_ms)
            if result.queue_ahead != order.queue_ahead:
                order.queue_ahead = result.queue_ahead
                self.dirty.add(order.venue_order_id)
            if result.size > 0:
                updates.append((order, [fills.Execution(order.price, result.size)]))
        self._apply_resting_fills(updates)

    def on_book_changed(self, token_id: str) -> None:
        """A book update: the queue ahead can only shrink; a crossing book fills. Checked
        cheaply first (best prices, one level's size): this runs on every book update."""
        resting = self.by_token.get(token_id)
        if resting:
            self._check_book(token_id, list(resting.values()))

    def on_level_changed(self, token_id: str, is_bid: bool, price: int) -> None:
        """One level of a book changed, and the caller knows which (a replay): only the
        resting orders it can reach are checked, those queued at that price on that side
        and those the level would cross. Every other order's check would find what its last
        one found: its queue ahead is never above its level's size (each check, and each
        placement, leaves it at most that) and the liquidity crossing it was used up (each
        placement and check takes what it can reach), so `on_book_changed` ends the same."""
        resting = self.by_token.get(token_id)
        if not resting:
            return
        reached = [o for o in resting.values()
                   if (o.price == price if (o.side is Side.BUY) == is_bid
                       else (price <= o.price if o.side is Side.BUY else price >= o.price))]
        if reached:
            self._check_book(token_id, reached)

    def _check_book(self, token_id: str, resting: list[_Resting]) -> None:
        best_bid, best_ask = self.books.best_prices(token_id)
        now = self.clock()
        updates = []
        for order in resting:  # not changed inside the loop: fills apply after it
            buying = order.side is Side.BUY
            queue, order.credit = fills.shrink_queue(
                order.queue_ahead, self.books.level_size(token_id, buying, order.price), order.credit, now)
            crossed = (best_ask is not None and best_ask <= order.price) if buying else \
                (best_bid is not None and best_bid >= order.price)
            executions: list[fills.Execution] = []
            if crossed:
                book = self.books.book(token_id, depth=100)
                if book is not None:
                    executions = fills.crossing_fills(order.side, order.price, order.remaining, book, self.consumed)
            if queue != order.queue_ahead:
                order.queue_ahead = queue
                self.dirty.add(order.venue_order_id)
            if executions:
                updates.append((order, executions))
        self._apply_resting_fills(updates)

    def rests_on(self, token_id: str) -> bool:
        """Whether any order rests on this token (a book update elsewhere changes nothing here)."""
        return bool(self.by_token.get(token_id))

    def _resting_on(self, token_id: str) -> list[_Resting]:
        on_token = self.by_token.get(token_id)
        return list(on_token.values()) if on_token else []

    def _rest(self, order: _Resting) -> None:
        self.resting[order.venue_order_id] = order
        self.by_token.setdefault(order.token_id, {})[order.venue_order_id] = order

    def _unrest(self, venue_order_id: str) -> None:
        order = self.resting.pop(venue_order_id, None)
        if order is not None:
            self.by_token.get(order.token_id, {}).pop(venue_order_id, None)
        # Its row was written as it left (its last queue position with it): nothing to save,
        # and a backtest, which saves queues only at the end, must not collect every id.
        self.dirty.discard(venue_order_id)

    def save_queues(self) -> None:
        """Persist queue positions that moved without a fill (batched once per tick: book
        updates are many). A crash can lose at most a tick of queue progress, which only
        puts a restored order further back in its queue: conservative, never flattering."""
        changed = [self.resting[v] for v in self.dirty if v in self.resting]
        self.dirty.clear()
        if changed:
            with self.db.write() as conn:
                for order in changed:
                    self._save_order(conn, order)

    def _apply_resting_fills(self, updates: list[tuple[_Resting, list[fills.Execution]]]) -> None:
        if not updates:
            return
        trades: list[VenueTrade] = []
        with self.db.write() as conn:
            for order, executions in updates:
                for execution in executions:
                    trades.append(self._fill(conn, order, execution.price, execution.size, "MAKER"))
                    self.trips.filled(order.venue_order_id, order.side, execution.price, execution.size)
                self._save_order(conn, order)
        for order, executions in updates:
            if executions:
                if order.status != "LIVE":
                    self._unrest(order.venue_order_id)
                self.sink(OrderEvent(order.report()))
        for trade in trades:
            self.sink(TradeEvent(trade))

    def advance(self) -> int:
        """Move due trades MATCHED -> MINED -> CONFIRMED (or FAILED); returns how many moved.
        Called once per engine tick, which also persists the queue positions that moved and
        takes expired GTD orders off the book."""
        if self.config.save_queues_each_tick:
            self.save_queues()
        now = self.clock()
        if any(o.expires_ms is not None and o.expires_ms <= now for o in self.resting.values()):
            self._cancel_where(lambda o: o.expires_ms is not None and o.expires_ms <= now, EXPIRED)
        if self.next_settle_at is None or now < self.next_settle_at:
            return 0
        with self.db.write() as conn:
            rows = book_store.due_trades(conn, now, self.venue_name)
            moved = [self._settle(conn, dict(r), now) for r in rows]
            self.next_settle_at = book_store.next_settlement(conn, self.venue_name)
        for trade in moved:
            if trade is not None:
                self.sink(TradeEvent(trade))
        return sum(1 for t in moved if t is not None)

    def _settle(self, conn: Connection, row: dict, now: int) -> VenueTrade | None:
        if row["status"] == "MATCHED":
            fails = rules.settlement_fails(self.config.seed, self.config.fail_rate, row["trade_id"])
            status = TradeStatus.FAILED if fails else TradeStatus.MINED
            settle = row["matched_at"] + self.config.confirmed_after_ms
        elif now >= row["matched_at"] + self.config.confirmed_after_ms:
            status, settle = TradeStatus.CONFIRMED, row["settle_at"]
        else:
            return None
        book_store.set_trade_status(conn, row["trade_id"], status.value, settle, now)
        if status is TradeStatus.FAILED:  # a ghost fill: the shares and the cash move back
            self.wallet.traded(row["token_id"], Side(row["side"]), row["price"], row["size"], row["fee"], undone=True)
        return rules.trade_from_row({**row, "status": status.value}, self.catalog.by_token(row["token_id"]))

    # -- cancelling and queries --------------------------------------------------------

    async def cancel(self, venue_order_ids: Sequence[str]) -> CancelResult:
        """One request (standing in for Kalshi: batches of as many cancels as a Basic account's write
        budget pays for at once, one after the other, as the live venue sends them)."""
        ids = list(dict.fromkeys(venue_order_ids))
        canceled: list[str] = []
        for batch in _batches(self.rules, ids, "batch_cancel"):
            wanted = set(batch)
            async with self.trips.cancelling_orders(wanted):  # the orders rest, and can fill, until it arrives
                canceled += self._cancel_where(_ids_in(wanted), "CANCELED")
        missing = {v: "order can't be canceled: not live" for v in set(ids) - set(canceled)}
        return CancelResult(tuple(canceled), missing)

    async def cancel_all(self) -> CancelResult:
        """The operator's cancel-all (a kill, a stop) acts at once, whatever the latency; a placement
        still on its way is refused when it arrives: on paper a kill never leaves an order behind it."""
        self.trips.cancel_all()
        return CancelResult(tuple(self._cancel_where(lambda o: True, "CANCELED")))

    def _cancel_where(self, predicate: Callable[[_Resting], bool], status: str) -> list[str]:
        doomed = [o for o in self.resting.values() if predicate(o)]
        with self.db.write() as conn:
            for order in doomed:
                order.status = status
                self._save_order(conn, order)
        for order in doomed:
            self._unrest(order.venue_order_id)
            self.sink(OrderEvent(order.report()))
        return [o.venue_order_id for o in doomed]

    async def get_order(self, venue_order_id: str) -> VenueOrder | None:
        with self.db.read() as conn:
            row = book_store.order_row(conn, venue_order_id)
        if row is None:
            return None
        status, reason = venue_status(row["status"])
        return VenueOrder(row["venue_order_id"], row["condition_id"], row["token_id"], Side(row["side"]),
                          row["price"], row["size"], row["filled"], status, row["created_at"], reason)

    async def open_orders(self) -> list[VenueOrder]:
        return [o.report() for o in self.resting.values()]

    async def trades(self, *, after_ms: int | None = None) -> list[VenueTrade]:
        with self.db.read() as conn:
            rows = book_store.trades_since(conn, after_ms or 0, self.venue_name)
        return [rules.trade_from_row(r, self.catalog.by_token(r["token_id"])) for r in rows]

    async def balances(self, token_ids: Sequence[str]) -> Balances:
        """Its trades, plus what its redemptions, merges, maker rebates and liquidity rewards paid, less what
        redemptions and merges burned (engine/venues/paper_settlement.py)."""
        with self.db.read() as conn:
            rows = book_store.trade_amounts(conn, self.venue_name)
            cash = self.config.starting_cash + self.wallet.credits(conn)
            tokens = {t: -settled.burned(conn, t) for t in token_ids}
        for token, side, price, size, fee in rows:
            cash += cash_flow(Side(side), price, size, fee)
            if token in tokens:
                tokens[token] += size if side == Side.BUY.value else -size
        return Balances(cash, tokens)

    # -- what a BUY would pay --------------------------------------------------------------

    def _fee(self, book: Book | None, req: OrderRequest, market: MarketInfo | None) -> int:
        """The taker fee a BUY would pay on what it takes from `book` now (its cash must cover it)."""
        if book is None or market is None or req.side is Side.SELL or req.post_only:
            return 0
        preview = fills.walk(book, req.side, req.price, req.size, fills.Consumed(dict(self.consumed.taken)))
        now = self.clock()
        return sum(self.rules.fill_fee(market, e.price, e.size, "TAKER", now) for e in preview)


async def cancel_all_resting(db: Database) -> CancelResult:
    """The operator's cancel-all with the engine down: every resting paper order of every venue,
    from the file."""
    from engine.feeds.books import BookCache

    canceled: list[str] = []
    refused: dict[str, str] = {}
    for name in list(POLICIES):
        venue = PaperVenue(db, BookCache(), MarketCatalog(), venue_name=name)
        await venue.start()
        done = await venue.cancel_all()
        canceled += done.canceled
        refused |= done.not_canceled
    return CancelResult(tuple(canceled), refused)


async def taker_hold(venue: PaperVenue, prepared: Sequence[PreparedOrder]) -> bool:
    """The venue's hold of a taker on a crypto market (its policy's `crypto_taker_delay_ms`): an order there
    that would match at once on arrival waits that long, then meets the book as it is (a batch holding one
    waits whole: stricter for its makers than the venue). False: a cancel-all acted while it was held."""
    delay = POLICIES[venue.venue_name].crypto_taker_delay_ms
    for one in prepared if delay else ():
        req, market = one.request, venue.catalog.by_token(one.request.token_id)
        if not req.post_only and market is not None and is_crypto(market) and \
                rules.crosses(*venue.books.best_prices(req.token_id), req.side, req.price):
            return await venue.trips.hold(delay)
    return True


def order_record(request: OrderRequest) -> str:
    """What the ledger keeps of a paper order (its `signed_payload`): the request's terms as JSON with
    sorted keys, written out directly (`json.dumps` of the same dict took ~5-10 us, a few per cent of a
    replay's decision that places two orders; tests/venues/test_paper_fills.py holds them equal)."""
    expires = "null" if request.expires_at_s is None else int(request.expires_at_s)
    return (f'{{"expires_at_s": {expires}, "post_only": {"true" if request.post_only else "false"}, '
            f'"price": {int(request.price)}, "side": "{request.side.value}", "size": {int(request.size)}, '
            f'"tif": "{request.tif.value}", "token_id": {json.dumps(request.token_id)}}}')


def _ids_in(wanted: set[str]) -> Callable[[_Resting], bool]:
    return lambda order: order.venue_order_id in wanted


def _batches(venue_rules: rules.PaperRules, items: Sequence[_T], kind: str) -> list[Sequence[_T]]:
    """`items` in the requests the venue is sent them in (`kind`: batch_create or batch_cancel)."""
    size = max(1, venue_rules.batch_size(kind, len(items)))
    return [items[start:start + size] for start in range(0, len(items), size)]
