"""The risk gate's bookkeeping between quotes and between intents: the room one quote spends is
gone for the next, a holding is reduced once, a take is recognised at the touch, an event's and
a correlated group's exposure add up across the markets of one tick, and the last check before
an order leaves holds at its boundaries. Each test here was written against a mutation the
mutation run (`make mutation`) found surviving in engine/risk/gate.py."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from contracts import order_end
from contracts.domain import Book, Intent, Level, MarketInfo, MarketView, Outcome, PositionView, Quote, Side, Tif
from contracts.limits import Limits
from engine.execution.exposure import Exposure
from engine.execution.planner import OrderSpec
from engine.risk.gate import Budget, Reason, RiskContext, RiskGate, TradingState
from tests.risk.test_gate import MARKET, NOW, SH, buy, check, ctx, reasons, sell

WIDE = Book("Y", (Level(400_000, 100 * SH),), (Level(600_000, 100 * SH),), NOW)  # mid 0.50
SPEC = OrderSpec("Y", Outcome.YES, Side.BUY, 480_000, 10 * SH)


def sizes(intent: Intent) -> list[tuple[Side, int, int]]:
    return [(q.side, q.price, q.size) for q in intent.quotes]


def test_the_quotes_of_one_intent_share_its_room_best_buy_first() -> None:
    # 10 pUSD of room: the 0.50 BUY (listed second) is sized first and takes 7.5, the 0.40 BUY the 2.5 left.
    intent, decisions = check([buy(0.40, 15), buy(0.50, 15)], ctx(limits={"max_total_exposure": "10"}))
    assert sizes(intent) == [(Side.BUY, 500_000, 15 * SH), (Side.BUY, 400_000, 6_250_000)]
    assert reasons(decisions) == [("MAX_TOTAL_EXPOSURE", "resize", 6_250_000)]
    assert decisions[0].detail == "room 2.50 pUSD"
    assert all(type(q.size) is int for q in intent.quotes)  # micro-shares stay whole numbers


def test_buys_are_sized_before_sells() -> None:
    # The BUY's 10 pUSD fills the room; the SELL of YES not held (a BUY of NO at 0.40) finds none.
    intent, decisions = check([sell(0.60, 25), buy(0.50, 20)], ctx(limits={"max_total_exposure": "10"}))
    assert sizes(intent) == [(Side.BUY, 500_000, 20 * SH)]
    assert reasons(decisions) == [("MAX_TOTAL_EXPOSURE", "deny", 0)]


def test_a_holding_is_reduced_once_however_many_sells_ask_for_it() -> None:
    held = PositionView("c1", yes=10 * SH)
    intent, decisions = check([sell(0.52, 10), sell(0.55, 10)], ctx(state=TradingState.REDUCING, position=held))
    assert sizes(intent) == [(Side.SELL, 520_000, 10 * SH)]
    assert reasons(decisions) == [("TRADING_REDUCING", "deny", 0)]


def test_a_refused_dust_sell_leaves_the_holding_for_the_next_sell() -> None:
    # The 0.50 SELL of 1 is sized first (sells: lowest first) and refused as dust (0.50 pUSD < 1):
    # the share it would have reduced is still there for the 0.52 SELL of all 30.
    held = PositionView("c1", yes=30 * SH)
    intent, decisions = check([sell(0.52, 30), sell(0.50, 1)], ctx(state=TradingState.REDUCING, position=held))
    assert sizes(intent) == [(Side.SELL, 520_000, 30 * SH)]
    assert reasons(decisions) == [("MIN_ORDER_VALUE", "deny", 0)] and decisions[0].detail == ""


def test_a_sell_of_what_is_held_while_reducing_is_not_a_trim() -> None:
    held = PositionView("c1", yes=10 * SH)
    intent, decisions = check([sell(0.52, 10)], ctx(state=TradingState.REDUCING, position=held))
    assert sizes(intent) == [(Side.SELL, 520_000, 10 * SH)] and decisions == []


def test_a_trimmed_quote_is_logged_with_its_first_reason_and_its_final_size() -> None:
    # Trimmed to 120 by the order size, then to 50 by the 25 pUSD of room: the decision says 50.
    intent, decisions = check([buy(0.50, 300)], ctx(limits={"max_order_size": "120", "max_total_exposure": "25"}))
    assert sizes(intent) == [(Side.BUY, 500_000, 50 * SH)]
    assert [(d.strategy, d.condition_id, d.side, d.requested, d.reason, d.approved) for d in decisions] == [
        ("s", "c1", Side.BUY, 300 * SH, Reason.MAX_ORDER_SIZE, 50 * SH)]
    assert decisions[0].detail == ""


def test_an_order_whose_cost_rounded_down_is_exactly_the_room_passes_whole() -> None:
    # 0.01 share at 0.333333 costs 0.00333333, booked as 3,333 micro-pUSD: exactly the room left.
    third = Quote(Side.BUY, 333_333, 10_000)
    intent, decisions = check([third], ctx(limits={"max_total_exposure": "0.003333", "min_order_value": "0"}))
    assert decisions == [] and sizes(intent) == [(Side.BUY, 333_333, 10_000)]


def test_a_take_without_a_mid_approves_nothing() -> None:
    one_sided = Book("Y", (), (Level(520_000, 10 * SH),), NOW)
    intent, decisions = check([buy(0.52, 10, Tif.FAK)], ctx(yes=one_sided))
    assert intent.quotes == () and reasons(decisions) == [("NO_MID", "deny", 0)]
    assert decisions[0].detail == "a take needs a two-sided book"


def test_an_order_at_the_touch_is_a_take_and_one_inside_it_rests() -> None:
    limits = {"max_slippage": "0.05"}
    at_touch, decisions = check([buy(0.60, 10), sell(0.40, 10)], ctx(limits=limits, yes=WIDE))
    assert at_touch.quotes == () and [r for r, *_ in reasons(decisions)] == ["MAX_SLIPPAGE", "MAX_SLIPPAGE"]
    assert decisions[0].detail == "price 0.6000 vs mid 0.5000"
    inside, none = check([buy(0.44, 10), sell(0.56, 10)], ctx(limits=limits, yes=WIDE))
    assert none == [] and len(inside.quotes) == 2  # 0.06 from the mid, but resting: no slippage


def test_a_bid_into_a_book_with_no_asks_rests() -> None:
    bids_only = Book("Y", (Level(400_000, 100 * SH),), (), NOW)
    intent, decisions = check([buy(0.30, 10)], ctx(yes=bids_only))
    assert decisions == [] and sizes(intent) == [(Side.BUY, 300_000, 10 * SH)]


def test_every_quote_beyond_the_open_order_limit_is_refused_with_its_reason() -> None:
    intent, decisions = check([buy(0.48, 10), buy(0.47, 10), buy(0.46, 10)],
                              ctx(limits={"max_open_orders": "4"}, open_orders=3))
    assert sizes(intent) == [(Side.BUY, 480_000, 10 * SH)]
    assert reasons(decisions) == [("MAX_OPEN_ORDERS", "deny", 0)] * 2
    assert decisions[0].detail == "limit 4"


def test_a_strategys_own_orders_return_to_its_own_room() -> None:
    exposure = Exposure(total=20 * SH, by_market={"c1": 20 * SH}, by_strategy={"s": 20 * SH},
                        by_event={"event-1": 20 * SH}, own_orders={("s", "c1"): 20 * SH})
    intent, decisions = check([buy(0.50, 40)], ctx(limits={"max_strategy_exposure": "20"}, exposure=exposure))
    assert decisions == [] and sizes(intent) == [(Side.BUY, 500_000, 40 * SH)]


def _one_tick(limits: dict[str, str], infos: list[MarketInfo], groups: dict[str, str] | None = None,
                 exposure: Exposure | None = None) -> list[Intent]:
    """One tick's intents for `infos`, one BUY of 15 at 0.50 each, through one running budget."""
    base = ctx(limits=limits, exposure=exposure)
    views = {i.condition_id: MarketView(i, WIDE, WIDE.mirrored(i.no_token)) for i in infos}
    context = replace(base, markets=views, groups=groups or {})
    gate, budget = RiskGate(), Budget.of(context.exposure, 0, {}, context.groups)
    return [gate.check_intent(Intent("s", i.condition_id, (buy(0.50, 15),)), context, budget)[0] for i in infos]


def test_an_events_exposure_adds_up_across_its_markets_in_one_tick() -> None:
    infos = [MarketInfo(f"e{i}", "?", f"Y{i}", f"N{i}", tick=10_000, min_size=SH, neg_risk_market_id="ev")
             for i in range(2)]
    first, second = _one_tick({"max_event_exposure": "10"}, infos)
    assert [q.size for q in first.quotes] == [15 * SH] and [q.size for q in second.quotes] == [5 * SH]


def test_a_correlated_groups_exposure_adds_up_across_its_markets() -> None:
    infos = [MarketInfo(f"g{i}", "?", f"Y{i}", f"N{i}", tick=10_000, min_size=SH) for i in range(3)]
    groups = {"g0": "together", "g1": "together"}  # g2 is its own
    first, second, alone = _one_tick({"max_correlated_exposure": "10"}, infos, groups)
    assert [len(i.quotes) and i.quotes[0].size for i in (first, second, alone)] == [15 * SH, 5 * SH, 15 * SH]
    # Exposure held before the tick in the group's markets is the group's, all of it.
    held = Exposure(total=8 * SH, by_market={"g1": 4 * SH, "g0": 4 * SH})
    [trimmed] = _one_tick({"max_correlated_exposure": "10"}, infos[:1], groups, held)
    assert [q.size for q in trimmed.quotes] == [4 * SH]


def test_a_market_in_no_group_is_its_own_group() -> None:
    infos = [MarketInfo(f"u{i}", "?", f"Y{i}", f"N{i}", tick=10_000, min_size=SH) for i in range(3)]
    assert [i.quotes[0].size for i in _one_tick({"max_correlated_exposure": "10"}, infos)] == [15 * SH] * 3
    held = Exposure(total=16 * SH, by_market={"u1": 8 * SH, "u2": 8 * SH})
    first, second = _one_tick({"max_correlated_exposure": "10"}, infos[:2], {}, held)
    assert [q.size for q in first.quotes] == [15 * SH] and [q.size for q in second.quotes] == [4 * SH]


def test_a_third_intent_sees_what_the_first_two_spent() -> None:
    infos = [MarketInfo(f"e{i}", "?", f"Y{i}", f"N{i}", tick=10_000, min_size=SH, neg_risk_market_id="ev")
             for i in range(3)]
    assert [i.quotes[0].size for i in _one_tick({"max_event_exposure": "20"}, infos)] == [15 * SH, 15 * SH,
                                                                                           10 * SH]
    grouped = {info.condition_id: "together" for info in infos}
    assert [i.quotes[0].size for i in _one_tick({"max_correlated_exposure": "20"}, infos, grouped)] == [
        15 * SH, 15 * SH, 10 * SH]
    context = replace(ctx(limits={"max_market_exposure": "20", "max_strategy_exposure": "1000"}),
                      markets={"c1": MarketView(MARKET, WIDE, WIDE.mirrored("N"))})
    for limit in ("max_market_exposure", "max_correlated_exposure"):  # c1 is in no group: its own
        limited = replace(context, limits=Limits({**context.limits.values, "max_market_exposure": Decimal(1000),
                                                  limit: Decimal(20)}))
        gate, budget = RiskGate(), Budget.of(limited.exposure, 0, {})
        sized = [gate.check_intent(Intent(s, "c1", (buy(0.50, 15),)), limited, budget)[0] for s in ("s1", "s2", "s3")]
        assert [i.quotes[0].size for i in sized] == [15 * SH, 15 * SH, 10 * SH]


def test_a_budgets_copy_is_equal_and_independent() -> None:
    budget = Budget.of(Exposure(total=5, by_market={"c1": 5}, own_orders={("s", "c1"): 5}), 2, {("s", "c1"): 1},
                       {"c1": "g"})
    trial = budget.copy()
    assert trial == budget
    trial.spend("s", MARKET, 7)
    trial.release("s", MARKET)
    assert budget.total == 5 and budget.by_market == {"c1": 5} and budget.by_group == {"g": 5}
    assert budget.own_orders == {("s", "c1"): 5} and budget.open_orders == 2


def test_the_last_check_refuses_a_halted_strategy_and_a_market_it_cannot_see() -> None:
    halted = replace(ctx(), strategy_states={"s": TradingState.HALTED})
    assert RiskGate().check_placement(halted, "s", MARKET, SPEC) is Reason.STRATEGY_HALTED
    assert RiskGate().check_placement(halted, "other", MARKET, SPEC) is None
    unseen = replace(ctx(), markets={})
    assert RiskGate().check_placement(unseen, "s", MARKET, SPEC) is Reason.STALE_DATA


def test_the_last_check_takes_a_book_exactly_the_max_data_age_old_as_fresh() -> None:
    context = ctx(limits={"max_data_age": "5"}, age_ms=5_000)
    assert RiskGate().check_placement(context, "s", MARKET, SPEC) is None
    assert RiskGate().check_placement(context, "s", MARKET, SPEC, now_ms=NOW + 1) is Reason.STALE_DATA


def test_an_exit_cooldown_ends_at_its_time_and_a_volatile_market_only_reduces() -> None:
    cooling: RiskContext = replace(ctx(), cooldowns={("s", "c1"): NOW + 1})
    assert cooling.reducing_reason("s", "c1") is Reason.EXIT_COOLDOWN
    assert replace(cooling, now_ms=NOW + 1).reducing_reason("s", "c1") is None
    volatile = replace(ctx(position=PositionView("c1", yes=10 * SH)), market_states={"c1": TradingState.REDUCING})
    intent, decisions = check([buy(0.48, 10), sell(0.52, 20)], volatile)
    assert sizes(intent) == [(Side.SELL, 520_000, 10 * SH)]
    assert {d.reason for d in decisions} == {Reason.VOLATILITY_REDUCING}


def test_an_intent_refused_whole_says_which_protections_ended_its_orders() -> None:
    halted, decisions = check([buy(0.48, 10), sell(0.52, 10)], ctx(state=TradingState.HALTED))
    assert halted.quotes == () and halted.reason == f"{order_end.PROTECTION}: TRADING_HALTED"
    assert reasons(decisions) == [("TRADING_HALTED", "deny", 0)] * 2 and {d.detail for d in decisions} == {""}
    refused, _ = check([buy(0.10, 5), buy(0.48, 10)], ctx(limits={"max_open_orders": "1"}, open_orders=1))
    assert refused.reason == f"{order_end.PROTECTION}: MAX_OPEN_ORDERS"
    mixed, _ = check([buy(0.10, 5), buy(0.60, 10, Tif.FAK)], ctx())  # dust, and a take far from the mid
    assert mixed.reason == f"{order_end.PROTECTION}: MAX_SLIPPAGE, MIN_ORDER_VALUE"


def test_an_intent_approved_in_part_keeps_its_own_reason() -> None:
    intent = Intent("s", "c1", (buy(0.10, 5), buy(0.48, 10)), "quoting")
    approved, _ = RiskGate().check_intent(intent, ctx())
    assert sizes(approved) == [(Side.BUY, 480_000, 10 * SH)] and approved.reason == "quoting"
