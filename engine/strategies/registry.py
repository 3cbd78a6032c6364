"""The strategy kinds the desk offers, and building a configured instance of one.

The dashboard lists `registry()` to offer kinds and render each one's `params_schema`, and
calls `validate_params` before saving; the engine calls `build_strategy` for each enabled row
of the strategies table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.strategies.base import StrategyBase
from engine.strategies.complement_arb import ComplementArb
from engine.strategies.market_making import MarketMaking
from engine.strategies.momentum import Momentum
from engine.contracts.params import Errors, Params, ParamsError
from engine.strategies.value_betting import ValueBetting

_KINDS: tuple[type[StrategyBase], ...] = (MarketMaking, ComplementArb, ValueBetting, Momentum)


def registry() -> dict[str, type[StrategyBase]]:
    """Strategy kind -> class (each with kind, title, description, params_schema)."""
    return {cls.kind: cls for cls in _KINDS}


def validate_params(kind: str, raw: object) -> tuple[Params, Errors]:
    """Normalised params (defaults filled in) and per-field errors; never raises.

    An unknown kind is reported under the key "kind"; a non-object under "params".
    """
    cls = registry().get(kind)
    if cls is None:
        return {}, {"kind": f"unknown strategy kind {kind!r} (known: {', '.join(sorted(registry()))})"}
    return cls.validate(raw)


def build_strategy(name: str, kind: str, params: Mapping[str, Any] | None) -> StrategyBase:
    """A ready instance; raises ParamsError (with the per-field errors) on bad config."""
    cls = registry().get(kind)
    if cls is None:
        raise ParamsError(kind, {"kind": f"unknown strategy kind {kind!r}"})
    return cls(name, params)
