"""Numbers from outside that Decimal takes but its arithmetic does not (contracts/domain.py,
`read_decimal`): "1e999999" (decimal.Overflow once scaled), "1e-9999999999" (an underflow that
silently rounds to 0), a thousand digits (seconds to turn into an int) and their kin are refused by
name by every reader of outside numbers (a posted fair value, a limit, a strategy's params, the
manual ticket, a news rule, a venue decimal, Kalshi's history), never raised as an ArithmeticError,
never read as 0."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from contracts import news
from contracts.domain import BadNumber, NotFinite, OutOfRange, read_decimal, to_micros
from contracts.limits import BY_NAME, LimitError, parse_value
from contracts.outside_signals import PostRefused, Refusal, parse_post
from contracts.params import ParamSpec, ParamType, check_value
from contracts.ticket import TicketError, parse_ticket
from engine.marketdata import kalshi_history
from storage.dashboard_queries import market_queries

NOW = 1_790_000_000_000
HUGE = ["1e999999", "-1e999999", "0.5E+999999999999999999", " 1e999999 ", "1e41", 10**60, 1e300]
TINY = ["1e-999999", "1e-9999999999", "-1e-41", 5e-324]
LONG = ["0." + "1" * 100_000, "9" * 100_000, "1" * 65]


def _post(**fields: Any) -> dict[str, Any]:
    return {"market": "0xab", "source": "mymodel", "fair_value": "0.62", "posted_at": NOW, "nonce": "n0nce-123",
            "ttl_s": 60, **fields}


@pytest.mark.parametrize("value", HUGE + TINY + LONG + ["NaN", "-Infinity", "", "abc", True, [1]])
def test_read_decimal_refuses_what_arithmetic_would_not_survive(value: Any) -> None:
    with pytest.raises(BadNumber) as refused:
        read_decimal(value)
    assert len(str(refused.value)) < 200  # a long input is quoted cut short
    expected = {**dict.fromkeys(map(repr, HUGE), (OutOfRange, True)), **dict.fromkeys(map(repr, TINY),
                                                                                       (OutOfRange, False))}
    kind = expected.get(repr(value))
    if kind is not None:
        assert isinstance(refused.value, kind[0]) and refused.value.large is kind[1]
    elif value in ("NaN", "-Infinity"):
        assert isinstance(refused.value, NotFinite)


@pytest.mark.parametrize("value, exact", [("1e40", Decimal("1e40")), ("1E-40", Decimal("1e-40")), (" 0.62 ", None),
                                          ("0e999999", Decimal(0)), (10**40, None), (0.3, Decimal("0.3"))])
def test_read_decimal_takes_every_number_within_its_bounds_exactly(value: Any, exact: Decimal | None) -> None:
    assert read_decimal(value) == (exact if exact is not None else Decimal(str(value).strip()))


@pytest.mark.parametrize("value", HUGE + TINY + LONG)
def test_a_venue_decimal_beyond_bounds_is_a_bad_number_or_rounded_down_to_0(value: Any) -> None:
    if value in TINY:
        assert to_micros(value) == 0  # finer than a micro-unit, rounded down as documented: never an underflow
    else:
        with pytest.raises(BadNumber):
            to_micros(value)
    with pytest.raises(BadNumber):
        to_micros(value, exact=True)


def test_a_scaled_number_is_exact_however_many_digits_it_has() -> None:
    assert to_micros("0." + "9" * 40) == 999_999  # rounded down, never up to 1 through 28-digit arithmetic
    with pytest.raises(BadNumber, match="more than 6 decimal places"):
        to_micros("0.62" + "0" * 40 + "1", exact=True)


@pytest.mark.parametrize("key", ["fair_value", "confidence"])
@pytest.mark.parametrize("value, code", [("1e999999", Refusal.OUT_OF_RANGE), ("-1e999999", Refusal.OUT_OF_RANGE),
                                         (1e300, Refusal.OUT_OF_RANGE), ("1e-9999999999", Refusal.BAD_REQUEST),
                                         ("0." + "1" * 100_000, Refusal.BAD_REQUEST),
                                         ("9" * 100_000, Refusal.BAD_REQUEST)])
def test_a_posted_probability_beyond_bounds_is_refused_by_name(key: str, value: Any, code: Refusal) -> None:
    with pytest.raises(PostRefused) as refused:
        parse_post(_post(**{key: value}), NOW)
    assert refused.value.code is code and refused.value.message.startswith(key)
    assert len(refused.value.message) < 300


@pytest.mark.parametrize("value", HUGE + TINY + LONG)
def test_a_limit_beyond_bounds_is_refused_naming_the_limit(value: Any) -> None:
    with pytest.raises(LimitError, match="^Max total exposure: "):
        parse_value(BY_NAME["max_total_exposure"], value)


@pytest.mark.parametrize("kind", [ParamType.PROBABILITY, ParamType.PUSD, ParamType.INT])
@pytest.mark.parametrize("value", HUGE + TINY + LONG)
def test_a_strategy_param_beyond_bounds_is_a_sentence(kind: ParamType, value: Any) -> None:
    spec = ParamSpec("size", kind, 1, "help")
    assert check_value(spec, value)[0] is None and check_value(spec, value)[1]


@pytest.mark.parametrize("value", HUGE + TINY + LONG)
def test_a_ticket_number_beyond_bounds_names_its_field(value: Any) -> None:
    for field in ("size", "price"):
        with pytest.raises(TicketError) as refused:
            parse_ticket({"condition_id": "c1", "outcome": "YES", "side": "BUY", "size": "20", "price": "0.5",
                          field: value}, now_s=NOW // 1000)
        assert refused.value.field == field


@pytest.mark.parametrize("value", HUGE + TINY + LONG)
def test_a_news_rule_value_beyond_bounds_is_refused(value: Any) -> None:
    with pytest.raises(news.NewsConfigError, match="probability between 0 and 1"):
        news._probability(value, "value")


@pytest.mark.parametrize("value", ["1e999999", "1e-999999", "-1e999999"])
def test_stored_and_imported_kalshi_numbers_beyond_bounds_are_left_out(value: str) -> None:
    assert kalshi_history._micros(value) is None
    assert market_queries._micros(value) == 0
