"""What the paper venue refuses, as the venue refuses it (with its messages, in its order), and how
a stored paper trade reads back: pure rules, apart from the paper venue's state
(engine/venues/paper.py). Each venue's own checks and fees are its `PaperRules`, in its package
(engine/venues/<venue>/paper_rules.py), which its adapter names (engine/venues/registry.py); what
every venue shares is here. tests/venues/test_paper_refusal_parity.py holds each rule to the
venue's (the simulator's) refusal of the same order."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from contracts.domain import MICRO, Book, MarketInfo, Side
from contracts.venue_rules import TAKE
from engine.venues import paper_fills as fills
from engine.venues.base import OrderRequest, TradeStatus, VenueTrade

INVALID_PAYLOAD = "Invalid order payload"  # the venue's answer for a token it has no market for
NOT_READY = "the market is not yet ready to process new orders"
POST_ONLY_TAKE = "invalid post-only order: only GTC and GTD order types are allowed"
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = ("no orders found to match with FAK order. FAK orders are partially filled or killed if no match "
                "is found.")
CENT = 10_000  # a fill-and-kill BUY spends whole cents (the signed maker amount has 2 decimals)


@dataclass(frozen=True, slots=True)
class Wallet:
    """What the paper wallet can put behind one order: the token's shares and the cash, each with
    what its resting orders already hold (resting SELLs the shares, resting BUYs the cash)."""

    shares: int = 0
    shares_held: int = 0
    cash: int = 0
    cash_held: int = 0


class PaperRules(Protocol):
    """A venue's rules as its paper stand-in applies them (its adapter's `paper`)."""

    # Its settlement pays the paper wallet rebates and rewards too (engine/venues/paper_wallet.py).
    credits_rebates: bool

    def refusal(self, req: OrderRequest, market: MarketInfo, now_s: int, wallet: Wallet) -> str | None:
        """The venue's checks of the order's own terms: the message it refuses `req` with, or None."""
        ...

    def book_refusal(self, req: OrderRequest, reachable: int, fee: int, wallet: Wallet) -> str | None:
        """The venue's checks against the book as it is (`reachable`: the shares the book offers at the
        order's price; `fee`: what taking them would cost)."""
        ...

    def fill_fee(self, market: MarketInfo | None, price: int, size: int, liquidity: str, at_ms: int) -> int:
        """What the venue charges on one fill at `at_ms`."""
        ...

    def reported_fee(self, conn: Connection, venue_order_id: str, buy: bool, market: MarketInfo | None,
                     price: int, size: int, fee: int) -> int:
        """The fee the venue reports for a fill of the order whose trade fee is `fee` (an order's own
        rounding, where the venue keeps one)."""
        ...

    def batch_size(self, kind: str, items: int) -> int:
        """How many of `items` orders go in one request (`kind`: batch_create or batch_cancel)."""
        ...


def refusal(rules: PaperRules, req: OrderRequest, market: MarketInfo | None, now_s: int,
            wallet: Wallet) -> str | None:
    """`rules`' refusal of `req`; a token the venue lists no market for is refused as every venue does."""
    return INVALID_PAYLOAD if market is None else rules.refusal(req, market, now_s, wallet)


def taker_fee(rules: PaperRules, book: Book | None, req: OrderRequest, market: MarketInfo | None,
              consumed: fills.Consumed, now_ms: int) -> int:
    """The taker fee a BUY would pay on what it takes from `book` now (its cash must cover it)."""
    if book is None or market is None or req.side is Side.SELL or req.post_only:
        return 0
    preview = fills.walk(book, req.side, req.price, req.size, fills.Consumed(dict(consumed.taken)))
    return sum(rules.fill_fee(market, e.price, e.size, "TAKER", now_ms) for e in preview)


def buy_cost(req: OrderRequest) -> int:
    """What a BUY puts up: its notional (rounded up, as the venue holds it), or for a
    fill-and-kill the whole cents it was signed to spend."""
    exact = req.size * req.price
    if req.tif in TAKE:
        cash = exact // MICRO
        return cash - cash % CENT
    return -(-exact // MICRO)


def short(balance: int, held: int, need: int) -> str:
    return ("not enough balance / allowance: the balance is not enough -> "
            f"balance: {balance}, sum of active orders: {held}, order amount: {need}")


def crosses(best_bid: int | None, best_ask: int | None, side: Side, price: int) -> bool:
    """Whether the other side's best price reaches `price`: only then can an order take
    anything (the deep copy of the book a walk needs is made only then)."""
    if side is Side.BUY:
        return best_ask is not None and best_ask <= price
    return best_bid is not None and best_bid >= price


def settlement_fails(seed: int, fail_rate: float, trade_id: str) -> bool:
    """Whether a trade's settlement fails: seeded per trade, so replays agree."""
    return fail_rate > 0 and random.Random(f"{seed}:{trade_id}").random() < fail_rate


def trade_from_row(row: Mapping[str, Any] | sqlite3.Row, market: MarketInfo | None) -> VenueTrade:
    return VenueTrade(row["trade_id"], row["venue_order_id"], market.condition_id if market else "",
                      row["token_id"], Side(row["side"]), row["price"], row["size"], row["fee"],
                      TradeStatus(row["status"]), row["liquidity"], row["matched_at"])
