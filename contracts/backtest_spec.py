"""What a backtest is asked to do: a strategy kind and its params, a time range, the markets
(empty: every market with data in range), a seed for the paper fill model, and the data
source (the desk's own recording, or imported price history). The dashboard builds one from
its form; the backtest process reads it back from the run row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
