"""No self-trades: the desk never sends an order that would match one of its own (a self-trade
pays the taker fee for nothing and reads as wash trading).

Everything is compared in YES space, where each token order has one meaning:

    BUY  YES at p  -> a YES bid at p          SELL YES at p -> a YES ask at p
    BUY  NO  at q  -> a YES ask at 1 - q      SELL NO  at q -> a YES bid at 1 - q

Two of our orders match exactly when a YES-space bid is at or above a YES-space ask: BUY YES p
against SELL YES s when p >= s; BUY YES p against BUY NO q when p + q >= 1 (the venue mints the
pair); SELL YES p against SELL NO q when p + q <= 1 (it merges them). A BUY YES against a
resting SELL NO is not a match (both are long YES; no counterparty in either), whatever the
prices.

Two layers use this (pure; the caller passes the orders):
- per tick, `arbitrate`: strategies are taken by priority (higher first, then by name); a
  quote that crosses another strategy's resting order, or the quote a higher-priority strategy
  wants this tick, is refused with SELF_TRADE and waits. What a strategy wants claims its side
  even while its own quote waits for the other's resting order, so the lower-priority order is
  withdrawn (its strategy's intent no longer holds it) and the higher one goes next tick;
- at placement, `crossing`: any order about to leave is refused if it would match a live order
  of the desk's (any strategy, the operator's included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from contracts.domain import Intent, Quote, Side, fmt, yes_space


@dataclass(frozen=True, slots=True)
class Resting:
    """One of the desk's orders in YES space."""

    strategy: str
    condition_id: str
    side: Side
    price: int


def resting(orders: Iterable[object]) -> list[Resting]:
    """The desk's live orders (ExecutionState.orders' rows) in YES space."""
    return [Resting(o.strategy, o.condition_id, *yes_space(o.outcome, o.side, o.price))  # type: ignore[attr-defined]  # ExecutionState's order rows; typed object to keep risk free of execution's types
            for o in orders]


def crosses(side: Side, price: int, other: Resting) -> bool:
    """Whether a YES-space order (side, price) would match `other`."""
    if side is other.side:
        return False
    return price >= other.price if side is Side.BUY else price <= other.price


def crossing(side: Side, price: int, orders: Iterable[Resting]) -> Resting | None:
    """The first of `orders` a YES-space (side, price) would match, if any."""
    return next((o for o in orders if crosses(side, price, o)), None)


@dataclass(frozen=True, slots=True)
class Refusal:
    strategy: str
    condition_id: str
    quote: Quote
    detail: str


def _describe(order: Resting, resting: bool) -> str:
    what = "bid" if order.side is Side.BUY else "ask"
    how = "rests" if resting else "wants"
    return f"strategy '{order.strategy}' {how} a YES {what} at {fmt(order.price)}"


def arbitrate(intents: list[Intent], resting: Iterable[Resting],
              priorities: Mapping[str, int]) -> tuple[list[Intent], list[Refusal]]:
    """Each intent without the quotes that would trade with the desk's own orders (see the
    module's doc), in the order given; and why each quote was held back."""
    by_market: dict[str, list[Resting]] = {}
    for order in resting:
        by_market.setdefault(order.condition_id, []).append(order)
    if _one_strategy(intents, by_market):  # a backtest's desk, every decision: nothing can cross another's
        return list(intents), []
    claims: dict[str, list[Resting]] = {}
    ranked = sorted(range(len(intents)), key=lambda i: (-priorities.get(intents[i].strategy, 0), intents[i].strategy))
    out: list[Intent] = list(intents)
    refusals: list[Refusal] = []
    for i in ranked:
        intent = intents[i]
        kept: list[Quote] = []
        others = [o for o in by_market.get(intent.condition_id, ()) if o.strategy != intent.strategy]
        wanted = claims.setdefault(intent.condition_id, [])
        mine: list[Resting] = []
        for quote in intent.quotes:
            higher = crossing(quote.side, quote.price, [c for c in wanted if c.strategy != intent.strategy])
            if higher is not None:
                refusals.append(Refusal(intent.strategy, intent.condition_id, quote,
                                        f"{_describe(higher, False)} (higher priority): this quote waits"))
                continue
            mine.append(Resting(intent.strategy, intent.condition_id, quote.side, quote.price))
            found = crossing(quote.side, quote.price, others)
            if found is not None:
                refusals.append(Refusal(intent.strategy, intent.condition_id, quote,
                                        f"{_describe(found, True)}: this quote waits until it is gone"))
                continue
            kept.append(quote)
        wanted.extend(mine)
        if len(kept) != len(intent.quotes):
            out[i] = replace(intent, quotes=tuple(kept))
    return out, refusals


def _one_strategy(intents: list[Intent], by_market: Mapping[str, list[Resting]]) -> bool:
    """Whether every intent and every resting order is one strategy's: a quote is held back
    only by another strategy's claim or order, so then none is."""
    strategies = {intent.strategy for intent in intents}
    return len(strategies) <= 1 and all(o.strategy in strategies for orders in by_market.values() for o in orders)
