"""Cross-venue arbitrage arithmetic: a Polymarket market and the Kalshi market the operator linked
to it (`venue_pairs`) pay 1 between them when one side is bought on each venue (YES here and the
Kalshi side that pays when it loses, or the reverse), so buying both for less than 1 after both
venues' taker fees locks in the difference, if the two markets really resolve together (which is
why pairs are linked by hand, and why a margin is kept).

`cross` walks both books' asks best first, 0.01 contract at a time at most (Kalshi's and
Polymarket's smallest count), taking a slice only while its cost (both prices and both fees) stays at
most 1 - margin a share: the depth both books give at that edge, capped by the capital each venue may
spend. Kalshi's fee is charged per slice as the most a fill of it can cost: its trade fee (its series'
rate, rounded up to $0.0001) and a full grain of the balance's rounding (contracts/venues/kalshi/fees.py), which
can only overstate it: never an edge the venues would not pay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contracts.domain import MICRO, Level
from contracts.venue_rules import taker_fee
from contracts.venues.kalshi.fees import KalshiFees, worst_fee
from contracts.venues.kalshi.ids import LOT

# The pair finder's example (the Markets page's, `pairs find`'s help): words that find a pair offline too, the
# simulator's Fed February 25 bps question on both venues (simulator/kalshi/twin.py), as they would live.
FIND_EXAMPLE = "fed 25 bps february"


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


@dataclass(frozen=True)
class Terms:
    """What prices a slice: Polymarket's fee, the margin kept a share, each venue's capital, Kalshi's fees."""

    poly_fee_ppm: int
    poly_fee_exponent: int
    margin: int
    kalshi_fees: KalshiFees


def cross(poly_asks: Sequence[Level], kalshi_asks: Sequence[Level], *, poly_fee_ppm: int, poly_fee_exponent: int,
          margin: int, poly_capital: int, kalshi_capital: int, poly_outcome: str = "YES",
          kalshi_side: str = "no", kalshi_fees: KalshiFees | None = None) -> Cross | None:
    """The arbitrage of buying the Polymarket token on `poly_asks` and the Kalshi side on
    `kalshi_asks` (both best first, micro prices and sizes), or None when not one slice of it
    costs at most 1 - `margin` (micro) a share after fees within the capital."""
    terms = Terms(poly_fee_ppm, poly_fee_exponent, margin, kalshi_fees or KalshiFees())
    i = j = 0
    left_poly = poly_asks[0].size if poly_asks else 0
    left_kalshi = kalshi_asks[0].size if kalshi_asks else 0
    size = poly_cost = kalshi_cost = fees = worst_poly = worst_kalshi = 0
    while True:
        while i < len(poly_asks) and left_poly < LOT:  # what is under a lot is left
            i += 1
            left_poly = poly_asks[i].size if i < len(poly_asks) else 0
        while j < len(kalshi_asks) and left_kalshi < LOT:
            j += 1
            left_kalshi = kalshi_asks[j].size if j < len(kalshi_asks) else 0
        if i >= len(poly_asks) or j >= len(kalshi_asks):
            break
        pa, ka = poly_asks[i].price, kalshi_asks[j].price
        lots = min(left_poly, left_kalshi) // LOT
        fitted = _fit(lots, pa, ka, terms, poly_capital - poly_cost, kalshi_capital - kalshi_cost)
        if fitted is None:
            break
        take, poly_leg, kalshi_leg, fee = fitted
        size, poly_cost, kalshi_cost, fees = size + take, poly_cost + poly_leg, kalshi_cost + kalshi_leg, fees + fee
        worst_poly, worst_kalshi = pa, ka
        if take < lots * LOT:  # the capital (or the edge) ran out within this slice
            break
        left_poly -= take
        left_kalshi -= take
    if not size:
        return None
    return Cross(poly_outcome, kalshi_side, size, poly_cost, kalshi_cost, fees, worst_poly, worst_kalshi)


def _fit(lots: int, pa: int, ka: int, terms: Terms, poly_room: int,
         kalshi_room: int) -> tuple[int, int, int, int] | None:
    """The most lots (at most `lots`) of one slice at prices `pa` and `ka` that keep within the edge
    and the capital left: (shares, Polymarket cost, Kalshi cost, fees), or None. The capital bounds
    the count (costs grow with it); Kalshi's rounding makes a smaller slice no cheaper a share, so when
    the most the capital allows misses the edge, the slice is not taken."""
    if lots <= 0 or not 0 < ka < MICRO:
        return None

    def legs(n: int) -> tuple[int, int, int, int]:
        shares = n * LOT
        poly_fee = taker_fee(pa, shares, terms.poly_fee_ppm, terms.poly_fee_exponent)
        kalshi_fee = worst_fee(terms.kalshi_fees, ka, shares)
        return shares, pa * shares // MICRO + poly_fee, ka * shares // MICRO + kalshi_fee, poly_fee + kalshi_fee

    low, high = 0, lots
    while low < high:  # the largest count within both venues' capital
        mid = (low + high + 1) // 2
        _, poly_leg, kalshi_leg, _ = legs(mid)
        if poly_leg <= poly_room and kalshi_leg <= kalshi_room:
            low = mid
        else:
            high = mid - 1
    if low == 0:
        return None
    shares, poly_leg, kalshi_leg, fees = legs(low)
    if poly_leg + kalshi_leg <= shares - terms.margin * shares // MICRO:
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
              inverted: bool, poly_fee_ppm: int, poly_fee_exponent: int, margin: int, capital: int,
              kalshi_fees: KalshiFees | None = None) -> list[Way]:
    """Both ways to hedge a linked pair (YES here with Kalshi's complement, then NO), from each
    Polymarket outcome's asks ("YES", "NO") and each Kalshi side's asks ("yes", "no"), best first;
    `capital` is what each venue may spend, `kalshi_fees` the Kalshi market's series' fee settings
    (unread: the dearest). The CLI's `pairs spreads` and the Markets page use it."""
    ways = []
    for outcome in ("YES", "NO"):
        side = complement_side(outcome, inverted)
        ways.append(Way(outcome, side, cross(poly_asks.get(outcome, ()), kalshi_asks.get(side, ()),
                                             poly_fee_ppm=poly_fee_ppm, poly_fee_exponent=poly_fee_exponent,
                                             margin=margin, poly_capital=capital, kalshi_capital=capital,
                                             poly_outcome=outcome, kalshi_side=side, kalshi_fees=kalshi_fees)))
    return ways
