"""The venue's state machine: accept, match, rest, cancel, expire (resolution: settlement.py).

Everything here runs on the server's event loop thread, so there are no locks;
the harness and admin API reach in through that loop. Validation of the signed
wire order lives in ``validation.py``, the stateful rules (balances with fees,
FOK/FAK, minimum marketable BUY) in ``rules.py``; this module applies them, holds
marketable orders of sports markets for their matching delay (and the takers of crypto
markets for theirs), and publishes the resulting events.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import rules
from .accounts import Delta, Ledger
from .book import Book
from .fees import market_fee
from .market_payloads import (
    EventSink,
    book_message,
    last_trade_message,
    now_ms,
    price_change_message,
    tick_size_message,
)
from .markets import Market, Token
from .matching import Fill, best_crosses, match, own_price
from .orders import (
    BID,
    BUY,
    CANCELED,
    CANCELED_EXPIRED,
    CANCELED_NO_BALANCE,
    DELAYED,
    LIVE,
    MATCHED,
    SELL,
    UNMATCHED,
    Order,
    canceled_because,
    order_event,
)
from .rules import OrderRejected
from .trades import MakerLeg, Schedule, Trade, TradeLog
from .units import ONE, notional

__all__ = ["Exchange", "OrderRejected", "PlaceResult"]  # OrderRejected lives in rules.py now

FINE_TICK, COARSE_TICK = 1_000, 10_000  # 0.001 and 0.01
FINE_TICK_ABOVE, FINE_TICK_BELOW = 960_000, 40_000  # the venue refines 0.01 -> 0.001 past these, and back


@dataclass
class PlaceResult:
    order: Order
    trade: Trade | None
    making: int  # pUSD (BUY) or shares (SELL) given by the taker
    taking: int
    delayed: bool = False  # held for a sports market's matching delay or a crypto taker's (no fills yet)


@dataclass
class _Changes:
    """Canonical levels touched by one operation, per market, in first-touch order."""

    levels: dict[str, dict[tuple[str, int], None]] = field(default_factory=dict)

    def touch(self, market: Market, yes_side: str, price: int) -> None:
        self.levels.setdefault(market.condition_id, {})[(yes_side, price)] = None


class Exchange:
    def __init__(self, markets: list[Market], ledger: Ledger, trades: TradeLog, sink: EventSink,
                 schedule: Schedule | None = None) -> None:
        self.markets = {m.condition_id: m for m in markets}
        self.by_token: dict[str, Market] = {t.token_id: m for m in markets for t in m.tokens}
        self.books = {m.condition_id: Book() for m in markets}
        self.ledger = ledger
        self.trades = trades
        self.sink = sink
        self.orders: dict[str, Order] = {}
        self.open_by_owner: dict[str, dict[str, Order]] = {}
        self.expiring: dict[str, Order] = {}
        self.schedule = schedule  # (delay_s, fn): runs fn later on the loop (delayed matching)
        self._seq = itertools.count(1)

    def add_market(self, market: Market) -> None:
        """A market listed while the venue runs (a new window of an up/down series: updown.py)."""
        self.markets[market.condition_id] = market
        self.by_token.update({t.token_id: market for t in market.tokens})
        self.books[market.condition_id] = Book()

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
        """Run every stateful check, match, rest the remainder; raises OrderRejected.

        In a sports market a marketable order is held instead (status ``delayed``) and
        matched ``market.seconds_delay`` later by :meth:`release`; in a crypto market one that
        would match at once, ``market.taker_delay_s`` later.
        """
        market, book = order.market, self.books[order.market.condition_id]
        if order.id in self.orders:
            raise OrderRejected(f"order {order.id} is invalid. Duplicated.")
        if market.closed or not market.accepting_orders:
            raise OrderRejected(rules.NOT_READY_ERROR)
        if not order.internal:
            self._check_balance(order, book)
        if order.post_only and best_crosses(book, order):
            # Refused inside a 200 (success true, errorMsg, no orderID): the form a client that
            # trusts `success` alone books as a resting order.
            raise OrderRejected(rules.POST_ONLY_ERROR, in_body=True)
        delay = self._delay_for(order, book)
        if not delay:
            self._check_fill_rules(order, book)
        self._check_min_marketable(order, book)
        order.seq = next(self._seq)
        self.orders[order.id] = order
        self.ledger.refresh_reservation(order, True)
        if delay:
            return self._hold(order, delay)
        trade, changes = self._execute(order, book)
        self._publish_placement(order, trade, changes, "PLACEMENT" if order.rested else None)
        making, taking = (order.spent, order.matched) if order.side == BUY else (order.matched, order.spent)
        return PlaceResult(order, trade, making, taking)

    def _execute(self, order: Order, book: Book) -> tuple[Trade | None, _Changes]:
        """Match now; a GTC/GTD remainder rests, anything else of a taker is done."""
        changes = _Changes()
        fills = match(book, order)
        for fill in fills:
            changes.touch(order.market, fill.maker.yes_side, fill.yes_price)
        trade = self._settle(order, fills) if fills else None
        if order.order_type in ("GTC", "GTD") and not order.used_up:
            self._rest(order, book)
            changes.touch(order.market, order.yes_side, order.yes_price)
        else:
            order.status = MATCHED if order.matched else CANCELED
            self.ledger.refresh_reservation(order, False)
            self._forget(order)
        return trade, changes

    def _check_balance(self, order: Order, book: Book) -> None:
        problem = rules.shortfall(self.ledger, order, book)
        if problem is not None:
            raise OrderRejected(problem)

    @staticmethod
    def _check_fill_rules(order: Order, book: Book) -> None:
        reason = rules.fill_rule_failure(order, book)
        if reason is not None:
            raise OrderRejected(reason)

    @staticmethod
    def _check_min_marketable(order: Order, book: Book) -> None:
        reason = rules.below_min_marketable(order, book)
        if reason is not None:
            raise OrderRejected(reason)

    # -- sports and crypto markets: delayed matching -----------------------------

    def _delay_for(self, order: Order, book: Book) -> float:
        """Seconds a marketable order waits (0: matched at once): in a sports market every FOK/FAK and
        every order crossing on arrival; in a crypto market an order that would match at once (the
        venue's taker delay: a FAK or FOK that finds nothing is refused at once, as before)."""
        market = order.market
        if order.internal or order.post_only:
            return 0.0
        if market.seconds_delay > 0 and (order.order_type in ("FOK", "FAK") or best_crosses(book, order)):
            return market.seconds_delay
        return market.taker_delay_s if market.taker_delay_s > 0 and best_crosses(book, order) else 0.0

    def _hold(self, order: Order, delay: float) -> PlaceResult:
        if self.schedule is None:
            raise RuntimeError("a delayed market needs an exchange with a scheduler")
        order.status = DELAYED
        self.open_by_owner.setdefault(order.owner, {})[order.id] = order
        self.sink.user(order.owner, order.market, order_event(order, "PLACEMENT", now_ms()))
        self.schedule(delay, lambda: self.release(order))
        return PlaceResult(order, None, 0, 0, delayed=True)

    def release(self, order: Order) -> None:
        """A delayed order's turn: matched as the book is now, or ended unmatched: a FOK that
        cannot fill in full is killed (``CANCELED_<the FOK refusal>``, as the venue sends it), a
        FAK that finds nothing ends ``UNMATCHED``, and one the account can no longer carry is
        cancelled ``CANCELED_NOT_ENOUGH_BALANCE``."""
        if order.status != DELAYED:
            return  # cancelled (or its market resolved) while it waited
        book = self.books[order.market.condition_id]
        ending = self._unmatched_status(order, book)
        if ending is not None:
            order.status = ending
            self.ledger.refresh_reservation(order, False)
            self._forget(order)
            kind = "UPDATE" if ending == UNMATCHED else "CANCELLATION"
            self.sink.user(order.owner, order.market, order_event(order, kind, now_ms()))
            return
        order.status = LIVE
        trade, changes = self._execute(order, book)
        self._publish_placement(order, trade, changes, "UPDATE")

    def _unmatched_status(self, order: Order, book: Book) -> str | None:
        """How a delayed order ends without matching (None: it matches now)."""
        failure = rules.fill_rule_failure(order, book)
        if failure == rules.FOK_ERROR:
            return canceled_because(failure)
        if failure is not None:
            return UNMATCHED
        if not order.internal and rules.shortfall(self.ledger, order, book, held=order.reserved) is not None:
            return CANCELED_NO_BALANCE
        return None

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
        """Move balances for every fill, charge the taker's fee, record the trade, update the makers."""
        market = taker.market
        deltas: list[Delta] = []
        legs = []
        for fill in fills:
            self.ledger.settle_leg(taker, fill.size, fill.cash_for(taker), deltas)
            self.ledger.settle_leg(fill.maker, fill.size, fill.cash_for(fill.maker), deltas)
            legs.append(MakerLeg(fill.maker, fill.size, own_price(fill.maker, fill.yes_price)))
        fee = market_fee(market, [(f.size, own_price(taker, f.yes_price)) for f in fills])
        if fee:
            self.ledger.charge_fee(taker, fee, deltas)
        trade = self.trades.new(market, taker, sum(f.size for f in fills), legs, deltas, fee)
        taker.trade_ids.append(trade.id)
        ts = now_ms()
        for leg in legs:
            maker = leg.order
            maker.trade_ids.append(trade.id)
            done = maker.used_up  # rounding dust is not kept: MATCHED with size_matched just under its size
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

    def _publish_placement(self, order: Order, trade: Trade | None, changes: _Changes,
                           announce: str | None) -> None:
        """``announce``: the ``order`` message for the taker (None: it gets only its trades)."""
        ts = now_ms()
        market = order.market
        if announce is not None:
            self.sink.user(order.owner, market, order_event(order, announce, ts))
        if trade is not None:
            self.trades.publish(trade)
        self._publish_levels(changes, ts)
        if trade is not None:
            self._publish_trade_print(market, order.token, trade.size, ts)
            self._maybe_retick(market)

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

    def republish(self, market: Market, levels: Iterable[tuple[str, int]]) -> None:
        """Tell the market channel of levels changed outside matching (a replayed recording)."""
        changes = _Changes()
        for yes_side, price in levels:
            changes.touch(market, yes_side, price)
        self._publish_levels(changes, now_ms())

    # -- cancelling --------------------------------------------------------------

    def cancel(self, orders: Iterable[Order], status: str = CANCELED) -> list[str]:
        """Cancel open orders; one price_change per market for the whole batch."""
        changes = _Changes()
        ts = now_ms()
        done = []
        for order in orders:
            if not order.is_open:
                continue
            on_book = order.status == LIVE
            self.books[order.market.condition_id].remove(order)
            order.status = status
            self.ledger.refresh_reservation(order, False)
            self._forget(order)
            if on_book:  # a delayed order never reached the book: no level changes
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
        return self.cancel(due, CANCELED_EXPIRED)

    # -- market lifecycle --------------------------------------------------------

    def set_tick(self, market: Market, tick: int, old_shown: str | None = None) -> None:
        """Change the market's tick and tell the market channel, as the venue does: one
        `tick_size_change` per token with the old and new tick (`old_shown` overrides what the
        message says of the old one: the venue may send ""). Resting orders stay where they are;
        new orders must be on the new grid."""
        old = market.tick
        if tick == old:
            return
        if not market.base_tick:
            market.base_tick = old
        market.tick = tick
        ts = now_ms()
        for token in market.tokens:
            self.sink.market(market, tick_size_message(market, token, old, tick, ts, old_shown))

    def _maybe_retick(self, market: Market) -> None:
        """Past 0.96 or below 0.04 a 0.01 market trades on 0.001; back inside, it returns to 0.01."""
        price = market.last_trade_price
        if price is None:
            return
        extreme = not FINE_TICK_BELOW <= price <= FINE_TICK_ABOVE
        if market.tick == COARSE_TICK and extreme:
            self.set_tick(market, FINE_TICK)
        elif market.tick == FINE_TICK and market.base_tick == COARSE_TICK and not extreme:
            self.set_tick(market, COARSE_TICK)

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
        self._maybe_retick(market)
        return trade
