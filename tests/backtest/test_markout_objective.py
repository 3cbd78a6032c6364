"""`markout` as a sweep objective: the fills' 60 s markout per day of data (pUSD), undefined
(with the reason) when no fill has a 60 s markout; the spec accepts it by name."""

from __future__ import annotations

import dataclasses

import pytest

from contracts import metrics
from contracts.sweep_spec import SweepError, SweepSpec, check_spec, parse_space
from engine.backtest.sweep import objective_value

HOUR_MS = 3_600_000


def _run(markout_60s: float | None) -> metrics.Metrics:
    curve = [(0, 100.0), (6 * HOUR_MS, 101.0), (12 * HOUR_MS, 100.5)]
    base = metrics.compute(curve, [0.0, 1.0, 1.0], [], trades=4, fees=0.0)
    return dataclasses.replace(base, markout_60s_usdc=markout_60s, markout_60s_bps=None if markout_60s is None else 8.0)


def test_the_markout_objective_is_the_60s_markout_per_day() -> None:
    assert objective_value(_run(-3.0), "markout") == (-6.0, "")  # 12 hours of data: twice a day's rate
    assert objective_value(_run(2.5), "markout") == (5.0, "")


def test_without_a_60s_markout_the_objective_is_undefined_with_the_reason() -> None:
    value, why = objective_value(_run(None), "markout")
    assert value is None and "no fill with a 60 s markout" in why


def test_a_sweep_spec_takes_markout_by_name_and_refuses_an_unknown_objective() -> None:
    space = parse_space({"half_spread": [0.01, 0.05]}, "market_making")
    check_spec(SweepSpec("m", "market_making", space, 1_000, 11_000, objective="markout", trials=10))
    with pytest.raises(SweepError, match="markout"):
        check_spec(SweepSpec("m", "market_making", space, 1_000, 11_000, objective="edge", trials=10))  # type: ignore[arg-type]  # an unknown objective, on purpose
