"""Kalshi's matching engine and book-keeping for V2 orders: one YES book a market with price-time
priority, the accounts' cash held back for resting orders, every fill charged Kalshi's fee with
its rounding (fees.py), self-trade prevention, post-only, fill-or-kill and immediate-or-cancel.
Markets' lives and settlement are in lifecycle.py; the exchange tells its listeners (the
WebSocket hub) of every book change, order change, fill and position change."""

from __future__ import annotations

import bisect
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from .fees import trade_fee
from .market import Market
from .orders import CANCELED, EXECUTED, RESTING, Account, Fill, Order, apply_fill, mul
from .units import MICRO

HOUSE = "house"  # the simulator's own resting liquidity
OTHER = "other-trader"  # another trader, who takes on demand (the admin API)
RESERVE_GRAIN = 100  # what is held back is kept on the balance's $0.0001 grain


class Refused(Exception):
    """An order operation Kalshi refuses: (HTTP status, error code, message, details)."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(frozen=True)
class PublicTrade:
    trade_id: str
    ticker: str
    count: int
    price: int  # YES price
    taker_bid: bool  # the taker bought YES (bid) or sold it (ask)
    created_ms: int


@dataclass
class Placement:
    ticker: str
    book_side: str
    price: int
    count: int
    tif: str
    stp: str
    client_order_id: str = ""
    post_only: bool = False
    cancel_on_pause: bool = False
    exchange_index: int | None = None  # the shard the request named (None: omitted; -1: auto-routed)


class Book:
    """Resting orders of one market: YES bids best (highest) first, YES asks best (lowest) first."""

    def __init__(self) -> None:
        self.bids: list[tuple[tuple[int, int], Order]] = []
        self.asks: list[tuple[tuple[int, int], Order]] = []

    def add(self, order: Order) -> None:
        side, key = (self.bids, (-order.price, order.seq)) if order.bid else (self.asks, (order.price, order.seq))
        bisect.insort(side, (key, order), key=lambda entry: entry[0])

    def remove(self, order: Order) -> None:
        side = self.bids if order.bid else self.asks
        side[:] = [entry for entry in side if entry[1] is not order]

    def opposite(self, order: Order) -> list[tuple[tuple[int, int], Order]]:
        return self.asks if order.bid else self.bids

    @staticmethod
    def crosses(order: Order, resting: Order) -> bool:
        return resting.price <= order.price if order.bid else resting.price >= order.price

    def orders(self) -> list[Order]:
        return [o for _, o in self.bids] + [o for _, o in self.asks]

    def levels(self) -> tuple[dict[int, int], dict[int, int]]:
        """(YES bids by YES price, NO bids by NO price): Kalshi's two lists of bids."""
        yes: dict[int, int] = {}
        no: dict[int, int] = {}
        for _, o in self.bids:
            yes[o.price] = yes.get(o.price, 0) + o.remaining
        for _, o in self.asks:
            no[MICRO - o.price] = no.get(MICRO - o.price, 0) + o.remaining
        return yes, no


@dataclass
class Listeners:
    book: list[Callable[[str], None]] = field(default_factory=list)
    order: list[Callable[[Order], None]] = field(default_factory=list)
    fill: list[Callable[[Account, Fill], None]] = field(default_factory=list)
    position: list[Callable[[Account, str], None]] = field(default_factory=list)


class Exchange:
    def __init__(self, seed: int, starting_balance: int) -> None:
        self.rng = random.Random(f"kalshi:{seed}")
        self.starting_balance = starting_balance
        self.markets: dict[str, Market] = {}
        self.books: dict[str, Book] = {}
        self.accounts: dict[str, Account] = {HOUSE: Account(HOUSE, 10**15), OTHER: Account(OTHER, 10**15)}
        self.orders: dict[str, Order] = {}
        self.trades: list[PublicTrade] = []  # every match, oldest first
        self.listeners = Listeners()
        self._seq = 0

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def open_account(self, name: str) -> Account:
        return self.accounts.setdefault(name, Account(name, self.starting_balance))

    def add_market(self, market: Market) -> None:
        self.markets[market.ticker] = market
        self.books[market.ticker] = Book()

    def market(self, ticker: str) -> Market:
        found = self.markets.get(ticker)
        if found is None:
            raise Refused(404, "not_found", f"market {ticker} not found")
        return found

    def own_order(self, account: str, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None or order.account != account:
            raise Refused(404, "not_found", f"order {order_id} not found")
        return order

    # -- orders ------------------------------------------------------------------------

    def place(self, account: str, p: Placement, now_ms: int) -> tuple[Order, list[Fill]]:
        market = self.market(p.ticker)
        self._tradable(market)
        if not market.grid.valid(p.price):
            raise Refused(400, "invalid_price", "invalid price",
                          f"{p.price / MICRO:.6f} is not on the market's price grid ({market.grid.structure})")
        if p.client_order_id and any(o.client_order_id == p.client_order_id and o.account == account
                                     for o in self.orders.values()):
            raise Refused(409, "order_already_exists", "order already exists",
                          f"client_order_id {p.client_order_id} was used already")
        self._seq += 1
        order = Order(self.new_id(), account, p.client_order_id, p.ticker, p.book_side, p.price, p.count, p.tif,
                      p.post_only, p.stp, p.cancel_on_pause, now_ms, self._seq, remaining=p.count,
                      shard=market.exchange_index, updated_ms=now_ms)
        book = self.books[p.ticker]
        if p.post_only and self._would_take(book, order):
            raise Refused(400, "invalid_order", "invalid order", "post only cross")
        if p.tif == "fill_or_kill" and self._fillable(book, order) < p.count:
            raise Refused(400, "invalid_order", "invalid order", "fill or kill order could not be filled in full")
        owner = self.accounts[account]
        order.opening_left = self._opening(owner, order)
        self._hold(owner, order)
        self.orders[order.order_id] = order
        fills: list[Fill] = []
        stopped = self._match(book, order, market, now_ms, fills)
        if order.remaining and (stopped or p.tif != "good_till_canceled"):
            self._close(order, now_ms, "SelfTradeCancel" if stopped else "")
        elif order.remaining:
            book.add(order)
        self._told(order, p.ticker)
        return order, fills

    def cancel(self, account: str, order_id: str, now_ms: int) -> tuple[Order, int]:
        order = self.own_order(account, order_id)
        self._cancellable(self.market(order.ticker))
        if order.status != RESTING:
            raise Refused(404, "not_found", f"order {order_id} is not resting ({order.status})")
        reduced = order.remaining
        self.books[order.ticker].remove(order)
        self._close(order, now_ms, "")
        self._told(order, order.ticker)
        return order, reduced

    def decrease(self, account: str, order_id: str, reduce_to: int, now_ms: int) -> Order:
        """Fewer contracts resting, keeping the order's place in the queue."""
        order = self.own_order(account, order_id)
        self._tradable(self.market(order.ticker))
        if order.status != RESTING:
            raise Refused(404, "not_found", f"order {order_id} is not resting ({order.status})")
        if not 0 <= reduce_to <= order.remaining:
            raise Refused(400, "invalid_order_size", "invalid order size", "can only reduce the resting count")
        if reduce_to == 0:
            self.books[order.ticker].remove(order)
            self._close(order, now_ms, "Decrease")
        else:
            order.remaining = reduce_to
            order.opening_left = min(order.opening_left, reduce_to)
            order.last_update_reason, order.updated_ms = "Decrease", now_ms
            self._hold(self.accounts[account], order)
        self._told(order, order.ticker)
        return order

    def amend(self, account: str, order_id: str, ticker: str, book_side: str, price: int, count: int,
              now_ms: int) -> tuple[Order, list[Fill]]:
        """A new price and total count (filled + resting); only a smaller size at the same price keeps
        the queue place, as Kalshi documents."""
        order = self.own_order(account, order_id)
        market = self.market(ticker)
        self._tradable(market)
        if order.status != RESTING:
            raise Refused(404, "not_found", f"order {order_id} is not resting ({order.status})")
        if ticker != order.ticker:
            raise Refused(400, "order_ticker_mismatch", "order ticker mismatch")
        if book_side != order.book_side:
            raise Refused(400, "order_side_mismatch", "order side mismatch")
        if not market.grid.valid(price):
            raise Refused(400, "invalid_price", "invalid price", "not on the market's price grid")
        if count <= order.fill_count:
            raise Refused(400, "invalid_order_size", "invalid order size", "count must exceed the filled count")
        remaining = count - order.fill_count
        book = self.books[ticker]
        if price == order.price and remaining <= order.remaining:
            return self.decrease(account, order_id, remaining, now_ms), []
        book.remove(order)
        self._seq += 1
        order.seq, order.price, order.remaining = self._seq, price, remaining
        order.last_update_reason, order.updated_ms = "Amend", now_ms
        owner = self.accounts[account]
        order.opening_left = self._opening(owner, order)
        self._hold(owner, order)
        fills: list[Fill] = []
        self._match(book, order, market, now_ms, fills)
        if order.remaining:
            book.add(order)
        self._told(order, ticker)
        return order, fills

    def house_take(self, ticker: str, book_side: str, price: int, count: int, now_ms: int) -> list[Fill]:
        """Another trader takes up to `count` at `price` or better at once (immediate-or-cancel):
        how a desk's resting order gets filled, fractions of a contract included."""
        order, fills = self.place(OTHER, Placement(ticker, book_side, price, count, "immediate_or_cancel",
                                                   "taker_at_cross"), now_ms)
        return fills

    # -- the rules --------------------------------------------------------------------

    def _tradable(self, market: Market) -> None:
        if market.status == "inactive":  # the market halted: a pause, answered as live clients see one
            raise Refused(409, "trading_is_paused", "trading is paused",
                          f"market {market.ticker} is paused: orders may be cancelled, not placed")
        if not market.trading:
            raise Refused(400, "market_inactive", "MARKET_INACTIVE",
                          f"market {market.ticker} is {market.status}: it takes no order operations")

    def _cancellable(self, market: Market) -> None:
        if market.status not in ("active", "inactive"):
            raise Refused(400, "market_inactive", "MARKET_INACTIVE",
                          f"market {market.ticker} is {market.status}: it takes no order operations")

    def _would_take(self, book: Book, order: Order) -> bool:
        opposite = book.opposite(order)
        return bool(opposite) and book.crosses(order, opposite[0][1])

    def _fillable(self, book: Book, order: Order) -> int:
        return sum(o.remaining for _, o in book.opposite(order)
                   if book.crosses(order, o) and o.account != order.account)

    def _opening(self, owner: Account, order: Order) -> int:
        """Of the order's remaining contracts, those that would open (not close) a position, given
        what the account holds and what its other resting orders on the same side already close."""
        held = owner.position(order.ticker).count
        closable = max(0, -held) if order.bid else max(0, held)
        committed = sum(o.remaining - o.opening_left for o in self.books[order.ticker].orders()
                        if o.account == owner.name and o.bid == order.bid and o is not order)
        return max(0, order.remaining - max(0, closable - committed))

    def _need(self, order: Order) -> int:
        """What an order may still cost: its opening contracts and a taker's fee on all it rests."""
        market = self.markets[order.ticker]
        # a taker's fee at the dearest settings the series has or has scheduled: a fill after a change pays it
        fee = max(trade_fee(schedule, order.remaining, order.price, taker=True) for schedule in market.fees.every())
        raw = mul(order.opening_left, order.unit_cost()) + fee
        return -(-raw // RESERVE_GRAIN) * RESERVE_GRAIN

    def _hold(self, owner: Account, order: Order) -> None:
        need = self._need(order) if order.remaining else 0
        extra = need - order.reserved
        if extra > 0 and owner.name not in (HOUSE, OTHER) and extra > owner.on(order.shard):
            # Collateral is checked on the market's shard, whatever the others hold (shards.py).
            raise Refused(400, "insufficient_balance", "insufficient balance",
                          f"the order needs ${need / MICRO:.4f} and ${owner.on(order.shard) / MICRO:.4f} is available "
                          f"on exchange index {order.shard} (the account holds ${owner.balance / MICRO:.4f} in all)")
        owner.credit(order.shard, -extra)
        order.reserved = need

    def _match(self, book: Book, order: Order, market: Market, now_ms: int, fills: list[Fill]) -> bool:
        """Take what crosses; True when self-trade prevention stopped the order."""
        opposite = book.opposite(order)
        while order.remaining and opposite and book.crosses(order, opposite[0][1]):
            resting = opposite[0][1]
            if resting.account == order.account:
                if order.stp == "taker_at_cross":
                    return True
                opposite.pop(0)
                self._close(resting, now_ms, "SelfTradeCancel")
                self._told(resting, resting.ticker)
                continue
            count = min(order.remaining, resting.remaining)
            fills += self._fill(order, resting, count, market, now_ms)
            if not resting.remaining:
                opposite.pop(0)
        return False

    def _fill(self, taker: Order, maker: Order, count: int, market: Market, now_ms: int) -> list[Fill]:
        price = maker.price
        trade_id = self.new_id()
        made = []
        for order, is_taker in ((taker, True), (maker, False)):
            account = self.accounts[order.account]
            cash = apply_fill(account, order, count, price, now_ms)
            fee = order.fees.settle_fill(cash, trade_fee(market.fees.at(now_ms), count, price, taker=is_taker))
            position = account.position(order.ticker)
            position.fees_paid += fee
            order.remaining -= count
            order.fill_count += count
            order.opening_left = min(order.opening_left, order.remaining)
            self._release(account, order)
            account.credit(order.shard, cash - fee)
            cost = mul(count, price if order.bid else MICRO - price)
            if is_taker:
                order.taker_fees, order.taker_fill_cost = order.taker_fees + fee, order.taker_fill_cost + cost
            else:
                order.maker_fees, order.maker_fill_cost = order.maker_fees + fee, order.maker_fill_cost + cost
            if not order.remaining:
                order.status = EXECUTED
            order.last_update_reason, order.updated_ms = "Trade", now_ms
            fill = Fill(self.new_id(), trade_id, order, count, price, is_taker, fee, position.count, now_ms)
            account.fills.append(fill)
            made.append(fill)
            for on_fill in self.listeners.fill:
                on_fill(account, fill)
            for on_position in self.listeners.position:
                on_position(account, order.ticker)
            if order is maker:
                self._tell_order(order)
        market.last_price, market.volume = price, market.volume + count
        market.history.append((now_ms, price, count, 0))
        self.trades.append(PublicTrade(trade_id, market.ticker, count, price, taker.bid, now_ms))
        return [f for f in made if f.order is taker]

    def _release(self, account: Account, order: Order) -> None:
        need = self._need(order) if order.remaining else 0
        account.credit(order.shard, order.reserved - need)
        order.reserved = need

    def _close(self, order: Order, now_ms: int, reason: str) -> None:
        order.remaining = 0
        order.opening_left = 0
        self._release(self.accounts[order.account], order)
        order.status = EXECUTED if order.fill_count == order.initial_count else CANCELED
        order.updated_ms = now_ms
        order.last_update_reason = reason or ("Trade" if order.status == EXECUTED else "Decrease")

    def close_resting(self, ticker: str, now_ms: int, reason: str,
                      only: Callable[[Order], bool] = lambda o: True) -> int:
        """Cancel the market's resting orders `only` picks (a close, a pause, a reactivation)."""
        book = self.books[ticker]
        chosen = [o for o in book.orders() if only(o)]
        for order in chosen:
            book.remove(order)
            self._close(order, now_ms, reason)
            self._tell_order(order)
        if chosen:
            self._tell_book(ticker)
        return len(chosen)

    # -- telling the listeners ----------------------------------------------------------

    def _told(self, order: Order, ticker: str) -> None:
        self._tell_order(order)
        self._tell_book(ticker)

    def _tell_order(self, order: Order) -> None:
        for on_order in self.listeners.order:
            on_order(order)

    def _tell_book(self, ticker: str) -> None:
        for on_book in self.listeners.book:
            on_book(ticker)
