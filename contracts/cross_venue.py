"""Cross-venue arbitrage arithmetic: a Polymarket market and the Kalshi market the operator linked
to it (`venue_pairs`) pay 1 between them when one side is bought on each venue (YES here and the
Kalshi side that pays when it loses, or the reverse), so buying both for less than 1 after both
venues' taker fees locks in the difference, if the two markets really resolve together (which is
why pairs are linked by hand, and why a margin is kept).

`cross` walks both books' asks best first, a whole Kalshi contract at a time, taking a slice only
while its cost (both prices and both fees) stays at most 1 - margin a share: the depth both books
give at that edge, capped by the capital each venue may spend. Fees are charged per slice (Kalshi
rounds each up to the cent), which can only overstate them: never an edge the venues would not pay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contracts.domain import MICRO, Level
from contracts.kalshi_ids import CENT, CONTRACT, TAKER_RATE, fee_cents
from contracts.venue_rules import taker_fee


@dataclass(frozen=True)
class Cross:
    """Buying `poly_outcome` on Polymarket and its complement on Kalshi, `size` shares of each."""

    poly_outcome: str  # YES | NO: the Polymarket token bought
    kalshi_side: str  # yes | no: the Kalshi side bought (the one that pays when the Polymarket token loses)
    size: int  # shares (micro) of each leg
    poly_cost: int  # what the Polymarket leg costs, fees included (micro-pUSD)
    kalshi_cost: int  # what the Kalshi leg costs, fees included (micro-USD)
    fees: int  # both venues' taker fees, within the costs
    worst_poly: int  # the highest price each leg reaches (its limit price)
    worst_kalshi: int

    @property
    def edge(self) -> int:
        """What it locks in: the 1 a share the pair pays, less both legs' costs."""
        return self.size - self.poly_cost - self.kalshi_cost


def complement_side(outcome: str, inverted: bool) -> str:
    """The Kalshi side ("yes" or "no") that pays when the Polymarket market's `outcome` (YES or NO)
    loses: of a pair linked as is, the other side; of an inverted pair (Kalshi's YES is the
    Polymarket market's NO), the same side."""
    if outcome == "YES":
        return "yes" if inverted else "no"
    return "no" if inverted else "yes"


def cross(poly_asks: Sequence[Level], kalshi_asks: Sequence[Level], *, poly_fee_ppm: int, poly_fee_exponent: int,
          margin: int, poly_capital: int, kalshi_capital: int, poly_outcome: str = "YES",
          kalshi_side: str = "no") -> Cross | None:
    """The arbitrage of buying the Polymarket token on `poly_asks` and the Kalshi side on
    `kalshi_asks` (both best first, micro prices and sizes), or None when not one contract of it
    costs at most 1 - `margin` (micro) a share after fees within the capital."""
    i = j = 0
    left_poly = poly_asks[0].size if poly_asks else 0
    left_kalshi = kalshi_asks[0].size if kalshi_asks else 0
    size = poly_cost = kalshi_cost = fees = worst_poly = worst_kalshi = 0
    while True:
        while i < len(poly_asks) and left_poly < CONTRACT:  # a level's odd lots are left
            i += 1
            left_poly = poly_asks[i].size if i < len(poly_asks) else 0
        while j < len(kalshi_asks) and left_kalshi < CONTRACT:
            j += 1
            left_kalshi = kalshi_asks[j].size if j < len(kalshi_asks) else 0
        if i >= len(poly_asks) or j >= len(kalshi_asks):
            break
        pa, ka = poly_asks[i].price, kalshi_asks[j].price
        count = min(left_poly, left_kalshi) // CONTRACT  # Kalshi trades whole contracts
        fitted = _fit(count, pa, ka, poly_fee_ppm, poly_fee_exponent, margin,
                      poly_capital - poly_cost, kalshi_capital - kalshi_cost)
        if fitted is None:
            break
        take, poly_leg, kalshi_leg, fee = fitted
        size, poly_cost, kalshi_cost, fees = size + take, poly_cost + poly_leg, kalshi_cost + kalshi_leg, fees + fee
        worst_poly, worst_kalshi = pa, ka
        if take < count * CONTRACT:  # the capital (or the edge) ran out within this slice
            break
        left_poly -= take
        left_kalshi -= take
    if not size:
        return None
    return Cross(poly_outcome, kalshi_side, size, poly_cost, kalshi_cost, fees, worst_poly, worst_kalshi)


def _fit(count: int, pa: int, ka: int, fee_ppm: int, exponent: int, margin: int, poly_room: int,
         kalshi_room: int) -> tuple[int, int, int, int] | None:
    """The most whole contracts (at most `count`) of one slice at prices `pa` and `ka` that keep
    within the edge and the capital left: (shares, Polymarket cost, Kalshi cost, fees), or None.
    The capital bounds the count (costs grow with it); Kalshi's rounding of its fee up to the cent
    makes a small order dearer a share than a larger one, so the edge is checked down from there."""
    if count <= 0 or not CENT <= ka <= 99 * CENT:
        return None

    def legs(contracts: int) -> tuple[int, int, int, int]:
        shares = contracts * CONTRACT
        poly_fee = taker_fee(pa, shares, fee_ppm, exponent)
        kalshi_fee = fee_cents(TAKER_RATE, contracts, ka // CENT) * CENT
        return shares, pa * shares // MICRO + poly_fee, ka * shares // MICRO + kalshi_fee, poly_fee + kalshi_fee

    low, high = 0, count
    while low < high:  # the largest count within both venues' capital
        mid = (low + high + 1) // 2
        _, poly_leg, kalshi_leg, _ = legs(mid)
        if poly_leg <= poly_room and kalshi_leg <= kalshi_room:
            low = mid
        else:
            high = mid - 1
    for contracts in range(low, 0, -1):
        shares, poly_leg, kalshi_leg, fees = legs(contracts)
        if poly_leg + kalshi_leg <= shares - margin * shares // MICRO:
            return shares, poly_leg, kalshi_leg, fees
    return None


@dataclass(frozen=True)
class Way:
    """One way to hedge a pair: Polymarket's `poly_outcome` with the Kalshi side that pays when it
    loses, and what buying both locks in now (None: nothing under 1 - margin after fees)."""

    poly_outcome: str
    kalshi_side: str
    found: Cross | None


def pair_ways(poly_asks: Mapping[str, Sequence[Level]], kalshi_asks: Mapping[str, Sequence[Level]], *,
              inverted: bool, poly_fee_ppm: int, poly_fee_exponent: int, margin: int, capital: int) -> list[Way]:
    """Both ways to hedge a linked pair (YES here with Kalshi's complement, then NO), from each
    Polymarket outcome's asks ("YES", "NO") and each Kalshi side's asks ("yes", "no"), best first;
    `capital` is what each venue may spend. The CLI's `pairs spreads` and the Markets page use it."""
    ways = []
    for outcome in ("YES", "NO"):
        side = complement_side(outcome, inverted)
        ways.append(Way(outcome, side, cross(poly_asks.get(outcome, ()), kalshi_asks.get(side, ()),
                                             poly_fee_ppm=poly_fee_ppm, poly_fee_exponent=poly_fee_exponent,
                                             margin=margin, poly_capital=capital, kalshi_capital=capital,
                                             poly_outcome=outcome, kalshi_side=side)))
    return ways
