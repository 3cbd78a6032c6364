"""Liquidity-reward scoring, as Polymarket publishes it ("Liquidity Rewards", docs.polymarket.com).

Pure functions over one market's resting orders in the canonical YES price space (book.py):
a BUY YES at p and a SELL NO at 1-p are both bids at p, so the docs' two "sides" are

- Q_one = bids on YES + asks on NO = the YES-space bids here,
- Q_two = asks on YES + bids on NO = the YES-space asks here.

Per sample, for each maker:

1. every order of at least ``min_size`` shares whose distance ``s`` from the size-cutoff-adjusted
   midpoint is below the max spread ``v`` scores ``S(v, s) = ((v - s) / v) ** 2`` per share
   (the in-game multiplier ``b`` is 1 here);
2. Q_min = max(min(Q_one, Q_two), max(Q_one, Q_two) / c) with c = 3 while the midpoint is within
   [0.10, 0.90] (one-sided quotes still score, at a third), and min(Q_one, Q_two) outside it
   (only two-sided quotes score near the extremes);
3. a maker's share of the sample is Q_min / (sum of every maker's Q_min), here floored to
   parts per 10^12 so that a day adds up in exact integers.

A day's shares are summed per maker (Q_epoch) and the market's daily pool is paid in
proportion (Q_final), floored to a micro-unit. The size-cutoff-adjusted midpoint is read here
as the midpoint of the first bid and ask prices at which the depth counted from the top of
each side reaches ``min_size`` (so dust at the top of the book cannot move it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

BID, ASK = "bid", "ask"
ONE = 1_000_000
SCALING_C = 3
TWO_SIDED_LOW, TWO_SIDED_HIGH = 100_000, 900_000  # midpoint band where one-sided quotes score / c
SHARE_SCALE = 10**12  # a sample's shares are integers in parts of this


@dataclass(frozen=True)
class Quote:
    """One resting order as the scorer sees it (YES space, micro-units)."""

    order_id: str
    maker: str
    yes_side: str  # BID or ASK
    price: int  # micro-pUSD per share, YES space
    size: int  # micro-shares still resting


def adjusted_midpoint(quotes: Iterable[Quote], min_size: int) -> int | None:
    """Midpoint of the prices where each side's depth from the top reaches ``min_size`` (None
    when either side is thinner than that), floored to a micro-unit."""
    bids = sorted((q for q in quotes if q.yes_side == BID), key=lambda q: -q.price)
    asks = sorted((q for q in quotes if q.yes_side == ASK), key=lambda q: q.price)
    bid, ask = _cutoff_price(bids, min_size), _cutoff_price(asks, min_size)
    if bid is None or ask is None:
        return None
    return (bid + ask) // 2


def _cutoff_price(side: list[Quote], min_size: int) -> int | None:
    depth = 0
    for quote in side:
        depth += quote.size
        if depth >= max(min_size, 1):
            return quote.price
    return None


def order_score(max_spread: int, spread: int) -> Fraction:
    """S(v, s) per share: 1 at the midpoint, falling quadratically to 0 at the max spread."""
    if spread >= max_spread:
        return Fraction(0)
    return Fraction((max_spread - spread) ** 2, max_spread ** 2)


def scores_now(quote: Quote, mid: int | None, max_spread: int, min_size: int) -> bool:
    """Whether an order earns anything at this sample: big enough and inside the max spread."""
    return mid is not None and quote.size >= min_size and abs(quote.price - mid) < max_spread


def maker_q_min(quotes: Iterable[Quote], max_spread: int, min_size: int) -> dict[str, Fraction]:
    """Each maker's Q_min for one sample of one market (makers scoring nothing are left out)."""
    book = list(quotes)
    mid = adjusted_midpoint(book, min_size)
    if mid is None:
        return {}
    sides: dict[str, list[Fraction]] = {}
    for quote in book:
        if not scores_now(quote, mid, max_spread, min_size):
            continue
        q = sides.setdefault(quote.maker, [Fraction(0), Fraction(0)])
        q[0 if quote.yes_side == BID else 1] += order_score(max_spread, abs(quote.price - mid)) * quote.size
    out = {}
    for maker, (q_one, q_two) in sides.items():
        if TWO_SIDED_LOW <= mid <= TWO_SIDED_HIGH:
            q_min = max(min(q_one, q_two), max(q_one, q_two) / SCALING_C)
        else:
            q_min = min(q_one, q_two)
        if q_min > 0:
            out[maker] = q_min
    return out


def sample_shares(quotes: Iterable[Quote], max_spread: int, min_size: int) -> dict[str, int]:
    """Q_normal of one sample per maker, in parts of SHARE_SCALE (floored)."""
    q_min = maker_q_min(quotes, max_spread, min_size)
    total = sum(q_min.values())
    if not total:
        return {}
    return {maker: int(q * SHARE_SCALE / total) for maker, q in q_min.items()}


def day_payouts(daily_pool: int, epoch: Mapping[str, int]) -> dict[str, int]:
    """The pool split by each maker's Q_epoch (sum of its sample shares), floored to micro-pUSD."""
    total = sum(epoch.values())
    if not total or daily_pool <= 0:
        return {}
    return {maker: daily_pool * q // total for maker, q in epoch.items() if q > 0}
