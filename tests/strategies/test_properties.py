"""Property tests: for arbitrary valid books, positions and params, every built-in emits only
prices strictly inside (0, 1) and positive sizes, at most one intent per market, and market
making never crosses its own quotes or the book."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from contracts.domain import (
    MICRO,
    ONE,
    Book,
    Intent,
    Level,
    MarketInfo,
    MarketView,
    OrderView,
    Outcome,
    PositionView,
    Side,
    Snapshot,
    SourcedFair,
    StrategyState,
)
from engine.strategies import ParamType, StrategyBase
from engine.strategies.accumulate import Accumulate
from engine.strategies.breakout import Breakout
from engine.strategies.complement_arb import ComplementArb
from engine.strategies.ensemble import Ensemble
from engine.strategies.ladder import Ladder
from engine.strategies.market_making import MarketMaking
from engine.strategies.momentum import Momentum
from engine.strategies.relative_value import RelativeValue
from engine.strategies.value_betting import ValueBetting

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


MOSTLY = [True] * 9 + [False]  # ordinary conditions most of the time, the odd case sometimes


@st.composite
def side_levels(draw: st.DrawFn, best: int, step: int, lowest: int, highest: int) -> list[int]:
    """Grid indexes of up to 3 levels from `best` outward (step -1 for bids, +1 for asks)."""
    levels = [best]
    for gap in draw(st.lists(st.integers(1, 5), max_size=2)):
        nxt = levels[-1] + step * gap
        if not lowest <= nxt <= highest:
            break
        levels.append(nxt)
    return levels if draw(st.sampled_from(MOSTLY)) else []


@st.composite
def books(draw: st.DrawFn, tick: int) -> Book:
    """A valid book on the grid: bids below asks, best first; usually a narrow two-sided book,
    sometimes a wide, one-sided or empty one, anywhere from near 0 to near 1."""
    top = ONE // tick - 1  # grid indexes 1..top are the legal prices
    best_bid = draw(st.integers(1, top - 1))
    spread = draw(st.integers(1, 12) | st.integers(1, top))
    best_ask = min(best_bid + spread, top)
    size = st.just(100 * MICRO) | st.integers(1, 1_000 * MICRO)
    return Book(
        token_id="t",
        bids=tuple(Level(i * tick, draw(size)) for i in draw(side_levels(best_bid, -1, 1, top))),
        asks=tuple(Level(i * tick, draw(size)) for i in draw(side_levels(best_ask, 1, 1, top))),
        updated_ms=0,
    )


@st.composite
def markets(draw: st.DrawFn, cid: str) -> MarketView:
    tick = draw(st.sampled_from([10_000, 1_000]))
    market = MarketInfo(
        condition_id=cid, question="?", yes_token=f"{cid}y", no_token=f"{cid}n", tick=tick,
        min_size=draw(st.sampled_from([0, 5 * MICRO])), fee_rate_ppm=draw(st.integers(0, 100_000)),
        fee_exponent=draw(st.integers(0, 2)), closed=not draw(st.sampled_from(MOSTLY)),
        accepting_orders=draw(st.sampled_from(MOSTLY)),
    )
    def maybe_price() -> int | None:
        return draw(st.integers(0, ONE)) if draw(st.sampled_from(MOSTLY)) else None

    maybe_book = books(tick) if draw(st.sampled_from(MOSTLY)) else st.none()
    sources = tuple(SourcedFair(f"s{k}", draw(st.integers(0, ONE)), draw(st.none() | st.integers(0, ONE)),
                                draw(st.none() | st.integers(0, ONE))) for k in range(draw(st.integers(0, 3))))
    return MarketView(
        info=market, yes=draw(maybe_book), no=draw(books(tick)) if draw(st.sampled_from(MOSTLY)) else None,
        fair_value=maybe_price(), reference=maybe_price(), reference_at=draw(st.none() | st.integers(0, 120_000)),
        fair_sources=sources,
    )


@st.composite
def orders(draw: st.DrawFn, cid: str, size: int) -> OrderView:
    return OrderView(
        client_id=draw(st.text(min_size=1, max_size=4)), condition_id=cid,
        outcome=draw(st.sampled_from(list(Outcome))), side=draw(st.sampled_from(list(Side))),
        price=draw(st.integers(1, ONE - 1)), size=draw(st.sampled_from([size, size + 1, MICRO])),
        filled=0, status="LIVE",
    )


@st.composite
def worlds(draw: st.DrawFn, order_size: int = 10 * MICRO,
           with_orders: bool = True) -> tuple[Snapshot, StrategyState]:
    cids = draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, min_size=1, max_size=3))
    views = {cid: draw(markets(cid)) for cid in cids}
    position = st.just(0) | st.integers(-500 * MICRO, 500 * MICRO)
    positions = {}
    for cid in cids:
        if shares := draw(position):
            positions[cid] = PositionView(cid, yes=max(shares, 0), no=max(-shares, 0))
    working = []
    for cid in cids:
        if with_orders:
            working += [draw(orders(cid, order_size)) for _ in range(draw(st.integers(0, 2)))]
    cash = draw(st.just(1_000 * MICRO) | st.integers(0, 10**11))
    state = StrategyState("s", positions=positions, open_orders=tuple(working), cash=cash)
    return Snapshot(now_ms=0, markets=views), state


def param_values(spec: Any) -> st.SearchStrategy[Any]:
    """Any value the schema allows, in human units (the default half the time, so the
    strategies get past their "no size" branches often enough to be tested)."""
    return st.just(spec.default) | any_param_value(spec)


def any_param_value(spec: Any) -> st.SearchStrategy[Any]:
    if spec.type is ParamType.CHOICE:
        return st.sampled_from(spec.choices)
    if spec.type is ParamType.BOOL:
        return st.booleans()
    low = spec.minimum if spec.minimum is not None else 0
    high = spec.maximum if spec.maximum is not None else 1_000_000
    if spec.type.is_integral:
        return st.integers(int(low), int(high))
    places = 6 if spec.type.is_micro else 3
    return st.decimals(Decimal(str(low)), Decimal(str(high)), places=places).map(float)


@st.composite
def params_for(draw: st.DrawFn, cls: type[StrategyBase]) -> dict[str, Any]:
    raw = {spec.name: draw(param_values(spec)) for spec in cls.params_schema}
    params, errors = cls.validate(raw)
    assume(not errors)
    return params


def check_common(intents: list[Intent], snapshot: Snapshot) -> None:
    ids = [intent.condition_id for intent in intents]
    assert len(ids) == len(set(ids)) and set(ids) <= set(snapshot.markets)
    for intent in intents:
        for quote in intent.quotes:
            assert 0 < quote.price < ONE, quote
            assert quote.size > 0, quote


@FAST
@given(data=st.data())
def test_market_making_stays_inside_and_never_crosses(data: st.DataObject) -> None:
    params = data.draw(params_for(MarketMaking))
    params["max_spread"] = data.draw(st.sampled_from([1.0, params["max_spread"]]))  # mostly quote
    strategy = MarketMaking("mm", params)
    snapshot, state = data.draw(worlds(order_size=strategy.size))
    intents = strategy.decide(snapshot, state, 0)
    check_common(intents, snapshot)
    for intent in intents:
        view = snapshot.markets[intent.condition_id]
        bids = [q.price for q in intent.quotes if q.side is Side.BUY]
        asks = [q.price for q in intent.quotes if q.side is Side.SELL]
        assert len(bids) <= strategy.levels and len(asks) <= strategy.levels
        assert bids == sorted(set(bids), reverse=True) and asks == sorted(set(asks))  # levels outward, distinct
        if not intent.quotes:
            continue
        assert view.yes is not None and view.yes.best_bid and view.yes.best_ask
        assert all(q.post_only and q.price % view.info.tick == 0 for q in intent.quotes)
        assert all(p < view.yes.best_ask.price for p in bids)
        assert all(p > view.yes.best_bid.price for p in asks)
        if bids and asks:
            assert bids[0] < asks[0]


@FAST
@given(data=st.data())
def test_complement_arb_stays_inside(data: st.DataObject) -> None:
    strategy = ComplementArb("arb", data.draw(params_for(ComplementArb)))
    snapshot, state = data.draw(worlds())
    intents = strategy.decide(snapshot, state, 0)
    check_common(intents, snapshot)
    for intent in intents:
        if intent.quotes:  # a set costs less than 1: BUY YES at p and SELL YES above p
            buy, sell = intent.quotes
            assert buy.side is Side.BUY and sell.side is Side.SELL and buy.price < sell.price


@FAST
@given(data=st.data())
def test_value_betting_stays_inside(data: st.DataObject) -> None:
    strategy = ValueBetting("vb", data.draw(params_for(ValueBetting)))
    snapshot, state = data.draw(worlds())
    intents = strategy.decide(snapshot, state, 0)
    check_common(intents, snapshot)
    for intent in intents:
        fair = strategy.fair(snapshot.markets[intent.condition_id])  # the signal's, or the reference price
        for quote in intent.quotes:  # never buy above fair, never sell below it
            assert fair is not None
            assert quote.price < fair if quote.side is Side.BUY else quote.price > fair


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_momentum_stays_inside_over_a_sequence(data: st.DataObject) -> None:
    params = data.draw(params_for(Momentum))
    params["warmup_seconds"] = data.draw(st.integers(0, 30))
    strategy = Momentum("mo", params)
    snapshot, state = data.draw(worlds(with_orders=False))
    now = 0
    for _ in range(data.draw(st.integers(1, 10))):
        now += data.draw(st.just(15_000) | st.integers(0, 60_000))
        # the same markets with fresh YES books (sometimes none) at each step
        views = {}
        for cid, v in snapshot.markets.items():
            fresh = data.draw(books(v.info.tick)) if data.draw(st.sampled_from(MOSTLY)) else None
            views[cid] = replace(v, yes=fresh)
        snapshot = Snapshot(now_ms=now, markets=views)
        intents = strategy.decide(snapshot, state, now)
        check_common(intents, snapshot)
        assert set(strategy.signals) <= set(snapshot.markets)
        assert all(len(intent.quotes) <= 1 for intent in intents)


@pytest.mark.parametrize("cls", [Ladder, Accumulate, Breakout, RelativeValue, Ensemble])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_binary_market_kinds_stay_inside_over_a_sequence(cls: type[StrategyBase], data: st.DataObject) -> None:
    """Any valid params, books coming and going over time: prices inside (0, 1), positive sizes, one
    intent per market; a ladder rests post-only on the grid without crossing the book; the ensemble
    never buys above the fair value it states nor sells below it."""
    params = data.draw(params_for(cls))
    for name in ("warmup_s", "window_s"):
        if name in params:
            params[name] = data.draw(st.sampled_from([params[name], 60]))
    strategy = cls("k", params)
    snapshot, state = data.draw(worlds(with_orders=False))
    now = 0
    for _ in range(data.draw(st.integers(1, 6))):
        now += data.draw(st.just(15_000) | st.integers(0, 60_000))
        views = {cid: replace(v, yes=data.draw(books(v.info.tick)) if data.draw(st.sampled_from(MOSTLY)) else None)
                 for cid, v in snapshot.markets.items()}
        snapshot = Snapshot(now_ms=now, markets=views)
        intents = strategy.decide(snapshot, state, now)
        check_common(intents, snapshot)
        for intent in intents:
            view = snapshot.markets[intent.condition_id]
            if isinstance(strategy, Ladder):
                assert all(q.post_only and q.price % view.info.tick == 0 for q in intent.quotes)
                assert view.yes is None or all(
                    (q.price < view.yes.best_ask.price if q.side is Side.BUY else q.price > view.yes.best_bid.price)
                    for q in intent.quotes if (view.yes.best_ask if q.side is Side.BUY else view.yes.best_bid))
            if isinstance(strategy, Ensemble) and intent.quotes:
                assert intent.probability is not None
                assert all(q.price < intent.probability if q.side is Side.BUY else q.price > intent.probability
                           for q in intent.quotes)
