"""The strategy kinds the desk offers, as the dashboard, the CLI, sweeps and the engine use
them: each kind's title, description and parameter schema (`registry()`), and
`validate_params`, the check every one of them runs before saving or building a strategy.
The schemas are pure values (contracts/strategy_schemas/); the strategies import them,
never the other way round, so offering them pulls no decision code into the dashboard."""

from __future__ import annotations

from pathlib import Path

from contracts import strategy_plugins
from contracts.params import Errors, Params, StrategyKind
from contracts.strategy_schemas.accumulate import ACCUMULATE
from contracts.strategy_schemas.breakout import BREAKOUT
from contracts.strategy_schemas.complement_arb import COMPLEMENT_ARB
from contracts.strategy_schemas.copy_trading import COPY_TRADING
from contracts.strategy_schemas.cross_venue_arb import CROSS_VENUE_ARB
from contracts.strategy_schemas.ensemble import ENSEMBLE
from contracts.strategy_schemas.ladder import LADDER
from contracts.strategy_schemas.market_making import MARKET_MAKING
from contracts.strategy_schemas.momentum import MOMENTUM
from contracts.strategy_schemas.relative_value import RELATIVE_VALUE
from contracts.strategy_schemas.value_betting import VALUE_BETTING

KINDS: tuple[StrategyKind, ...] = (MARKET_MAKING, COMPLEMENT_ARB, VALUE_BETTING, MOMENTUM, COPY_TRADING,
                                   CROSS_VENUE_ARB, LADDER, ACCUMULATE, RELATIVE_VALUE, BREAKOUT, ENSEMBLE)
# What a command line's --strategy takes, said in its help.
KIND_HELP = f"strategy kind: {', '.join(s.kind for s in KINDS)}, or a plugin's (plugins/strategies/)"
_plugins: tuple[Path, tuple[tuple[str, str], ...], strategy_plugins.Loaded] | None = None


def plugins() -> strategy_plugins.Loaded:
    """The plugin kinds (contracts/strategy_plugins.py), read again when a plugin file changed."""
    global _plugins
    folder = strategy_plugins.plugins_dir()
    current = strategy_plugins.signature(folder)
    if _plugins is None or _plugins[0] != folder or _plugins[1] != current:
        _plugins = (folder, current, strategy_plugins.load_schemas({s.kind for s in KINDS}, folder))
    return _plugins[2]


def registry() -> dict[str, StrategyKind]:
    """Strategy kind -> its schema (kind, title, description, params_schema, validate): the
    built-in kinds, then the plugins' (which cannot take a built-in's name)."""
    return {**{schema.kind: schema for schema in KINDS}, **plugins().schemas}


def validate_params(kind: str, raw: object) -> tuple[Params, Errors]:
    """Normalised params (defaults filled in) and per-field errors; never raises.

    An unknown kind is reported under the key "kind"; a non-object under "params".
    """
    schema = registry().get(kind)
    if schema is None:
        return {}, {"kind": f"unknown strategy kind {kind!r} (known: {', '.join(sorted(registry()))})"}
    return schema.validate(raw)
