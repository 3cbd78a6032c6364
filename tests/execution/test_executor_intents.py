"""The executor's intents between passes (engine/execution/executor.py): withdrawing one strategy
empties its intents and ends its working orders, found after a restart too, and touches no other
strategy's; an intent that changes nothing is recognised as such (the event-driven path skips the
gate then), and one that would move an order is not; orders in a market that closes end saying
which way it closed. On a real SQLite file with the paper venue. Written against mutations the
mutation run (`make mutation`) found surviving."""

from __future__ import annotations

from dataclasses import replace

from contracts import order_end
from contracts.domain import Intent, Side, Tif
from tests.desk import Desk
from tests.execution.test_executor import quote, step


def _working(desk: Desk) -> list[tuple[str, str]]:
    return desk.rows("SELECT strategy, condition_id FROM orders WHERE status = 'LIVE' ORDER BY id")


def _ended(desk: Desk) -> list[tuple[str, str]]:
    return desk.rows("SELECT strategy, end_reason FROM orders WHERE status != 'LIVE' ORDER BY id")


def _two_strategies_quoting(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("a", "c1", (quote(Side.BUY, 0.47, 10),)), Intent("b", "c1", (quote(Side.BUY, 0.46, 10),)))
    assert _working(desk) == [("a", "c1"), ("b", "c1")]


def test_withdrawing_a_strategy_empties_its_intents_and_ends_only_its_orders(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    step(desk, Intent("a", "c2", (quote(Side.BUY, 0.40, 1),)))  # below the market's minimum size: nothing placed
    desk.executor.withdraw("a", order_end.PAUSED)
    assert desk.executor.latest[("a", "c1")] == Intent("a", "c1", (), order_end.PAUSED)
    assert desk.executor.latest[("a", "c2")] == Intent("a", "c2", (), order_end.PAUSED)
    assert desk.executor.latest[("b", "c1")].quotes
    step(desk)
    assert _working(desk) == [("b", "c1")] and _ended(desk) == [("a", order_end.PAUSED)]


def test_withdrawing_after_a_restart_ends_the_orders_no_intent_holds_yet(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    desk.executor.latest.clear()  # as at a start: the orders are loaded, no strategy has decided yet
    desk.executor.withdraw("a")
    assert set(desk.executor.latest) == {("a", "c1")}
    step(desk)
    assert _working(desk) == [("b", "c1")] and _ended(desk) == [("a", order_end.WITHDRAWN)]


def test_an_intent_in_force_whose_plan_moves_nothing_is_unchanged(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    same = Intent("a", "c1", (quote(Side.BUY, 0.47, 10),))
    assert desk.executor.unchanged(same)
    assert not desk.executor.unchanged(Intent("a", "c1", (quote(Side.BUY, 0.45, 10),)))  # not the one in force
    desk.executor.set_intents([Intent("a", "c1", (quote(Side.BUY, 0.45, 10),))])
    assert not desk.executor.unchanged(Intent("a", "c1", (quote(Side.BUY, 0.45, 10),)))  # in force, moves an order


def test_an_empty_intent_is_unchanged_only_where_nothing_is_in_force_or_working(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    assert desk.executor.unchanged(Intent("c", "c1", ()))  # nothing of c's anywhere
    assert not desk.executor.unchanged(Intent("a", "c1", ()))  # a's order works there
    desk.executor.latest.clear()
    assert not desk.executor.unchanged(Intent("a", "c1", ()))  # working though no intent is in force


def test_a_take_or_a_closed_market_is_never_unchanged(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    take = Intent("a", "c1", (quote(Side.BUY, 0.52, 5, Tif.FAK),))
    desk.executor.set_intents([take])
    assert not desk.executor.unchanged(take)
    resting = Intent("b", "c1", (quote(Side.BUY, 0.46, 10),))
    assert desk.executor.unchanged(resting)
    desk.catalog.close("c1")
    assert not desk.executor.unchanged(resting)


def test_orders_in_a_closed_market_end_saying_how_it_closed(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    market = desk.catalog.get("c1")
    assert market is not None
    desk.catalog.add(replace(market, accepting_orders=False))
    step(desk)
    assert _ended(desk) == [("a", "market closed: not accepting orders"), ("b", "market closed: not accepting orders")]
    desk.books.set("Y2", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("a", "c2", (quote(Side.BUY, 0.47, 10),)))
    desk.catalog.close("c2")
    step(desk)
    assert _ended(desk)[-1] == ("a", order_end.MARKET_CLOSED)
