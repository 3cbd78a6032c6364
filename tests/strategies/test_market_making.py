"""Market making on scripted books. Prices in the comments are probabilities; tick 0.01."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.domain import MarketView, Quote, Side, StrategyState, Tif
from engine.strategies.market_making import MarketMaking
from tests.strategies.builders import book, info, px, sh, snap, state, view


def mm(**params: object) -> MarketMaking:
    return MarketMaking("mm", params)


def bid(price: str, size: float = 10) -> Quote:
    return Quote(Side.BUY, px(price), sh(size), Tif.GTC, post_only=True)


def ask(price: str, size: float = 10) -> Quote:
    return Quote(Side.SELL, px(price), sh(size), Tif.GTC, post_only=True)


def quotes(strategy: MarketMaking, market_view: MarketView,
           st: StrategyState | None = None) -> tuple[Quote, ...]:
    [intent] = strategy.decide(snap(market_view), st or state(), 0)
    assert intent.strategy == "mm" and intent.condition_id == market_view.info.condition_id
    return intent.quotes


WIDE = book(bids=[("0.45", 100)], asks=[("0.55", 100)])  # mid 0.50, spread 0.10


def test_quotes_around_mid_rounded_outward() -> None:
    # mid 0.50; 0.50 - 0.015 = 0.485 -> bid rounds down to 0.48; 0.515 -> ask rounds up to 0.52
    assert quotes(mm(half_spread=0.015), view(yes=WIDE)) == (bid("0.48"), ask("0.52"))


def test_microprice_weights_by_opposite_size() -> None:
    # bid 0.40 x 30, ask 0.44 x 10: micro = (0.40*10 + 0.44*30) / 40 = 17.2 / 40 = 0.43
    # -> 0.41 / 0.45, where the mid (0.42) would give 0.40 / 0.44
    heavy_bid = book(bids=[("0.40", 30)], asks=[("0.44", 10)])
    assert quotes(mm(fair_value="microprice"), view(yes=heavy_bid)) == (bid("0.41"), ask("0.45"))
    assert quotes(mm(fair_value="mid"), view(yes=heavy_bid)) == (bid("0.40"), ask("0.44"))


def test_reference_price_is_used_and_never_crosses_the_book() -> None:
    # reference 0.60 over a 0.48 / 0.52 book: bid 0.58 would cross the 0.52 ask, so it is
    # held one tick below it (0.51); the ask 0.62 is fine
    market = view(yes=book(bids=[("0.48", 50)], asks=[("0.52", 50)]), reference="0.60")
    assert quotes(mm(fair_value="reference"), market) == (bid("0.51"), ask("0.62"))


def test_missing_reference_quotes_nothing() -> None:
    [intent] = mm(fair_value="reference").decide(snap(view(yes=WIDE)), state(), 0)
    assert intent.quotes == () and "reference" in intent.reason


def test_inventory_skew_moves_both_quotes_against_the_position() -> None:
    strategy = mm(skew_per_share=0.0002)
    # long 50: centre = 0.50 - 0.0002 * 50 = 0.49 -> 0.47 / 0.51
    assert quotes(strategy, view(yes=WIDE), state(positions={"c1": 50})) == (bid("0.47"), ask("0.51"))
    # short 50 (50 NO held): centre 0.51 -> 0.49 / 0.53
    assert quotes(strategy, view(yes=WIDE), state(positions={"c1": -50})) == (bid("0.49"), ask("0.53"))
    # long 33 at 0.0001: centre 0.4967 -> bid floor(0.4767) = 0.47, ask ceil(0.5167) = 0.52
    assert quotes(mm(skew_per_share=0.0001), view(yes=WIDE), state(positions={"c1": 33})) == (
        bid("0.47"), ask("0.52"))


def test_inventory_cap_drops_the_side_that_would_grow_exposure() -> None:
    strategy = mm(skew_per_share=0, max_inventory=100)
    # long 95 + 10 = 105 > 100: no bid; the ask (reducing) stays
    [intent] = strategy.decide(snap(view(yes=WIDE)), state(positions={"c1": 95}), 0)
    assert intent.quotes == (ask("0.52"),) and "inventory" in intent.reason
    # short 95 - 10 = -105: no ask
    assert quotes(strategy, view(yes=WIDE), state(positions={"c1": -95})) == (bid("0.48"),)
    # exactly at the cap after a fill (90 + 10 = 100) is allowed
    assert quotes(strategy, view(yes=WIDE), state(positions={"c1": 90})) == (bid("0.48"), ask("0.52"))


def test_every_intent_carries_the_refresh_threshold_for_the_executor() -> None:
    # Queue position is the executor's to keep (against the quote as the risk gate approved it,
    # trims included): the strategy emits its targets and how far a working price may be.
    market = view(yes=book(bids=[("0.48", 50)], asks=[("0.52", 50)]))
    strategy = mm(refresh_threshold=0.005)
    (intent,) = strategy.decide(snap(market), state(), 0)
    assert intent.keep_within == 5_000


def test_zero_half_spread_still_keeps_own_quotes_apart() -> None:
    # mid 0.50 on the grid with half_spread 0: bid 0.50, and the ask moves up a tick to 0.51
    market = view(yes=book(bids=[("0.48", 10)], asks=[("0.52", 10)]))
    assert quotes(mm(half_spread=0), market) == (bid("0.50"), ask("0.51"))


def test_one_tick_book_joins_both_touches() -> None:
    # 0.50 / 0.51: mid 0.505 -> bid floor 0.50, ask ceil 0.51; neither crosses
    market = view(yes=book(bids=[("0.50", 10)], asks=[("0.51", 10)]))
    assert quotes(mm(half_spread=0), market) == (bid("0.50"), ask("0.51"))


def test_stays_out_of_wide_one_sided_missing_and_closed_markets() -> None:
    strategy = mm(max_spread=0.1)
    cases = {
        "spread": view(yes=book(bids=[("0.40", 10)], asks=[("0.60", 10)])),  # 0.20 > 0.10
        "two-sided": view(yes=book(bids=[("0.40", 10)])),
        "two-sided ": view(yes=None),
        "closed": view(yes=WIDE, market=info(closed=True)),
        "accepting": view(yes=WIDE, market=info(accepting_orders=False)),
    }
    for word, market in cases.items():
        [intent] = strategy.decide(snap(market), state(), 0)
        assert intent.quotes == () and word.strip() in intent.reason, (word, intent)


def test_near_the_bounds_drops_the_side_that_leaves_the_grid() -> None:
    # 0.01 / 0.03: mid 0.02 -> bid 0.00 is not a price: only the ask 0.04
    low = view(yes=book(bids=[("0.01", 10)], asks=[("0.03", 10)]))
    assert quotes(mm(), low) == (ask("0.04"),)
    # 0.97 / 0.99: mid 0.98 -> ask 1.00 is not a price: only the bid 0.96
    high = view(yes=book(bids=[("0.97", 10)], asks=[("0.99", 10)]))
    assert quotes(mm(), high) == (bid("0.96"),)


def test_one_intent_per_market_and_empty_snapshot() -> None:
    strategy = mm()
    assert strategy.decide(snap(), state(), 0) == []
    intents = strategy.decide(snap(view("a", yes=WIDE), view("b", yes=None)), state(), 0)
    assert [i.condition_id for i in intents] == ["a", "b"]
    assert intents[0].quotes and not intents[1].quotes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(1, 500)), max_size=5),
       st.lists(st.tuples(st.integers(1, 8), st.integers(1, 500)), max_size=5),
       st.integers(1, 500), st.integers(1, 500), st.integers(0, 10_000_000))
def test_a_plain_market_maker_decides_the_same_on_the_same_touch_prices(
        deeper_bids: list[tuple[int, int]], deeper_asks: list[tuple[int, int]], bid_size: int, ask_size: int,
        now: int) -> None:
    """What lets a decision on an event be skipped when the YES touch's prices did not move
    (engine/trading/passes/event_decisions.py): sizes, depth behind the touch, the NO book, a fair
    value or reference, and the time change nothing it wants; anything reading more says so."""
    plain = mm(half_spread=0.02, size=10)
    assert plain.reads_touch_prices()
    bare = book(bids=[("0.40", 10)], asks=[("0.44", 10)])
    deep = book(bids=[("0.40", bid_size), *((f"{0.40 - k / 100:.2f}", s) for k, s in deeper_bids)],
                asks=[("0.44", ask_size), *((f"{0.44 + k / 100:.2f}", s) for k, s in deeper_asks)])
    first = plain.decide(snap(view(yes=bare)), state(), 0)
    again = plain.decide(snap(view(yes=deep, no=WIDE, fair="0.9", reference="0.1"), now_ms=now), state(), now)
    assert again == first
    for reads_more in (dict(fair_value="microprice"), dict(fair_value="reference"), dict(regime_control=True),
                       dict(toxicity_control=True), dict(pull_move=0.05), dict(stop_before_end_s=60)):
        assert not mm(**reads_more).reads_touch_prices(), reads_more
