"""What switches protection off (contracts/protection.py): a breaker turned off by 0, a breaker that can
never be reached, a money limit at or above the whole account; and only a change from protecting to
not protecting needs confirming."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.limits import LIMITS
from contracts.protection import DESK, STRATEGY, loosening, money, unprotective
from contracts.strategy_limits import STRATEGY_LIMITS

D = Decimal
ACCOUNT = D(10_000)


@pytest.mark.parametrize(("name", "value", "words"), [
    ("max_daily_loss", "9000000", "9,000,000 pUSD is at least the account's equity (10,000 pUSD)"),
    ("max_daily_loss", "10000", "daily-loss breaker would never trip"),
    ("max_daily_loss", "0", "0 turns the daily-loss breaker off"),
    ("kill_switch_drawdown", "100", "the kill switch would never trip"),
    ("kill_switch_drawdown", "0", "0 turns the kill switch off"),
    ("max_drawdown", "100", "the drawdown breaker would never trip"),
    ("error_rate_breaker", "0", "error-rate breaker off"),
    ("volatility_reduce", "0", "volatility breaker off"),
    ("volatility_halt", "0", "never halts"),
    ("correlation_spike", "0", "correlation-spike breaker off"),
    ("correlation_threshold", "0", "per-group exposure cap is off"),
    ("max_total_exposure", "25000", "it can never bind"),
    ("max_market_exposure", "10000.5", "10,000.50 pUSD is at least"),
])
def test_a_desk_limit_that_protects_nothing_says_why(name: str, value: str, words: str) -> None:
    why = unprotective("desk", name, D(value), ACCOUNT)
    assert why is not None and words in why


@pytest.mark.parametrize(("name", "value"), [
    ("max_daily_loss", "9999.99"), ("kill_switch_drawdown", "99.9"), ("max_drawdown", "50"),
    ("error_rate_breaker", "1"), ("max_total_exposure", "9999"), ("max_open_orders", "0"),
    ("max_order_rate", "0"), ("max_data_age", "0"),  # 0 there refuses every order: tight, not off
])
def test_a_desk_limit_that_protects_is_left_alone(name: str, value: str) -> None:
    assert unprotective("desk", name, D(value), ACCOUNT) is None


def test_without_the_accounts_equity_only_what_is_off_by_itself_is_judged() -> None:
    assert unprotective("desk", "max_daily_loss", D(9_000_000), None) is None
    assert unprotective("desk", "max_daily_loss", D(9_000_000), D(0)) is None  # an empty account: nothing to compare
    assert unprotective("desk", "kill_switch_drawdown", D(100), None) is not None


@pytest.mark.parametrize(("name", "value", "words"), [
    ("allocation", "0", "the whole wallet"), ("allocation", "20000", "caps nothing"),
    ("max_daily_loss", "0", "its daily-loss breaker off"), ("max_drawdown", "100", "never trip"),
    ("stop_loss_move", "1", "never fire"), ("stop_loss_move", "0", "stop loss (price) off"),
    ("stop_loss_pnl", "10000", "never fire"),
])
def test_a_strategy_limit_that_protects_nothing_says_why(name: str, value: str, words: str) -> None:
    why = unprotective("strategy", name, D(value), ACCOUNT)
    assert why is not None and words in why
    assert unprotective("strategy", "take_profit_move", D(0), ACCOUNT) is None  # taking profit protects nothing


def test_only_a_change_from_protecting_to_not_protecting_needs_confirming() -> None:
    assert loosening("desk", "max_daily_loss", D(100), D(9_000_000), ACCOUNT) is not None
    assert loosening("desk", "kill_switch_drawdown", D(20), D(100), ACCOUNT) is not None
    assert loosening("desk", "kill_switch_drawdown", D(100), D(0), ACCOUNT) is None  # off already
    assert loosening("desk", "max_daily_loss", D(100), D(200), ACCOUNT) is None  # looser, still protects
    assert loosening("strategy", "stop_loss_move", D(0), D(1), ACCOUNT) is None  # the default is off
    assert loosening("strategy", "stop_loss_move", D("0.1"), D(0), ACCOUNT) is not None
    assert loosening("desk", "max_daily_loss", None, D(0), ACCOUNT) is not None  # before unknown: confirm


def test_every_rule_names_a_limit_of_its_scope_and_money_reads_as_a_person_writes_it() -> None:
    assert set(DESK) <= {spec.name for spec in LIMITS}
    assert set(STRATEGY) <= {spec.name for spec in STRATEGY_LIMITS}
    assert (money(D(9_000_000)), money(D("10000.5")), money(D("0.25"))) == ("9,000,000", "10,000.50", "0.25")
