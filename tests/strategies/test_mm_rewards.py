"""The market maker and liquidity rewards: quoting inside a program's max spread and at its min size
(`reward_qualify`), and choosing markets by reward per unit of risk (`min_reward_per_risk`,
`reward_top_markets`). Prices are probabilities; tick 0.01; the book's mid is 0.50."""

from __future__ import annotations

from typing import Any

from contracts.domain import Quote, Side, Tif
from engine.strategies.market_making import MarketMaking
from tests.strategies.builders import book, info, px, sh, snap, state, view

WIDE = book(bids=[("0.40", 100)], asks=[("0.60", 100)])


def program(cid: str, pool: str, max_spread: str, min_size: float):
    return info(cid, reward_daily_pool=px(pool), reward_max_spread=px(max_spread), reward_min_size=sh(min_size))


def quotes(cid: str, bid: str, ask: str, size: float) -> tuple[Quote, ...]:
    return (Quote(Side.BUY, px(bid), sh(size), Tif.GTC, post_only=True),
            Quote(Side.SELL, px(ask), sh(size), Tif.GTC, post_only=True))


def decide(params: dict[str, Any], *views):
    return {i.condition_id: i for i in MarketMaking("mm", params).decide(snap(*views), state("mm"), 0)}


def test_qualifying_quotes_inside_the_max_spread_and_at_the_min_size():
    rewarded = view("r", yes=WIDE, market=program("r", "20", "0.03", 50))
    plain = view("p", yes=WIDE)
    base = {"half_spread": 0.05, "size": 10, "max_spread": 0.5}
    out = decide({**base, "reward_qualify": True}, rewarded, plain)
    assert out["r"].quotes == quotes("r", "0.48", "0.52", 50)  # half-spread 0.02: a tick inside 3 cents
    assert out["p"].quotes == quotes("p", "0.45", "0.55", 10)  # no program: as configured
    assert decide(base, rewarded)["r"].quotes == quotes("r", "0.45", "0.55", 10)  # off: as configured
    tight = decide({"half_spread": 0.01, "size": 80, "max_spread": 0.5, "reward_qualify": True}, rewarded)
    assert tight["r"].quotes == quotes("r", "0.49", "0.51", 80)  # already inside and larger: unchanged


def test_markets_are_chosen_by_reward_per_unit_of_risk():
    rich = view("a", yes=WIDE, market=program("a", "20", "0.03", 50))  # 20 / 50 = 0.4 a day per pUSD
    poor = view("b", yes=WIDE, market=program("b", "5", "0.03", 100))  # 0.05
    none = view("c", yes=WIDE)  # 0
    mm = MarketMaking("mm", {"size": 10})
    assert [mm.reward_per_risk(v.info) for v in (rich, poor, none)] == [px("0.4"), px("0.05"), 0]
    assert MarketMaking("mm", {"size": 200}).reward_per_risk(rich.info) == px("0.1")  # its own size is the risk
    out = decide({"size": 10, "max_spread": 0.5, "min_reward_per_risk": 0.1}, rich, poor, none)
    assert out["a"].quotes and not out["b"].quotes and not out["c"].quotes
    assert out["b"].reason == "reward per risk 0.05 below 0.1"
    top = decide({"size": 10, "max_spread": 0.5, "reward_top_markets": 2}, none, poor, rich)
    assert bool(top["a"].quotes) and bool(top["b"].quotes) and not top["c"].quotes
    assert top["c"].reason == "not among the 2 markets paying the most reward per risk"
    assert all(i.quotes for i in decide({"size": 10, "max_spread": 0.5}, rich, poor, none).values())  # off by default


def test_the_reward_parameters_are_validated():
    assert "min_reward_per_risk" in MarketMaking.validate({"min_reward_per_risk": -1})[1]
    assert "reward_top_markets" in MarketMaking.validate({"reward_top_markets": 1.5})[1]
    assert "reward_qualify" in MarketMaking.validate({"reward_qualify": "maybe"})[1]
    params, errors = MarketMaking.validate({"reward_qualify": True, "min_reward_per_risk": 0.2,
                                            "reward_top_markets": 3})
    assert errors == {} and (params["reward_qualify"], params["reward_top_markets"]) == (True, 3)
