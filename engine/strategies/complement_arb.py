"""Complement arbitrage: buy a full set of outcomes for less than the $1 it must pay out.

Binary market: one YES plus one NO always pays exactly 1. When
    ask(YES) + ask(NO) + taker fees + fee_buffer per leg + edge < 1
buy both at their asks as immediate takes (FAK), sized by the thinner ask and `max_size`. In
YES space "buy NO at a_no" is SELL YES at 1 - a_no; the planner turns it into a NO buy when
YES is not held (and otherwise sells the YES we hold, which is the same exposure).

Neg-risk event: the outcomes sharing `neg_risk_market_id` are mutually exclusive and exactly
one resolves YES, so one YES of every outcome also pays exactly 1. When the YES asks of all
outcomes (plus fees, buffers and edge) sum below 1, buy every outcome's YES. This needs the
whole group: it is traded only when the group's declared outcome count is known and every
outcome is in the snapshot with an ask; a partial set is a bet, not an arbitrage.

Only the touch level is used, so the intent is what can fill at once. Markets with one of our
orders still in flight get no intent (a FAK resolves by itself; doubling it would over-buy).
A set's legs form one group: the risk gate and the executor place them whole or not at all.
If the venue still fills them unevenly, `on_partial` says what the engine does: complete the
short legs, unwind the long ones (once settled), or keep the position (engine/trading/ledgers/arbs.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.domain import ONE, Intent, MarketInfo, MarketView, Quote, Side, Snapshot, StrategyState, Tif, fmt
from contracts.strategy_schemas.complement_arb import COMPLEMENT_ARB
from engine.strategies.base import StrategyBase, closed_reason
from engine.strategies.pricing import inside_unit, taker_fee


def declared_group_size(info: MarketInfo) -> int | None:
    """How many outcomes the market's neg-risk event has, when discovery knows (the catalog
    counts the stored markets of the group); unknown -> None and group arbitrage stays off."""
    count = info.neg_risk_outcome_count
    return count if count is not None and count > 1 else None


class ComplementArb(StrategyBase):
    schema = COMPLEMENT_ARB

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.edge = self.micros("edge")
        self.fee_buffer = self.micros("fee_buffer")
        self.max_size = self.micros("max_size")
        self.use_groups: bool = self.params["neg_risk_groups"]
        self.on_partial: str = self.params["on_partial"]

    def decides_whole(self) -> bool:
        return self.use_groups  # a neg-risk group's legs are decided together

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        views = snapshot.markets
        busy = {order.condition_id for order in state.open_orders}
        decided: dict[str, Intent] = {}
        if self.use_groups:
            for members in neg_risk_groups(views).values():
                decided.update(self.group_intents(members, busy))
        for condition_id, view in views.items():
            if condition_id not in decided and condition_id not in busy:
                decided[condition_id] = self.binary_intent(view)
        return [decided[cid] for cid in views if cid in decided]

    def leg_cost(self, ask: int, info: MarketInfo) -> int:
        """What one share bought at `ask` really costs: price, taker fee, buffer."""
        return ask + taker_fee(ask, info) + self.fee_buffer

    def binary_intent(self, view: MarketView) -> Intent:
        info = view.info
        if reason := closed_reason(info):
            return self.intent(info.condition_id, (), reason)
        yes_ask = view.yes.best_ask if view.yes is not None else None
        no_ask = view.no.best_ask if view.no is not None else None
        if yes_ask is None or no_ask is None:
            return self.intent(info.condition_id, (), "no ask on both YES and NO")
        if not (inside_unit(yes_ask.price) and inside_unit(no_ask.price)):
            return self.intent(info.condition_id, (), "ask at a price bound")
        cost = self.leg_cost(yes_ask.price, info) + self.leg_cost(no_ask.price, info)
        if cost + self.edge >= ONE:
            return self.intent(info.condition_id, (), f"no edge: a set costs {fmt(cost)}")
        size = min(yes_ask.size, no_ask.size, self.max_size)
        if size <= 0:
            return self.intent(info.condition_id, (), "no size at the asks")
        group = f"{self.name}:{info.condition_id}"
        quotes = (
            Quote(Side.BUY, yes_ask.price, size, Tif.FAK, group=group, on_partial=self.on_partial),
            Quote(Side.SELL, ONE - no_ask.price, size, Tif.FAK, group=group,  # = BUY NO at no_ask
                  on_partial=self.on_partial),
        )
        return self.intent(info.condition_id, quotes, f"set costs {fmt(cost)}, edge {fmt(ONE - cost)}")

    def group_intents(self, members: Sequence[MarketView], busy: set[str]) -> dict[str, Intent]:
        """Intents for every member of one neg-risk event, or {} when there is no arbitrage
        (the members are then judged one by one as binary markets)."""
        if any(view.info.condition_id in busy for view in members):
            return {}
        declared = declared_group_size(members[0].info)
        if declared is None or declared != len(members):
            return {}
        legs = []
        for view in members:
            ask = view.yes.best_ask if view.yes is not None else None
            if closed_reason(view.info) or ask is None or not inside_unit(ask.price):
                return {}
            legs.append((view.info, ask))
        cost = sum(self.leg_cost(ask.price, info) for info, ask in legs)
        if cost + self.edge >= ONE:
            return {}
        size = min(min(ask.size for _, ask in legs), self.max_size)
        if size <= 0:
            return {}
        reason = f"neg-risk set of {len(legs)} costs {fmt(cost)}, edge {fmt(ONE - cost)}"
        group = f"{self.name}:{members[0].info.neg_risk_market_id}"
        return {
            info.condition_id: self.intent(info.condition_id, (Quote(Side.BUY, ask.price, size, Tif.FAK, group=group,
                                                                     on_partial=self.on_partial),), reason)
            for info, ask in legs
        }


def neg_risk_groups(views: Mapping[str, MarketView]) -> dict[str, list[MarketView]]:
    """Neg-risk markets in the snapshot grouped by event, in snapshot order."""
    groups: dict[str, list[MarketView]] = {}
    for view in views.values():
        group_id = view.info.neg_risk_market_id
        if view.info.neg_risk and group_id:
            groups.setdefault(group_id, []).append(view)
    return groups
