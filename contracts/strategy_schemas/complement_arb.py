"""The complement_arb kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema and cross-field checks. Its decisions are engine/strategies/complement_arb.py's."""

from __future__ import annotations

from contracts.params import ParamSpec, ParamType, StrategyKind

COMPLEMENT_ARB = StrategyKind(
    kind="complement_arb",
    title="Complement arbitrage",
    description=(
        "Takes YES and NO (or every outcome of a neg-risk event) when their asks sum below 1 "
        "after taker fees, a per-leg fee buffer and a minimum edge."
    ),
    params_schema=(
        ParamSpec("edge", ParamType.PROBABILITY, 0.01, "Minimum profit per set of shares after "
                  "fees and buffers.", minimum=0, maximum=0.5, step=0.001),
        ParamSpec("fee_buffer", ParamType.PUSD, 0.001, "Extra cost allowed per share on each leg "
                  "(fee uncertainty, rounding).", minimum=0, maximum=0.1,
                  unit="pUSD per share per leg", step=0.001),
        ParamSpec("max_size", ParamType.SHARES, 50, "Most sets bought at once.", minimum=1,
                  maximum=1_000_000),
        ParamSpec("neg_risk_groups", ParamType.BOOL, True, "Also arbitrage whole neg-risk events "
                  "(buy every outcome's YES)."),
        ParamSpec("on_partial", ParamType.CHOICE, "unwind", "When the venue fills a set on some legs only: "
                  "complete the short legs, unwind the long ones, or keep the position.",
                  choices=("unwind", "complete", "keep")),
    ),
)
