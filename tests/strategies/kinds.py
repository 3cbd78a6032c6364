"""Every strategy kind the desk can run, for the tests that hold each to the contract of several markets
(tests/strategies/test_several_markets.py, tests/backtest/test_conformance.py): the built-in registry, the
example plugin (plugins/examples/) and whatever plugins the desk's folder holds. A kind added to any of them
is covered without editing those tests."""

from __future__ import annotations

from contracts.strategy_plugins import load_schemas
from engine.strategies.base import StrategyBase
from engine.strategies.registry import registry
from engine.trading.hosting.strategy_plugins import load_classes, strategy_classes
from tests.helpers import ROOT

EXAMPLES = ROOT / "plugins" / "examples"


def every_kind() -> dict[str, type[StrategyBase]]:
    """Kind -> class: the built-ins, the example plugins, the desk's own plugins."""
    built_in = registry()
    examples, problems = load_classes(load_schemas(set(built_in), EXAMPLES).schemas, EXAMPLES)
    assert not problems, problems  # the shipped examples load
    return {**strategy_classes(), **examples}
