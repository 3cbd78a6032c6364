"""The executor's intents between passes (engine/execution/executor.py): withdrawing one strategy
empties its intents and ends its working orders, found after a restart too, and touches no other
strategy's; an intent that changes nothing is recognised as such (the event-driven path skips the
gate then), and one that would move an order is not; a take is sent once; an intent for a market
the desk does not know holds up no other; the keep distance reaches the planner; an arbitrage group
that cannot go whole sends no leg and reports each; orders in a market that closes end saying which
way it closed. On a real SQLite file with the paper venue. Written against mutations the mutation
run (`make mutation`) found surviving."""

from __future__ import annotations

from dataclasses import replace

from contracts import order_end
from contracts.domain import Intent, MarketInfo, Outcome, Side, Tif
from engine.execution.executor import Executor
from engine.execution.planner import OrderSpec
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


def test_withdrawing_every_strategy_ends_every_strategys_orders(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    desk.executor.withdraw()
    step(desk)
    assert _working(desk) == [] and _ended(desk) == [("a", order_end.WITHDRAWN), ("b", order_end.WITHDRAWN)]


def test_a_take_is_sent_once_and_leaves_nothing_in_force(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.52, 5, Tif.FAK),), "edge"))
    step(desk)
    assert desk.rows("SELECT strategy, tif, status FROM orders") == [("v", "FAK", "FILLED")]
    assert ("v", "c1") not in desk.executor.latest
    refused = Intent("r", "c1", (quote(Side.BUY, 0.40, 1),))  # below the minimum size: nothing works, yet wanted
    step(desk, refused)
    assert desk.executor.latest[("r", "c1")] == refused


def test_an_intent_for_a_market_the_desk_does_not_know_holds_up_no_other(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("a", "unknown", (quote(Side.BUY, 0.40, 10),)), Intent("a", "c1", (quote(Side.BUY, 0.47, 10),)))
    assert _working(desk) == [("a", "c1")]
    assert ("a", "unknown") not in desk.executor.latest  # nothing works there: forgotten


def test_an_order_within_the_intents_keep_distance_keeps_its_place(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.46, 10),), keep_within=20_000))
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),), keep_within=20_000))
    assert desk.rows("SELECT price, status FROM orders") == [(460_000, "LIVE")]


def test_every_leg_of_an_arbitrage_group_that_cannot_go_whole_is_held_back_and_reported(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    legs = (replace(quote(Side.BUY, 0.45, 10), group="g1", on_partial="unwind"),
            replace(quote(Side.SELL, 0.60, 1), group="g1", on_partial="unwind"))  # under the minimum size
    desk.executor.set_intents([Intent("arb", "c1", legs)])
    places, cancels, report = desk.executor.plan_all()
    assert places == [] and cancels == []
    [(key, residuals)] = report.residuals.items()
    assert key == ("arb", "c1")
    assert [r.code for r in residuals] == ["BELOW_MIN_SIZE", "GROUP_INCOMPLETE"]
    assert (residuals[1].outcome, residuals[1].side, residuals[1].price, residuals[1].size) == (
        Outcome.YES, Side.BUY, 450_000, 10_000_000)


def test_an_operator_placement_waits_for_the_gate_unless_it_is_the_kills_flatten(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    market = desk.catalog.get("c1")
    assert market is not None
    place = ("manual", market, OrderSpec("Y1", Outcome.YES, Side.BUY, 450_000, 10_000_000), "ticket")
    desk.executor.gate.block()
    assert desk.run(desk.executor.place_now([place])).count == 0
    assert desk.run(desk.executor.place_now([place], override_block=True)).count == 1
    desk.settle()
    assert desk.rows("SELECT strategy, price, status FROM orders") == [("manual", 450_000, "LIVE")]


def test_an_operator_cancel_ends_the_orders_it_names_with_its_reason(desk: Desk) -> None:
    _two_strategies_quoting(desk)
    desk.executor.latest.clear()  # nothing in force would re-place them
    orders = desk.executor.state.open_for("a", "c1")
    assert desk.run(desk.executor.cancel_orders(orders, why=order_end.OPERATOR)) == 1
    desk.settle()
    assert _working(desk) == [("b", "c1")] and _ended(desk) == [("a", order_end.OPERATOR)]


def test_a_take_beside_resting_quotes_is_sent_once_and_the_quotes_stay_in_force(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.52, 5, Tif.FAK), quote(Side.BUY, 0.45, 10)), "edge"))
    step(desk)
    assert desk.rows("SELECT tif, price, status FROM orders ORDER BY id") == [("FAK", 520_000, "FILLED"),
                                                                               ("GTC", 450_000, "LIVE")]
    assert desk.executor.latest[("v", "c1")].quotes == (quote(Side.BUY, 0.45, 10),)


def test_an_intent_in_force_not_yet_placed_is_not_unchanged(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    wanted = Intent("c", "c1", (quote(Side.BUY, 0.44, 10),))
    desk.executor.set_intents([wanted])
    assert not desk.executor.unchanged(wanted)  # its order is still to be placed


def test_an_arbitrage_group_whose_legs_can_all_go_is_placed_whole(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    legs = (replace(quote(Side.BUY, 0.45, 10), group="g1"), replace(quote(Side.SELL, 0.60, 10), group="g1"))
    desk.executor.set_intents([Intent("arb", "c1", legs)])
    places, _, report = desk.executor.plan_all()
    assert [(spec.side, spec.group) for _, _, spec, _ in places] == [(Side.BUY, "g1"), (Side.BUY, "g1")]
    assert report.residuals == {}


def test_a_group_broken_in_one_market_holds_back_its_leg_in_another(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    desk.executor.set_intents([Intent("arb", "c1", (replace(quote(Side.BUY, 0.45, 10), group="g2"),)),
                               Intent("arb", "c2", (replace(quote(Side.BUY, 0.45, 1), group="g2"),))])
    places, _, report = desk.executor.plan_all()
    assert places == []
    assert [r.code for r in report.residuals[("arb", "c1")]] == ["GROUP_INCOMPLETE"]
    assert [r.code for r in report.residuals[("arb", "c2")]] == ["BELOW_MIN_SIZE"]


def test_the_risk_gates_last_check_given_at_construction_holds_every_placement(desk: Desk) -> None:
    """As the trading core builds its executors (engine/trading/ledgers/venue_link.py): the check is a
    constructor argument, and what it refuses never reaches the venue."""
    asked: list[tuple[str, int]] = []

    def refuse_all(strategy: str, market: MarketInfo, spec: OrderSpec, open_now: int) -> str | None:
        asked.append((strategy, open_now))
        return "TRADING_HALTED"

    checked = Executor(desk.db, desk.venue, desk.catalog, mode="paper", clock=desk.clock, placement_check=refuse_all)
    checked.load()
    checked.gate.unblock()
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    checked.set_intents([Intent("a", "c1", (quote(Side.BUY, 0.47, 10),))])
    desk.run(checked.reconcile())
    assert asked == [("a", 0)] and desk.rows("SELECT COUNT(*) FROM orders") == [(0,)]
