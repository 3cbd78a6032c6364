"""Taker fees (CLOB V2): who pays, how much, and each market's fee parameters.

Per match leg (one taker order against one maker order) the taker pays
``shares * r * (p * (1 - p)) ** e`` pUSD, ``p`` being that leg's execution price,
floored to 5 decimals (a multiple of 10 micro-units). A trade's fee is the sum over
its legs. Makers pay nothing. The fee is moved in pUSD from the taker to an internal
collector account, so money stays conserved inside the simulator.

Markets carry ``r`` in parts per million (``fee_rate``) and an integer ``e``
(``fee_exponent``); ``/clob-markets/{cid}`` serves them as ``fd: {r, e, to}``.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import keccak

from .markets import Market
from .units import ONE, to_micro

FEE_QUANTUM = 10  # micro-pUSD: fees are floored to 5 decimals
FEE_COLLECTOR = "0x" + keccak(text="simulator-fee-collector").hex()[-40:]
# The documented default mix, by a market's position in /_sim/markets (index % 3):
# 0 -> no fee, 1 -> r = 0.05, 2 -> r = 0.03; e = 1 everywhere.
DEFAULT_MIX: tuple[tuple[int, int], ...] = ((0, 1), (50_000, 1), (30_000, 1))


def leg_fee(shares: int, price: int, rate_ppm: int, exponent: int) -> int:
    """Fee in micro-pUSD for ``shares`` micro-shares at ``price`` micro-pUSD, exact integers.

    shares/1e6 * rate/1e6 * (p/1e6 * (1e6 - p)/1e6) ** e pUSD = that * 1e6 micro-pUSD.
    """
    if rate_ppm <= 0 or shares <= 0:
        return 0
    numerator = shares * rate_ppm * (price * (ONE - price)) ** exponent
    denominator = ONE * ONE ** (2 * exponent)
    return numerator // (denominator * FEE_QUANTUM) * FEE_QUANTUM


def market_fee(market: Market, legs: Sequence[tuple[int, int]]) -> int:
    """A taker's fee for ``(shares, price in its own token space)`` legs in ``market``."""
    return sum(leg_fee(size, price, market.fee_rate, market.fee_exponent) for size, price in legs)


def assign_fees(markets: Sequence[Market], rate: str | None, exponent: int | None) -> None:
    """Set every market's fee parameters: the default mix, or ``rate``/``exponent`` for all."""
    for index, market in enumerate(markets):
        mix_rate, mix_exponent = DEFAULT_MIX[index % len(DEFAULT_MIX)]
        market.fee_rate = to_micro(rate) if rate is not None else mix_rate
        market.fee_exponent = exponent if exponent is not None else mix_exponent
