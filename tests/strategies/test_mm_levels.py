"""Market making with levels: N orders a side, spaced and sized by multipliers, each kept in its
queue by the executor's no-churn rule; and N = 1 gives exactly the one-level quotes the market
maker sent before levels existed (a property test against that algorithm, written out here as
the oracle). Prices in the comments are probabilities; tick 0.01."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contracts.domain import ONE, Intent, MarketView, Quote, Side, StrategyState, Tif
from contracts.order_status import OrderStatus
from engine.execution.planner import Holdings, WorkingOrder, plan
from engine.strategies.market_making import MarketMaking
from tests.strategies.builders import book, info, px, sh, snap, state, view
from tests.strategies.test_properties import FAST, params_for, worlds

WIDE = book(bids=[("0.45", 100)], asks=[("0.55", 100)])  # mid 0.50


def mm(**params: object) -> MarketMaking:
    return MarketMaking("mm", params)


def quote(side: Side, price: str, size: float) -> Quote:
    return Quote(side, px(price), sh(size), Tif.GTC, post_only=True)


# -- the oracle: one level a side, as quoted before levels (commit b326162) ------------------


def _floor(price: int, tick: int) -> int:
    return price // tick * tick


def _ceil(price: int, tick: int) -> int:
    return -(-price // tick) * tick


def one_level_intent(s: MarketMaking, view: MarketView, state: StrategyState) -> Intent:
    info = view.info
    cid = info.condition_id

    def out(quotes: tuple[Quote, ...], reason: str) -> Intent:
        return Intent("mm", cid, quotes, reason, keep_within=s.threshold)

    if info.closed:
        return out((), "market closed")
    if not info.tradable or not info.accepting_orders:
        return out((), "market not accepting orders")
    if info.tick <= 0:
        return out((), "market has no tick size")
    b = view.yes
    if b is None or b.best_bid is None or b.best_ask is None:
        return out((), "no two-sided book")
    best_bid, best_ask = b.best_bid.price, b.best_ask.price
    if best_bid >= best_ask:
        return out((), "book crossed")
    if best_ask - best_bid > s.max_spread:
        return out((), "spread too wide")
    if s.source == "reference":
        fair = view.reference
    elif s.source == "microprice":
        weight = b.best_bid.size + b.best_ask.size
        fair = None if weight <= 0 else (best_bid * b.best_ask.size + best_ask * b.best_bid.size) // weight
    else:
        fair = b.mid
    if fair is None or not 0 <= fair <= ONE:
        return out((), "no price")
    held = state.positions.get(cid)
    position = held.net_yes if held is not None else 0
    product = abs(s.skew * position) // ONE
    centre = fair - (product if position >= 0 else -product)
    tick = info.tick
    bid, ask = _floor(centre - s.half_spread, tick), _ceil(centre + s.half_spread, tick)
    if ask <= bid:
        ask = bid + tick
    bid, ask = min(bid, _floor(best_ask - 1, tick)), max(ask, _ceil(best_bid + 1, tick))
    quotes, dropped = [], []

    def inside(p: int) -> bool:
        return p % tick == 0 and tick <= p <= ONE - tick

    if position + s.size > s.max_inventory:
        dropped.append("bid: inventory cap")
    elif not inside(bid):
        dropped.append("bid: price out of range")
    else:
        quotes.append(Quote(Side.BUY, bid, s.size, Tif.GTC, post_only=True))
    if position - s.size < -s.max_inventory:
        dropped.append("ask: inventory cap")
    elif not inside(ask):
        dropped.append("ask: price out of range")
    else:
        quotes.append(Quote(Side.SELL, ask, s.size, Tif.GTC, post_only=True))
    return out(tuple(quotes), "quoting" if not dropped else "; ".join(dropped))


@FAST
@given(data=st.data())
def test_one_level_quotes_exactly_as_before_levels(data: st.DataObject) -> None:
    params = data.draw(params_for(MarketMaking))
    # No choice of markets by reward: the oracle predates it (reward_qualify changes nothing here, the
    # worlds' markets run no reward program).
    # Nor the controls that came later (toxicity, pulls, reduce-only: tests/strategies/test_mm_controls.py).
    params.update(levels=1, regime_control=False, min_reward_per_risk=0.0, reward_top_markets=0,
                  toxicity_control=False, pull_move=0.0, reduce_only_before_end_s=0, stop_before_end_s=0)
    params["max_spread"] = data.draw(st.sampled_from([1.0, params["max_spread"]]))
    strategy = MarketMaking("mm", params)
    snapshot, world = data.draw(worlds(order_size=strategy.size))
    intents = strategy.decide(snapshot, world, 0)
    expected = [one_level_intent(strategy, v, world) for v in snapshot.markets.values()]
    assert [(i.condition_id, i.quotes, i.keep_within, i.regime) for i in intents] == [
        (e.condition_id, e.quotes, e.keep_within, "") for e in expected]
    for got, want in zip(intents, expected, strict=False):  # the reasons too, except the spread's wording
        assert got.reason == want.reason or want.reason == "spread too wide" and "wider than" in got.reason \
            or want.reason == "no price" and got.reason.startswith("no ")


# -- levels -------------------------------------------------------------------------------


def test_levels_step_out_by_the_spacing_and_grow_by_the_multiplier() -> None:
    # mid 0.50, half-spread 0.015: first levels 0.48 / 0.52; spacing 0.012 rounds outward:
    # bids 0.48, 0.468 -> 0.46, 0.456 -> 0.45; asks 0.52, 0.532 -> 0.54, 0.544 -> 0.55
    strategy = mm(half_spread=0.015, levels=3, level_spacing=0.012, level_size_multiplier=1.5, size=10)
    [intent] = strategy.decide(snap(view(yes=WIDE)), state(), 0)
    assert intent.quotes == (
        quote(Side.BUY, "0.48", 10), quote(Side.BUY, "0.46", 15), quote(Side.BUY, "0.45", 22.5),
        quote(Side.SELL, "0.52", 10), quote(Side.SELL, "0.54", 15), quote(Side.SELL, "0.55", 22.5),
    )
    assert intent.reason == "quoting"


def test_levels_closer_than_a_tick_still_step_a_tick_apart() -> None:
    strategy = mm(half_spread=0.015, levels=3, level_spacing=0.006, refresh_threshold=0.005)
    [intent] = strategy.decide(snap(view(yes=WIDE)), state(), 0)
    assert [q.price for q in intent.quotes] == [px("0.48"), px("0.47"), px("0.46"),
                                                  px("0.52"), px("0.53"), px("0.54")]


def test_a_level_size_is_rounded_down_to_a_hundredth_of_a_share() -> None:
    strategy = mm(levels=2, size=1, level_size_multiplier=0.333)
    [intent] = strategy.decide(snap(view(yes=WIDE)), state(), 0)
    assert [q.size for q in intent.quotes] == [sh(1), sh(0.33), sh(1), sh(0.33)]


def test_the_inventory_cap_counts_a_sides_levels_together() -> None:
    # long 75 of at most 100: the first bid (75 + 10) fits, the second (85 + 20) does not;
    # the asks reduce the position, all three quoted
    strategy = mm(levels=3, size=10, level_size_multiplier=2, max_inventory=100, skew_per_share=0)
    [intent] = strategy.decide(snap(view(yes=WIDE)), state(positions={"c1": 75}), 0)
    assert [(q.side, q.size) for q in intent.quotes] == [
        (Side.BUY, sh(10)), (Side.SELL, sh(10)), (Side.SELL, sh(20)), (Side.SELL, sh(40))]
    assert intent.reason == "bid level 2: inventory cap"


def test_levels_beyond_the_price_range_are_dropped_not_clamped() -> None:
    low = book(bids=[("0.02", 100)], asks=[("0.04", 100)])  # mid 0.03: bids 0.01, then below the tick
    [intent] = mm(half_spread=0.02, levels=3, level_spacing=0.01).decide(snap(view(yes=low)), state(), 0)
    assert [q.price for q in intent.quotes if q.side is Side.BUY] == [px("0.01")]
    assert "bid level 2: price out of range" in intent.reason


def test_spacing_within_the_refresh_threshold_is_refused() -> None:
    _, errors = MarketMaking.validate({"levels": 2, "level_spacing": 0.005, "refresh_threshold": 0.005})
    assert "level_spacing" in errors
    _, errors = MarketMaking.validate({"levels": 1, "level_spacing": 0.005, "refresh_threshold": 0.005})
    assert errors == {}


def _working(intent: Intent, market_yes: str, shift: int) -> list[WorkingOrder]:
    """The orders an executor would have resting for `intent`, each `shift` micros off its quote."""
    out = []
    for n, q in enumerate(intent.quotes):
        yes = q.side is Side.BUY
        price = q.price + shift if yes else ONE - q.price - shift  # a YES ask rests as a NO bid
        out.append(WorkingOrder(f"o{n}", market_yes if yes else "c1-no", Side.BUY, price, q.size, 0,
                                Tif.GTC, OrderStatus.LIVE))
    return out


def test_every_level_keeps_its_queue_when_the_fair_value_drifts_within_the_threshold() -> None:
    """The executor's own planner: after a drift smaller than the refresh threshold every level's
    order is kept (none cancelled, none placed); past it, every level is replaced."""
    market = info()
    strategy = mm(half_spread=0.015, levels=3, level_spacing=0.02, refresh_threshold=0.015, skew_per_share=0)
    [before] = strategy.decide(snap(view(yes=WIDE)), state(), 0)
    drifted = book(bids=[("0.46", 100)], asks=[("0.56", 100)])  # mid 0.51: every quote moves 0.01
    [after] = strategy.decide(snap(view(yes=drifted)), state(), 0)
    assert all(a.price != b.price for a, b in zip(after.quotes, before.quotes, strict=False))
    routed = plan(after.quotes, market, Holdings(), _working(before, market.yes_token, 0),
                  keep_within=after.keep_within)
    assert len(routed.keep) == 6 and not routed.cancel and not routed.place
    far = book(bids=[("0.55", 100)], asks=[("0.65", 100)])  # mid 0.60: past the threshold, no overlap
    [moved] = strategy.decide(snap(view(yes=far)), state(), 0)
    routed = plan(moved.quotes, market, Holdings(), _working(before, market.yes_token, 0),
                  keep_within=moved.keep_within)
    assert len(routed.cancel) == 6 and len(routed.place) == 6 and not routed.keep


def test_one_level_of_a_ladder_is_not_kept_for_another() -> None:
    """Equal sizes, spacing just past the threshold: each order pairs with its own level."""
    market = info()
    strategy = mm(half_spread=0.015, levels=2, level_spacing=0.02, refresh_threshold=0.01, skew_per_share=0)
    [intent] = strategy.decide(snap(view(yes=WIDE)), state(), 0)
    working = _working(intent, market.yes_token, 0)
    routed = plan(intent.quotes, market, Holdings(), working, keep_within=intent.keep_within)
    assert {w.client_id for w in routed.keep} == {w.client_id for w in working}

