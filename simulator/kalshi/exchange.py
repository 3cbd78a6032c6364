"""Kalshi's matching engine and book-keeping: markets in one event, each a YES book with price-time
priority, the accounts' cash reserved for resting orders, fills charged Kalshi's fees, and
settlement paying each position in cash."""

from __future__ import annotations

import bisect
import random
import uuid
from dataclasses import dataclass

from .orders import (
    CANCELED,
    CONTRACT,
    EXECUTED,
    MAKER_RATE,
    RESTING,
    STP_KINDS,
    TAKER_RATE,
    TIFS,
    Account,
    Fill,
    Order,
    Settlement,
    apply_fill,
    fee,
    opening_cost,
)

HOUSE = "house"  # the simulator's own liquidity


class Refused(Exception):
    """An order or cancel Kalshi refuses: (HTTP status, error code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Market:
    ticker: str
    event_ticker: str
    title: str
    subtitle: str
    rules_primary: str
    rules_secondary: str
    open_ms: int
    close_ms: int
    maker_fees: bool
    status: str = "active"  # active | closed | settled
    result: str = ""  # yes | no once settled
    last_price: int = 0
    volume: int = 0
    settled_ms: int | None = None
    market_type: str = "binary"  # or "scalar": a YES contract pays a value between 0 and 100 cents


class Book:
    """Resting orders of one market, YES bids best (highest) first, YES asks best (lowest) first."""

    def __init__(self) -> None:
        self.bids: list[tuple[tuple[int, int], Order]] = []
        self.asks: list[tuple[tuple[int, int], Order]] = []

    def add(self, order: Order) -> None:
        side, key = (self.bids, (-order.yes_price, order.seq)) if order.bids_yes else \
            (self.asks, (order.yes_price, order.seq))
        bisect.insort(side, (key, order), key=lambda entry: entry[0])

    def remove(self, order: Order) -> None:
        side = self.bids if order.bids_yes else self.asks
        side[:] = [entry for entry in side if entry[1] is not order]

    def opposite(self, order: Order) -> list[tuple[tuple[int, int], Order]]:
        return self.asks if order.bids_yes else self.bids

    def crosses(self, order: Order, resting: Order) -> bool:
        return resting.yes_price <= order.yes_price if order.bids_yes else resting.yes_price >= order.yes_price

    def orders(self) -> list[Order]:
        return [o for _, o in self.bids] + [o for _, o in self.asks]

    def levels(self) -> tuple[dict[int, int], dict[int, int]]:
        """(YES bids by price, NO bids by NO price): Kalshi's two-sided view of one book."""
        yes: dict[int, int] = {}
        no: dict[int, int] = {}
        for _, o in self.bids:
            yes[o.yes_price] = yes.get(o.yes_price, 0) + o.remaining
        for _, o in self.asks:
            no[CONTRACT - o.yes_price] = no.get(CONTRACT - o.yes_price, 0) + o.remaining
        return yes, no


@dataclass(frozen=True)
class PublicTrade:
    """One match as Kalshi's public trade list shows it: the YES price in cents, the contracts, and
    the side the taker bought (selling YES buys NO)."""

    trade_id: str
    ticker: str
    count: int
    yes_price: int
    taker_side: str  # yes | no
    created_ms: int


class Exchange:
    def __init__(self, seed: int, starting_balance_cents: int) -> None:
        self.rng = random.Random(f"kalshi:{seed}")
        self.starting_balance = starting_balance_cents
        self.markets: dict[str, Market] = {}
        self.books: dict[str, Book] = {}
        self.accounts: dict[str, Account] = {HOUSE: Account(HOUSE, 10**12)}
        self.orders: dict[str, Order] = {}
        self.trades: list[PublicTrade] = []  # every match, oldest first
        self._seq = 0

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def open_account(self, name: str) -> Account:
        return self.accounts.setdefault(name, Account(name, self.starting_balance))

    def add_market(self, market: Market) -> None:
        self.markets[market.ticker] = market
        self.books[market.ticker] = Book()

    # -- orders ------------------------------------------------------------------------

    def place(self, account: str, *, ticker: str, side: str, action: str, count: int, yes_price: int,
              order_type: str, tif: str, post_only: bool, stp: str, client_order_id: str, now_ms: int) -> Order:
        market = self.markets.get(ticker)
        if market is None:
            raise Refused(404, "market_not_found", f"no market {ticker}")
        if market.status != "active":
            raise Refused(400, "market_closed", f"market {ticker} is {market.status}: it takes no orders")
        if tif not in TIFS or stp not in STP_KINDS:
            raise Refused(400, "invalid_parameters", "unknown time_in_force or self_trade_prevention_type")
        owner = self.accounts[account]
        if client_order_id and any(o.client_order_id == client_order_id and o.account == account
                                   for o in self.orders.values()):
            raise Refused(409, "order_already_exists", f"client_order_id {client_order_id} was used already")
        self._seq += 1
        order = Order(self._id(), account, client_order_id, ticker, side, action, order_type, yes_price, count,
                      tif, post_only, stp, now_ms, self._seq, remaining=count, updated_ms=now_ms)
        book = self.books[ticker]
        if post_only and self._would_take(book, order):
            raise Refused(400, "post_only_cross", "post-only order would cross the book and take")
        if tif == "fill_or_kill" and self._fillable(book, order) < count:
            raise Refused(400, "fill_or_kill_insufficient", "fill-or-kill order cannot be filled in full now")
        self._reserve(owner, order, market)
        self.orders[order.order_id] = order
        stopped = self._match(book, order, market, now_ms)
        if order.remaining and (stopped or tif != "good_till_canceled" or order_type == "market"):
            self._close(order, now_ms)
        elif order.remaining:
            book.add(order)
        return order

    def cancel(self, account: str, order_id: str, now_ms: int) -> tuple[Order, int]:
        order = self.orders.get(order_id)
        if order is None or order.account != account:
            raise Refused(404, "order_not_found", f"no order {order_id}")
        if order.status != RESTING:
            raise Refused(400, "order_not_resting", f"order {order_id} is {order.status}")
        reduced = order.remaining
        self.books[order.ticker].remove(order)
        self._close(order, now_ms)
        return order, reduced

    def _reserve(self, owner: Account, order: Order, market: Market) -> None:
        """Hold back what the order may cost (opening contracts and a taker's fee); refuse it when
        the balance cannot cover that."""
        held = owner.position(order.ticker).count
        closable = max(0, -held) if order.bids_yes else max(0, held)
        committed = sum(o.remaining for o in self.books[order.ticker].orders()
                        if o.account == owner.name and o.bids_yes == order.bids_yes)
        need = opening_cost(order.bids_yes, order.yes_price, order.initial_count, max(0, closable - committed))
        need += fee(TAKER_RATE, order.initial_count, order.yes_price)
        if owner.name != HOUSE and need > owner.balance:
            raise Refused(400, "insufficient_balance",
                          f"order needs {need} cents, the balance is {owner.balance} cents")
        owner.balance -= need
        order.reserved = need

    def _release(self, order: Order, count: int) -> None:
        """Give back the reserve of `count` contracts that no longer rest (filled or cancelled)."""
        share = order.reserved if count >= order.remaining else order.reserved * count // order.remaining
        order.reserved -= share
        self.accounts[order.account].balance += share

    def _close(self, order: Order, now_ms: int) -> None:
        self._release(order, order.remaining)
        order.remaining = 0
        order.status = EXECUTED if order.fill_count == order.initial_count else CANCELED
        order.updated_ms = now_ms

    def _would_take(self, book: Book, order: Order) -> bool:
        opposite = book.opposite(order)
        return bool(opposite) and book.crosses(order, opposite[0][1])

    def _fillable(self, book: Book, order: Order) -> int:
        return sum(o.remaining for _, o in book.opposite(order)
                   if book.crosses(order, o) and o.account != order.account)

    def _match(self, book: Book, order: Order, market: Market, now_ms: int) -> bool:
        """Take what crosses; True when self-trade prevention stopped the order (its rest is
        cancelled, never rested across the book)."""
        opposite = book.opposite(order)
        while order.remaining and opposite and book.crosses(order, opposite[0][1]):
            resting = opposite[0][1]
            if resting.account == order.account:  # self-trade prevention
                if order.stp == "taker_at_cross":
                    return True
                opposite.pop(0)
                self._close(resting, now_ms)
                continue
            count = min(order.remaining, resting.remaining)
            self._fill(order, resting, count, market, now_ms)
            if not resting.remaining:
                opposite.pop(0)
        return False

    def _fill(self, taker: Order, maker: Order, count: int, market: Market, now_ms: int) -> None:
        price = maker.yes_price  # the resting order's price
        trade_id = self._id()
        taker_fee = fee(TAKER_RATE, count, price)
        maker_fee = fee(MAKER_RATE, count, price) if market.maker_fees else 0
        for order, is_taker, cents in ((taker, True, taker_fee), (maker, False, maker_fee)):
            self._release(order, count)
            account = self.accounts[order.account]
            apply_fill(account, order, count, price, cents, now_ms)
            order.remaining -= count
            order.fill_count += count
            cost = count * order.own_price(price)
            if is_taker:
                order.taker_fees += cents
                order.taker_fill_cost += cost
            else:
                order.maker_fees += cents
                order.maker_fill_cost += cost
            if not order.remaining:
                order.status = EXECUTED
            order.updated_ms = now_ms
            account.fills.append(Fill(self._id(), trade_id, order, count, price, is_taker, cents, now_ms))
        market.last_price = price
        market.volume += count
        bought = taker.side if taker.action == "buy" else ("no" if taker.side == "yes" else "yes")
        self.trades.append(PublicTrade(trade_id, market.ticker, count, price, bought, now_ms))

    # -- settlement --------------------------------------------------------------------

    def settle(self, ticker: str, result: str, now_ms: int) -> list[Settlement]:
        """Determine `ticker` as `result`: resting orders cancelled, every position paid in cash, one
        settlement record per holder. `yes` | `no`: a contract of the winning side pays 100 cents.
        `void` (Kalshi's SDK: "market was voided/cancelled and all positions returned at original
        cost"): each holder is paid back what its contracts cost (fees are not returned), and the
        market shows no result."""
        market = self.markets.get(ticker)
        if market is None:
            raise Refused(404, "market_not_found", f"no market {ticker}")
        if market.status == "settled":
            raise Refused(400, "market_settled", f"market {ticker} is settled already ({market.result or 'void'})")
        if result not in ("yes", "no", "void"):
            raise Refused(400, "invalid_parameters", "result must be yes, no or void")
        for order in self.books[ticker].orders():
            self.books[ticker].remove(order)
            self._close(order, now_ms)
        market.status, market.result, market.settled_ms = "settled", "" if result == "void" else result, now_ms
        done = []
        for account in self.accounts.values():
            held = account.positions.get(ticker)
            if held is None or held.count == 0:
                continue
            yes, no = max(0, held.count), max(0, -held.count)
            revenue = held.cost if result == "void" else CONTRACT * (yes if result == "yes" else no)
            record = Settlement(ticker, market.event_ticker, result, yes, held.cost if yes else 0, no,
                                held.cost if no else 0, revenue, now_ms)
            held.realized_pnl += revenue - held.cost
            held.count, held.cost, held.updated_ms = 0, 0, now_ms
            account.balance += revenue
            account.settlements.append(record)
            done.append(record)
        return done

    # -- the house's liquidity ----------------------------------------------------------

    def seed_ladder(self, ticker: str, mid: int, now_ms: int, depth: int = 5) -> None:
        """Resting house orders around `mid`: YES bids below it, YES asks above it."""
        for step in range(1, depth + 1):
            size = 100 * step
            for action, price in (("buy", mid - step), ("sell", mid + step)):
                if 1 <= price <= 99:
                    self.place(HOUSE, ticker=ticker, side="yes", action=action, count=size, yes_price=price,
                               order_type="limit", tif="good_till_canceled", post_only=True, stp="taker_at_cross",
                               client_order_id="", now_ms=now_ms)
