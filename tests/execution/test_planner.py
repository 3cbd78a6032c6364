"""The planner: legal orders only, reduce-first complement routing, no oversell, no SELL overlap."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.domain import ONE, MarketInfo, Outcome, Quote, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution.planner import (
    LOT,
    Holdings,
    OrderSpec,
    WorkingOrder,
    plan,
    round_price,
    route,
    take_size,
)

MARKET = MarketInfo(condition_id="c1", question="?", yes_token="Y", no_token="N", tick=10_000, min_size=5_000_000)
FINE = MarketInfo(condition_id="c1", question="?", yes_token="Y", no_token="N", tick=1_000, min_size=5_000_000)
SH = 1_000_000  # one share


def q(side: Side, price: float, size: float, tif: Tif = Tif.GTC) -> Quote:
    return Quote(side, round(price * ONE), round(size * SH), tif)


def working(cid: str, token: str, side: Side, price: float, size: float, filled: float = 0,
            status: OrderStatus = OrderStatus.LIVE, tif: Tif = Tif.GTC) -> WorkingOrder:
    return WorkingOrder(cid, token, side, round(price * ONE), round(size * SH), round(filled * SH), tif, status)


def test_sell_yes_not_held_becomes_buy_no_at_the_complement() -> None:
    specs, residuals = route([q(Side.SELL, 0.60, 10)], MARKET, Holdings())
    assert specs == [OrderSpec("N", Outcome.NO, Side.BUY, 400_000, 10 * SH)]
    assert residuals == []


def test_reduce_first_then_complement() -> None:
    specs, residuals = route([q(Side.SELL, 0.60, 16)], MARKET, Holdings(yes=6 * SH))
    assert specs == [
        OrderSpec("Y", Outcome.YES, Side.SELL, 600_000, 6 * SH),
        OrderSpec("N", Outcome.NO, Side.BUY, 400_000, 10 * SH),
    ]
    assert residuals == []
    # The 4-share complement left after selling 6 is below the 5-share minimum: a residual.
    specs, residuals = route([q(Side.SELL, 0.60, 10)], MARKET, Holdings(yes=6 * SH))
    assert specs == [OrderSpec("Y", Outcome.YES, Side.SELL, 600_000, 6 * SH)]
    assert [(r.outcome, r.size) for r in residuals] == [(Outcome.NO, 4 * SH)]


def test_buy_yes_while_holding_no_sells_the_no_first() -> None:
    specs, residuals = route([q(Side.BUY, 0.45, 20)], MARKET, Holdings(no=8 * SH))
    assert specs == [
        OrderSpec("N", Outcome.NO, Side.SELL, 550_000, 8 * SH),
        OrderSpec("Y", Outcome.YES, Side.BUY, 450_000, 12 * SH),
    ]
    assert residuals == []


def test_a_remainder_below_the_minimum_is_sold_with_the_lot() -> None:
    """Holding 12 YES, a 10-share ask would leave 2 (under the 5-share minimum: never sellable alone):
    the 2 go with it; leaving 6 (sellable later) is left as asked."""
    specs, _ = route([q(Side.SELL, 0.60, 10)], MARKET, Holdings(yes=12 * SH))
    assert specs == [OrderSpec("Y", Outcome.YES, Side.SELL, 600_000, 12 * SH)]
    specs, _ = route([q(Side.SELL, 0.60, 10)], MARKET, Holdings(yes=16 * SH))
    assert specs == [OrderSpec("Y", Outcome.YES, Side.SELL, 600_000, 10 * SH)]


def test_sub_minimum_reduce_goes_entirely_to_the_complement() -> None:
    specs, _ = route([q(Side.SELL, 0.60, 10)], MARKET, Holdings(yes=3 * SH))
    assert specs == [OrderSpec("N", Outcome.NO, Side.BUY, 400_000, 10 * SH)]


def test_sub_minimum_intent_is_an_explicit_residual() -> None:
    specs, residuals = route([q(Side.BUY, 0.50, 3)], MARKET, Holdings())
    assert specs == []
    assert [(r.size, r.reason) for r in residuals] == [(3 * SH, "below the market's minimum size")]


def test_prices_round_to_the_tick_never_worse() -> None:
    assert round_price(523_400, Side.BUY, 10_000) == 520_000
    assert round_price(523_400, Side.SELL, 10_000) == 530_000
    specs, residuals = route([q(Side.BUY, 0.004, 10)], MARKET, Holdings())
    assert specs == [] and residuals[0].reason == "price outside [tick, 1 - tick]"


def test_take_sizes_have_venue_precision() -> None:
    size = take_size(520_000, 10_330_000, Side.BUY)
    assert size <= 10_330_000 and (520_000 * size) % (10_000 * 1_000_000) == 0
    assert take_size(520_000, 10_000_000, Side.BUY) == 10_000_000


def test_matching_order_is_kept_for_queue_position() -> None:
    live = working("a", "Y", Side.BUY, 0.45, 10, filled=2)
    result = plan([q(Side.BUY, 0.45, 10)], MARKET, Holdings(), [live])
    assert result.keep == (live,) and result.cancel == () and result.place == ()


def test_a_working_order_within_the_tolerance_keeps_its_queue() -> None:
    # keep_within 0.005: a YES bid 0.003 away and a NO bid whose YES ask is 0.004 away are kept;
    # partly filled orders match by size or by remaining size.
    bid = working("a", "Y", Side.BUY, 0.477, 10)
    no_bid = working("b", "N", Side.BUY, 0.476, 10)
    wanted = [q(Side.BUY, 0.480, 10), q(Side.SELL, 0.520, 10)]
    result = plan(wanted, FINE, Holdings(), [bid, no_bid], keep_within=5_000)
    assert result.keep == (bid, no_bid) and result.cancel == () and result.place == ()
    partly = working("a", "Y", Side.BUY, 0.477, 13, filled=3)
    assert plan(wanted[:1], FINE, Holdings(), [partly], keep_within=5_000).keep == (partly,)
    # 0.006 away, or another size, is replaced; without a tolerance only an exact price is kept.
    far = working("a", "Y", Side.BUY, 0.474, 10)
    other_size = working("b", "N", Side.BUY, 0.476, 5)
    replaced = plan(wanted, FINE, Holdings(), [far, other_size], keep_within=5_000)
    assert replaced.cancel == (far, other_size) and len(replaced.place) == 2
    assert plan(wanted[:1], FINE, Holdings(), [bid]).cancel == (bid,)


def test_a_near_match_left_on_the_old_grid_after_a_tick_change_is_replaced() -> None:
    # Quoted on 0.001; the market went back to 0.01: the bid at 0.477 is within the tolerance of
    # the new 0.48 but off the grid, so it makes way; one already on the grid keeps its queue.
    off_grid = working("a", "Y", Side.BUY, 0.477, 10)
    on_grid = working("b", "Y", Side.BUY, 0.47, 10)
    result = plan([q(Side.BUY, 0.48, 10)], MARKET, Holdings(), [off_grid], keep_within=5_000)
    assert result.cancel == (off_grid,) and [p.price for p in result.place] == [480_000]
    result = plan([q(Side.BUY, 0.47, 10)], MARKET, Holdings(), [on_grid], keep_within=5_000)
    assert result.keep == (on_grid,) and result.place == ()


def test_near_matches_that_would_cross_each_other_are_not_kept() -> None:
    # Targets 0.480 / 0.490 (tight); the working bid at 0.489 and ask at 0.481 are each within
    # 0.01 of a target, but keeping both would put our bid above our own ask.
    bid = working("a", "Y", Side.BUY, 0.489, 10)
    ask = working("b", "Y", Side.SELL, 0.481, 10)
    result = plan([q(Side.BUY, 0.480, 10), q(Side.SELL, 0.490, 10)], FINE, Holdings(yes=20 * SH), [bid, ask],
                  keep_within=10_000)
    assert result.keep == () and set(result.cancel) == {bid, ask}


def test_moved_quote_cancels_and_replaces_a_buy_at_once() -> None:
    live = working("a", "Y", Side.BUY, 0.45, 10)
    result = plan([q(Side.BUY, 0.46, 10)], MARKET, Holdings(), [live])
    assert result.cancel == (live,)
    assert [(p.side, p.price) for p in result.place] == [(Side.BUY, 460_000)]


def test_replacement_sell_waits_for_the_cancel_ack() -> None:
    old = working("a", "Y", Side.SELL, 0.60, 10)
    result = plan([q(Side.SELL, 0.62, 10)], MARKET, Holdings(yes=10 * SH), [old])
    assert result.cancel == (old,) and result.place == ()
    assert "cancel ack" in result.residuals[0].reason
    pending = working("a", "Y", Side.SELL, 0.60, 10, status=OrderStatus.CANCEL_PENDING)
    still = plan([q(Side.SELL, 0.62, 10)], MARKET, Holdings(yes=10 * SH), [pending])
    assert still.place == () and still.cancel == ()
    after_ack = plan([q(Side.SELL, 0.62, 10)], MARKET, Holdings(yes=10 * SH), [])
    assert [(p.side, p.price, p.size) for p in after_ack.place] == [(Side.SELL, 620_000, 10 * SH)]


def test_sells_are_capped_by_what_working_sells_reserve() -> None:
    kept = working("a", "Y", Side.SELL, 0.60, 7)
    result = plan([q(Side.SELL, 0.60, 7), q(Side.SELL, 0.65, 10)], MARKET, Holdings(yes=12 * SH), [kept])
    assert result.keep == (kept,)
    sells = [p for p in result.place if p.side is Side.SELL]
    assert sells == [OrderSpec("Y", Outcome.YES, Side.SELL, 650_000, 5 * SH)]


def test_take_in_flight_is_not_doubled() -> None:
    flying = working("t", "Y", Side.BUY, 0.55, 10, status=OrderStatus.PENDING_SUBMIT, tif=Tif.FAK)
    result = plan([q(Side.BUY, 0.55, 10, Tif.FAK)], MARKET, Holdings(), [flying])
    assert result.place == () and result.cancel == ()


# -- properties ------------------------------------------------------------------------

ticks = st.sampled_from([1_000, 10_000, 100_000])
prices = st.integers(min_value=1, max_value=ONE - 1)
sizes = st.integers(min_value=0, max_value=200 * SH)
quotes = st.lists(st.builds(Quote, st.sampled_from(list(Side)), prices, sizes,
                            st.sampled_from([Tif.GTC, Tif.FAK, Tif.FOK]), st.booleans()), max_size=6)
statuses = st.sampled_from([OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING,
                            OrderStatus.PENDING_SUBMIT])


@st.composite
def scenarios(draw):
    tick = draw(ticks)
    market = MarketInfo("c", "?", "Y", "N", tick=tick, min_size=draw(st.sampled_from([SH, 5 * SH, 15 * SH])))
    holdings = Holdings(yes=draw(st.integers(0, 100 * SH)), no=draw(st.integers(0, 100 * SH)))
    orders = []
    for i in range(draw(st.integers(0, 5))):
        token = draw(st.sampled_from(["Y", "N"]))
        side = draw(st.sampled_from(list(Side)))
        size = draw(st.integers(market.min_size, 50 * SH))
        size -= size % LOT
        orders.append(WorkingOrder(f"o{i}", token, side, draw(st.integers(1, 99)) * (ONE // 100), size,
                                   draw(st.integers(0, size)), Tif.GTC, draw(statuses)))
    # Working sells never exceed holdings (the invariant the executor maintains).
    for outcome, token in ((Outcome.YES, "Y"), (Outcome.NO, "N")):
        total = sum(o.remaining for o in orders if o.side is Side.SELL and o.token_id == token)
        if total > holdings.of(outcome):
            holdings = Holdings(yes=max(holdings.yes, total) if token == "Y" else holdings.yes,
                                no=max(holdings.no, total) if token == "N" else holdings.no)
    return market, holdings, orders, draw(quotes)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_planner_emits_only_legal_orders(case) -> None:
    market, holdings, orders, wanted = case
    for spec in plan(wanted, market, holdings, orders).place:
        assert spec.price % market.tick == 0 and market.tick <= spec.price <= ONE - market.tick
        assert spec.size >= market.min_size and spec.size % LOT == 0
        assert spec.token_id == market.token(spec.outcome)
        if spec.tif in (Tif.FAK, Tif.FOK):
            step = (10_000 if spec.side is Side.BUY else 100) * 1_000_000
            assert (spec.price * spec.size) % step == 0 and not spec.post_only


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_planner_never_oversells_settled_inventory(case) -> None:
    market, holdings, orders, wanted = case
    result = plan(wanted, market, holdings, orders)
    for outcome, token in ((Outcome.YES, "Y"), (Outcome.NO, "N")):
        still_reserved = sum(o.remaining for o in orders if o.side is Side.SELL and o.token_id == token)
        new = sum(p.size for p in result.place if p.side is Side.SELL and p.token_id == token)
        if new:
            assert still_reserved + new <= holdings.of(outcome)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_planner_never_overlaps_sells(case) -> None:
    market, holdings, orders, wanted = case
    result = plan(wanted, market, holdings, orders)
    leaving = {o.token_id for o in orders if o.side is Side.SELL and o.status is OrderStatus.CANCEL_PENDING}
    leaving |= {o.token_id for o in result.cancel if o.side is Side.SELL}
    for spec in result.place:
        if spec.side is Side.SELL:
            assert spec.token_id not in leaving


def test_a_kalshi_take_keeps_its_count_in_hundredths_of_a_contract() -> None:
    """Polymarket's fill-and-kill amounts have few decimals, so its takes are trimmed to sizes whose
    amounts fit; Kalshi has no such rule (a count in 0.01 contract at any price on the grid): a
    residue of 3.37 contracts is sold whole at $0.455, and 0.37 bought whole at $0.45."""
    from engine.execution.planner import take_size

    assert take_size(455_000, 3_370_000, Side.SELL) < 3_370_000  # Polymarket trims it
    assert take_size(455_000, 3_370_000, Side.SELL, "kalshi:KXTEST-1") == 3_370_000
    assert take_size(450_000, 370_000, Side.BUY) < 370_000
    assert take_size(450_000, 370_000, Side.BUY, "kalshi:KXTEST-1") == 370_000
