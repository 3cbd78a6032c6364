"""Value betting: edge checks and fractional-Kelly sizing on scripted books."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import MarketView, PositionView, Quote, Side, StrategyState, Tif
from engine.strategies.value_betting import ValueBetting, kelly_shares
from tests.strategies.builders import book, info, order, px, sh, snap, state, view

# min_confidence 0: these are about the edge and the sizing (a builder's fair value states no confidence);
# the floor is tested on its own below.
BASE = {"edge": 0.03, "kelly_fraction": 0.25, "max_position": 100, "max_order": 50, "min_confidence": 0}


def vb(**params: object) -> ValueBetting:
    return ValueBetting("vb", {**BASE, **params})


def decide(strategy: ValueBetting, market: MarketView, st: StrategyState) -> tuple[tuple[Quote, ...], str]:
    [intent] = strategy.decide(snap(market), st, 0)
    return intent.quotes, intent.reason


CHEAP = book(bids=[("0.48", 100)], asks=[("0.50", 100)])
RICH = book(bids=[("0.40", 200)], asks=[("0.42", 100)])


def test_kelly_formula() -> None:
    # belief 0.60 at cost 0.50: f* = 0.10 / 0.50 = 0.2; quarter Kelly of 1000 = 50 pUSD -> 100 shares
    assert kelly_shares(px("0.60"), px("0.50"), px(1000), px("0.25")) == sh(100)
    assert kelly_shares(px("0.50"), px("0.50"), px(1000), px("0.25")) == 0  # no edge
    assert kelly_shares(px("0.60"), px("0.50"), 0, px("0.25")) == 0  # no bankroll


def test_buys_below_fair_capped_by_max_order() -> None:
    # 0.50 < 0.60 - 0.03: Kelly says 100 shares (above); max_order 50 -> BUY 50 at the ask
    quotes, _ = decide(vb(), view(yes=CHEAP, fair="0.60"), state(cash=1000))
    assert quotes == (Quote(Side.BUY, px("0.50"), sh(50), Tif.FAK),)


def test_kelly_target_less_position_and_position_cap() -> None:
    market = view(yes=CHEAP, fair="0.60")
    # target 100, already long 80 -> 20
    quotes, _ = decide(vb(max_order=200), market, state(cash=1000, positions={"c1": 80}))
    assert quotes[0].size == sh(20)
    # cash 100: quarter Kelly stake 5 pUSD -> 10 shares
    assert decide(vb(max_order=200), market, state(cash=100))[0][0].size == sh(10)
    # max_position 20 pUSD at 0.50 -> at most 40 shares
    assert decide(vb(max_order=200, max_position=20), market, state(cash=1000))[0][0].size == sh(40)
    # touch size 30 caps a take
    thin = view(yes=book(bids=[("0.48", 100)], asks=[("0.50", 30)]), fair="0.60")
    assert decide(vb(max_order=200), thin, state(cash=1000))[0][0].size == sh(30)


def test_sells_yes_above_fair() -> None:
    # fair 0.30, bid 0.40: NO costs 0.60, we believe NO at 0.70; 0.60 < 0.70 - 0.03.
    # f* = (0.70 - 0.60) / (1 - 0.60) = 0.25; stake 0.25 * 0.25 * 1000 = 62.5 pUSD;
    # shares = 62.5 / 0.60 = 104.17 -> 104 whole shares; SELL YES at the 0.40 bid
    quotes, _ = decide(vb(max_order=200), view(yes=RICH, fair="0.30"), state(cash=1000))
    assert quotes == (Quote(Side.SELL, px("0.40"), sh(104), Tif.FAK),)
    # while long 30 YES, the sell also closes them: 104.17 + 30 = 134.17 -> 134
    quotes, _ = decide(vb(max_order=200), view(yes=RICH, fair="0.30"), state(cash=1000, positions={"c1": 30}))
    assert quotes[0].size == sh(134)


def test_taker_fee_is_part_of_the_cost() -> None:
    # fee 3%: 0.03 * 0.5 * 0.5 = 0.0075 -> cost 0.5075 < 0.57. f* = 0.0925 / 0.4925;
    # shares = 0.25 * 0.0925 * 1000 / (0.4925 * 0.5075) = 92.52 -> 92
    market = view(yes=CHEAP, fair="0.60", market=info(fee_rate_ppm=30_000))
    assert decide(vb(max_order=200), market, state(cash=1000))[0][0].size == sh(92)


def test_no_trade_without_edge_fair_value_cash_or_book() -> None:
    cases = [
        (view(yes=CHEAP, fair="0.52"), 1000, "no edge"),  # 0.50 is not below 0.49
        (view(yes=CHEAP), 1000, "fair value"),
        (view(yes=CHEAP, fair="0.60"), 0, "no size"),
        (view(yes=None, fair="0.60"), 1000, "book"),
        (view(yes=CHEAP, fair="0.60", market=info(closed=True)), 1000, "closed"),
    ]
    for market, cash, word in cases:
        quotes, reason = decide(vb(), market, state(cash=cash))
        assert quotes == () and word in reason, (reason, word)


def test_take_style_waits_for_in_flight_orders() -> None:
    st = state(cash=1000, orders=[order("c1", Side.BUY, "0.50", 50)])
    assert vb().decide(snap(view(yes=CHEAP, fair="0.60")), st, 0) == []


def test_limit_style_rests_at_fair_plus_minus_edge() -> None:
    # fair 0.60, edge 0.03 -> bid 0.57, ask 0.63, each Kelly-sized at its own price:
    # bid: 0.25 * 0.03 * 1000 / (0.43 * 0.57) = 30.6 -> 30 shares
    # ask: NO at 0.37, belief 0.40: 0.25 * 0.03 * 1000 / (0.63 * 0.37) = 32.18 -> 32 shares
    quotes, _ = decide(vb(order_style="limit", max_order=200), view(yes=CHEAP, fair="0.60"), state(cash=1000))
    assert quotes == (Quote(Side.BUY, px("0.57"), sh(30), Tif.GTC),
                      Quote(Side.SELL, px("0.63"), sh(32), Tif.GTC))


def test_limit_style_near_the_bounds() -> None:
    # fair 0.02: bid floor(-0.01) is no price; ask 0.05 is fine
    quotes, _ = decide(vb(order_style="limit"), view(yes=CHEAP, fair="0.02"), state(cash=1000))
    assert [q.side for q in quotes] == [Side.SELL] and quotes[0].price == px("0.05")
    # in-flight orders do not silence the limit style: its intent replaces them
    st = state(cash=1000, orders=[order("c1", Side.BUY, "0.57", 30)])
    assert len(vb(order_style="limit").decide(snap(view(yes=CHEAP, fair="0.60")), st, 0)) == 1


def test_a_fair_value_below_the_minimum_confidence_is_not_acted_on() -> None:
    """The floor (0.6 by default, the T-Bot seed's): a signal surer than it is traded and stated as the
    strategy's forecast; one less sure, or one whose source states no confidence, is neither; the
    operator's counts as certain; the reference price states none and is not floored."""
    def market(confidence: str | None) -> MarketView:
        return replace(view(yes=CHEAP, fair="0.60"), fair_confidence=None if confidence is None else px(confidence))

    default = ValueBetting("vb", {k: v for k, v in BASE.items() if k != "min_confidence"})
    assert default.params["min_confidence"] == 0.6
    [sure] = default.decide(snap(market("0.6")), state(cash=1000), 0)
    assert sure.quotes and sure.probability == px("0.60") and sure.confidence == px("0.6")
    for confidence, said in (("0.59", "confidence 0.59 is below the floor 0.6"), (None, "states no confidence")):
        [unsure] = default.decide(snap(market(confidence)), state(cash=1000), 0)
        assert unsure.quotes == () and said in unsure.reason and unsure.probability is None
    [operator] = default.decide(snap(market("1")), state(cash=1000), 0)  # the operator's: certain
    assert operator.quotes
    reference = ValueBetting("vb", {**BASE, "min_confidence": 0.9, "fair_source": "reference"})
    [priced] = reference.decide(snap(view(yes=CHEAP, reference="0.60")), state(cash=1000), 0)
    assert priced.quotes
    assert vb(min_confidence=0.5).decide(snap(market("0.5")), state(cash=1000), 0)[0].quotes  # at the floor: acted on


def _holding(yes: float = 0, no: float = 0, paid: str = "0", cash: float = 1000) -> StrategyState:
    """A strategy holding YES (or NO) shares it paid `paid` pUSD for."""
    position = PositionView("c1", yes=sh(yes), no=sh(no), yes_cost=px(paid) if yes else 0,
                            no_cost=px(paid) if no else 0)
    return StrategyState(name="vb", positions={"c1": position}, open_orders=(), cash=px(cash))


def test_the_position_cap_caps_the_money_paid_not_shares_at_todays_price() -> None:
    """`max_position` 100 pUSD: 150 YES bought for 90 pUSD (at 0.60) leave 10 pUSD of room whatever the price
    did since; at 0.30 that is 33 shares more, not the 333 - 150 a cap in shares at today's price allowed
    (each fall of the price raised it: a strategy bought 418 shares for 153.70 pUSD under a cap of 100)."""
    fallen = view(yes=book(bids=[("0.29", 500)], asks=[("0.30", 500)]), fair="0.60")
    [intent] = vb(max_order=500).decide(snap(fallen), _holding(yes=150, paid="90"), 0)
    assert intent.quotes == (Quote(Side.BUY, px("0.30"), sh(33), Tif.FAK),)  # 33 x 0.30 = 9.90 <= 10
    [full] = vb(max_order=500).decide(snap(fallen), _holding(yes=150, paid="100"), 0)
    assert full.quotes == () and "no size" in full.reason  # paid the cap: nothing more, however cheap
    # the limit style rests its bid within the same room
    limit = vb(max_order=500, max_position=20, order_style="limit")
    [resting] = limit.decide(snap(fallen), _holding(yes=20, paid="15"), 0)
    assert [(q.side, q.price, q.size) for q in resting.quotes if q.side is Side.BUY] == [
        (Side.BUY, px("0.57"), sh(8))]  # 5 pUSD of room at 0.57 (Kelly wants 10 more)
    # selling YES buys NO: its room is what the NO held cost, and a YES position is closed first, whatever it cost
    rich = view(yes=book(bids=[("0.40", 500)], asks=[("0.42", 500)]), fair="0.30")
    [no_side] = vb(max_order=500, max_position=60).decide(snap(rich), _holding(no=50, paid="57"), 0)
    assert no_side.quotes == (Quote(Side.SELL, px("0.40"), sh(5), Tif.FAK),)  # 3 pUSD of NO at 0.60
    [closing] = vb(max_order=500).decide(snap(rich), _holding(yes=30, paid="100"), 0)
    assert closing.quotes[0].size == sh(134)  # the 30 YES closed, then Kelly's 104 NO within the 100 pUSD
