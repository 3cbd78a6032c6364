"""Risk limit values as the operator stores them (contracts/limits.py): every bound inclusive, whole
numbers where the unit counts, nothing between 0 and the smallest value the engine can tell from 0,
limits that only make sense together checked at their exact boundaries, and a stored value that does
not validate never widening a limit. Written against mutations the mutation run (`make mutation`) found
surviving."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.limits import BY_NAME, LIMITS, LimitError, Limits, checked, cross_problems, defaults, parse_value


def _d(values: dict[str, str]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in values.items()}


@pytest.mark.parametrize("name, raw", [("max_total_exposure", "0"), ("max_total_exposure", "10000000"),
                                       ("max_drawdown", "100"), ("max_total_exposure", "0.000001"),
                                       ("max_order_size", "0.01"), ("max_data_age", "0.001"),
                                       ("kill_flatten", "1"), ("max_order_rate", "7")])
def test_a_value_on_a_bound_or_at_the_smallest_step_is_accepted(name: str, raw: str) -> None:
    assert parse_value(BY_NAME[name], raw) == Decimal(raw)


@pytest.mark.parametrize("name, raw, why", [
    ("max_total_exposure", "-0.000001", "Max total exposure: must be between 0 and 10000000 pUSD"),
    ("max_drawdown", "100.01", "Max drawdown from peak: must be between 0 and 100 percent"),
    ("max_total_exposure", "NaN", "Max total exposure: must be a finite number"),
    ("max_total_exposure", "Infinity", "Max total exposure: must be a finite number"),
    ("kill_flatten", "0.5", "Flatten on kill switch: must be a whole number"),
    ("max_order_rate", "1.5", "Order-rate limit: must be a whole number"),
    ("max_total_exposure", "0.0000001", "Max total exposure: 1E-7 is below the smallest meaningful value, "
                                        "0.000001 pUSD (0 is exactly off)"),
    ("max_order_size", "0.009", "Max order size: 0.009 is below the smallest meaningful value, 0.01 shares"),
])
def test_a_value_the_engine_cannot_honour_is_refused_with_the_reason(name: str, raw: str, why: str) -> None:
    with pytest.raises(LimitError) as refused:
        parse_value(BY_NAME[name], raw)
    assert str(refused.value).startswith(why)


def test_a_flag_is_on_unless_zero() -> None:
    assert not defaults().flag("kill_flatten")
    assert Limits({"kill_flatten": Decimal(1)}).flag("kill_flatten")


def test_the_volatility_baseline_may_be_exactly_twice_its_window() -> None:
    assert cross_problems(_d({"volatility_window": "60", "volatility_baseline": "120"})) == {}
    assert cross_problems(_d({"volatility_window": "60", "volatility_baseline": "119"})) == {
        "volatility_baseline": "Volatility baseline: must be at least twice the volatility window (120 seconds)"}


@pytest.mark.parametrize("reduce, halt, clear, problems", [
    ("3", "3", "1.5", []),  # halting at the reduce ratio is allowed
    ("3", "0", "1.5", []),  # 0: never halts
    ("1", "0.5", "0.5", ["volatility_halt"]),
    ("3", "0.5", "1.5", ["volatility_halt"]),
    ("1", "2", "1", ["volatility_clear"]),  # clearing at the reduce ratio would never clear
    ("0", "2", "5", []),  # the breaker is off
])
def test_the_volatility_ratios_are_checked_together(reduce: str, halt: str, clear: str,
                                                    problems: list[str]) -> None:
    found = cross_problems(_d({"volatility_reduce": reduce, "volatility_halt": halt, "volatility_clear": clear}))
    assert sorted(found) == problems
    if "volatility_halt" in found:
        assert found["volatility_halt"] == (f"Volatility: halt at: must be at least the reduce ratio ({reduce}), "
                                            "or 0 (never halts)")


def test_the_correlation_window_may_hold_exactly_twenty_buckets() -> None:
    assert cross_problems(_d({"correlation_bucket": "60", "correlation_window": "1200"})) == {}
    assert cross_problems(_d({"correlation_bucket": "60", "correlation_window": "1199"})) == {
        "correlation_window": "Correlation window: must hold at least 20 buckets (1200 seconds): fewer never make "
                              "a correlation"}


def test_stored_limits_are_read_and_a_bad_one_keeps_the_value_in_force() -> None:
    limits, problems, unkept = checked({"max_total_exposure": "250", "max_order_size": "12.5"}, {})
    assert limits.values["max_total_exposure"] == Decimal(250) and limits.values["max_order_size"] == Decimal("12.5")
    assert limits.values["max_daily_loss"] == BY_NAME["max_daily_loss"].default  # missing: its default
    assert set(limits.values) == {spec.name for spec in LIMITS} and problems == [] and unkept == frozenset()

    limits, problems, unkept = checked({"max_total_exposure": "lots", "max_order_size": "12.5"},
                                       {"max_total_exposure": Decimal(300)})
    assert limits.values["max_total_exposure"] == Decimal(300) and limits.values["max_order_size"] == Decimal("12.5")
    assert unkept == frozenset()
    assert problems == ["risk limit max_total_exposure: stored 'lots' is invalid (Max total exposure: 'lots' is not "
                        "a number); using the value in force before, 300, until it is fixed on the Risk page"]


def test_a_long_bad_stored_value_is_quoted_to_forty_characters() -> None:
    _, [problem], _ = checked({"max_total_exposure": "9" * 50}, {"max_total_exposure": Decimal(300)})
    assert problem.startswith(f"risk limit max_total_exposure: stored '{'9' * 40}' is invalid")


def test_a_bad_stored_limit_with_nothing_in_force_holds_trading() -> None:
    limits, problems, unkept = checked({"max_daily_loss": "-5", "max_total_exposure": "250"}, {})
    assert unkept == frozenset({"max_daily_loss"})
    assert limits.values["max_daily_loss"] == BY_NAME["max_daily_loss"].default
    assert limits.values["max_total_exposure"] == Decimal(250)
    assert problems == ["risk limit max_daily_loss: stored '-5' is invalid (Max daily loss: must be between 0 and "
                        "10000000 pUSD); no valid value is in force to keep, so trading is HALTED until it is fixed "
                        "on the Risk page"]
