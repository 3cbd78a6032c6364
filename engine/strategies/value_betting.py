"""Value betting: trade toward an operator-supplied fair probability, sized by Kelly.

With q = MarketView.fair_value (the dashboard's or an external signal's probability of YES):

* buy YES when its cost (ask plus taker fee) is below q - edge;
* sell YES, i.e. buy NO, when the bid less the taker fee is above q + edge (NO then costs
  1 - bid + fee and we believe it wins with probability 1 - q).

Sizing for a binary contract bought at cost c that we believe pays 1 with probability b:
the Kelly fraction of bankroll is f* = (b - c) / (1 - c); we stake `kelly_fraction` * f* of
StrategyState.cash, i.e. target shares = kelly_fraction * f* * cash / c. The order is the
target less what we already hold in that direction (a short first gets closed), capped so the
money paid for the position (its cost basis: what was paid for the shares held, not their worth at
today's price, which would let each fall of the price raise the cap) stays within `max_position`
pUSD, and each order within `max_order` shares.
Cash alone is the bankroll, which is conservative: money already in positions is not counted.
Sizes are rounded down to whole shares so small cash moves do not churn resting orders.

`order_style`: "take" sends FAK orders at the touch (capped by the touch size) and stays
silent while one of them is in flight; "limit" rests GTC orders at floor_tick(q - edge) and
ceil_tick(q + edge), each sized by Kelly at its own price (maker: no fee). No fair value, or no
book, means no orders.

`min_confidence`: a signal's fair value is acted on only when its source's confidence is at least
this (the operator's counts as certain; a source that stated none is below any floor above 0); the
reference price states no confidence and is not floored. `FairValueTrader` is the trading above
for any fair value: the ensemble (engine/strategies/ensemble.py) trades its own the same way.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.domain import (
    MICRO,
    ONE,
    Book,
    Intent,
    MarketView,
    PositionView,
    Quote,
    Side,
    Snapshot,
    StrategyState,
    Tif,
    fmt,
)
from contracts.strategy_schemas.value_betting import VALUE_BETTING
from engine.strategies.base import StrategyBase, closed_reason, orders_in
from engine.strategies.pricing import ceil_tick, floor_tick, inside_unit, on_grid_inside, taker_fee


def kelly_shares(belief: int, cost: int, bankroll: int, fraction: int) -> int:
    """Micro-shares for a fractional-Kelly stake on a contract paying 1 (all args in micros).

    shares = fraction * (belief - cost) / (1 - cost) * bankroll / cost, rounded down; zero
    when there is no edge, no bankroll, or the cost is not strictly inside (0, 1).
    """
    if not 0 < cost < ONE or belief <= cost or bankroll <= 0 or fraction <= 0:
        return 0
    return fraction * (belief - cost) * bankroll // ((ONE - cost) * cost)


def whole_shares(size: int) -> int:
    return size // MICRO * MICRO


@dataclass(frozen=True, slots=True)
class Fair:
    """The probability of YES a fair-value trader trades toward in one market, how sure its source
    is (None: unsaid), or, without one, why not."""

    value: int | None
    confidence: int | None = None
    missing: str = ""


class FairValueTrader(StrategyBase):
    """Trading toward a fair value: Kelly-sized takes at the touch or resting limits (the module's
    docstring). Subclasses say where the fair value comes from (`fair_of`)."""

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.edge = self.micros("edge")
        self.fraction = self.micros("kelly_fraction")
        self.max_position = self.micros("max_position")
        self.max_order = self.micros("max_order")
        self.style: str = self.params["order_style"]
        self.min_confidence = self.micros("min_confidence")

    @abstractmethod
    def fair_of(self, view: MarketView) -> Fair: ...

    def fair(self, view: MarketView) -> int | None:
        """The probability of YES it trades toward here (None: none it acts on)."""
        return self.fair_of(view).value

    def sure_enough(self, confidence: int | None) -> bool:
        """Whether a fair value stated with `confidence` is sure enough to act on."""
        return self.min_confidence <= 0 or (confidence is not None and confidence >= self.min_confidence)

    def below_floor(self, confidence: int | None) -> str:
        """Why a fair value is not acted on, in the decisions' words."""
        if confidence is None:
            return f"the fair value states no confidence: below the floor {fmt(self.min_confidence)}"
        return f"the fair value's confidence {fmt(confidence)} is below the floor {fmt(self.min_confidence)}"

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        intents = []
        for condition_id, view in snapshot.markets.items():
            if self.style == "take" and orders_in(state, condition_id):
                continue  # a take is in flight: let it resolve before deciding again
            fair = self.fair_of(view)
            quotes, reason = self.quotes_for(view, fair, state)
            intents.append(self.intent(condition_id, quotes, reason, probability=stated(view, fair.value),
                                       confidence=fair.confidence if fair.value is not None else None))
        return intents

    def quotes_for(self, view: MarketView, fair_value: Fair, state: StrategyState) -> tuple[tuple[Quote, ...], str]:
        if reason := closed_reason(view.info):
            return (), reason
        fair = fair_value.value
        if fair is None or not 0 <= fair <= ONE:
            return (), fair_value.missing or "no fair value"
        if view.yes is None:
            return (), "no book"
        held = state.positions.get(view.info.condition_id) or PositionView(view.info.condition_id)
        if self.style == "limit":
            return self.limit_quotes(view, fair, held, state.cash)
        return self.take_quote(view, view.yes, fair, held, state.cash)

    def order_size(self, belief: int, cost: int, held: int, cash: int, paid: int = 0) -> int:
        """Shares to trade in one direction: Kelly target less `held`, within the caps.

        `belief` and `cost` are for the contract bought (YES, or NO when selling YES);
        `held` is the signed position in that contract's direction and `paid` what was paid for
        it (micro-pUSD, its cost basis): what the order adds to it costs at most `max_position` less
        `paid` (a short in that direction is closed first, whatever it cost).
        """
        target = kelly_shares(belief, cost, cash, self.fraction)
        room = max(0, -held) + max(0, self.max_position - paid) * ONE // cost
        return whole_shares(min(target - held, room, self.max_order)) if target > held else 0

    def take_quote(self, view: MarketView, book: Book, fair: int, held: PositionView,
                   cash: int) -> tuple[tuple[Quote, ...], str]:
        """One FAK at the touch when the edge is there, sized by Kelly and the touch size."""
        info = view.info
        ask, bid = book.best_ask, book.best_bid
        position = held.net_yes
        if ask is not None and inside_unit(ask.price):
            cost = ask.price + taker_fee(ask.price, info)
            if cost < fair - self.edge:
                size = min(self.order_size(fair, cost, position, cash, held.yes_cost), whole_shares(ask.size))
                return _take(Side.BUY, ask.price, size, f"ask {fmt(ask.price)} under fair {fmt(fair)}")
        if bid is not None and inside_unit(bid.price):
            cost = ONE - bid.price + taker_fee(bid.price, info)  # what a NO share costs us
            if cost < ONE - fair - self.edge:
                size = min(self.order_size(ONE - fair, cost, -position, cash, held.no_cost), whole_shares(bid.size))
                return _take(Side.SELL, bid.price, size, f"bid {fmt(bid.price)} over fair {fmt(fair)}")
        return (), f"no edge at fair {fmt(fair)}"

    def limit_quotes(self, view: MarketView, fair: int, held: PositionView,
                     cash: int) -> tuple[tuple[Quote, ...], str]:
        tick = view.info.tick
        quotes = []
        position = held.net_yes
        bid = floor_tick(fair - self.edge, tick)
        if on_grid_inside(bid, tick):
            size = self.order_size(fair, bid, position, cash, held.yes_cost)
            if size > 0:
                quotes.append(Quote(Side.BUY, bid, size, Tif.GTC))
        ask = ceil_tick(fair + self.edge, tick)
        if on_grid_inside(ask, tick):
            size = self.order_size(ONE - fair, ONE - ask, -position, cash, held.no_cost)
            if size > 0:
                quotes.append(Quote(Side.SELL, ask, size, Tif.GTC))
        reason = f"resting around fair {fmt(fair)}" if quotes else "no size (cash, caps or position)"
        return tuple(quotes), reason


class ValueBetting(FairValueTrader):
    schema = VALUE_BETTING

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.source: str = self.params["fair_source"]

    def fair_of(self, view: MarketView) -> Fair:
        """The signal's fair value (the operator's or an outside source's) when sure enough, or the
        reference price (a paired market's mid on the other venue, or the reference feed's)."""
        if self.source == "reference":
            return Fair(view.reference, None, "no reference price")
        if view.fair_value is None:
            return Fair(None, None, "no fair value")
        if not self.sure_enough(view.fair_confidence):
            return Fair(None, None, self.below_floor(view.fair_confidence))
        return Fair(view.fair_value, view.fair_confidence)


def stated(view: MarketView, fair: int | None) -> int | None:
    """The fair probability of YES it trades toward, as its forecast for calibration (None: none
    usable, or the market cannot be traded)."""
    return fair if fair is not None and 0 <= fair <= ONE and not closed_reason(view.info) else None


def _take(side: Side, price: int, size: int, reason: str) -> tuple[tuple[Quote, ...], str]:
    if size <= 0:
        return (), "edge but no size (cash, caps or position)"
    return (Quote(side, price, size, Tif.FAK),), reason
