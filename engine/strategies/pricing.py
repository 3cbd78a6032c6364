"""Integer price arithmetic shared by the strategies: tick grid, fees, fair values.

Everything is in micro-units (contracts.domain). Rounding always favours the passive side or the
conservative estimate: bids round down, asks round up, fees round up.
"""

from __future__ import annotations

from contracts.domain import ONE, Book, MarketInfo


def floor_tick(price: int, tick: int) -> int:
    """The highest grid price at or below `price` (how a bid is rounded)."""
    return (price // tick) * tick


def ceil_tick(price: int, tick: int) -> int:
    """The lowest grid price at or above `price` (how an ask is rounded)."""
    return -((-price) // tick) * tick


def on_grid_inside(price: int, tick: int) -> bool:
    """True for a price the venue accepts for a resting order: on the grid, within [tick, 1-tick]."""
    return price % tick == 0 and tick <= price <= ONE - tick


def inside_unit(price: int) -> bool:
    """Strictly between 0 and 1: the only prices a strategy may ever emit."""
    return 0 < price < ONE


def mul_div(a: int, b: int, d: int) -> int:
    """a * b / d truncated toward zero, so a skew is symmetric for long and short positions."""
    q = abs(a * b) // d
    return q if (a >= 0) == (b >= 0) else -q


def taker_fee(price: int, info: MarketInfo) -> int:
    """Taker fee per share in micro-pUSD: rate * (p * (1 - p)) ** exponent, rounded up.

    `fee_rate_ppm` is the rate in parts per million, so with p in micros the exact fee in
    micro-pUSD is ppm * (p * (ONE - p)) ** e / ONE ** (2 e). Makers pay nothing.
    """
    if info.fee_rate_ppm <= 0 or not 0 <= price <= ONE:
        return 0
    e = max(info.fee_exponent, 0)
    numerator: int = info.fee_rate_ppm * (price * (ONE - price)) ** e
    denominator: int = ONE ** (2 * e)
    return -((-numerator) // denominator)


def microprice(book: Book) -> int | None:
    """Touch prices weighted by the opposite side's size: a heavy bid pulls the price up.

    (bid * ask_size + ask * bid_size) / (bid_size + ask_size), rounded down; None unless both
    sides exist with positive size.
    """
    bid, ask = book.best_bid, book.best_ask
    if bid is None or ask is None or bid.size + ask.size <= 0:
        return None
    return (bid.price * ask.size + ask.price * bid.size) // (bid.size + ask.size)
