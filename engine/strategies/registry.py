"""The strategy classes the engine runs, and building a configured instance of one.

Each class decides with its kind's schema from the contracts (contracts/strategy_schemas/,
offered by contracts/strategy_kinds.py, which the dashboard, the CLI and sweeps read); the engine
calls `build_strategy` for each enabled row of the strategies table, among these kinds and the
plugins' (engine/trading/hosting/strategy_plugins.py, which loads files and so lives outside this pure
package).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.params import ParamsError
from engine.strategies.accumulate import Accumulate
from engine.strategies.base import StrategyBase
from engine.strategies.breakout import Breakout
from engine.strategies.complement_arb import ComplementArb
from engine.strategies.copy_trading import CopyTrading
from engine.strategies.cross_venue_arb import CrossVenueArb
from engine.strategies.ensemble import Ensemble
from engine.strategies.ladder import Ladder
from engine.strategies.market_making import MarketMaking
from engine.strategies.momentum import Momentum
from engine.strategies.relative_value import RelativeValue
from engine.strategies.value_betting import ValueBetting

__all__ = ["build_strategy", "registry"]

_KINDS: tuple[type[StrategyBase], ...] = (MarketMaking, ComplementArb, ValueBetting, Momentum, CopyTrading,
                                          CrossVenueArb, Ladder, Accumulate, RelativeValue, Breakout, Ensemble)


def registry() -> dict[str, type[StrategyBase]]:
    """Strategy kind -> class (each with its schema: kind, title, description, params_schema)."""
    return {cls.kind: cls for cls in _KINDS}


def build_strategy(name: str, kind: str, params: Mapping[str, Any] | None,
                   kinds: Mapping[str, type[StrategyBase]] | None = None) -> StrategyBase:
    """A ready instance of `kind` among `kinds` (default: the built-in kinds); raises ParamsError
    (with the per-field errors) on bad config."""
    cls = (registry() if kinds is None else kinds).get(kind)
    if cls is None:
        raise ParamsError(kind, {"kind": f"unknown strategy kind {kind!r}"})
    return cls(name, params)
