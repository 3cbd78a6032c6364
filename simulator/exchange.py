"""The venue's state machine: accept, match, rest, cancel, expire, resolve.

Everything here runs on the server's event loop thread, so there are no locks;
the harness and admin API reach in through that loop. Validation of the signed
wire order lives in ``validation.py``; this module enforces the stateful rules
(duplicates, balances, post-only, FOK/FAK) and publishes the resulting events.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Iterable

from .accounts import Delta, Ledger
from .book import Book
from .events import (EventSink, book_message, last_trade_message, market_resolved_message,
                     now_ms, price_change_message, tick_size_message)
from .markets import Market, Token
from .matching import Fill, best_crosses, fully_fillable, match, own_price
from .orders import (BID, BUY, CANCELED, CANCELED_MARKET_RESOLVED, LIVE, MATCHED, SELL, Order,
                     order_event)
from .trades import MakerLeg, Trade, TradeLog
from .units import MICRO, ONE, fmt, notional

FOK_ERROR = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_ERROR = ("no orders found to match with FAK order. FAK orders are partially filled "
             "or killed if no match is found.")
POST_ONLY_ERROR = "invalid post-only order: order crosses book"
NOT_READY_ERROR = "the market is not yet ready to process new orders"
FINE_TICK, COARSE_TICK = 1_000, 10_000  # 0.001 and 0.01
FINE_TICK_ABOVE, FINE_TICK_BELOW = 960_000, 40_000  # the venue refines 0.01 -> 0.001 past these


class OrderRejected(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class PlaceResult:
    order: Order
    trade: Trade | None
    making: int  # pUSD (BUY) or shares (SELL) given by the taker
    taking: int


@dataclass
class _Changes:
    """Canonical levels touched by one operation, per market, in first-touch order."""

    levels: dict[str, dict[tuple[str, int], None]] = field(default_factory=dict)

    def touch(self, market: Market, yes_side: str, price: int) -> None:
        self.levels.setdefault(market.condition_id, {})[(yes_side, price)] = None


class Exchange:
    def __init__(self, markets: list[Market], ledger: Ledger, trades: TradeLog, sink: EventSink) -> None:
        self.markets = {m.condition_id: m for m in markets}
        self.by_token: dict[str, Market] = {t.token_id: m for m in markets for t in m.tokens}
        self.books = {m.condition_id: Book() for m in markets}
        self.ledger = ledger
        self.trades = trades
        self.sink = sink
        self.orders: dict[str, Order] = {}
        self.open_by_owner: dict[str, dict[str, Order]] = {}
        self.expiring: dict[str, Order] = {}
        self._seq = itertools.count(1)

    # -- queries -----------------------------------------------------------------

    def market_for_token(self, token_id: str) -> Market | None:
        return self.by_token.get(token_id)

    def open_orders(self, owner: str) -> list[Order]:
        return sorted(self.open_by_owner.get(owner, {}).values(), key=lambda o: o.seq)

    def open_orders_of_address(self, address: str) -> list[Order]:
        addr = address.lower()
        return [o for owned in self.open_by_owner.values() for o in owned.values()
                if o.maker_address.lower() == addr]

    # -- placing -----------------------------------------------------------------

    def place(self, order: Order) -> PlaceResult:
        """Run every stateful check, match, rest the remainder; raises OrderRejected."""
        market, book = order.market, self.books[order.market.condition_id]
        if order.id in self.orders:
            raise OrderRejected(f"order {order.id} is invalid. Duplicated.")
        if market.closed or not market.accepting_orders:
            raise OrderRejected(NOT_READY_ERROR)
        if not order.internal:
            self._check_balance(order)
        self._check_marketability(order, book)
        order.seq = next(self._seq)
        self.orders[order.id] = order
        self.ledger.refresh_reservation(order, True)
        changes = _Changes()
        fills = match(book, order)
        for fill in fills:
            changes.touch(market, fill.maker.yes_side, fill.yes_price)
        trade = self._settle(order, fills) if fills else None
        if order.order_type in ("GTC", "GTD") and order.remaining > 0:
            self._rest(order, book)
            changes.touch(market, order.yes_side, order.yes_price)
        else:
            order.status = MATCHED if order.matched else CANCELED
            self.ledger.refresh_reservation(order, False)
            self._forget(order)
        self._publish_placement(order, trade, changes)
        making, taking = (order.spent, order.matched) if order.side == BUY else (order.matched, order.spent)
        return PlaceResult(order, trade, making, taking)

    def _check_balance(self, order: Order) -> None:
        balance, reserved = self.ledger.available_for(order)
        need = self.ledger.requirement(order)
        if balance - reserved < need:
            raise OrderRejected(
                "not enough balance / allowance: the balance is not enough -> "
                f"balance: {balance}, sum of active orders: {reserved}, order amount: {need}"
            )

    def _check_marketability(self, order: Order, book: Book) -> None:
        crossing = best_crosses(book, order)
        if order.post_only and crossing:
            raise OrderRejected(POST_ONLY_ERROR)
        if order.order_type == "FOK" and not fully_fillable(book, order):
            raise OrderRejected(FOK_ERROR)
        if order.order_type == "FAK" and not crossing:
            raise OrderRejected(FAK_ERROR)
        marketable = crossing or order.order_type in ("FOK", "FAK")
        if marketable and order.side == BUY and not order.internal:
            cost = order.budget if order.budget is not None else notional(order.size, order.price)
            if cost < MICRO:
                raise OrderRejected(f"invalid amount for a marketable BUY order (${fmt(cost)}), min size: $1")

    def _rest(self, order: Order, book: Book) -> None:
        book.add(order)
        order.rested = True
        order.status = LIVE
        self.open_by_owner.setdefault(order.owner, {})[order.id] = order
        if order.expiration:
            self.expiring[order.id] = order
        self.ledger.refresh_reservation(order, True)

    def _forget(self, order: Order) -> None:
        """Closed orders leave the open indexes; agents' closed orders are dropped."""
        owned = self.open_by_owner.get(order.owner)
        if owned is not None:
            owned.pop(order.id, None)
        self.expiring.pop(order.id, None)
        if order.internal:
            self.orders.pop(order.id, None)

    def _settle(self, taker: Order, fills: list[Fill]) -> Trade:
        """Move balances for every fill, record the trade, update the makers."""
        market = taker.market
        deltas: list[Delta] = []
        legs = []
        for fill in fills:
            self.ledger.settle_leg(taker, fill.size, fill.cash_for(taker), deltas)
            self.ledger.settle_leg(fill.maker, fill.size, fill.cash_for(fill.maker), deltas)
            legs.append(MakerLeg(fill.maker, fill.size, own_price(fill.maker, fill.yes_price)))
        trade = self.trades.new(market, taker, sum(f.size for f in fills), legs, deltas)
        taker.trade_ids.append(trade.id)
        ts = now_ms()
        for leg in legs:
            maker = leg.order
            maker.trade_ids.append(trade.id)
            done = maker.remaining <= 0
            if done:
                maker.status = MATCHED
                self._forget(maker)
            self.ledger.refresh_reservation(maker, not done)
            self.sink.user(maker.owner, market, order_event(maker, "UPDATE", ts))
        self._record_print(market, fills[-1].yes_price, BUY if taker.yes_side == BID else SELL,
                           sum(f.cash_for(taker) for f in fills))  # volume = the taker's notional
        return trade

    def _record_print(self, market: Market, yes_price: int, yes_side: str, volume: int) -> None:
        market.last_trade_price = yes_price
        market.last_trade_side = yes_side
        market.volume += volume
        market.trade_times.append((time.time(), volume))
        if len(market.trade_times) > 5000:
            del market.trade_times[:1000]

    def _publish_placement(self, order: Order, trade: Trade | None, changes: _Changes) -> None:
        ts = now_ms()
        market = order.market
        if order.rested:
            self.sink.user(order.owner, market, order_event(order, "PLACEMENT", ts))
        if trade is not None:
            self.trades.publish(trade)
        self._publish_levels(changes, ts)
        if trade is not None:
            self._publish_trade_print(market, order.token, trade.size, ts)
            self._maybe_refine_tick(market)

    def _publish_levels(self, changes: _Changes, ts: int) -> None:
        for cid, levels in changes.levels.items():
            market = self.markets[cid]
            if not self.sink.watching(market):
                continue  # building the message (two book hashes) is the costly part
            self.sink.market(market, price_change_message(market, self.books[cid], list(levels), ts))

    def _publish_trade_print(self, market: Market, taker_token: Token, size: int, ts: int) -> None:
        if not self.sink.watching(market):
            return
        yes_price = market.last_trade_price or 0
        for token in market.tokens:
            price = yes_price if token.is_yes else ONE - yes_price
            side = market.last_trade_side
            if not token.is_yes:
                side = SELL if side == BUY else BUY
            self.sink.market(market, last_trade_message(market, token, price, side, size, ts))
        for token in market.tokens:
            self.sink.market(market, book_message(market, token, self.books[market.condition_id], ts))

    # -- cancelling --------------------------------------------------------------

    def cancel(self, orders: Iterable[Order], status: str = CANCELED) -> list[str]:
        """Cancel open orders; one price_change per market for the whole batch."""
        changes = _Changes()
        ts = now_ms()
        done = []
        for order in orders:
            if not order.is_open:
                continue
            self.books[order.market.condition_id].remove(order)
            order.status = status
            self.ledger.refresh_reservation(order, False)
            self._forget(order)
            changes.touch(order.market, order.yes_side, order.yes_price)
            self.sink.user(order.owner, order.market, order_event(order, "CANCELLATION", ts))
            done.append(order.id)
        self._publish_levels(changes, ts)
        return done

    def cancel_ids(self, owner: str, ids: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """The ``{"canceled", "not_canceled"}`` semantics of DELETE /order(s)."""
        owned = self.open_by_owner.get(owner, {})
        targets, not_canceled = [], {}
        for oid in ids:
            order = owned.get(oid)
            if order is not None:
                targets.append(order)
            elif (known := self.orders.get(oid)) is not None and known.owner == owner:
                not_canceled[oid] = "already canceled or matched"
            else:
                not_canceled[oid] = "order not found"
        return self.cancel(targets), not_canceled

    def expire_due(self, now: float, buffer_s: float) -> list[str]:
        """GTD orders leave the book ``buffer_s`` before their expiration, like the venue."""
        due = [o for o in self.expiring.values() if o.expiration - buffer_s <= now]
        return self.cancel(due)

    # -- market lifecycle --------------------------------------------------------

    def resolve(self, market: Market, winner: Token) -> list[tuple[str, int]]:
        """Settle at 1/0: cancel open orders, confirm pending trades, pay holders."""
        if market.closed:
            return []
        resting = list(self.books[market.condition_id].orders())
        self.cancel(resting, CANCELED_MARKET_RESOLVED)
        self.trades.finalize_market(market)
        market.closed = True
        market.accepting_orders = False
        market.winner = winner.token_id
        market.last_trade_price = ONE if winner.is_yes else 0
        payouts = self.ledger.settle_market(market, winner.token_id)
        self.sink.market(market, market_resolved_message(market, now_ms()))
        return payouts

    def set_tick(self, market: Market, tick: int) -> None:
        old = market.tick
        if tick == old:
            return
        market.tick = tick
        ts = now_ms()
        for token in market.tokens:
            self.sink.market(market, tick_size_message(market, token, old, tick, ts))

    def _maybe_refine_tick(self, market: Market) -> None:
        price = market.last_trade_price
        extreme = price is not None and not FINE_TICK_BELOW <= price <= FINE_TICK_ABOVE
        if market.tick == COARSE_TICK and extreme:
            self.set_tick(market, FINE_TICK)

    def print_trade(self, token: Token, price: int, size: int, side: str,
                    taker: Order, maker: Order) -> Trade:
        """An off-book trade between two internal accounts (admin "make a print")."""
        market = self.by_token[token.token_id]
        deltas: list[Delta] = []
        cash = notional(size, price)
        self.ledger.settle_leg(taker, size, cash, deltas)
        self.ledger.settle_leg(maker, size, cash, deltas)
        taker.matched = maker.matched = size
        trade = self.trades.new(market, taker, size, [MakerLeg(maker, size, price)], deltas)
        yes_price = price if token.is_yes else ONE - price
        yes_side = side if token.is_yes else (SELL if side == BUY else BUY)
        self._record_print(market, yes_price, yes_side, cash)
        self._publish_trade_print(market, token, size, now_ms())
        self._maybe_refine_tick(market)
        return trade
