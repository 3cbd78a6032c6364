"""The manual ticket's two standing orders, checked as every front end and the engine check them (pure).

**A trailing stop** (`trail` in a `place_order` payload) guards what the manual book holds of one
outcome. It trails the best bid of that outcome's book (the price a sale meets) by `trail`, a distance
in price units (0.05 is five cents: never a fraction of the price). Its high-water mark starts at the
best bid when it is placed and rises with it, never falls; once the best bid is at or below the mark
less the distance, it sells with a fill-and-kill whose limit is the mid less the max slippage, or the
`floor` the operator confirmed when that is higher (it never sells below the floor). It reads fresh
two-sided books only: on a stale or one-sided book the mark does not move and nothing is sold.
`size` sells only that many shares when it fires (none: all the manual book holds of it then).

**An iceberg** (`slice` in a `place_order` payload) is a limit order of `size` shares at `price` that
shows `slice` shares at a time: each slice an ordinary order, the next placed at the same price once the
shown one has filled in full, until the whole is done or cancelled. Every slice must be one the venue
takes (its minimum order and lot) and one the risk gate takes (the min order value), the last one
included, so a total that would end in a slice below the minimum is refused when it is placed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.domain import MICRO, Book, MarketInfo, Outcome, Side, Tif, fmt
from contracts.ticket import Ticket, TicketError, _amount, _enum, _on_grid, _probability, parse_ticket
from contracts.venue_policies import policy_for_market

TRAIL, FLOOR, SLICE = "trail", "floor", "slice"  # the payload keys that make a ticket a standing order
TRAIL_ONLY = ("condition_id", "outcome", "side", "size", TRAIL, FLOOR, "reason")  # what a trailing stop takes


def is_trailing_stop(payload: dict[str, Any]) -> bool:
    return payload.get(TRAIL) is not None


def is_iceberg(payload: dict[str, Any]) -> bool:
    return payload.get(SLICE) is not None


@dataclass(frozen=True)
class TrailTicket:
    condition_id: str
    outcome: Outcome
    distance: int  # micro-probability below the high-water mark at which it sells
    floor: int | None  # the lowest price its sale accepts (None: the mid less the max slippage when it fires)
    size: int | None  # shares it sells when it fires (None: all the manual book holds of the outcome then)


@dataclass(frozen=True)
class TrailPreview:
    high_water: int  # the best bid it starts from
    stop: int  # it sells once the best bid is at or below this
    shares: int  # what it would sell now
    floor: int | None


@dataclass(frozen=True)
class IcebergTicket:
    order: Ticket  # the whole: its size is the total, its price the limit every slice rests at
    slice: int  # shares shown at once


def parse_trail(payload: dict[str, Any]) -> TrailTicket:
    """A trailing stop from a `place_order` payload; TicketError names the field to fix."""
    extra = sorted(k for k, v in payload.items() if k not in TRAIL_ONLY and v not in (None, False, "", "GTC"))
    if extra:
        raise TicketError(extra[0], "a trailing stop takes no limit price, slippage, time in force or slice: it "
                                    "sells with a fill-and-kill when crossed (give `floor` for the lowest price)")
    if _enum(Side, payload.get("side", "SELL"), "side") is not Side.SELL:
        raise TicketError("side", "a trailing stop sells what the manual book holds: side SELL")
    distance = _probability(payload.get(TRAIL), TRAIL)
    assert distance is not None  # (present: is_trailing_stop)
    return TrailTicket(str(payload.get("condition_id")), _enum(Outcome, payload.get("outcome"), "outcome"), distance,
                       _probability(payload.get(FLOOR), FLOOR), _amount(payload.get("size"), "size"))


def trail_preview(trail: TrailTicket, market: MarketInfo, book: Book | None, held: int) -> TrailPreview:
    """What the trailing stop starts from against `book` (the outcome's own), with `held` settled shares of it
    in the manual book. Raises TicketError when it cannot guard anything."""
    if held <= 0:
        raise TicketError("outcome", "the manual book holds no settled shares of this outcome: a trailing stop "
                                     "guards what it holds (buy first)")
    if trail.size is not None and trail.size > held:
        raise TicketError("size", f"the manual book holds {fmt(held)} settled shares of this outcome: a trailing "
                                  "stop sells at most that")
    shares = held if trail.size is None else trail.size
    if shares < market.min_size:
        raise TicketError("size", f"{fmt(shares)} shares is below the market's minimum order of "
                                  f"{fmt(market.min_size)}: no sale could act on it")
    if 0 < held - shares < market.min_size:
        raise TicketError("size", f"it would leave {fmt(held - shares)} shares held, below the market's minimum "
                                  f"order of {fmt(market.min_size)} (dust no sale could act on): sell all "
                                  f"{fmt(held)}, or leave at least {fmt(market.min_size)}")
    if trail.distance < market.tick or trail.distance % market.tick:
        raise TicketError(TRAIL, f"{fmt(trail.distance)} must be a whole number of this market's {fmt(market.tick)} "
                                 "ticks, at least one (a distance in price units, e.g. 0.05)")
    if book is None or book.best_bid is None or book.best_ask is None:
        raise TicketError(TRAIL, "no two-sided book for this outcome now: a trailing stop starts from the best bid, "
                                 "and reads two-sided books only")
    high = book.best_bid.price
    stop = high - trail.distance
    if stop < market.tick:
        raise TicketError(TRAIL, f"the best bid is {fmt(high)}: {fmt(trail.distance)} below it is under the "
                                 "lowest price, so it could never fire")
    if trail.floor is not None:
        if trail.floor < market.tick:
            raise TicketError(FLOOR, f"must be at least the market's tick of {fmt(market.tick)} (leave it out for "
                                     "none)")
        floor = _on_grid(trail.floor, market.tick)
        if floor > stop:
            raise TicketError(FLOOR, f"{fmt(floor)} is above where it fires ({fmt(stop)}, the best bid {fmt(high)} "
                                     f"less {fmt(trail.distance)}): once crossed it could not sell")
    return TrailPreview(high, stop, shares, trail.floor)


def parse_iceberg(payload: dict[str, Any], *, now_s: int) -> IcebergTicket:
    """An iceberg from a `place_order` payload: the whole as a ticket, and its slice."""
    for key in ("slippage", "size_usdc", TRAIL, FLOOR):
        if payload.get(key) is not None:
            raise TicketError(key, "an iceberg is a limit order: give size (the whole, in shares), price and slice")
    order = parse_ticket(payload, now_s=now_s)
    if order.tif is not Tif.GTC:
        raise TicketError("tif", "an iceberg's slices rest until filled: GTC only")
    shown = _amount(payload.get(SLICE), SLICE)
    assert shown is not None  # (present: is_iceberg)
    if order.size is not None and shown > order.size:
        raise TicketError(SLICE, f"{fmt(shown)} shares is more than the whole ({fmt(order.size)}): the slice is "
                                 "the part shown at once")
    return IcebergTicket(order, shown)


def slice_problem(shown: int, total: int, side: Side, price: int, market: MarketInfo, min_value: int) -> str | None:
    """Why an iceberg of `total` shares at `price` (the outcome's token), shown `shown` at a time, has a slice
    the venue or the risk gate would refuse (its last one included); None when every slice is legal.
    `min_value`: the risk gate's min order value (micro-pUSD). A BUY's slice may trade on arrival, so it is held
    to the venue's minimum for a marketable buy too."""
    policy = policy_for_market(market.condition_id)
    rest = total % shown
    for size, which in ((shown, "a slice"), (rest, "the last slice")):
        if size == 0:
            continue
        if size < market.min_size:
            return (f"{which} would be {fmt(size)} shares, below the market's minimum order of "
                    f"{fmt(market.min_size)}" + (": make the whole a multiple of the slice, or leave at least the "
                                                 "minimum for the last" if size == rest else ""))
        if size % policy.lot:
            return f"{which} would be {fmt(size)} shares, off {policy.label}'s lot of {fmt(policy.lot)}"
        value = price * size // MICRO
        if value < min_value:
            return (f"{which} of {fmt(size)} shares at {fmt(price)} is worth {fmt(value)}, below the min order "
                    f"value of {fmt(min_value)} (Risk page) that the risk gate refuses")
        if side is Side.BUY and value < policy.min_marketable_buy:
            return (f"{which} of {fmt(size)} shares at {fmt(price)} is worth {fmt(value)}: {policy.label} refuses a "
                    f"buy worth under {fmt(policy.min_marketable_buy)} that trades on arrival")
    return None


def slices(total: int, shown: int) -> int:
    """How many slices the whole is placed in."""
    return -(-total // shown)
