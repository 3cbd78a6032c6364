"""The venue's order rules that the engine and the dashboard both apply: prices on the market's
tick grid (rounded never worse for us), sizes in lots of 0.01 share, the time-in-force values that
take liquidity at once, and Polymarket's V2 taker fee. Pure integer arithmetic on micro-units."""

from __future__ import annotations

from contracts.domain import MICRO, Side, Tif

LOT = 10_000  # sizes travel with 2 decimals: 0.01 share
TICKS = frozenset({100_000, 10_000, 5_000, 2_500, 1_000, 100})  # the venue's tick sizes: 0.1 ... 0.0001
TAKE = frozenset({Tif.FOK, Tif.FAK})


def round_price(price: int, side: Side, tick: int) -> int:
    """Onto the tick grid, never worse for us: buys round down, sells round up."""
    if side is Side.BUY:
        return price - price % tick
    return price if price % tick == 0 else price + tick - price % tick


def round_size(size: int) -> int:
    return max(0, size - size % LOT)


FEE_STEP = 10  # the venue charges fees floored to 5 decimal places of pUSD: 10 micro-units


def taker_fee(price: int, size: int, rate_ppm: int, exponent: int) -> int:
    """Polymarket's V2 taker fee for `size` shares matched at `price` against one maker:
    size * rate * (p * (1 - p)) ** exponent pUSD, floored to 5 decimals, in micro-pUSD.

    Exact integers: the rate is in parts per million and p in micros, so the fee in micros is
    size * ppm * (p * (ONE - p)) ** e / ONE ** (2e + 1). A taker matched against several makers
    pays the sum of this over its legs (each at its own price). Makers pay nothing."""
    if rate_ppm <= 0 or size <= 0 or exponent < 0:
        return 0
    base = price * (MICRO - price)  # p(1-p) scaled by MICRO**2
    exact = rate_ppm * base**exponent * size // (MICRO ** (2 * exponent) * MICRO)
    return exact - exact % FEE_STEP
