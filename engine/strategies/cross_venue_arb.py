"""Cross-venue arbitrage: a Polymarket market and the Kalshi market the operator linked to it by hand
pay 1 between them when one side is bought on each venue (this market's YES with the Kalshi side that
pays when it loses, or this market's NO with the other), so buying both below 1 after both venues'
taker fees locks in the difference, if the two really resolve together (hence the hand-made link,
the pair's warnings, and a margin).

For each paired market in its snapshot it prices both ways through contracts/cross_venue.py (both
books' asks walked best first, 0.01 contract at a time, both fees charged as each venue charges
them, each venue's free cash and `max_capital` as caps, `max_size` as the depth) and, for the better
one, decides two fill-and-kill legs: one intent on the Polymarket market, one on the Kalshi market,
tagged with one group. They are not an ordinary pair of intents: the engine checks both legs on
their own venue's ledger, sends both at once, and unwinds whatever one leg bought beyond the other
(engine/trading/passes/cross_arbs.py). A market with one of the strategy's orders still open on either
venue gets no intent (an attempt in flight).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from contracts.cross_venue import Cross, complement_side, cross
from contracts.domain import ONE, Intent, Level, MarketView, Quote, Side, Snapshot, StrategyState, Tif, fmt
from contracts.strategy_schemas.cross_venue_arb import CROSS_VENUE_ARB
from contracts.venues import KALSHI, POLYMARKET, venue_of
from contracts.venues.kalshi.fees import KalshiFees, market_fees_at
from contracts.venues.kalshi.ids import LOT
from engine.strategies.base import StrategyBase, closed_reason


def clipped(levels: Sequence[Level], most: int) -> list[Level]:
    """The asks, best first, up to `most` shares in all."""
    out, left = [], most
    for level in levels:
        if left <= 0:
            break
        out.append(Level(level.price, min(level.size, left)))
        left -= level.size
    return out


def leg(side_bought: str, price: int, size: int, group: str) -> Quote:
    """Buying `side_bought` (YES or NO) at `price`, in YES space (a NO bought at q is YES sold at 1 - q)."""
    if side_bought == "YES":
        return Quote(Side.BUY, price, size, Tif.FAK, group=group, on_partial="unwind")
    return Quote(Side.SELL, ONE - price, size, Tif.FAK, group=group, on_partial="unwind")


class CrossVenueArb(StrategyBase):
    schema = CROSS_VENUE_ARB
    spans_venues: ClassVar[bool] = True

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.margin = self.micros("margin")
        self.max_size = self.micros("max_size") // LOT * LOT  # Kalshi counts to 0.01 contract
        self.max_capital = self.micros("max_capital")

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        views = snapshot.markets
        busy = {order.condition_id for order in state.open_orders}
        out: list[Intent] = []
        for cid, view in views.items():
            if venue_of(cid) == KALSHI:
                continue  # the other leg's market
            if view.pair is None:
                out.append(self.intent(cid, (), "not paired with a Kalshi market: link it by hand first "
                                                "(python -m engine pairs add)"))
                continue
            kalshi_id, inverted = view.pair
            other = views.get(kalshi_id)
            if other is None:
                out.append(self.intent(cid, (), f"its Kalshi market {kalshi_id} has no book yet"))
                continue
            if cid in busy or kalshi_id in busy:
                continue  # an attempt in flight on one venue or the other
            out += self.pair_intents(view, other, inverted, state, now_ms)
        return out

    def pair_intents(self, view: MarketView, other: MarketView, inverted: bool, state: StrategyState,
                     now_ms: int) -> list[Intent]:
        cid = view.info.condition_id
        if reason := closed_reason(view.info) or closed_reason(other.info):
            return [self.intent(cid, (), reason)]
        if not view.info.fees_known:
            return [self.intent(cid, (), "Polymarket's fee schedule for it is not known yet")]
        fees = market_fees_at(other.info, now_ms)  # the settings in force as it decides (a scheduled change too)
        if problem := fees.problem:
            return [self.intent(cid, (), f"its Kalshi market: {problem}")]
        best = self.best_way(view, other, inverted, state, fees)
        if best is None:
            return [self.intent(cid, (), f"no pair costs under {fmt(ONE - self.margin)} after both venues' fees")]
        group = f"{self.name}:{cid}"
        kalshi_side = best.kalshi_side.upper()
        reason = (f"buy {best.poly_outcome} here + {kalshi_side} on Kalshi: {fmt(best.size)} pairs cost "
                  f"{fmt(best.poly_cost)} + {fmt(best.kalshi_cost)} (fees {fmt(best.fees)}), lock in {fmt(best.edge)}")
        return [self.intent(cid, (leg(best.poly_outcome, best.worst_poly, best.size, group),), reason),
                self.intent(other.info.condition_id, (leg(kalshi_side, best.worst_kalshi, best.size, group),),
                            reason)]

    def best_way(self, view: MarketView, other: MarketView, inverted: bool, state: StrategyState,
                 fees: KalshiFees) -> Cross | None:
        """The way (YES here or NO here) that locks in more, or None when neither does."""
        found = []
        for outcome, book in (("YES", view.yes), ("NO", view.no)):
            side = complement_side(outcome, inverted)
            theirs = other.yes if side == "yes" else other.no
            if book is None or theirs is None:
                continue
            way = cross(clipped(book.asks, self.max_size), clipped(theirs.asks, self.max_size),
                        poly_fee_ppm=view.info.fee_rate_ppm, poly_fee_exponent=view.info.fee_exponent,
                        margin=self.margin,
                        poly_capital=min(self.max_capital, state.venue_cash.get(POLYMARKET, state.cash)),
                        kalshi_capital=min(self.max_capital, state.venue_cash.get(KALSHI, 0)),
                        poly_outcome=outcome, kalshi_side=side, kalshi_fees=fees)
            if way is not None:
                found.append(way)
        return max(found, key=lambda w: w.edge, default=None)

