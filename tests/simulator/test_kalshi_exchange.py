"""The simulator's Kalshi matching and book-keeping (simulator/kalshi/exchange.py, lifecycle.py), on
random V2 order flow with fractional counts and sub-penny prices: money is neither made nor lost
(the accounts' cash, what rests held back and every fee Kalshi reported add up to what they started
with, with each open contract worth its dollar), balances stay on the $0.0001 grain and never go
below zero, an order that stopped resting holds nothing back, and after settlement every contract was
paid its dollar, less only the settlement fee of a payout rounded down to cents."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.kalshi.exchange import HOUSE, OTHER, Exchange, Placement, Refused
from simulator.kalshi.fees import Accumulator, FeeSchedule, SeriesFees, trade_fee
from simulator.kalshi.grid import Grid
from simulator.kalshi.lifecycle import Lifecycle
from simulator.kalshi.market import Market
from simulator.kalshi.units import MICRO

ACCOUNTS = ("a", "b", "c")
START = 50 * MICRO  # each account's dollars (small: some orders are refused for balance)

orders = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(("bid", "ask")), st.integers(1, 999),
                            st.integers(1, 3000),
                            st.sampled_from(("good_till_canceled", "immediate_or_cancel", "fill_or_kill")),
                            st.booleans(), st.sampled_from(("taker_at_cross", "maker")), st.booleans()),
                  min_size=1, max_size=40)


def _exchange(fee_type: str) -> tuple[Exchange, Lifecycle]:
    ex = Exchange(seed=1, starting_balance=START)
    ex.add_market(Market("T", "E", "S", "id", "t", "y", "r1", "r2", 0, 10**13, Grid.named("deci_cent"),
                         SeriesFees(FeeSchedule(fee_type, Fraction(1)))))
    for price, side in ((450_000, "bid"), (440_000, "bid"), (550_000, "ask"), (560_000, "ask")):
        ex.place(HOUSE, Placement("T", side, price, 7_250_000, "good_till_canceled", "maker"), 0)
    for name in ACCOUNTS:
        ex.open_account(name)
    return ex, Lifecycle(ex, weekly=False)


def _held(ex: Exchange) -> int:
    """Cash in the accounts and held back for resting orders, plus every fee charged."""
    cash = sum(a.balance for a in ex.accounts.values())
    reserved = sum(o.reserved for o in ex.orders.values())
    fees = sum(f.fee for a in ex.accounts.values() for f in a.fills)
    return cash + reserved + fees


def _open_contracts(ex: Exchange) -> int:
    return sum(max(0, p.count) for a in ex.accounts.values() for p in a.positions.values())


@settings(max_examples=150, deadline=None)
@given(flow=orders, result=st.sampled_from(("yes", "no")), fee_type=st.sampled_from(("quadratic",
                                                                                       "quadratic_with_maker_fees")))
def test_money_is_conserved_through_trading_and_settlement(flow: list[tuple], result: str, fee_type: str) -> None:
    ex, life = _exchange(fee_type)
    start = _held(ex)
    for n, (who, side, mills, centis, tif, post_only, stp, cancel) in enumerate(flow):
        try:
            order, _ = ex.place(who, Placement("T", side, mills * 1_000, centis * 10_000, tif, stp, f"o{n}",
                                               post_only and tif == "good_till_canceled"), n)
        except Refused:
            continue
        if cancel and order.status == "resting":
            ex.cancel(who, order.order_id, n)
        assert _held(ex) + _open_contracts(ex) == start  # each open contract is a dollar some holder is owed
        assert all(a.balance >= 0 and a.balance % 100 == 0 for name, a in ex.accounts.items()
                   if name not in (HOUSE, OTHER))
        assert sum(p.count for a in ex.accounts.values() for p in a.positions.values()) == 0
        assert all(o.reserved == 0 for o in ex.orders.values() if o.status != "resting")
    life.determine("T", result, None, 0, 10**6)
    life.finalize("T", 10**6)
    assert _open_contracts(ex) == 0
    assert _held(ex) == start  # every contract paid its dollar (fractions of a contract pay whole cents)
    assert all(o.reserved == 0 and o.status != "resting" for o in ex.orders.values())


def test_fees_are_kalshis_rounded_up_to_a_hundredth_of_a_cent() -> None:
    quadratic, makers = FeeSchedule("quadratic"), FeeSchedule("quadratic_with_maker_fees")
    # 0.07 x 1 x 0.99 x 0.01 = $0.000693: $0.0007, where a fee rounded up to the cent would be $0.01
    assert trade_fee(quadratic, MICRO, 990_000, taker=True) == 700
    assert trade_fee(quadratic, MICRO, 990_000, taker=False) == 0
    assert trade_fee(makers, 100 * MICRO, 500_000, taker=False) == 437_500  # 0.0175 x 100 x 0.25
    assert trade_fee(FeeSchedule("quadratic", Fraction(1, 2)), 100 * MICRO, 500_000, taker=True) == 875_000


def test_each_orders_rounding_is_rebated_a_cent_at_a_time() -> None:
    """Kalshi's fee accumulator: a fill's balance change is floored to $0.0001 and the difference
    charged; once an order's charges pass a cent, a cent comes back on a fill whose own fees cover it
    (a fill's net fee is never below zero)."""
    acc = Accumulator()
    # buying 0.03 contract at $0.3301 costs $0.009903: the balance moves by -$0.0100 less the fee
    small = [acc.settle_fill(-9_903, 500) for _ in range(120)]
    assert set(small) == {500 + 97}  # the trade fee and $0.000097 of rounding each time, $0.011640 in all
    # then 10 contracts at $0.5000 (a fee of $0.1750, no rounding): the cent comes back on it
    assert acc.settle_fill(-5_000_000, 175_000) == 175_000 - 10_000
    assert acc.rounding == 120 * 97 - 10_000


def test_the_cf_benchmarks_averages_and_a_crypto_window_settle_as_kalshis_page_says() -> None:
    """`avg_60s_data`: the values before a tick in [t - 60 s, t), counted; `last_60s_windowed_average_15min`
    only in the final minute before a quarter-hour close, its values in (close - 60 s, t] (30 seconds in:
    30 of them); a window opened at its price to beat (the 60-second average then) resolves Yes when the
    60 values before its close average at least that, and is paid after its settlement timer."""
    import json

    from simulator.kalshi.cfbenchmarks import RECEIVED_LAG_MS, IndexFeed, Tick
    from simulator.kalshi.side import KalshiSide

    close = 1_800_000_000_000 // 900_000 * 900_000 + 900_000
    assert IndexFeed(7, 0.6, close - 30_000).indexes["BRTI"].ticks[-1][0] == close - 31_000  # not yet received
    feed = IndexFeed(7, 0.6, close - 30_000 + RECEIVED_LAG_MS)
    at, value = feed.indexes["BRTI"].ticks[-1]
    assert at == close - 30_000
    msg = feed.message(Tick("BRTI", at, value))
    prior = [v for t, v in feed.indexes["BRTI"].ticks if at - 60_000 <= t < at]
    assert msg["avg_60s_data"]["window_size"] == 60 == len(prior)
    assert float(msg["avg_60s_data"]["value"]) == round(sum(prior) / 60, 8)
    assert json.loads(msg["data"]) == {"type": "value", "id": "BRTI", "time": at, "value": f"{value:.2f}"}
    quarter = msg["last_60s_windowed_average_15min"]
    assert (quarter["window_size"], quarter["window_start_ts_ms"], quarter["window_end_ts_exclusive"]) == (
        30, close - 60_000, close + 1)
    assert "last_60s_windowed_average_15min" not in feed.message(Tick("BRTI", close - 61_000, value))
    side = KalshiSide(3, 0, 10 * MICRO, 5.0, False, 3600.0, crypto=("KXBTC15M",))
    side.tick()
    ticker = next(t for t in side.windows if side.exchange.markets[t].status == "active")
    market = side.exchange.markets[ticker]
    strike = market.floor_strike
    assert strike is not None and market.strike_type == "greater_or_equal"
    market.close_ms = side.index.last_ms  # its close now: the 60 values before it are there
    settled = side.index.settlement("BRTI", market.close_ms)
    assert settled is not None
    side._settle_windows(side.index.last_ms)
    assert market.status == "active"  # its close's value is not yet at Kalshi
    side._settle_windows(side.index.last_ms + RECEIVED_LAG_MS)
    assert (market.status, market.result) == ("determined", "yes" if settled >= strike else "no")
    side.lifecycle.tick(side.index.last_ms + 61_000)
    assert market.status == "finalized"
