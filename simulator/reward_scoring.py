"""How the venue scores resting liquidity for its daily rewards, read from Polymarket's "Liquidity
Rewards" documentation and written here for the simulator's own book. The desk estimates the same
thing its own way (contracts/reward_scoring.py); the two are kept apart on purpose, so a
misreading in one shows up as a difference against the other instead of passing both.

What the documentation describes, for one market at one (once a minute) sample:

- The midpoint after a size cutoff: each side of the book is walked from its best price until the
  resting size reaches the program's minimum size; the midpoint is halfway between the two prices
  reached (floored to a micro-unit). With a side too thin to reach it, nothing scores.
- An order scores if it rests at least the minimum size strictly inside the max spread ``v`` of
  that midpoint: ``((v - s) / v) ** 2`` per share, ``s`` its distance from the midpoint.
- Each maker has two sums: its bids in YES terms (YES bids, NO asks) and its asks in YES terms
  (YES asks, NO bids). Its sample score is the smaller sum; while the midpoint lies in
  [0.10, 0.90], a one-sided maker may instead keep a third of its larger sum (c = 3).
- Each sample is shared among makers in proportion to their scores (kept as integer parts per
  10^12 so a day adds exactly); the day's pool is split by the day's summed parts, floored to a
  micro-unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from .orders import BID, Order

MICRO = 1_000_000
ONE_SIDED_DIVISOR = 3  # the documentation's c
ONE_SIDED_BAND = (100_000, 900_000)  # midpoints (micro-pUSD) at which one-sided quotes still score
PARTS = 10**12  # a sample's split, in integer parts


def _reach(prices_and_sizes: list[tuple[int, int]], min_size: int) -> int | None:
    """The price at which depth walked from the best reaches `min_size` (at least one unit)."""
    needed, seen = max(min_size, 1), 0
    for price, size in prices_and_sizes:
        seen += size
        if seen >= needed:
            return price
    return None


def cutoff_midpoint(orders: Iterable[Order], min_size: int) -> int | None:
    """The size-cutoff midpoint of a book's resting orders (micro-pUSD), or None."""
    bids: list[tuple[int, int]] = []
    asks: list[tuple[int, int]] = []
    for order in orders:
        (bids if order.yes_side == BID else asks).append((order.yes_price, order.remaining))
    bids.sort(key=lambda level: level[0], reverse=True)
    asks.sort(key=lambda level: level[0])
    high, low = _reach(bids, min_size), _reach(asks, min_size)
    return None if high is None or low is None else (high + low) // 2


def earns(order: Order, midpoint: int | None, max_spread: int, min_size: int) -> bool:
    """Whether the order scores at this sample (big enough, strictly inside the max spread)."""
    if midpoint is None or order.remaining < min_size:
        return False
    return abs(order.yes_price - midpoint) < max_spread


def _per_share(max_spread: int, distance: int) -> Fraction:
    gap = max_spread - distance
    return Fraction(gap * gap, max_spread * max_spread)


def _combined(bid_side: Fraction, ask_side: Fraction, midpoint: int) -> Fraction:
    smaller, larger = sorted((bid_side, ask_side))
    low, high = ONE_SIDED_BAND
    if low <= midpoint <= high:
        return max(smaller, larger / ONE_SIDED_DIVISOR)
    return smaller


def maker_scores(orders: Iterable[Order], max_spread: int, min_size: int) -> dict[str, Fraction]:
    """Each scoring maker's sample score (lower-cased address -> score); others left out."""
    resting = list(orders)
    midpoint = cutoff_midpoint(resting, min_size)
    if midpoint is None:
        return {}
    sums: dict[str, dict[str, Fraction]] = {}
    for order in resting:
        if earns(order, midpoint, max_spread, min_size):
            per_maker = sums.setdefault(order.maker_address.lower(), {})
            side = "bids" if order.yes_side == BID else "asks"
            earned = _per_share(max_spread, abs(order.yes_price - midpoint)) * order.remaining
            per_maker[side] = per_maker.get(side, Fraction(0)) + earned
    scores = {maker: _combined(s.get("bids", Fraction(0)), s.get("asks", Fraction(0)), midpoint)
              for maker, s in sums.items()}
    return {maker: score for maker, score in scores.items() if score > 0}


def sample_parts(orders: Iterable[Order], max_spread: int, min_size: int) -> dict[str, int]:
    """One sample split among its makers, in parts of PARTS (floored)."""
    scores = maker_scores(orders, max_spread, min_size)
    whole = sum(scores.values(), Fraction(0))
    if whole == 0:
        return {}
    return {maker: score * PARTS // whole for maker, score in scores.items()}


def split_pool(daily_pool: int, day_parts: Mapping[str, int]) -> dict[str, int]:
    """The day's pool (micro-pUSD) split by each maker's summed parts, floored."""
    whole = sum(day_parts.values())
    if daily_pool <= 0 or whole == 0:
        return {}
    return {maker: daily_pool * parts // whole for maker, parts in day_parts.items() if parts > 0}
