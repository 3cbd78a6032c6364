"""The pure core without a server: fixed-point units, the mirrored book, matching
and the ledger, including a property test that pUSD and outcome tokens are
conserved by any sequence of orders."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.accounts import Ledger
from simulator.exchange import Exchange, OrderRejected
from simulator.market_payloads import NullSink
from simulator.markets import build_markets
from simulator.orders import BUY, SELL, Order
from simulator.trades import TradeLog
from simulator.units import AmountError, decimals, fmt, to_micro


def test_units_are_exact():
    assert to_micro("0.52") == 520_000 and to_micro(5) == 5_000_000
    assert fmt(5_200_000) == "5.2" and fmt(0) == "0" and fmt(1) == "0.000001" and fmt(-1_500_000) == "-1.5"
    assert decimals(10_131_970) == 5 and decimals(45_454_500) == 4
    with pytest.raises(AmountError):
        to_micro("0.0000001")


def _exchange(starting: str = "100") -> tuple[Exchange, Ledger, list]:
    scheduled: list = []
    ledger = Ledger(to_micro(starting))
    markets = build_markets(1, random.Random(0), 0.0, 3600.0)
    trades = TradeLog(ledger, NullSink(), random.Random(0), lambda d, fn: scheduled.append(fn), 0, 0, 0.0)
    return Exchange(markets, ledger, trades, NullSink()), ledger, scheduled


_n = iter(range(10**9))


def _order(ex: Exchange, who: str, yes_token: bool, side: str, price: int, size: int,
           order_type: str = "GTC", budget: int | None = None) -> Order:
    market = next(iter(ex.markets.values()))
    token = market.yes if yes_token else market.no
    return Order(id=f"0x{next(_n):064x}", market=market, token=token, side=side, price=price, size=size,
                 order_type=order_type, owner=who, maker_address=who, created_at=0, budget=budget)


def test_mirror_book_views():
    ex, _, _ = _exchange()
    market = next(iter(ex.markets.values()))
    ex.place(_order(ex, "a", True, BUY, 400_000, 10_000_000))   # YES bid 0.40
    ex.place(_order(ex, "b", False, BUY, 450_000, 5_000_000))   # NO bid 0.45 = YES ask 0.55
    book = ex.books[market.condition_id]
    assert book.token_levels(True) == ([(400_000, 10_000_000)], [(550_000, 5_000_000)])
    assert book.token_levels(False) == ([(450_000, 5_000_000)], [(600_000, 10_000_000)])
    assert book.token_best(False) == (450_000, 600_000)


def test_budget_buy_spends_the_budget_with_taker_favoured_rounding():
    ex, ledger, _ = _exchange("1000")
    ex.place(_order(ex, "maker", False, BUY, 700_000, 100_000_000))  # a YES ask at 0.30, via NO
    taker = _order(ex, "taker", True, BUY, 300_000, 0, "FAK", budget=10_000_000)
    result = ex.place(taker)
    assert result.making == 9_999_999 and result.taking == 33_333_333  # never above the budget
    assert ledger.account("taker").pusd + ledger.account("maker").pusd == 2 * 1000 * 10**6 - 33_333_333


def test_fok_is_all_or_nothing():
    ex, ledger, _ = _exchange()
    ex.place(_order(ex, "m", False, BUY, 500_000, 4_000_000))  # 4 shares offered at 0.50 (YES)
    with pytest.raises(OrderRejected):
        ex.place(_order(ex, "t", True, BUY, 500_000, 5_000_000, "FOK", budget=2_500_000))
    assert ledger.account("t").pusd == 100 * 10**6


SIDES = st.sampled_from([BUY, SELL])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), SIDES, st.integers(1, 99),
                          st.integers(1, 40), st.sampled_from(["GTC", "FAK"])), min_size=1, max_size=40))
def test_any_order_flow_conserves_money_and_tokens(flow):
    ex, ledger, scheduled = _exchange("1000")
    market = next(iter(ex.markets.values()))
    people = [f"p{i}" for i in range(4)]
    for who in people:  # everyone starts with some of both outcomes, i.e. locked pairs
        ledger.fund(who, 0, market.yes.token_id, 50_000_000)
        ledger.fund(who, 0, market.no.token_id, 50_000_000)
    for who_i, yes, side, cents, size, kind in flow:
        order = _order(ex, people[who_i], yes, side, cents * 10_000, size * 1_000_000, kind)
        try:
            ex.place(order)
        except OrderRejected:
            pass
    for fn in scheduled:
        fn()
    accts = [ledger.account(p) for p in people]
    yes_total = sum(a.token(market.yes.token_id) for a in accts)
    no_total = sum(a.token(market.no.token_id) for a in accts)
    assert yes_total == no_total  # tokens are only ever minted or merged in pairs
    assert sum(a.pusd for a in accts) + yes_total == 4 * (1000 + 50) * 10**6
    assert all(a.pusd >= 0 and a.available_pusd() >= 0 for a in accts)
    assert all(v >= 0 for a in accts for v in a.tokens.values())
    book = ex.books[market.condition_id]
    assert book.best_bid() is None or book.best_ask() is None or book.best_bid() < book.best_ask()
