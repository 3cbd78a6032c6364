"""No self-trades: the crossing rule in YES space (same token and complement, at the exact
boundary), and the per-tick arbitration between strategies by priority."""

from __future__ import annotations

import pytest

from contracts.domain import Intent, Outcome, Quote, Side, yes_space
from engine.risk.self_trade import Resting, arbitrate, crosses, crossing

BUY, SELL = Side.BUY, Side.SELL
SH = 1_000_000


def c(x: float) -> int:
    return round(x * 1_000_000)


def rest(outcome: Outcome, side: Side, price: float, strategy: str = "other") -> Resting:
    return Resting(strategy, "m", *yes_space(outcome, side, c(price)))


@pytest.mark.parametrize(("new", "resting", "matches"), [
    # Same token: a bid at or above our ask, an ask at or below our bid.
    ((Outcome.YES, BUY, 0.50), (Outcome.YES, SELL, 0.50), True),
    ((Outcome.YES, BUY, 0.49), (Outcome.YES, SELL, 0.50), False),
    ((Outcome.YES, SELL, 0.40), (Outcome.YES, BUY, 0.40), True),
    ((Outcome.YES, SELL, 0.41), (Outcome.YES, BUY, 0.40), False),
    ((Outcome.NO, BUY, 0.60), (Outcome.NO, SELL, 0.60), True),
    ((Outcome.NO, SELL, 0.61), (Outcome.NO, BUY, 0.60), False),
    # Complement, minted: BUY YES p against BUY NO q when p + q >= 1.
    ((Outcome.YES, BUY, 0.45), (Outcome.NO, BUY, 0.55), True),
    ((Outcome.YES, BUY, 0.44), (Outcome.NO, BUY, 0.55), False),
    ((Outcome.NO, BUY, 0.60), (Outcome.YES, BUY, 0.40), True),
    # Complement, merged: SELL YES p against SELL NO q when p + q <= 1.
    ((Outcome.YES, SELL, 0.45), (Outcome.NO, SELL, 0.55), True),
    ((Outcome.YES, SELL, 0.46), (Outcome.NO, SELL, 0.55), False),
    # Buying one side while the desk sells the other: both long YES, never a match, at any price.
    ((Outcome.YES, BUY, 0.99), (Outcome.NO, SELL, 0.99), False),
    ((Outcome.YES, BUY, 0.01), (Outcome.NO, SELL, 0.01), False),
    ((Outcome.NO, BUY, 0.99), (Outcome.YES, SELL, 0.99), False),
    # Same side never matches.
    ((Outcome.YES, BUY, 0.99), (Outcome.YES, BUY, 0.01), False),
])
def test_the_crossing_rule(new: tuple[Outcome, Side, float], resting: tuple[Outcome, Side, float],
                           matches: bool) -> None:
    side, price = yes_space(new[0], new[1], c(new[2]))
    assert crosses(side, price, rest(*resting)) is matches


def test_crossing_names_the_first_order_it_would_match() -> None:
    orders = [rest(Outcome.YES, SELL, 0.60, "a"), rest(Outcome.NO, BUY, 0.45, "b")]  # YES asks at 0.60, 0.55
    assert crossing(BUY, c(0.56), orders) == orders[1]
    assert crossing(BUY, c(0.54), orders) is None


def _intent(strategy: str, *quotes: tuple[Side, float]) -> Intent:
    return Intent(strategy, "m", tuple(Quote(side, c(price), 10 * SH) for side, price in quotes))


def test_a_quote_crossing_another_strategys_resting_order_waits() -> None:
    intents = [_intent("mm", (BUY, 0.48), (SELL, 0.52))]
    kept, refused = arbitrate(intents, [rest(Outcome.YES, BUY, 0.53, "value")], {})
    assert [(q.side, q.price) for q in kept[0].quotes] == [(BUY, c(0.48))]
    assert [(r.strategy, r.quote.side, r.detail) for r in refused] == [
        ("mm", SELL, "strategy 'value' rests a YES bid at 0.53: this quote waits until it is gone")]


def test_a_strategys_own_resting_orders_are_what_its_intent_replaces() -> None:
    kept, refused = arbitrate([_intent("mm", (BUY, 0.55))], [rest(Outcome.YES, SELL, 0.52, "mm")], {})
    assert kept[0].quotes and refused == []


@pytest.mark.parametrize(("priorities", "goes", "waits"), [
    ({"a": 1}, "a", "b"),
    ({"b": 1}, "b", "a"),
    ({}, "a", "b"),  # equal: the name that sorts first
])
def test_opposite_wishes_in_one_tick_go_by_priority(priorities: dict[str, int], goes: str, waits: str) -> None:
    intents = [_intent("b", (SELL, 0.50)), _intent("a", (BUY, 0.51))]
    kept, refused = arbitrate(intents, [], priorities)
    assert {i.strategy: len(i.quotes) for i in kept} == {goes: 1, waits: 0}
    assert [r.strategy for r in refused] == [waits] and "(higher priority): this quote waits" in refused[0].detail
    assert [i.strategy for i in kept] == ["b", "a"]  # in the order given


def test_the_higher_priority_claims_its_side_while_the_lower_ones_resting_order_is_withdrawn() -> None:
    """Tick 1: 'a' (higher) wants to bid 0.51 where 'b' rests an ask at 0.50: a's bid waits for
    that order, and b's ask, which crosses what a wants, is dropped from b's intent (so the
    executor withdraws it). Tick 2, b's ask gone: a's bid goes; b's ask still waits."""
    tick1, refused1 = arbitrate([_intent("a", (BUY, 0.51)), _intent("b", (SELL, 0.50), (BUY, 0.40))],
                                [rest(Outcome.YES, SELL, 0.50, "b")], {"a": 2, "b": 1})
    assert [len(i.quotes) for i in tick1] == [0, 1] and [r.strategy for r in refused1] == ["a", "b"]
    tick2, refused2 = arbitrate([_intent("a", (BUY, 0.51)), _intent("b", (SELL, 0.50), (BUY, 0.40))],
                                [rest(Outcome.YES, BUY, 0.40, "b")], {"a": 2, "b": 1})
    assert [len(i.quotes) for i in tick2] == [1, 1] and [r.strategy for r in refused2] == ["b"]


def test_quotes_that_do_not_cross_pass_untouched() -> None:
    intents = [_intent("a", (BUY, 0.45), (SELL, 0.55)), _intent("b", (BUY, 0.44), (SELL, 0.56))]
    kept, refused = arbitrate(intents, [rest(Outcome.NO, BUY, 0.40, "c")], {})  # a YES ask at 0.60
    assert kept == intents and refused == []


def test_one_strategy_alone_is_never_held_back_by_its_own_quotes_or_orders() -> None:
    """A backtest's desk (one strategy): its quotes crossing each other and its own resting
    orders all pass; another strategy's order anywhere still gets the full arbitration."""
    intents = [_intent("mm", (BUY, 0.55), (SELL, 0.50)), _intent("mm", (SELL, 0.40))]
    kept, refused = arbitrate(intents, [rest(Outcome.YES, SELL, 0.52, "mm"), rest(Outcome.NO, BUY, 0.30, "mm")], {})
    assert kept == intents and kept is not intents and refused == []
    kept, refused = arbitrate(intents, [rest(Outcome.YES, BUY, 0.45, "value")], {})
    assert [len(i.quotes) for i in kept] == [2, 0] and [r.quote.price for r in refused] == [c(0.40)]
