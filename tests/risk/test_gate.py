"""Every limit trips, resizes where documented, and says why with a reason code."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from contracts.domain import Book, Intent, Level, MarketInfo, MarketView, Outcome, PositionView, Quote, Side, Tif
from contracts.limits import BY_NAME, LimitError, Limits, defaults, parse_value
from engine.execution.exposure import Exposure
from engine.execution.planner import OrderSpec
from engine.risk.gate import Reason, RiskContext, RiskGate, TradingState

SH = 1_000_000
NOW = 1_800_000_000_000
MARKET = MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=5 * SH, neg_risk_market_id="event-1")


def book(bid: float = 0.48, ask: float = 0.52, age_ms: int = 0) -> Book:
    return Book("Y", (Level(round(bid * 1e6), 100 * SH),), (Level(round(ask * 1e6), 100 * SH),), NOW - age_ms)


def ctx(*, limits: dict[str, str] | None = None, state: TradingState = TradingState.ACTIVE,
        exposure: Exposure | None = None, position: PositionView | None = None, age_ms: int = 0,
        open_orders: int = 0, yes: Book | None = None) -> RiskContext:
    values = dict(defaults().values)
    for name, raw in (limits or {}).items():
        values[name] = Decimal(raw)
    yes_book = yes if yes is not None else book(age_ms=age_ms)
    no_book = yes_book.mirrored("N")
    return RiskContext(
        now_ms=NOW, trading_state=state, limits=Limits(values), exposure=exposure or Exposure(),
        open_orders=open_orders, own_open_orders={},
        positions={("s", "c1"): position} if position else {},
        markets={"c1": MarketView(MARKET, yes_book, no_book)},
    )


def check(quotes: list[Quote], context: RiskContext) -> tuple[Intent, list]:
    return RiskGate().check_intent(Intent("s", "c1", tuple(quotes)), context)


def buy(price: float, size: float, tif: Tif = Tif.GTC) -> Quote:
    return Quote(Side.BUY, round(price * 1e6), round(size * SH), tif)


def sell(price: float, size: float, tif: Tif = Tif.GTC) -> Quote:
    return Quote(Side.SELL, round(price * 1e6), round(size * SH), tif)


def reasons(decisions: list) -> list[tuple[str, str, int]]:
    return [(d.reason.value, d.action, d.approved) for d in decisions]


def test_within_limits_everything_passes() -> None:
    intent, decisions = check([buy(0.48, 10), sell(0.52, 10)], ctx())
    assert decisions == [] and [q.size for q in intent.quotes] == [10 * SH, 10 * SH]


def test_max_total_exposure_resizes() -> None:
    # 10 pUSD of room left; a 0.50 bid for 40 shares costs 20: trimmed to 20 shares.
    intent, decisions = check([buy(0.50, 40)], ctx(limits={"max_total_exposure": "110"},
                                                   exposure=Exposure(total=100 * SH)))
    assert [q.size for q in intent.quotes] == [20 * SH]
    assert reasons(decisions) == [("MAX_TOTAL_EXPOSURE", "resize", 20 * SH)]


def test_max_total_exposure_denies_when_full() -> None:
    intent, decisions = check([buy(0.50, 40)], ctx(limits={"max_total_exposure": "100"},
                                                   exposure=Exposure(total=100 * SH)))
    assert intent.quotes == () and reasons(decisions) == [("MAX_TOTAL_EXPOSURE", "deny", 0)]


@pytest.mark.parametrize(("limit", "field", "key", "reason"), [
    ("max_market_exposure", "by_market", "c1", "MAX_MARKET_EXPOSURE"),
    ("max_strategy_exposure", "by_strategy", "s", "MAX_STRATEGY_EXPOSURE"),
    ("max_event_exposure", "by_event", "event-1", "MAX_EVENT_EXPOSURE"),
])
def test_scoped_exposure_limits_resize(limit: str, field: str, key: str, reason: str) -> None:
    exposure = replace(Exposure(total=50 * SH), **{field: {key: 50 * SH}})  # type: ignore[arg-type]  # the parametrized field is a map
    intent, decisions = check([buy(0.40, 100)], ctx(limits={limit: "70"}, exposure=exposure))
    assert [q.size for q in intent.quotes] == [50 * SH]  # 20 pUSD of room at 0.40
    assert reasons(decisions) == [(reason, "resize", 50 * SH)]


def test_selling_yes_not_held_costs_the_complement() -> None:
    # SELL YES at 0.80 with no YES held is buying NO at 0.20: 10 pUSD of room -> 50 shares.
    intent, decisions = check([sell(0.80, 100)], ctx(limits={"max_total_exposure": "10"}))
    assert [q.size for q in intent.quotes] == [50 * SH]


def test_own_working_orders_are_not_double_counted() -> None:
    exposure = Exposure(total=20 * SH, by_market={"c1": 20 * SH}, by_strategy={"s": 20 * SH},
                        by_event={"event-1": 20 * SH}, own_orders={("s", "c1"): 20 * SH})
    intent, decisions = check([buy(0.50, 40)], ctx(limits={"max_market_exposure": "20"}, exposure=exposure))
    assert decisions == [] and intent.quotes[0].size == 40 * SH


def test_max_order_size_resizes() -> None:
    intent, decisions = check([buy(0.50, 300)], ctx(limits={"max_order_size": "120"}))
    assert [q.size for q in intent.quotes] == [120 * SH]
    assert reasons(decisions) == [("MAX_ORDER_SIZE", "resize", 120 * SH)]


def test_min_order_value_denies() -> None:
    intent, decisions = check([buy(0.10, 5)], ctx(limits={"min_order_value": "1"}))
    assert intent.quotes == () and reasons(decisions) == [("MIN_ORDER_VALUE", "deny", 0)]


def test_max_open_orders_denies_extra_quotes() -> None:
    intent, decisions = check([buy(0.48, 10), buy(0.47, 10), sell(0.53, 10)],
                              ctx(limits={"max_open_orders": "5"}, open_orders=3))
    assert len(intent.quotes) == 2
    assert reasons(decisions) == [("MAX_OPEN_ORDERS", "deny", 0)]


def test_stale_data_denies_everything_in_that_market() -> None:
    intent, decisions = check([buy(0.48, 10), sell(0.52, 10)], ctx(limits={"max_data_age": "5"}, age_ms=6_000))
    assert intent.quotes == () and {d.reason for d in decisions} == {Reason.STALE_DATA}


def test_missing_book_is_stale_never_guessed() -> None:
    context = ctx()
    context = replace(context, markets={"c1": MarketView(MARKET, None, None)})
    intent, decisions = check([buy(0.48, 10)], context)
    assert intent.quotes == () and decisions[0].reason is Reason.STALE_DATA


def test_max_slippage_denies_takes_far_from_mid() -> None:
    intent, decisions = check([buy(0.60, 10, Tif.FAK)], ctx(limits={"max_slippage": "0.05"}))
    assert intent.quotes == () and reasons(decisions) == [("MAX_SLIPPAGE", "deny", 0)]
    ok, none = check([buy(0.53, 10, Tif.FAK)], ctx(limits={"max_slippage": "0.05"}))
    assert none == [] and len(ok.quotes) == 1


@pytest.mark.parametrize("tif", [Tif.GTC, Tif.GTD])
def test_max_slippage_holds_for_any_order_that_trades_on_arrival(tif: Tif) -> None:
    """A GTC BUY at 0.99 against asks from 0.52 executes at once like a take: the cap applies
    (live, one such BUY filled at an average 0.814 with the mid at 0.50). One that rests does not."""
    limits = {"max_slippage": "0.05"}
    intent, decisions = check([buy(0.99, 10, tif), sell(0.01, 10, tif)], ctx(limits=limits))
    assert intent.quotes == () and [r for r, *_ in reasons(decisions)] == ["MAX_SLIPPAGE", "MAX_SLIPPAGE"]
    resting, none = check([buy(0.40, 10, tif), sell(0.60, 10, tif)], ctx(limits=limits))
    assert none == [] and len(resting.quotes) == 2
    post_only, none = check([replace(buy(0.99, 10, tif), post_only=True)], ctx(limits=limits))
    assert none == [] and len(post_only.quotes) == 1  # never takes: the venue refuses it if it crosses


def test_take_without_a_mid_is_refused() -> None:
    one_sided = Book("Y", (), (Level(520_000, 10 * SH),), NOW)
    intent, decisions = check([buy(0.52, 10, Tif.FAK)], ctx(yes=one_sided))
    assert decisions[0].reason is Reason.NO_MID


def test_reducing_state_allows_only_risk_reducing_quantity() -> None:
    held = PositionView("c1", yes=30 * SH)
    intent, decisions = check([buy(0.48, 10), sell(0.52, 50)], ctx(state=TradingState.REDUCING, position=held))
    assert [(q.side, q.size) for q in intent.quotes] == [(Side.SELL, 30 * SH)]
    assert {d.reason for d in decisions} == {Reason.TRADING_REDUCING}


def test_pending_shares_are_not_reducible() -> None:
    # 30 YES bought but not yet settled: the planner cannot sell them, so a SELL 30 would be
    # routed as a BUY of 30 NO (new risk), which REDUCING must refuse.
    unsettled = PositionView("c1", yes=0, yes_pending=30 * SH)
    intent, decisions = check([sell(0.52, 30)], ctx(state=TradingState.REDUCING, position=unsettled))
    assert intent.quotes == () and reasons(decisions) == [("TRADING_REDUCING", "deny", 0)]
    # A pending sell already promised part of the settled shares: only the rest reduces.
    promised = PositionView("c1", yes=30 * SH, yes_pending=-10 * SH)
    intent, decisions = check([sell(0.52, 30)], ctx(state=TradingState.REDUCING, position=promised))
    assert [q.size for q in intent.quotes] == [20 * SH]
    # Buying YES back reduces settled NO the same way (NO is a short YES).
    short = PositionView("c1", no=0, no_pending=30 * SH)
    intent, _ = check([buy(0.48, 30)], ctx(state=TradingState.REDUCING, position=short))
    assert intent.quotes == ()
    assert check([buy(0.48, 30)], ctx(state=TradingState.REDUCING, position=PositionView("c1", no=30 * SH)))[0].quotes


def test_halted_state_refuses_everything() -> None:
    held = PositionView("c1", yes=30 * SH)
    intent, decisions = check([sell(0.52, 10)], ctx(state=TradingState.HALTED, position=held))
    assert intent.quotes == () and decisions[0].reason is Reason.TRADING_HALTED


def test_reducing_quantity_ignores_exposure_limits() -> None:
    held = PositionView("c1", yes=30 * SH)
    intent, decisions = check([sell(0.52, 30)], ctx(limits={"max_total_exposure": "0"}, position=held))
    assert decisions == [] and intent.quotes[0].size == 30 * SH


def test_order_rate_limit_refuses_placements_beyond_the_rate() -> None:
    gate = RiskGate()
    context = ctx(limits={"max_order_rate": "3"})
    spec = OrderSpec("Y", Outcome.YES, Side.BUY, 480_000, 10 * SH)
    verdicts = [gate.check_placement(context, "s", MARKET, spec) for _ in range(4)]
    assert verdicts == [None, None, None, Reason.MAX_ORDER_RATE]
    later = replace(context, now_ms=NOW + 61_000,
                    limits=Limits({**context.limits.values, "max_data_age": Decimal(3600)}))
    assert gate.check_placement(later, "s", MARKET, spec) is None


def test_placement_check_refuses_when_halted_or_stale() -> None:
    gate = RiskGate()
    spec = OrderSpec("Y", Outcome.YES, Side.BUY, 480_000, 10 * SH)
    assert gate.check_placement(ctx(state=TradingState.HALTED), "s", MARKET, spec) is Reason.TRADING_HALTED
    assert gate.check_placement(ctx(age_ms=60_000), "s", MARKET, spec) is Reason.STALE_DATA


def test_limit_values_are_validated_with_clear_messages() -> None:
    spec = BY_NAME["max_open_orders"]
    assert parse_value(spec, "12") == Decimal(12)
    with pytest.raises(LimitError, match="whole number"):
        parse_value(spec, "1.5")
    with pytest.raises(LimitError, match="between 0 and"):
        parse_value(BY_NAME["max_drawdown"], "150")
    with pytest.raises(LimitError, match="not a number"):
        parse_value(spec, "lots")


# -- limits hold within one tick: each approval consumes what the next intent sees ---------------


def many_markets(n: int) -> tuple[dict[str, MarketView], list[MarketInfo]]:
    infos = [MarketInfo(f"c{i}", "?", f"Y{i}", f"N{i}", tick=10_000, min_size=5 * SH) for i in range(n)]
    views = {}
    for info in infos:
        yes = Book(info.yes_token, (Level(480_000, 100 * SH),), (Level(520_000, 100 * SH),), NOW)
        views[info.condition_id] = MarketView(info, yes, yes.mirrored(info.no_token))
    return views, infos


def tick(limits: dict[str, str], n: int, quotes: tuple[Quote, ...],
         exposure: Exposure | None = None) -> list[Intent]:
    """One tick's intents, one per market, through one running budget (as RiskMonitor.check does)."""
    from engine.risk.gate import Budget

    views, infos = many_markets(n)
    context = replace(ctx(limits=limits, exposure=exposure), markets=views)
    gate, budget = RiskGate(), Budget.of(context.exposure, context.open_orders, context.own_open_orders)
    return [gate.check_intent(Intent("mm", info.condition_id, quotes), context, budget)[0] for info in infos]


def test_max_open_orders_holds_across_the_intents_of_one_tick() -> None:
    approved = tick({"max_open_orders": "10"}, 99, (buy(0.47, 10), sell(0.53, 10)))
    assert sum(len(i.quotes) for i in approved) == 10  # not 198: every approval took a slot


def test_exposure_limits_hold_across_the_intents_of_one_tick() -> None:
    approved = tick({"max_total_exposure": "20", "max_strategy_exposure": "1000"}, 10, (buy(0.50, 10),))
    cost = sum(q.size * q.price // SH for i in approved for q in i.quotes)
    assert cost <= 20 * SH and cost >= 15 * SH  # filled up to the limit, never past it
    strategy_capped = tick({"max_strategy_exposure": "12"}, 10, (buy(0.50, 10),))
    assert sum(q.size * q.price // SH for i in strategy_capped for q in i.quotes) <= 12 * SH


def test_an_intent_reuses_its_own_orders_budget_once() -> None:
    # mm already has 2 orders (and 9.6 pUSD of BUYs) in c0; the tick's new intent replaces them.
    exposure = Exposure(total=9_600_000, by_market={"c0": 9_600_000}, by_strategy={"mm": 9_600_000},
                        own_orders={("mm", "c0"): 9_600_000})
    views, _ = many_markets(2)
    context = replace(ctx(limits={"max_open_orders": "2", "max_total_exposure": "10"}, exposure=exposure),
                      markets=views, open_orders=2, own_open_orders={("mm", "c0"): 2})
    from engine.risk.gate import Budget

    gate, budget = RiskGate(), Budget.of(context.exposure, context.open_orders, context.own_open_orders)
    first, _ = gate.check_intent(Intent("mm", "c0", (buy(0.48, 10), buy(0.47, 10))), context, budget)
    second, why = gate.check_intent(Intent("mm", "c1", (buy(0.48, 10),)), context, budget)
    assert len(first.quotes) == 2  # its own two slots and its own exposure are its to reuse
    assert second.quotes == () and {d.reason for d in why} & {Reason.MAX_OPEN_ORDERS, Reason.MAX_TOTAL_EXPOSURE}


def test_the_placement_check_counts_the_orders_open_right_now() -> None:
    gate = RiskGate()
    spec = OrderSpec("Y", Outcome.YES, Side.BUY, 480_000, 10 * SH)
    context = ctx(limits={"max_open_orders": "3"})
    assert [gate.check_placement(context, "s", MARKET, spec, n) for n in range(5)] == \
        [None, None, None, Reason.MAX_OPEN_ORDERS, Reason.MAX_OPEN_ORDERS]
