"""Kalshi's fee arithmetic as its fee schedule and Fee Rounding page describe it (contracts/venues/kalshi/fees.py),
checked on numbers worked by hand: the trade fee rounded up to $0.0001, the balance moved by cash less
the reported fee always a whole $0.0001, the per-order rounding accumulator and its cent rebate once it
passes $0.01 on a fill whose own fees cover it. Paper trading and backtests charge Kalshi fills with
this; the process tier checks it against the simulator, this at the mutation run's speed."""

from __future__ import annotations

import pytest

from contracts.venues.kalshi.fees import BALANCE_GRAIN, FillFees, KalshiFees, fill_cash, trade_fee, worst_fee

SH = 1_000_000
MAKERS_PAY = KalshiFees("quadratic_with_maker_fees", SH)


def test_the_trade_fee_is_rate_times_c_p_one_minus_p_rounded_up_to_a_hundredth_cent() -> None:
    assert trade_fee(MAKERS_PAY, 500_000, SH, taker=True) == 17_500  # 0.07 x 1 x 0.5 x 0.5
    assert trade_fee(MAKERS_PAY, 500_000, SH, taker=False) == 4_400  # 0.0175 x 0.25 = 0.004375, up
    # Half a contract at 0.4235 on a series at half the multiplier: 0.035 x 0.5 x 0.4235 x 0.5765 = 0.00427...
    assert trade_fee(KalshiFees("quadratic", 500_000), 423_500, 500_000, taker=True) == 4_300
    assert worst_fee(MAKERS_PAY, 500_000, SH) == 17_500 + BALANCE_GRAIN - 1


def test_a_maker_pays_nothing_where_the_series_charges_only_takers() -> None:
    assert trade_fee(KalshiFees("quadratic", SH), 500_000, SH, taker=False) == 0
    assert trade_fee(KalshiFees("quadratic", SH), 500_000, SH, taker=True) == 17_500


def test_a_fills_cash_is_exact_and_a_buy_pays_it() -> None:
    assert fill_cash(423_500, 500_000, buy=True) == -211_750
    assert fill_cash(423_500, 500_000, buy=False) == 211_750
    assert type(fill_cash(423_500, 500_000, buy=False)) is int


@pytest.mark.parametrize("cash", [-211_750, 211_750])
def test_the_reported_fee_carries_the_rounding_that_keeps_the_balance_whole(cash: int) -> None:
    order = FillFees()
    reported = order.charge(cash, 4_300)
    assert reported == 4_350 and order.rounding == 50
    assert (cash - reported) % BALANCE_GRAIN == 0 and type(reported) is int


def test_a_cent_is_rebated_once_the_accumulator_passes_it_on_a_fill_whose_fees_cover_it() -> None:
    order = FillFees(rounding=9_990)
    assert order.charge(-211_750, 4_300) == 4_350  # accumulator 10,040: past a cent, but 0.435 cents of fees
    assert order.rounding == 10_040
    assert order.charge(-SH, 17_500) == 7_500  # no rounding of its own; 1.75 cents of fees cover the rebate
    assert order.rounding == 40


def test_the_rebate_waits_for_the_accumulator_to_pass_a_cent_not_reach_it() -> None:
    order = FillFees(rounding=9_950)
    assert order.charge(-SH, 9_950) == 10_000  # accumulator exactly 10,000: no rebate yet
    assert order.rounding == 10_000


def test_a_fill_whose_fees_are_exactly_a_cent_takes_the_rebate() -> None:
    order = FillFees(rounding=10_001)
    assert order.charge(-SH, 9_950) == 0  # 99.5 hundredths fee + 0.5 rounding = one cent, rebated
    assert order.rounding == 51
