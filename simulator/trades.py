"""Trades: records, their wire views, and the MATCHED -> MINED -> CONFIRMED pipeline.

A trade is one taker order's match against one or more makers. Every participant
sees the same trade id; ``trader_side`` and ``trade_owner`` depend on who is
looking. A configurable fraction of trades ends FAILED: the balances move back
(a "ghost fill") and the FAILED status is pushed like any other update.

Statuses are named as the venue names them: REST (``/data/trades``) carries the
``TRADE_STATUS_`` prefix, the user channel the plain names. A configurable fraction of
trades is RETRYING (its settlement transaction failed and is sent again) between MATCHED
and MINED; another fraction reads ``MATCHED_NOT_BROADCASTED`` on REST while it is matched
(the user channel never shows that status: it says MATCHED).

Settlement is asynchronous (since 2026-07-24): a matched order's answer names its trades
(``tradeIDs``) and no transaction hash; a trade carries its ``transaction_hash`` only once its
transaction is out (any status after MATCHED), "" before, on REST and on the user channel alike.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from .accounts import Delta, Ledger
from .market_payloads import EventSink, now_ms
from .markets import Market
from .orders import Order
from .units import fmt

MATCHED, MINED, CONFIRMED, FAILED = "MATCHED", "MINED", "CONFIRMED", "FAILED"
RETRYING, NOT_BROADCASTED = "RETRYING", "MATCHED_NOT_BROADCASTED"
REST_PREFIX = "TRADE_STATUS_"
Schedule = Callable[[float, Callable[[], object]], Any]  # (delay s, what to run; its value is dropped)


@dataclass(slots=True)
class MakerLeg:
    order: Order
    size: int  # micro-shares
    price: int  # execution price in the maker's own token space


@dataclass(eq=False)
class Trade:
    id: str
    market: Market
    taker: Order
    size: int  # taker's shares in this trade
    makers: list[MakerLeg]
    match_time: int
    tx_hash: str
    status: str = MATCHED
    last_update: int = 0
    deltas: list[Delta] = field(default_factory=list)
    will_fail: bool = False
    will_retry: bool = False  # RETRYING between MATCHED and MINED
    not_broadcasted: bool = False  # REST reads MATCHED_NOT_BROADCASTED while it is matched
    fee: int = 0  # micro-pUSD the taker paid (never on the wire: fee_rate_bps stays "0")

    def owners(self) -> list[str]:
        seen = dict.fromkeys([self.taker.owner] + [leg.order.owner for leg in self.makers])
        return list(seen)


def rest_status(trade: Trade) -> str:
    """The status as ``/data/trades`` names it."""
    status = NOT_BROADCASTED if trade.status == MATCHED and trade.not_broadcasted else trade.status
    return REST_PREFIX + status


def public_hash(trade: Trade) -> str:
    """The trade's settlement transaction hash as the venue shows it: "" while it is matched (the
    transaction is not out yet: settlement runs after the match, since 2026-07), then the hash."""
    return "" if trade.status == MATCHED else trade.tx_hash


def trade_json(trade: Trade, viewer: str) -> dict[str, Any]:
    """REST ``/data/trades`` item as seen by API key ``viewer``."""
    taker = trade.taker
    return {
        "id": trade.id,
        "taker_order_id": taker.id,
        "market": trade.market.condition_id,
        "asset_id": taker.token.token_id,
        "side": taker.side,
        "size": fmt(trade.size),
        "fee_rate_bps": "0",  # as the venue reports it, even on fee-charged fills
        "price": fmt(taker.price),  # the taker order's limit price, as the venue documents
        "status": rest_status(trade),
        "match_time": str(trade.match_time),
        "last_update": str(trade.last_update or trade.match_time),
        "outcome": taker.token.outcome,
        "bucket_index": 0,
        "owner": taker.owner,
        "maker_address": taker.maker_address,
        "transaction_hash": public_hash(trade),
        "maker_orders": [_maker_json(leg) for leg in trade.makers],
        "trader_side": "TAKER" if taker.owner == viewer else "MAKER",
    }


def _maker_json(leg: MakerLeg) -> dict[str, str]:
    order = leg.order
    return {
        "order_id": order.id,
        "owner": order.owner,
        "maker_address": order.maker_address,
        "matched_amount": fmt(leg.size),
        "price": fmt(leg.price),
        "fee_rate_bps": "0",
        "asset_id": order.token.token_id,
        "outcome": order.token.outcome,
        "side": order.side,
    }


def trade_event(trade: Trade, viewer: str, ts_ms: int) -> dict[str, Any]:
    """User-channel ``trade`` message (re-sent with the same id on every status)."""
    body = trade_json(trade, viewer)
    body.update({"event_type": "trade", "type": "TRADE", "status": trade.status, "trade_owner": viewer,
                 "timestamp": str(ts_ms)})
    return body


class TradeLog:
    """All trades, newest last, plus the settlement status pipeline."""

    def __init__(self, ledger: Ledger, sink: EventSink, rng: random.Random, schedule: Schedule,
                 mined_delay_s: float, confirmed_delay_s: float, fail_rate: float,
                 retrying_rate: float = 0.0, not_broadcasted_rate: float = 0.0) -> None:
        self.ledger = ledger
        self.sink = sink
        self.rng = rng
        self.schedule = schedule
        self.mined_delay_s = mined_delay_s
        self.confirmed_delay_s = confirmed_delay_s
        self.fail_rate = fail_rate
        self.retrying_rate = retrying_rate
        self.not_broadcasted_rate = not_broadcasted_rate
        self.by_id: dict[str, Trade] = {}  # only trades a real (non-internal) account is in
        self.by_owner: dict[str, list[Trade]] = {}
        self.pending: dict[str, Trade] = {}  # not yet CONFIRMED/FAILED
        self.confirmed_listeners: list[Callable[[Trade], None]] = []  # told of each trade once final
        self.matched_listeners: list[Callable[[Trade], None]] = []  # told of each trade as it is matched

    def new(self, market: Market, taker: Order, size: int, makers: list[MakerLeg],
            deltas: list[Delta], fee: int = 0) -> Trade:
        trade_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        trade = Trade(
            id=trade_id, market=market, taker=taker, size=size, makers=makers,
            match_time=int(time.time()), tx_hash="0x" + keccak(text=trade_id).hex(), deltas=deltas, fee=fee,
            will_fail=self._draw(self.fail_rate), will_retry=self._draw(self.retrying_rate),
            not_broadcasted=self._draw(self.not_broadcasted_rate),
        )
        self.pending[trade_id] = trade
        # Agent-vs-agent trades are never queried; keeping them would grow without bound.
        if not (taker.internal and all(leg.order.internal for leg in makers)):
            self.by_id[trade_id] = trade
            for owner in trade.owners():
                self.by_owner.setdefault(owner, []).append(trade)
        self.schedule(self.mined_delay_s, lambda: self._mine(trade))
        for listener in self.matched_listeners:
            listener(trade)
        return trade

    def _draw(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def publish(self, trade: Trade) -> None:
        ts = now_ms()
        for owner in trade.owners():
            self.sink.user(owner, trade.market, trade_event(trade, owner, ts))

    def _set(self, trade: Trade, status: str) -> None:
        trade.status = status
        trade.last_update = int(time.time())
        if status in (CONFIRMED, FAILED):
            self.pending.pop(trade.id, None)
        self.publish(trade)
        if status == CONFIRMED:
            for listener in self.confirmed_listeners:
                listener(trade)

    def _mine(self, trade: Trade) -> None:
        if trade.status not in (MATCHED, RETRYING):
            return
        if trade.will_retry and trade.status == MATCHED:
            # The settlement transaction failed: the operator sends it again (still pending).
            self._set(trade, RETRYING)
            self.schedule(self.mined_delay_s, lambda: self._mine(trade))
            return
        if trade.will_fail:
            self.ledger.reverse(trade.deltas)
            self._set(trade, FAILED)
            return
        self._set(trade, MINED)
        self.schedule(self.confirmed_delay_s, lambda: self._confirm(trade))

    def _confirm(self, trade: Trade) -> None:
        if trade.status == MINED:
            self._set(trade, CONFIRMED)

    def finalize_market(self, market: Market) -> None:
        """Before a market settles, pending trades confirm (resolution is final)."""
        for trade in list(self.pending.values()):
            if trade.market is market:
                trade.will_fail = False
                self._set(trade, CONFIRMED)

    def for_owner(self, owner: str) -> list[Trade]:
        return list(reversed(self.by_owner.get(owner, [])))
