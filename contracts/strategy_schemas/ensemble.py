"""The ensemble kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema. Its decisions are engine/strategies/ensemble.py's; it trades its fair value as value
betting trades one (the sizing and order params are value betting's own)."""

from __future__ import annotations

from contracts.params import ParamSpec, ParamType, StrategyKind
from contracts.strategy_schemas.value_betting import VALUE_BETTING, min_confidence

_TRADING = ("edge", "kelly_fraction", "max_position", "max_order", "order_style")

ENSEMBLE = StrategyKind(
    kind="ensemble",
    title="Ensemble of fair values",
    description=(
        "Combines the fair values every source holds for a market (the operator's and each outside source's), "
        "each weighted by its calibration: the Brier score the model-confidence breaker measured over its last "
        "resolved markets (a source no better than always saying 0.5 weighs nothing), and trades toward the "
        "result as value betting does."
    ),
    params_schema=(
        *(spec for spec in VALUE_BETTING.params_schema if spec.name in _TRADING),
        min_confidence(),
        ParamSpec("min_sources", ParamType.INT, 2, "Trade a market only when at least this many sources with "
                  "some weight price it.", label="Minimum sources", minimum=1, maximum=20, unit="sources"),
        ParamSpec("unjudged_brier", ParamType.PROBABILITY, 0.2, "The Brier score a source counts as before the "
                  "breaker has judged it (too few resolved markets; the operator's values are never judged): 0.25 "
                  "leaves such sources out, lower trusts them more.", label="Brier of an unjudged source",
                  minimum=0, maximum=0.25, step=0.01),
    ),
)
