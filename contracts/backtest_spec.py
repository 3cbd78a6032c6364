"""What a backtest is asked to do: a strategy kind and its params, a time range, the markets
(empty: every market with data in range), a seed for the paper fill model, and the data
source (the desk's own recording, or imported price history); the strategy's own limits
(contracts/strategy_limits.py: its exits, a trailing stop among them), as the Strategies page
sets them. The dashboard builds one from its form; the backtest process reads it back from the
run row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from contracts.limits import LimitError, parse_value
from contracts.strategy_limits import BY_NAME

Source = Literal["recorded", "history"]


@dataclass(frozen=True)
class BacktestSpec:
    kind: str
    params: dict
    from_ms: int
    to_ms: int
    markets: tuple[str, ...] = ()  # condition ids; empty: every market with data in range
    seed: int = 0
    source: Source = "recorded"
    latency: str | None = None  # contracts/latency_spec.py; None: the desk's paper_latency setting
    capital: int | None = None  # the run's starting cash (micro-pUSD); None: the desk's paper_starting_cash
    limits: dict[str, str] = field(default_factory=dict)  # the strategy's own limits by name (none: the defaults)


def limits_problem(limits: Mapping[str, object]) -> str | None:
    """Why a backtest's strategy limits cannot be run as given (None: they can)."""
    for name, value in limits.items():
        spec = BY_NAME.get(name)
        if spec is None:
            return f"limit {name!r} is not a strategy limit (those are: {', '.join(BY_NAME)})"
        try:
            parse_value(spec, str(value))
        except LimitError as exc:
            return f"limit {name}: {exc}"
    return None
