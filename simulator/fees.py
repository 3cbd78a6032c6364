"""Taker fees (CLOB V2): who pays, how much, and each market's fee parameters.

Per match leg (one taker order against one maker order) the taker pays
``shares * r * (p * (1 - p)) ** e`` pUSD, ``p`` being that leg's execution price,
floored to 5 decimals (a multiple of 10 micro-units). A trade's fee is the sum over
its legs. Makers pay nothing. The fee is moved in pUSD from the taker to an internal
collector account, so money stays conserved inside the simulator.

Markets carry ``r`` in parts per million (``fee_rate``) and an integer ``e``
(``fee_exponent``); ``/clob-markets/{cid}`` serves them as ``fd: {r, e, to}``, Gamma as the
market's ``feeSchedule {rate, exponent, rebateRate, takerOnly}`` beside its ``feeType``.

The share of a market's taker fees its makers are rebated differs by category, and the venue
has moved it (its documentation and captured markets: 20 % crypto, 25 % sports and the others
in early 2026; sports 15 % in late 2026): ``rebate_share_ppm`` here, 20 % crypto, 15 % sports (a
game market), 25 % the others. A desk reads each market's ``rebateRate``; it assumes none.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import keccak

from .markets import Market
from .units import ONE, to_micro

FEE_QUANTUM = 10  # micro-pUSD: fees are floored to 5 decimals
FEE_COLLECTOR = "0x" + keccak(text="simulator-fee-collector").hex()[-40:]
# The documented default mix, by a market's position in /_sim/markets (index % 3):
# 0 -> no fee, 1 -> r = 0.05, 2 -> r = 0.03; e = 1 everywhere; a game market then takes the sports
# category's (assign_sports_fees).
DEFAULT_MIX: tuple[tuple[int, int], ...] = ((0, 1), (50_000, 1), (30_000, 1))


CRYPTO_REBATE_PPM, SPORTS_REBATE_PPM, DEFAULT_REBATE_PPM = 200_000, 150_000, 250_000


def fee_category(market: Market) -> str:
    """The fee category a market's schedule is the venue's for: crypto, sports (a game market) or
    other."""
    if any(tag.strip().lower() == "crypto" for tag in market.tags):
        return "crypto"
    return "sports" if market.game_start_ts is not None else "other"


def rebate_share_ppm(market: Market) -> int:
    """The share of its taker fees a market rebates to its makers (parts per million)."""
    return {"crypto": CRYPTO_REBATE_PPM, "sports": SPORTS_REBATE_PPM}.get(fee_category(market), DEFAULT_REBATE_PPM)


def gamma_fees(market: Market) -> dict[str, object]:
    """Gamma's fee fields of a market: ``feeSchedule`` and ``feeType`` only where it charges."""
    if market.fee_rate <= 0:
        return {"feesEnabled": False, "feeType": None}
    return {"feesEnabled": True, "feeType": f"{fee_category(market)}_fees",
            "feeSchedule": {"rate": market.fee_rate / ONE, "exponent": market.fee_exponent,
                            "rebateRate": rebate_share_ppm(market) / ONE, "takerOnly": True}}


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


SPORTS_SCHEDULE = (50_000, 1)  # a game market's taker fee: r = 0.05, e = 1 (the venue's sports category)


def assign_sports_fees(games: Sequence[Market], rate: str | None) -> None:
    """The sports category's schedule on the game markets, unless one rate is set for every market."""
    if rate is None:
        for market in games:
            market.fee_rate, market.fee_exponent = SPORTS_SCHEDULE


def assign_fees(markets: Sequence[Market], rate: str | None, exponent: int | None) -> None:
    """Set every market's fee parameters: the default mix, or ``rate``/``exponent`` for all."""
    for index, market in enumerate(markets):
        mix_rate, mix_exponent = DEFAULT_MIX[index % len(DEFAULT_MIX)]
        market.fee_rate = to_micro(rate) if rate is not None else mix_rate
        market.fee_exponent = exponent if exponent is not None else mix_exponent
