"""Complement arbitrage on scripted YES/NO books and neg-risk groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.domain import MarketInfo, MarketView, Quote, Side, Tif
from engine.strategies.complement_arb import ComplementArb, declared_group_size
from engine.strategies.pricing import taker_fee
from tests.strategies.builders import book, info, order, px, sh, snap, state, view


@dataclass(frozen=True)  # (no slots: a subclass of the compiled MarketInfo keeps its layout)
class GroupInfo(MarketInfo):
    """MarketInfo plus the field the strategy asks domain.py to gain (see complement_arb)."""

    neg_risk_outcome_count: int | None = None


def arb(**params: object) -> ComplementArb:
    return ComplementArb("arb", {"edge": 0.01, "fee_buffer": 0.001, "max_size": 50, **params})


def take(side: Side, price: str, size: float, group: str = "") -> Quote:
    return Quote(side, px(price), sh(size), Tif.FAK, group=group, on_partial="unwind" if group else "")


def binary(yes_ask: tuple[str, float], no_ask: tuple[str, float], **market: Any) -> MarketView:
    return view(yes=book(asks=[yes_ask]), no=book(asks=[no_ask]), market=info(**market))


def test_buys_both_sides_when_the_set_is_cheap() -> None:
    # 0.45 + 0.001 + 0.48 + 0.001 = 0.932; + edge 0.01 = 0.942 < 1. Size = min(30, 20, 50) = 20.
    # Buying NO at 0.48 is SELL YES at 1 - 0.48 = 0.52.
    [intent] = arb().decide(snap(binary(("0.45", 30), ("0.48", 20))), state(), 0)
    set_of = f"arb:{intent.condition_id}"  # one group: both legs or neither
    assert intent.quotes == (take(Side.BUY, "0.45", 20, set_of), take(Side.SELL, "0.52", 20, set_of))


def test_size_is_capped_by_max_size() -> None:
    [intent] = arb(max_size=7).decide(snap(binary(("0.45", 30), ("0.48", 20))), state(), 0)
    assert [q.size for q in intent.quotes] == [sh(7), sh(7)]


def test_taker_fees_can_remove_the_edge() -> None:
    # Without fees: 0.49 + 0.49 + 2 * 0.001 + 0.01 = 0.992 < 1 -> trade.
    # Fee rate 3% (30_000 ppm), exponent 1: 0.03 * 0.49 * 0.51 = 0.007497 per leg, so
    # 0.98 + 0.014994 + 0.002 + 0.01 = 1.006994 >= 1 -> no trade.
    assert arb().decide(snap(binary(("0.49", 10), ("0.49", 10))), state(), 0)[0].quotes
    [intent] = arb().decide(snap(binary(("0.49", 10), ("0.49", 10), fee_rate_ppm=30_000)), state(), 0)
    assert intent.quotes == () and "no edge" in intent.reason


def test_fee_formula() -> None:
    # 0.03 * (0.45 * 0.55) = 0.007425; exponent 2 at 0.5: 0.03 * 0.25^2 = 0.001875
    assert taker_fee(px("0.45"), info(fee_rate_ppm=30_000)) == 7_425
    assert taker_fee(px("0.5"), info(fee_rate_ppm=30_000, fee_exponent=2)) == 1_875
    # 1 ppm at 0.5: 0.25 micro-pUSD, rounded up to 1 (fees are over-estimated, never under)
    assert taker_fee(px("0.5"), info(fee_rate_ppm=1)) == 1
    assert taker_fee(px("0.5"), info()) == 0


def test_no_edge_missing_books_and_closed_markets_quote_nothing() -> None:
    cases = [
        binary(("0.50", 10), ("0.50", 10)),  # 1.002 + 0.01 > 1
        view(yes=book(asks=[("0.40", 10)]), no=None),
        view(yes=book(bids=[("0.40", 10)]), no=book(asks=[("0.40", 10)])),  # YES has no ask
        binary(("0.40", 10), ("0.40", 10), closed=True),
    ]
    for market in cases:
        [intent] = arb().decide(snap(market), state(), 0)
        assert intent.quotes == (), intent


def test_in_flight_orders_silence_the_market() -> None:
    market = binary(("0.45", 30), ("0.48", 20))
    assert arb().decide(snap(market), state(orders=[order("c1", Side.BUY, "0.45", 20)]), 0) == []


def group(asks: list[tuple[str, float] | None], declared: int | None = None) -> list[MarketView]:
    count = declared if declared is not None else len(asks)
    views = []
    for i, level in enumerate(asks):
        market = GroupInfo(condition_id=f"g{i}", question="?", yes_token=f"y{i}", no_token=f"n{i}",
                           tick=10_000, min_size=sh(5), neg_risk=True, neg_risk_market_id="event",
                           neg_risk_outcome_count=count)
        views.append(view(f"g{i}", yes=book(asks=[level] if level else []), market=market))
    return views


def test_neg_risk_group_buys_every_outcome() -> None:
    # 0.30 + 0.33 + 0.32 = 0.95; + 3 * 0.001 buffer = 0.953; + edge 0.01 = 0.963 < 1.
    # Size = min(40, 25, 60, max 50) = 25 of each.
    intents = arb().decide(snap(*group([("0.30", 40), ("0.33", 25), ("0.32", 60)])), state(), 0)
    assert [(i.condition_id, i.quotes) for i in intents] == [
        ("g0", (take(Side.BUY, "0.30", 25, "arb:event"),)),
        ("g1", (take(Side.BUY, "0.33", 25, "arb:event"),)),
        ("g2", (take(Side.BUY, "0.32", 25, "arb:event"),)),
    ]


def test_neg_risk_group_needs_the_whole_group() -> None:
    # three of four declared outcomes: buying them is a bet, not an arbitrage
    incomplete = group([("0.30", 40), ("0.33", 25), ("0.32", 60)], declared=4)
    # an outcome without an ask
    no_ask = group([("0.30", 40), None, ("0.32", 60)])
    # too expensive: 0.40 + 0.33 + 0.32 + 0.003 + 0.01 = 1.063
    dear = group([("0.40", 40), ("0.33", 25), ("0.32", 60)])
    for views in (incomplete, no_ask, dear):
        assert all(i.quotes == () for i in arb().decide(snap(*views), state(), 0))
    # switched off
    cheap = group([("0.30", 40), ("0.33", 25), ("0.32", 60)])
    assert all(i.quotes == () for i in arb(neg_risk_groups=False).decide(snap(*cheap), state(), 0))


def test_neg_risk_group_waits_for_in_flight_legs() -> None:
    cheap = group([("0.30", 40), ("0.33", 25), ("0.32", 60)])
    intents = arb().decide(snap(*cheap), state(orders=[order("g1", Side.BUY, "0.33", 25)]), 0)
    # g1 is silent; the others fall back to binary judgement (no NO book: nothing)
    assert [i.condition_id for i in intents] == ["g0", "g2"]
    assert all(i.quotes == () for i in intents)


def test_group_size_is_unknown_on_plain_market_info() -> None:
    assert declared_group_size(info(neg_risk=True, neg_risk_market_id="e")) is None
    plain = [view(f"p{i}", yes=book(asks=[("0.30", 10)]),
                  market=info(f"p{i}", neg_risk=True, neg_risk_market_id="e")) for i in range(3)]
    assert all(i.quotes == () for i in arb().decide(snap(*plain), state(), 0))
