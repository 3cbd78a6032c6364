"""The desk's units (contracts/domain.py, contracts/average_cost.py): a venue decimal becomes micro-units
exactly or rounded down, never through a float's binary value, and an unreadable or too fine one is
refused with its reason; costs and the cost a sale removes round down and stay whole; a book's age and
its mirror for the other outcome. Written against mutations the mutation run
(`make mutation`) found surviving."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from contracts.average_cost import sell_step
from contracts.domain import MICRO, BadNumber, Book, Level, MarketInfo, MarketView, Outcome, fmt, notional, to_micros


@pytest.mark.parametrize("value, micros", [("0.515", 515_000), ("192.3", 192_300_000), (5, 5_000_000),
                                           (0.3, 300_000), (Decimal("0.000001"), 1), ("0.0000019", 1),
                                           ("-0.0000015", -1), ("1e-3", 1_000)])
def test_a_venue_decimal_is_micro_units_rounded_down(value: str | int | float | Decimal, micros: int) -> None:
    assert to_micros(value) == micros  # 0.3 as a float is 0.29999999999999998...: its repr is meant


def test_exact_refuses_what_is_finer_than_a_micro_unit_and_takes_what_is_not() -> None:
    assert to_micros("0.123456", exact=True) == 123_456
    with pytest.raises(BadNumber, match=r"^'0.1234567' has more than 6 decimal places$"):
        to_micros("0.1234567", exact=True)
    assert to_micros("0.1234567") == 123_456  # not exact: rounded down


@pytest.mark.parametrize("value, why", [("abc", "not a number: 'abc'"), ("", "not a number: ''"),
                                        ("NaN", "not a finite number: 'NaN'"),
                                        (float("inf"), "not a finite number: inf")])
def test_a_value_that_is_not_a_finite_number_is_refused_naming_it(value: str | float, why: str) -> None:
    with pytest.raises(BadNumber) as refused:
        to_micros(value)
    assert str(refused.value) == why


def test_micro_units_print_as_their_shortest_decimal() -> None:
    assert [fmt(m) for m in (520_000, 1, 10_000_000, 1_500_000, 0, -250_000)] == [
        "0.52", "0.000001", "10", "1.5", "0", "-0.25"]


def test_a_book_updated_now_is_zero_ms_old_and_never_negative() -> None:
    book = Book("Y", (), (), 1_000)
    assert (book.age_ms(1_000), book.age_ms(1_250), book.age_ms(900)) == (0, 250, 0)


def test_the_mirror_of_a_book_is_the_other_tokens_at_the_complement() -> None:
    yes = Book("Y", (Level(480_000, 5), Level(470_000, 7)), (Level(520_000, 3),), 42)
    no = yes.mirrored("N")
    assert no == Book("N", (Level(480_000, 3),), (Level(520_000, 5), Level(530_000, 7)), 42)


def test_a_cost_is_rounded_down_to_the_micro_unit_and_stays_whole() -> None:
    assert notional(333_333, 3) == 0  # 0.999999 micro-pUSD
    assert notional(333_333, 3 * MICRO) == 999_999 and type(notional(333_333, 3 * MICRO)) is int


def test_a_sale_removes_its_share_of_the_cost_rounded_down() -> None:
    # 3 shares that cost 1 pUSD; selling 1 at 0.50 removes 0.333333 and realizes 0.166667.
    assert sell_step(3 * MICRO, MICRO, 500_000, MICRO) == (333_333, 166_667)
    assert sell_step(1, 7, 500_000, 1) == (7, -7)  # one micro-share held: its whole cost goes
    assert sell_step(0, 0, 500_000, MICRO) == (0, 500_000)  # nothing held: the proceeds are realized


def test_a_market_knows_which_outcome_each_of_its_tokens_is() -> None:
    market = MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=MICRO)
    assert (market.outcome_of("Y"), market.outcome_of("N")) == (Outcome.YES, Outcome.NO)
    with pytest.raises(KeyError, match="token X is not in market c1"):
        market.outcome_of("X")


def test_a_market_with_either_book_missing_has_no_data_age() -> None:
    book = Book("Y", (), (), 1_000)
    market = MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=MICRO)
    assert MarketView(market, book, None).data_age_ms(2_000) is None
    assert MarketView(market, None, book).data_age_ms(2_000) is None
    assert MarketView(market, book, replace(book, updated_ms=500)).data_age_ms(2_000) == 1_500
