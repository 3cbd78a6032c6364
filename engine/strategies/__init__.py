"""Strategies: pure functions from a market snapshot to intents (see base.py for the contract)."""

from contracts.market_filter import MarketCandidate, select_markets, validate_market_spec
from contracts.params import ParamsError, ParamSpec, ParamType
from engine.strategies.base import Strategy, StrategyBase
from engine.strategies.registry import build_strategy, registry

__all__ = [
    "MarketCandidate",
    "ParamSpec",
    "ParamType",
    "ParamsError",
    "Strategy",
    "StrategyBase",
    "build_strategy",
    "registry",
    "select_markets",
    "validate_market_spec",
]
