"""An example strategy plugin's schema (copy the folder to plugins/strategies/ to use it): a pure
value, read by the dashboard and the engine alike."""

from contracts.params import ParamSpec, ParamType, StrategyKind

SCHEMA = StrategyKind(
    kind="mid_band",
    title="Mid band (example plugin)",
    description="Rests one bid and one ask a fixed distance either side of the YES mid. An example of a "
                "strategy plugin, not a strategy to trade.",
    params_schema=(
        ParamSpec("size", ParamType.SHARES, 10, "Shares on each side.", minimum=1),
        ParamSpec("half_band", ParamType.PROBABILITY, 0.03, "Distance from the mid to each quote.",
                  minimum=0.001, maximum=0.4),
    ),
)
