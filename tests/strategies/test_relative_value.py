"""Pairs / relative value: the spread against the reference price, or between two markets, traded
when its z-score passes entry_z and back to flat inside exit_z; each leg a take toward its target."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import MarketView, Quote, Side, Snapshot, Tif
from engine.strategies.relative_value import RelativeValue
from tests.strategies.builders import book, px, sh, snap, state, view

BASE = {"lookback_s": 100, "entry_z": 2.0, "exit_z": 0.5, "min_std": 0.005, "warmup_s": 0, "size": 20}


def market(cid: str, bid: str, ask: str, reference: str | None = None, at: int = 0) -> MarketView:
    priced = view(cid, yes=book(bids=[(bid, 100)], asks=[(ask, 100)]), reference=reference)
    return replace(priced, reference_at=at if reference is not None else None)


def flat(strategy: RelativeValue, views: Snapshot | None = None, samples: int = 5) -> None:
    for second in range(samples):
        shown = views or snap(market("c1", "0.49", "0.51", "0.50", second * 1000))
        strategy.decide(shown, state(), second * 1000)


def test_against_the_reference_a_rich_market_is_sold_and_bought_back_as_the_spread_returns() -> None:
    rv = RelativeValue("rv", BASE)
    flat(rv)
    [rich] = rv.decide(snap(market("c1", "0.52", "0.54", "0.50", 5_000)), state(), 5_000)  # spread 0.03: z 6
    assert rich.quotes == (Quote(Side.SELL, px("0.52"), sh(20), Tif.FAK),) and "z +6.00" in rich.reason
    [back] = rv.decide(snap(market("c1", "0.49", "0.51", "0.50", 6_000)), state(positions={"c1": -20}), 6_000)
    assert back.quotes == (Quote(Side.BUY, px("0.51"), sh(20), Tif.FAK),)  # inside exit_z: flat again


def test_a_stale_reference_prices_no_spread() -> None:
    rv = RelativeValue("rv", {**BASE, "stale_after_s": 10})
    [intent] = rv.decide(snap(market("c1", "0.49", "0.51", "0.50", at=0)), state(), 11_000)
    assert intent.quotes == () and "no spread yet" in intent.reason


def test_two_markets_same_question_the_rich_one_sold_the_cheap_one_bought() -> None:
    rv = RelativeValue("rv", {**BASE, "against": "other_market"})
    assert rv.decides_whole()
    flat(rv, snap(market("a", "0.49", "0.51"), market("b", "0.49", "0.51")))
    intents = rv.decide(snap(market("a", "0.52", "0.54"), market("b", "0.49", "0.51")), state(), 5_000)
    assert {i.condition_id: i.quotes for i in intents} == {
        "a": (Quote(Side.SELL, px("0.52"), sh(20), Tif.FAK),), "b": (Quote(Side.BUY, px("0.51"), sh(20), Tif.FAK),)}


def test_two_markets_inverse_both_sold_when_their_sum_is_rich_and_exactly_two_are_needed() -> None:
    rv = RelativeValue("rv", {**BASE, "against": "other_market", "relation": "inverse"})
    flat(rv, snap(market("a", "0.49", "0.51"), market("b", "0.49", "0.51")))
    intents = rv.decide(snap(market("a", "0.52", "0.54"), market("b", "0.49", "0.51")), state(), 5_000)
    assert [(i.condition_id, i.quotes[0].side) for i in intents] == [("a", Side.SELL), ("b", Side.SELL)]
    three = rv.decide(snap(market("a", "0.49", "0.51"), market("b", "0.49", "0.51"), market("c", "0.4", "0.6")),
                      state(), 6_000)
    assert all(i.quotes == () and "needs exactly two" in i.reason for i in three)


def test_a_restart_keeps_the_spreads_statistics() -> None:
    rv = RelativeValue("rv", BASE)
    flat(rv)
    restarted = RelativeValue("rv", BASE)
    restarted.recall(rv.memory())
    [rich] = restarted.decide(snap(market("c1", "0.52", "0.54", "0.50", 5_000)), state(), 5_000)
    assert rich.quotes
