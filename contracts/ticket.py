"""The manual order ticket: an operator's own order, checked like a strategy's quote.

A ticket names a market, an outcome (the token), a side, a size in shares (or, for a
marketable BUY, in pUSD), a limit price or a slippage cap (marketable), a time in force
(GTC, GTD with an expiry, FOK, FAK) and post-only. `preview` is pure: the dashboard shows it
before the operator confirms, and the engine recomputes it from its own book when the
`place_order` command arrives. The order then passes the same risk gate and planner as a
strategy's quote, in the `manual` book.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contracts.domain import (
    MICRO,
    ONE,
    BadNumber,
    Book,
    Level,
    MarketInfo,
    NotFinite,
    Outcome,
    OutOfRange,
    Quote,
    Side,
    Tif,
    complement,
    fmt,
    notional,
    read_decimal,
    to_micros,
)
from contracts.expiry import expiry_problem
from contracts.market_rows import resolution_trail
from contracts.protocol_v2 import PROTOCOL_V2
from contracts.venue_rules import TAKE, round_price, round_size, taker_fee

MANUAL = "manual"  # the book manual orders are booked to
MAX_AMOUNT = Decimal(1_000_000_000)  # shares or pUSD in one ticket: far above any real order
CENTS = Decimal("0.01")  # sizes travel with 2 decimals
PROBABILITY_STEP = Decimal("0.000001")  # prices and slippage: micro-units
HALF = ONE // 2


class TicketError(ValueError):
    """A ticket that cannot be placed as written; `field` names what to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Ticket:
    condition_id: str
    outcome: Outcome
    side: Side
    tif: Tif
    post_only: bool
    size: int | None  # micro-shares
    size_usdc: int | None  # micro-pUSD: a marketable BUY sized by what it spends
    price: int | None  # a limit price in the outcome's own token (micro)
    slippage: int | None  # marketable: how far past the touch it may go (micro)
    expires_at_s: int = 0  # GTD only

    @property
    def marketable(self) -> bool:
        return self.price is None


@dataclass(frozen=True)
class Preview:
    price: int  # the limit the order goes out at (token space)
    size: int  # shares
    cost: int  # micro-pUSD the order moves at its limit (paid for a BUY, received for a SELL)
    fee: int  # the taker fee for what the book shows it would take at once (0 for a resting or post-only order)
    crosses: bool  # whether it would trade on arrival (False when there is no book to tell)
    resulting_shares: int  # the manual book's shares of this token once it fills in full
    notes: tuple[str, ...] = ()
    max_fee: int = 0  # the taker fee if all of it took liquidity (0 for post-only): the worst case


def parse_ticket(payload: dict[str, Any], *, now_s: int) -> Ticket:
    """A ticket from a `place_order` payload (types already checked by its schema)."""
    outcome = _enum(Outcome, payload.get("outcome"), "outcome")
    side = _enum(Side, payload.get("side"), "side")
    tif = _enum(Tif, payload.get("tif", "GTC"), "tif")
    post_only = bool(payload.get("post_only", False))
    size = _amount(payload.get("size"), "size")
    size_usdc = _amount(payload.get("size_usdc"), "size_usdc")
    price = _probability(payload.get("price"), "price")
    slippage = _probability(payload.get("slippage"), "slippage")
    if (size is None) == (size_usdc is None):
        raise TicketError("size", "give either size (shares) or size_usdc (pUSD, a marketable BUY only)")
    if size_usdc is not None and (side is not Side.BUY or price is not None):
        raise TicketError("size_usdc", "only a marketable BUY (no limit price) is sized in pUSD")
    if (price is None) == (slippage is None):
        raise TicketError("price", "give either price (a limit) or slippage (marketable, a cap past the touch)")
    if post_only and (tif in TAKE or price is None):
        raise TicketError("post_only", "post-only needs a GTC or GTD limit order")
    expires = _expiry(payload.get("expires_at"), tif, now_s)
    return Ticket(str(payload.get("condition_id")), outcome, side, tif, post_only, size, size_usdc, price, slippage,
                  expires)


def _expiry(raw: Any, tif: Tif, now_s: int) -> int:
    if tif is not Tif.GTD:
        if raw not in (None, 0):
            raise TicketError("expires_at", "only a GTD order takes an expiry")
        return 0
    if raw is None:
        raise TicketError("expires_at", "a GTD order needs an expiry (unix seconds)")
    problem = expiry_problem(raw, now_s)
    if problem is not None:
        raise TicketError("expires_at", problem)
    return int(raw)


def preview(ticket: Ticket, market: MarketInfo, book: Book | None, held: int,
            max_slippage: int | None = None) -> Preview:
    """What the ticket would do against `book` (the ticket's own token), from `held` shares
    of that token in the manual book. Raises TicketError when it cannot be placed, including
    (given `max_slippage`, the risk limit) when it would trade on arrival at a price further
    than that from the mid: the risk gate refuses that whatever the time in force."""
    tick = market.tick
    touch = _touch(ticket.side, book)
    if ticket.marketable:
        if book is None:
            raise TicketError("slippage", "no book for this outcome yet, so a marketable order has no price: "
                                          "give a limit price")
        if touch is None:
            raise TicketError("slippage", "no opposite side in the book to take: use a limit price")
        slippage = ticket.slippage or 0  # set whenever the ticket is marketable (parse_ticket asks for one)
        raw = touch + slippage if ticket.side is Side.BUY else touch - slippage
        price = round_price(min(max(raw, tick), ONE - tick), ticket.side, tick)
    else:
        price = _on_grid(ticket.price or 0, tick)
    if not tick <= price <= ONE - tick:
        raise TicketError("price", f"must be within [{fmt(tick)}, {fmt(ONE - tick)}] on the {fmt(tick)} grid")
    size = ticket.size if ticket.size is not None else round_size((ticket.size_usdc or 0) * MICRO // price)
    if size < market.min_size:
        raise TicketError("size", f"{fmt(size)} shares is below the market's minimum of {fmt(market.min_size)}")
    if ticket.side is Side.SELL and size > held:
        raise TicketError("size", f"the manual book holds {fmt(held)} settled shares of this outcome: sell at "
                                  "most that (a strategy's holdings are sold with flatten)")
    crosses = touch is not None and (price >= touch if ticket.side is Side.BUY else price <= touch)
    if crosses and not ticket.post_only and max_slippage is not None and book is not None:
        _check_slippage(price, book, max_slippage)
    notes = []
    if ticket.post_only and crosses:
        notes.append("post-only at this price would cross the book: the venue refuses it")
    if ticket.tif is Tif.FOK and crosses and _reachable(ticket.side, book, price) < size:
        notes.append("not enough in the book at this price: a FOK would be refused")
    fee = 0 if ticket.post_only or not crosses else _walk_fee(ticket.side, book, price, size, market)
    max_fee = 0 if ticket.post_only else taker_fee(_costliest(ticket.side, price), size, market.fee_rate_ppm,
                                                   market.fee_exponent)
    if not market.fees_known:
        notes.append("the market's fee schedule is not known yet: the fee shown may be low")
    shares = held + size if ticket.side is Side.BUY else held - size
    return Preview(price, size, notional(price, size), fee, crosses, shares, tuple(notes), max_fee)


def as_quote(ticket: Ticket, placed: Preview) -> Quote:
    """The ticket as a YES-space quote, which is what the risk gate and the planner read: a
    NO order at q is the opposite YES order at 1 - q."""
    yes = ticket.outcome is Outcome.YES
    side = ticket.side if yes else ticket.side.opposite
    price = placed.price if yes else complement(placed.price)
    return Quote(side, price, placed.size, ticket.tif, ticket.post_only, ticket.expires_at_s)


def _on_grid(price: int, tick: int) -> int:
    """A limit price as given, or refused when it is off the market's grid: rounding it would
    place an order at a price the operator never typed."""
    if price % tick:
        below = price - price % tick
        near = " or ".join(fmt(p) for p in (below, below + tick) if tick <= p <= ONE - tick)
        raise TicketError("price", f"{fmt(price)} is not on this market's {fmt(tick)} tick grid"
                                   + (f": use {near}" if near else ""))
    return price


def _check_slippage(price: int, book: Book, max_slippage: int) -> None:
    mid = book.mid
    if mid is None:
        raise TicketError("price", "it would trade on arrival, but the book has no mid to check the max slippage "
                                   "against: use a price that rests, or wait for a two-sided book")
    if abs(price - mid) > max_slippage:
        raise TicketError("price", f"{fmt(price)} would trade on arrival {fmt(abs(price - mid))} from the mid "
                                   f"{fmt(mid)}, past the max slippage of {fmt(max_slippage)} (Risk page): "
                                   "bring the price closer to the mid")


def _walk_fee(side: Side, book: Book | None, price: int, size: int, market: MarketInfo) -> int:
    """The taker fee the venue charges for what takes liquidity at once: each level of the book
    the order reaches, at that level's own price (the fee depends on the execution price, not
    on the limit: a BUY limited at 0.99 that takes asks at 0.50 pays the fee of 0.50)."""
    fee, left = 0, size
    for level in () if book is None else (book.asks if side is Side.BUY else book.bids):
        if left <= 0 or (level.price > price if side is Side.BUY else level.price < price):
            break
        taken = min(left, level.size)
        fee += taker_fee(level.price, taken, market.fee_rate_ppm, market.fee_exponent)
        left -= taken
    return fee


def _costliest(side: Side, price: int) -> int:
    """The execution price within the limit at which the taker fee per share is highest: the
    fee grows toward 0.5, and a BUY executes at or below its limit, a SELL at or above."""
    return min(price, HALF) if side is Side.BUY else max(price, HALF)


def _touch(side: Side, book: Book | None) -> int | None:
    level = None if book is None else (book.best_ask if side is Side.BUY else book.best_bid)
    return None if level is None else level.price


def _reachable(side: Side, book: Book | None, price: int) -> int:
    if book is None:
        return 0
    levels = book.asks if side is Side.BUY else book.bids
    return sum(lv.size for lv in levels if (lv.price <= price if side is Side.BUY else lv.price >= price))


def _enum(kind: Any, raw: Any, field: str) -> Any:
    try:
        return kind(str(raw).upper())
    except ValueError:
        raise TicketError(field, f"must be one of {', '.join(v.value for v in kind)}") from None


def _decimal(raw: Any, field: str) -> Decimal | None:
    if raw is None:
        return None
    try:  # bounded before any arithmetic: "1e999999" or a thousand digits is refused by name
        value = read_decimal(raw if isinstance(raw, int | float | Decimal) else str(raw))
    except NotFinite:
        raise TicketError(field, "must be a positive number") from None
    except OutOfRange as exc:
        raise TicketError(field, f"{_shown(raw)} is too large" if exc.large else
                          f"{_shown(raw)} has too many decimal places") from None
    except BadNumber:
        raise TicketError(field, f"{_shown(raw)} is not a number") from None
    if value <= 0:
        raise TicketError(field, "must be a positive number")
    return value


def _amount(raw: Any, field: str) -> int | None:
    """Shares or pUSD: the venue takes both with 2 decimals. Bounded before any arithmetic:
    1e999999 or 10**30 is refused by name, never an overflow."""
    value = _decimal(raw, field)
    if value is None:
        return None
    if value > MAX_AMOUNT:
        raise TicketError(field, f"{_shown(raw)} is too large: at most {MAX_AMOUNT:,}")
    if value % CENTS:
        raise TicketError(field, f"{_shown(raw)} has more than 2 decimal places")
    return int(value * MICRO)


def _probability(raw: Any, field: str) -> int | None:
    value = _decimal(raw, field)
    if value is None:
        return None
    if value >= 1:
        raise TicketError(field, f"{_shown(raw)} is not a probability: it must be below 1")
    if value % PROBABILITY_STEP:
        raise TicketError(field, f"{_shown(raw)} has more than 6 decimal places")
    return int(value * MICRO)


def _shown(raw: Any) -> str:
    text = str(raw)
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} characters)"


# -- what the dashboard reads, as the preview takes it ----------------------------------------------


def market_for_ticket(row: Mapping[str, Any]) -> MarketInfo:
    """A `markets` row (micro-units, as stored) as the preview takes it."""
    return MarketInfo(
        condition_id=row["condition_id"], question=row["question"], yes_token=row["yes_token"],
        no_token=row["no_token"], tick=int(row["tick"]), min_size=int(row["min_size"]), neg_risk=bool(row["neg_risk"]),
        neg_risk_market_id=row["neg_risk_market_id"], end_ms=row["end_at"], fee_rate_ppm=int(row["fee_rate_ppm"] or 0),
        fee_exponent=int(row["fee_exponent"] or 1), tradable=bool(row["tradable"]),
        accepting_orders=bool(row["accepting_orders"]), closed=bool(row["closed"]), slug=row["slug"],
        tags=tuple(json.loads(row["tags"] or "[]")), fees_known=row.get("fees_at") is not None,
        protocol_v2=row.get("gamma_version") == PROTOCOL_V2, resolution_status=row.get("resolution_status") or "",
        resolution_history=resolution_trail(row.get("resolution_history")),
    )


def book_for_ticket(token_id: str, bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]],
                    at_ms: int) -> Book:
    """A recorded book (levels best first, as probability and shares) as the preview takes it."""
    def levels(side: Sequence[tuple[float, float]]) -> tuple[Level, ...]:
        return tuple(Level(to_micros(price), to_micros(size)) for price, size in side)

    return Book(token_id, levels(bids), levels(asks), at_ms)
